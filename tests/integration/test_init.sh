#!/usr/bin/env bash
# test_init.sh - "lienthong init" makes a node's data directory, refuses
# what it must without leaving anything behind, and "lienthong log" lists and
# verifies the node's event log.
. "$(dirname "$0")/lib.sh"

nodes=$TMP/nodes
mkdir -p "$nodes"

leftovers() { # temporary directories init may have left in a parent
    find "$1" -maxdepth 1 -name '.*.init-*' | wc -l
}

json_field() { # json_field FIELD: read one NDJSON line on stdin, print a field path
    python3 -c 'import json,sys
v = json.loads(sys.stdin.readline())
for k in sys.argv[1].split("."):
    v = v[k]
print("null" if v is None else v)' "$1"
}

# --- a commune node
check "init a commune node" "$LT" init --data "$nodes/ba-dinh" --unit 00004
out=$(cat "$TMP/out")
check_contains "init names the unit" "Phường Ba Đình (00004, commune)" "$out"
origin=$(sed -n 's/^created node \([^ ]*\) .*/\1/p' "$TMP/out")
check_eq "origin is the unit code and 8 hex digits" "ok" \
    "$([[ $origin =~ ^00004-[0-9a-f]{8}$ ]] && echo ok || echo "bad: $origin")"
check_eq "the database is in the directory" "yes" \
    "$([ -f "$nodes/ba-dinh/lienthong.db" ] && echo yes || echo no)"
check_eq "the data directory is private" "700" "$(stat -c %a "$nodes/ba-dinh")"
check_eq "no temporary directory is left" "0" "$(leftovers "$nodes")"

# --- the log of the new node
check "log lists the new node's events" "$LT" log --data "$nodes/ba-dinh"
check_eq "one event" "1" "$(wc -l <"$TMP/out")"
line=$(cat "$TMP/out")
check_eq "it is at position 1" "1" "$(json_field pos <<<"$line")"
check_eq "it is the node's first event" "node.initialised" "$(json_field type <<<"$line")"
check_eq "it comes from the node" "$origin" "$(json_field origin <<<"$line")"
check_eq "its body names the unit" "00004" "$(json_field body.unit <<<"$line")"
check_eq "its body names the province" "01" "$(json_field body.province <<<"$line")"
check_eq "the first event has no link" "null" "$(json_field prev_hash <<<"$line")"
check_eq "its hash is 32 bytes of hex" "64" "$(json_field hash <<<"$line" | tr -d '\n' | wc -c)"
check "log --verify accepts the chain" "$LT" log --data "$nodes/ba-dinh" --verify
check_contains "verify counts the events" "verified 1 event up to position 1" "$(cat "$TMP/out")"
check "log --entity" "$LT" log --data "$nodes/ba-dinh" --entity "node/$origin"
check_eq "the node entity has one event" "1" "$(wc -l <"$TMP/out")"
check "log --entity of an unknown entity" "$LT" log --data "$nodes/ba-dinh" --entity person/1
check_eq "no events for it" "0" "$(wc -l <"$TMP/out")"
check "log --after the head" "$LT" log --data "$nodes/ba-dinh" --after 1
check_eq "nothing after the head" "0" "$(wc -l <"$TMP/out")"
check "log --limit 1" "$LT" log --data "$nodes/ba-dinh" --limit 1
check_eq "one line with --limit 1" "1" "$(wc -l <"$TMP/out")"
check_fails "log --limit 0 is refused" "$LT" log --data "$nodes/ba-dinh" --limit 0
check_fails "log --verify with --entity is refused" "$LT" log --data "$nodes/ba-dinh" \
    --verify --entity x
check_fails "log of a directory without a node" "$LT" log --data "$nodes/none"
check_contains "log says how to make one" "lienthong init" "$(cat "$TMP/err")"

# --- refusals leave everything as it was
sum_before=$(sha256sum "$nodes/ba-dinh/lienthong.db" | cut -d' ' -f1)
list_before=$(ls -A "$nodes/ba-dinh")
check_fails "init refuses a directory that holds a node" "$LT" init --data "$nodes/ba-dinh" \
    --unit 00004
check_contains "it says so" "already holds a node" "$(cat "$TMP/err")"
check_eq "the node's database is unchanged" "$sum_before" \
    "$(sha256sum "$nodes/ba-dinh/lienthong.db" | cut -d' ' -f1)"
