#!/usr/bin/env bash
# `make run`: nginx in the foreground with conf/collab.conf and the module
# from ./build, data and logs in ./var, on 127.0.0.1:$PORT.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8080}
var="$top/var"
nginx=${NGINX_BIN:-/usr/sbin/nginx}

mkdir -p "$var/logs" "$var/tmp"
sed "s/127\.0\.0\.1:8080/127.0.0.1:$port/" "$top/conf/collab.conf" \
    > "$var/collab.conf"

args=(-p "$var/" -c "$var/collab.conf")
load="load_module $top/build/ngx_http_collab_module.so;"

# the first start creates the database and the admin token
"$nginx" "${args[@]}" -g "$load daemon off;" &
pid=$!
trap 'kill -QUIT "$pid" 2>/dev/null; wait "$pid"' INT TERM

for _ in $(seq 100); do
    [ -s "$var/data/admin.token" ] && break
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit 1; }
    sleep 0.1
done

token=$(tr -d '[:space:]' < "$var/data/admin.token")

cat <<MSG

collab is running on http://127.0.0.1:$port (logs in var/logs, data in var/data)
admin token: $token

try:
  curl -s -X POST http://127.0.0.1:$port/v1/accounts -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"name":"Acme"}'
  curl -s http://127.0.0.1:$port/metrics
  the console: http://127.0.0.1:$port/console/

Ctrl-C stops it.

MSG

wait "$pid"
