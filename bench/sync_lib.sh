# bench/sync_lib.sh - what the sync benchmarks share: a chain of three
# nodes (commune 00004 -> province 01 -> centre VN) on loopback, each its
# own "lienthong serve" process and data directory, and the PostgreSQL
# clusters of the peer.  Source it after bench/lib.sh; set LT first.

declare -A NODE_DIR NODE_PORT NODE_PID NODE_UNIT NODE_PARENT

# tree_init BASE: make the three nodes under BASE (removed first), each
# with a fixed free port, the province and the commune with their parent's
# URL.  Nothing is enrolled or started.
tree_init() {
    local base=$1 name
    rm -rf "$base"
    mkdir -p "$base"
    NODE_UNIT=([centre]=VN [province]=01 [commune]=00004)
    NODE_PARENT=([centre]="" [province]=centre [commune]=province)
    for name in centre province commune; do
        NODE_DIR[$name]=$base/$name
        NODE_PORT[$name]=$(free_port)
    done
    for name in centre province commune; do
        local args=(init --data "${NODE_DIR[$name]}" --unit "${NODE_UNIT[$name]}")
        [ -n "${NODE_PARENT[$name]}" ] &&
            args+=(--parent "http://127.0.0.1:${NODE_PORT[${NODE_PARENT[$name]}]}")
        "$LT" "${args[@]}" >/dev/null || return 1
    done
    tree_save "$base"
}

# tree_save BASE / tree_load BASE: the ports and directories, kept beside
# the nodes so that a copy of the tree can be started again.
tree_save() {
    local name
    for name in centre province commune; do
        echo "$name ${NODE_UNIT[$name]} ${NODE_PORT[$name]} ${NODE_PARENT[$name]:--}"
    done >"$1/tree.txt"
}

tree_load() {
    local base=$1 name unit port parent
    while read -r name unit port parent; do
        NODE_DIR[$name]=$base/$name
        NODE_UNIT[$name]=$unit
        NODE_PORT[$name]=$port
        NODE_PARENT[$name]=${parent#-}
    done <"$base/tree.txt"
}

# node_start NAME [CPU_LIST [serve args...]]: serve the node, pinned to
# CPU_LIST with taskset when given ("" for none); waits for /healthz.
node_start() {
    local name=$1 cpus=${2:-}
    shift 2 2>/dev/null || shift $#
    local prefix=()
    [ -n "$cpus" ] && prefix=(taskset -c "$cpus")
    "${prefix[@]}" "$LT" serve --data "${NODE_DIR[$name]}" \
        --listen "127.0.0.1:${NODE_PORT[$name]}" "$@" \
        >>"$BENCH_OUT/sync-$name.log" 2>&1 &
    NODE_PID[$name]=$!
    _bench_pids="$_bench_pids ${NODE_PID[$name]}"
    for _ in $(seq 1 150); do
        curl -fsS "http://127.0.0.1:${NODE_PORT[$name]}/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node $name did not come up:" >&2
    tail -n 20 "$BENCH_OUT/sync-$name.log" >&2
    return 1
}

node_stop() {
    [ -n "${NODE_PID[$1]:-}" ] || return 0
    kill -INT "${NODE_PID[$1]}" 2>/dev/null
    wait "${NODE_PID[$1]}" 2>/dev/null
    NODE_PID[$1]=""
}

# node_enrol NAME: a one-time token from the parent's data directory, sent
# by the child to its (serving) parent.
node_enrol() {
    local name=$1 parent=${NODE_PARENT[$1]} token
    token=$("$LT" enrol --data "${NODE_DIR[$parent]}" --child-unit "${NODE_UNIT[$name]}" \
        2>>"$BENCH_OUT/sync-enrol.log") || return 1
    "$LT" enrol --data "${NODE_DIR[$name]}" --token "$token" >/dev/null
}

# node_token NAME: a bearer token of an officer of the node's unit, made once.
node_token() {
    local dir=${NODE_DIR[$1]}
    printf 'bench-password-7\n' >"$BENCH_OUT/password"
    "$LT" user list --data "$dir" 2>/dev/null | grep -q '^bench.officer ' ||
        "$LT" user add --data "$dir" --account bench.officer --role officer \
            --unit "${NODE_UNIT[$1]}" --password-file "$BENCH_OUT/password" >/dev/null || return 1
    "$LT" user token --data "$dir" --account bench.officer --hours 24
}

# node_head NAME: the node's last log position, read from its database.
node_head() {
    python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
print(db.execute("SELECT COALESCE(MAX(pos), 0) FROM events").fetchone()[0])' \
        "${NODE_DIR[$1]}/lienthong.db"
}

# origin_count NAME ORIGIN_NODE: events of ORIGIN_NODE's origin in NAME's log.
origin_count() {
    python3 -c 'import sqlite3, sys
src = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True, timeout=10)
origin = src.execute("SELECT origin FROM events WHERE seq = 1 ORDER BY pos LIMIT 1").fetchone()[0]
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
print(db.execute("SELECT COUNT(*) FROM events WHERE origin = ?", (origin,)).fetchone()[0])' \
        "${NODE_DIR[$1]}/lienthong.db" "${NODE_DIR[$2]}/lienthong.db"
}

