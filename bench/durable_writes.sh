#!/usr/bin/env bash
# bench/durable_writes.sh - durable single writes over HTTP next to the
# disk's fdatasync rate.
#
# First the disk: how many times a second one process can overwrite 4 KiB
# of a file already on disk and fdatasync it, in the filesystem of the
# node's data directory (a Python loop, 5 s; the file is written first, as
# SQLite reuses its WAL file, since appending to a new file costs the
# filesystem's metadata too).  Then a fresh node for Hà Nội (01), durable as always (every
# commit fsynced, synchronous=FULL), takes POST /api/v1/people of new
# people from wrk (bench/post.lua): one person registered per request, each
# one event and one projection row, with 1, 16 and 64 connections for SECS
# seconds each.  New people are used rather than PUTs, as blind concurrent
# PUTs of the same people would conflict on their versions; every request
# is a change of its own, refused by nothing.  For each run: writes per
# second, and from the node's /metrics the store's commits, so the writes
# per commit show the group commit at work.
#
# Target: with concurrent writers, more writes per second than fdatasyncs.
#
#   bench/durable_writes.sh [LIENTHONG]     SECS=... (default 10)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
SECS=${SECS:-10}
. "$ROOT/bench/lib.sh"

if [ ! -x "$LT" ]; then
    echo "bench/durable_writes.sh: no lienthong binary at $LT (build it first)" >&2
    exit 2
fi
mkdir -p "$BENCH_OUT"
need_tools wrk curl python3
machine

NODE=$BENCH_OUT/node-writes
rm -rf "$NODE"
"$LT" init --data "$NODE" --unit 01 >/dev/null

sync_rate=$(python3 - "$NODE" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fdatasync.probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.pwrite(fd, b"\0" * (1 << 20), 0)  # written and synced first, as SQLite's WAL is reused
os.fsync(fd)
block = b"x" * 4096
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < 5:
    os.pwrite(fd, block, (n % 256) * 4096)
    os.fdatasync(fd)
    n += 1
secs = time.monotonic() - t0
os.close(fd)
os.unlink(path)
print("%.0f" % (n / secs))
PY
)
echo "disk: $sync_rate fdatasyncs/s (4 KiB pwrite over a written file + fdatasync, one process)"

PORT=$(free_port)
serve "$NODE" "$PORT"
echo
printf '%-12s %12s %12s %14s %14s\n' connections writes/s commits/s writes/commit "vs fdatasync"
run=0
for c in 1 16 64; do
    t=$((c < 2 ? 1 : 2))
    w0=$(metric lienthong_store_writes_total "$PORT")
    f0=$(metric lienthong_store_writes_failed_total "$PORT")
    c0=$(metric lienthong_store_commits_total "$PORT")
    rate=$(wrk_rate -t"$t" -c"$c" -d"${SECS}s" "${AUTH_H[@]}" -s "$ROOT/bench/post.lua" "http://127.0.0.1:$PORT" -- "$run")
    w1=$(metric lienthong_store_writes_total "$PORT")
    f1=$(metric lienthong_store_writes_failed_total "$PORT")
    c1=$(metric lienthong_store_commits_total "$PORT")
    writes=$(((w1 - w0) - (f1 - f0)))
    commits=$((c1 - c0))
    printf '%-12s %12.0f %12.0f %14.1f %13.2fx\n' "$c" "$rate" "$(echo "$commits / $SECS" | bc -l)" \
        "$(echo "$writes / ($commits + ($commits == 0))" | bc -l)" "$(echo "$rate / $sync_rate" | bc -l)"
    [ "$((f1 - f0))" -eq 0 ] || echo "  ($((f1 - f0)) writes refused)"
    run=$((run + 1))
done
echo "group of the largest commit: $(metric lienthong_store_group_max "$PORT") writes"
echo "peak RSS of the node: $(awk '/VmHWM/{printf "%.1f MB", $2 / 1024}' "/proc/$SERVE_PID/status")"
stop "$SERVE_PID"
"$LT" log --data "$NODE" --verify
