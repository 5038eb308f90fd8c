#!/usr/bin/env bash
# Installs what building, running, testing and benchmarking need, from
# Debian's packages, and the npm packages of the tests into the build
# folder ($1, default ./build); does nothing when everything is there
# already.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$top/build}" && cd "${1:-$top/build}" && pwd)

pkgs=(nginx nginx-dev libsqlite3-dev libjansson-dev libssl-dev sqlite3
      libtest-base-perl libwww-perl liburi-perl libjson-pp-perl
      libnginx-mod-http-js wrk curl gcc make dpkg-dev)

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

# The Express receiver of t/120-webhooks-express.t, from its lock file, in
# the build folder: build/express/node_modules.  Installed again whenever
# t/express/package*.json change; a failure fails the make that runs this.
src=$top/t/express
express=$build/express
if ! cat "$src/package.json" "$src/package-lock.json" \
        | cmp -s - "$express/.installed" \
   || [ ! -d "$express/node_modules" ]
then
    echo "deps: npm ci in $express"
    rm -rf "$express"
    mkdir -p "$express"
    cp "$src/package.json" "$src/package-lock.json" "$express/"
    npm ci --prefix "$express" --no-audit --no-fund || {
        echo "deps: npm ci failed in $express" >&2
        exit 1
    }
    cat "$src/package.json" "$src/package-lock.json" > "$express/.installed"
fi
