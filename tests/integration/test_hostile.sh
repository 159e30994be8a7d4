#!/usr/bin/env bash
# test_hostile.sh - a hostile client against "lienthong serve --data": SQL
# injection attempts through every search and list parameter of the
# registry and units APIs, oversized bodies, JSON nested too deep,
# over-long strings, over-large page sizes and unknown query parameters.
# Each answer is a 4xx with the JSON error body, or a correct empty or
# normal result; none changes a registry (the registry events of the log
# are counted before and after: reads add only audit events); and the
# audit trail records the reads, exported with "lienthong audit export".

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$TMP/node"

# req PATH [curl args...]: sets $status; body in $TMP/body.  As the
# officer (or the account whose token is in $AUTH), with a purpose unless one is given.
req() {
    local path=$1
    shift
    local purpose=(-H 'X-Purpose: kiểm thử')
    case "$*" in *X-Purpose*) purpose=() ;; esac
    status=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer ${AUTH:-$TOKEN}" \
        "${purpose[@]}" "$@" "$BASE$path")
}

jv() {
    python3 - "$TMP/body" "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
    v = eval(sys.argv[2])
except Exception as e:
    v = "<%s: %s>" % (type(e).__name__, e)
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
PY
}

# registry_events: events of the log other than audit records.
registry_events() {
    "$LT" log --data "$DATA" | grep -vc '"type":"audit.read"'
}

# ok_or_refused WHAT: the last answer is 200 or a 4xx with the JSON error body.
ok_or_refused() {
    case "$status" in
    200) _report 0 "$1: 200" ;;
    4??) check_eq "$1: $status with an error code" "true" "$(jv 'bool(d["error"]["code"])')" ;;
    *) _report 1 "$1: unexpected status $status" ;;
    esac
}

check "init a node for Hà Nội (01)" "$LT" init --data "$DATA" --unit 01
check "generate demo data" "$LT" gen --units 00004 --people 40 --out "$TMP/demo"
for k in people households residences parcels benefits businesses; do
    "$LT" import --data "$DATA" "$TMP/demo/$k.ndjson" >/dev/null 2>&1
done
TOKEN=$(account_token "$DATA" officer01 officer 01)
CLERK=$(account_token "$DATA" clerk01 clerk 01)
AUDITOR=$(account_token "$DATA" auditor01 auditor 01)
start_server "$PORT" --data "$DATA" || {
    done_testing
    exit 1
}
BEFORE=$(registry_events)
check_eq "the registries hold the demo data" "true" "$([ "$BEFORE" -gt 40 ] && echo true)"
PERSON=$(head -n 1 "$TMP/demo/people.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# --- SQL injection through every search and list parameter --------------------

LONG=$(head -c 5000 /dev/zero | tr '\0' 'a')
PAYLOADS=("'" "' OR 1=1 --" "\" OR \"\"=\"" "%" "_" "%25" "a%00b" "1; DROP TABLE reg_people; --"
    "00004' UNION SELECT record FROM reg_people --" "$LONG")
n=0
for p in "${PAYLOADS[@]}"; do
    n=$((n + 1))
    for q in "people?unit=" "people?unit=00004&after=" "people?unit=00004&limit=" \
        "people/search?name=" "people/search?name=an&unit=" "people/search?name=an&birth_year=" \
        "parcels?unit=" "businesses?unit=00004&after=" "residences?unit=00004&after=" \
        "units?q=" "units?q=ha&date=" "units?q=ha&limit=" "units/"; do
        # the payload, percent-encoded, is the value of the last parameter
        enc=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$p")
        req "/api/v1/$q$enc"
        ok_or_refused "payload $n in /api/v1/$q"
        case "$q" in
        people/search\?name=)
            # a name search for a payload finds nobody (no name is made of these)
            if [ "$status" = 200 ]; then
                check_eq "payload $n as a name finds nobody" 0 "$(jv 'len(d["results"])')"
            fi
            ;;
        esac
    done
done
# a NUL byte, sent encoded, in each parameter
for q in "people?unit=00004%00" "people?unit=00004&after=a%00b" "people/search?name=an%00' OR 1=1" \
    "parcels?unit=0%0000004" "units?q=ha%00" "units/00004%00"; do
    req "/api/v1/$(printf '%s' "$q" | sed "s/ /%20/g; s/'/%27/g")"
    ok_or_refused "NUL in /api/v1/$q"
done
req "/api/v1/people/search?name=an%00x"
check_eq "a name with a NUL finds nobody or is refused" "true" \
    "$([ "$status" = 400 ] || [ "$(jv 'len(d["results"])')" = 0 ] && echo true)"
