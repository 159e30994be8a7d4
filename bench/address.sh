#!/usr/bin/env bash
# bench/address.sh - how fast "lienthong address convert" is.
#
# Batch: addresses per second converting a corpus of old addresses in mixed
# spellings (bench/gen_addresses.py, 1,000,000 lines by default) to CSV on
# one core, next to a plain awk pass over the same file as the floor; the
# median of 3 runs each.  Single: start-to-answer time of one
# "lienthong address convert ADDRESS" (median of 20 runs, hyperfine) and
# peak memory (/usr/bin/time -v).  Targets: >= 200,000 addresses/s; a single
# address in < 30 ms and < 40 MB.
#
#   bench/address.sh [LIENTHONG]     default build/lienthong; N=... to resize
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
N=${N:-1000000}
RUNS=${RUNS:-3}
OUT=$ROOT/bench/out
CORPUS=$OUT/addresses-$N.txt
SINGLE="Số 12 ngõ 34 Đội Cấn, Phường Đội Cấn, Quận Ba Đình, Hà Nội"

if [ ! -x "$LT" ]; then
    echo "bench/address.sh: no lienthong binary at $LT (build it first)" >&2
    exit 2
fi
mkdir -p "$OUT"
. "$ROOT/bench/lib.sh"
need_tools hyperfine bc python3
if [ ! -s "$CORPUS" ]; then
    echo "generating $N addresses into $CORPUS ..." >&2
    python3 "$ROOT/bench/gen_addresses.py" "$N" >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
    PIN=(taskset -c 0)
fi

# median CMD...: "wall cpu", the medians of RUNS runs in seconds (output
# dropped).  CPU time (user + system) is printed too: on a shared machine it
# says more than wall time about the program itself.
median() {
    local walls=() cpus=()
    for _ in $(seq 1 "$RUNS"); do
        local t0=$EPOCHREALTIME
        /usr/bin/time -f "%U %S" -o "$OUT/time.txt" "${PIN[@]}" "$@" >/dev/null 2>&1 || true
        local t1=$EPOCHREALTIME
        walls+=("$(echo "$t1 - $t0" | bc -l)")
        cpus+=("$(awk '{print $1 + $2}' "$OUT/time.txt")")
    done
    local mid=$(((RUNS + 1) / 2))
    echo "$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "${mid}p")" \
        "$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "${mid}p")"
}

# report LABEL UNIT "wall cpu": one line of the table.
report() {
    local wall cpu
    read -r wall cpu <<<"$3"
    printf '%-30s %7.3f s %10.0f %s/s   (cpu %6.2f s: %10.0f/s)\n' "$1" "$wall" \
        "$(echo "$lines / $wall" | bc -l)" "$2" "$cpu" "$(echo "$lines / ($cpu + 0.001)" | bc -l)"
}

lines=$(wc -l <"$CORPUS")
echo "corpus: $lines lines, $(du -h "$CORPUS" | cut -f1), binary: $LT"
echo "pinned: ${PIN[*]:-no (taskset not available)}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

report "awk -F, '{print \$NF}' (floor)" lines "$(median awk -F, '{print $NF}' "$CORPUS")"
report "address convert (csv)" addresses "$(median "$LT" address convert --input "$CORPUS")"
report "address convert (ndjson)" addresses \
    "$(median "$LT" address convert --input "$CORPUS" --format ndjson)"

batch_rss=$(/usr/bin/time -v "$LT" address convert --input "$CORPUS" 2>&1 >/dev/null |
    awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}')
printf '%-30s %7.1f MB\n' "batch peak memory" "$(echo "$batch_rss / 1024" | bc -l)"

hyperfine -N --runs 20 --warmup 3 --export-json "$OUT/single.json" --style none \
    "${PIN[*]} $LT address convert '$SINGLE'" >/dev/null
single_ms=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f ms (user %.1f + system %.1f ms)" % (r["median"] * 1000, r["user"] * 1000, r["system"] * 1000))' "$OUT/single.json")
single_rss=$(/usr/bin/time -v "$LT" address convert "$SINGLE" 2>&1 >/dev/null |
    awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}')
printf '%-30s %s, median of 20\n' "single address, start to answer" "$single_ms"
printf '%-30s %7.1f MB\n' "single address peak memory" "$(echo "$single_rss / 1024" | bc -l)"
