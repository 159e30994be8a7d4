#!/usr/bin/env bash
# bench/memory.sh - peak memory of a node holding N people (default
# 1,000,000) under the read load.
#
# The node is loaded once (bench/lib.sh load_node: "lienthong import" when
# the binary has it, else every person POSTed through the API) and kept in
# bench/out.  A fresh "lienthong serve --data" then takes the read load of
# bench/http_reads.sh (wrk, 2 threads, 64 connections, SECS seconds, random
# IDs over the whole node), and its peak resident set (VmHWM of
# /proc/PID/status) is read after the load, with the anonymous and file
# parts of the resident set at that moment.
#
# Target: under 200 MB.
#
#   bench/memory.sh [LIENTHONG]     N=..., SECS=... (default 20)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
N=${N:-1000000}
SECS=${SECS:-20}
. "$ROOT/bench/lib.sh"

if [ ! -x "$LT" ]; then
    echo "bench/memory.sh: no lienthong binary at $LT (build it first)" >&2
    exit 2
fi
mkdir -p "$BENCH_OUT"
need_tools wrk curl python3
machine

NODE=$BENCH_OUT/node-$N
load_node "$NODE" "$N" || exit 1
echo "database: $(du -sh "$NODE" | cut -f1) in $NODE"

PORT=$(free_port)
serve "$NODE" "$PORT"
idle=$(awk '/VmHWM/{print $2}' "/proc/$SERVE_PID/status")
rate=$(wrk_rate -t2 -c64 -d"${SECS}s" "${AUTH_H[@]}" -s "$ROOT/bench/reads.lua" "http://127.0.0.1:$PORT" -- \
    "$NODE/ids.txt")
status=/proc/$SERVE_PID/status
hwm=$(awk '/VmHWM/{print $2}' "$status")
echo
printf 'peak RSS (VmHWM) after the read load  %7.1f MB\n' "$(echo "$hwm / 1024" | bc -l)"
printf '  at start, before any request        %7.1f MB\n' "$(echo "$idle / 1024" | bc -l)"
printf '  resident now: anonymous %.1f MB, file-backed %.1f MB\n' \
    "$(awk '/RssAnon/{print $2 / 1024}' "$status")" "$(awk '/RssFile/{print $2 / 1024}' "$status")"
printf 'read load: %.0f requests/s over %d people\n' "$rate" "$N"
if [ "$hwm" -lt $((200 * 1024)) ]; then echo "target met: under 200 MB"; else echo "over 200 MB"; fi
stop "$SERVE_PID"
