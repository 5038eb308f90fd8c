#!/usr/bin/env bash
# Builds the QuickJS engine of the workflow runner as a static library:
#
#   util/quickjs.sh BUILD-FOLDER [EXTRA-CFLAGS]
#
# leaves BUILD-FOLDER/quickjs/libquickjs.a and quickjs.h.  The engine is
# Debian trixie's source package quickjs 2025.04.26 (fetched and checked by
# util/debian-source.sh), or the installed one when Debian's quickjs
# package of that version is on the machine.  Only the engine is built
# (quickjs.c, dtoa.c, libregexp.c, libunicode.c, cutils.c): never
# quickjs-libc, whose std and os modules would reach files and processes.
set -euo pipefail

want=2025.04.26
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
extra=${2:-}
out="$build/quickjs"
cc=${CC:-cc}

mkdir -p "$out"

installed=$(dpkg-query -W -f='${Version}' quickjs 2>/dev/null || true)
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
system_lib="/usr/lib/$arch/quickjs/libquickjs.a"

if [ "${installed%%-*}" = "$want" ] && [ -f "$system_lib" ] \
   && [ -f /usr/include/quickjs/quickjs.h ]
then
    cp /usr/include/quickjs/quickjs.h "$out/quickjs.h"
    cp "$system_lib" "$out/libquickjs.a"
    echo "quickjs: using the installed quickjs $installed"
    exit 0
fi

src=$("$top/util/debian-source.sh" quickjs "$want" "$build/src")

version=$(cat "$src/VERSION")
if [ "$version" != "${want//./-}" ]; then
    echo "quickjs: $src has version $version, not ${want//./-}" >&2
    exit 1
fi

objs=()
for f in quickjs dtoa libregexp libunicode cutils; do
    "$cc" -c -O2 -g -fPIC -funsigned-char -D_GNU_SOURCE \
        -DCONFIG_VERSION="\"$version\"" -Wno-array-bounds \
        -Wno-format-truncation $extra \
        -o "$out/$f.o" "$src/$f.c" &
    objs+=("$out/$f.o")
    # two at a time: the machine is shared
    if [ $(( ${#objs[@]} % 2 )) -eq 0 ]; then
        wait
    fi
done
wait

for o in "${objs[@]}"; do
    [ -f "$o" ] || { echo "quickjs: $o was not built" >&2; exit 1; }
done

rm -f "$out/libquickjs.a"
ar rcs "$out/libquickjs.a" "${objs[@]}"
cp "$src/quickjs.h" "$out/quickjs.h"
echo "quickjs: built $out/libquickjs.a from $src"
