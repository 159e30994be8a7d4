#!/usr/bin/env bash
# test_http.sh - "lienthong serve" over real sockets: every units and
# address endpoint with the shipped data, the framework's refusals (404,
# 405, 413 with Content-Length and chunked, malformed and deep JSON), a
# slow client that must not block others, the listen forms, the port-taken
# exit and a clean stop on SIGINT/SIGTERM.
#
# Bodies are checked field by field with python3 (as lib.sh already needs).

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
API="$BASE/api/v1"

# req METHOD PATH [curl args...]: sets $status; the body is in $TMP/body and
# the response headers in $TMP/headers.
req() {
    local method=$1 path=$2
    shift 2
    status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" "$@" \
        "$BASE$path")
}

# post_json PATH JSON: POST a JSON body.
post_json() {
    req POST "$1" -H 'Content-Type: application/json' --data-binary "$2"
}

# jv EXPR: a Python expression over the last body (bound to d); strings
# print bare, everything else as JSON.
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

header() { # header NAME: the value of a response header of the last request
    grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

# A body of n bytes of JSON whitespace around nothing is never built: the
# cap must refuse it first.
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TMP/big"

start_server "$PORT" --trace http || {
    done_testing
    exit 1
}
for _ in $(seq 1 20); do # logged just after the server starts answering
    grep -q 'listening on' "$TMP/server.log" && break
    sleep 0.1
done
cp "$TMP/server.log" "$TMP/server-start.log"
main_server=${_pids##* }

# --- the process ---------------------------------------------------------

check_contains "serve prints the URL it listens on" "NOTICE serve: listening on $BASE" \
    "$(cat "$TMP/server-start.log")"

# --- /healthz ------------------------------------------------------------

req GET /healthz
check_eq "healthz: 200" 200 "$status"
check_eq "healthz: status ok" ok "$(jv 'd["status"]')"
check_eq "healthz: the register is loaded" true "$(jv 'd["units"] > 14000')"
check_eq "healthz: version matches lienthong --version" "lienthong $(jv 'd["version"]')" \
    "$("$LT" --version)"
check_eq "JSON content type" "application/json; charset=utf-8" "$(header Content-Type)"
check_eq "nosniff header" nosniff "$(header X-Content-Type-Options)"
check_eq "no-store header" no-store "$(header Cache-Control)"

status=$(curl -s -I -o "$TMP/headers" -w '%{http_code}' "$BASE/healthz")
check_eq "HEAD /healthz: 200" 200 "$status"
check_eq "HEAD /healthz: Content-Length of the GET body" \
    "$(curl -s "$BASE/healthz" | wc -c | tr -d ' ')" "$(header Content-Length)"

# --- /api/v1/units/{code} -------------------------------------------------

req GET /api/v1/units/00004
check_eq "unit 00004 today: 200" 200 "$status"
check_eq "unit 00004 today is Phường Ba Đình" "Phường Ba Đình" "$(jv 'd["name"]')"
check_eq "unit 00004 today lies in province 01" 01 "$(jv 'd["parent"]["code"]')"
check_eq "unit 00004 today is in force" null "$(jv 'd["valid_to"]')"

req GET '/api/v1/units/00004?date=2025-06-30'
check_eq "unit 00004 on 2025-06-30 is Phường Trúc Bạch" "Phường Trúc Bạch" "$(jv 'd["name"]')"
check_eq "unit 00004 on 2025-06-30 lies in district 001" 001 "$(jv 'd["parent"]["code"]')"

req GET '/api/v1/units/00004?date=2025-13-01'
check_eq "bad date: 400" 400 "$status"
check_eq "bad date: invalid_input" invalid_input "$(jv 'd["error"]["code"]')"
check_eq "bad date: names the field" date "$(jv 'd["error"]["field"]')"
check_contains "bad date: message quotes it" '"2025-13-01"' "$(jv 'd["error"]["message"]')"

req GET '/api/v1/units/00004?date=yesterday'
check_eq "malformed date: 400" 400 "$status"
check_contains "malformed date: hint shows the form" "YYYY-MM-DD" "$(jv 'd["error"]["hint"]')"

req GET /api/v1/units/99999
check_eq "unknown code: 404" 404 "$status"
check_eq "unknown code: not_found" not_found "$(jv 'd["error"]["code"]')"
check_contains "unknown code: hint points to search" "/api/v1/units?q=" \
    "$(jv 'd["error"]["hint"]')"

req GET '/api/v1/units/001?date=2026-01-01'
check_eq "code not in force on the date: 404" 404 "$status"
check_contains "code not in force: hint lists when it was" "until 2025-06-30" \
    "$(jv 'd["error"]["hint"]')"
check_contains "code not in force: detail names the old unit" "Quận Ba Đình" \
    "$(jv 'd["error"]["detail"]')"

req GET '/api/v1/units/ab%21'
check_eq "malformed code: 400" 400 "$status"
check_eq "malformed code: names the field" code "$(jv 'd["error"]["field"]')"

# --- hierarchy -----------------------------------------------------------

req GET /api/v1/units/01/children
check_eq "children of 01: 200" 200 "$status"
check_eq "children of 01 include 00004 Phường Ba Đình" "Phường Ba Đình" \
    "$(jv '[c["name"] for c in d["children"] if c["code"] == "00004"][0]')"
check_eq "children of 01 today are all in force" true \
    "$(jv 'len(d["children"]) > 50 and all(c["valid_to"] is None for c in d["children"])')"
"$LT" units children 01 --json >"$TMP/cli.json" 2>/dev/null
check_eq "children of 01 equal the CLI's JSON" true \
    "$(jv 'd == json.load(open("'"$TMP/cli.json"'"))')"
"$LT" units search " " >"$TMP/out" 2>"$TMP/err"
check_eq "units search of nothing: a usage error" 2 "$?"
check_contains "saying so" "the search text is empty" "$(cat "$TMP/err")"

req GET /api/v1/units/VN/children
check_eq "children of VN today: the 34 provinces" 34 "$(jv 'len(d["children"])')"
req GET '/api/v1/units/VN/children?date=any'
check_eq "children of VN, date=any: 63 old and 34 new provinces" 97 "$(jv 'len(d["children"])')"
req GET '/api/v1/units/VN/children?date=someday'
check_eq "children with a bad date: 400" 400 "$status"
check_contains "children: the hint offers any" '"any"' "$(jv 'd["error"]["hint"]')"

req GET '/api/v1/units/00004/parents?date=2025-06-30'
check_eq "parents of old 00004: district, province, nation" '["001", "01", "VN"]' \
    "$(jv '[p["code"] for p in d["parents"]]')"
req GET /api/v1/units/00004/parents
check_eq "parents of new 00004: province, nation" '["01", "VN"]' \
    "$(jv '[p["code"] for p in d["parents"]]')"

# --- lineage -------------------------------------------------------------

req GET /api/v1/units/00001/successors
check_eq "successors of 00001: 200" 200 "$status"
check_eq "successors of 00001 read the old unit by default" 2025-06-30 \
    "$(jv 'd["unit"]["valid_to"]')"
check_eq "successors of old 00001 are 00097" '["00097"]' \
    "$(jv '[s["code"] for s in d["successors"]]')"
check_eq "successor links carry kind and depth" '["full", 1]' \
    "$(jv '[d["successors"][0]["kind"], d["successors"][0]["depth"]]')"

req GET /api/v1/units/00004/predecessors
check_eq "predecessors of new 00004 include old 00004 Phường Trúc Bạch" "Phường Trúc Bạch" \
    "$(jv '[p["name"] for p in d["predecessors"] if p["code"] == "00004"][0]')"
check_eq "predecessors of new 00004 are several old wards" true \
    "$(jv 'len(d["predecessors"]) > 3 and all(p["valid_to"] == "2025-06-30" for p in d["predecessors"])')"

req GET '/api/v1/units/00004/successors?date=2025-06-30'
check_eq "successors of old 00004 (Trúc Bạch) include new 00004" true \
    "$(jv 'any(s["code"] == "00004" and s["valid_to"] is None for s in d["successors"])')"

# --- search --------------------------------------------------------------

req GET '/api/v1/units?q=ba%20dinh'
check_eq "search ba dinh: 200" 200 "$status"
check_eq "search ba dinh: echoes the query" "ba dinh" "$(jv 'd["query"]')"
check_eq "search ba dinh finds Phường Ba Đình" true \
    "$(jv 'any(r["name"] == "Phường Ba Đình" for r in d["results"])')"
check_eq "search ba dinh: total counts every match" true \
    "$(jv 'd["total"] >= len(d["results"]) > 1')"

req GET '/api/v1/units?q=P.%20Ba%20%C4%90%C3%ACnh'
check_eq "search \"P. Ba Đình\" puts the ward first" "ward Phường Ba Đình" \
    "$(jv 'd["results"][0]["type"] + " " + d["results"][0]["name"]')"

req GET '/api/v1/units?q=ba%20dinh&limit=1'
check_eq "search limit=1 gives one result" 1 "$(jv 'len(d["results"])')"

req GET '/api/v1/units?q=ba%20dinh&date=2025-06-30'
check_eq "search on 2025-06-30 finds only units in force then" true \
    "$(jv 'len(d["results"]) > 0 and all(r["valid_to"] == "2025-06-30" for r in d["results"])')"

req GET /api/v1/units
check_eq "search without q: 400" 400 "$status"
check_eq "search without q: names q" q "$(jv 'd["error"]["field"]')"
for bad in 0 201 abc 5x -1; do
    req GET "/api/v1/units?q=ha&limit=$bad"
    check_eq "search limit=$bad: 400 naming limit" "400 limit" "$status $(jv 'd["error"]["field"]')"
done
req GET '/api/v1/units?q=%FF%FE'
check_eq "search with bytes that are not UTF-8: 400" "400 q" "$status $(jv 'd["error"]["field"]')"

# --- framework refusals --------------------------------------------------

req GET /api/v2/nothing
check_eq "unknown path: 404 JSON" "404 not_found" "$status $(jv 'd["error"]["code"]')"

req POST /healthz --data-binary '{}'
check_eq "wrong method: 405" 405 "$status"
check_eq "wrong method: Allow header" "GET, HEAD" "$(header Allow)"
check_eq "wrong method: JSON error" invalid_input "$(jv 'd["error"]["code"]')"

req GET /api/v1/addresses/convert
check_eq "GET on a POST route: 405 with Allow POST" "405 POST" "$status $(header Allow)"

# --- address conversion --------------------------------------------------

CONV=/api/v1/addresses/convert

post_json $CONV '{"address": "Phường Trúc Bạch, Quận Ba Đình, Hà Nội"}'
check_eq "convert one: 200" 200 "$status"
check_eq "convert one: Trúc Bạch is converted" converted "$(jv 'd["status"]')"
check_eq "convert one: into new 00004 in 01" "00004 01" \
    "$(jv 'd["new"]["commune"]["code"] + " " + d["new"]["province"]["code"]')"
check_eq "convert one: echoes the input" "Phường Trúc Bạch, Quận Ba Đình, Hà Nội" \
    "$(jv 'd["input"]')"

post_json $CONV '{"addresses": ["Phường Trúc Bạch, Quận Ba Đình, Hà Nội", "", 42, "a\u0001b", "Phường Ba Đình, Thành phố Hà Nội"]}'
check_eq "convert batch: 200" 200 "$status"
check_eq "convert batch: one result per item, in order" 5 "$(jv 'len(d["results"])')"
check_eq "convert batch: the good item is converted" converted "$(jv 'd["results"][0]["status"]')"
check_eq "convert batch: empty item is an error in its place" "error invalid_input" \
    "$(jv 'd["results"][1]["status"] + " " + d["results"][1]["error"]["code"]')"
check_eq "convert batch: a number is an error that keeps the input" "error 42" \
    "$(jv 'd["results"][2]["status"] + " " + str(d["results"][2]["input"])')"
check_eq "convert batch: control characters are an error" error "$(jv 'd["results"][3]["status"]')"
check_eq "convert batch: today's name is unchanged" unchanged "$(jv 'd["results"][4]["status"]')"
check_eq "convert batch: counts" '{"converted": 1, "unchanged": 1, "ambiguous": 0, "not_found": 0, "error": 3}' \
    "$(jv 'd["counts"]')"

post_json $CONV '{"addresses": []}'
check_eq "convert an empty batch" '200 0' "$status $(jv 'len(d["results"])')"

post_json $CONV '{"address": "x", "adress": "y"}'
check_eq "unknown field: 400 naming it" "400 adress" "$status $(jv 'd["error"]["field"]')"

post_json $CONV '{"address": "x", "addresses": ["y"]}'
check_eq "both address and addresses: 400" 400 "$status"

post_json $CONV '{}'
check_eq "no address: 400 naming address" "400 address" "$status $(jv 'd["error"]["field"]')"

post_json $CONV '{"address": ["x"]}'
check_eq "address not a string: 400" "400 address" "$status $(jv 'd["error"]["field"]')"

post_json $CONV '{"address": ""}'
check_eq "empty single address: 400" "400 address" "$status $(jv 'd["error"]["field"]')"

python3 -c 'import json; print(json.dumps({"address": "x" * 5000}))' >"$TMP/long.json"
req POST $CONV --data-binary @"$TMP/long.json"
check_eq "address over 4096 bytes: 413" "413 too_large" "$status $(jv 'd["error"]["code"]')"

python3 -c 'import json; print(json.dumps({"addresses": ["a"] * 10001}))' >"$TMP/many.json"
req POST $CONV --data-binary @"$TMP/many.json"
check_eq "10,001 addresses: 413" 413 "$status"
check_contains "10,001 addresses: says the limit" "at most 10000" "$(jv 'd["error"]["message"]')"

post_json $CONV '{"address": "12 Lý Thường Kiệt",'
check_eq "malformed JSON: 400" 400 "$status"
check_eq "malformed JSON: message" "malformed JSON body" "$(jv 'd["error"]["message"]')"
check_contains "malformed JSON: detail gives the position" "line 1, column" \
    "$(jv 'd["error"]["detail"]')"

printf '{"address": "\xff\xfe"}' >"$TMP/bad-utf8.json"
req POST $CONV --data-binary @"$TMP/bad-utf8.json"
check_eq "invalid UTF-8 in the body: 400" 400 "$status"
check_contains "invalid UTF-8: detail names the byte" "0xff" "$(jv 'd["error"]["detail"]')"

post_json $CONV "$(python3 -c 'print("{\"address\": " + "[" * 40 + "]" * 40 + "}")')"
check_eq "JSON nested 41 deep: 400" 400 "$status"
check_contains "deep JSON: says the limit" "deeper than 32 levels" "$(jv 'd["error"]["message"]')"

post_json $CONV '[1, 2]'
check_eq "a JSON array body: 400" 400 "$status"

req POST $CONV
check_eq "no body: 400" 400 "$status"
check_eq "no body: says it is empty" "the request body is empty" "$(jv 'd["error"]["message"]')"

req POST $CONV -H 'Content-Type: application/json' --data-binary @"$TMP/big"
check_eq "2 MiB body with Content-Length: 413" 413 "$status"
check_eq "413 (Content-Length): JSON error" too_large "$(jv 'd["error"]["code"]')"
check_eq "413 (Content-Length): detail" "Content-Length is 2097152" "$(jv 'd["error"]["detail"]')"

req POST $CONV -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big"
check_eq "2 MiB chunked body: 413" 413 "$status"
check_eq "413 (chunked): detail" "more than 1048576 bytes arrived" \
    "$(jv 'd["error"]["detail"]')"

req GET /healthz
check_eq "still healthy after the refusals" 200 "$status"

# --- the access log ------------------------------------------------------

check_contains "access log: method path status bytes time client" \
    "DEBUG http: GET /api/v1/units/00004 200 " "$(cat "$TMP/server.log")"
check_contains "access log: refusals are logged too" "DEBUG http: POST /healthz 405 " \
    "$(cat "$TMP/server.log")"

# --- a slow client does not block others ---------------------------------

SLOW_PORT=$(free_port)
"$LT" serve --listen "127.0.0.1:$SLOW_PORT" --threads 1 >"$TMP/slow.log" 2>&1 &
slow_server=$!
_pids="$_pids $slow_server"
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$SLOW_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
python3 - "$SLOW_PORT" >"$TMP/slow-client.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # half a request, then nothing
print("connected", flush=True)
time.sleep(6)
EOF
slow_client=$!
_pids="$_pids $slow_client"
for _ in $(seq 1 50); do
    grep -q connected "$TMP/slow-client.out" 2>/dev/null && break
    sleep 0.1
done
start_ns=$(date +%s%N)
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$SLOW_PORT/healthz")
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
check_eq "one worker: a second client is served while one holds a slow connection" 200 "$status"
check_eq "one worker: ... promptly (${elapsed_ms} ms)" yes "$([ "$elapsed_ms" -lt 1000 ] && echo yes)"
kill "$slow_client" 2>/dev/null

# --- the command line ----------------------------------------------------
# These must exit at once; timeout keeps a regression from hanging the run.

timeout 10 "$LT" serve --listen "127.0.0.1:$PORT" >"$TMP/taken.out" 2>&1
check_eq "port taken: exit 1" 1 "$?"
check_contains "port taken: says why" "Address already in use" "$(cat "$TMP/taken.out")"

timeout 10 "$LT" serve --listen "localhost:8080" >"$TMP/bad.out" 2>&1
check_eq "non-numeric listen address: exit 2" 2 "$?"
timeout 10 "$LT" serve --threads 0 >"$TMP/bad.out" 2>&1
check_eq "--threads 0: exit 2" 2 "$?"
timeout 10 "$LT" serve --max-body 12Q >"$TMP/bad.out" 2>&1
check_eq "--max-body 12Q: exit 2" 2 "$?"
timeout 10 "$LT" serve --log-level loud >"$TMP/bad.out" 2>&1
check_eq "--log-level loud: exit 2" 2 "$?"
timeout 10 "$LT" serve --cache 100K >"$TMP/bad.out" 2>&1
check_eq "--cache 100K: exit 2" 2 "$?"
check_contains "--cache 100K: says the least it takes" "from 256K to 1G" "$(cat "$TMP/bad.out")"

# --max-body: a smaller cap is enforced
SMALL_PORT=$(free_port)
"$LT" serve --listen "127.0.0.1:$SMALL_PORT" --max-body 1K >"$TMP/small.log" 2>&1 &
small_server=$!
_pids="$_pids $small_server"
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$SMALL_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
python3 -c 'import json; print(json.dumps({"address": "x" * 2000}))' >"$TMP/2k.json"
status=$(curl -s -o "$TMP/body" -w '%{http_code}' --data-binary @"$TMP/2k.json" \
    "http://127.0.0.1:$SMALL_PORT$CONV")
check_eq "--max-body 1K: a 2 KB body gets 413" 413 "$status"
check_contains "--max-body 1K: the message says 1024" "larger than 1024 bytes" \
    "$(jv 'd["error"]["message"]')"

# --data: the node's registries join the units and address endpoints.
req GET '/api/v1/people?unit=00004'
check_eq "without --data the registries are not served" 404 "$status"
timeout 10 "$LT" serve --data "$TMP/no-such-node" --listen "127.0.0.1:$(free_port)" \
    >"$TMP/nonode.out" 2>&1
check_eq "--data without a node: exit 1" 1 "$?"
mkdir -p "$TMP/nodes"
"$LT" init --data "$TMP/nodes/ba-dinh" --unit 00004 >/dev/null 2>&1
TOKEN=$(account_token "$TMP/nodes/ba-dinh" clerk00004 clerk 00004)
NODE_PORT=$(free_port)
"$LT" serve --data "$TMP/nodes/ba-dinh" --listen "127.0.0.1:$NODE_PORT" >"$TMP/node.log" 2>&1 &
node_server=$!
_pids="$_pids $node_server"
status=000
for _ in $(seq 1 100); do
    status=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'X-Purpose: serve test' "http://127.0.0.1:$NODE_PORT/api/v1/people?unit=00004")
    [ "$status" = 200 ] && break
    sleep 0.1
done
check_eq "--data: the node's people are listed" '200 []' "$status $(jv 'd["items"]')"
status=$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$NODE_PORT/api/v1/units/00004")
check_eq "--data: units are still served" "200 Phường Ba Đình" "$status $(jv 'd["name"]')"
kill -TERM "$node_server"
wait "$node_server"
check_eq "--data: SIGTERM stops the node's server with exit 0" 0 "$?"
check_contains "a commune's node takes the small page cache" \
    "page cache: the writer's 2048 KiB, each reader's 256 KiB" "$(cat "$TMP/node.log")"

# SIGTERM and SIGINT stop cleanly with status 0.
kill -TERM "$small_server"
wait "$small_server"
check_eq "SIGTERM: exit 0" 0 "$?"
check_contains "SIGTERM: logged" "stopping on SIGTERM" "$(cat "$TMP/small.log")"
kill -INT "$slow_server"
wait "$slow_server"
check_eq "SIGINT: exit 0" 0 "$?"
check_contains "SIGINT: logged" "stopping on SIGINT" "$(cat "$TMP/slow.log")"

# IPv6 loopback, when the machine has one.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    V6_PORT=$(free_port)
    "$LT" serve --listen "[::1]:$V6_PORT" >"$TMP/v6.log" 2>&1 &
    v6_server=$!
    _pids="$_pids $v6_server"
    status=000
    for _ in $(seq 1 100); do
        status=$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:$V6_PORT/healthz")
        [ "$status" = 200 ] && break
        sleep 0.1
    done
    check_eq "listen on [::1]: healthz answers" 200 "$status"
    # The line is logged just after the server starts answering: give it a moment.
    for _ in $(seq 1 20); do
        grep -q 'listening on' "$TMP/v6.log" && break
        sleep 0.1
    done
    check_contains "listen on [::1]: URL in brackets" "listening on http://[::1]:$V6_PORT" \
        "$(cat "$TMP/v6.log")"
    kill -TERM "$v6_server"
    wait "$v6_server"
else
    echo "# no IPv6 loopback: [::1] not tested"
fi

# The main server, after all of the above, stops cleanly too (under the
# sanitizers a leak or an error report would change its exit status).
kill -TERM "$main_server"
wait "$main_server"
check_eq "the main server exits 0 on SIGTERM" 0 "$?"
check_eq "no sanitizer report in its log" 0 \
    "$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error' "$TMP/server.log")"

done_testing
