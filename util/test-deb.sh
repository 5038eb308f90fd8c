#!/usr/bin/env bash
# `make test-deb`: installs the package that `make deb` built (in the folder
# given as $1) into the stock nginx, checks what it put where, starts an
# nginx of its own on a free port with the package's example configuration
# (its port changed), takes the README's tour with curl (an account, a key,
# a room, a user, the events, and a workflow that the packaged collab-runner
# compiles and runs), then purges the package and checks that the
# machine is as it was: the same packages, the same files under /etc/nginx,
# /usr/lib/nginx and /usr/share/nginx, no /var/lib/collab.  A running nginx
# is left alone: service starts and reloads are held off meanwhile.
set -euo pipefail

pkg=libnginx-mod-http-collab
dir=$(cd "$1" && pwd)
work=$(mktemp -d)
nginx_pid=""
installed=""
policy=""
failed=0

die() {
    echo "test-deb: $*" >&2
    exit 1
}

check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok - $what"
    else
        echo "not ok - $what"
        failed=$((failed + 1))
    fi
}

apt() {
    DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
        -o DPkg::Lock::Timeout=300 "$@" >> "$work/apt.log" 2>&1
}

packages() {
    dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' \
        | awk '$1 ~ /^.i/ { print $2, $3 }' | sort
}

files() {
    find /etc/nginx /usr/lib/nginx /usr/share/nginx -xdev \
         -printf '%p %y %m %u:%g %l\n' 2>/dev/null | sort
    find /etc/nginx -xdev -type f -exec md5sum {} + 2>/dev/null | sort
}

