#!/usr/bin/env bash
# bench/webhooks.sh BUILD: the webhook sender's benchmark, BUILD being the
# folder that holds ngx_http_collab_module.so.  Starts two nginx:
#
#   collab    nginx with the module, 2 workers, on 127.0.0.1:$BASE (18090),
#             collab_webhook_concurrency $CONCURRENCY (32) per worker
#   receiver  a plain nginx, 2 workers, `location / { return 204; }` on
#             127.0.0.1:$BASE+1 (no log) and on $BASE+2 (each arrival
#             logged with $msec and the webhook-id header)
#
# makes an account, a key, a room and one webhook ("*") with curl, and then,
# on the same collab instance, one phase after the other (every POST of
# .../users creates a user.created event, so one delivery):
#
#   warm-up + fill  events until 20,000 deliveries in all have succeeded;
#                   the workers' RSS (memory, first figure)
#   (L) latency     POST users at a steady 1,000/s for 10 s (wrk -t1 -c1,
#                   paced by bench/webhooks-paced.lua), the webhook on the
#                   logged server; per delivery, the receiver's arrival time
#                   minus deliveries.created_at (the event's time, in the
#                   event's transaction), joined by delivery id
#   (W) wrk         the baseline: wrk -t2 -c64 (2 workers x CONCURRENCY) POSTs
#                   a real delivery's body, with the sender's headers, to the
#                   receiver's unlogged server for $BENCH_DURATION (10s)
#   (T) throughput  50,000 events queued while the webhook is held, then
#                   released: deliveries/s = 50,000 / (release -> end of the
#                   last attempt), against (W); also the rate over each
#                   tenth of the deliveries, as the backlog shrinks; the
#                   workers' RSS once more, for the record
#   fill            events until 200,000 deliveries in all have succeeded,
#                   10,000 at a time, each batch delivered before the next;
#                   the workers' RSS again (memory, second figure)
#
# Times come from the database where they can (created_at, last_attempt_at
# and duration_ms of the deliveries, all in ms), so that the script's own
# polling (every 0.25 s) does not enter the figures.
#
# Holding the deliveries: a webhook disabled through the API gets no
# deliveries at all (the outbox skips it), so the script clears
# webhooks.enabled in SQLite behind the module's back instead.  The
# fan-out goes by the collab zone, where the webhook is still enabled, so
# every event still queues its delivery; the sender goes by the table, so
# it sends none of them.  PATCH {"enabled":true} through the API then sets
# both and wakes the sender.
#
# The report is printed and written to bench/out/webhooks.txt; wrk's
# outputs are in bench/out/webhooks-*.txt.
#
# Environment: BENCH_QUICK=1 (every count divided by 10, the latency run
# 3 s, the baseline 3 s), BENCH_DURATION (the baseline's wrk -d, 10s),
# BENCH_WEBHOOK_PORT (the first of the 3 ports, 18090), BENCH_CONCURRENCY
# (32), BENCH_KEEP=1 (keep the database), NGINX_BIN or NGINX
# (/usr/sbin/nginx).
#
# Exits 1 when something fails, or when a request or a delivery did not go
# as it should (the figures would mean nothing); a figure that misses its
# target is reported as BELOW but is not a failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_start "$@"
prefix="$out/webhooks-collab"
rprefix="$out/webhooks-receiver"
module="$build/ngx_http_collab_module.so"

nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
port=${BENCH_WEBHOOK_PORT:-18090}
plain_port=$((port + 1))
logged_port=$((port + 2))
concurrency=${BENCH_CONCURRENCY:-32}
base="http://127.0.0.1:$port"

workers=2
threads=2                               # wrk's threads, as in run.sh
connections=$((workers * concurrency))  # what the sender may have open

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    scale=10
    lat_seconds=3
    duration=${BENCH_DURATION:-3s}
else
    scale=1
    lat_seconds=10
    duration=${BENCH_DURATION:-10s}
fi

warmup=$((1000 / scale))
mem1=$((20000 / scale))        # deliveries at the first RSS reading
mem2=$((200000 / scale))       # ... and at the second
tp_count=$((50000 / scale))    # deliveries of the throughput run
lat_rate=1000                  # events/s of the latency run
fill_batch=$((10000 / scale))  # events at a time when filling

