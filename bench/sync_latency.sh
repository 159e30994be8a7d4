#!/usr/bin/env bash
# bench/sync_latency.sh - how long a commune's change takes to reach its
# province (one hop) and the centre (two hops) under a steady 1,000 writes
# a second, next to PostgreSQL 15 logical replication cascaded A -> B -> C
# at the same rate; and the commune node's peak memory, idle and under that
# load.
#
# Ours: a fresh chain of three nodes (commune 00004 -> province 01 ->
# centre VN, bench/sync_lib.sh), each a "lienthong serve" process with its
# own data directory, enrolled as an operator would.  build/bench/sync_bench
# registers new people at the commune (POST /api/v1/people as an officer of
# the commune, people from "lienthong gen" without their parents' IDs) at
# RATE a second on an open-loop schedule over WRITERS connections.  Each
# write answered 201 has been committed at the commune (synchronous=FULL):
# that moment is t0.  Two observer threads of the driver read the
# province's and the centre's databases (read only, beside the serving
# process) every POLL_US microseconds (250) for the events after the last
# position seen; an event is stamped with the moment the read that first
# returned it began.  Latency = that moment - t0, one monotonic clock in
# one process; it overstates the true arrival by up to one poll interval
# plus the read (on average about 0.15 ms), on both sides alike.
#
# The peer: three fresh clusters of Debian's PostgreSQL 15 (initdb under
# bench/out/pg, wal_level=logical, fsync and synchronous_commit on), table
# ev (id, body) on A published to B, B's copy published to C: two
# subscriptions, each with synchronous_commit = on, so that each hop
# commits durably as a lienthong node does (with the subscription default,
# off, B's WAL waits for the WAL writer before B's walsender can pass the
# change on).  The same driver inserts the same people's JSON as body into
# A at the same rate over as many connections, one autocommit INSERT each
# (t0: the COMMIT acknowledged), and polls B and C the same way for rows
# past the last one seen, in the order each applied them (seq_b, seq_c: a
# sequence default on the subscriber's copy, filled in as the apply worker
# inserts the row).
#
# Pinning (PIN=split, the default): the three nodes, or the three
# clusters with all their processes, on CPU 1 (taskset -c 1); the driver
# on CPU 0.  PIN=none: nothing pinned.  The two systems' runs alternate,
# RUNS times (3); medians are printed with every run's figure.  Each run
# writes for WARMUP (5) + SECS (30) seconds; the warm-up's events are left
# out.  The commune's peak resident set (VmHWM) is read after 5 s idle and
# after the load.
#
# Targets: ours p50 <= the peer's, p99 <= twice the peer's, commune to
# centre against A to C; the commune node under 20 MB, idle and loaded.
#
#   bench/sync_latency.sh [LIENTHONG]    RATE=1000 SECS=30 WARMUP=5 RUNS=3
#                                        WRITERS=8 POLL_US=250 PIN=split
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
DRIVER=${DRIVER:-$(dirname "$LT")/bench/sync_bench}
RATE=${RATE:-1000}
SECS=${SECS:-30}
WARMUP=${WARMUP:-5}
RUNS=${RUNS:-3}
PIN=${PIN:-split}
export WRITERS=${WRITERS:-8} POLL_US=${POLL_US:-250}
. "$ROOT/bench/lib.sh"
. "$ROOT/bench/sync_lib.sh"
trap 'pg_cleanup; bench_cleanup' EXIT

for f in "$LT" "$DRIVER"; do
    if [ ! -x "$f" ]; then
        echo "bench/sync_latency.sh: no $f (build first: meson setup build && ninja -C build)" >&2
        exit 2
    fi
done
mkdir -p "$BENCH_OUT"
need_tools curl python3 taskset
[ -x "$PG_BIN/postgres" ] || {
    echo "installing postgresql-15 ..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
}
machine
echo "PostgreSQL: $("$PG_BIN/postgres" --version)"
if grep -q 'XXX: interim: the pusher polls' "$ROOT/src/sync/sync.c" 2>/dev/null; then
    echo "pusher: this build polls the store's commit counter every 2 ms (src/sync/sync.c)"
