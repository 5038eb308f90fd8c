# What the benchmark scripts share; sourced by bench/*.sh.
# (Its variables are set for, or by, the scripts that source it.)
# shellcheck shell=bash disable=SC2034,SC2154

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

# bench_start "$@", once lib.sh is sourced from "$top/bench": checks the
# one argument of a benchmark, the build folder; sets $bench, $out (where
# the runs go) and $build (that folder, absolute)
bench_start() {
    if [ $# -ne 1 ]; then
        echo "usage: $0 BUILD-FOLDER" >&2
        exit 2
    fi

    bench="$top/bench"
    out="$bench/out"
    build=$(cd "$1" && pwd)
}

# wait_up URL...: waits (5 s at the most) until every URL answers
wait_up() {
    local i url up

    for i in $(seq 50); do
        up=1
        for url in "$@"; do
            curl -s -o /dev/null --max-time 1 "$url" || { up=; break; }
        done
        [ -z "$up" ] || return 0
        [ "$i" -lt 50 ] || die "nginx does not answer at $url"
        sleep 0.1
    done
}

# api METHOD PATH TOKEN BODY EXPECTED-STATUS: a request to "$base", whose
# answer must have that status; prints the answer's body
api() {
    local answer status

    answer=$(curl -s -X "$1" "$base$2" \
                  -H "Authorization: Bearer $3" \
                  -H "Content-Type: application/json" \
                  ${4:+-d "$4"} -w '\n%{http_code}') \
        || die "$1 $2: curl failed"

    status=${answer##*$'\n'}
    answer=${answer%$'\n'*}

    [ "$status" = "$5" ] || die "$1 $2: $status $answer"
    printf '%s\n' "$answer"
}

# field NAME: the string value of the top-level field NAME of the flat JSON
# object on stdin (the first one)
field() {
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -1
}

# new_account: an account made with "$admin", and an API key of it, in
# $acc and $key
new_account() {
    acc=$(api POST /v1/accounts "$admin" '{"name":"bench"}' 201 | field id)
    [ -n "$acc" ] || die "no account id"

    key=$(api POST "/v1/accounts/$acc/keys" "$admin" '{}' 201 | field token)
    [[ "$key" == ck_* ]] || die "no API key"
}

# get LINE KEY: the value of KEY in a BENCH or BASELINE line (KEY=VALUE
# words)
get() {
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# bench_line FILE NAME: the BENCH line of wrk's output in FILE, or dies
# (printing FILE) when there is none or when an answer was not as expected
bench_line() {
    local file=$1 line

    line=$(grep '^BENCH ' "$file") \
        || { cat "$file" >&2; die "no figures from wrk ($2)"; }

    if [ "$(get "$line" unexpected)" != 0 ] \
        || [ "$(get "$line" errors)" != "0/0/0/0/0" ]
    then
        cat "$file" >&2
        die "wrk ($2): answers not as expected"
    fi

    printf '%s\n' "$line"
}

# open_db FILE: sql() runs its argument on FILE, the server's database, as
# the owner of the file (nginx's worker user) when run as root, so that a
# file SQLite creates next to it (-wal, -shm) stays the workers' own
open_db() {
    db=$1
    [ -f "$db" ] || die "no database at $db"

    if [ "$(id -u)" = 0 ]; then
        as_owner=(setpriv --reuid="$(stat -c %u "$db")" \
                  --regid="$(stat -c %g "$db")" --clear-groups)
    else
        as_owner=()
    fi
}

sql() {
    "${as_owner[@]}" sqlite3 -batch -noheader -cmd ".timeout 30000" \
        "$db" "$1" || die "sqlite3: $1"
}
