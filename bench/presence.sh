#!/usr/bin/env bash
# Presence benchmark (part of `make bench`): bench/presence.sh BUILD.
# Two workers on 127.0.0.1:$BENCH_PRESENCE_PORT (18090); the client is
# bench/sse_bench.c (one thread, epoll, raw sockets; it signs client
# tokens itself with the database's key).
#
#   (a) join/leave cycles per second (connect, snapshot, close; the room
#       has a participant already, so a cycle is one join and one leave)
#       against POST .../users per second, same client, same concurrency,
#       same run: the ratio, target >= 0.5
#   (b) fan-out: 1000 streams in one worker, a heartbeat join (PUT) and
#       leave (DELETE) sent to the other; from each request to the message
#       on every stream: p50, p99, max; target p99 < 100 ms
#   (c) N idle streams (PRESENCE_STREAMS, default 50000, capped by what
#       the descriptor limit allows two workers) held PRESENCE_HOLD
#       seconds (60) with a heartbeat every 10 s: how many stayed, the
#       heartbeats each got and the longest gap; the memory of both
#       workers (private RSS) plus the shared zones, per stream; target
#       N >= 50000 at <= 8 KiB each
#
# The report is printed and written to bench/out/presence.txt.  Figures
# are what this run measured; nothing is made up from a previous run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_start "$@"
prefix="$out/presence"
module="$build/ngx_http_collab_module.so"

nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
cc=${CC:-cc}
port=${BENCH_PRESENCE_PORT:-18090}
streams=${PRESENCE_STREAMS:-50000}
hold=${PRESENCE_HOLD:-60}
conc=${PRESENCE_CONCURRENCY:-32}
seconds=${PRESENCE_SECONDS:-10}
per_room=50
sources=4

for tool in curl sqlite3 "$cc" "$nginx"; do
    command -v "$tool" > /dev/null || die "$tool not found: run 'make deps'"
done

[ -f "$module" ] || die "$module not found: run 'make'"

if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
    die "127.0.0.1:$port is in use (set BENCH_PRESENCE_PORT)"
fi

mkdir -p "$out"
"$cc" -O2 -Wall -Wextra -D_GNU_SOURCE -I"$top/ngx_collab_module/core" \
    -o "$out/sse_bench" "$bench/sse_bench.c" \
    "$top/ngx_collab_module/core/ngx_collab_ctoken.c" -lcrypto \
    || die "cannot build sse_bench"

# what one process may open: the workers' and the client's limit
files=$(ulimit -Hn)
[ "$files" = unlimited ] && files=1048576
ulimit -n "$files"
per_worker=$(( files - 64 ))
cap=$(( 2 * per_worker - 200 ))
note=""
if [ "$streams" -gt "$cap" ]; then
    note="capped at $cap: the hard limit of open files here is $files per process (ulimit -Hn), two workers"
    streams=$cap
fi

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    stop_child
    stop_nginx "$prefix"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

report="$out/presence.txt"
: > "$report"
say() {
    echo "$*" | tee -a "$report"
}

# start GRACE: nginx with that collab_presence_grace, on the same database
start() {
    stop_nginx "$prefix"
    sed -e "s|@MODULE@|$module|" -e "s|@LISTEN@|127.0.0.1:$port|" \
        -e "s|@FILES@|$files|" -e "s|@CONNECTIONS@|$per_worker|" \
        -e "s|@GRACE@|$1|" "$bench/presence.conf.in" > "$prefix/nginx.conf"
    "$nginx" -p "$prefix/" -c "$prefix/nginx.conf" \
        || die "nginx did not start, see $prefix/logs/error.log"
    wait_up "http://127.0.0.1:$port/"
}

# memory: private resident memory of the workers, and the shared zones
# once (the largest RssShmem of a worker), in KiB
memory() {
    local master w anon shm total=0 shared=0
    master=$(cat "$prefix/logs/nginx.pid")
    for w in $(pgrep -P "$master"); do
        anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$w/status")
        shm=$(awk '/^RssShmem:/ { print $2 }' "/proc/$w/status")
        total=$(( total + anon ))
        [ "$shm" -gt "$shared" ] && shared=$shm
    done
    echo "$total $shared"
}

rm -rf "$prefix" "$out"/presence-*.txt "$out"/presence-*.err
mkdir -p "$prefix/logs" "$prefix/tmp"
( umask 077
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$prefix/admin.token" )
admin=$(cat "$prefix/admin.token")

start 0
db="$prefix/data/collab.db"

acc=$(curl -s -X POST "http://127.0.0.1:$port/v1/accounts" \
        -H "Authorization: Bearer $admin" -H "Content-Type: application/json" \
        -d '{"name":"bench"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$acc" ] || die "no account"

# the rooms, straight into the database: N / 50 of them, with a user "bot";
# at least one more than the cycles' rooms, for the fan-out's last room,
# whose bot must not be online already
rooms=$(( (streams + per_room - 1) / per_room ))
[ "$rooms" -gt "$conc" ] || rooms=$(( conc + 1 ))
sqlite3 "$db" ".timeout 5000" "
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                            WHERE i < $rooms)
    INSERT INTO rooms (id, account_id, name, metadata, created_at,
                       updated_at)
    SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2)))
           || '-4' || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + abs(random()) % 4, 1)
           || substr(lower(hex(randomblob(2))), 2) || '-'
           || lower(hex(randomblob(6))), '$acc', 'bench ' || i, '{}', 0, 0
    FROM n;
    INSERT INTO users (room_id, user_id, metadata, created_at, updated_at)
    SELECT id, 'bot', '{}', 0, 0 FROM rooms WHERE account_id = '$acc';" \
    || die "cannot make the rooms"
