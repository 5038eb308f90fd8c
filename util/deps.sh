#!/usr/bin/env bash
# Installs what building, running, testing and benchmarking need, from
# Debian's packages, and the npm packages of the tests into the build
# folder ($1, default ./build); does nothing when everything is there
# already.  "util/deps.sh --deb [build]": also what `make deb` needs.
set -euo pipefail

deb=no
if [ "${1:-}" = --deb ]; then
    deb=yes
    shift
fi

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$top/build}" && cd "${1:-$top/build}" && pwd)

pkgs=(nginx nginx-dev libsqlite3-dev libjansson-dev libssl-dev sqlite3
      libtest-base-perl libwww-perl liburi-perl libjson-pp-perl
      libnginx-mod-http-js wrk curl gcc make dpkg-dev prometheus chromium
      libcurl4-openssl-dev libseccomp-dev libc-ares-dev esbuild
      openssl libio-socket-ssl-perl)

if [ $deb = yes ]; then
    pkgs+=(debhelper lintian)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

# node and npm by command: a Node.js installed from elsewhere brings both
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing ${missing[*]}; run 'sudo make deps'" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # the nginx package starts a server on port 80 unless told not to
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || { rm -f /usr/sbin/policy-rc.d; exit 1; }
    rm -f /usr/sbin/policy-rc.d
fi

# The npm packages of the tests, each from its lock file, in the build
# folder: the Express receiver of t/120-webhooks-express.t in
# build/express, the OpenAPI linter and validator of t/910-openapi.t in
# build/openapi, puppeteer-core for `make test-browser` in build/browser.
# Installed again whenever their package*.json change; a
# failure fails the make that runs this.
npm_ci() {
    local src=$1 dest=$2

    if ! cat "$src/package.json" "$src/package-lock.json" \
            | cmp -s - "$dest/.installed" \
       || [ ! -d "$dest/node_modules" ]
    then
        echo "deps: npm ci in $dest"
        rm -rf "$dest"
        mkdir -p "$dest"
        cp "$src/package.json" "$src/package-lock.json" "$dest/"
        npm ci --prefix "$dest" --no-audit --no-fund || {
            echo "deps: npm ci failed in $dest" >&2
            exit 1
        }
        cat "$src/package.json" "$src/package-lock.json" > "$dest/.installed"
    fi
}

npm_ci "$top/t/express" "$build/express"
npm_ci "$top/t/openapi" "$build/openapi"
npm_ci "$top/t/browser" "$build/browser"