cleanup() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid"
        for _ in $(seq 50); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [ -n "$installed" ]; then
        apt purge $installed || echo "test-deb: purge failed" >&2
    fi
    if [ -n "$policy" ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "needs root (it installs and purges a package)"

deb=$(ls "$dir"/"$pkg"_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || die "no ${pkg}_*.deb in $dir: run 'make deb'"

if dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null \
   | grep -q '^.[ic]'
then
    die "$pkg is installed already; the test would purge it"
fi
[ ! -e /var/lib/collab ] \
    || die "/var/lib/collab exists; purging would remove it"

command -v curl >/dev/null || die "curl is missing: run 'make deps'"

# a free TCP port on 127.0.0.1 (from /proc/net/tcp, so that no connection
# is attempted)
port=""
for p in $(shuf -i 20000-40000 -n 50); do
    hex=$(printf '%04X' "$p")
    if ! awk 'NR > 1 { split($2, a, ":"); print a[2] }' \
             /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qx "$hex"
    then
        port=$p
        break
    fi
done
[ -n "$port" ] || die "no free port found"

packages > "$work/packages.before"
files > "$work/files.before"
stock_ok=no
nginx -t -q >/dev/null 2>&1 && stock_ok=yes

if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy=yes
fi

echo "test-deb: installing $deb"
installed=$pkg
apt install --no-install-recommends "$deb" \
    || { cat "$work/apt.log" >&2; die "apt-get install failed"; }
packages > "$work/packages.installed"
# what apt brought in with it goes out with it
installed="$pkg $(comm -13 "$work/packages.before" "$work/packages.installed" \
                 | awk -v p="$pkg" '$1 != p { print $1 }' | tr '\n' ' ')"

# -- what the package put where

mods=/usr/lib/nginx/modules
check "the module is in $mods" test -f "$mods/ngx_http_collab_module.so"
check "mod-http-collab.conf loads it" \
    grep -qx 'load_module modules/ngx_http_collab_module.so;' \
        /usr/share/nginx/modules-available/mod-http-collab.conf
check "and is enabled in /etc/nginx/modules-enabled" \
    test "$(readlink /etc/nginx/modules-enabled/50-mod-http-collab.conf)" \
         = /usr/share/nginx/modules-available/mod-http-collab.conf
check "/var/lib/collab belongs to www-data, mode 750" \
    test "$(stat -c '%U:%G %a' /var/lib/collab)" = "www-data:www-data 750"
example=/usr/share/doc/$pkg/examples/collab.conf
check "the example configuration is in /usr/share/doc/$pkg/examples" \
    test -f "$example"
if dpkg -L "$pkg" | grep -q '/collab-runner$'; then
    check "collab-runner is beside the module" test -x "$mods/collab-runner"
else
    echo "# the package has no collab-runner (the Makefile builds none)"
fi
if [ "$stock_ok" = yes ]; then
    check "the stock configuration still passes nginx -t" \
        sh -c 'nginx -t -q >/dev/null 2>&1'
fi

# -- an nginx with the example, on $port

mkdir -p "$work/tmp"
sed "s/listen  *127\.0\.0\.1:8080;/listen       127.0.0.1:$port;/" \
    "$example" > "$work/collab.conf"
grep -q "127.0.0.1:$port" "$work/collab.conf" \
    || die "the example has no 'listen 127.0.0.1:8080;' to move"

cat > "$work/nginx.conf" <<EOF
user                www-data;
worker_processes    2;
pid                 $work/nginx.pid;
error_log           $work/error.log notice;

# the modules the stock nginx loads, collab among them
include             /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections  256;
}

http {
    access_log              $work/access.log;
    client_body_temp_path   $work/tmp/body;
    proxy_temp_path         $work/tmp/proxy;
    fastcgi_temp_path       $work/tmp/fastcgi;
    uwsgi_temp_path         $work/tmp/uwsgi;
    scgi_temp_path          $work/tmp/scgi;

    include                 $work/collab.conf;
}
EOF

nginx -c "$work/nginx.conf" \
    || { cat "$work/error.log" >&2; die "nginx did not start"; }
for _ in $(seq 100); do
    [ -s "$work/nginx.pid" ] && nginx_pid=$(cat "$work/nginx.pid") && break
    sleep 0.1
done
[ -n "$nginx_pid" ] || die "nginx wrote no pid file"

api=http://127.0.0.1:$port/v1
json="Content-Type: application/json"

# call METHOD PATH TOKEN [BODY]: the answer's body, its status on fd 3
call() {
    local args=(-s -o "$work/answer" -w '%{http_code}' -X "$1" "$api$2"
                -H "Authorization: Bearer $3")
    [ $# -lt 4 ] || args+=(-H "$json" -d "$4")
    curl "${args[@]}" > "$work/status" || echo 000 > "$work/status"
    cat "$work/answer"
}

field() {
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}

status() {
    cat "$work/status"
}

for _ in $(seq 50); do
    [ -s /var/lib/collab/admin.token ] && break
    sleep 0.1
done
admin=$(cat /var/lib/collab/admin.token)

account=$(call POST /accounts "$admin" '{"name":"Acme"}' | field id)
check "POST /accounts: 201 $account" test "$(status)" = 201
token=$(call POST "/accounts/$account/keys" "$admin" '{"name":"server"}' \
        | field token)
check "POST /accounts/{id}/keys: 201" test "$(status)" = 201
room=$(call POST "/accounts/$account/rooms" "$token" \
            '{"name":"Design review","metadata":{"team":"ux"}}' | field id)
check "POST /rooms with the key: 201 $room" test "$(status)" = 201
call POST "/accounts/$account/rooms/$room/users" "$token" \
     '{"userId":"user-001","name":"Ann"}' > /dev/null
check "POST /rooms/{id}/users: 201" test "$(status)" = 201
name=$(call GET "/accounts/$account/rooms/$room/users/user-001" "$token" \
       | field name)
check "GET the user: 200, Ann" test "$(status) $name" = "200 Ann"
event=$(call GET "/accounts/$account/events?limit=1" "$token" | field event)
check "GET /events: 200, user.created" \
    test "$(status) $event" = "200 user.created"
if [ -x "$mods/collab-runner" ]; then
    # the runner the module finds beside itself, with no directive: it
    # compiles the workflow and runs it
    workflow=$(call POST "/accounts/$account/workflows" "$token" \
        '{"name":"Hello","events":["user.created"],"code":"export default async function (event) { return { user: event.data.userId }; }"}' \
        | field id)
    check "POST /workflows, compiled by collab-runner: 201 $workflow" \
        test "$(status)" = 201
    result=$(call POST "/accounts/$account/workflows/$workflow/test" \
             "$token" "{\"event\":{\"event\":\"user.created\",\"data\":{\"userId\":\"user-009\",\"roomId\":\"$room\"}}}" \
             | field status)
    check "POST /workflows/{id}/test: 200, success" \
        test "$(status) $result" = "200 success"
    check "the module found the runner by default" \
        sh -c "! grep -q 'no workflow runner' '$work/error.log'"
fi
call GET "/accounts/$account" "" > /dev/null
check "without a token: 401" test "$(status)" = 401
check "the database is in /var/lib/collab, for www-data" \
    test "$(stat -c %U /var/lib/collab/collab.db 2>&1)" = www-data
check "nginx logged no error" \
    sh -c "! grep -E '\\[(error|crit|alert|emerg)\\]' '$work/error.log'"

kill -QUIT "$nginx_pid"
for _ in $(seq 100); do
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
done
check "nginx stopped" sh -c "! kill -0 $nginx_pid 2>/dev/null"
nginx_pid=""

# -- purge, and the machine as it was

echo "test-deb: purging $installed"
apt purge $installed || { cat "$work/apt.log" >&2; die "purge failed"; }
installed=""
if [ -n "$policy" ]; then
    rm -f /usr/sbin/policy-rc.d
    policy=""
fi

check "/var/lib/collab is gone" test ! -e /var/lib/collab
packages > "$work/packages.after"
check "the same packages as before" \
    diff "$work/packages.before" "$work/packages.after"
files > "$work/files.after"
check "the same files under /etc/nginx, /usr/lib/nginx, /usr/share/nginx" \
    diff "$work/files.before" "$work/files.after"

if [ "$failed" -gt 0 ]; then
    echo "test-deb: $failed checks failed" >&2
    exit 1
fi
echo "test-deb: all checks passed"
