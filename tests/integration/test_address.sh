#!/usr/bin/env bash
# test_address.sh - "lienthong address convert" end to end: one address, a
# batch of lines or a CSV column, bad lines, usage errors, and the acceptance
# corpora of tools/gen_address_corpus.py with their measured rates.
#
#   LT=build/lienthong tests/integration/test_address.sh

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

# ---- one address ------------------------------------------------------------

check "address --help" "$LT" address --help
check_contains "help names the batch options" "--csv-column" "$(cat "$TMP/out")"

out=$("$LT" address convert "Số 12 ngõ 34 Đội Cấn, Phường Đội Cấn, Quận Ba Đình, Hà Nội")
check_eq "one address exits 0" 0 $?
check_contains "human output: status" "status:   ambiguous" "$out"
check_contains "human output: street as written" "street:   Số 12 ngõ 34 Đội Cấn" "$out"
check_contains "human output: old commune with code" "00022 Phường Đội Cấn" "$out"
check_contains "human output: every candidate" "00008 Phường Ngọc Hà" "$out"

out=$("$LT" address convert --json "P12, Q.Gò Vấp, TP.HCM")
got=$(printf '%s' "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["old"]["commune"]["code"], j["new"]["commune"]["code"], j["new"]["province"]["code"])')
check_eq "--json: one object with old and new units" "converted 26881 26882 79" "$got"

out=$("$LT" address convert "Phường Đội Cn, Quận Ba Đình, Hà Nội")
check_contains "not found suggests the closest name" "00022 Phường Đội Cấn" "$out"

check_fails "an invalid address fails" "$LT" address convert "$(printf 'P12\001Q1')"
check_contains "and says where" "byte offset 3" "$(cat "$TMP/err")"

# ---- usage errors ----------------------------------------------------------

usage_rc() {
    "$LT" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    echo $?
}
check_eq "no verb: usage" 2 "$(usage_rc address)"
check_eq "unknown verb: usage" 2 "$(usage_rc address translate x)"
check_eq "unknown option: usage" 2 "$(usage_rc address convert --frobnicate x)"
check_eq "bad format: usage" 2 "$(usage_rc address convert --format xml --input /dev/null)"
check_eq "arguments and --input: usage" 2 "$(usage_rc address convert --input /dev/null x)"
check_contains "usage errors go through lt_error_print" "lienthong: error:" "$(cat "$TMP/err")"
check_eq "missing input file fails" 1 "$(usage_rc address convert --input "$TMP/nope.txt")"

# ---- a batch of lines ------------------------------------------------------

long=$(head -c 5000 /dev/zero | tr '\0' 'a')
{
    printf 'Phường Bến Nghé, Q1, TPHCM\n'
    printf '\n'
    printf 'P12 Q10 \xff SG\n'
    printf '%s\n' "$long"
    printf 'P12, Q.Gò Vấp, TP.HCM\r\n'
    printf 'Xã Tân Thành'
} >"$TMP/batch.txt"

"$LT" address convert --input "$TMP/batch.txt" >"$TMP/batch.csv" 2>"$TMP/batch.err"
check_eq "a batch with bad lines exits 1" 1 $?
check_eq "one output record per line, plus the header" 7 "$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], encoding="utf-8")))))' "$TMP/batch.csv")"
check_eq "CSV header" "line,input,status,street,old_commune_code,old_commune,old_district_code,old_district,old_province_code,old_province,new_commune_code,new_commune,new_province_code,new_province,candidates,note" "$(head -n 1 "$TMP/batch.csv")"
statuses=$(python3 -c 'import csv,sys; print(" ".join(r["line"] + ":" + r["status"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))))' "$TMP/batch.csv")
check_eq "each line's status, bad ones as errors" "1:converted 2:error 3:error 4:error 5:converted 6:ambiguous" "$statuses"
check_contains "stderr names the line: empty" "line 2: empty address" "$(cat "$TMP/batch.err")"
check_contains "stderr names the line: invalid UTF-8" "line 3: invalid UTF-8 at byte offset 8" "$(cat "$TMP/batch.err")"
check_contains "stderr names the line: too long" "line 4: address too long: 5000 bytes" "$(cat "$TMP/batch.err")"
check_contains "throughput at the end" "read 6 addresses in" "$(cat "$TMP/batch.err")"
check_contains "... with each status counted" \
    "2 converted, 0 unchanged, 1 ambiguous, 0 not found, 3 errors" "$(cat "$TMP/batch.err")"
check_contains "candidates column lists the split" "Phường Sài Gòn" "$(sed -n 2p "$TMP/batch.csv")"

printf 'Phường Bến Nghé, Q1, TPHCM\n' | "$LT" address convert >"$TMP/stdin.csv" 2>/dev/null
check_eq "stdin when it is not a terminal, exit 0" "0 converted" "$? $(python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))[0]["status"])' "$TMP/stdin.csv")"

printf 'P12, Q.Gò Vấp, TP.HCM\n\n' | "$LT" address convert --input - --format ndjson --output "$TMP/out.ndjson" 2>/dev/null
check_eq "--format ndjson --output FILE" "1 converted 26882 | 2 error invalid_input" "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
print(" | ".join(" ".join(str(x) for x in (r["line"], r["status"], r["new"]["commune"]["code"] if r["status"] != "error" else r["error"]["code"])) for r in rows))' "$TMP/out.ndjson")"

# NDJSON is written by the CLI itself: it must be the --json shape, plus "line".
{
    printf 'P12, Q.Gò Vấp, TP.HCM\n'
    printf 'Số "5" \\ ngõ 2, Phường Đại Mỗ, Q. Nam Từ Liêm, HN\n'
    printf 'Phường Đội Cn, Quận Ba Đình, Hà Nội\n'
    printf 'Phường Sài Gòn, TP HCM\n'
    printf 'Qwzx Ba Dinhh\n'
} >"$TMP/shape.txt"
"$LT" address convert --input "$TMP/shape.txt" --format ndjson >"$TMP/shape.ndjson" 2>/dev/null
same=$(python3 - "$LT" "$TMP/shape.ndjson" <<'EOF'
import json, subprocess, sys
ok = 0
for l in open(sys.argv[2], encoding="utf-8"):
    j = json.loads(l)
    j.pop("line")
    p = subprocess.run([sys.argv[1], "address", "convert", "--json", j["input"]],
                       capture_output=True)
    ref = json.loads(p.stdout)
    ok += j == ref and list(j) == list(ref)
print(ok)
EOF
)
check_eq "NDJSON records have the shape of --json" 5 "$same"

printf 'P12, Q.Gò Vấp, TP.HCM\n' | "$LT" address convert --progress >/dev/null 2>"$TMP/progress.err"
check_contains "--progress reports on stderr" "read 1 addresses" "$(cat "$TMP/progress.err")"

# ---- a CSV column ----------------------------------------------------------

cat >"$TMP/in.csv" <<'EOF'
id,"the address",note
1,"Phường Bến Nghé, Quận 1, TP.HCM","a ""quoted"" note"
2,"Phường 12,
 Quận Gò Vấp, TP.HCM",second spans two lines
3
4,"P. Đa Kao, Q.1, HCM",x
EOF
"$LT" address convert --input "$TMP/in.csv" --csv-column "the address" --format ndjson >"$TMP/col.ndjson" 2>"$TMP/col.err"
check_eq "a CSV row without the column fails the batch" 1 $?
check_eq "--csv-column NAME: lines, statuses" "2:converted 3:error 5:error 6:ambiguous" "$(python3 -c '
import json, sys
print(" ".join("%d:%s" % (r["line"], r["status"]) for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))))' "$TMP/col.ndjson")"
check_contains "a quoted field with a newline is one field" "line 3: control character 0x0a" "$(cat "$TMP/col.err")"
check_contains "a short row is an error record" "line 5: CSV row has 1 column, column 2 is missing" "$(cat "$TMP/col.err")"
"$LT" address convert --input "$TMP/in.csv" --csv-column 2 >"$TMP/col2.csv" 2>/dev/null
check_eq "--csv-column N: same column" "26740" "$(python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))[0]["new_commune_code"])' "$TMP/col2.csv")"
check_eq "--csv-column with an unknown name: usage" 2 "$(usage_rc address convert --input "$TMP/in.csv" --csv-column nope)"

