#!/usr/bin/env bash
# test_pull.sh - pull down over real processes on loopback: a record
# written at a province reaches the commune of its unit and no other; a
# person moving from one commune to another arrives with their history,
# and again across provinces through the centre; a catalogue published at
# the centre is in use at every node; a commune that was down catches up
# after restart, also when killed with -9 in the middle; pulled events are
# never pushed back (each node's own events compare exactly with their
# origins', chains verify); refused pulls (unsigned, unknown node, bad
# signature, malformed) change nothing and say why.
#
# The tree: VN; provinces 01 and 79; communes 00004 and 00008 under 01,
# 26740 under 79.  Logs are compared by reading each node's database
# (python3's sqlite3, read only) and with "lienthong log --verify".

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tree.sh"

SERVE_OPTS=(--threads 2 --sync-heartbeat 0.5 --silent-after 5 --sync-retry-max 1 --trace sync)
TREE="VN P01 P79 C4 C8 W26740"

trap 'tree_stop; cleanup' EXIT

# send METHOD NAME PATH JSON [IF_MATCH]: prints the HTTP status
send() {
    curl -s -o "$TMP/send.body" -w '%{http_code}' -m 5 -X "$1" \
        -H "Authorization: Bearer ${TOKEN[$2]}" -H 'Content-Type: application/json' \
        ${5:+-H "If-Match: \"$5\""} --data-binary "$4" "$(url "$2")$3"
}

# record NAME PATH: a registry record read by the node's officer (fails if absent)
record() {
    curl -fs -m 2 -H "Authorization: Bearer ${TOKEN[$1]}" -H 'X-Purpose: pull test' \
        "$(url "$1")/api/v1/$2"
}

# field NAME PATH KEY: one member of a record
field() {
    record "$1" "$2" | python3 -c "import json,sys; print(json.load(sys.stdin)['record']['$3'])"
}

# status NAME EXPR: a Python expression over GET /sync/v1/status (bound to d)
status() {
    curl -s -m 5 -H "Authorization: Bearer ${TOKEN[$1]}" "$(url "$1")/sync/v1/status" \
        >"$TMP/status.json"
    python3 - "$TMP/status.json" "$2" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
    v = eval(sys.argv[2])
except Exception as e:
    v = "<%s: %s>" % (type(e).__name__, e)
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# db NAME SQL: the rows of a query on the node's database, one per line
db() {
    python3 - "${DIR[$1]}/lienthong.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
for row in db.execute(sys.argv[2]):
    print(" ".join(str(c) for c in row))
EOF
}

events_of() { # events_of NAME ENTITY: how many events about it the node holds
    db "$1" "SELECT COUNT(*) FROM events WHERE entity = '$2'"
}

# own NAME: per origin "origin count max_seq last_hash" of the events not pulled
own() {
    python3 - "${DIR[$1]}/lienthong.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
rows = db.execute("SELECT origin, COUNT(*), MAX(seq) FROM events WHERE pos NOT IN "
                  "(SELECT pos FROM pulled_events) GROUP BY origin ORDER BY origin").fetchall()
for origin, n, top in rows:
    h = db.execute("SELECT hex(hash) FROM events WHERE origin = ? AND seq = ?",
                   (origin, top)).fetchone()[0]
    print(origin, n, top, h)
EOF
}

subtree() {
    case $1 in
    VN) echo "$TREE" ;;
    P01) echo "P01 C4 C8" ;;
    P79) echo "P79 W26740" ;;
    *) echo "$1" ;;
    esac
}

expected() { # what NAME must hold of its own: its subtree's origins as they hold them
    for o in $(subtree "$1"); do own "$o" | awk -v o="${ORIGIN[$o]}" '$1 == o'; done | sort
}

# pulled_missing NAME: pulled events of NAME that its parent does not hold identically
pulled_missing() {
    python3 - "${DIR[$1]}/lienthong.db" "${DIR[${PARENT[$1]}]}/lienthong.db" <<'EOF'
import sqlite3, sys
child = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
parent = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True, timeout=10)
n = 0
for origin, seq, h, sig in child.execute(
        "SELECT origin, seq, hash, sig FROM events WHERE pos IN (SELECT pos FROM pulled_events)"):
    row = parent.execute("SELECT hash, sig FROM events WHERE origin = ? AND seq = ?",
                         (origin, seq)).fetchone()
    if row is None or row[0] != h or (row[1] is not None and row[1] != sig):
        n += 1
print(n)
EOF
}

