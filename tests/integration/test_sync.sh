#!/usr/bin/env bash
# test_sync.sh - the node tree over real processes on loopback: enrolment,
# a commune's write reaching its province and the centre in milliseconds,
# freshness reports, a parent down and back, kill -9 of random nodes under
# a steady stream of writes (every node ends with exactly the events it
# should, chains intact), refusals (bad signature, broken chain, replayed
# and altered requests, a record outside the commune's unit) with nothing
# applied, and "lienthong up" starting and stopping a whole tree.
#
# The tree: VN; provinces 01 and 79; communes 00004 and 00008 under 01,
# 26740 under 79.  Event logs are compared by reading each node's database
# (python3's sqlite3, read only) and by "lienthong log --verify".

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tree.sh"

declare -A AUDITOR
SERVE_OPTS=(--threads 2 --sync-heartbeat 0.5 --silent-after 3 --sync-retry-max 1 --trace sync)
WRITERS=""
PROXY_PID=""
UP_PID=""

stop_all() {
    touch "$TMP/stop-writers"
    for w in $WRITERS; do kill "$w" 2>/dev/null; done
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    [ -n "$UP_PID" ] && kill -INT "$UP_PID" 2>/dev/null
    tree_stop
}

# Each node also has an auditor.
node_new_extra() {
    AUDITOR[$1]=$(account_token "${DIR[$1]}" inspector auditor "${UNIT[$1]}")
}
trap 'stop_all; cleanup' EXIT

