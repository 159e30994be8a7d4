#!/usr/bin/env bash
# test_oss_http.sh - the one-stop shop of "lienthong serve --data" over real
# sockets, as served before accounts exist (no guard: every caller is
# anonymous): the catalogue in force on a day and one procedure in full,
# the public look-up as JSON and as an HTML page that needs no JavaScript,
# and every other one-stop shop endpoint answering 401 with nothing written.

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$TMP/node"

# req METHOD PATH [curl args...]: sets $status; body in $TMP/body, headers in $TMP/headers.
req() {
    local method=$1 path=$2
    shift 2
    rm -f "$TMP/body"
    status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" "$@" \
        "$BASE$path")
}

jv() { # jv EXPR: a Python expression over the last JSON body (bound to d)
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

header() { # header NAME: a response header of the last request
    grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

log_head() {
    "$LT" log --data "$DATA" --verify 2>&1 | sed -n 's/.*up to position \([0-9]*\).*/\1/p'
}

check "init a node for Hà Nội (01)" "$LT" init --data "$DATA" --unit 01
start_server "$PORT" --data "$DATA" || {
    done_testing
    exit 1
}
HEAD=$(log_head)

req GET "/api/v1/procedures?date=2025-07-01"
check_eq "procedures: 200" 200 "$status"
check_eq "procedures: sixteen in force on 2025-07-01" 16 "$(jv 'len(d["procedures"])')"
check_eq "procedures: two composites" 2 "$(jv 'sum(1 for p in d["procedures"] if p["composite"])')"
req GET "/api/v1/procedures?date=2024-01-01"
check_eq "procedures before the reform: the old household business only" \
    '["household_business"]' "$(jv '[p["code"] for p in d["procedures"]]')"
req GET "/api/v1/procedures/birth_residence_health_insurance?date=2026-01-01"
check_eq "composite: 200" 200 "$status"
check_eq "composite: three steps" '["birth", "residence", "health_insurance"]' \
    "$(jv '[s["code"] for s in d["steps"]]')"
check_eq "composite: 3 working days" 3 "$(jv 'd["time_limit"]["working_days"]')"
req GET "/api/v1/procedures/birth_registration?date=not-a-day"
check_eq "a malformed date: 400" 400 "$status"
check_eq "a malformed date: names the field" date "$(jv 'd["error"]["field"]')"

req GET "/api/v1/public/dossiers/K7M-4QX-9PD"
check_eq "public look-up of an unknown code: 404" 404 "$status"
req GET "/api/v1/public/dossiers/K7M-4QX-9PA"
check_eq "public look-up of a mistyped code: 400" 400 "$status"
req GET "/lookup?code=K7M-4QX-9PD"
check_eq "lookup page of an unknown code: 404" 404 "$status"
check_eq "lookup page: HTML" "text/html; charset=utf-8" "$(header Content-Type)"
check_contains "lookup page: the form works without JavaScript" \
    '<form method="get" action="/lookup">' "$(cat "$TMP/body")"
check_contains "lookup page: says it was not found" "Không tìm thấy hồ sơ" "$(cat "$TMP/body")"

for r in "GET /api/v1/dossiers" "GET /api/v1/dossiers/K7M-4QX-9PD" "GET /api/v1/indicators" \
    "POST /api/v1/dossiers" "POST /api/v1/dossiers/K7M-4QX-9PD/actions"; do
    req ${r% *} "${r#* }" -H 'Content-Type: application/json' --data-binary '{"action":"review"}'
    check_eq "anonymous $r: 401" 401 "$status"
done
check_eq "nothing was written" "$HEAD" "$(log_head)"

# Signed in: what the routes do not take is refused, naming it, and writes nothing.
CLERK=$(account_token "$DATA" clerk01 clerk 01)
OFFICER=$(account_token "$DATA" officer01 officer 01)
HEAD=$(log_head)
AUTH=(-H "Authorization: Bearer $CLERK" -H 'X-Purpose: oss test' -H 'Content-Type: application/json')
req GET "/api/v1/dossiers?unit=01&bogus=1" "${AUTH[@]}"
check_eq "an unknown query parameter on the queue: 400 naming it" \
    '400 unknown query parameter "bogus"' "$status $(jv 'd["error"]["message"]')"
for path in "/api/v1/dossiers/K7M-4QX-9PD?x=1" "/api/v1/procedures?day=2026-01-01" \
    "/api/v1/reference?all=1"; do
    req GET "$path" "${AUTH[@]}"
    check_eq "GET $path: 400" 400 "$status"
done
req GET "/api/v1/indicators?unit=01&fro=2026-01-01" -H "Authorization: Bearer $OFFICER" \
    -H 'X-Purpose: oss test'
check_eq "indicators with a misspelt parameter: 400" 400 "$status"
req GET "/api/v1/indicators" -H "Authorization: Bearer $OFFICER" -H 'X-Purpose: oss test'
check_eq "indicators without unit: the account's own (01), not the nation's" "200 01" \
    "$status $(jv 'd["unit"]')"
req GET "/api/v1/indicators?unit=VN" -H "Authorization: Bearer $OFFICER" -H 'X-Purpose: oss test'
check_eq "and the nation's, asked by name, is refused" 403 "$status"
RECEIPT='"applicant":{"kind":"person","id":"001085000001"},"channel":"counter","fields":{}'
req POST /api/v1/dossiers "${AUTH[@]}" --data-binary "{\"procedure\":\"birth_registration\",$RECEIPT,\"urgent\":true}"
check_eq "a receipt with an unknown member: 400 naming it" "400 urgent" \
    "$status $(jv 'd["error"]["field"]')"
req POST /api/v1/dossiers "${AUTH[@]}" --data-binary \
    '{"procedure":"birth_registration","applicant":{"kind":"person","id":"001085000001","age":3}}'
check_eq "an applicant with an unknown member: 400 naming it" "400 applicant.age" \
    "$status $(jv 'd["error"]["field"]')"
req POST /api/v1/dossiers "${AUTH[@]}" --data-binary "{$RECEIPT}"
check_eq "a receipt without a procedure: 400, not 404" "400 procedure" \
    "$status $(jv 'd["error"]["field"]')"
check_contains "and it says the procedure is required" "procedure is required" \
    "$(jv 'd["error"]["message"]')"
req POST /api/v1/dossiers/K7M-4QX-9PD/actions "${AUTH[@]}" --data-binary '{"action":"review","why":1}'
check_eq "an action with an unknown member: 400 naming it" "400 why" \
    "$status $(jv 'd["error"]["field"]')"
req POST "/api/v1/dossiers?fast=1" "${AUTH[@]}" --data-binary "{\"procedure\":\"birth_registration\",$RECEIPT}"
check_eq "a receipt with a query parameter: 400" 400 "$status"
check_eq "none of it was written" "$HEAD" "$(log_head)"

done_testing
