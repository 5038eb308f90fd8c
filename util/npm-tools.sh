#!/usr/bin/env bash
# Installs the npm packages of t/openapi/package-lock.json (the Redocly CLI,
# ajv, ajv-formats, yaml) into the folder given as $1, for
# t/180-openapi.t.  Without node or npm, or when the install fails, it says
# so and leaves the folder without node_modules: that test file is then
# skipped, and nothing else fails.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=$(mkdir -p "$1" && cd "$1" && pwd)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "npm-tools: no node or npm; t/180-openapi.t will be skipped" >&2
    exit 0
fi

cp "$top/t/openapi/package.json" "$top/t/openapi/package-lock.json" "$dest/"

echo "npm-tools: npm ci in $dest"
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error) || {
    rm -rf "$dest/node_modules"
    echo "npm-tools: npm ci failed; t/180-openapi.t will be skipped" >&2
}
exit 0