wait_for() {
    local end=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -le "$end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

wait_eq() {
    local end=$((SECONDS + $1)) want=$2
    shift 2
    while [ "$SECONDS" -le "$end" ]; do
        [ "$("$@" 2>/dev/null)" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

section() { echo "# -- $1 (at ${SECONDS}s)"; }

# --- the tree ---------------------------------------------------------------
section "tree"
node_new VN VN && node_new P01 01 VN && node_new P79 79 VN &&
    node_new C4 00004 P01 && node_new C8 00008 P01 && node_new W26740 26740 P79 || exit 1
ADMIN_VN=$(account_token "${DIR[VN]}" admin.vn admin VN)
ADMIN_01=$(account_token "${DIR[P01]}" admin.01 admin 01)
node_start VN || exit 1
enrol P01 && enrol P79 && node_start P01 && node_start P79 || exit 1
enrol C4 && enrol C8 && enrol W26740 || exit 1
node_start C4 && node_start C8 && node_start W26740 || exit 1
check_eq "five children enrolled" "5" "$(grep -c '^enrolled node' "$TMP/enrol.out")"
check "the communes pull from their province" wait_for 10 grep -q "pulling from parent" \
    "$TMP/C4.log"

# --- a write at the province flows down only where it must ------------------
section "province write"
PERSON_B='{"id":"001190654321","full_name":"Trần Thị Bình","birth_date":"1990-06-01","sex":"female","ethnicity":"01","nationality":"VN","status":"alive"}'
check_eq "the province registers a person" 201 "$(send POST P01 /api/v1/people "$PERSON_B")"
t0=$(date +%s%N)
check_eq "and a household in commune 00004" 201 \
    "$(send POST P01 /api/v1/households '{"id":"HK-P1","head_id":"001190654321","unit":"00004","address_line":"5 Kim Mã"}')"
wait_for 10 record C4 households/HK-P1
t1=$(date +%s%N)
check "the household reaches commune 00004" record C4 households/HK-P1
ms=$(((t1 - t0) / 1000000))
echo "# province -> commune in $ms ms (write, long-poll answer, apply, read by polling)"
check_eq "within 2 s" "yes" "$([ "$ms" -lt 2000 ] && echo yes || echo "no: $ms ms")"
check_eq "it keeps its origin, the province" "${ORIGIN[P01]}" \
    "$(db C4 "SELECT origin FROM events WHERE entity = 'household/HK-P1'")"
sleep 1
check_eq "it does not reach the sibling commune 00008" "0" "$(events_of C8 household/HK-P1)"
check_eq "nor the other province's commune" "0" "$(events_of W26740 household/HK-P1)"
check_eq "the person without a residence stays at the province" "0" \
    "$(events_of C4 person/001190654321)"
check_eq "the enrolment events stay at the province" "0" \
    "$(db C4 "SELECT COUNT(*) FROM events WHERE type = 'node.enrolled'")"
check_eq "the commune's status shows its cursor at the province's head" "0" \
    "$(status C4 "d['pull']['upstream']['behind_positions']")"
check_eq "the province's status shows the commune's pulls" "yes" \
    "$(status P01 "'yes' if any(c['origin'] == '${ORIGIN[C4]}' and c['events'] >= 1 for c in d['pull']['children']) else 'no'")"

# --- a person moves from 00008 to 00004 -------------------------------------
section "move"
PERSON_A='{"id":"001090123456","full_name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male","ethnicity":"01","nationality":"VN","status":"alive"}'
RES_8='{"person_id":"001090123456","kind":"permanent","unit":"00008","address_line":"7 Đội Cấn","from_date":"2020-01-01"}'
RES_4='{"person_id":"001090123456","kind":"permanent","unit":"00004","address_line":"12 Kim Mã","from_date":"2026-01-05"}'
RES_W='{"person_id":"001090123456","kind":"permanent","unit":"26740","address_line":"3 Lê Lợi","from_date":"2026-02-01"}'
BENEFIT='{"person_id":"001090123456","scheme":"health_insurance","card_no":"DN401012","start_date":"2024-01-01","status":"active"}'
check_eq "commune 00008 registers a person" 201 "$(send POST C8 /api/v1/people "$PERSON_A")"
check_eq "with a permanent residence there" 201 "$(send POST C8 /api/v1/residences "$RES_8")"
check_eq "and a health insurance card" 201 "$(send POST C8 /api/v1/benefits "$BENEFIT")"
check "which reach the province" wait_for 10 record P01 benefits/001090123456/health_insurance
check_eq "the province moves the residence to 00004" 200 \
    "$(send PUT P01 /api/v1/residences/001090123456/permanent "$RES_4" 1)"
check "the person arrives at commune 00004" wait_for 10 record C4 people/001090123456
check_eq "with the residence in 00004" "00004" \
    "$(field C4 residences/001090123456/permanent unit)"
check "and the benefit" record C4 benefits/001090123456/health_insurance
check_eq "with the whole history of the residence" "2" \
    "$(events_of C4 residence/001090123456/permanent)"
check_eq "at the same version as at the province" \
    "$(db P01 "SELECT version FROM entity_versions WHERE entity = 'residence/001090123456/permanent'")" \
    "$(db C4 "SELECT version FROM entity_versions WHERE entity = 'residence/001090123456/permanent'")"
check "commune 00008 gets the move of its record" \
    wait_eq 10 00004 db C8 "SELECT json_extract(body, '$.unit') FROM events WHERE entity = 'residence/001090123456/permanent' ORDER BY pos DESC LIMIT 1"
check_eq "and nothing else of it twice" "2" "$(events_of C8 residence/001090123456/permanent)"
check_eq "the other province knows nothing of it" "0" "$(events_of P79 person/001090123456)"

# --- and on to 26740 in province 79, through the centre ---------------------
section "move across provinces"
check "the move reaches the centre" wait_eq 10 2 events_of VN residence/001090123456/permanent
check_eq "the centre moves the residence to 26740 (province 79)" 200 \
    "$(send PUT VN /api/v1/residences/001090123456/permanent "$RES_W" 2)"
check "the person arrives at ward 26740, two levels down" wait_for 15 record W26740 people/001090123456
check_eq "with the residence in 26740" "26740" \
    "$(field W26740 residences/001090123456/permanent unit)"
check "and the benefit written at 00008" record W26740 benefits/001090123456/health_insurance
check_eq "province 79 holds the history too" "3" \
    "$(events_of P79 residence/001090123456/permanent)"
check "commune 00004 gets the move out" \
    wait_eq 10 26740 db C4 "SELECT json_extract(body, '$.unit') FROM events WHERE entity = 'residence/001090123456/permanent' ORDER BY pos DESC LIMIT 1"
check_eq "the ward learned the keys of the commune and the provinces it checked" "yes" \
    "$(db W26740 "SELECT COUNT(*) FROM sync_keys WHERE origin IN ('${ORIGIN[C8]}', '${ORIGIN[P01]}', '${ORIGIN[VN]}')" | grep -qx 3 && echo yes)"

# --- reference data from the centre -----------------------------------------
section "reference data"
fee_at() { # fee_at NAME: the fee of permanent_residence in force at the node
    curl -fs -m 2 "$(url "$1")/api/v1/procedures/permanent_residence" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["fee_vnd"])'
}
catalogue() { # catalogue FEE FILE: the built-in catalogue with that fee
    python3 - "$(dirname "$0")/../../data/procedures/catalogue.json" "$1" >"$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
for p in doc["procedures"]:
    if p["code"] == "permanent_residence":
        p["fee_vnd"] = int(sys.argv[2])
json.dump(doc, sys.stdout, ensure_ascii=False)
EOF
}
publish() { # publish TOKEN NODE FILE: prints the status
    curl -s -o "$TMP/publish.body" -w '%{http_code}' -m 10 -X PUT \
        -H "Authorization: Bearer $1" --data-binary @"$3" "$(url "$2")/api/v1/reference/catalogue"
}
check_eq "every node starts with the built-in fee" "20000 20000 20000 20000 20000 20000" \
    "$(for n in $TREE; do fee_at "$n"; done | xargs)"
catalogue 30000 "$TMP/cat1.json"
check_eq "a province cannot publish" 403 "$(publish "$ADMIN_01" P01 "$TMP/cat1.json")"
check_contains "it says who publishes reference data" "administrator of the centre" \
    "$(cat "$TMP/publish.body")"
check_eq "the centre publishes a catalogue" 200 "$(publish "$ADMIN_VN" VN "$TMP/cat1.json")"
check_eq "in use at the centre at once" "30000" "$(fee_at VN)"
for n in P01 P79 C4 C8 W26740; do
    check "in use at $n" wait_eq 10 30000 fee_at "$n"
done
check_eq "the ward says which publication it uses" '["published", 1]' \
    "$(curl -s "$(url W26740)/api/v1/reference" | python3 -c 'import json,sys; c = json.load(sys.stdin)["catalogue"]; print(json.dumps([c["source"], c["version"]]))')"

# --- a commune down while things change catches up --------------------------
section "offline"
node_stop C4
check_eq "while 00004 is down the province writes for it" 201 \
    "$(send POST P01 /api/v1/households '{"id":"HK-P2","head_id":"001190654321","unit":"00004","address_line":"9 Kim Mã"}')"
catalogue 40000 "$TMP/cat2.json"
check_eq "and the centre publishes again" 200 "$(publish "$ADMIN_VN" VN "$TMP/cat2.json")"
check "the province has it" wait_eq 10 40000 fee_at P01
node_start C4 || exit 1
check "after restart 00004 gets the household" wait_for 15 record C4 households/HK-P2
check "and the new catalogue" wait_eq 10 40000 fee_at C4
check_contains "it said it resumed from its cursor" "pulling from parent ${ORIGIN[P01]}" \
    "$(cat "$TMP/C4.log")"

# a cursor the province never gave (the province restored from an older backup)
section "cursor past the parent's end"
node_stop C8
c8_events=$(db C8 "SELECT COUNT(*) FROM events")
python3 - "${DIR[C8]}/lienthong.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE sync_pull SET cursor = cursor + 1000000")
db.commit()
EOF
node_start C8 || exit 1
check "00008 is told its cursor is past the province's end, and says so" \
    wait_for 10 grep -q "has no position" "$TMP/C8.log"
caught_up_again() { # the cursor is back in the province's log, at its head as last answered
    local cur head
    cur=$(db C8 "SELECT cursor FROM sync_pull")
    head=$(db P01 "SELECT MAX(pos) FROM events")
    [ "$cur" -gt 0 ] && [ "$cur" -le "$head" ] &&
        [ "$(status C8 "d['pull']['upstream']['parent_head'] > 0 and d['pull']['upstream']['behind_positions'] == 0")" = true ]
}
check "it pulls again from the start and catches up" wait_for 10 caught_up_again
check_eq "getting nothing twice" "$c8_events" "$(db C8 "SELECT COUNT(*) FROM events")"

# many records for 00004 (more than one answer holds), and the commune
# killed with -9 once it has some of them and not all
section "kill -9 while pulling"
N=5000
for i in $(seq 1 $N); do
    echo "{\"id\":\"HK-B$i\",\"head_id\":\"001190654321\",\"unit\":\"00004\",\"address_line\":\"Số $i đường Kim Mã, phường Ngọc Hà, thành phố Hà Nội\"}"
done >"$TMP/many.ndjson"
many_at_c4() { db C4 "SELECT COUNT(*) FROM events WHERE entity LIKE 'household/HK-B%'"; }
partly() { local n; n=$(many_at_c4); [ "$n" -gt 0 ] && [ "$n" -lt "$N" ]; }
node_stop C4
check "$N households for 00004 are imported at the province" \
    "$LT" import --data "${DIR[P01]}" --kind households "$TMP/many.ndjson"
node_start C4 || exit 1
wait_for 30 partly
held=$(many_at_c4)
node_kill C4
echo "# 00004 killed with -9 holding $held of the $N"
check_eq "it was killed in the middle of its catch-up" "yes" \
    "$([ "$held" -gt 0 ] && [ "$held" -lt "$N" ] && echo yes || echo "no: $held")"
node_start C4 || exit 1
check "after the restart all $N arrive" wait_eq 60 "$N" many_at_c4
check_eq "each once" "$N" \
    "$(db C4 "SELECT COUNT(DISTINCT entity) FROM events WHERE entity LIKE 'household/HK-B%'")"
check_contains "it caught up in several answers" "caught up from parent" "$(cat "$TMP/C4.log")"

# --- nothing pulled goes back up --------------------------------------------
section "converge"
converged() {
    for n in $TREE; do
        [ "$(own "$n")" = "$(expected "$n")" ] || return 1
    done
}
wait_for 30 converged
check_eq "the centre's own view lists every origin of the tree" "6" "$(own VN | wc -l)"
for n in $TREE; do
    check_eq "$n holds exactly its subtree's own events (count, last seq, chain head)" \
        "$(expected "$n")" "$(own "$n")"
done
for n in P01 P79 C4 C8 W26740; do
    check_eq "$n: every pulled event is its parent's, unchanged" "0" "$(pulled_missing "$n")"
done
check_eq "the centre holds each pulled event once, as its origin made it" "" \
    "$(db VN "SELECT origin, seq FROM events GROUP BY origin, seq HAVING COUNT(*) > 1")"
check_eq "no parent refused a batch (nothing came back up)" "0 0 0" \
    "$(for n in VN P01 P79; do status "$n" "sum(c['refused'] for c in d['children'])"; done | xargs)"
check_eq "the communes' pushers are acknowledged up to their heads" "0 0 0" \
    "$(for n in C4 C8 W26740; do status "$n" "d['upstream']['backlog_events']"; done | xargs)"
for n in $TREE; do
    check "$n: every hash chain is intact" "$LT" log --data "${DIR[$n]}" --verify
done

# --- refused pulls change nothing and say why --------------------------------
section "refusals"
# signed_pull ORIGIN KEYFILE BODY [alter]: a pull to the province signed
# with the key in KEYFILE (libsodium through ctypes); prints the status, the
# message and whether the answer carries the province's signature
signed_pull() {
    python3 - "$(url P01)" "$1" "$2" "$3" "${4:-}" "$(status P01 "d['node']['public_key']")" <<'EOF'
import ctypes, hashlib, json, sys, time, urllib.error, urllib.request
url, origin, keyfile, body, alter, parent_pk = sys.argv[1:7]
na = ctypes.CDLL("libsodium.so.23")
assert na.sodium_init() >= 0
seed = bytes.fromhex(open(keyfile).read().strip()) if keyfile != "-" else bytes(range(32))
pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
na.crypto_sign_seed_keypair(pk, sk, seed)
t = str(int(time.time() * 1000))
msg = "\n".join(["lienthong.request.v1", "POST", "/sync/v1/pull", origin, t,
                 hashlib.blake2b(body.encode(), digest_size=32).hexdigest()]).encode()
sig = ctypes.create_string_buffer(64)
na.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), sk)
if alter:
    body = body.replace("\"after\":0", "\"after\":1")