# post NAME PATH JSON: prints the HTTP status
post() {
    curl -s -o "$TMP/post.body" -w '%{http_code}' -m 5 -X POST -H "Authorization: Bearer ${TOKEN[$1]}" \
        -H 'Content-Type: application/json' --data-binary "$3" "$(url "$1")$2"
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

child_of() { # child_of NAME CHILD EXPR: EXPR over NAME's status entry for CHILD (bound to c)
    status "$1" "[c for c in d['children'] if c['origin'] == '${ORIGIN[$2]}'][0]$3"
}

# summary NAME: per origin "origin count max_seq duplicates last_hash", sorted
summary() {
    python3 - "${DIR[$1]}/lienthong.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
rows = db.execute("SELECT origin, COUNT(*), MAX(seq), COUNT(*) - COUNT(DISTINCT seq) "
                  "FROM events GROUP BY origin ORDER BY origin").fetchall()
for origin, n, top, dup in rows:
    h = db.execute("SELECT hex(hash) FROM events WHERE origin = ? AND seq = ?",
                   (origin, top)).fetchone()[0]
    print(origin, n, top, dup, h)
EOF
}

count_of() { # count_of NAME ORIGIN_NAME: events of that origin in NAME's log
    summary "$1" | awk -v o="${ORIGIN[$2]}" '$1 == o { n = $2 } END { print n + 0 }'
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
    local end=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -le "$end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# wait_eq SECONDS EXPECTED CMD...: until CMD prints EXPECTED (run afresh each time)
wait_eq() {
    local end=$((SECONDS + $1)) want=$2
    shift 2
    while [ "$SECONDS" -le "$end" ]; do
        [ "$("$@" 2>/dev/null)" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_positive SECONDS CMD...: until CMD prints a number above 0
wait_positive() {
    local end=$((SECONDS + $1)) v
    shift
    while [ "$SECONDS" -le "$end" ]; do
        v=$("$@" 2>/dev/null)
        [[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] && return 0
        sleep 0.05
    done
    return 1
}

has_person() {
    curl -fs -m 2 -H "Authorization: Bearer ${TOKEN[$1]}" -H 'X-Purpose: sync test' \
        "$(url "$1")/api/v1/people/$2" >/dev/null
}

section() { echo "# -- $1 (at ${SECONDS}s)"; }

# --- a tree of six nodes --------------------------------------------------
section "tree"
TREE="VN P01 P79 C4 C8 W26740"
node_new VN VN &&
    node_new P01 01 VN &&
    node_new P79 79 VN &&
    node_new C4 00004 P01 &&
    node_new C8 00008 P01 &&
    node_new W26740 26740 P79
check_eq "six nodes made with keys" "6" "$(ls "$TMP"/nodes/*/node.key | wc -l)"
check_eq "the key file is private" "600" "$(stat -c %a "${DIR[C4]}/node.key")"
check_fails "the centre has no parent" "$LT" init --data "$TMP/nodes/x" --unit VN \
    --parent http://127.0.0.1:1

node_start VN || exit 1
check_fails "a token for an unknown unit is refused" "$LT" enrol --data "${DIR[VN]}" \
    --child-unit 01x
enrol P01 && enrol P79
check_eq "provinces enrolled" "2" "$(grep -c '^enrolled node' "$TMP/enrol.out")"
node_start P01 && node_start P79 || exit 1
check_fails "a token for a unit outside the province is refused" "$LT" enrol \
    --data "${DIR[P01]}" --child-unit 26740
check_contains "it says why" "is not inside this node's unit 01" "$(cat "$TMP/err")"
enrol C4 && enrol C8 && enrol W26740
check_eq "communes enrolled" "5" "$(grep -c '^enrolled node' "$TMP/enrol.out")"
node_start C4 && node_start C8 && node_start W26740 || exit 1

# a token works once
token=$("$LT" enrol --data "${DIR[P01]}" --child-unit 00004 2>/dev/null)
node_new C4B 00004 P01
check "a second node of 00004 enrols with a fresh token" "$LT" enrol --data "${DIR[C4B]}" \
    --token "$token"
node_new C4C 00004 P01
check_fails "the used token is refused" "$LT" enrol --data "${DIR[C4C]}" --token "$token"
check_contains "as used" "used already" "$(cat "$TMP/err")"

wait_eq 10 2 status VN "len(d['children'])"
check_eq "the centre has its two provinces" '["01", "79"]' \
    "$(status VN "sorted(c['unit'] for c in d['children'])")"
check_eq "the province has its communes" '["00004", "00004", "00008"]' \
    "$(status P01 "sorted(c['unit'] for c in d['children'])")"

# --- a write at a commune reaches its province and the centre --------------
section "write"
PERSON='{"id":"001090123456","full_name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male","ethnicity":"01","nationality":"VN","status":"alive"}'
t0=$(date +%s%N)
check_eq "a person is registered at commune 00004" "201" "$(post C4 /api/v1/people "$PERSON")"
wait_for 10 has_person VN 001090123456
t1=$(date +%s%N)
check "it is at the centre" has_person VN 001090123456
check "and at the province" has_person P01 001090123456
ms=$(((t1 - t0) / 1000000))
echo "# commune -> province -> centre in $ms ms (write, two hops, read by polling)"
check_eq "within 2 s (milliseconds, even under sanitizers)" "yes" \
    "$([ "$ms" -lt 2000 ] && echo yes || echo "no: $ms ms")"
"$LT" log --data "${DIR[VN]}" --entity person/001090123456 >"$TMP/ev.json"
check_eq "at the centre the event keeps its origin" "${ORIGIN[C4]}" \
    "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["origin"])' \
        "$TMP/ev.json")"
check_eq "and carries a signature" "128" \
    "$(python3 -c 'import json,sys; print(len(json.loads(open(sys.argv[1]).readline())["sig"] or ""))' \
        "$TMP/ev.json")"

# --- the audit trail goes up like any event ---------------------------------
section "audit trail"
curl -s -o /dev/null -H "Authorization: Bearer ${TOKEN[C4]}" -H 'X-Purpose: HS-SYNC-0001' \
    "$(url C4)/api/v1/people/001090123456"
# audit_at NODE: how many accesses with that purpose the node's trail holds,
# as its auditor sees it
audit_at() {
    curl -s -H "Authorization: Bearer ${AUDITOR[$1]}" \
        "$(url "$1")/api/v1/audit?subject_kind=person&subject=001090123456" |
        python3 -c 'import json,sys; print(sum(i["purpose"] == "HS-SYNC-0001" for i in json.load(sys.stdin)["items"]))'
}
wait_eq 10 1 audit_at VN
wait_eq 10 1 audit_at C4 # a node projects its own reads every few seconds
check_eq "a read at the commune is in its own trail" "1" "$(audit_at C4)"
check_eq "and in the province's" "1" "$(audit_at P01)"
check_eq "and in the centre's, once" "1" "$(audit_at VN)"
check_eq "where it keeps its origin" "${ORIGIN[C4]}" \
    "$(curl -s -H "Authorization: Bearer ${AUDITOR[VN]}" \
        "$(url VN)/api/v1/audit?subject_kind=person&subject=001090123456" |
        python3 -c 'import json,sys; print([i["origin"] for i in json.load(sys.stdin)["items"] if i["purpose"] == "HS-SYNC-0001"][0])')"

# --- freshness reports -----------------------------------------------------
section "freshness"
check_eq "the province reports the commune caught up" "0" \
    "$(child_of P01 C4 "['backlog_events']")"
check_eq "and in contact" "false" "$(child_of P01 C4 "['silent']")"
check_eq "the commune reports its parent acknowledged everything" "0" \
    "$(status C4 "d['upstream']['backlog_events']")"
check_eq "and connected" "true" "$(status C4 "d['upstream']['connected']")"
metrics=$(curl -s -H "Authorization: Bearer ${TOKEN[P01]}" "$(url P01)/sync/v1/metrics")
check_contains "metrics give each child's backlog" \
    "lienthong_sync_child_backlog_events{child=\"${ORIGIN[C4]}\",unit=\"00004\"} 0" "$metrics"
check_contains "metrics give the upstream backlog" "lienthong_sync_upstream_backlog_events 0" \
    "$metrics"

# --- the province goes down for a while ------------------------------------
section "parent down"
node_stop P01
section "parent stopped"
"$LT" gen --units 00004 --people 2400 --seed 17 --out "$TMP/gen" >/dev/null 2>&1
sed -n '1,20p' "$TMP/gen/people.ndjson" >"$TMP/offline.ndjson"
ok=0
while read -r line; do
    [ "$(post C4 /api/v1/people "$line")" = 201 ] && ok=$((ok + 1))
done <"$TMP/offline.ndjson"
section "written offline"
check_eq "the commune keeps writing while its parent is down" "20" "$ok"
check "and keeps serving reads" has_person C4 001090123456
wait_eq 10 false status C4 "d['upstream']['connected']"
check_eq "it knows its parent is unreachable" "false" "$(status C4 "d['upstream']['connected']")"
# 20 writes, and the audit record of the read above (one batch of the audit trail)
wait_eq 5 21 status C4 "d['upstream']['backlog_events']"
check_eq "and how far behind the parent is" "21" "$(status C4 "d['upstream']['backlog_events']")"
check_eq "for how long" "yes" "$(status C4 "'yes' if d['upstream']['backlog_seconds'] > 0 else 'no'")"
section "waiting for silence"
wait_eq 10 true child_of VN P01 "['silent']"
check_eq "the centre flags the silent province" "true" "$(child_of VN P01 "['silent']")"
# The flag is set before the warning is written: give the line a moment.
for _ in $(seq 1 50); do
    grep "${ORIGIN[P01]}" "$TMP/VN.log" | grep -q "is silent" && break
    sleep 0.1
done
check_contains "and logs it" "is silent" "$(grep "${ORIGIN[P01]}" "$TMP/VN.log")"
section "parent restarting"
node_start P01 || exit 1
section "parent restarted"
last=$(tail -n 1 "$TMP/offline.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "the commune catches up by itself" wait_for 20 has_person VN "$last"
wait_eq 10 0 status C4 "d['upstream']['backlog_events']"
section "caught up"
check_eq "its backlog is gone" "0" "$(status C4 "d['upstream']['backlog_events']")"
largest=$(sed -n 's/.*sync: pushed \([0-9]*\) events.*/\1/p' "$TMP/C4.log" | sort -n | tail -n 1)
echo "# the largest batch the commune sent held $largest events"
check_eq "a backlog goes up in large batches, not one request per event" "yes" \
    "$([ "${largest:-0}" -ge 20 ] && echo yes)"
wait_eq 10 false child_of VN P01 "['silent']"
check_eq "the centre sees the province again" "false" "$(child_of VN P01 "['silent']")"

# --- the province hangs: it takes the request and never answers ---------------
section "parent hung"
kill -STOP "${PID[P01]}"
hung=$(sed -n '21p' "$TMP/gen/people.ndjson")
check_eq "the commune writes while its parent hangs" 201 "$(post C4 /api/v1/people "$hung")"
wait_eq 25 false status C4 "d['upstream']['connected']"
check_eq "a push unanswered for 15 s counts as not connected" "false" \
    "$(status C4 "d['upstream']['connected']")"
check_eq "saying how long it has waited" "yes" \
    "$(status C4 "'yes' if (d['upstream']['waiting_seconds'] or 0) > 15 else 'no'")"
kill -CONT "${PID[P01]}"
wait_eq 15 0 status C4 "d['upstream']['backlog_events']"
check_eq "once the parent answers, the backlog goes" "0" \
    "$(status C4 "d['upstream']['backlog_events']")"
check_eq "and it is connected again, waiting for nothing" "[true, null]" \
    "$(status C4 "[d['upstream']['connected'], d['upstream']['waiting_seconds']]")"
check_contains "the commune logged the reconnection" "connected to parent" "$(cat "$TMP/C4.log")"

# --- kill -9 at random moments under a steady stream of writes -------------
section "kill -9"
sed -n '21,$p' "$TMP/gen/people.ndjson" | awk -v d="$TMP" '{ print > (d "/w" (NR % 4) ".ndjson") }'
rm -f "$TMP/stop-writers"
writer() { # writer NAME FILE: POST each line, on through failures
    local target
    while read -r line; do
        [ -f "$TMP/stop-writers" ] && break
        target="$(url "$1")/api/v1/people"
        curl -s -o /dev/null -m 2 -X POST -H 'Content-Type: application/json' \
            -H "Authorization: Bearer ${TOKEN[$1]}" --data-binary "$line" "$target" 2>/dev/null
        sleep 0.01
    done <"$2"
}
writer C4 "$TMP/w0.ndjson" &
WRITERS="$WRITERS $!"
writer C8 "$TMP/w1.ndjson" &
WRITERS="$WRITERS $!"
writer W26740 "$TMP/w2.ndjson" &
WRITERS="$WRITERS $!"
writer P01 "$TMP/w3.ndjson" &
WRITERS="$WRITERS $!"
victims=(C4 C8 W26740 P01 P79 VN)
restarted=0
for round in $(seq 1 10); do
    sleep "0.$((RANDOM % 8 + 2))"
    v=${victims[$((RANDOM % 6))]}
    echo "# round $round: kill -9 $v"
    node_kill "$v"
    sleep "0.$((RANDOM % 5 + 1))"
    node_start "$v" && restarted=$((restarted + 1))
done
touch "$TMP/stop-writers"
for w in $WRITERS; do wait "$w" 2>/dev/null; done
WRITERS=""
check_eq "ten nodes killed with -9 and restarted" "10" "$restarted"

subtree() {
    case $1 in
    VN) echo "$TREE" ;;
    P01) echo "P01 C4 C8" ;;
    P79) echo "P79 W26740" ;;
    *) echo "$1" ;;
    esac
}
# every node holds exactly its subtree's events, as their origins hold them
expected() {
    for o in $(subtree "$1"); do summary "$o" | awk -v o="${ORIGIN[$o]}" '$1 == o'; done | sort
}
converged() {
    for n in $TREE; do
        [ "$(summary "$n")" = "$(expected "$n")" ] || return 1
    done
}
section "converging"
wait_for 60 converged
section "converged"
for n in $TREE; do
    check_eq "$n holds exactly its subtree's events (count, last seq, chain head)" \
        "$(expected "$n")" "$(summary "$n")"
done
check_eq "no event twice anywhere" "" \
    "$(for n in $TREE; do summary "$n"; done | awk '$4 != 0 || $2 != $3')"
summary VN | awk '{ print "# at the centre: " $1 " " $2 " events" }'
check_eq "the centre got the writes of each commune and province" "yes" \
    "$([ "$(count_of VN C4)" -gt 40 ] && [ "$(count_of VN C8)" -gt 20 ] &&
        [ "$(count_of VN W26740)" -gt 20 ] && [ "$(count_of VN P01)" -gt 20 ] && echo yes)"
