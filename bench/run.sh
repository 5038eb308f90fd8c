#!/usr/bin/env bash
# `make bench`: bench/run.sh BUILD, BUILD being the folder that holds
# ngx_http_collab_module.so.  Starts nginx with the module on
# 127.0.0.1:$BENCH_PORT (18080), makes an account, a key and a room with
# curl, measures with wrk
#
#   (a) GET /baseline                              nginx's return 200 '{}'
#   (b) GET /v1/accounts/{acc}/rooms/{room}        a read through the module
#   (c) POST /v1/accounts/{acc}/rooms/{room}/users a write transaction
#   (e) GET of (b) with 16 connections, alone, then while 48 connections
#       POST as in (c) on the same server: the p99 of reads under writes
#
# then stops nginx and runs (d) bench/sqlite_baseline.c, the transaction of
# (c) on SQLite alone, and prints the ratios b/a and c/d against their
# targets.  The report is also written to bench/out/foundation.txt.
#
# Environment: BENCH_DURATION (wrk's -d, default 10s), BENCH_PORT (18080),
# NGINX_BIN or NGINX (/usr/sbin/nginx), CC (cc).
#
# Exits 1 when something fails, or when any measured request got an
# answer it should not have (the figures would mean nothing); a ratio
# below its target is reported as BELOW but is not a failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_start "$@"
prefix="$out/nginx"
module="$build/ngx_http_collab_module.so"

nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
cc=${CC:-cc}
port=${BENCH_PORT:-18080}
duration=${BENCH_DURATION:-10s}
threads=2
connections=64
base="http://127.0.0.1:$port"

GET_TARGET=0.6
POST_TARGET=1.5
POST_P99_TARGET_MS=15
MIXED_TARGET=2

for tool in wrk curl "$cc" "$nginx"; do
    command -v "$tool" > /dev/null || die "$tool not found: run 'make deps'"
done

[ -f "$module" ] || die "$module not found: run 'make'"

# wrk's duration in seconds, for the SQLite baseline: 10, 10s, 2m, 1h
case "$duration" in
    *[0-9]s) seconds=${duration%s} ;;
    *[0-9]m) seconds=$(( ${duration%m} * 60 )) ;;
    *[0-9]h) seconds=$(( ${duration%h} * 3600 )) ;;
    *[0-9])  seconds=$duration ;;
    *)       die "BENCH_DURATION: not a duration: $duration" ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    die "BENCH_DURATION: not a duration: $duration"
fi

if curl -s -o /dev/null --max-time 1 "$base/"; then
    die "127.0.0.1:$port is in use (set BENCH_PORT)"
fi


# --- nginx -----------------------------------------------------------------

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    stop_child
    stop_nginx "$prefix"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$prefix"
mkdir -p "$prefix/logs" "$prefix/tmp"

