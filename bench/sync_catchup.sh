#!/usr/bin/env bash
# bench/sync_catchup.sh - a commune that comes back with N (1,000,000)
# events its parent has not seen: how fast they drain to the centre
# (commune -> province -> centre), and where the time goes.
#
# The tree is made once and kept as a template under bench/out: a chain
# of three nodes (bench/sync_lib.sh: commune 00004 -> province 01 ->
# centre VN, on fixed ports), the province and the commune enrolled, then
# N people of commune 00004 ("lienthong gen") loaded into the commune with
# "lienthong import" while nothing serves it: one event each, unsigned
# (events are signed when first pushed, docs/SYNC.md), all after the
# position its parent acknowledged.  Each run copies the template, starts
# the centre and the province, then the commune, and a poller reads every
# 0.25 s how many of the commune's events the province and the centre hold
# (their origin_heads rows, read only).  Drain rate = N / (time from
# starting the commune to the centre holding its last event); the steady
# rate is the centre's between 10 % and 90 % of N.
#
# Where the time goes: CPU time of each node over the drain, and per thread
# (/proc/PID/task), each thread named by its start routine (a gdb backtrace
# of every thread taken once the drain is over); the rates of the event
# hash, Ed25519 signing and Ed25519 verification on one CPU of this
# machine (build/bench/sync_bench crypto: the project's own event_hash,
# sync_sign_event, sync_event_sig_ok; libsodium 1.0.18).  PERF=1 also
# records the province with perf for 10 s in the middle of the drain.
#
# Pinning (PIN=none, the default): nothing pinned, the three nodes share
# the machine's CPUs, as a catching-up tree is not alone on its machines
# either.  PIN=split: the commune on CPU 0, the province and the centre on
# CPU 1.  RUNS (2) runs; the median is printed with each run.
#
# Target: at least 50,000 events per second to the centre.
#
#   bench/sync_catchup.sh [LIENTHONG]     N=1000000 RUNS=2 PIN=none PERF=0
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
DRIVER=${DRIVER:-$(dirname "$LT")/bench/sync_bench}
N=${N:-1000000}
RUNS=${RUNS:-2}
PIN=${PIN:-none}
PERF=${PERF:-0}
. "$ROOT/bench/lib.sh"
. "$ROOT/bench/sync_lib.sh"

for f in "$LT" "$DRIVER"; do
    if [ ! -x "$f" ]; then
        echo "bench/sync_catchup.sh: no $f (build first: meson setup build && ninja -C build)" >&2
        exit 2
    fi
done
mkdir -p "$BENCH_OUT"
need_tools curl python3 taskset gdb
[ "$PERF" = 1 ] && need_tools perf
machine
CPU_COMMUNE="" CPU_PARENTS=""
if [ "$PIN" = split ]; then
    CPU_COMMUNE=0 CPU_PARENTS=1
fi
echo "pinning: $PIN (commune: ${CPU_COMMUNE:-any CPU}; province and centre: ${CPU_PARENTS:-any CPU})"

# The template: made once.
TPL=$BENCH_OUT/sync-catchup-tpl-$N
if [ ! -f "$TPL/done" ]; then
    echo "making the template: $N people into a commune whose parent has none of them ..."
    tree_init "$TPL"
    node_start centre "" && node_enrol province && node_start province "" &&
        node_enrol commune || exit 1
    node_stop province
    node_stop centre
    rm -rf "$BENCH_OUT/sync-catchup-gen"
    "$LT" gen --units 00004 --people "$N" --out "$BENCH_OUT/sync-catchup-gen" >/dev/null 2>&1
    t0=$EPOCHREALTIME
    "$LT" import --data "${NODE_DIR[commune]}" --kind people \
        "$BENCH_OUT/sync-catchup-gen/people.ndjson" >"$BENCH_OUT/sync-catchup-import.log" 2>&1 || {
        tail -n 5 "$BENCH_OUT/sync-catchup-import.log" >&2
        exit 1
    }
    printf 'imported in %.1f s\n' "$(echo "$EPOCHREALTIME - $t0" | bc -l)"
    rm -rf "$BENCH_OUT/sync-catchup-gen"
    touch "$TPL/done"
fi

echo "Ed25519 and hash rates on one CPU (this machine, now):"
"$DRIVER" crypto 2 | sed 's/^/  /'
echo "load average before: $(load_avg)"