for n in $TREE; do
    check "$n: every hash chain is intact" "$LT" log --data "${DIR[$n]}" --verify
done

# --- refusals: nothing applied, logged, reported ---------------------------
section "refusals"
# Each misbehaving child writes while not yet enrolled, is stopped, has its
# log altered, and is then enrolled and started: its first batch carries
# the fault.
PERSON2='{"id":"001190654321","full_name":"Trần Thị Bình","birth_date":"1990-06-01","sex":"female","ethnicity":"01","nationality":"VN","status":"alive"}'
bad_child() { # bad_child NAME UNIT: init under P01, write two people, stop
    node_new "$1" "$2" P01 && node_start "$1" &&
        [ "$(post "$1" /api/v1/people "$PERSON")" = 201 ] &&
        [ "$(post "$1" /api/v1/people "$PERSON2")" = 201 ] && node_stop "$1"
}
sql() { # sql NAME PYTHON: run Python with db bound to the node's database
    python3 - "${DIR[$1]}/lienthong.db" "$2" <<'EOF'
import hashlib, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])

def event_hash(r, prev):
    # the canonical bytes of evlog.h's event_hash, with another link
    h = hashlib.blake2b(digest_size=32)
    def text(b):
        h.update(len(b).to_bytes(4, "big"))
        h.update(b)
    def num(v):
        h.update((v & (2**64 - 1)).to_bytes(8, "big"))
    text(b"lienthong.event.v1")
    text(r["origin"].encode()); num(r["seq"]); num(r["hlc"]); text(r["actor"].encode())
    text(r["type"].encode()); text(r["entity"].encode()); num(r["base_version"])
    num(r["effective"]); text(r["cause"].encode()); text(r["body"].encode())
    if prev is None:
        h.update(b"\x00")
    else:
        h.update(b"\x01")
        h.update(prev)
    return h.digest()