else
    echo "pusher: woken by the commit (no polling interval)"
fi

CPU_NODES="" CPU_DRIVER=""
if [ "$PIN" = split ]; then
    CPU_NODES=1 CPU_DRIVER=0
fi
DRIVE=()
[ -n "$CPU_DRIVER" ] && DRIVE=(taskset -c "$CPU_DRIVER")
echo "pinning: $PIN (nodes and clusters: ${CPU_NODES:-any CPU}; driver: ${CPU_DRIVER:-any CPU})"
echo "load: rate $RATE/s, $WRITERS connections, ${WARMUP} s warm-up + ${SECS} s measured, poll every ${POLL_US} us, $RUNS runs"
# disk_sync: the disk's flush time now (both systems wait for it at every hop).
disk_sync() {
    "$PG_BIN/pg_test_fsync" -s 1 -f "$BENCH_OUT/fsync.test" 2>/dev/null |
        awk '/one 8kB write/ {on = 1} on && $1 == "fdatasync" {print $(NF - 1) " us"; exit}'
    rm -f "$BENCH_OUT/fsync.test"
}
echo "load average before: $(load_avg)"
echo "disk: fdatasync of one 8 kB write (pg_test_fsync) before: $(disk_sync)"

# The people: one file, fresh nodes and clusters each run.
NEED=$((RATE * (SECS + WARMUP) + 1000))
PEOPLE=$BENCH_OUT/sync-people-$NEED.ndjson
if [ ! -s "$PEOPLE" ]; then
    rm -rf "$BENCH_OUT/sync-gen"
    "$LT" gen --units 00004 --people "$NEED" --out "$BENCH_OUT/sync-gen" >/dev/null 2>&1
    python3 - "$BENCH_OUT/sync-gen/people.ndjson" >"$PEOPLE" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    p = json.loads(line)
    p.pop("father_id", None)  # the writers race: a child may come before its parents
    p.pop("mother_id", None)
    print(json.dumps(p, ensure_ascii=False, separators=(",", ":")))
PY
    rm -rf "$BENCH_OUT/sync-gen"
fi

# figure FILE NAME: one "name value unit" line of the driver's output.
figure() { awk -v n="$2" '$1 == n {print $2}' "$1"; }

# run_lt N: one run of ours; the driver's output in $BENCH_OUT/sync-lt-N.txt.
run_lt() {
    local out=$BENCH_OUT/sync-lt-$1.txt token c0 p0 v0 b0
    rm -f "$BENCH_OUT"/sync-{centre,province,commune}.log
    tree_init "$BENCH_OUT/sync-latency" || return 1
    node_start centre "$CPU_NODES" || return 1
    node_enrol province && node_start province "$CPU_NODES" || return 1
    node_enrol commune || return 1
    token=$(node_token commune)
    node_start commune "$CPU_NODES" || return 1
    sleep 5
    echo "idle_hwm $(vm_hwm "${NODE_PID[commune]}") kB" >"$out"
    c0=$(cpu_ticks "${NODE_PID[commune]}") p0=$(cpu_ticks "${NODE_PID[province]}")
    v0=$(cpu_ticks "${NODE_PID[centre]}") b0=$(up_batches commune "$token")
    "${DRIVE[@]}" "$DRIVER" lt "http://127.0.0.1:${NODE_PORT[commune]}" "$token" "$PEOPLE" \
        "$RATE" "$SECS" "$WARMUP" "${NODE_DIR[province]}/lienthong.db" \
        "${NODE_DIR[centre]}/lienthong.db" >>"$out"
    {
        echo "load_hwm $(vm_hwm "${NODE_PID[commune]}") kB"
        echo "cpu_origin $(($(cpu_ticks "${NODE_PID[commune]}") - c0)) ticks"
        echo "cpu_middle $(($(cpu_ticks "${NODE_PID[province]}") - p0)) ticks"
        echo "cpu_final $(($(cpu_ticks "${NODE_PID[centre]}") - v0)) ticks"
        echo "batches $(($(up_batches commune "$token") - b0)) requests"
    } >>"$out"
    node_stop commune
    node_stop province
    node_stop centre
    # Every event reached the centre once, chains intact.
    "$LT" log --data "${NODE_DIR[centre]}" --verify >/dev/null
}

