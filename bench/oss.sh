#!/usr/bin/env bash
# bench/oss.sh - the one-stop shop under load: dossiers through receive,
# review and approve with their registry effects, and the officer's queue
# of a province with QUEUE open dossiers.
#
# Runs bench/oss_bench (built with the program: build/bench/oss_bench) on a
# fresh durable node under bench/out: FLOW dossiers of temporary residence
# registration by THREADS concurrent clients (each write waits for its
# commit, as an HTTP request does on the blocking pool), then QUEUE open
# dossiers received over 60 days and the queue read 300 times per query
# (first page, a page in the middle, overdue, one commune).  Prints the
# machine, the load average before and after, and the figures.
#
# Targets: >= 1,000 dossiers/s; the queue in < 50 ms (median and p99).
#
#   bench/oss.sh [BUILD_DIR]    FLOW=10000 THREADS=64 QUEUE=100000
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=$BUILD/bench/oss_bench
FLOW=${FLOW:-10000}
THREADS=${THREADS:-64}
QUEUE=${QUEUE:-100000}
OUT=$ROOT/bench/out/oss

if [ ! -x "$BIN" ]; then
    echo "bench/oss.sh: no $BIN (run: ninja -C $BUILD)" >&2
    exit 2
fi
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
echo "machine: $(nproc) CPUs; $(lscpu | grep -m1 'Model name' | sed 's/  */ /g')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" "$OUT" "$FLOW" "$THREADS" "$QUEUE"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$OUT"
