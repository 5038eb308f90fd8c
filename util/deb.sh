#!/usr/bin/env bash
# `make deb`: builds the Debian package libnginx-mod-http-collab from a copy
# of the source tree (so that the build leaves the tree as it was), with
# dpkg-buildpackage and debian/ (dh-sequence-nginx from nginx-dev), then
# lists lintian's findings.  The .deb and its .changes go to $1.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)

"$top/util/deps.sh" --deb

version=$(sed -n 's/^#define COLLAB_VERSION *"\(.*\)"/\1/p' \
          "$top/ngx_collab_module/ngx_collab.h")
packaged=$(cd "$top" && dpkg-parsechangelog -S Version)
if [ "$version" != "$packaged" ]; then
    echo "deb: the module is $version but debian/changelog says" \
         "$packaged: add a changelog entry (dch -v $version)" >&2
    exit 1
fi

src="$out/collab-$version"
rm -rf "$src" "$out"/libnginx-mod-http-collab_* "$out"/collab_*
mkdir -p "$src"
tar -C "$top" -c --exclude=./build --exclude=./build-asan \
    --exclude=./var --exclude='./t/servroot*' --exclude=./.git \
    --exclude=node_modules --exclude=./bench/out . | tar -C "$src" -x

(cd "$src" && dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    echo "deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
    exit 1
}
rm -rf "$src"

deb=$(ls "$out"/libnginx-mod-http-collab_"$version"_*.deb)
echo "deb: $deb"
dpkg-deb --contents "$deb" | awk '{ print "    " $1, $2, $6, $7, $8 }'

echo "deb: lintian:"
lintian -I "$out"/collab_"$version"_*.changes 2>&1 \
    | grep -v '^running with root privileges' | sed 's/^/    /' || true