# run_pg N: one run of the peer; output in $BENCH_OUT/sync-pg-N.txt.
run_pg() {
    local out=$BENCH_OUT/sync-pg-$1.txt a0 b0 c0 n
    pg_cluster a "$CPU_NODES" && pg_cluster b "$CPU_NODES" && pg_cluster c "$CPU_NODES" || return 1
    pg_sql a "CREATE TABLE ev (id bigint PRIMARY KEY, body text NOT NULL);
              CREATE PUBLICATION pa FOR TABLE ev;"
    pg_sql b "CREATE SEQUENCE ev_seq_b;
              CREATE TABLE ev (id bigint PRIMARY KEY, body text NOT NULL,
                               seq_b bigint DEFAULT nextval('ev_seq_b'),
                               t_b timestamptz DEFAULT clock_timestamp());
              CREATE INDEX ON ev (seq_b);
              CREATE PUBLICATION pb FOR TABLE ev;"
    pg_sql c "CREATE SEQUENCE ev_seq_c;
              CREATE TABLE ev (id bigint PRIMARY KEY, body text NOT NULL,
                               seq_b bigint, t_b timestamptz,
                               seq_c bigint DEFAULT nextval('ev_seq_c'),
                               t_c timestamptz DEFAULT clock_timestamp());
              CREATE INDEX ON ev (seq_c);"
    pg_sql b "CREATE SUBSCRIPTION sb CONNECTION '$(pg_ci a)' PUBLICATION pa
              WITH (synchronous_commit = 'on')" 2>/dev/null
    pg_sql c "CREATE SUBSCRIPTION sc CONNECTION '$(pg_ci b)' PUBLICATION pb
              WITH (synchronous_commit = 'on')" 2>/dev/null
    for _ in $(seq 1 100); do
        n=$(psql -X -At "$(pg_ci b)" -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
        n=$n$(psql -X -At "$(pg_ci c)" -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
        [ "$n" = 00 ] && break
        sleep 0.1
    done
    sleep 5
    a0=$(pg_tree_cpu_ticks a) b0=$(pg_tree_cpu_ticks b) c0=$(pg_tree_cpu_ticks c)
    "${DRIVE[@]}" "$DRIVER" pg "$(pg_ci a)" "$PEOPLE" "$RATE" "$SECS" "$WARMUP" \
        "$(pg_ci b):seq_b" "$(pg_ci c):seq_c" >"$out"
    {
        echo "cpu_origin $(($(pg_tree_cpu_ticks a) - a0)) ticks"
        echo "cpu_middle $(($(pg_tree_cpu_ticks b) - b0)) ticks"
        echo "cpu_final $(($(pg_tree_cpu_ticks c) - c0)) ticks"
        echo "rows_at_c $(psql -X -At "$(pg_ci c)" -c 'SELECT count(*) FROM ev') rows"
    } >>"$out"
    pg_cleanup
}

for r in $(seq 1 "$RUNS"); do
    # Alternate which goes first, so that a trend in the machine's load
    # falls on both alike.
    if [ $((r % 2)) = 1 ]; then
        run_lt "$r" && run_pg "$r" || echo "run $r failed" >&2
    else
        run_pg "$r" && run_lt "$r" || echo "run $r failed" >&2
    fi
    echo "run $r: lienthong p50/p99 to the centre $(figure "$BENCH_OUT/sync-lt-$r.txt" hop2_p50)/$(figure \
        "$BENCH_OUT/sync-lt-$r.txt" hop2_p99) ms, PostgreSQL A->C $(figure "$BENCH_OUT/sync-pg-$r.txt" \
        hop2_p50)/$(figure "$BENCH_OUT/sync-pg-$r.txt" hop2_p99) ms (load average $(load_avg))"
done
echo "load average after: $(load_avg)"
echo "disk: fdatasync of one 8 kB write (pg_test_fsync) after: $(disk_sync)"

# med SYSTEM NAME: median over the runs, with each run's value.
med() {
    local vals="" r
    for r in $(seq 1 "$RUNS"); do
        vals="$vals $(figure "$BENCH_OUT/sync-$1-$r.txt" "$2")"
    done
    echo "$(printf '%s\n' $vals | median) (runs:$vals)"
}

hz=$(getconf CLK_TCK)
# cpu_us SYSTEM NAME: median CPU microseconds per event of one node.
cpu_us() {
    local vals="" r t n
    for r in $(seq 1 "$RUNS"); do
        t=$(figure "$BENCH_OUT/sync-$1-$r.txt" "$2")
        n=$(figure "$BENCH_OUT/sync-$1-$r.txt" written)
        vals="$vals $(echo "$t * 1000000 / $hz / $n" | bc)"
    done
    printf '%s\n' $vals | median
}

echo
printf '%-44s %-36s %s\n' "" "lienthong" "PostgreSQL 15 logical replication"
for f in commit_p50 commit_p99 hop1_p50 hop1_p99 hop2_p50 hop2_p99 hop2_p999 hop2_max rate; do
    case $f in
    commit_*) label="commit at the origin, ${f#commit_} (ms)" ;;
    hop1_*) label="one hop (province / B), ${f#hop1_} (ms)" ;;
    hop2_*) label="two hops (centre / C), ${f#hop2_} (ms)" ;;
    rate) label="writes per second achieved" ;;
    esac
    printf '%-44s %-36s %s\n' "$label" "$(med lt "$f")" "$(med pg "$f")"