def row(pos):
    db.row_factory = sqlite3.Row
    return db.execute("SELECT * FROM events WHERE pos = ?", (pos,)).fetchone()

exec(sys.argv[2])
db.commit()
EOF
}
refused_by_parent() { # the parent's report of NAME: refused batches
    child_of P01 "$1" "['refused']"
}

# a bad signature
bad_child BS 00025
sql BS 'db.execute("UPDATE events SET sig = ? WHERE pos = 2", (os.urandom(64),))'
enrol BS && node_start BS
wait_positive 15 refused_by_parent BS
check_eq "a batch with a bad signature is refused" "yes" \
    "$([ "$(refused_by_parent BS)" -gt 0 ] && echo yes)"
check_contains "the refusal is reported with its reason" "bad signature" \
    "$(child_of P01 BS "['last_refusal']")"
check_contains "and logged by the parent" "refused a batch from ${ORIGIN[BS]}" "$(cat "$TMP/P01.log")"
check_eq "nothing of it was applied" "0" "$(count_of P01 BS)"
check_eq "the parent's cursor did not move" "0" "$(child_of P01 BS "['acked']")"
check_contains "metrics count it" \
    "lienthong_sync_child_refused_batches_total{child=\"${ORIGIN[BS]}\",unit=\"00025\"}" \
    "$(curl -s -H "Authorization: Bearer ${TOKEN[P01]}" "$(url P01)/sync/v1/metrics")"
