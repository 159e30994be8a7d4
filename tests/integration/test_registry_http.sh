#!/usr/bin/env bash
# test_registry_http.sh - the registry API of "lienthong serve --data" over
# real sockets: register a person and a residence, read them back with
# ETags and 304s, change with If-Match (right, stale, missing, malformed),
# read as of a date before and after a change, the history with actor and
# cause, lists by commune and by province with paging, search with and
# without diacritics, and bad input: each refusal is a 4xx with code,
# message and the field at fault, and leaves the event log as it was.
#
# The log is read with "lienthong log --verify" while the node serves (WAL
# lets another process read); its head position is the store's state.

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$TMP/node"

# req METHOD PATH [curl args...]: sets $status; body in $TMP/body, headers in $TMP/headers.
req() {
    local method=$1 path=$2
    shift 2
    rm -f "$TMP/body"
    status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer ${AUTH:-$TOKEN}" -H 'X-Purpose: registry test' "$@" "$BASE$path")
}

# send METHOD PATH JSON [curl args...]: a request with a JSON body.
send() {
    local method=$1 path=$2 body=$3
    shift 3
    req "$method" "$path" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}

# jv EXPR: a Python expression over the last body (bound to d).
jv() {
    python3 - "$TMP/body" "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
    v = eval(sys.argv[2])
except Exception as e:
    v = "<%s: %s>" % (type(e).__name__, e)
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

header() { # header NAME: a response header of the last request
    grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

# log_head: how many registry events the node's log holds, read by another
# process.  The audit trail's own events (entity "audit/...") are left out:
# the reads before a refusal are recorded a moment later, and that is not a
# write of the refused request.
log_head() {
    "$LT" log --data "$DATA" |
        python3 -c 'import sys, json; print(sum(1 for l in sys.stdin if not json.loads(l)["entity"].startswith("audit/")))'
}

# refused WHAT STATUS FIELD: the last answer is STATUS with a JSON error
# naming FIELD ("" when the error has none), and the log did not move.
refused() {
    local what=$1 want=$2 field=$3
    check_eq "$what: status $want" "$want" "$status"
    check_eq "$what: code and message" "true" \
        "$(jv 'bool(d["error"]["code"]) and bool(d["error"]["message"])')"
    if [ -n "$field" ]; then
        check_eq "$what: names the field" "$field" "$(jv 'd["error"]["field"]')"
    fi
    check_eq "$what: the log did not move" "$HEAD" "$(log_head | grep -E '^[0-9]+$')"
}

# person ID NAME BIRTH SEX [extra members]: a person record.
person() {
    printf '{"id":"%s","full_name":"%s","birth_date":"%s","sex":"%s","ethnicity":"01","nationality":"VN","status":"alive"%s}' \
        "$1" "$2" "$3" "$4" "${5:-}"
}

# residence PERSON UNIT: a permanent residence record.
residence() {
    printf '{"person_id":"%s","kind":"permanent","unit":"%s","address_line":"Số 1 Hàng Bạc","from_date":"2015-01-01"}' \
        "$1" "$2"
}

check "init a node for Hà Nội (01)" "$LT" init --data "$DATA" --unit 01
# An officer of the province writes and reads; an admin reads the counters.
TOKEN=$(account_token "$DATA" officer01 officer 01)
ADMIN=$(account_token "$DATA" admin01 admin 01)
start_server "$PORT" --data "$DATA" || {
    done_testing
    exit 1
}

AN=001085012345  # male, 1985
BINH=001190004567 # female, 1990
CUONG=001201000777 # male, 2001
DUNG=001092000321 # male, 1992

# --- register ----------------------------------------------------------------

send POST "/api/v1/people?cause=HS-0001&effective=2020-01-01" \
    "$(person $AN '  Nguyễn Văn An ' 1985-03-04 male)"
check_eq "POST person: 201" 201 "$status"
check_eq "POST person: version 1" 1 "$(jv 'd["version"]')"
check_eq "POST person: the canonical record (trimmed)" "Nguyễn Văn An" "$(jv 'd["record"]["full_name"]')"
check_eq "POST person: ETag" '"1"' "$(header ETag)"
check_eq "POST person: Location" "/api/v1/people/$AN" "$(header Location)"

send POST "/api/v1/residences?cause=HS-0001&effective=2020-01-01" "$(residence $AN 00070)"
check_eq "POST residence: 201" 201 "$status"
check_eq "POST residence: Location has both key parts" "/api/v1/residences/$AN/permanent" \
    "$(header Location)"

send POST "/api/v1/people" "$(person $AN 'Nguyễn Văn An' 1985-03-04 male)"
check_eq "POST an existing person: 409" 409 "$status"
check_eq "POST an existing person: current_version" 1 "$(jv 'd["error"]["current_version"]')"

# --- read --------------------------------------------------------------------

req GET "/api/v1/people/$AN"
check_eq "GET person: 200" 200 "$status"
check_eq "GET person: version" 1 "$(jv 'd["version"]')"
check_eq "GET person: record" "$AN Nguyễn Văn An male" \
    "$(jv '" ".join([d["record"]["id"], d["record"]["full_name"], d["record"]["sex"]])')"
check_eq "GET person: ETag" '"1"' "$(header ETag)"
check_eq "GET person: JSON content type" "application/json; charset=utf-8" "$(header Content-Type)"
check_eq "GET person: body is exactly version and record" '["version", "record"]' "$(jv 'list(d)')"

req GET "/api/v1/residences/$AN/permanent"
check_eq "GET residence: 200 with its unit" "200 00070" "$status $(jv 'd["record"]["unit"]')"

req GET "/api/v1/people/$AN" -H 'If-None-Match: "1"'
check_eq "If-None-Match current: 304" 304 "$status"
check_eq "304 has no body" 0 "$(cat "$TMP/body" 2>/dev/null | wc -c | tr -d ' ')"
check_eq "304 still carries the ETag" '"1"' "$(header ETag)"
req GET "/api/v1/people/$AN" -H 'If-None-Match: "7", W/"1"'
check_eq "If-None-Match list with a weak match: 304" 304 "$status"
req GET "/api/v1/people/$AN" -H 'If-None-Match: "2"'
check_eq "If-None-Match other version: 200" 200 "$status"
status=$(curl -s -I -o "$TMP/headers" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'X-Purpose: registry test' "$BASE/api/v1/people/$AN")
check_eq "HEAD person: 200 with the ETag" '200 "1"' "$status $(header ETag)"

req GET "/api/v1/people/001099000001"
check_eq "GET unknown person: 404 not_found" "404 not_found" "$status $(jv 'd["error"]["code"]')"
req GET "/api/v1/people/00109900001"
check_eq "GET a personal ID of 11 digits: 400 naming id" "400 invalid_input id" \
    "$status $(jv 'd["error"]["code"]') $(jv 'd["error"]["field"]')"
req GET "/api/v1/people/00109900000x/history"
check_eq "history of a malformed personal ID: 400" 400 "$status"
req GET "/api/v1/businesses/0100109107"
check_eq "GET an enterprise code with a wrong check digit: 400 naming code" "400 code" \
    "$status $(jv 'd["error"]["field"]')"

# --- change ------------------------------------------------------------------

HEAD=$(log_head)
send PUT "/api/v1/people/$AN" "$(person $AN 'Nguyễn Văn Ân' 1985-03-04 male)"
refused "PUT without If-Match" 428 If-Match
send PUT "/api/v1/people/$AN" "$(person $AN 'Nguyễn Văn Ân' 1985-03-04 male)" -H 'If-Match: abc'
refused "PUT with a malformed If-Match" 400 If-Match
send PUT "/api/v1/people/$AN" "$(person $BINH 'Trần Thị Bình' 1990-05-06 female)" -H 'If-Match: "1"'
refused "PUT a record whose key is not the path's" 400 id
send PUT "/api/v1/people/001099000001" "$(person 001099000001 'Lê Văn X' 1999-01-01 male)" \
    -H 'If-Match: "1"'
refused "PUT to a person that does not exist" 404 ""

send PUT "/api/v1/people/$AN?cause=QD-77%2F2024&effective=2024-06-01" \
    "$(person $AN 'Nguyễn Văn Ân' 1985-03-04 male)" -H 'If-Match: "1"'
check_eq "PUT with the current If-Match: 200" 200 "$status"
check_eq "PUT: version 2" 2 "$(jv 'd["version"]')"
check_eq "PUT: ETag 2" '"2"' "$(header ETag)"

HEAD=$(log_head)
send PUT "/api/v1/people/$AN" "$(person $AN 'Nguyễn Văn Anh' 1985-03-04 male)" -H 'If-Match: "1"'
refused "PUT with a stale If-Match" 409 ""
check_eq "stale PUT: current_version" 2 "$(jv 'd["error"]["current_version"]')"
send PUT "/api/v1/people/$AN?base_version=1" "$(person $AN 'Nguyễn Văn Anh' 1985-03-04 male)"
refused "PUT with a stale base_version" 409 ""
req GET "/api/v1/people/$AN"
check_eq "after the stale PUTs: still version 2 and its name" "2 Nguyễn Văn Ân" \
    "$(jv 'str(d["version"]) + " " + d["record"]["full_name"]')"

HEAD=$(log_head)
send PUT "/api/v1/people/$AN" "$(person $AN 'Nguyễn Văn Ân' 1985-03-04 male)" -H 'If-Match: "2"'
check_eq "PUT of the record as it stands: 200, still version 2" '200 2 "2"' \
    "$status $(jv 'd["version"]') $(header ETag)"
check_eq "PUT of the record as it stands: the log did not move" "$HEAD" \
    "$(log_head | grep -E '^[0-9]+$')"
send PUT "/api/v1/people/$AN" "$(person $AN 'Nguyễn Văn Ân' 1985-03-04 male)" -H 'If-Match: "1"'
refused "PUT of the record as it stands on a stale If-Match" 409 ""
send PUT "/api/v1/people/$AN?base_version=1" "$(person $AN 'Nguyễn Văn Ânh' 1985-03-04 male)" \
    -H 'If-Match: "2"'
refused "PUT whose If-Match and base_version disagree" 400 base_version

# --- as of a date ------------------------------------------------------------

req GET "/api/v1/people/$AN?as_of=2023-12-31"
check_eq "as_of before the change: the old name" "200 Nguyễn Văn An" \
    "$status $(jv 'd["record"]["full_name"]')"
req GET "/api/v1/people/$AN?as_of=2024-06-01"
check_eq "as_of the day of the change: the new name" "200 Nguyễn Văn Ân" \
    "$status $(jv 'd["record"]["full_name"]')"
req GET "/api/v1/people/$AN?as_of=2019-12-31"
check_eq "as_of before registration: 404" 404 "$status"
req GET "/api/v1/people/$AN?as_of=2024-13-01"
check_eq "as_of not a date: 400 naming as_of" "400 as_of" "$status $(jv 'd["error"]["field"]')"

# --- history -----------------------------------------------------------------

req GET "/api/v1/people/$AN/history"
check_eq "history: 200, two events" "200 2" "$status $(jv 'len(d["events"])')"
check_eq "history: types in order" "person.registered person.changed" \
    "$(jv '" ".join(e["type"] for e in d["events"])')"
check_eq "history: causes" "HS-0001 QD-77/2024" "$(jv '" ".join(e["cause"] for e in d["events"])')"
check_eq "history: actor is the account" "officer01 officer01" \
    "$(jv '" ".join(e["actor"] for e in d["events"])')"
check_eq "history: versions and effective days" "1@2020-01-01 2@2024-06-01" \
    "$(jv '" ".join("%d@%s" % (e["version"], e["effective"]) for e in d["events"])')"
req GET "/api/v1/residences/$AN/permanent/history"
check_eq "residence history: one event" "200 1" "$status $(jv 'len(d["events"])')"

# --- lists by unit, with paging ----------------------------------------------

for p in "$BINH Trần Thị Bình 1990-05-06 female 00070" "$CUONG Nguyen Van Cuong 2001-02-03 male 00070" \
    "$DUNG Phạm Văn Dũng 1992-07-08 male 00004"; do
    set -- $p
    id=$1 name="$2 $3 $4" birth=$5 sex=$6 unit=$7
    send POST "/api/v1/people" "$(person "$id" "$name" "$birth" "$sex")"
    check_eq "register $name" 201 "$status"
    send POST "/api/v1/residences" "$(residence "$id" "$unit")"
    check_eq "residence of $name in $unit" 201 "$status"
done

req GET "/api/v1/people?unit=00070&limit=2"
check_eq "list commune 00070 page 1: two people, in key order" "$AN $BINH" \
    "$(jv '" ".join(p["id"] for p in d["items"])')"
next=$(jv 'd["next"]')
check_eq "list page 1: next is the last key" "$BINH" "$next"
req GET "/api/v1/people?unit=00070&limit=2&after=$next"
check_eq "list commune 00070 page 2: the third, no next" "$CUONG null" \
    "$(jv '" ".join(p["id"] for p in d["items"])') $(jv 'd["next"]')"
req GET "/api/v1/people?unit=00004"
check_eq "list commune 00004: its one person" "$DUNG" "$(jv '" ".join(p["id"] for p in d["items"])')"
req GET "/api/v1/people?unit=01&limit=3"
check_eq "list province 01 page 1: three of four" "$AN $DUNG $BINH" \
    "$(jv '" ".join(p["id"] for p in d["items"])')"
req GET "/api/v1/people?unit=01&limit=3&after=$(jv 'd["next"]')"
check_eq "list province 01 page 2: the fourth" "$CUONG null" \
    "$(jv '" ".join(p["id"] for p in d["items"])') $(jv 'd["next"]')"
req GET "/api/v1/residences?unit=00070"
check_eq "list residences of 00070" 3 "$(jv 'len(d["items"])')"
req GET "/api/v1/people"
check_eq "list without a unit: 400 naming unit" "400 unit" "$status $(jv 'd["error"]["field"]')"
req GET "/api/v1/people?unit=00070&limit=0"
check_eq "list with limit 0: 400 naming limit" "400 limit" "$status $(jv 'd["error"]["field"]')"
req GET "/api/v1/people?unit=99999"
check_eq "list of a unit that never existed: 404" 404 "$status"

# --- search ------------------------------------------------------------------

req GET "/api/v1/people/search?name=nguyen%20van"
check_eq "search without diacritics finds both Nguyễn Văn" "$CUONG $AN" \
    "$(jv '" ".join(sorted((p["id"] for p in d["results"]), reverse=True))')"
req GET "/api/v1/people/search?name=Nguy%E1%BB%85n%20V%C4%83n%20%C3%82n"
check_eq "search with diacritics: the exact name" "$AN" "$(jv '" ".join(p["id"] for p in d["results"])')"
req GET "/api/v1/people/search?name=TRAN%20THI%20BINH"
check_eq "search in capitals without diacritics" "$BINH" \
    "$(jv '" ".join(p["id"] for p in d["results"])')"
req GET "/api/v1/people/search?name=nguyen%20van&birth_year=2001"
check_eq "search with a birth year" "$CUONG" "$(jv '" ".join(p["id"] for p in d["results"])')"
req GET "/api/v1/people/search?name=nguyen%20van&unit=00004"
check_eq "search within a commune nobody of that name lives in" 0 "$(jv 'len(d["results"])')"
req GET "/api/v1/people/search?name=nguyen%20va"
check_eq "search for a cut word finds nobody" 0 "$(jv 'len(d["results"])')"
req GET "/api/v1/people/search"
check_eq "search without a name: 400 naming name" "400 name" "$status $(jv 'd["error"]["field"]')"
req GET "/api/v1/people/search?name=an&birth_year=1800"
check_eq "search with a bad birth year: 400" "400 birth_year" "$status $(jv 'd["error"]["field"]')"

# --- bad input leaves the store as it was -----------------------------------

NEW=001095000123
HEAD=$(log_head)
check_eq "the log head is read while serving" true "$([ "${HEAD:-0}" -gt 8 ] && echo true)"

send POST /api/v1/people '{"id":"001095000123","full_name":'
refused "malformed JSON" 400 ""
check_contains "malformed JSON: the detail says where" "line" "$(jv 'd["error"].get("detail", "")')"
send POST /api/v1/people "$(person $NEW 'Hồ Văn Mới' 1995-01-01 male ',"nickname":"x"')"
refused "an unknown field" 400 nickname
send POST /api/v1/people '{"id":"001095000123","full_name":"Hồ Văn Mới","birth_date":19950101,"sex":"male","ethnicity":"01","nationality":"VN","status":"alive"}'
refused "a number for a date" 400 birth_date
send POST /api/v1/people "$(person 001195000123 'Hồ Văn Mới' 1995-01-01 male)"
refused "an ID that says female for a man" 400 id
send POST /api/v1/people "$(person 999095000123 'Hồ Văn Mới' 1995-01-01 male)"
refused "an ID with no province" 400 id
send POST /api/v1/people "$(person 001395000123 'Hồ Văn Mới' 2095-01-01 female)"
refused "a birth date in the future" 400 birth_date
send POST /api/v1/people '[1, 2]'
refused "a body that is not an object" 400 ""
send POST "/api/v1/people?effective=2020-02-30" "$(person $NEW 'Hồ Văn Mới' 1995-01-01 male)"
refused "a malformed effective date" 400 effective

send POST "/api/v1/people" "$(person $NEW 'Hồ Văn Mới' 1995-01-01 male)"
check_eq "the same person, well formed: 201" 201 "$status"
HEAD=$(log_head)
send POST "/api/v1/residences" "$(residence $NEW 00001)"
refused "a residence in a commune that ended in 2025" 400 unit
send POST "/api/v1/residences" "$(residence 001095000999 00070)"
refused "a residence of a person not registered" 400 person_id
send POST "/api/v1/residences?effective=2020-01-01" "$(residence $NEW 00001)"
check_eq "the same commune on a day it existed: 201" 201 "$status"

HEAD=$(log_head)
python3 -c 'import sys; sys.stdout.write("{\"id\":\"" + "1" * (2 * 1024 * 1024) + "\"}")' >"$TMP/big.json"
req POST /api/v1/people -H 'Content-Type: application/json' --data-binary "@$TMP/big.json"
refused "a body over the cap" 413 ""
check_eq "oversized: code too_large" too_large "$(jv 'd["error"]["code"]')"
req POST "/api/v1/people?cause=$(printf 'c%.0s' $(seq 1 120))" -H 'Content-Type: application/json' \
    --data-binary "$(person 001095000124 'Hồ Văn Hai' 1995-01-01 male)"
refused "a cause over the limit" 400 cause

# --- the store's counters ------------------------------------------------------

AUTH=$ADMIN req GET /metrics
check_eq "metrics: 200 text" 200 "$status"
check_contains "metrics: commits counter" "lienthong_store_commits_total" "$(cat "$TMP/body")"

# Concurrent writers: every one written once, in at most as many commits.
before_w=$(grep '^lienthong_store_writes_total' "$TMP/body" | cut -d' ' -f2)
before_c=$(grep '^lienthong_store_commits_total' "$TMP/body" | cut -d' ' -f2)
for i in $(seq 10 41); do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $TOKEN" \
        --data-binary "$(person "0010960000$i" "Người Thứ $i" 1996-01-01 male)" \
        "$BASE/api/v1/people" >>"$TMP/codes" &
    writers="${writers:-} $!"
done
wait $writers
check_eq "32 concurrent POSTs: all 201" 32 "$(grep -c '^201$' "$TMP/codes")"
AUTH=$ADMIN req GET /metrics
writes=$(($(grep '^lienthong_store_writes_total' "$TMP/body" | cut -d' ' -f2) - before_w))
commits=$(($(grep '^lienthong_store_commits_total' "$TMP/body" | cut -d' ' -f2) - before_c))
# (the audit trail's flusher may write in the same moments: at least 32 writes)
check_eq "32 concurrent POSTs: at least 32 writes, in no more commits than writes" true \
    "$([ "$writes" -ge 32 ] && [ "$commits" -ge 1 ] && [ "$commits" -le "$writes" ] && echo true)"
req GET "/api/v1/people/search?name=nguoi%20thu"
check_eq "the 32 people can be found" 32 "$(jv 'len(d["results"])')"

check "the log verifies after all this" "$LT" log --data "$DATA" --verify

done_testing
