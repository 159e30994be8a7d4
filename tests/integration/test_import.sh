#!/usr/bin/env bash
# test_import.sh - "lienthong import" and "lienthong export" on real nodes:
# a generated data set imported registry by registry and counted by export,
# a CSV round trip into a fresh node, bad rows reported by line and field
# while the good ones go in, --all-or-nothing leaving the node as it was,
# a second import of the same file changing nothing, stdin and usage errors.
. "$(dirname "$0")/lib.sh"

kinds="people households residences parcels benefits businesses"

# status CMD...: run it, output to $TMP/out and $TMP/err, print the exit status
status() {
    "$@" >"$TMP/out" 2>"$TMP/err"
    echo $?
}

count() { # count FILE: its lines
    wc -l <"$1" | tr -d ' '
}

head_of() { # head_of DIR: the node's log, as one line (its length and last event)
    "$LT" log --data "$1" >"$TMP/log" 2>/dev/null
    echo "$(count "$TMP/log") $(tail -n 1 "$TMP/log" | sha256sum | cut -c1-16)"
}

# --- a generated data set, imported in dependency order
check "gen a small data set" "$LT" gen --units 00004 --people 200 --seed 1 --out "$TMP/g"
check "init a province node" "$LT" init --data "$TMP/n" --unit 01
for k in $kinds; do
    check "import $k.ndjson" "$LT" import --data "$TMP/n" "$TMP/g/$k.ndjson"
    check_contains "$k: a summary line" "0 refused" "$(cat "$TMP/err")"
    check "export $k" "$LT" export --data "$TMP/n" --kind "$k" --format ndjson \
        --output "$TMP/$k.out.ndjson"
    check_eq "$k: as many exported as generated" "$(count "$TMP/g/$k.ndjson")" \
        "$(count "$TMP/$k.out.ndjson")"
done
check_eq "people export as generated, in key order" \
    "$(LC_ALL=C sort "$TMP/g/people.ndjson" | sha256sum)" "$(sha256sum <"$TMP/people.out.ndjson")"
check "export of a commune" "$LT" export --data "$TMP/n" --kind residences --unit 00004
check_eq "every residence is in 00004" "$(($(count "$TMP/g/residences.ndjson") + 1))" \
    "$(count "$TMP/out")"
check "export of another commune" "$LT" export --data "$TMP/n" --kind people --unit 00008
check_eq "nobody lives in 00008: the header only" "1" "$(count "$TMP/out")"
check "the log verifies" "$LT" log --data "$TMP/n" --verify

# --- CSV round trip: export, import into a fresh node, export again
mkdir -p "$TMP/csv1" "$TMP/csv2"
check "init a second node" "$LT" init --data "$TMP/n2" --unit 01
for k in $kinds; do
    "$LT" export --data "$TMP/n" --kind "$k" --output "$TMP/csv1/$k.csv" 2>/dev/null
    check "import $k.csv into the fresh node" "$LT" import --data "$TMP/n2" "$TMP/csv1/$k.csv"
    "$LT" export --data "$TMP/n2" --kind "$k" --output "$TMP/csv2/$k.csv" 2>/dev/null
    check_eq "$k: the CSV round trip is identical" "$(sha256sum <"$TMP/csv1/$k.csv")" \
        "$(sha256sum <"$TMP/csv2/$k.csv")"
done
check_eq "the header names the columns" \
    "id,full_name,birth_date,sex,ethnicity,nationality,status,death_date,father_id,mother_id" \
    "$(head -n 1 "$TMP/csv1/people.csv")"

