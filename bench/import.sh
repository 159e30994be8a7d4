#!/usr/bin/env bash
# bench/import.sh - how fast "lienthong import" writes, next to "sqlite3 .import".
#
# Data: "lienthong gen --units 01 --people 7940 --seed 1", which gives about
# 1,000,000 people in Hà Nội's 126 communes with their households and
# permanent residences; converted once to the CSV "lienthong export" writes
# (bench/ndjson_to_csv.py, header from "lienthong export" itself).  The
# import reads CSV, so both sides parse the same bytes.
#
# Ours: into a fresh province node, people.csv, then households.csv, then
# residences.csv (a residence names its household), each row validated,
# one event per record on the hash chain, projections updated, in
# transactions, durable at the end (the node's default synchronous=FULL).
# Peer: "sqlite3 .import" of the same CSV files, each into a plain table of
# TEXT columns with a unique index on the registry's key (people: id;
# households: id; residences: person_id, kind), sqlite3's own defaults
# (rollback journal, synchronous=FULL), one fresh database per run.
#
# Each timing is the median of RUNS runs (3) of the whole command, start to
# exit.  Printed: rows/s of both for people alone and for the three files
# together, the ratios, the machine (nproc, CPU model, load average before
# and after: other work on the machine slows both sides), and the peak
# resident memory of our import (/usr/bin/time -v).
#
#   bench/import.sh [LIENTHONG]     PEOPLE=7940 (per commune) RUNS=3
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LT=${1:-${LT:-$ROOT/build/lienthong}}
PEOPLE=${PEOPLE:-7940}
RUNS=${RUNS:-3}
OUT=$ROOT/bench/out/import
DATA=$OUT/data-$PEOPLE
KINDS="people households residences"

if [ ! -x "$LT" ]; then
    echo "bench/import.sh: no lienthong binary at $LT (build it first)" >&2
    exit 2
fi

# What the script needs, installed when missing (Debian packages).
need() { # need COMMAND PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "installing $2 ..." >&2
        if [ "$(id -u)" -eq 0 ]; then
            apt-get install -y "$2" >/dev/null || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
        else
            sudo apt-get install -y "$2" >/dev/null
        fi
    fi
}
need sqlite3 sqlite3
need python3 python3
[ -x /usr/bin/time ] || need /usr/bin/time time

mkdir -p "$OUT"

# --- the data, made once per size
if [ ! -s "$DATA/residences.csv" ]; then
    echo "generating ${PEOPLE} people per commune of Hà Nội into $DATA ..." >&2
    rm -rf "$DATA" "$OUT/empty"
    "$LT" gen --units 01 --people "$PEOPLE" --seed 1 --out "$DATA" >/dev/null 2>&1
    "$LT" init --data "$OUT/empty" --unit 01 >/dev/null
    for k in $KINDS; do
        header=$("$LT" export --data "$OUT/empty" --kind "$k" 2>/dev/null | head -n 1)
        python3 "$ROOT/bench/ndjson_to_csv.py" "$header" <"$DATA/$k.ndjson" >"$DATA/$k.csv.tmp"
        mv "$DATA/$k.csv.tmp" "$DATA/$k.csv"
    done
    rm -rf "$OUT/empty"
fi
declare -A ROWS
for k in $KINDS; do
    ROWS[$k]=$(($(wc -l <"$DATA/$k.csv") - 1))
done

