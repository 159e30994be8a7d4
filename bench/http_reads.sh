#!/usr/bin/env bash
# bench/http_reads.sh - point reads of a person by ID over HTTP, next to
# nginx serving the same bytes as static files.
#
# A node for Hà Nội (01) holding N people (default 100,000; see
# bench/lib.sh load_node for how they get in) is served by "lienthong serve
# --data"; wrk (2 threads, 64 connections, 20 s, median of 3 runs after a
# 5 s warm-up) asks for GET /api/v1/people/{id} with an ID picked at random
# per request from the node's IDs (bench/reads.lua).  Each person's GET
# body is written to a file named by its ID, nginx serves that tree on
# another loopback port, and the same wrk run asks it for the same paths.
# Both servers stay up and their runs alternate, so that other work on the
# machine falls on both alike; the CPU time each server spent per request
# (from /proc) is printed too, as it moves less with the machine's load.
#
# Pinning (PIN=none, the default): neither server is pinned; lienthong runs
# one worker thread per CPU and nginx one worker process per CPU, and wrk
# shares the same CPUs.  PIN=split: each server on CPU 1 only with one
# worker (thread for lienthong, process for nginx), wrk on CPU 0.
#
# Targets: lienthong >= 30,000 requests/s and >= half of nginx's rate.
#
# SERVE_ARGS adds options to "lienthong serve": SERVE_ARGS="--no-auth
# --no-audit" measures the read without the account check and the audit
# trail (bench/auth_overhead.sh compares the two).
#
#   bench/http_reads.sh [LIENTHONG]     N=..., RUNS=..., SECS=..., PIN=..., SERVE_ARGS=...
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
N=${N:-100000}
RUNS=${RUNS:-3}
SECS=${SECS:-20}
PIN=${PIN:-none}
. "$ROOT/bench/lib.sh"

if [ ! -x "$LT" ]; then
    echo "bench/http_reads.sh: no lienthong binary at $LT (build it first)" >&2
    exit 2
fi
mkdir -p "$BENCH_OUT"
need_tools wrk nginx curl python3
machine

NODE=$BENCH_OUT/node-$N
load_node "$NODE" "$N" || exit 1
IDS=$NODE/ids.txt

WRK=(wrk)
SERVE_PREFIX=""
NGINX_WORKERS=auto
LT_THREADS=$(nproc)
if [ "$PIN" = split ]; then
    WRK=(taskset -c 0 wrk)
    SERVE_PREFIX="taskset -c 1"
    NGINX_WORKERS=1
    LT_THREADS=1
fi
echo "pinning: $PIN (lienthong ${SERVE_PREFIX:-unpinned} with $LT_THREADS worker threads, nginx $NGINX_WORKERS worker processes, ${WRK[*]})"

# ticks PID...: CPU time (user + system, clock ticks) of processes so far.
ticks() {
    local t=0
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}

# run_wrk URL: one measured run; prints "requests/s requests".
run_wrk() {
    local out
    out=$("${WRK[@]}" -t2 -c64 -d"${SECS}s" -s "$ROOT/bench/reads.lua" "$1" -- "$IDS" \
        /api/v1/people/ "${AUTH_ARGS[@]}")
    if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
        echo "wrk saw errors against $1:" >&2
        echo "$out" >&2
    fi
    echo "$out" | awk '/^Requests\/sec/{r=$2} /requests in/{n=$1} END{print r, n}'
}

# A copy of the node is served, so that the audit trail of one run's reads
# does not carry into the next (or into bench/auth_overhead.sh).
SERVED=$BENCH_OUT/reads-$N
rm -rf "$SERVED"
cp -r "$NODE" "$SERVED"
PORT=$(free_port)
# shellcheck disable=SC2086 # SERVE_ARGS is a list of options
serve "$SERVED" "$PORT" --threads "$LT_THREADS" ${SERVE_ARGS:-}
LT_PID=$SERVE_PID
# The officer's headers as arguments of reads.lua (wrk's own -H is not used
# by a script that formats its requests).
AUTH_ARGS=("Authorization: Bearer $OFFICER_TOKEN" "X-Purpose: benchmark")

# The same bodies as static files, written from the node itself.
STATIC=$BENCH_OUT/static-$N
if [ ! -f "$STATIC/done" ]; then
    rm -rf "$STATIC"
    mkdir -p "$STATIC/api/v1/people"
    python3 - "$PORT" "$IDS" "$STATIC/api/v1/people" "$OFFICER_TOKEN" <<'PY'
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
headers = {"Authorization": "Bearer " + sys.argv[4], "X-Purpose": "benchmark"}
for line in open(sys.argv[2]):
    pid = line.strip()
    if not pid:
        continue
    conn.request("GET", "/api/v1/people/" + pid, headers=headers)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("GET %s: %d" % (pid, r.status))
    with open(sys.argv[3] + "/" + pid, "wb") as f:
        f.write(body)