# --- bad rows: reported with their line and field, the good rows go in
check "init a third node" "$LT" init --data "$TMP/n3" --unit 01
{
    echo "id,full_name,birth_date,sex,ethnicity,nationality,status,death_date,father_id,mother_id"
    echo "001084000001,Nguyễn Văn An,1984-02-05,male,01,VN,alive,,,"
    echo "001085000003,Lê Văn Cường,1984-03-03,male,01,VN,alive,,,"
    echo "001189000002,\"Trần Thị Bình, con\",1989-12-12,female,01,VN,alive,,,"
    echo "001214000006,Short Row,2014-06-26,male,01,VN,alive,,"
    printf '001214000007,Bad \xff UTF,2014-06-26,male,01,VN,alive,,,\n'
    echo "001214000004,Nguyễn Văn Dũng,2014-06-26,male,01,VN,alive,,001084000001,001189000002"
} >"$TMP/people-bad.csv"
check_eq "import with bad rows exits 1" "1" \
    "$(status "$LT" import --data "$TMP/n3" --kind people --errors "$TMP/errors.csv" \
        "$TMP/people-bad.csv")"
err=$(cat "$TMP/err")
check_contains "the wrong ID is reported by line" "people-bad.csv:3: field \"id\"" "$err"
check_contains "the short row is reported by line" "people-bad.csv:5:" "$err"
check_contains "the invalid UTF-8 is reported by line" "people-bad.csv:6: field \"full_name\": invalid UTF-8" "$err"
check_contains "the summary counts them" "6 rows read, 3 written, 3 refused" "$err"
check_eq "the errors file has a header and a line per refused row" "4" "$(count "$TMP/errors.csv")"
check_eq "the errors file header" "line,field,code,message" "$(head -n 1 "$TMP/errors.csv")"
check_contains "the errors file names the wrong ID's field" "3,id,invalid_input," \
    "$(cat "$TMP/errors.csv")"
check_contains "the errors file names the short row's missing column" "5,mother_id,invalid_input," \
    "$(cat "$TMP/errors.csv")"
check_contains "the errors file names the bad UTF-8's field" "6,full_name,invalid_input," \
    "$(cat "$TMP/errors.csv")"
"$LT" export --data "$TMP/n3" --kind people >"$TMP/people3.csv" 2>/dev/null
check_eq "the good rows went in" "4" "$(count "$TMP/people3.csv")"
check_contains "the quoted name is whole" "\"Trần Thị Bình, con\"" "$(cat "$TMP/people3.csv")"

{
    echo '{"person_id":"001084000001","kind":"permanent","unit":"00004","address_line":"Số 1 phố Huế","from_date":"2020-01-01"}'
    echo '{"person_id":"001084009999","kind":"permanent","unit":"00004","address_line":"Số 2","from_date":"2020-01-01"}'
    echo '{"person_id":"001189000002","kind":"permanent","unit":"00004","address_line":"Số 3","from_date":"2020-01-01","colour":"red"}'
    echo '{"person_id":"001189000002","kind":"permanent",'
    echo '{"person_id":"001189000002","kind":"permanent","unit":"99999","address_line":"Số 3","from_date":"2020-01-01"}'
} >"$TMP/residences-bad.ndjson"
check_eq "residences with bad rows exit 1" "1" \
    "$(status "$LT" import --data "$TMP/n3" --errors "$TMP/errors2.csv" "$TMP/residences-bad.ndjson")"
err=$(cat "$TMP/err")
check_contains "a person who does not exist" "residences-bad.ndjson:2: field \"person_id\": no person" "$err"
check_contains "an unknown field" "residences-bad.ndjson:3: field \"colour\": unknown field" "$err"
check_contains "malformed JSON" "residences-bad.ndjson:4: malformed JSON" "$err"
check_contains "a commune that does not exist" "residences-bad.ndjson:5: field \"unit\"" "$err"
check_contains "the good residence went in" "5 rows read, 1 written, 4 refused" "$err"
check_contains "the errors file names the fields" "2,person_id,invalid_input" \
    "$(cat "$TMP/errors2.csv")"

# --- all or nothing: every bad row listed, the node unchanged
check "init a fourth node" "$LT" init --data "$TMP/n4" --unit 01
head4=$(head_of "$TMP/n4")
check_eq "--all-or-nothing with bad rows exits 1" "1" \
    "$(status "$LT" import --data "$TMP/n4" --kind people --all-or-nothing \
        --errors "$TMP/errors3.csv" "$TMP/people-bad.csv")"