# thread_names PID: "TID name" per thread, by its start routine.
thread_names() {
    gdb -p "$1" -batch -ex 'set pagination off' -ex 'thread apply all bt' 2>/dev/null | awk '
        /^Thread [0-9]+ .*LWP [0-9]+/ { if (tid) print tid, name; match($0, /LWP [0-9]+/);
            tid = substr($0, RSTART + 4, RLENGTH - 4); name = "?"; next }
        /^#/ { f = ""; for (i = 2; i <= NF; i++) if ($i == "in") { f = $(i + 1); break }
               if (f == "" && $2 !~ /^0x/) f = $2
               if (f == "writer_main") name = "store writer"
               else if (f == "sync_main") name = "sync pusher"
               else if (f == "pool_main") name = "http blocking pool"
               else if (f == "flusher") name = "audit flusher"
               else if (f == "sweeper_main") name = "http sweeper"
               else if (f == "submitter") name = "registry submitter"
               else if (f == "main") name = "main"
               }
        END { if (tid) print tid, name }'
}

# thread_report NAME BEFORE AFTER SECS: CPU share of each named thread
# (by its start routine; else the name the thread gave itself, as
# libmicrohttpd's "MHD-worker").
thread_report() {
    local names pid=${NODE_PID[$1]} t
    names=$(thread_names "$pid" | awk '$2 != "?"')
    for t in /proc/$pid/task/*; do
        echo "$names" | grep -q "^${t##*/} " || names="$names
${t##*/} $(cat "$t/comm")"
    done
    join -a 2 <(sort "$2") <(sort "$3") | awk -v hz="$(getconf CLK_TCK)" -v s="$4" \
        -v names="$names" -v node="$1" '
        BEGIN { n = split(names, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " ");
                nm[f[1]] = substr(l[i], length(f[1]) + 2) } }
        { d = (NF == 3 ? $3 - $2 : $2); if (d <= 0) next
          k = ($1 in nm) ? nm[$1] : "?"; sum[k] += d }
        END { for (k in sum) printf "  %-8s %-28s %6.1f s  %5.1f %% of one CPU\n", node, k,
                  sum[k] / hz, 100 * sum[k] / hz / s }' | sort -k4 -rn
}

# run N: one drain; figures into $BENCH_OUT/sync-catchup-N.txt.
run() {
    local out=$BENCH_OUT/sync-catchup-$1.txt work=$BENCH_OUT/sync-catchup
    rm -rf "$work"
    cp -a "$TPL" "$work"
    tree_load "$work"
    rm -f "$BENCH_OUT"/sync-{centre,province,commune}.log
    node_start centre "$CPU_PARENTS" && node_start province "$CPU_PARENTS" || return 1
    sleep 2
    thread_ticks "${NODE_PID[province]}" >"$work/province.t0"
    thread_ticks "${NODE_PID[centre]}" >"$work/centre.t0"
    : >"$work/commune.t0"
    local p0 v0 t0 t1
    p0=$(cpu_ticks "${NODE_PID[province]}") v0=$(cpu_ticks "${NODE_PID[centre]}")
    t0=$EPOCHREALTIME
    node_start commune "$CPU_COMMUNE" || return 1
    local perf_pid=""
    if [ "$PERF" = 1 ]; then
        (sleep 8 && perf record -g -o "$BENCH_OUT/sync-catchup-province.perf" -p "${NODE_PID[province]}" \
            -- sleep 10 >/dev/null 2>&1) &
        perf_pid=$!
    fi
    python3 - "${NODE_DIR[commune]}/lienthong.db" "${NODE_DIR[province]}/lienthong.db" \
        "${NODE_DIR[centre]}/lienthong.db" "$t0" >"$work/timeline.txt" <<'PY'
import sqlite3, sys, time
def ro(p):
    return sqlite3.connect("file:%s?mode=ro" % p, uri=True, timeout=10)
c = ro(sys.argv[1])
origin = c.execute("SELECT origin FROM node").fetchone()[0]
target = c.execute("SELECT MAX(seq) FROM events WHERE origin = ?", (origin,)).fetchone()[0]
c.close()
dbs = [ro(sys.argv[2]), ro(sys.argv[3])]
t0 = float(sys.argv[4])
def seq(db):
    r = db.execute("SELECT seq FROM origin_heads WHERE origin = ?", (origin,)).fetchone()
    return r[0] if r else 0
print("target", target)
while True:
    p, v = seq(dbs[0]), seq(dbs[1])
    print("%.3f %d %d" % (time.time() - t0, p, v), flush=True)
    if v >= target or time.time() - t0 > 3600:
        break
    time.sleep(0.25)
PY
    t1=$EPOCHREALTIME
    local secs
    secs=$(echo "$t1 - $t0" | bc -l)
    thread_ticks "${NODE_PID[commune]}" >"$work/commune.t1"
    thread_ticks "${NODE_PID[province]}" >"$work/province.t1"
    thread_ticks "${NODE_PID[centre]}" >"$work/centre.t1"
    {
        echo "seconds $secs s"
        awk -v n="$N" 'NR > 1 { if (!a && $3 >= 0.1 * n) { a = $1; x = $3 }
                                if (!b && $3 >= 0.9 * n) { b = $1; y = $3 } }
            END { if (b > a) printf "steady %.0f per_s\n", (y - x) / (b - a) }' "$work/timeline.txt"
        echo "rate $(echo "$(awk 'NR == 1 {print $2}' "$work/timeline.txt") / $secs" | bc -l) per_s"
        echo "cpu_commune $(cpu_ticks "${NODE_PID[commune]}") ticks"
        echo "cpu_province $(($(cpu_ticks "${NODE_PID[province]}") - p0)) ticks"
        echo "cpu_centre $(($(cpu_ticks "${NODE_PID[centre]}") - v0)) ticks"
        echo "hwm_commune $(vm_hwm "${NODE_PID[commune]}") kB"
        echo "hwm_province $(vm_hwm "${NODE_PID[province]}") kB"
        echo "hwm_centre $(vm_hwm "${NODE_PID[centre]}") kB"
        echo "largest_batch $(grep -o 'catching up.*' "$BENCH_OUT/sync-commune.log" | head -n 1)"
    } >"$out"
    {
        thread_report commune "$work/commune.t0" "$work/commune.t1" "$secs"
        thread_report province "$work/province.t0" "$work/province.t1" "$secs"
        thread_report centre "$work/centre.t0" "$work/centre.t1" "$secs"
    } >"$BENCH_OUT/sync-catchup-$1-threads.txt"
    [ -n "$perf_pid" ] && wait "$perf_pid" 2>/dev/null
    node_stop commune
    node_stop province
    node_stop centre
}