TP_TARGET=0.35      # deliveries/s against wrk's requests/s
P50_TARGET=5        # ms
P99_TARGET=5        # ms
MEM_TARGET=10       # % of RSS growth from mem1 to mem2

WAIT_LIMIT=300      # seconds that the deliveries of one phase may take

for tool in wrk curl sqlite3 awk "$nginx"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done

[ -f "$module" ] || die "$module not found: run 'make'"

for p in "$port" "$plain_port" "$logged_port"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
        die "127.0.0.1:$p is in use (set BENCH_WEBHOOK_PORT)"
    fi
done

now_ms() {
    date +%s%3N
}

run_start=$SECONDS


# --- the two nginx ---------------------------------------------------------

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    stop_child
    stop_nginx "$prefix"
    stop_nginx "$rprefix"
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$prefix/data"
    fi
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$prefix" "$rprefix" "$out"/webhooks-*.txt "$out/webhooks.txt"
mkdir -p "$prefix/logs" "$prefix/tmp" "$rprefix/logs" "$rprefix/tmp"

( umask 077
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$prefix/admin.token" )
admin=$(cat "$prefix/admin.token")

sed -e "s|@MODULE@|$module|" -e "s|@LISTEN@|127.0.0.1:$port|" \
    -e "s|@CONCURRENCY@|$concurrency|g" \
    "$bench/webhooks-collab.conf.in" > "$prefix/nginx.conf"

sed -e "s|@PLAIN@|127.0.0.1:$plain_port|" \
    -e "s|@LOGGED@|127.0.0.1:$logged_port|" \
    "$bench/webhooks-receiver.conf.in" > "$rprefix/nginx.conf"

"$nginx" -p "$rprefix/" -c "$rprefix/nginx.conf" \
    || die "the receiver did not start, see $rprefix/logs/error.log"

"$nginx" -p "$prefix/" -c "$prefix/nginx.conf" \
    || die "nginx did not start, see $prefix/logs/error.log"

wait_up "$base/idle" "http://127.0.0.1:$plain_port/"

collab_pid=$(cat "$prefix/logs/nginx.pid")


# --- setup: an account, a key, a room, a webhook ---------------------------

new_account

room=$(api POST "/v1/accounts/$acc/rooms" "$key" '{"name":"bench"}' 201 \
       | field id)
[ -n "$room" ] || die "no room id"

room_path="/v1/accounts/$acc/rooms/$room"

hook=$(api POST "/v1/accounts/$acc/webhooks" "$key" \
       "{\"url\":\"http://127.0.0.1:$plain_port/hooks\",\"events\":[\"*\"]}" \
       201 | field id)
[[ "$hook" == wh_* ]] || die "no webhook id"

hook_path="/v1/accounts/$acc/webhooks/$hook"


# --- SQLite, read directly --------------------------------------------------

open_db "$prefix/data/collab.db"

# deliveries of the webhook still pending (an index range, cheap)
pending() {
    sql "SELECT count(*) FROM deliveries
         WHERE webhook_id = '$hook' AND status = 'pending'"
}

wal_max=0   # the largest -wal file seen while sampling, in bytes

# the size of the write-ahead log now, and the largest seen
wal_sample() {
    local n

    n=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
    [ "$n" -le "$wal_max" ] || wal_max=$n
}

# wait_delivered TOTAL: until no delivery is pending, then checks that
# TOTAL deliveries in all succeeded
wait_delivered() {
    local want=$1 start n success failed

    start=$SECONDS

    while :; do
        n=$(pending)
        [ "$n" != 0 ] || break

        if [ $((SECONDS - start)) -gt "$WAIT_LIMIT" ]; then
            die "deliveries: $n still pending after ${WAIT_LIMIT}s"
        fi

        wal_sample
        sleep 0.25
    done

    read -r success failed < <(sql "
        SELECT count(*) FILTER (WHERE status = 'success'),
               count(*) FILTER (WHERE status = 'failed')
        FROM deliveries WHERE webhook_id = '$hook'" | tr '|' ' ')

    [ "$failed" = 0 ] || die "$failed deliveries failed, see $hook_path/deliveries"
    [ "$success" = "$want" ] \
        || die "$success deliveries succeeded, $want expected"
}


# --- event generation -------------------------------------------------------

export BENCH_DIR="$bench"

posts_503=0         # POSTs to collab answered 503, over every wrk run
posts_timeout=0     # ... and that wrk gave up on

# tally LINE: the 503s and timeouts of the BENCH line of a run of POSTs
tally() {
    local n

    n=$(get "$1" codes | tr ',' '\n' | sed -n 's/^503://p')
    posts_503=$((posts_503 + ${n:-0}))
    n=$(get "$1" errors | cut -d/ -f4)
    posts_timeout=$((posts_timeout + ${n:-0}))
}

# check_bench NAME: the BENCH line of out/webhooks-NAME.txt, or die when
# a request did not get its expected answer
check_bench() {
    bench_line "$out/webhooks-$1.txt" "$1"
}

batch=0

# users COUNT: exactly COUNT POSTs of .../users (so COUNT events), with
# wrk -t2 -c64 as fast as they go; interrupts wrk once all are answered
users() {
    local count=$1 done="$out/webhooks-done" start i

    [ "$count" -gt 0 ] || return 0

    batch=$((batch + 1))
    rm -f "$done".*

    env BENCH_PATH="$room_path/users" BENCH_KEY="$key" \
        BENCH_RUN="$(date +%s)-$batch" BENCH_COUNT="$count" \
        BENCH_THREADS="$threads" BENCH_DONE="$done" \
        wrk -t"$threads" -c64 -d600s -s "$bench/webhooks-users.lua" "$base" \
        > "$out/webhooks-users-$batch.txt" 2>&1 &
    child=$!

    start=$SECONDS
    while :; do
        for i in $(seq "$threads"); do
            [ -f "$done.$i" ] || break
            [ "$i" != "$threads" ] || break 2
        done
        kill -0 "$child" 2>/dev/null \
            || { cat "$out/webhooks-users-$batch.txt" >&2; die "wrk ended early"; }
        [ $((SECONDS - start)) -le "$WAIT_LIMIT" ] \
            || die "wrk: $count POSTs take more than ${WAIT_LIMIT}s"
        wal_sample
        sleep 0.05
    done

    kill -INT "$child" 2>/dev/null || true
    wait "$child" || { cat "$out/webhooks-users-$batch.txt" >&2; die "wrk failed"; }
    child=
    rm -f "$done".*

    tally "$(check_bench "users-$batch")"
}

total=0     # deliveries so far

# fill_to TOTAL: events until TOTAL deliveries, in batches of at most
# $fill_batch, each one delivered before the next is created (a backlog
# slows the sender down, see docs/performance.md)
fill_to() {
    local n

    while [ "$total" -lt "$1" ]; do
        n=$(($1 - total))
        [ "$n" -le "$fill_batch" ] || n=$fill_batch
        users "$n"
        total=$((total + n))
        wait_delivered "$total"
    done
}


# --- memory ----------------------------------------------------------------

# kB of FIELD (VmRSS, RssAnon, RssFile, RssShmem) of a process
status_kb() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# kB of Rss of the mappings of a process whose name ends with SUFFIX
mapped_kb() {
    awk -v s="$2" '
        /^[0-9a-f]+-[0-9a-f]+ / { m = (substr($NF, length($NF) - length(s) + 1) == s) }
        m && $1 == "Rss:" { kb += $2 }
        END { print kb + 0 }' "/proc/$1/smaps"
}

# rss: "vmrss anon file shmem walindex per-worker-vmrss..." of the collab
# workers (the master's children), in kB, summed over the workers;
# walindex is the part of file that is SQLite's WAL index (collab.db-shm,
# mapped by every connection, and as large as the WAL is long)
rss() {
    local pid sum=0 anon=0 file=0 shm=0 wal=0 each=""

    for pid in $(pgrep -P "$collab_pid"); do
        sum=$((sum + $(status_kb "$pid" VmRSS)))
        anon=$((anon + $(status_kb "$pid" RssAnon)))
        file=$((file + $(status_kb "$pid" RssFile)))
        shm=$((shm + $(status_kb "$pid" RssShmem)))
        wal=$((wal + $(mapped_kb "$pid" collab.db-shm)))
        each="$each $(status_kb "$pid" VmRSS)"
    done

    echo "$sum $anon $file $shm $wal$each"
}

worker_count=$(pgrep -P "$collab_pid" | wc -l)
[ "$worker_count" = "$workers" ] || die "$worker_count collab workers, not $workers"

echo "bench: nginx $("$nginx" -v 2>&1 | sed 's|.*/||'), collab on" \
     "127.0.0.1:$port, receiver on $plain_port and $logged_port," \
     "concurrency $concurrency"

echo "bench: warm-up, $warmup deliveries"
fill_to "$warmup"

echo "bench: (M) filling to $mem1 deliveries"
fill_to "$mem1"
sleep 1
rss1=$(rss)


# --- (L) latency -----------------------------------------------------------

echo "bench: (L) ${lat_rate} events/s for ${lat_seconds}s, webhook on :$logged_port"

api PATCH "$hook_path" "$key" \
    "{\"url\":\"http://127.0.0.1:$logged_port/hooks\"}" 200 > /dev/null

lat_seq=$(sql "SELECT coalesce(max(seq), 0) FROM deliveries")

run "$out/webhooks-latency-wrk.txt" env BENCH_PATH="$room_path/users" \
    BENCH_KEY="$key" BENCH_RUN="$(date +%s)-lat" BENCH_RATE="$lat_rate" \
    wrk -t1 -c1 -d"${lat_seconds}s" -s "$bench/webhooks-paced.lua" \
    "$base$room_path/users" \
    || { cat "$out/webhooks-latency-wrk.txt" >&2; die "wrk failed (latency)"; }

lat_line=$(check_bench latency-wrk)
tally "$lat_line"
lat_events=$(sql "SELECT count(*) FROM deliveries WHERE seq > $lat_seq")
total=$((total + lat_events))
wait_delivered "$total"

# the arrivals (first one of each delivery id) against the events' times
sql "SELECT id, created_at FROM deliveries WHERE seq > $lat_seq" \
    > "$out/webhooks-latency-created.txt"

awk 'NR == FNR { if (!($2 in at)) at[$2] = sprintf("%.0f", $1 * 1000); next }
     { split($0, f, "|");
       if (f[1] in at) print at[f[1]] - f[2]; else print "missing" }' \
    "$rprefix/logs/arrivals.log" "$out/webhooks-latency-created.txt" \
    > "$out/webhooks-latency-ms.txt"

lat_missing=$(grep -c missing "$out/webhooks-latency-ms.txt" || true)

# n p50 p90 p99 max mean, and the histogram, of the latencies in ms
lat_stats=$(grep -v missing "$out/webhooks-latency-ms.txt" | sort -n | awk '
    { v[NR] = $1; sum += $1 }
    function at(q,   i) { i = int(q * NR + 0.999999); if (i < 1) i = 1;
                          return v[i] }
    END { if (NR == 0) { print "0 0 0 0 0 0"; exit }
          printf "%d %d %d %d %d %.2f\n", NR, at(0.5), at(0.9), at(0.99),
                 v[NR], sum / NR }')

# the histogram: whole ms, so bucket "2" holds 2.000 .. 2.999 ms
lat_hist=$(grep -v missing "$out/webhooks-latency-ms.txt" | awk '
    BEGIN { n = split("1 2 3 5 10 20 50 100", edge, " ") }
    { for (i = 1; i <= n; i++) if ($1 < edge[i]) break; c[i]++; all++ }
    END {
        for (i = 1; i <= n + 1; i++) {
            lo = (i == 1) ? 0 : edge[i - 1];
            if (i > n) label = ">= " lo " ms";
            else if (edge[i] - 1 == lo) label = lo " ms";
            else label = lo " .. " edge[i] - 1 " ms";
            pct = all ? 100 * c[i] / all : 0;
            bar = "";
            for (j = 0; j < int(pct / 2 + 0.5); j++) bar = bar "#";
            printf "    %-12s %6d  %5.1f %%  %s\n", label, c[i], pct, bar
        }
    }')

api PATCH "$hook_path" "$key" \
    "{\"url\":\"http://127.0.0.1:$plain_port/hooks\"}" 200 > /dev/null


# --- (W) wrk against the receiver ------------------------------------------

body=$(sql "SELECT payload FROM deliveries ORDER BY seq DESC LIMIT 1")
delivery=$(sql "SELECT id FROM deliveries ORDER BY seq DESC LIMIT 1")

echo "bench: (W) wrk -t$threads -c$connections -d$duration POST" \
     "(${#body}-byte body) to the receiver"

run "$out/webhooks-wrk.txt" env BENCH_BODY="$body" BENCH_DELIVERY="$delivery" \
    wrk -t"$threads" -c"$connections" -d"$duration" --latency \
    -s "$bench/webhooks-post.lua" "http://127.0.0.1:$plain_port/hooks" \
    || { cat "$out/webhooks-wrk.txt" >&2; die "wrk failed (baseline)"; }

w_line=$(check_bench wrk)


# --- (T) throughput ----------------------------------------------------------

echo "bench: (T) $tp_count events queued with the webhook held"

sql "UPDATE webhooks SET enabled = 0 WHERE id = '$hook'" > /dev/null
tp_seq=$(sql "SELECT coalesce(max(seq), 0) FROM deliveries")

t_gen0=$(now_ms)
users "$tp_count"
t_gen1=$(now_ms)

held=$(pending)
[ "$held" = "$tp_count" ] \
    || die "(T) $held deliveries pending, $tp_count expected"

echo "bench: (T) released"
t0=$(now_ms)
api PATCH "$hook_path" "$key" '{"enabled":true}' 200 > /dev/null

total=$((total + tp_count))
wait_delivered "$total"

# the first attempt's start, the last attempt's end
read -r tp_first tp_last < <(sql "
    SELECT min(last_attempt_at), max(last_attempt_at + duration_ms)
    FROM deliveries WHERE seq > $tp_seq" | tr '|' ' ')

tp_ms=$((tp_last - t0))
[ "$tp_ms" -gt 0 ] || die "(T) no time measured"

# deliveries/s over each tenth of the deliveries, by the end of their
# attempts: how the rate moves as the backlog shrinks
tp_tenths=$(sql "
    SELECT last_attempt_at + duration_ms FROM deliveries
    WHERE seq > $tp_seq ORDER BY 1" \
    | awk -v t0="$t0" -v n="$tp_count" '
        { e[NR] = $1 }
        END { prev = t0;
              for (k = 1; k <= 10; k++) {
                  i = int(n * k / 10); ms = e[i] - prev;
                  printf " %s", (ms > 0 ? sprintf("%.0f", (n / 10) * 1000 / ms) : "-");
                  prev = e[i] } }')


# between the two readings, for the record: how much of the growth came
# with the backlog of (T)
sleep 1
rss_t=$(rss)
mem_t=$total


# --- fill to the second memory reading ---------------------------------------

echo "bench: (M) filling to $mem2 deliveries"
fill_seq=$(sql "SELECT coalesce(max(seq), 0) FROM deliveries")
t_fill0=$(now_ms)
fill_to "$mem2"
t_fill1=$(now_ms)
sleep 1
rss2=$(rss)

retried=$(sql "SELECT count(*) FROM deliveries WHERE attempts > 1")

size() {
    stat -c %s "$1" 2>/dev/null || echo 0
}
db_size=$(size "$db")
wal_size=$(size "$db-wal")
shm_size=$(size "$db-shm")

grep -E '\[(alert|crit|emerg|error)\]' "$prefix/logs/error.log" \
    "$rprefix/logs/error.log" > "$out/webhooks-nginx-errors.txt" || true

stop_nginx "$prefix"
stop_nginx "$rprefix"


# --- report ----------------------------------------------------------------

ratio() {
    awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }'
}

at_least() {
    awk -v r="$1" -v t="$2" \
        'BEGIN { print ((r + 0 >= t + 0) ? "PASS" : "BELOW") }'
}

below() {
    awk -v r="$1" -v t="$2" \
        'BEGIN { print ((r + 0 < t + 0) ? "PASS" : "BELOW") }'
}

mb() {
    awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'
}

field_n() {
    echo "$1" | awk -v n="$2" '{ print $n }'
}

tp_rate=$(awk -v n="$tp_count" -v ms="$tp_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
w_rps=$(get "$w_line" rps)
tp_ratio=$(ratio "$tp_rate" "$w_rps")
gen_rate=$(awk -v n="$tp_count" -v ms="$((t_gen1 - t_gen0))" \
           'BEGIN { printf "%.0f", n * 1000 / ms }')
fill_count=$(sql "SELECT count(*) FROM deliveries WHERE seq > $fill_seq")
fill_rate=$(awk -v n="$fill_count" -v ms="$((t_fill1 - t_fill0))" \
            'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }')

lat_n=$(field_n "$lat_stats" 1)
p50=$(field_n "$lat_stats" 2)
p90=$(field_n "$lat_stats" 3)
p99=$(field_n "$lat_stats" 4)
pmax=$(field_n "$lat_stats" 5)
pmean=$(field_n "$lat_stats" 6)

rss1_sum=$(field_n "$rss1" 1)
rss2_sum=$(field_n "$rss2" 1)
growth=$(awk -v a="$rss1_sum" -v b="$rss2_sum" \
         'BEGIN { printf "%.1f", (a > 0 ? 100 * (b - a) / a : 0) }')
growth_abs=$(awk -v g="$growth" 'BEGIN { print (g < 0 ? -g : g) }')
growth_nowal=$(awk -v a="$((rss1_sum - $(field_n "$rss1" 5)))" \
               -v b="$((rss2_sum - $(field_n "$rss2" 5)))" \
               'BEGIN { printf "%.1f", (a > 0 ? 100 * (b - a) / a : 0) }')

mem_row() {
    printf '    %-24s %9s %9s %9s %9s %9s  %s\n' "$1" \
        "$(mb "$(field_n "$2" 1)")" "$(mb "$(field_n "$2" 2)")" \
        "$(mb "$(field_n "$2" 3)")" "$(mb "$(field_n "$2" 4)")" \
        "$(mb "$(field_n "$2" 5)")" "$(echo "$2" | cut -d' ' -f6-)"
}

report() {
    local failed=0

    echo "collab webhooks benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) cores, $(uname -sr); nginx $("$nginx" -v 2>&1 \
        | sed 's|.*/||'), SQLite $(sqlite3 -version | cut -d' ' -f1)"
    echo "collab: 2 workers, collab_webhook_concurrency $concurrency" \
         "(<= $connections connections to the receiver);" \
         "receiver: nginx, 2 workers, return 204; all on the same cores"
    [ "$scale" = 1 ] || echo "BENCH_QUICK: counts divided by $scale"
    echo

    echo "(T) throughput, one webhook, $tp_count deliveries queued, then released"
    printf '    queued at %s events/s (wrk -t%s -c64, webhook held)\n' \
        "$gen_rate" "$threads"
    printf '    release -> first attempt %s ms, -> last attempt done %s ms\n' \
        "$((tp_first - t0))" "$tp_ms"
    printf '    deliveries/s                 %8s\n' "$tp_rate"
    printf '(W) wrk -t%s -c%s -d%s POST      %8s req/s  p50 %s ms  p99 %s ms\n' \
        "$threads" "$connections" "$duration" "$w_rps" \
        "$(awk -v u="$(get "$w_line" p50_us)" 'BEGIN { printf "%.2f", u / 1000 }')" \
        "$(awk -v u="$(get "$w_line" p99_us)" 'BEGIN { printf "%.2f", u / 1000 }')"
    printf '    deliveries/s over each tenth of the %s:%s\n' "$tp_count" \
        "$tp_tenths"
    printf '    (filling to %s, %s events at a time, each batch delivered\n' \
        "$mem2" "$fill_batch"
    printf '    before the next: %s deliveries in %.1f s, %s events+deliveries/s)\n' \
        "$fill_count" "$(awk -v ms="$((t_fill1 - t_fill0))" 'BEGIN { print ms / 1000 }')" \
        "$fill_rate"
    echo

    echo "(L) latency, event committed -> receiver got it, $lat_n deliveries"
    printf '    paced POSTs: %s req/s for %ss (target %s/s)\n' \
        "$(get "$lat_line" rps)" "$lat_seconds" "$lat_rate"
    printf '    p50 %s ms  p90 %s ms  p99 %s ms  max %s ms  mean %s ms\n' \
        "$p50" "$p90" "$p99" "$pmax" "$pmean"
    printf '    (both clocks in whole ms: each figure is +-1 ms)\n'
    printf '%s\n' "$lat_hist"
    if [ "$lat_missing" != 0 ]; then
        echo "    WARNING: $lat_missing deliveries not in the receiver's log"
        failed=1
    fi
    echo

    echo "(M) collab workers' memory, both workers summed, from /proc/PID/status"
    echo "    and smaps (WAL index: the mappings of collab.db-shm, part of file)"
    printf '    %-24s %9s %9s %9s %9s %9s  %s\n' "" VmRSS anon file shmem \
        "WAL index" "VmRSS each (kB)"
    mem_row "after $mem1 deliveries" "$rss1"
    mem_row "after (T), $mem_t" "$rss_t"
    mem_row "after $mem2 deliveries" "$rss2"
    printf '    VmRSS without the WAL index: %s -> %s (%+.1f %%)\n' \
        "$(mb "$((rss1_sum - $(field_n "$rss1" 5)))")" \
        "$(mb "$((rss2_sum - $(field_n "$rss2" 5)))")" "$growth_nowal"
    echo

    echo "deliveries: $total in all, every one success; $retried took more" \
         "than one attempt"
    printf 'SQLite files at the end: collab.db %s, collab.db-wal %s,' \
        "$(mb $((db_size / 1024)))" "$(mb $((wal_size / 1024)))"
    printf ' collab.db-shm %s\n' "$(mb $((shm_size / 1024)))"
    printf 'write-ahead log: at most %s seen while sampling (every 0.05 to 0.25 s)\n' \
        "$(mb $((wal_max / 1024)))"
    printf 'POSTs of events to collab: %s answered 503, %s timed out (wrk)\n' \
        "$posts_503" "$posts_timeout"
    echo "the whole run took $((SECONDS - run_start)) s"

    if [ -s "$out/webhooks-nginx-errors.txt" ]; then
        echo "WARNING: nginx logged $(wc -l < "$out/webhooks-nginx-errors.txt")" \
             "errors, see bench/out/webhooks-nginx-errors.txt"
        failed=1
    fi
    echo

    printf 'errors      %s POSTs 503 or timed out  target 0       %s\n' \
        "$((posts_503 + posts_timeout))" \
        "$([ $((posts_503 + posts_timeout)) = 0 ] && echo PASS || echo BELOW)"
    printf 'throughput  T/W = %s            target >= %s    %s\n' \
        "$tp_ratio" "$TP_TARGET" "$(at_least "$tp_ratio" "$TP_TARGET")"
    printf 'latency     p50 = %s ms          target < %s ms   %s\n' \
        "$p50" "$P50_TARGET" "$(below "$p50" "$P50_TARGET")"
    printf 'latency     p99 = %s ms          target < %s ms  %s\n' \
        "$p99" "$P99_TARGET" "$(below "$p99" "$P99_TARGET")"
    printf 'memory      RSS %s -> %s: %+.1f %%   target within %s %%  %s\n' \
        "$(mb "$rss1_sum")" "$(mb "$rss2_sum")" "$growth" "$MEM_TARGET" \
        "$(awk -v g="$growth_abs" -v t="$MEM_TARGET" \
           'BEGIN { print ((g + 0 <= t + 0) ? "PASS" : "BELOW") }')"

    return "$failed"
}

echo
status=0
report > "$out/webhooks.txt" || status=1
cat "$out/webhooks.txt"
exit "$status"
