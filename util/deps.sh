#!/usr/bin/env bash
# Installs what building, running, testing and benchmarking need, from
# Debian's packages; does nothing when everything is there already.
set -euo pipefail

pkgs=(nginx nginx-dev libsqlite3-dev libjansson-dev libssl-dev sqlite3
      libtest-base-perl libwww-perl liburi-perl libjson-pp-perl
      libnginx-mod-http-js wrk curl gcc make
      libcurl4-openssl-dev libseccomp-dev libc-ares-dev esbuild dpkg-dev
      openssl libio-socket-ssl-perl)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

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

# The Express receiver of t/120-webhooks-express.t, from its lock file
# (without node, or when this fails, that test file is skipped).
express=$(cd "$(dirname "$0")/../t/express" && pwd)
if command -v node >/dev/null && command -v npm >/dev/null \
   && [ ! -d "$express/node_modules" ]
then
    echo "deps: npm ci in t/express"
    (cd "$express" && npm ci --no-audit --no-fund) || {
        rm -rf "$express/node_modules"
        echo "deps: npm ci failed in t/express;" \
             "t/120-webhooks-express.t will be skipped" >&2
    }
fi
