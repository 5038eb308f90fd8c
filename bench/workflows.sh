#!/usr/bin/env bash
# bench/workflows.sh BUILD: the workflows benchmark, BUILD being the folder
# that holds ngx_http_collab_module.so and collab-runner (and, for the
# baseline, quickjs/libquickjs.a).  Starts two nginx:
#
#   collab    nginx with the module, 2 workers (1 runner each, 512
#             executions in flight per runner), on 127.0.0.1:$BASE (18095)
#   slow      a plain nginx with njs on $BASE+1 that answers every request
#             after one second
#
# makes an account, a key and two rooms with curl, and two workflows:
# "small" (room 1, user.created: reads room.get(), returns an object) and
# "fetch" (room 2: awaits a fetch of the slow server).  Every POST of
# .../users is one user.created event, so one execution.  Then:
#
#   warm-up         500 executions of "small"
#   (X) throughput  $COUNT (5,000) events as fast as wrk -t2 -c64 posts
#                   them; executions/s = COUNT / (first event's time ->
#                   last execution finished), the whole path: event,
#                   fan-out in its transaction, claim, the run frame, the
#                   runner (QuickJS, the room read from SQLite), the
#                   result frame, the outcome written
#   (B) baseline    bench/workflows_runner.c (the runner's own benchmark):
#                   the same kind of workflow in a bare loop of QuickJS
#                   runtimes, one per execution, as fast as it goes; the
#                   ratio X/B is the figure (target >= 0.5)
#   (L) latency     500 events/s for 10 s (wrk -t1 -c1 paced by
#                   bench/webhooks-paced.lua); per execution, finished_at
#                   (the runner's clock when it ended) minus created_at
#                   (the event's time, in the event's transaction);
#                   target p99 < 50 ms
#   (F) fetch       1,000 events at once for "fetch": every execution
#                   awaits an answer that comes after 1 s; the time from
#                   the first event to the last execution finished
#                   (target <= 3 s), and how many succeeded
#   (M) memory      the runners' resident memory (VmRSS) before (F) and at
#                   its peak during (F), sampled every 0.1 s: per execution
#                   in flight
#
# Times come from the database (executions.created_at, finished_at), so
# that the script's own polling does not enter the figures.  The report is
# printed and written to bench/out/workflows.txt.
#
# Environment: BENCH_QUICK=1 (counts divided by 5, the latency run 3 s),
# BENCH_WORKFLOW_PORT (the first of the 2 ports, 18095), BENCH_KEEP=1 (keep
# the database), NGINX_BIN or NGINX (/usr/sbin/nginx), CC (cc).
#
# Exits 1 when something fails or an execution does not succeed (the
# figures would mean nothing); a figure that misses its target is reported
# as BELOW but is not a failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_start "$@"
prefix="$out/workflows-collab"
sprefix="$out/workflows-slow"
module="$build/ngx_http_collab_module.so"
njs=/usr/lib/nginx/modules/ngx_http_js_module.so

nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
port=${BENCH_WORKFLOW_PORT:-18095}
slow_port=$((port + 1))
base="http://127.0.0.1:$port"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    scale=5
    lat_seconds=3
else
    scale=1
    lat_seconds=10
fi

warmup=500
count=$((5000 / scale))     # events of the throughput run
lat_rate=500                # events/s of the latency run
fetches=1000                # executions awaiting the slow server

RATIO_TARGET=0.5
P99_TARGET=50       # ms
FETCH_TARGET=3000   # ms

WAIT_LIMIT=300      # seconds that the executions of one phase may take

for tool in wrk curl sqlite3 awk "$nginx"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done

[ -f "$module" ] || die "$module not found: run 'make'"
[ -x "$build/collab-runner" ] || die "$build/collab-runner not found: run 'make'"
[ -f "$njs" ] || die "$njs not found (libnginx-mod-http-js): run 'make deps'"

for p in "$port" "$slow_port"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
        die "127.0.0.1:$p is in use (set BENCH_WORKFLOW_PORT)"
    fi
done

run_start=$SECONDS


# --- the two nginx -----------------------------------------------------------

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    stop_child
    stop_nginx "$prefix"
    stop_nginx "$sprefix"
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$prefix/data"
    fi
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$prefix" "$sprefix" "$out"/workflows-*.txt "$out/workflows.txt"
mkdir -p "$prefix/logs" "$prefix/tmp" "$sprefix/logs" "$sprefix/tmp"