check_eq "injection attempts changed no registry" "$BEFORE" "$(registry_events)"
req "/api/v1/people/$PERSON"
check_eq "the people table is still there" 200 "$status"

# --- limits ------------------------------------------------------------------

req "/api/v1/people?unit=00004&limit=501"
check_eq "limit over the maximum: 400" 400 "$status"
check_contains "limit over the maximum: says the range" "from 1 to 500" "$(jv 'd["error"]["message"]')"
req "/api/v1/people?unit=00004&limit=0"
check_eq "limit 0: 400" 400 "$status"
req "/api/v1/people/search?name=an&limit=100000"
check_eq "search limit over the maximum: 400" 400 "$status"
req "/api/v1/units?q=ha&limit=100000"
check_eq "units search limit over the maximum: 400" 400 "$status"
req "/api/v1/people?unit=00004&nmae=x"
check_eq "unknown query parameter: 400" 400 "$status"
check_eq "unknown query parameter: named" "nmae" "$(jv 'd["error"]["field"]')"
req "/api/v1/people/$PERSON?verbose=1"
check_eq "unknown parameter on a point read: 400" 400 "$status"
req "/api/v1/people/search?name=an&unti=00004"
check_eq "unknown parameter on a search: 400 naming it" "400 unti" "$status $(jv 'd["error"]["field"]')"

BIG=$(python3 -c 'print("{\"id\":\"" + "1"*2000000 + "\"}")')
printf '%s' "$BIG" >"$TMP/big.json"
req "/api/v1/people" -X POST -H 'Content-Type: application/json' --data-binary @"$TMP/big.json"
check_eq "a body over 1 MiB: 413" 413 "$status"
DEEP=$(python3 -c 'print("{\"id\":" + "["*100 + "]"*100 + "}")')
req "/api/v1/people" -X POST -H 'Content-Type: application/json' --data-binary "$DEEP"
check_eq "JSON nested 100 deep: 400" 400 "$status"
check_contains "JSON nested too deep: says so" "deep" "$(jv 'd["error"]["message"]')"
LONGNAME=$(python3 -c 'print("Nguyễn " * 40)')
req "/api/v1/people" -X POST -H 'Content-Type: application/json' --data-binary \
    "{\"id\":\"001085012399\",\"full_name\":\"$LONGNAME\",\"birth_date\":\"1985-01-01\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}"
check_eq "an over-long name: 400 naming full_name" "400 full_name" "$status $(jv 'd["error"]["field"]')"
req "/api/v1/people" -X POST -H 'Content-Type: application/json' --data-binary \
    "{\"id\":\"001085012399' OR 1=1 --\",\"full_name\":\"x\",\"birth_date\":\"1985-01-01\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}"
check_eq "an injected ID in a body: 400 naming id" "400 id" "$status $(jv 'd["error"]["field"]')"
check_eq "refused writes changed no registry" "$BEFORE" "$(registry_events)"

# --- the purpose header and the audit trail -----------------------------------

req "/api/v1/people/$PERSON" -H 'X-Purpose: HS-2025-000777'
check_eq "a read with a purpose: 200" 200 "$status"
req "/api/v1/people/$PERSON" -H "X-Purpose: $LONG"
check_eq "an over-long purpose: 400 naming X-Purpose" "400 X-Purpose" "$status $(jv 'd["error"]["field"]')"
AUTH=$CLERK req "/api/v1/people/$PERSON" -H 'X-Purpose: law-enforcement:C-1' \
    -H 'X-Sealed-Until: 2030-01-01'
check_eq "a seal by a clerk: 403" 403 "$status"
# Events are written every 150 ms, the access log brought up to them every 5 s.
for _ in $(seq 1 100); do
    AUTH=$AUDITOR req "/api/v1/audit?subject_kind=person&subject=$PERSON"
    grep -q 'HS-2025-000777' "$TMP/body" && break
    sleep 0.1
done
check_contains "the read is in the audit trail with its purpose" "HS-2025-000777" "$(cat "$TMP/body")"
check "the audit trail exports" "$LT" audit export --data "$DATA" --output "$TMP/audit.ndjson"
check_contains "the export holds the read and its client" '"client":"127.0.0.1","purpose":"HS-2025-000777"' \
    "$(cat "$TMP/audit.ndjson")"
check_eq "every export line is JSON" "0" \
    "$(python3 -c 'import json,sys; bad=0
for l in open(sys.argv[1]): 
    try: json.loads(l)
    except Exception: bad+=1
print(bad)' "$TMP/audit.ndjson")"
check "the log's chains are intact" "$LT" log --data "$DATA" --verify
check_contains "/metrics counts the accesses written" "lienthong_audit_written_total " \
    "$(curl -s -H "Authorization: Bearer $AUDITOR" "$BASE/metrics")"

done_testing
