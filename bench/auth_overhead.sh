#!/usr/bin/env bash
# bench/auth_overhead.sh - what the checks of a read cost: requests per
# second of a point read (GET /api/v1/people/{id}) with authentication and
# the audit trail on, against the same read with both off, on one node's
# data, in one run.
#
# The node of bench/http_reads.sh (N people of Ha Noi, 01) is copied into
# two data directories.  One "lienthong serve" checks the caller's account
# and records every read (the defaults); the other runs with neither.
# Both stay up and their wrk runs alternate (2 threads, 64 connections,
# SECS seconds, RUNS rounds after a warm-up each), so that other work on
# the machine falls on both alike; the medians are compared, and the
# server CPU time per request (from /proc) is printed as it moves less with
# the machine's load.  Every request carries "X-Purpose: HS-2025-000123",
# as a read with accounts on must.  At the end the audited node's trail
# must hold one row per successful read of its runs (checked from its
# database).
#
# Both checks are measured together: the audited node has accounts and
# every read carries an officer's bearer token (looked up, its session and
# the account's jurisdiction checked), the other runs with --no-auth and
# --no-audit (both exist for this comparison and warn loudly).  AUTH_ON
# replaces the officer's "Authorization: Bearer ..." header.
#
# Target: the checked and audited read at most 15% slower (ratio >= 0.85).
#
#   bench/auth_overhead.sh [LIENTHONG]     N=..., RUNS=..., SECS=..., THREADS=...
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
N=${N:-100000}
RUNS=${RUNS:-5}
SECS=${SECS:-10}
THREADS=${THREADS:-$(nproc)}
PURPOSE="X-Purpose: HS-2025-000123"
. "$ROOT/bench/lib.sh"

if [ ! -x "$LT" ]; then
    echo "bench/auth_overhead.sh: no lienthong binary at $LT (build it first)" >&2
    exit 2
fi
mkdir -p "$BENCH_OUT"
need_tools wrk curl python3 bc
machine

NODE=$BENCH_OUT/node-$N
load_node "$NODE" "$N" || exit 1
IDS=$NODE/ids.txt
ON=$BENCH_OUT/audit-on-$N
OFF=$BENCH_OUT/audit-off-$N
rm -rf "$ON" "$OFF"
cp -r "$NODE" "$ON"
cp -r "$NODE" "$OFF"

ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# run_wrk URL [HEADER...]: one measured run; prints "requests/s requests".
run_wrk() {
    local url=$1 out
    shift
    out=$(wrk -t2 -c64 -d"${SECS}s" -s "$ROOT/bench/reads.lua" "$url" -- "$IDS" \
        /api/v1/people/ "$@")
    if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
        echo "wrk saw errors against $url:" >&2
        echo "$out" >&2
    fi
    echo "$out" | awk '/^Requests\/sec/{r=$2} /requests in/{n=$1} END{print r, n}'
}

PON=$(free_port)
serve "$ON" "$PON" --threads "$THREADS"
ON_PID=$SERVE_PID
ON_HDRS=("$PURPOSE" "${AUTH_ON:-Authorization: Bearer $OFFICER_TOKEN}")
POFF=$(free_port)
serve "$OFF" "$POFF" --threads "$THREADS" --no-audit --no-auth
OFF_PID=$SERVE_PID
echo "audited: $ON_PID on $PON (${ON_HDRS[*]}); not audited: $OFF_PID on $POFF; $THREADS worker threads each"

run_wrk "http://127.0.0.1:$PON" "${ON_HDRS[@]}" >/dev/null
run_wrk "http://127.0.0.1:$POFF" "$PURPOSE" >/dev/null
on_runs="" off_runs="" on_n=0 off_n=0 on_cpu=0 off_cpu=0
for _ in $(seq 1 "$RUNS"); do
    t0=$(ticks "$ON_PID")
    set -- $(run_wrk "http://127.0.0.1:$PON" "${ON_HDRS[@]}")
    on_cpu=$((on_cpu + $(ticks "$ON_PID") - t0)) on_n=$((on_n + $2)) on_runs="$on_runs $1"
    t0=$(ticks "$OFF_PID")
    set -- $(run_wrk "http://127.0.0.1:$POFF" "$PURPOSE")
    off_cpu=$((off_cpu + $(ticks "$OFF_PID") - t0)) off_n=$((off_n + $2)) off_runs="$off_runs $1"
done
stop "$ON_PID" # writes what is still queued
stop "$OFF_PID"
rows=$(python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(db.execute("SELECT count(*) FROM audit_log").fetchone()[0])' "$ON/lienthong.db")

hz=$(getconf CLK_TCK)
on_rate=$(printf '%s\n' $on_runs | median)
off_rate=$(printf '%s\n' $off_runs | median)
ratio=$(echo "$on_rate / $off_rate" | bc -l)
echo
printf 'point read, audit on   %9.0f requests/s  (runs:%s)  %.1f us CPU/request\n' "$on_rate" \
    "$on_runs" "$(echo "$on_cpu * 1000000 / $hz / $on_n" | bc -l)"
printf 'point read, audit off  %9.0f requests/s  (runs:%s)  %.1f us CPU/request\n' "$off_rate" \
    "$off_runs" "$(echo "$off_cpu * 1000000 / $hz / $off_n" | bc -l)"
printf 'ratio on / off         %9.2f  (%.0f%% slower)\n' "$ratio" "$(echo "(1 - $ratio) * 100" | bc -l)"
echo "audit rows written: $rows for at least $on_n measured reads (warm-up reads come on top)"
[ "$rows" -ge "$on_n" ] || echo "MISSING: fewer audit rows than reads"
[ "$(echo "$ratio >= 0.85" | bc)" = 1 ] && echo "target met (at most 15% slower)" ||
    echo "below target: more than 15% slower"
rm -rf "$ON" "$OFF"
exit 0
