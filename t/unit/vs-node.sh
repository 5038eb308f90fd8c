# Copyright (C) collab
#
# What the differential tests against node (t/unit/*-vs-node.t) share,
# sourced at their start: without node the test is skipped (plan 1..0);
# else it prints its plan of one test and sets $node, $root (the project's
# folder) and $tmp (a temporary folder, removed at exit).  fail [REASON]
# prints "not ok 1 - $name" and the reason, and exits.

set -u

node=${NODE:-node}

if ! command -v "$node" >/dev/null 2>&1; then
    echo "1..0 # SKIP node is not installed (make deps installs it)"
    exit 0
fi

echo "1..1"

root=$(cd "$(dirname "$0")/../.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$0" .t).XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "not ok 1 - $name"
    [ -n "${1:-}" ] && echo "# $1"
    exit 1
}
