#!/usr/bin/env bash
# test_conflict.sh - the conflict inbox and freshness in /metrics, over real
# processes on loopback: a centre, province 01 and commune 00004.
#
# A person registered at the commune goes up; then the province and the
# commune each change it from the version they hold.  The commune's change
# reaches the province based on a stale version: it must enter the log and
# go up (the centre receives it too), but overwrite nothing.  Exactly one
# conflict, both sides kept, the record marked, at the province and at the
# centre.  Refused resolutions change nothing; an officer's resolution is
# an event that clears the mark at the province and, relayed, at the
# centre; pulled down, it is in force at the commune, which had set the
# province's change aside.  GET /metrics carries the sync series and flags
# a silent child.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tree.sh"

SERVE_OPTS=(--threads 2 --sync-heartbeat 0.5 --silent-after 2 --sync-retry-max 1 --trace sync)
ID=001090123456

trap 'tree_stop; cleanup' EXIT

# req METHOD NAME PATH [TOKEN [BODY [HEADER]]]: prints the status; the body is in $TMP/body
req() {
    local method=$1 name=$2 path=$3 token=${4-${TOKEN[$2]}} body=${5:-} header=${6:-X-Purpose: conflict test}
    local args=(-s -o "$TMP/body" -w '%{http_code}' -m 10 -X "$method" -H "$header")
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    curl "${args[@]}" "$(url "$name")$path"
}