hz=$(getconf CLK_TCK)
for r in $(seq 1 "$RUNS"); do
    run "$r" || { echo "run $r failed" >&2; exit 1; }
    f=$BENCH_OUT/sync-catchup-$r.txt
    printf 'run %d: %d events to the centre in %.1f s: %.0f events/s (steady %s/s); CPU s commune %.1f, province %.1f, centre %.1f (load average %s)\n' \
        "$r" "$N" "$(awk '$1 == "seconds" {print $2}' "$f")" "$(awk '$1 == "rate" {print $2}' "$f")" \
        "$(awk '$1 == "steady" {print $2}' "$f")" \
        "$(echo "$(awk '$1 == "cpu_commune" {print $2}' "$f") / $hz" | bc -l)" \
        "$(echo "$(awk '$1 == "cpu_province" {print $2}' "$f") / $hz" | bc -l)" \
        "$(echo "$(awk '$1 == "cpu_centre" {print $2}' "$f") / $hz" | bc -l)" "$(load_avg)"
    sed 's/^/  /' "$BENCH_OUT/sync-catchup-$r-threads.txt"
done
echo "load average after: $(load_avg)"

rates=""
for r in $(seq 1 "$RUNS"); do
    rates="$rates $(awk '$1 == "rate" {printf "%.0f", $2}' "$BENCH_OUT/sync-catchup-$r.txt")"
done
med=$(printf '%s\n' $rates | median)
echo
echo "drain rate commune -> province -> centre: $med events/s (runs:$rates)"
echo "peak RSS during the drain, commune/province/centre: $(awk '/^hwm_/ {printf "%s%.1f", s, $2 / 1024; s = "/"}' \
    "$BENCH_OUT/sync-catchup-1.txt") MB"
if [ "$med" -ge 50000 ]; then echo "target met: 50,000 events/s"; else
    echo "target NOT met: 50,000 events/s"; fi
if [ "$PERF" = 1 ]; then
    echo
    echo "province, perf over 10 s of the drain (self time, top 25):"
    perf report -i "$BENCH_OUT/sync-catchup-province.perf" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -v '^#' | grep '%' | head -n 25
fi

exit 0