PY
    touch "$STATIC/done"
fi

NPORT=$(free_port)
mkdir -p "$BENCH_OUT/nginx"
cat >"$BENCH_OUT/nginx/nginx.conf" <<CONF
worker_processes $NGINX_WORKERS;
daemon off;
pid $BENCH_OUT/nginx/nginx.pid;
error_log $BENCH_OUT/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    default_type application/json;
    server {
        listen 127.0.0.1:$NPORT;
        root $STATIC;
    }
}
CONF
${SERVE_PREFIX:-} nginx -c "$BENCH_OUT/nginx/nginx.conf" &
NGINX_PID=$!
_bench_pids="$_bench_pids $NGINX_PID"
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$NPORT/api/v1/people/$(head -n 1 "$IDS")" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! cmp -s <(curl -s "${AUTH_H[@]}" "http://127.0.0.1:$PORT/api/v1/people/$(head -n 1 "$IDS")") \
    <(curl -s "http://127.0.0.1:$NPORT/api/v1/people/$(head -n 1 "$IDS")"); then
    echo "nginx and lienthong do not serve the same bytes" >&2
    exit 1
fi
NGINX_ALL="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"

# Both servers stay up and the runs alternate, so that whatever else the
# machine does falls on both alike; each gets a 5 s warm-up first.
"${WRK[@]}" -t2 -c64 -d5s -s "$ROOT/bench/reads.lua" "http://127.0.0.1:$PORT" -- "$IDS" \
    /api/v1/people/ "${AUTH_ARGS[@]}" >/dev/null
"${WRK[@]}" -t2 -c64 -d5s -s "$ROOT/bench/reads.lua" "http://127.0.0.1:$NPORT" -- "$IDS" \
    /api/v1/people/ "${AUTH_ARGS[@]}" >/dev/null
lt_runs="" ng_runs="" lt_n=0 ng_n=0 lt_cpu=0 ng_cpu=0
for _ in $(seq 1 "$RUNS"); do
    t0=$(ticks "$LT_PID")
    set -- $(run_wrk "http://127.0.0.1:$PORT")
    lt_cpu=$((lt_cpu + $(ticks "$LT_PID") - t0)) lt_n=$((lt_n + $2)) lt_runs="$lt_runs $1"
    t0=$(ticks $NGINX_ALL)
    set -- $(run_wrk "http://127.0.0.1:$NPORT")
    ng_cpu=$((ng_cpu + $(ticks $NGINX_ALL) - t0)) ng_n=$((ng_n + $2)) ng_runs="$ng_runs $1"
done
rss=$(awk '/VmHWM/{print $2 " " $3}' "/proc/$LT_PID/status")
stop "$NGINX_PID"
stop "$LT_PID"
hz=$(getconf CLK_TCK)
lt="$(printf '%s\n' $lt_runs | median) (runs:$lt_runs)"
ng="$(printf '%s\n' $ng_runs | median) (runs:$ng_runs)"
lt_us=$(echo "$lt_cpu * 1000000 / $hz / $lt_n" | bc -l)
ng_us=$(echo "$ng_cpu * 1000000 / $hz / $ng_n" | bc -l)

lt_rate=${lt%% *}
ng_rate=${ng%% *}
ratio=$(echo "$lt_rate / $ng_rate" | bc -l)
echo
printf 'lienthong GET /api/v1/people/{id}  %9.0f requests/s  %s\n' "$lt_rate" "${lt#* }"
printf 'nginx, same bytes as static files  %9.0f requests/s  %s\n' "$ng_rate" "${ng#* }"
printf 'ratio lienthong / nginx            %9.2f\n' "$ratio"
printf 'server CPU per request: lienthong %.1f us, nginx %.1f us\n' "$lt_us" "$ng_us"
echo "lienthong peak RSS during the reads: $rss"
ok=1
[ "$(echo "$lt_rate >= 30000" | bc)" = 1 ] || { echo "below target: 30,000 requests/s"; ok=0; }
[ "$(echo "$ratio >= 0.5" | bc)" = 1 ] || { echo "below target: half of nginx"; ok=0; }
[ $ok = 1 ] && echo "targets met"
exit 0