# up_batches NAME TOKEN: push requests the node has sent its parent so far
# (heartbeats included), from GET /sync/v1/status.
up_batches() {
    curl -s -H "Authorization: Bearer $2" "http://127.0.0.1:${NODE_PORT[$1]}/sync/v1/status" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["upstream"]["batches"])'
}

# vm_hwm PID / vm_rss PID: peak and current resident set, in kB.
vm_hwm() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
vm_rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }

# cpu_ticks PID: user + system clock ticks of a process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# thread_ticks PID: "TID user+system" per thread, for where the time goes.
thread_ticks() {
    local t
    for t in /proc/$1/task/*; do
        echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
    done
}

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# --- PostgreSQL, the peer ---------------------------------------------------

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-postgres}
declare -A PG_PORT PG_DIR
_pg_dirs=""

pg_as() { runuser -u "$PG_USER" -- "$@"; }

pg_cleanup() {
    local d
    for d in $_pg_dirs; do
        [ -f "$d/postmaster.pid" ] && pg_as "$PG_BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
    done
    _pg_dirs=""
}

# pg_cluster NAME CPU_LIST: a fresh cluster under $BENCH_OUT/pg/NAME on a
# free port, wal_level=logical, fsync and synchronous_commit on (as a
# lienthong node commits with synchronous=FULL), started pinned.
pg_cluster() {
    local name=$1 cpus=${2:-} dir=$BENCH_OUT/pg/$1
    local prefix=()
    [ -n "$cpus" ] && prefix=(taskset -c "$cpus")
    mkdir -p "$BENCH_OUT/pg"
    chown "$PG_USER" "$BENCH_OUT/pg"
    [ -f "$dir/postmaster.pid" ] && pg_as "$PG_BIN/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1
    rm -rf "$dir"
    PG_DIR[$name]=$dir
    PG_PORT[$name]=$(free_port)
    pg_as "$PG_BIN/initdb" -D "$dir" -A trust -U postgres --no-sync >/dev/null || return 1
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = ${PG_PORT[$name]}
unix_socket_directories = '$dir'
wal_level = logical
max_wal_senders = 8
max_replication_slots = 8
shared_buffers = 64MB
fsync = on
synchronous_commit = on
logging_collector = off
CONF
    case " $_pg_dirs " in *" $dir "*) ;; *) _pg_dirs="$_pg_dirs $dir" ;; esac
    "${prefix[@]}" runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w start \
        >/dev/null || return 1
}

pg_ci() { echo "host=127.0.0.1 port=${PG_PORT[$1]} user=postgres dbname=postgres"; }

pg_sql() { # pg_sql NAME SQL
    psql -X -q -v ON_ERROR_STOP=1 "$(pg_ci "$1")" -c "$2"
}

# pg_postmaster_pid NAME
pg_postmaster_pid() { head -n 1 "${PG_DIR[$1]}/postmaster.pid"; }

# pg_tree_cpu_ticks NAME: CPU ticks of the postmaster and all its children.
pg_tree_cpu_ticks() {
    local pm t=0 p
    pm=$(pg_postmaster_pid "$1")
    for p in $pm $(pgrep -P "$pm"); do
        t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