check_contains "the child reports the refusal" "bad signature" \
    "$(status BS "d['upstream']['last_error']")"
check "the child keeps serving" has_person BS 001090123456
node_stop BS

# a broken hash chain: the second person's link changed, its hash made to
# match, so that the child itself signs it at push time
bad_child BC 00070
check_eq "the test's hash function agrees with the log" "ok" \
    "$(sql BC 'r = row(3); p = row(2); print("ok" if event_hash(r, p["hash"]) == r["hash"] else "differs")')"
sql BC 'r = row(3)
db.execute("UPDATE events SET prev_hash = ?, hash = ?, sig = NULL WHERE pos = 3",
           (bytes(32), event_hash(r, bytes(32))))'
enrol BC && node_start BC
wait_positive 15 refused_by_parent BC
check_eq "a batch with a broken hash chain is refused" "yes" \
    "$([ "$(refused_by_parent BC)" -gt 0 ] && echo yes)"
check_contains "for the link" "does not link to its origin's last event" \
    "$(child_of P01 BC "['last_refusal']")"
check_eq "nothing of it was applied" "0" "$(count_of P01 BC)"
node_stop BC

# a record outside the commune's unit (00082 writes a household of 00008)
bad_child BJ 00082
node_start BJ
HOUSEHOLD='{"id":"HK-X1","head_id":"001090123456","unit":"00008","address_line":"7 Đội Cấn"}'
check_eq "the commune's officer may not write it over HTTP" "403" \
    "$(post BJ /api/v1/households "$HOUSEHOLD")"