median() { # median of the numbers on stdin
    sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

elapsed() { # elapsed T0 T1
    echo "$2 - $1" | bc -l
}

# --- ours: people, households, residences into a fresh node
declare -A OURS
RSS=0
for run in $(seq 1 "$RUNS"); do
    rm -rf "$OUT/node"
    "$LT" init --data "$OUT/node" --unit 01 >/dev/null
    for k in $KINDS; do
        t0=$EPOCHREALTIME
        /usr/bin/time -v -o "$OUT/time.txt" "$LT" import --data "$OUT/node" "$DATA/$k.csv" \
            2>"$OUT/import-$k.log"
        t1=$EPOCHREALTIME
        if ! grep -q "${ROWS[$k]} written, 0 refused" "$OUT/import-$k.log"; then
            echo "bench/import.sh: the import of $k.csv did not write every row:" >&2
            tail -n 5 "$OUT/import-$k.log" >&2
            exit 1
        fi
        OURS[$k]="${OURS[$k]:-} $(elapsed "$t0" "$t1")"
        rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$OUT/time.txt")
        [ "$rss" -gt "$RSS" ] && RSS=$rss
    done
    echo "ours, run $run:$(for k in $KINDS; do echo -n " $k $(echo "${OURS[$k]}" | awk '{print $NF}') s"; done)" >&2
done

# --- the peer: sqlite3 .import of the same files
declare -A KEYS=([people]="id" [households]="id" [residences]="person_id, kind")
declare -A PEER
for run in $(seq 1 "$RUNS"); do
    for k in $KINDS; do
        cols=$(head -n 1 "$DATA/$k.csv" | sed 's/,/ TEXT, /g; s/$/ TEXT/')
        rm -f "$OUT/peer.db" "$OUT/peer.db-journal"
        sqlite3 "$OUT/peer.db" "CREATE TABLE t ($cols); CREATE UNIQUE INDEX t_key ON t (${KEYS[$k]});"
        t0=$EPOCHREALTIME
        sqlite3 "$OUT/peer.db" ".import --csv --skip 1 $DATA/$k.csv t"
        t1=$EPOCHREALTIME
        got=$(sqlite3 "$OUT/peer.db" "SELECT count(*) FROM t")
        if [ "$got" != "${ROWS[$k]}" ]; then
            echo "bench/import.sh: sqlite3 imported $got of ${ROWS[$k]} $k rows" >&2
            exit 1
        fi
        PEER[$k]="${PEER[$k]:-} $(elapsed "$t0" "$t1")"
    done
    echo "sqlite3, run $run:$(for k in $KINDS; do echo -n " $k $(echo "${PEER[$k]}" | awk '{print $NF}') s"; done)" >&2
done
rm -f "$OUT/peer.db"

# --- the report
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
total_rows=0 ours_total=0 peer_total=0
printf '\nmachine: %s cores, %s; load average at the end %s\n' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$load_end"
printf 'median of %s runs; input CSV, %s people per commune of Hà Nội\n\n' "$RUNS" "$PEOPLE"
printf '%-11s %9s %10s %12s %10s %12s %7s\n' file rows "ours s" "ours rows/s" "sqlite3 s" \
    "sqlite3 r/s" ratio
for k in $KINDS; do
    o=$(echo "${OURS[$k]}" | tr ' ' '\n' | grep . | median)
    p=$(echo "${PEER[$k]}" | tr ' ' '\n' | grep . | median)
    total_rows=$((total_rows + ROWS[$k]))
    ours_total=$(echo "$ours_total + $o" | bc -l)
    peer_total=$(echo "$peer_total + $p" | bc -l)
    printf '%-11s %9d %10.2f %12.0f %10.2f %12.0f %7.2f\n' "$k" "${ROWS[$k]}" "$o" \
        "$(echo "${ROWS[$k]} / $o" | bc -l)" "$p" "$(echo "${ROWS[$k]} / $p" | bc -l)" \
        "$(echo "($p) / ($o)" | bc -l)"
done
printf '%-11s %9d %10.2f %12.0f %10.2f %12.0f %7.2f\n' all "$total_rows" "$ours_total" \
    "$(echo "$total_rows / $ours_total" | bc -l)" "$peer_total" \
    "$(echo "$total_rows / $peer_total" | bc -l)" "$(echo "$peer_total / $ours_total" | bc -l)"
p_people=$(echo "${PEER[people]}" | tr ' ' '\n' | grep . | median)
printf '\nthe target: people with residence (all three) at >= 1.0x sqlite3 .import of people.csv:\n'
printf '  ours %.0f rows/s, sqlite3 %.0f rows/s: %.2fx\n' \
    "$(echo "$total_rows / $ours_total" | bc -l)" "$(echo "${ROWS[people]} / $p_people" | bc -l)" \
    "$(echo "($total_rows / $ours_total) / (${ROWS[people]} / $p_people)" | bc -l)"
printf 'peak resident memory of one import: %d MiB\n' $((RSS / 1024))
