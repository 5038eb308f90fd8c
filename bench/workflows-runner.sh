#!/usr/bin/env bash
# bench/workflows-runner.sh BUILD: the workflow runner's benchmark, BUILD
# being the folder that holds collab-runner, quickjs/libquickjs.a and
# runner/collab-schema (make bench builds them).
#
#   (B) baseline    a bare C loop running the workflow in a fresh QuickJS
#                   runtime per execution, as fast as it can
#   (R) runner      the same workflow through collab-runner on its socket,
#                   64 frames in flight; the ratio R/B is the figure
#   (M) memory      the runner's resident memory with $MEMORY_K (1,000)
#                   executions in flight, each awaiting a timer
#   (F) fetch       $FETCH_K (1,000) executions at once, each awaiting a
#                   fetch of a server that answers after 1 s: all should
#                   finish within 3 s
#
# Figures are printed; nothing is asserted.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
out="$top/bench/out/runner"
n=${BENCH_EXECUTIONS:-20000}

. "$top/bench/lib.sh"

[ -x "$build/collab-runner" ] || die "no $build/collab-runner: run make"
[ -f "$build/quickjs/libquickjs.a" ] || die "no $build/quickjs/libquickjs.a"

rm -rf "$out"
mkdir -p "$out"

${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -Wall -isystem "$build/quickjs" \
    -o "$out/workflows_runner" "$top/bench/workflows_runner.c" \
    "$build/quickjs/libquickjs.a" -lm -ldl -lpthread \
    || die "cannot build bench/workflows_runner.c"

[ -x "$build/runner/collab-schema" ] \
    || die "no $build/runner/collab-schema: run make $build/runner/collab-schema"
"$build/runner/collab-schema" | sqlite3 "$out/collab.db" > /dev/null

bench="$out/workflows_runner"
runner="$build/collab-runner"

echo "== workflow runner: $n executions of a small workflow"
base=$("$bench" baseline "$n")
echo "$base"
run=$("$bench" runner "$runner" "$out/collab.db" "$n" 64)
echo "$run"

b=$(echo "$base" | sed -E 's/.*: ([0-9]+)\/s$/\1/')
r=$(echo "$run" | sed -E 's/.*: ([0-9]+)\/s$/\1/')
awk -v b="$b" -v r="$r" \
    'BEGIN { printf "ratio runner/baseline: %.2f (target >= 0.5)\n", r / b }'

echo "== memory"
"$bench" memory "$runner" "$out/collab.db" "${MEMORY_K:-1000}"

echo "== concurrency"
"$bench" fetch "$runner" "$out/collab.db" "${FETCH_K:-1000}"
