#!/usr/bin/env bash
# `make test-asan`: the Test::Nginx suite against the stock nginx with the
# module built with AddressSanitizer + UBSan.  The sanitizer runtime is
# preloaded into nginx only (through a wrapper), reports go to files, and
# any report fails the run.
set -euo pipefail

build=$1
inc=$2
modules=$3

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
logs="$build/sanitizer"
asan=$(${CC:-cc} -print-file-name=libasan.so)

rm -rf "$logs"
mkdir -p "$logs"
chmod 0777 "$logs"

cat > "$build/nginx-asan" <<WRAP
#!/bin/sh
export LD_PRELOAD="$asan"
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=1:handle_segv=1"
export LSAN_OPTIONS="suppressions=$top/util/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
exec /usr/sbin/nginx "\$@"
WRAP
chmod +x "$build/nginx-asan"

cd "$top"

status=0
TEST_NGINX_BINARY="$build/nginx-asan" \
TEST_NGINX_LOAD_MODULES="$modules $build/ngx_http_collab_module.so" \
TEST_NGINX_SERVROOT="$top/t/servroot-asan" \
    prove $inc t/ || status=$?

if [ -n "$(ls -A "$logs")" ]; then
    echo "sanitizer reports:" >&2
    for f in "$logs"/*; do
        echo "== $f" >&2
        head -60 "$f" >&2
    done
    exit 1
fi

exit $status