done
printf '%-44s %-36s %s\n' "CPU per event, origin/middle/final (us)" \
    "$(cpu_us lt cpu_origin)/$(cpu_us lt cpu_middle)/$(cpu_us lt cpu_final)" \
    "$(cpu_us pg cpu_origin)/$(cpu_us pg cpu_middle)/$(cpu_us pg cpu_final)"
printf '%-44s %s\n' "push requests (commune), per run" "$(med lt batches)"
missing=0
for r in $(seq 1 "$RUNS"); do
    for f in hop1_missing hop2_missing write_errors; do
        missing=$((missing + $(figure "$BENCH_OUT/sync-lt-$r.txt" $f) + $(figure "$BENCH_OUT/sync-pg-$r.txt" $f)))
    done
done
[ "$missing" = 0 ] || echo "WARNING: $missing writes failed or never arrived (see $BENCH_OUT/sync-*-N.txt)"

idle=$(med lt idle_hwm) load=$(med lt load_hwm)
echo
printf 'commune peak RSS (VmHWM), idle 5 s        %.1f MB (runs, kB:%s\n' \
    "$(echo "${idle%% *} / 1024" | bc -l)" "${idle#*runs:}"
printf 'commune peak RSS (VmHWM), after the load  %.1f MB (runs, kB:%s\n' \
    "$(echo "${load%% *} / 1024" | bc -l)" "${load#*runs:}"

lt50=$(med lt hop2_p50) lt99=$(med lt hop2_p99) pg50=$(med pg hop2_p50) pg99=$(med pg hop2_p99)
lt50=${lt50%% *} lt99=${lt99%% *} pg50=${pg50%% *} pg99=${pg99%% *}
echo
if [ "$(echo "$lt50 <= $pg50" | bc)" = 1 ]; then echo "p50: met ($lt50 <= $pg50 ms)"; else
    echo "p50: NOT met ($lt50 > $pg50 ms)"; fi
if [ "$(echo "$lt99 <= 2 * $pg99" | bc)" = 1 ]; then echo "p99: met ($lt99 <= 2 x $pg99 ms)"; else
    echo "p99: NOT met ($lt99 > 2 x $pg99 ms)"; fi
if [ "${load%% *}" -lt $((20 * 1024)) ] && [ "${idle%% *}" -lt $((20 * 1024)) ]; then
    echo "memory: met (under 20 MB)"
else
    echo "memory: NOT met (20 MB)"
fi