check_eq "the node's directory is unchanged" "$list_before" "$(ls -A "$nodes/ba-dinh")"

check_fails "init refuses an unknown code" "$LT" init --data "$nodes/x1" --unit 99999
check_contains "it names the code" "no unit has the code \"99999\"" "$(cat "$TMP/err")"
check_contains "it hints at a search" "lienthong units search" "$(cat "$TMP/err")"
check_eq "nothing was created" "no" "$([ -e "$nodes/x1" ] && echo yes || echo no)"

check_fails "init refuses a commune abolished in 2025" "$LT" init --data "$nodes/x2" --unit 00001
check_contains "it says the unit ended" "no longer in force" "$(cat "$TMP/err")"
check_contains "it names the successor" "00097 Phường Hồng Hà" "$(cat "$TMP/err")"
check_eq "nothing was created for it" "no" "$([ -e "$nodes/x2" ] && echo yes || echo no)"

check_fails "init refuses a district" "$LT" init --data "$nodes/x3" --unit 001
check_contains "it suggests a search by name" "units search \"Ba Đình\"" "$(cat "$TMP/err")"

check_fails "init refuses a missing parent" "$LT" init --data "$nodes/no/such/dir" --unit 00004
check_contains "it says the parent is missing" "is not an existing directory" "$(cat "$TMP/err")"
check_eq "no parent was made" "no" "$([ -e "$nodes/no" ] && echo yes || echo no)"

touch "$nodes/a-file"
check_fails "init refuses a parent that is a file" "$LT" init --data "$nodes/a-file/node" \
    --unit 00004
check_fails "init refuses a file as the directory" "$LT" init --data "$nodes/a-file" \
    --unit 00004
check_eq "the file is untouched" "0" "$(stat -c %s "$nodes/a-file")"

mkdir -p "$nodes/busy"
echo "keep me" >"$nodes/busy/notes.txt"
check_fails "init refuses a non-empty directory" "$LT" init --data "$nodes/busy" --unit 00004
check_contains "it says why" "is not empty" "$(cat "$TMP/err")"
check_eq "its contents are untouched" "notes.txt" "$(ls -A "$nodes/busy")"
check_eq "no temporary directory is left after refusals" "0" "$(leftovers "$nodes")"

check_fails "init without --unit is a usage error" "$LT" init --data "$nodes/x4"
"$LT" init --data "$nodes/x4" >/dev/null 2>&1
check_eq "usage errors exit with 2" "2" "$?"

# --- an empty directory, a province, the centre
mkdir -p "$nodes/empty"
check "init accepts an empty directory" "$LT" init --data "$nodes/empty" --unit 00004
other=$(sed -n 's/^created node \([^ ]*\) .*/\1/p' "$TMP/out")
check_eq "two nodes of one unit get different origins" "yes" \
    "$([ -n "$other" ] && [ "$other" != "$origin" ] && echo yes || echo no)"
check "init a province node" "$LT" init --data "$nodes/ha-noi" --unit 01
check_contains "it is a province" "(01, province)" "$(cat "$TMP/out")"
check "init the centre" "$LT" init --data "$nodes/centre/" --unit VN
check_contains "the centre's origin starts with VN" "created node VN-" "$(cat "$TMP/out")"
check_eq "the trailing slash named the same directory" "yes" \
    "$([ -f "$nodes/centre/lienthong.db" ] && echo yes || echo no)"

# --- tampering is found
python3 - "$nodes/ba-dinh/lienthong.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE events SET body = replace(body, 'Ba Đình', 'Ba Dinh') WHERE pos = 1")
db.commit()
EOF
check_fails "log --verify finds a changed body" "$LT" log --data "$nodes/ba-dinh" --verify
check_contains "it names the event" "hash chain broken at log position 1" "$(cat "$TMP/err")"
"$LT" log --data "$nodes/ba-dinh" --verify >/dev/null 2>&1
check_eq "a broken chain exits with 1" "1" "$?"
check "log still lists a tampered log" "$LT" log --data "$nodes/ba-dinh"
check_contains "with the changed body" "Ba Dinh" "$(cat "$TMP/out")"

done_testing