# the admin token: 32 hex characters of our own
( umask 077
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$prefix/admin.token" )
admin=$(cat "$prefix/admin.token")

sed -e "s|@MODULE@|$module|" -e "s|@LISTEN@|127.0.0.1:$port|" \
    "$bench/nginx.conf.in" > "$prefix/nginx.conf"

"$nginx" -p "$prefix/" -c "$prefix/nginx.conf" \
    || die "nginx did not start, see $prefix/logs/error.log"

wait_up "$base/baseline"


# --- setup: an account, a key, a room --------------------------------------

new_account

room=$(api POST "/v1/accounts/$acc/rooms" "$key" '{"name":"bench"}' 201 \
       | field id)
[ -n "$room" ] || die "no room id"

room_path="/v1/accounts/$acc/rooms/$room"
api GET "$room_path" "$key" "" 200 > /dev/null


# --- wrk -------------------------------------------------------------------

export BENCH_DIR="$bench"

# measure NAME SCRIPT URL [ENV=VALUE...]: wrk's output in out/NAME.txt,
# its BENCH line (see report.lua) in the variable NAME
a='' b='' c='' e1='' e2='' ew=''
measure() {
    local name=$1 script=$2 url=$3 line
    shift 3

    run "$out/$name.txt" env "$@" wrk -t"$threads" -c"$connections" \
        -d"$duration" --latency -s "$bench/$script" "$url" \
        || { cat "$out/$name.txt" >&2; die "wrk failed ($name)"; }

    line=$(grep '^BENCH ' "$out/$name.txt") \
        || { cat "$out/$name.txt" >&2; die "no figures from wrk ($name)"; }

    printf -v "$name" '%s' "$line"
}

echo "bench: nginx $("$nginx" -v 2>&1 | sed 's|.*/||'), $threads workers," \
     "wrk -t$threads -c$connections -d$duration, on 127.0.0.1:$port"

# a second of warm-up: workers open their statements, caches fill
run /dev/null wrk -t"$threads" -c"$connections" -d1s \
    -H "Authorization: Bearer $key" "$base$room_path" || true

echo "bench: (a) GET /baseline"
measure a get.lua "$base/baseline" BENCH_KEY=

echo "bench: (b) GET $room_path"
measure b get.lua "$base$room_path" BENCH_KEY="$key"

echo "bench: (c) POST $room_path/users"
measure c users.lua "$base$room_path/users" BENCH_KEY="$key" \
    BENCH_PATH="$room_path/users" BENCH_RUN="$(date +%s)"

# (e) reads alone, then reads while writes run on the same server
echo "bench: (e) GET with 16 connections, alone"
run "$out/e1.txt" env BENCH_KEY="$key" wrk -t1 -c16 -d"$duration" \
    --latency -s "$bench/get.lua" "$base$room_path" \
    || { cat "$out/e1.txt" >&2; die "wrk failed (e1)"; }
e1=$(grep '^BENCH ' "$out/e1.txt") || die "no figures from wrk (e1)"

echo "bench: (e) GET with 16 connections while 48 connections POST"
env BENCH_KEY="$key" BENCH_PATH="$room_path/users" \
    BENCH_RUN="$(date +%s)e" wrk -t1 -c48 -d"$duration" --latency \
    -s "$bench/users.lua" "$base$room_path/users" > "$out/e-post.txt" 2>&1 &
writer=$!
run "$out/e2.txt" env BENCH_KEY="$key" wrk -t1 -c16 -d"$duration" \
    --latency -s "$bench/get.lua" "$base$room_path" \
    || { cat "$out/e2.txt" >&2; die "wrk failed (e2)"; }
wait "$writer" || die "wrk failed (e, writes)"
e2=$(grep '^BENCH ' "$out/e2.txt") || die "no figures from wrk (e2)"
ew=$(grep '^BENCH ' "$out/e-post.txt") || die "no figures from wrk (e, writes)"

grep -E '\[(alert|crit|emerg|error)\]' "$prefix/logs/error.log" \
    > "$out/nginx-errors.txt" || true

# the database's files after (c): WAL checkpoints copy pages from the
# -wal file into the database file and let the WAL start over
size() {
    stat -c %s "$1" 2>/dev/null || echo 0
}
db_size=$(size "$prefix/data/collab.db")
wal_size=$(size "$prefix/data/collab.db-wal")

stop_nginx "$prefix"

# the users of (c) are of no further use, and their WAL can be gigabytes
rm -rf "$prefix/data"


# --- SQLite alone ----------------------------------------------------------

echo "bench: (d) SQLite alone, compiling bench/sqlite_baseline.c"
"$cc" -O2 -Wall -I"$top/ngx_collab_module/storage" \
    -o "$out/sqlite_baseline" "$bench/sqlite_baseline.c" \
    "$top/ngx_collab_module/storage/ngx_collab_schema.c" \
    -lsqlite3 || die "cannot build sqlite_baseline (libsqlite3-dev?)"

mkdir -p "$out/sqlite"

echo "bench: (d) 1 process, ${seconds}s"
run "$out/d1.txt" "$out/sqlite_baseline" "$out/sqlite/baseline.db" \
    "$seconds" 1 || { cat "$out/d1.txt" >&2; die "sqlite_baseline failed"; }
d1=$(grep '^BASELINE ' "$out/d1.txt") || die "no figures from sqlite_baseline"

echo "bench: (d) 2 processes, ${seconds}s"
run "$out/d2.txt" "$out/sqlite_baseline" "$out/sqlite/baseline.db" \
    "$seconds" 2 || { cat "$out/d2.txt" >&2; die "sqlite_baseline failed"; }
d2=$(grep '^BASELINE ' "$out/d2.txt") || die "no figures from sqlite_baseline"

rm -rf "$out/sqlite"


# --- report ----------------------------------------------------------------

ms() {
    awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'
}

mb() {
    awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'
}

ratio() {
    awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }'
}

verdict() {
    awk -v r="$1" -v t="$2" \
        'BEGIN { print ((r + 0 >= t + 0) ? "PASS" : "BELOW") }'
}

row() {
    local line=$2

    printf '%-4s %-44s %9s req/s  p50 %9s  p99 %9s\n' "$1" "$3" \
        "$(get "$line" rps)" "$(ms "$(get "$line" p50_us)")" \
        "$(ms "$(get "$line" p99_us)")"
}