node_stop BJ
# an administrator on the node's own machine can (the command line has no
# jurisdiction): the parent must still refuse what the child sends
printf '%s\n' "$HOUSEHOLD" >"$TMP/households.ndjson"
check "the commune's own registry takes it from the command line" \
    "$LT" import --data "${DIR[BJ]}" "$TMP/households.ndjson"
enrol BJ && node_start BJ
wait_positive 15 refused_by_parent BJ
check_contains "its parent refuses it as outside its jurisdiction" \
    "event about unit 00008 is outside its origin's unit 00082" \
    "$(child_of P01 BJ "['last_refusal']")"
check_eq "nothing of the batch was applied" "0" "$(count_of P01 BJ)"
check_fails "the household is not at the province" \
    curl -fs -H "Authorization: Bearer ${TOKEN[P01]}" -H 'X-Purpose: sync test' \
    "$(url P01)/api/v1/households/HK-X1"
node_stop BJ

# replayed and altered requests, recorded by a proxy between child and parent
PROXY_PORT=$(free_port)
mkdir -p "$TMP/recorded"
python3 - "$PROXY_PORT" "$(url P01)" "$TMP/recorded" >"$TMP/proxy.log" 2>&1 <<'EOF' &
import http.server, json, os, sys, urllib.error, urllib.request
port, target, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Proxy(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items()
                   if k.lower().startswith("x-lienthong") or k.lower() == "content-type"}
        req = urllib.request.Request(target + self.path, data=body, headers=headers,
                                     method="POST")
        try:
            r = urllib.request.urlopen(req, timeout=10)
            code, reply = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, reply = e.code, e.read()
        if self.path == "/sync/v1/push":
            n = len(os.listdir(out))
            with open(os.path.join(out, "%04d.json" % n), "w") as f:
                json.dump({"headers": headers, "body": body.decode(), "status": code}, f)
        self.send_response(code)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
EOF
PROXY_PID=$!
wait_for 10 curl -s "http://127.0.0.1:$PROXY_PORT/" -o /dev/null
node_new RP 00091 P01 "http://127.0.0.1:$PROXY_PORT"
enrol RP && node_start RP
check_eq "a child behind the proxy writes" "201" "$(post RP /api/v1/people "$PERSON")"
wait_eq 15 2 count_of P01 RP
node_stop RP
check_eq "its events reached the parent through the proxy" "2" "$(count_of P01 RP)"
first=$(python3 - "$TMP/recorded" <<'EOF'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    rec = json.load(open(os.path.join(sys.argv[1], name)))
    if json.loads(rec["body"])["after"] == 0 and rec["status"] == 200:
        print(os.path.join(sys.argv[1], name))
        break
EOF
)
replay() { # replay FILE [SED]: send a recorded push again, straight to the parent
    python3 - "$1" "$(url P01)" "${2:-}" <<'EOF'
import json, re, sys, urllib.error, urllib.request
rec = json.load(open(sys.argv[1]))
body = rec["body"]
if sys.argv[3]:
    a, b = sys.argv[3].split("/")
    body = body.replace(a, b, 1)
req = urllib.request.Request(sys.argv[2] + "/sync/v1/push", data=body.encode(),
                             headers=rec["headers"], method="POST")
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
EOF
}
before=$(summary P01)
answer=$(replay "$first")
check_contains "a replayed batch is refused" "409" "${answer%% *}"
check_contains "with the position the parent holds" '"ack": ' "$(echo "${answer#* }" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')"
check_eq "nothing of it was applied" "$before" "$(summary P01)"
check_contains "the replay is logged" "starts after 0, but" "$(cat "$TMP/P01.log")"
answer=$(replay "$first" '"after":0/"after":1')
check_contains "an altered batch is refused" "403" "${answer%% *}"
check_contains "for its signature" "signature does not match" "$answer"
check_eq "nothing of it was applied either" "$before" "$(summary P01)"
check_contains "an unsigned push is refused" "403" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "$(url P01)/sync/v1/push")"
kill "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
PROXY_PID=""