# js EXPR: a Python expression over the last body (bound to d)
js() {
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

# at NAME PATH EXPR: GET PATH as NAME's officer, then js EXPR
at() {
    req GET "$1" "$2" >/dev/null
    js "$3"
}

wait_eq() { # wait_eq SECONDS EXPECTED CMD...
    local end=$((SECONDS + $1)) want=$2
    shift 2
    while [ "$SECONDS" -le "$end" ]; do
        [ "$("$@" 2>/dev/null)" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

# summary NAME: the node's log, per origin "origin count max_seq last_hash"
summary() {
    python3 - "${DIR[$1]}/lienthong.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
for o, n, top in db.execute("SELECT origin, COUNT(*), MAX(seq) FROM events GROUP BY origin ORDER BY origin"):
    h = db.execute("SELECT hex(hash) FROM events WHERE origin = ? AND seq = ?", (o, top)).fetchone()[0]
    print(o, n, top, h)
EOF
}

person() { # person NAME: the record as JSON
    printf '{"id":"%s","full_name":"%s","birth_date":"1990-05-01","sex":"male","ethnicity":"01","nationality":"VN","status":"alive"}' "$ID" "$1"
}

section() { echo "# -- $1 (at ${SECONDS}s)"; }

# --- a centre, a province, a commune ----------------------------------------
section "tree"
node_new VN VN && node_new P01 01 VN && node_new C4 00004 P01 || exit 1
AUDITOR=$(account_token "${DIR[P01]}" inspector auditor 01)
CLERK=$(account_token "${DIR[P01]}" counter clerk 01)
OTHER=$(account_token "${DIR[P01]}" ops79 officer 79)
node_start VN || exit 1
enrol P01 && node_start P01 || exit 1
enrol C4 && node_start C4 || exit 1
check_eq "the tree is enrolled" "2" "$(grep -c '^enrolled node' "$TMP/enrol.out")"

# --- a commit wakes the pusher -----------------------------------------------
section "wake-up"
t0=$(date +%s%N)
check_eq "a person is registered at the commune" "201" \
    "$(req POST C4 /api/v1/people "${TOKEN[C4]}" "$(person "Nguyễn Văn An")")"
wait_eq 10 "Nguyễn Văn An" at P01 /api/v1/people/$ID "d['record']['full_name']"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "# commune -> province in $ms ms (write, push woken by the commit, read by polling)"
check_eq "it reaches the province at once (under 1 s, with sanitizers)" "yes" \
    "$([ "$ms" -lt 1000 ] && echo yes || echo "no: $ms ms")"
wait_eq 10 "Nguyễn Văn An" at VN /api/v1/people/$ID "d['record']['full_name']"
check_eq "and the centre" "Nguyễn Văn An" "$(at VN /api/v1/people/$ID "d['record']['full_name']")"
RES='{"person_id":"'$ID'","kind":"permanent","unit":"00004","address_line":"12 Kim Mã","from_date":"2020-01-01"}'
check_eq "the commune records where the person lives (so the province's changes come down)" \
    "201" "$(req POST C4 /api/v1/residences "${TOKEN[C4]}" "$RES")"
wait_eq 10 "00004" at P01 /api/v1/residences/$ID/permanent "d['record']['unit']"

# --- concurrent changes at two levels ------------------------------------------
section "concurrent changes"
# The province is down while the commune changes the record, and the commune is
# down while the province does: neither has seen the other's change.
node_stop P01
check_eq "with its link down, the commune changes it from version 1" "200" \
    "$(req PUT C4 /api/v1/people/$ID "${TOKEN[C4]}" "$(person "Nguyễn Văn Xã")" 'If-Match: "1"')"
node_stop C4
node_start P01 || exit 1
check_eq "so does the province, from version 1" "200" \
    "$(req PUT P01 /api/v1/people/$ID "${TOKEN[P01]}" "$(person "Nguyễn Văn Tỉnh")" 'If-Match: "1"')"
node_start C4 || exit 1
open_at() { at "$1" /api/v1/conflicts "len(d['conflicts'])"; }
wait_eq 10 1 open_at P01
check_eq "exactly one conflict in the province's inbox" "1" "$(open_at P01)"
CID=$(at P01 /api/v1/conflicts "d['conflicts'][0]['id']")
check_contains "named by the commune's event" "${ORIGIN[C4]}:" "$CID"
check_eq "the province's record is not overwritten" "Nguyễn Văn Tỉnh" \
    "$(at P01 /api/v1/people/$ID "d['record']['full_name']")"
check_eq "the record is marked" "[\"$CID\"]" "$(at P01 /api/v1/people/$ID "d['conflicts']")"
check_eq "its version counts the change set aside" "3" "$(at P01 /api/v1/people/$ID "d['version']")"
req GET P01 "/api/v1/conflicts/$CID" >/dev/null
check_eq "both sides are kept: the held one" "Nguyễn Văn Tỉnh ${ORIGIN[P01]} ops 2" \
    "$(js "' '.join([d['held']['record']['full_name'], d['held']['origin'], d['held']['actor'], str(d['held']['version'])])")"
check_eq "and the incoming one" "Nguyễn Văn Xã ${ORIGIN[C4]} ops 1" \
    "$(js "' '.join([d['incoming']['record']['full_name'], d['incoming']['origin'], d['incoming']['actor'], str(d['incoming']['base_version'])])")"
check_eq "with the version to resolve against" "3" "$(js "d['current']['version']")"
audited() { # the accesses to the person recorded at the province under action $1
    req GET P01 "/api/v1/audit?subject_kind=person&subject=$ID" "$AUDITOR" >/dev/null
    js "sum(i['action'] == '$1' for i in d['items'])"
}
wait_eq 10 1 audited conflict
check_eq "viewing a conflict is in the audit trail, as a read" "1" "$(audited conflict)"
check_eq "the commune keeps its own change" "Nguyễn Văn Xã" \
    "$(at C4 /api/v1/people/$ID "d['record']['full_name']")"
check_eq "the history shows the change set aside" "[false, false, true]" \
    "$(at P01 /api/v1/people/$ID/history "[e['set_aside'] for e in d['events']]")"
c4_history() { at C4 /api/v1/people/$ID/history "[e['set_aside'] for e in d['events']]"; }
wait_eq 10 "[false, false, true]" c4_history
check_eq "the province's change, pulled down, is set aside at the commune as well" \
    "[false, false, true]" "$(c4_history)"
check_eq "where the record stays the commune's" "Nguyễn Văn Xã" \
    "$(at C4 /api/v1/people/$ID "d['record']['full_name']")"
check_contains "the province logs it" "set aside" "$(cat "$TMP/P01.log")"

# the event went into the log and up, so the centre judges it the same way
wait_eq 10 1 open_at VN
check_eq "one conflict at the centre too" "1" "$(open_at VN)"
check_eq "the same one" "$CID" "$(at VN /api/v1/conflicts "d['conflicts'][0]['id']")"
check_eq "the centre keeps the province's record" "Nguyễn Văn Tỉnh" \
    "$(at VN /api/v1/people/$ID "d['record']['full_name']")"
check_eq "and marks it" "[\"$CID\"]" "$(at VN /api/v1/people/$ID "d['conflicts']")"
check "every chain is intact at the centre" "$LT" log --data "${DIR[VN]}" --verify

# --- refusals change nothing ----------------------------------------------------
section "refusals"
before=$(summary P01)
centre_before=$(summary VN)
resolve() { # resolve NAME BODY [TOKEN]
    req POST "$1" "/api/v1/conflicts/$CID/resolve" "${3-${TOKEN[$1]}}" "$2"
}
check_eq "no account: 401" "401" "$(resolve P01 '{"choice":"held","version":3}' "")"
check_eq "a clerk: 403" "403" "$(resolve P01 '{"choice":"held","version":3}' "$CLERK")"
check_eq "an officer of another province: 403" "403" \
    "$(resolve P01 '{"choice":"held","version":3}' "$OTHER")"
check_contains "outside the jurisdiction" "outside your jurisdiction" "$(cat "$TMP/body")"
check_eq "nor may that officer look at it" "403" "$(req GET P01 "/api/v1/conflicts/$CID" "$OTHER")"
check_eq "nor list another province's conflicts" "403" \
    "$(req GET P01 "/api/v1/conflicts?unit=00004" "$OTHER")"
check_eq "their own list is empty" "0" \
    "$(req GET P01 /api/v1/conflicts "$OTHER" >/dev/null; js "len(d['conflicts'])")"
check_eq "a view without a purpose: 400" "400" \
    "$(req GET P01 "/api/v1/conflicts/$CID" "${TOKEN[P01]}" "" "X-Nothing: 1")"
check_eq "a stale version: 409" "409" "$(resolve P01 '{"choice":"incoming","version":2}')"
check_contains "naming the current one" "current version 3" "$(cat "$TMP/body")"
check_eq "an unknown choice: 400" "400" "$(resolve P01 '{"choice":"theirs","version":3}')"
check_eq "a record without \"merged\": 400" "400" \
    "$(resolve P01 "{\"choice\":\"held\",\"version\":3,\"record\":$(person X)}")"
check_eq "a merged record that is not valid: 400" "400" \
    "$(resolve P01 '{"choice":"merged","version":3,"record":{"id":"001090123456"}}')"
check_eq "an unknown member: 400" "400" "$(resolve P01 '{"choice":"held","version":3,"why":1}')"
check_eq "an unknown conflict: 404" "404" \
    "$(req POST P01 "/api/v1/conflicts/${ORIGIN[C4]}:999/resolve" "${TOKEN[P01]}" '{"choice":"held","version":3}')"
check_eq "the province's log did not move" "$before" "$(summary P01)"
check_eq "nor the centre's" "$centre_before" "$(summary VN)"
check_eq "the conflict is still open" "open" "$(at P01 "/api/v1/conflicts/$CID" "d['status']")"
check_eq "the record is as it was" "Nguyễn Văn Tỉnh 3" \
    "$(at P01 /api/v1/people/$ID "d['record']['full_name'] + ' ' + str(d['version'])")"

# --- metrics: the inbox and freshness --------------------------------------------
section "metrics"
metrics() { curl -s -m 5 -H "Authorization: Bearer $AUDITOR" "$(url P01)/metrics"; }
m=$(metrics)
check_contains "GET /metrics counts the open conflicts" "lienthong_conflicts_open 1" "$m"
check_eq "so does the status report" "1" \
    "$(req GET P01 /sync/v1/status >/dev/null; js "d['conflicts_open']")"
check_contains "keeps the store's counters" "lienthong_store_commits_total" "$m"
check_contains "gives each child's backlog in events" \
    "lienthong_sync_child_backlog_events{child=\"${ORIGIN[C4]}\",unit=\"00004\"} 0" "$m"
check_contains "and in seconds" \
    "lienthong_sync_child_backlog_seconds{child=\"${ORIGIN[C4]}\",unit=\"00004\"}" "$m"
check_contains "the time since its last contact" \
    "lienthong_sync_child_last_contact_age_seconds{child=\"${ORIGIN[C4]}\",unit=\"00004\"}" "$m"
check_contains "a silence flag, off" \
    "lienthong_sync_child_silent{child=\"${ORIGIN[C4]}\",unit=\"00004\"} 0" "$m"
check_contains "the threshold (serve --silent-after)" "lienthong_sync_silent_after_seconds 2" "$m"
check_contains "and the way up" "lienthong_sync_upstream_backlog_events 0" "$m"
check_eq "the metrics are for monitoring accounts only" "403" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $CLERK" "$(url P01)/metrics")"

# --- resolve at the province ---------------------------------------------------------
section "resolve"
check_eq "the province's officer takes the commune's side" "200" \
    "$(resolve P01 '{"choice":"incoming","version":3}')"
check_eq "the conflict is resolved" "resolved incoming ops" \
    "$(js "' '.join([d['status'], d['resolution']['choice'], d['resolution']['actor']])")"
check_eq "the record is the commune's" "Nguyễn Văn Xã" \
    "$(at P01 /api/v1/people/$ID "d['record']['full_name']")"
check_eq "and no longer marked" "no mark" \
    "$(at P01 /api/v1/people/$ID "'conflicts' in d and 'marked' or 'no mark'")"
check_eq "the inbox is empty" "0" "$(open_at P01)"
check_eq "resolving it again: 409" "409" "$(resolve P01 '{"choice":"held","version":4}')"
check_contains "as resolved already" "resolved already" "$(cat "$TMP/body")"
centre_clear() { at VN /api/v1/people/$ID "'conflicts' in d and 'marked' or d['record']['full_name']"; }
wait_eq 10 "Nguyễn Văn Xã" centre_clear
check_eq "the resolution reached the centre and cleared its mark" "Nguyễn Văn Xã" "$(centre_clear)"
check_eq "the centre's copy is resolved, by the province's officer" "resolved ops" \
    "$(at VN "/api/v1/conflicts/$CID" "d['status'] + ' ' + d['resolution']['actor']")"
check_eq "the centre's inbox is empty" "0" "$(open_at VN)"
check_eq "the resolved ones are listed apart" "1" \
    "$(at VN "/api/v1/conflicts?status=resolved" "len(d['conflicts'])")"
c4_now() { at C4 /api/v1/people/$ID "str(d['version']) + ' ' + d['record']['full_name']"; }
wait_eq 10 "4 Nguyễn Văn Xã" c4_now
check_eq "the resolution came down to the commune and is in force there" "4 Nguyễn Văn Xã" \
    "$(c4_now)"
check_eq "the commune's history ends with it, from the province" \
    "[false, false, true, false] ${ORIGIN[P01]}" \
    "$(at C4 /api/v1/people/$ID/history "str([e['set_aside'] for e in d['events']]).lower() + ' ' + d['events'][-1]['origin']")"
check_contains "GET /metrics shows it" "lienthong_conflicts_open 0" "$(metrics)"
for n in VN P01 C4; do
    check "$n: every hash chain is intact" "$LT" log --data "${DIR[$n]}" --verify
done

# --- a silent child is flagged in /metrics ----------------------------------------------
section "silence"
node_stop C4
silent() { metrics | grep -c "lienthong_sync_child_silent{child=\"${ORIGIN[C4]}\",unit=\"00004\"} 1"; }
wait_eq 10 1 silent
check_eq "a child silent past the threshold is flagged in GET /metrics" "1" "$(silent)"
node_start C4 || exit 1
wait_eq 10 0 silent
check_eq "and unflagged when it is back" "0" "$(silent)"

done_testing
