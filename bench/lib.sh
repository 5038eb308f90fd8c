# What the benchmark scripts share; sourced by bench/*.sh.

die() {
    echo "bench: $*" >&2
    exit 1
}

# stop_nginx PREFIX: TERM, then KILL after 10 s
stop_nginx() {
    local pidfile="$1/logs/nginx.pid" pid i w

    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0

    kill -TERM "$pid" 2>/dev/null || true

    # workers close the database on the way out, which checkpoints it
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done

    if kill -0 "$pid" 2>/dev/null; then
        echo "bench: nginx ($1) does not stop, killing it" >&2
        for w in $(pgrep -P "$pid"); do
            kill -KILL "$w" 2>/dev/null || true
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi

    rm -f "$pidfile"
}

# the long steps run in the background, so that Ctrl-C ends the wait for
# them at once; stop_child (from the EXIT trap) then stops them
child=

# run OUTPUT-FILE COMMAND...: COMMAND's stdout and stderr in OUTPUT-FILE
run() {
    local file=$1 rc=0
    shift

    "$@" > "$file" 2>&1 &
    child=$!
    wait "$child" || rc=$?
    child=
    return "$rc"
}

stop_child() {
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
}