# the healthy tree was not disturbed by any of it
check_eq "the province still holds exactly its subtree" "$(expected P01)" \
    "$(summary P01 | grep -v -e "${ORIGIN[RP]}")"

# --- lienthong up ----------------------------------------------------------
section "up"
for n in "${!PID[@]}"; do
    [ -n "${PID[$n]}" ] && node_stop "$n"
done
# six free ports in a row
UP_PORT=$(python3 -c '
import socket
for base in range(21000, 60000, 7):
    socks = []
    try:
        for p in range(base, base + 6):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()')
up_ready() { # up_ready FILE: "ready" printed, or the command gave up
    grep -q '^ready' "$1" || ! kill -0 "$UP_PID" 2>/dev/null
}
"$LT" up --dir "$TMP/tree" --port "$UP_PORT" --people 5 --threads 1 >"$TMP/up.out" 2>&1 &
UP_PID=$!
wait_for 90 up_ready "$TMP/up.out"
check_contains "up starts the tree" "ready" "$(cat "$TMP/up.out")"
check_contains "and prints each node's URL" "26740  Phường Sài Gòn" "$(cat "$TMP/up.out")"
check_eq "six nodes" "6" "$(grep -cE '^  [0-9A-Z]+ .*http://127.0.0.1:[0-9]+  (centre|parent)' "$TMP/up.out")"
PORT[UPC]=$((UP_PORT + 3))
PORT[UPV]=$UP_PORT
check_contains "and the demo accounts with their passwords" "officer.00004" "$(cat "$TMP/up.out")"
TOKEN[UPC]=$("$LT" user token --data "$TMP/tree/00004" --account officer.00004)
TOKEN[UPV]=$("$LT" user token --data "$TMP/tree/VN" --account officer.vn)
UP_PASSWORD=$(awk '$2 == "officer.00004" { print $5 }' "$TMP/tree/accounts.txt")
check_eq "the officer of 00004 logs in with the password printed" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$(url UPC)/api/v1/auth/login" \
        --data-binary "{\"account\":\"officer.00004\",\"password\":\"$UP_PASSWORD\"}")"
check_eq "a write at a commune of the tree" "201" "$(post UPC /api/v1/people "$PERSON")"
check "reaches the centre" wait_for 10 has_person UPV 001090123456
demo_at_centre() {
    curl -s -H "Authorization: Bearer ${TOKEN[UPV]}" -H 'X-Purpose: sync test' \
        "$(url UPV)/api/v1/households?unit=26740&limit=1" |
        grep -c '"unit":"26740"'
}
check "so does the demo data" wait_eq 20 1 demo_at_centre
kill -INT "$UP_PID"
wait "$UP_PID"
check_eq "Ctrl-C stops the tree cleanly" "0" "$?"
UP_PID=""
check_contains "and says so" "stopped" "$(cat "$TMP/up.out")"
check_fails "no node is left listening" curl -fs -m 1 "$(url UPV)/healthz"
"$LT" up --dir "$TMP/tree" --port "$UP_PORT" --people 5 --threads 1 >"$TMP/up2.out" 2>&1 &
UP_PID=$!
wait_for 60 up_ready "$TMP/up2.out"
check_contains "up reuses the tree it made" "ready" "$(cat "$TMP/up2.out")"
check_eq "without enrolling again" "0" "$(grep -c 'enrolled' "$TMP/up2.out")"
check "the data is still there" has_person UPV 001090123456
kill -INT "$UP_PID"
wait "$UP_PID"
UP_PID=""

done_testing