req = urllib.request.Request(url + "/sync/v1/pull", data=body.encode(), method="POST",
                             headers={"X-Lienthong-Origin": origin, "X-Lienthong-Time": t,
                                      "X-Lienthong-Signature": sig.raw.hex(),
                                      "Content-Type": "application/json"})
try:
    r = urllib.request.urlopen(req, timeout=10)
    code, reply, hdr = r.status, r.read(), r.headers
except urllib.error.HTTPError as e:
    code, reply, hdr = e.code, e.read(), e.headers
signed = "unsigned"
if code == 200:
    nonce = json.loads(body)["nonce"]
    m = "lienthong.pull.answer.v1\n%s\n%s\n%s" % (hdr["X-Lienthong-Origin"], nonce,
                                                  hashlib.blake2b(reply, digest_size=32).hexdigest())
    ok = na.crypto_sign_verify_detached(bytes.fromhex(hdr["X-Lienthong-Signature"]), m.encode(),
                                        ctypes.c_ulonglong(len(m)), bytes.fromhex(parent_pk)) == 0
    signed = "signed by the province" if ok else "badly signed"
    message = "%d events" % len(json.loads(reply)["events"])
else:
    message = json.loads(reply)["error"]["message"]
print(code, message, "|", signed)
EOF
}
BODY='{"v":1,"after":0,"wait":0,"nonce":"00112233445566778899aabbccddeeff"}'
before=$(own P01)
answer=$(signed_pull "${ORIGIN[C8]}" "${DIR[C8]}/node.key" "$BODY")
check_contains "a pull signed by commune 00008's key is answered" "200" "$answer"
check_contains "and the answer is signed by the province" "signed by the province" "$answer"
answer=$(curl -s -w ' %{http_code}' -X POST --data "$BODY" "$(url P01)/sync/v1/pull")
check_contains "an unsigned pull is refused" "403" "$answer"
check_contains "saying why" "does not name its node" "$answer"
answer=$(signed_pull "00070-0badc0de" - "$BODY")
check_contains "a pull from a node not enrolled here is refused" "403" "$answer"
check_contains "saying why" "is not enrolled here" "$answer"
answer=$(signed_pull "${ORIGIN[C8]}" "${DIR[C8]}/node.key" "$BODY" alter)
check_contains "a pull altered after signing is refused" "403" "$answer"
check_contains "for its signature" "signature" "$answer"
answer=$(signed_pull "${ORIGIN[W26740]}" "${DIR[W26740]}/node.key" "$BODY")
check_contains "a pull from another province's ward is refused" "403" "$answer"
answer=$(signed_pull "${ORIGIN[C8]}" "${DIR[C8]}/node.key" '{"v":1,"after":-1,"wait":0,"nonce":"00"}')
check_contains "a malformed pull is refused" "400" "$answer"
check_contains "saying what is wrong" "malformed" "$answer"
check_contains "each refusal is logged by the province" "refused a pull from 00070-0badc0de" \
    "$(cat "$TMP/P01.log")"
check_eq "and nothing changed at the province" "$before" "$(own P01)"

done_testing