( umask 077
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$prefix/admin.token" )
admin=$(cat "$prefix/admin.token")

sed -e "s|@MODULE@|$module|" -e "s|@LISTEN@|127.0.0.1:$port|" \
    "$bench/workflows-collab.conf.in" > "$prefix/nginx.conf"

sed -e "s|@NJS@|$njs|" -e "s|@LISTEN@|127.0.0.1:$slow_port|" \
    -e "s|@DIR@|$bench|" \
    "$bench/workflows-slow.conf.in" > "$sprefix/nginx.conf"

"$nginx" -p "$sprefix/" -c "$sprefix/nginx.conf" \
    || die "the slow server did not start, see $sprefix/logs/error.log"

"$nginx" -p "$prefix/" -c "$prefix/nginx.conf" \
    || die "nginx did not start, see $prefix/logs/error.log"

wait_up "$base/idle"

collab_pid=$(cat "$prefix/logs/nginx.pid")


# --- setup: an account, a key, two rooms, two workflows ----------------------

new_account

room1=$(api POST "/v1/accounts/$acc/rooms" "$key" '{"name":"small"}' 201 \
        | field id)
room2=$(api POST "/v1/accounts/$acc/rooms" "$key" '{"name":"fetch"}' 201 \
        | field id)
[ -n "$room1" ] && [ -n "$room2" ] || die "no room id"

small_code='export default async function (event, { room }) {\n  const r = await room.get();\n  return { room: r.name, user: event.data.userId };\n}'
fetch_code="export default async function () {\\n  const r = await fetch('http://127.0.0.1:$slow_port/late');\\n  return { status: r.status };\\n}"

small=$(api POST "/v1/accounts/$acc/workflows" "$key" \
        "{\"name\":\"small\",\"events\":[\"user.created\"],\"roomId\":\"$room1\",\"code\":\"$small_code\"}" \
        201 | field id)
fetch=$(api POST "/v1/accounts/$acc/workflows" "$key" \
        "{\"name\":\"fetch\",\"events\":[\"user.created\"],\"roomId\":\"$room2\",\"code\":\"$fetch_code\"}" \
        201 | field id)
[[ "$small" == wf_* ]] && [[ "$fetch" == wf_* ]] || die "no workflow id"


# --- SQLite, read directly --------------------------------------------------

open_db "$prefix/data/collab.db"

# wait_finished WORKFLOW TOTAL: until no execution of it is pending or
# running, then checks that TOTAL of them in all succeeded
wait_finished() {
    local wf=$1 want=$2 start n success other

    start=$SECONDS

    while :; do
        n=$(sql "SELECT count(*) FROM executions WHERE workflow_id = '$wf'
                 AND status IN ('pending', 'running')")
        [ "$n" != 0 ] || break

        if [ $((SECONDS - start)) -gt "$WAIT_LIMIT" ]; then
            die "executions: $n still unfinished after ${WAIT_LIMIT}s"
        fi

        sleep 0.1
    done

    read -r success other < <(sql "
        SELECT count(*) FILTER (WHERE status = 'success'),
               count(*) FILTER (WHERE status != 'success')
        FROM executions WHERE workflow_id = '$wf'" | tr '|' ' ')

    [ "$other" = 0 ] \
        || die "$other executions did not succeed, see $(sql "
               SELECT error FROM executions WHERE workflow_id = '$wf'
               AND status != 'success' LIMIT 1")"
    [ "$success" = "$want" ] \
        || die "$success executions succeeded, $want expected"
}


# --- event generation (as bench/webhooks.sh) ---------------------------------

export BENCH_DIR="$bench"

# check_bench NAME: the BENCH line of out/workflows-NAME.txt (see
# bench_line)
check_bench() {
    bench_line "$out/workflows-$1.txt" "$1"
}

batch=0

# users ROOM COUNT: exactly COUNT POSTs of the room's users (so COUNT
# events), with wrk -t2 -c64 as fast as they go
users() {
    local room=$1 count=$2 done="$out/workflows-done" start i

    batch=$((batch + 1))
    rm -f "$done".*

    env BENCH_PATH="/v1/accounts/$acc/rooms/$room/users" BENCH_KEY="$key" \
        BENCH_RUN="$(date +%s)-$batch" BENCH_COUNT="$count" \
        BENCH_THREADS=2 BENCH_DONE="$done" \
        wrk -t2 -c64 -d600s -s "$bench/webhooks-users.lua" "$base" \
        > "$out/workflows-users-$batch.txt" 2>&1 &
    child=$!

    start=$SECONDS
    while :; do
        [ -f "$done.1" ] && [ -f "$done.2" ] && break
        kill -0 "$child" 2>/dev/null \
            || { cat "$out/workflows-users-$batch.txt" >&2; die "wrk ended early"; }
        [ $((SECONDS - start)) -le "$WAIT_LIMIT" ] \
            || die "wrk: $count POSTs take more than ${WAIT_LIMIT}s"
        sleep 0.05
    done

    kill -INT "$child" 2>/dev/null || true
    wait "$child" || { cat "$out/workflows-users-$batch.txt" >&2; die "wrk failed"; }
    child=
    rm -f "$done".*

    check_bench "users-$batch" > /dev/null
}


# --- the runners' memory ------------------------------------------------------

# kB of VmRSS of the runners (the workers' children), summed
runners_kb() {
    local w r sum=0 kb

    for w in $(pgrep -P "$collab_pid"); do
        for r in $(pgrep -P "$w"); do
            kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$r/status" \
                 2>/dev/null) || kb=0
            sum=$((sum + ${kb:-0}))
        done
    done

    echo "$sum"
}

runners=$(for w in $(pgrep -P "$collab_pid"); do pgrep -P "$w"; done | wc -l)
[ "$runners" = 2 ] || die "$runners runners, not 2 (one per worker)"

echo "bench: nginx $("$nginx" -v 2>&1 | sed 's|.*/||'), collab on" \
     "127.0.0.1:$port (2 workers, 1 runner each), slow server on $slow_port"


# --- warm-up and (X) throughput ------------------------------------------------

echo "bench: warm-up, $warmup executions"
users "$room1" "$warmup"
wait_finished "$small" "$warmup"

echo "bench: (X) $count events as fast as they come"
mark=$(sql "SELECT coalesce(max(seq), 0) FROM executions")
users "$room1" "$count"
x_post=$(get "$(check_bench "users-$batch")" rps)
wait_finished "$small" $((warmup + count))

read -r x_n x_ms < <(sql "
    SELECT count(*), max(finished_at) - min(created_at) FROM executions
    WHERE workflow_id = '$small' AND seq > $mark" | tr '|' ' ')
x_rate=$(awk -v n="$x_n" -v ms="$x_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')


# --- (B) the bare QuickJS loop ---------------------------------------------------

b_rate=
if [ -f "$bench/workflows_runner.c" ] && [ -f "$build/quickjs/libquickjs.a" ]
then
    ${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -isystem "$build/quickjs" \
        -o "$out/workflows_runner" "$bench/workflows_runner.c" \
        "$build/quickjs/libquickjs.a" -lm -ldl -lpthread \
        || die "cannot build bench/workflows_runner.c"

    echo "bench: (B) the bare QuickJS loop, $count executions"
    b_line=$("$out/workflows_runner" baseline "$count")
    b_rate=$(echo "$b_line" | sed -E 's/.*: ([0-9]+)\/s$/\1/')
fi


# --- (L) latency --------------------------------------------------------------------

echo "bench: (L) $lat_rate events/s for ${lat_seconds}s"
mark=$(sql "SELECT coalesce(max(seq), 0) FROM executions")

run "$out/workflows-latency-wrk.txt" \
    env BENCH_PATH="/v1/accounts/$acc/rooms/$room1/users" BENCH_KEY="$key" \
    BENCH_RUN="$(date +%s)-lat" BENCH_RATE="$lat_rate" \
    wrk -t1 -c1 -d"${lat_seconds}s" -s "$bench/webhooks-paced.lua" \
    "$base/v1/accounts/$acc/rooms/$room1/users" \
    || { cat "$out/workflows-latency-wrk.txt" >&2; die "wrk failed (latency)"; }

check_bench latency-wrk > /dev/null
lat_events=$(sql "SELECT count(*) FROM executions
                  WHERE workflow_id = '$small' AND seq > $mark")
wait_finished "$small" $((warmup + count + lat_events))

sql "SELECT finished_at - created_at FROM executions
     WHERE workflow_id = '$small' AND seq > $mark" \
    | sort -n > "$out/workflows-latency-ms.txt"

lat_stats=$(awk '
    { v[NR] = $1; sum += $1 }
    function at(q,   i) { i = int(q * NR + 0.999999); if (i < 1) i = 1;
                          return v[i] }
    END { if (NR == 0) { print "0 0 0 0 0 0"; exit }
          printf "%d %d %d %d %d %.2f\n", NR, at(0.5), at(0.9), at(0.99),
                 v[NR], sum / NR }' "$out/workflows-latency-ms.txt")


# --- (F) 1,000 fetches awaiting a slow server, (M) memory ----------------------------

sleep 1
m_idle=$(runners_kb)

echo "bench: (F) $fetches executions awaiting an answer that comes after 1 s"
mark=$(sql "SELECT coalesce(max(seq), 0) FROM executions")

# the runners' peak while the executions are in flight
(
    peak=0
    while [ ! -f "$out/workflows-sampled" ]; do
        kb=$(runners_kb)
        [ "$kb" -le "$peak" ] || peak=$kb
        echo "$peak" > "$out/workflows-peak.txt"
        sleep 0.1
    done
) &
sampler=$!

users "$room2" "$fetches"
wait_finished "$fetch" "$fetches"

touch "$out/workflows-sampled"
wait "$sampler" || true
rm -f "$out/workflows-sampled"
m_peak=$(cat "$out/workflows-peak.txt")

read -r f_n f_ms f_span < <(sql "
    SELECT count(*), max(finished_at) - min(created_at),
           max(created_at) - min(created_at)
    FROM executions WHERE workflow_id = '$fetch' AND seq > $mark" \
    | tr '|' ' ')


# --- the report -------------------------------------------------------------------------

verdict() {
    # verdict VALUE OP TARGET: ok or BELOW
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v >= t) : (op == "<") ? (v < t) : (v <= t);
        print ok ? "ok" : "BELOW" }'
}

{
    echo "collab workflows benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) cores, $(uname -sr); nginx $("$nginx" -v 2>&1 \
          | sed 's|.*/||'); 2 workers, 1 runner each"
    [ "$scale" = 1 ] || echo "BENCH_QUICK: counts divided by $scale"
    echo
    echo "(X) throughput, event -> execution finished: $x_n executions" \
         "in ${x_ms} ms: $x_rate executions/s" \
         "(the POSTs alone went at $x_post/s)"

    if [ -n "$b_rate" ]; then
        ratio=$(awk -v x="$x_rate" -v b="$b_rate" \
                'BEGIN { printf "%.2f", x / b }')
        echo "(B) bare QuickJS loop: $b_rate executions/s"
        echo "    ratio X/B: $ratio (target >= $RATIO_TARGET:" \
             "$(verdict "$ratio" ">=" "$RATIO_TARGET"))"
    else
        echo "(B) bare QuickJS loop: not measured" \
             "(no bench/workflows_runner.c or $build/quickjs/libquickjs.a)"
    fi

    set -- $lat_stats
    echo "(L) latency at $lat_rate events/s, event -> execution finished," \
         "$1 executions: p50 $2 ms, p90 $3 ms, p99 $4 ms, max $5 ms," \
         "mean $6 ms (target p99 < $P99_TARGET ms:" \
         "$(verdict "$4" "<" "$P99_TARGET"))"
    echo "(F) $f_n executions awaiting a 1 s answer: the last finished" \
         "$f_ms ms after the first event (events created over $f_span ms)" \
         "(target <= $FETCH_TARGET ms: $(verdict "$f_ms" "<=" "$FETCH_TARGET"))"
    echo "(M) runners' RSS: $((m_idle / 1024)) MB idle, $((m_peak / 1024))" \
         "MB at the peak of (F): $(awk -v a="$m_idle" -v b="$m_peak" \
         -v n="$fetches" 'BEGIN { printf "%.1f", (b - a) / n }') kB" \
         "per execution in flight"
    echo
    echo "($((SECONDS - run_start)) s in all)"
} | tee "$out/workflows.txt"