# problems: answers other than the expected ones, socket errors
problems() {
    local line=$1 errors unexpected

    errors=$(get "$line" errors)
    unexpected=$(get "$line" unexpected)

    if [ "$errors" != "0/0/0/0/0" ] || [ "$unexpected" != "0" ]; then
        printf '%s answers not as expected (by status: %s), socket errors' \
            "$unexpected" "$(get "$line" codes)"
        printf ' connect/read/write/timeout %s, answers >= 400 %s' \
            "${errors%/*}" "${errors##*/}"
    fi
}

get_ratio=$(ratio "$(get "$b" rps)" "$(get "$a" rps)")
mixed_ratio=$(ratio "$(get "$e2" p99_us)" "$(get "$e1" p99_us)")
post_p99_ms=$(awk -v us="$(get "$c" p99_us)" 'BEGIN { printf "%.2f", us / 1000 }')
post_ratio=$(ratio "$(get "$c" rps)" "$(get "$d2" tps)")
post_ratio1=$(ratio "$(get "$c" rps)" "$(get "$d1" tps)")

report() {
    local p failed=0

    echo "collab foundation benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) cores, $(uname -sr); nginx $("$nginx" -v 2>&1 \
        | sed 's|.*/||'), SQLite $(sqlite_version)"
    echo "wrk -t$threads -c$connections -d$duration --latency, keepalive;" \
         "nginx with 2 workers, wrk on the same machine"
    echo
    row "(a)" "$a" "GET /baseline (return 200 '{}')"
    row "(b)" "$b" "GET /v1/accounts/{acc}/rooms/{room}"
    row "(c)" "$c" "POST /v1/accounts/{acc}/rooms/{room}/users"
    row "(e1)" "$e1" "GET room, 16 connections, alone"
    row "(e2)" "$e2" "GET room, 16 connections, during POSTs"
    row "(ew)" "$ew" "POST users, 48 connections, beside (e2)"
    printf '%-4s %-44s %9s tx/s   (1 process: %s tx/s)\n' "(d)" \
        "SQLite alone, same transaction, 2 procs" "$(get "$d2" tps)" \
        "$(get "$d1" tps)"
    echo

    for x in a b c e1 e2 ew; do
        p=$(problems "${!x}")
        if [ -n "$p" ]; then
            echo "($x) WARNING: $p"
            failed=1
        fi
    done

    if [ -s "$out/nginx-errors.txt" ]; then
        echo "WARNING: nginx logged $(wc -l < "$out/nginx-errors.txt")" \
             "errors, see bench/out/nginx-errors.txt"
        failed=1
    fi

    [ "$failed" = 0 ] && echo "every request got its expected answer" \
        "(200, 200, 201, 200, 200, 201)"
    echo

    echo "SQLite files at the end of the writes:"
    printf '  nginx after (c):  collab.db %s, collab.db-wal %s\n' \
        "$(mb "$db_size")" "$(mb "$wal_size")"
    printf '  (d) -wal file:    1 process %s, 2 processes %s\n' \
        "$(mb "$(get "$d1" wal_bytes)")" "$(mb "$(get "$d2" wal_bytes)")"
    echo

    printf 'GET  ratio b/a = %s   target >= %s   %s\n' "$get_ratio" \
        "$GET_TARGET" "$(verdict "$get_ratio" "$GET_TARGET")"
    printf 'POST ratio c/d = %s   target >= %s   %s\n' "$post_ratio" \
        "$POST_TARGET" "$(verdict "$post_ratio" "$POST_TARGET")"
    printf '           (c against the 1-process rate of d: %s)\n' \
        "$post_ratio1"
    printf 'POST p99 (c) = %s ms   target < %s ms   %s\n' "$post_p99_ms" \
        "$POST_P99_TARGET_MS" "$(awk -v x="$post_p99_ms" \
        -v t="$POST_P99_TARGET_MS" 'BEGIN { print (x < t ? "PASS" : "BELOW") }')"
    printf 'GET p99 during POSTs / alone e2/e1 = %s   target <= %s   %s\n' \
        "$mixed_ratio" "$MIXED_TARGET" "$(awk -v x="$mixed_ratio" \
        -v t="$MIXED_TARGET" 'BEGIN { print (x <= t ? "PASS" : "BELOW") }')"

    return "$failed"
}

sqlite_version() {
    "$out/sqlite_baseline" --version 2>/dev/null || echo "?"
}

echo
status=0
report > "$out/foundation.txt" || status=1
cat "$out/foundation.txt"
exit "$status"