# ---- hostile input ---------------------------------------------------------

head -c 300000 /dev/urandom >"$TMP/junk.bin"
timeout 60 "$LT" address convert --input "$TMP/junk.bin" >"$TMP/junk.csv" 2>/dev/null
rc=$?
check_eq "random bytes: errors, no crash, no hang" 1 "$rc"
head -c 3000000 /dev/zero | tr '\0' 'x' >"$TMP/noline.txt"
timeout 60 "$LT" address convert --input "$TMP/noline.txt" >"$TMP/noline.csv" 2>"$TMP/noline.err"
check_contains "a 3 MB line without newline is one too-long error" "line 1: address too long: 3000000 bytes" "$(cat "$TMP/noline.err")"

# ---- acceptance corpora ----------------------------------------------------

gen="$ROOT/tools/gen_address_corpus.py"
python3 "$gen" --data "$ROOT/data/units" --out "$TMP/corpus" 2>/dev/null
check_eq "the generator runs" 0 $?
check "the committed abbreviated corpus is what the generator writes" \
    cmp "$ROOT/tests/data/address/old-abbrev.csv" "$TMP/corpus/old-abbrev.csv"

# rate CORPUS: the share of lines converted exactly as the data says (and, for
# stripped text, as the text can honestly tell): "pct honest_pct ok hok n".
rate() {
    python3 - "$TMP/corpus/$1.csv" "$TMP/$1.out.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
out = list(csv.DictReader(open(sys.argv[2], encoding="utf-8")))
assert len(out) == len(rows), (len(out), len(rows))

def answer(r):
    if r["status"] in ("converted", "unchanged"):
        return r["status"] + " " + r["new_commune_code"]
    if r["status"] == "ambiguous":
        return "ambiguous " + " ".join(sorted({c.split()[0] for c in r["candidates"].split("; ")}))
    return r["status"]

strict = honest = 0
for want, got in zip(rows, out):
    a = answer(got)
    strict += a == want["expect"]
    honest += a in (want["expect"], want["honest"])
n = len(rows)
print("%.3f %.3f %d %d %d" % (100.0 * strict / n, 100.0 * honest / n, strict, honest, n))
EOF
}

corpora="old-full new-full old-stripped old-abbrev"
for corpus in $corpora; do
    "$LT" address convert --input "$TMP/corpus/$corpus.csv" --csv-column address \
        >"$TMP/$corpus.out.csv" 2>/dev/null &
done
wait
for corpus in $corpora; do
    read -r pct hpct ok hok n <<<"$(rate $corpus)"
    echo "# $corpus: $ok/$n right ($pct%); counting honest ambiguity: $hok/$n ($hpct%)"
    case $corpus in
    old-full | new-full) want=100 ;;
    *) want=99.5 ;;
    esac
    check_eq "$corpus: at least $want% right" 1 "$(python3 -c "print(int(${pct:-0} >= $want))")"
done

done_testing
