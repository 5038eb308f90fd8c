#!/usr/bin/env bash
# `make bench`, room data: bench/room-data.sh BUILD, BUILD being the folder
# that holds ngx_http_collab_module.so.  Starts nginx with the module on
# 127.0.0.1:$BENCH_PORT (18095), makes an account, a key and a room with
# curl, uploads a 1 MiB file and stores a key, then measures with wrk
#
#   (a) GET /static/one.bin                          the file, from root
#   (b) GET /v1/accounts/{acc}/rooms/{room}/files/one.bin   the same bytes
#   (c) GET /baseline                                nginx's return 200 '{}'
#   (d) GET /v1/accounts/{acc}/rooms/{room}/stores/bench/key   one key
#
# and prints the ratios b/a and d/c against their targets.  Each pair is
# measured in BENCH_ROUNDS rounds (2), baseline first in odd rounds and
# last in even ones, and each figure is the mean of its rounds, so that a
# machine that gets slower or faster during the run favours neither side.
# The requests carry an account key, as a client's would.  The report is
# also written to bench/out/room-data.txt.
#
# Environment: BENCH_DURATION (wrk's -d, default 10s), BENCH_ROUNDS (2),
# BENCH_PORT (18095), NGINX_BIN (/usr/sbin/nginx).
#
# Exits 1 when something fails, or when any measured request got an
# answer it should not have; a ratio below its target is reported as
# BELOW but is not a failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_start "$@"
prefix="$out/room-data"
module="$build/ngx_http_collab_module.so"

nginx=${NGINX_BIN:-/usr/sbin/nginx}
port=${BENCH_PORT:-18095}
duration=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-2}
base="http://127.0.0.1:$port"

DOWNLOAD_TARGET=0.8
KEY_TARGET=0.5

for tool in wrk curl cmp "$nginx"; do
    command -v "$tool" > /dev/null || die "$tool not found: run 'make deps'"
done

[ -f "$module" ] || die "$module not found: run 'make'"

[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS: not a number: $rounds"

if curl -s -o /dev/null --max-time 1 "$base/"; then
    die "127.0.0.1:$port is in use (set BENCH_PORT)"
fi

trap 'stop_nginx "$prefix"' EXIT

rm -rf "$prefix"
mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/html/static"

( umask 077
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$prefix/admin.token" )
admin=$(cat "$prefix/admin.token")

head -c 1048576 /dev/urandom > "$prefix/html/static/one.bin"

sed -e "s|@MODULE@|$module|" -e "s|@LISTEN@|127.0.0.1:$port|" \
    "$bench/room-data.conf.in" > "$prefix/nginx.conf"

"$nginx" -p "$prefix/" -c "$prefix/nginx.conf" \
    || die "nginx did not start, see $prefix/logs/error.log"

wait_up "$base/baseline"


# --- setup: an account, a key, a room, the file and the key --------------

# transfer METHOD PATH TOKEN CURL-OPTION...: a request of the API (PATH
# after /v1) with curl's options for its body and where the answer goes
transfer() {
    local method=$1 path=$2 token=$3
    shift 3
    curl -sf -X "$method" -H "Authorization: Bearer $token" "$@" \
        "$base/v1$path"
}

json="Content-Type: application/json"

new_account

room=$(api POST "/v1/accounts/$acc/rooms" "$key" '{"name":"bench"}' 201 \
       | field id)
[ -n "$room" ] || die "no room id"

files="/accounts/$acc/rooms/$room/files"
store="/accounts/$acc/rooms/$room/stores/bench"

transfer PUT "$files/one.bin" "$key" \
    -H "Content-Type: application/octet-stream" --data-binary "@$prefix/html/static/one.bin" > /dev/null \
    || die "uploading the file failed"
transfer GET "$files/one.bin" "$key" -o "$prefix/one.bin.api" \
    || die "downloading the file failed"
cmp -s "$prefix/one.bin.api" "$prefix/html/static/one.bin" \
    || die "the file downloaded is not the file uploaded"

transfer PUT "$store/key" "$key" -H "$json" \
    -d '{"cursor":{"x":120,"y":48},"color":"#3b82f6","name":"Ann"}' \
    > /dev/null || die "storing the key failed"


# --- measures ------------------------------------------------------------

# measure NAME CONNECTIONS URL [HEADER]: prints requests/s, keeps wrk's output
measure() {
    local name=$1 conns=$2 url=$3 header=${4:-}
    local file="$out/room-data-$name.txt" rps

    if [ -n "$header" ]; then
        wrk -t2 -c"$conns" -d"$duration" -H "$header" "$url" > "$file" 2>&1
    else
        wrk -t2 -c"$conns" -d"$duration" "$url" > "$file" 2>&1
    fi

    if grep -q "Non-2xx or 3xx\|Socket errors" "$file"; then
        cat "$file" >&2
        die "($name) some requests failed"
    fi

    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$file")
    [ -n "$rps" ] || die "($name) wrk printed no requests/s"

    echo "$rps"
}

# pair BASE-NAME NAME CONNECTIONS BASE-URL URL HEADER: "base module", the
# means of the rounds, alternating which of the two goes first
pair() {
    local i x y sx=0 sy=0

    for i in $(seq "$rounds"); do
        if [ $((i % 2)) -eq 1 ]; then
            x=$(measure "$1-$i" "$3" "$4")
            y=$(measure "$2-$i" "$3" "$5" "$6")
        else
            y=$(measure "$2-$i" "$3" "$5" "$6")
            x=$(measure "$1-$i" "$3" "$4")
        fi

        echo "  round $i: $1 $x, $2 $y req/s" >&2

        sx=$(awk -v s="$sx" -v v="$x" 'BEGIN { print s + v }')
        sy=$(awk -v s="$sy" -v v="$y" 'BEGIN { print s + v }')
    done

    awk -v x="$sx" -v y="$sy" -v n="$rounds" \
        'BEGIN { printf "%.0f %.0f\n", x / n, y / n }'
}

auth="Authorization: Bearer $key"

echo "room data benchmark: $rounds rounds of $duration per measure" >&2

read -r a b < <(pair a b 32 "$base/static/one.bin" "$base/v1$files/one.bin" \
                     "$auth")
read -r c d < <(pair c d 64 "$base/baseline" "$base/v1$store/key" "$auth")

ratio() {
    awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'
}

verdict() {
    awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "ok" : "BELOW" }'
}

rb=$(ratio "$b" "$a")
rd=$(ratio "$d" "$c")

report=$(cat <<REPORT
room data benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), means of $rounds rounds of $duration)

  (a) 1 MiB file, static location with root  $(printf '%10.0f' "$a") req/s
  (b) the same file through the files API    $(printf '%10.0f' "$b") req/s
  (c) return 200 '{}'                        $(printf '%10.0f' "$c") req/s
  (d) GET of one store key                   $(printf '%10.0f' "$d") req/s

  download  b/a = $rb  (target >= $DOWNLOAD_TARGET)  $(verdict "$rb" "$DOWNLOAD_TARGET")
  key GET   d/c = $rd  (target >= $KEY_TARGET)  $(verdict "$rd" "$KEY_TARGET")
REPORT
)

echo "$report"
echo "$report" > "$out/room-data.txt"
