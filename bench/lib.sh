# bench/lib.sh - what the HTTP benchmarks share: the machine, the tools, a
# node loaded with people, a server to measure.  Source it; set LT first
# (the lienthong binary).  Everything runs on loopback; nodes and files go
# under bench/out.

BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
_bench_pids=""

bench_cleanup() {
    for p in $_bench_pids; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null || true # killed on purpose: not a failure of the bench
    done
}
trap bench_cleanup EXIT

# machine: print what the figures were measured on.
machine() {
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
        "$(awk '/MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
    echo "disk of $BENCH_OUT: $(df -h "$BENCH_OUT" | awk 'NR==2{print $1", "$2}')"
    echo "lienthong: $LT ($("$LT" --version))"
}

# need_tools CMD...: install the Debian packages of missing commands.
need_tools() {
    local missing=()
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} ..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        "${missing[@]/nginx/nginx-light}" >/dev/null
}

# free_port: a loopback TCP port nothing listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# metric NAME PORT: one counter of the node's /metrics (read as the admin).
metric() {
    curl -s -H "Authorization: Bearer ${ADMIN_TOKEN:-}" "http://127.0.0.1:$2/metrics" |
        awk -v n="$1" '$1 == n {print $2}'
}

# bench_accounts DIR: an officer (reads and writes) and an admin (/metrics)
# of the whole country on the node in DIR, made once; sets OFFICER_TOKEN,
# ADMIN_TOKEN and AUTH_H, the curl and wrk arguments of the officer's
# requests (a bearer token and a stated purpose).
bench_accounts() {
    local dir=$1 role
    printf 'bench-password-7\n' >"$BENCH_OUT/password"
    for role in officer admin; do
        "$LT" user list --data "$dir" 2>/dev/null | grep -q "^bench.$role " ||
            "$LT" user add --data "$dir" --account "bench.$role" --role "$role" --unit VN \
                --password-file "$BENCH_OUT/password" >/dev/null || return 1
    done
    OFFICER_TOKEN=$("$LT" user token --data "$dir" --account bench.officer --hours 24)
    ADMIN_TOKEN=$("$LT" user token --data "$dir" --account bench.admin --hours 24)
    AUTH_H=(-H "Authorization: Bearer $OFFICER_TOKEN" -H "X-Purpose: benchmark")
}

# serve DIR PORT [args...]: start "lienthong serve --data DIR" in the
# background ($SERVE_PREFIX, e.g. taskset, in front); sets SERVE_PID.
serve() {
    local dir=$1 port=$2
    shift 2
    bench_accounts "$dir" || return 1
    ${SERVE_PREFIX:-} "$LT" serve --data "$dir" --listen "127.0.0.1:$port" "$@" \
        >"$BENCH_OUT/serve-$port.log" 2>&1 &
    SERVE_PID=$!
    _bench_pids="$_bench_pids $SERVE_PID"
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the node did not come up:" >&2
    cat "$BENCH_OUT/serve-$port.log" >&2
    return 1
}

# stop PID: stop a server started here.
stop() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# has_import: true when this lienthong has the import command.
has_import() {
    "$LT" --help 2>/dev/null | grep -q '^  import '
}

# gen_people N FILE: the first N people that "lienthong gen" writes for
# the communes of Hà Nội (01), as NDJSON.
gen_people() {
    local n=$1 file=$2 per tmp
    per=$(((n + 125) / 126))
    tmp=$BENCH_OUT/gen-$n
    rm -rf "$tmp"
    "$LT" gen --units 01 --people "$per" --out "$tmp" >/dev/null 2>&1
    head -n "$n" "$tmp/people.ndjson" >"$file"
    rm -rf "$tmp"
}

# load_node DIR N: a node for 01 holding N people, made once and kept.
# With "lienthong import" the file is imported; without it every person is
# POSTed through the API by wrk (48 connections: the node takes 64 from one
# address, and /metrics is polled beside them), as the write path of a
# serving node takes them.  Prints how it was loaded and how fast.
load_node() {
    local dir=$1 n=$2
    local file=$BENCH_OUT/people-$n.ndjson
    if [ -f "$dir/loaded" ]; then
        echo "node: $dir ($(cat "$dir/loaded"))"
        return 0
    fi
    rm -rf "$dir"
    [ -s "$file" ] || gen_people "$n" "$file"
    "$LT" init --data "$dir" --unit 01 >/dev/null || return 1
    local t0=$EPOCHREALTIME how
    if has_import; then
        "$LT" import --data "$dir" --kind people --format ndjson "$file" >/dev/null 2>&1 || true
        how="lienthong import"
    else
        load_over_http "$dir" "$file" "$n" || return 1
        how="POST /api/v1/people, wrk 48 connections"
    fi
    local secs
    secs=$(echo "$EPOCHREALTIME - $t0" | bc -l)
    printf '%s, %d people in %.0f s (%.0f/s)\n' "$how" "$n" "$secs" "$(echo "$n / $secs" | bc -l)" \
        >"$dir/loaded"
    # The IDs the node holds (the import may have refused some rows).
    [ -s "$dir/ids.txt" ] || python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print("\n".join(sorted(r[0] for r in db.execute("SELECT key FROM reg_people"))))' \
        "$dir/lienthong.db" >"$dir/ids.txt"
    echo "node: $dir ($(cat "$dir/loaded"))"
}

# load_over_http DIR FILE N: POST every person of FILE to a node serving
# DIR (wrk until the node stops gaining, then bench/topup.py for what wrk
# dropped); writes DIR/ids.txt.
load_over_http() {
    local dir=$1 file=$2 n=$3 port last=-1 same=0 written
    port=$(free_port)
    serve "$dir" "$port" || return 1
    wrk -t2 -c48 -d7200s "${AUTH_H[@]}" -s "$ROOT/bench/load.lua" "http://127.0.0.1:$port" -- "$file" 2 \
        >"$BENCH_OUT/load.log" 2>&1 &
    local wrk_pid=$!
    while :; do
        sleep 2
        written=$(($(metric lienthong_store_writes_total "$port") - \
            $(metric lienthong_store_writes_failed_total "$port")))
        [ "$written" -ge "$n" ] && break
        # wrk reads the whole file before its first request: no stall before it.
        if [ "$written" -gt 0 ] && [ "$written" = "$last" ]; then
            same=$((same + 1))
            [ $same -ge 3 ] && break
        else
            same=0
        fi
        last=$written
    done
    kill "$wrk_pid" 2>/dev/null
    wait "$wrk_pid" 2>/dev/null
    LT_TOKEN=$OFFICER_TOKEN python3 "$ROOT/bench/topup.py" "http://127.0.0.1:$port" "$dir/lienthong.db" "$file" \
        "$dir/ids.txt" >&2
    local rc=$?
    stop "$SERVE_PID"
    return $rc
}

# median: the median of the numbers on standard input.
median() {
    sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'
}

# wrk_rate ARGS...: run wrk, print requests/s (non-2xx answers make it fail).
wrk_rate() {
    local out
    out=$(wrk "$@")
    if echo "$out" | grep -q 'Non-2xx'; then
        echo "wrk saw errors:" >&2
        echo "$out" >&2
        echo 0
        return
    fi
    echo "$out" | awk '/^Requests\/sec/{print $2}'
}
