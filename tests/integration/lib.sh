# lib.sh - helpers for integration tests that run the real binary.
#
# Source it from a test script.  Each check prints "ok N - what" or
# "not ok N - what" (TAP), and the script ends with "done_testing", which
# prints the plan and exits non-zero if any check failed.
#
#   LT         the lienthong binary under test (set by tests/run.sh)
#   TMP        a fresh scratch directory, removed at exit

set -u
: "${LT:?LT must name the lienthong binary}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lt-test.XXXXXX")
_n=0
_failed=0
_pids=""

cleanup() {
    for p in $_pids; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

_report() { # status description
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_n - $2"
    else
        _failed=$((_failed + 1))
        echo "not ok $_n - $2"
    fi
}

# check "what" cmd args...: the command must exit 0.
check() {
    local what=$1
    shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    _report $rc "$what"
    if [ $rc -ne 0 ]; then
        sed 's/^/#   /' "$TMP/out" "$TMP/err" | head -n 20
    fi
}

# check_fails "what" cmd args...: the command must exit non-zero.
check_fails() {
    local what=$1
    shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ $rc -ne 0 ]; then _report 0 "$what"; else _report 1 "$what"; fi
}

# check_eq "what" expected actual
check_eq() {
    if [ "$2" = "$3" ]; then
        _report 0 "$1"
    else
        _report 1 "$1"
        echo "#   expected: $2"
        echo "#   actual:   $3"
    fi
}

# check_contains "what" needle haystack
check_contains() {
    case "$3" in
    *"$2"*) _report 0 "$1" ;;
    *)
        _report 1 "$1"
        echo "#   expected to contain: $2"
        echo "#   actual: $(printf '%s' "$3" | head -c 600)"
        ;;
    esac
}

# free_port: a loopback port nothing listens on, and that no earlier call of
# this script handed out (the kernel may give a port back as soon as it is
# closed; two nodes started later would then fight for it).  The ports given
# are kept in a file, as callers run this in a subshell.
free_port() {
    local port
    touch "$TMP/.ports"
    for _ in $(seq 1 50); do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
        if ! grep -qx "$port" "$TMP/.ports"; then
            echo "$port" >>"$TMP/.ports"
            echo "$port"
            return 0
        fi
    done
    echo "free_port: no new port in 50 tries" >&2
    return 1
}

# start_server PORT [args...]: run "lienthong serve" in the background and
# wait until /healthz answers (10 s at most).
start_server() {
    local port=$1
    shift
    "$LT" serve --listen "127.0.0.1:$port" "$@" >"$TMP/server.log" 2>&1 &
    _pids="$_pids $!"
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "# server on port $port did not come up:"
    sed 's/^/#   /' "$TMP/server.log"
    return 1
}

# account_token DIR NAME ROLE UNIT [PERSON]: add an account to the node in
# DIR and print a bearer token of a new session for it.
TEST_PASSWORD='correct-horse-battery-7'
account_token() {
    local dir=$1 name=$2 role=$3 unit=$4 person=${5:-}
    printf '%s\n' "$TEST_PASSWORD" >"$TMP/password"
    "$LT" user add --data "$dir" --account "$name" --role "$role" --unit "$unit" \
        ${person:+--person "$person"} --password-file "$TMP/password" >/dev/null || return 1
    "$LT" user token --data "$dir" --account "$name"
}

done_testing() {
    echo "1..$_n"
    [ "$_failed" -eq 0 ]
}
