# tree.sh - a tree of real nodes on loopback for the sync tests, sourced
# after lib.sh.  Each node has a NAME (VN, P01, C4, ...); its port, data
# directory, unit, parent, origin, process and an officer's token are in
# the arrays below.  The script sets SERVE_OPTS (the serve options of
# every node) and may define node_new_extra NAME, run after each node_new.

declare -A PORT DIR PID UNIT PARENT ORIGIN TOKEN
SERVE_OPTS=()

url() { echo "http://127.0.0.1:${PORT[$1]}"; }

# node_new NAME UNIT [PARENT_NAME [PARENT_URL]]: lienthong init, and an officer's token
node_new() {
    local name=$1 unit=$2 parent=${3:-} purl=${4:-} port
    # a port none of the other nodes was given
    port=$(free_port)
    while [[ " ${PORT[*]} " == *" $port "* ]]; do port=$(free_port); done
    PORT[$name]=$port
    DIR[$name]=$TMP/nodes/$name
    UNIT[$name]=$unit
    PARENT[$name]=$parent
    mkdir -p "$TMP/nodes"
    local args=(init --data "${DIR[$name]}" --unit "$unit")
    [ -n "$parent" ] && args+=(--parent "${purl:-$(url "$parent")}")
    "$LT" "${args[@]}" >"$TMP/$name.init" 2>&1 || {
        sed 's/^/#   /' "$TMP/$name.init"
        return 1
    }
    ORIGIN[$name]=$(sed -n 's/^created node \([^ ]*\) .*/\1/p' "$TMP/$name.init")
    # An officer of the node's unit writes, reads and watches sync.
    TOKEN[$name]=$(account_token "${DIR[$name]}" ops officer "$unit")
    if declare -F node_new_extra >/dev/null; then
        node_new_extra "$name"
    fi
}

# node_start NAME: serve it, and wait until it answers
node_start() {
    local name=$1
    "$LT" serve --data "${DIR[$name]}" --listen "127.0.0.1:${PORT[$name]}" "${SERVE_OPTS[@]}" \
        >>"$TMP/$name.log" 2>&1 &
    PID[$name]=$!
    for _ in $(seq 1 150); do
        # answered, and by this process (not one that took the port first)
        curl -fsS "$(url "$name")/healthz" >/dev/null 2>&1 && kill -0 "${PID[$name]}" 2>/dev/null &&
            return 0
        sleep 0.1
    done
    echo "# node $name did not come up"
    tail -n 20 "$TMP/$name.log" | sed 's/^/#   /'
    return 1
}

node_stop() { # SIGINT, and wait for the process to end
    kill -INT "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}" 2>/dev/null
    PID[$1]=""
}

node_kill() {
    kill -9 "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}" 2>/dev/null
    PID[$1]=""
}

# enrol NAME: a token from the parent's database, sent by the child
enrol() {
    local name=$1 token
    token=$("$LT" enrol --data "${DIR[${PARENT[$name]}]}" --child-unit "${UNIT[$name]}" \
        2>>"$TMP/enrol.err") || return 1
    "$LT" enrol --data "${DIR[$name]}" --token "$token" >>"$TMP/enrol.out" 2>>"$TMP/enrol.err"
}

# tree_stop: SIGINT to every node still running, and wait for them
tree_stop() {
    for n in "${!PID[@]}"; do
        [ -n "${PID[$n]}" ] && kill -INT "${PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
}
