#!/usr/bin/env bash
# `make test-browser`: the console in a headless Chromium, driven by
# puppeteer-core (installed by util/deps.sh in build/browser): nginx with
# the module and the workflow runner from the build folder ($1) on a free
# port, its prefix in $1/browser-run, ended by its pid when the test is
# over.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
run="$build/browser-run"
nginx=${NGINX_BIN:-/usr/sbin/nginx}
chromium=${CHROMIUM:-/usr/bin/chromium}

port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

rm -rf "$run"
mkdir -p "$run/logs" "$run/data" "$run/tmp"

# a root master's workers run as the user that runs this, so that they
# can write the database in the run folder
user=
if [ "$(id -u)" = 0 ]; then
    user="user root;"
fi

cat > "$run/nginx.conf" <<CONF
load_module $build/ngx_http_collab_module.so;
$user
worker_processes  1;
error_log         logs/error.log info;
pid               logs/nginx.pid;
events {
    worker_connections  256;
}
http {
    access_log               logs/access.log;
    client_body_temp_path    tmp/body;
    collab_database          data/collab.db;
    collab_admin_token_file  data/admin.token;
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1h;
    collab_workflow_runner         $build/collab-runner;
    server {
        listen  127.0.0.1:$port;
        location /v1/ {
            collab_api;
        }
        location /console/ {
            collab_console;
        }
    }
}
CONF

"$nginx" -p "$run/" -c "$run/nginx.conf" -g 'daemon off;' &
pid=$!
trap 'kill -QUIT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
    [ -s "$run/data/admin.token" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "nginx did not start" >&2; exit 1; }
    sleep 0.1
done

NODE_PATH="$build/browser/node_modules" \
COLLAB_URL="http://127.0.0.1:$port" \
COLLAB_ADMIN_TOKEN=$(tr -d '[:space:]' < "$run/data/admin.token") \
COLLAB_SCREENSHOT="$build/console.png" \
COLLAB_NGINX_PID=$pid \
CHROMIUM="$chromium" \
    node "$top/t/browser/console-test.js"
