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
echo "deb-src $uri trixie main" > "$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list"
      -o "Dir::Etc::SourceParts=/dev/null"
      -o "Dir::State::Lists=$work/lists"
      -o "APT::Get::List-Cleanup=0"
      -o "APT::Sandbox::User=root")

apt-get "${opts[@]}" update -qq >&2
version=$(apt-cache "${opts[@]}" showsrc "$pkg" \
          | awk '/^Version:/ { print $2; exit }')
case "$version" in
    "$want"-*|"$want") ;;
    *) echo "debian-source: trixie has $pkg $version, not $want" >&2
       exit 1 ;;
esac

if (cd "$work" && apt-get "${opts[@]}" source --download-only -qq \
        "$pkg=$version" > "$work/source.log" 2>&1)
then
    dpkg-source --no-check -x "$work/${pkg}_${version#*:}.dsc" "$out" >&2
    echo "$out"
    exit 0
fi

# The index may name a Debian revision whose files the archive no longer
# serves, while the upstream tarball is still there: take that alone,
# checked against the SHA-256 of the (signed) index.
read -r dir sum orig < <(apt-cache "${opts[@]}" showsrc "$pkg" \
    | awk -v want="${pkg}_$want.orig.tar." '
        /^$/ && orig != "" { exit }
        /^Directory:/ { dir = $2 }
        /^Checksums-Sha256:/ { sha = 1; next }
        /^[^ ]/ { sha = 0 }
        sha && index($3, want) == 1 { sum = $1; orig = $3 }
        END { if (orig != "") print dir, sum, orig }')
[ -n "${orig:-}" ] || { cat "$work/source.log" >&2
                        echo "debian-source: no upstream tarball of" \
                             "$pkg $want either" >&2; exit 1; }
echo "debian-source: $pkg $version is not served; using $orig" >&2
/usr/lib/apt/apt-helper -o APT::Sandbox::User=root \
    download-file "${uri%/}/$dir/$orig" "$work/$orig" "SHA256:$sum" >&2
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
tar -xf "$work/$orig" -C "$out.tmp" --strip-components=1
mv "$out.tmp" "$out"
echo "$out"
