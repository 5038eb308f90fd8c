#!/usr/bin/env bash
# Fetches the source of one package of Debian trixie and unpacks it:
#
#   util/debian-source.sh PACKAGE UPSTREAM-VERSION DEST
#
# prints the unpacked folder (DEST/PACKAGE-UPSTREAM-VERSION).  The deb-src
# line is made at run time from the URIs of the machine's own Debian apt
# sources, and apt is pointed at private lists (Dir::Etc::SourceList and
# Dir::State::Lists), so the system's apt setup is left untouched.
set -euo pipefail

pkg=$1
want=$2
dest=$(mkdir -p "$3" && cd "$3" && pwd)
out="$dest/$pkg-$want"

if [ -d "$out" ]; then
    echo "$out"
    exit 0
fi

command -v dpkg-source >/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends dpkg-dev >&2
}

# the first Debian archive URI the machine uses (not the security one)
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    u=$(awk '/^URIs:/ { print $2 }' "$f" | grep -v -- '-security' | head -1)
    case "$u" in */debian|*/debian/) uri=$u; break ;; esac
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $2 !~ /security/ && $2 ~ /\/debian\/?$/ \
               { print $2; exit }' /etc/apt/sources.list)
fi
[ -n "$uri" ] || { echo "debian-source: no Debian archive in apt sources" >&2;
                   exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
{
    echo "deb-src $uri trixie main"
    echo "deb-src ${uri%/debian*}/debian-security trixie-security main"
} > "$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list"
      -o "Dir::Etc::SourceParts=/dev/null"
      -o "Dir::State::Lists=$work/lists"
      -o "APT::Get::List-Cleanup=0"
      -o "APT::Sandbox::User=root")

apt-get "${opts[@]}" update -qq >&2
version=$(apt-cache "${opts[@]}" showsrc "$pkg" \
          | awk '/^Version:/ { print $2 }' | sort -V | tail -1)
case "$version" in
    "$want"-*|"$want") ;;
    *) echo "debian-source: trixie has $pkg $version, not $want" >&2
       exit 1 ;;
esac

# A mirror may lag behind its own index for the Debian part of a package:
# the upstream tarball is then enough.
if (cd "$work" && apt-get "${opts[@]}" source --download-only -qq \
        "$pkg=$version" >&2)
then
    dpkg-source --no-check -x "$work/${pkg}_${version#*:}.dsc" "$out" >&2
else
    orig=$(ls "$work/${pkg}_${want}".orig.tar.* 2>/dev/null | head -1)
    [ -n "$orig" ] || { echo "debian-source: cannot fetch $pkg" >&2; exit 1; }
    echo "debian-source: using the upstream tarball of $pkg $want" >&2
    mkdir -p "$out"
    tar -xf "$orig" -C "$out" --strip-components=1
fi

echo "$out"