sqlite3 "$db" ".timeout 5000" \
    "SELECT id FROM rooms WHERE account_id = '$acc' ORDER BY seq" \
    > "$prefix/rooms.txt"
key=$(sqlite3 "$db" ".timeout 5000" \
      "SELECT hex(value) FROM meta WHERE name = 'client_token_key'")

export BENCH_PORT=$port BENCH_KEY=$key BENCH_ACCOUNT=$acc \
       BENCH_ROOMS="$prefix/rooms.txt" BENCH_ROOM_USERS=$per_room \
       BENCH_ADMIN=$admin BENCH_SOURCES=$sources

say "presence bench: nginx $("$nginx" -v 2>&1 | sed 's|.*/||'), 2 workers," \
    "$(nproc) cores, on 127.0.0.1:$port"

# (a) cycles against POST: the cycles' rooms have their bot online already
head -n "$conc" "$prefix/rooms.txt" | while read -r r; do
    curl -s -o /dev/null -X PUT \
        "http://127.0.0.1:$port/v1/accounts/$acc/rooms/$r/presence/bot" \
        -H "Authorization: Bearer $admin" \
        -H "Content-Type: application/json" -d '{"ttl":3600}'
done

left() {
    sqlite3 "$db" ".timeout 5000" \
        "SELECT count(*) FROM events WHERE type = 'participant.left'"
}

# the cycles are done when the client says so; they count once their
# leaves are recorded: the time until then gives the recorded rate
before=$(left)
t0=$(date +%s.%N)
run "$out/presence-cycle.txt" "$out/sse_bench" cycle "$conc" "$seconds" \
    || { cat "$out/presence-cycle.txt" >&2; die "cycle failed"; }
done_cycles=$(sed -n 's/.*at a time, \([0-9]*\) join.*/\1/p' \
              "$out/presence-cycle.txt")
for i in $(seq 600); do
    after=$(left)
    [ $(( after - before )) -ge "$done_cycles" ] && break
    sleep 0.1
done
t1=$(date +%s.%N)
cycles=$(awk -v n=$(( after - before )) -v a="$t0" -v b="$t1" \
         'BEGIN { printf "%.0f", n / (b - a) }')
run "$out/presence-post.txt" "$out/sse_bench" post "$conc" "$seconds" \
    || { cat "$out/presence-post.txt" >&2; die "post failed"; }
posts=$(sed -n 's/.* in [0-9]* s, \([0-9]*\)\/s.*/\1/p' \
        "$out/presence-post.txt")

say "(a) $(cat "$out/presence-cycle.txt")"
say "    recorded: $(( after - before )) participant.left events, the last" \
    "$(awk -v a="$t0" -v b="$t1" -v s="$seconds" \
       'BEGIN { printf "%.1f", b - a - s }') s after the cycles ended:" \
    "$cycles recorded cycles/s"
say "    $(cat "$out/presence-post.txt")"
say "    cycles/s / POST/s = $(awk -v a="$cycles" -v b="$posts" \
    'BEGIN { printf "%.2f", a / b }') (target >= 0.5)"

# (b) fan-out
run "$out/presence-fanout.txt" "$out/sse_bench" fanout 1000 20 \
    || { cat "$out/presence-fanout.txt" >&2; die "fanout failed"; }
say "(b) $(grep '^fanout' "$out/presence-fanout.txt") (target p99 < 100 ms)"

# (c) idle streams: several client processes (each has the same limit)
start 5s
read -r base_anon base_shm <<< "$(memory)"

clients=$(( (streams + per_worker - 1000 - 1) / (per_worker - 1000) ))
share=$(( (streams + clients - 1) / clients ))
pids=()
for i in $(seq 0 $(( clients - 1 ))); do
    n=$share
    [ $(( (i + 1) * share )) -gt "$streams" ] && n=$(( streams - i * share ))
    BENCH_LINGER=$(( hold / 2 + 30 )) "$out/sse_bench" hold "$n" "$hold" \
        $(( i * share )) > "$out/presence-hold-$i.txt" \
        2> "$out/presence-hold-$i.err" &
    pids+=($!)
done

# the memory in the middle of the hold, once every client has its streams
for i in $(seq 600); do
    ready=$(cat "$out"/presence-hold-*.err 2>/dev/null | grep -c holding \
            || true)
    [ "$ready" -ge "$clients" ] && break
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null \
            || { cat "$out"/presence-hold-*.err >&2; die "a client died"; }
    done
    sleep 0.5
done
sleep $(( hold / 2 ))
read -r anon shm <<< "$(memory)"
held=$(awk '{ s += $1 } END { print s }' \
       <(sed -n 's/^sse_bench: \([0-9]*\) streams open.*/\1/p' \
         "$out"/presence-hold-*.err))

for p in "${pids[@]}"; do
    wait "$p" || true
done

say "(c) $streams streams asked for${note:+ ($note)}, $clients client" \
    "processes, $sources source addresses"
for i in $(seq 0 $(( clients - 1 ))); do
    say "    $(cat "$out/presence-hold-$i.txt")"
done
say "    workers: private RSS $anon KiB (before the streams: $base_anon KiB)," \
    "shared zones resident $shm KiB, for $held streams open"
say "    per stream: $(awk -v a="$anon" -v s="$shm" -v n="$held" \
    'BEGIN { printf "%.0f", (a + s) * 1024 / n }') bytes all told," \
    "$(awk -v a="$anon" -v b="$base_anon" -v s="$shm" -v t="$base_shm" \
       -v n="$held" 'BEGIN { printf "%.0f", (a - b + s - t) * 1024 / n }')" \
    "bytes above the idle server (target <= 8192)"