check_contains "nothing written" "0 written, 3 refused" "$(cat "$TMP/err")"
check_contains "the summary says why" "--all-or-nothing: nothing written" "$(cat "$TMP/err")"
check_eq "every bad row is listed, not just the first" "4" "$(count "$TMP/errors3.csv")"
check_eq "the node's log is unchanged" "$head4" "$(head_of "$TMP/n4")"
"$LT" export --data "$TMP/n4" --kind people >"$TMP/people4.csv" 2>/dev/null
check_eq "no person in the node" "1" "$(count "$TMP/people4.csv")"
grep -v '^001085000003\|^001214000006\|^001214000007' "$TMP/people-bad.csv" >"$TMP/people-good.csv"
check "--all-or-nothing with good rows only" "$LT" import --data "$TMP/n4" --kind people \
    --all-or-nothing "$TMP/people-good.csv"
check_contains "all written" "3 rows read, 3 written, 0 refused" "$(cat "$TMP/err")"

# --- the same file again: each row refused as existing, nothing changes
before=$(head_of "$TMP/n")
check_eq "a second import exits 1" "1" \
    "$(status "$LT" import --data "$TMP/n" "$TMP/g/people.ndjson")"
check_contains "each row refused as existing" \
    "$(count "$TMP/g/people.ndjson") rows read, 0 written, $(count "$TMP/g/people.ndjson") refused" \
    "$(cat "$TMP/err")"
check_contains "as existing" "already exists" "$(cat "$TMP/err")"
check_eq "the log did not move" "$before" "$(head_of "$TMP/n")"
check_eq "the same households as CSV: exit 1" "1" \
    "$(status "$LT" import --data "$TMP/n" "$TMP/csv1/households.csv")"
check_eq "nothing changed" "$before" "$(head_of "$TMP/n")"

# --- standard input, and usage
check "import from stdin with --kind and --format" \
    bash -c "\"$LT\" import --data \"$TMP/n4\" --kind residence --format ndjson - <<<'{\"person_id\":\"001084000001\",\"kind\":\"temporary\",\"unit\":\"00004\",\"address_line\":\"Số 9\",\"from_date\":\"2021-01-01\"}'"
check_contains "stdin is named in the summary" "stdin: 1 rows read, 1 written" "$(cat "$TMP/err")"
check_eq "stdin without --kind is a usage error" "2" \
    "$(status "$LT" import --data "$TMP/n4" --format csv - </dev/null)"
check_eq "an unknown kind is a usage error" "2" \
    "$(status "$LT" import --data "$TMP/n4" --kind cats "$TMP/people-good.csv")"
check_eq "a file name that says no kind is a usage error" "2" \
    "$(status "$LT" import --data "$TMP/n4" "$TMP/records.csv")"
check_eq "a file name that says no format is a usage error" "2" \
    "$(status "$LT" import --data "$TMP/n4" "$TMP/people-bad.txt")"
check_eq "no --data is a usage error" "2" "$(status "$LT" import "$TMP/people-good.csv")"
check_eq "a bad format is a usage error" "2" \
    "$(status "$LT" export --data "$TMP/n4" --kind people --format xml)"
check_eq "a missing file fails" "1" "$(status "$LT" import --data "$TMP/n4" "$TMP/people-none.csv")"
printf 'id,full_name,colour\n' >"$TMP/people-header.csv"
check_eq "a bad header fails" "1" "$(status "$LT" import --data "$TMP/n4" "$TMP/people-header.csv")"
check_contains "the bad header names the column" "people-header.csv:1: the header names an unknown column \"colour\"" "$(cat "$TMP/err")"
check_eq "export of an unknown unit fails" "1" \
    "$(status "$LT" export --data "$TMP/n4" --kind people --unit 99999)"

done_testing
