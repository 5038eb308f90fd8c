#!/usr/bin/env bash
# Builds ngx_http_collab_module.so against the installed nginx (Debian's
# nginx-dev tree) or against NGINX_SRC, in the build folder given as $1.
# Extra compiler and linker flags come from COLLAB_CC_OPT / COLLAB_LD_OPT.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
src="$build/nginx"
stamp="$build/.configured"
want="${NGINX_SRC:-/usr/share/nginx/src}|${COLLAB_CC_OPT:-}|${COLLAB_LD_OPT:-}"

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] \
   || [ "$top/config" -nt "$stamp" ]
then
    rm -rf "$src"
    if [ -n "${NGINX_SRC:-}" ]; then
        cp -a "$NGINX_SRC" "$src"
        flags=(--with-compat --with-threads --with-http_ssl_module)
    else
        if [ ! -f /usr/share/nginx/src/conf_flags ]; then
            echo "build: /usr/share/nginx/src missing: run 'make deps'" >&2
            exit 1
        fi
        cp -a /usr/share/nginx/src "$src"
        # shellcheck disable=SC1091
        . /usr/share/nginx/src/conf_flags
        flags=("${NGX_CONF_FLAGS[@]}")
    fi
    cc_opt="-g -O2 -Wall -Wextra -Wno-unused-parameter -Werror ${COLLAB_CC_OPT:-}"
    (cd "$src" && ./configure "${flags[@]}" \
        --with-cc-opt="$cc_opt" --with-ld-opt="${COLLAB_LD_OPT:-}" \
        --add-dynamic-module="$top" > "$build/configure.log" 2>&1) || {
        tail -20 "$build/configure.log" >&2
        exit 1
    }
    echo "$want" > "$stamp"
fi

# the console's files may have changed since the configure that embedded them
sh "$top/util/console-embed.sh" "$top/console" \
    "$src/objs/addon/console/ngx_collab_console_files.c"

make -s -C "$src" -f objs/Makefile modules > "$build/make.log" 2>&1 || {
    grep -E 'error|Error' -A3 "$build/make.log" | head -60 >&2
    exit 1
}
# a new file, not an overwrite: a running nginx keeps the old one mapped
cp "$src/objs/ngx_http_collab_module.so" "$build/.module.so.new"
mv -f "$build/.module.so.new" "$build/ngx_http_collab_module.so"
