#!/usr/bin/env bash
# The write path's table, from the reports of bench/run.sh
# (bench/out/foundation.txt) and bench/webhooks.sh (bench/out/webhooks.txt)
# of the same `make bench`: each measure, its figure and its target.
set -euo pipefail

out="$(cd "$(dirname "$0")" && pwd)/out"
f="$out/foundation.txt"
w="$out/webhooks.txt"

for file in "$f" "$w"; do
    [ -s "$file" ] || { echo "write-path: $file is missing" >&2; exit 1; }
done

# the first line of FILE matching PATTERN, then the Nth word of it
pick() {
    grep -m1 -E "$2" "$1" | awk -v n="$3" '{ print $n }'
}

post_ratio=$(pick "$f" '^POST ratio c/d' 5)
post_p99=$(pick "$f" '^POST p99' 5)
mixed=$(pick "$f" '^GET p99 during POSTs' 9)
get_ratio=$(pick "$f" '^GET  ratio' 5)
tw=$(pick "$w" '^throughput' 4)
p99=$(pick "$w" '^latency +p99' 4)
errors=$(pick "$w" '^errors' 2)
memory=$(grep -m1 '^memory' "$w" | sed -n 's/.*: \([-+0-9.]* %\).*/\1/p')

verdict() {
    awk -v x="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (x + 0 >= t + 0) : (op == "<") ? (x + 0 < t + 0) \
             : (op == "<=") ? (x + 0 <= t + 0) : (x + 0 == t + 0)
        print (ok ? "PASS" : "BELOW") }'
}

row() {
    printf '%-58s %10s  %-9s %s\n' "$1" "$2" "$3" "$4"
}

echo "the write path (issue 7), from bench/out/foundation.txt and webhooks.txt"
row "measure" "figure" "target" ""
row "POST .../users / SQLite's own loop of that transaction" "$post_ratio" \
    ">= 1.5" "$(verdict "$post_ratio" '>=' 1.5)"
row "POST .../users p99 at 64 connections (ms)" "$post_p99" "< 15" \
    "$(verdict "$post_p99" '<' 15)"
row "GET room p99 during POSTs / GET p99 alone" "$mixed" "<= 2" \
    "$(verdict "$mixed" '<=' 2)"
row "deliveries/s / wrk's req/s to the same receiver" "$tw" ">= 0.35" \
    "$(verdict "$tw" '>=' 0.35)"
row "event -> delivery p99 at 1,000 events/s (ms)" "$p99" "< 5" \
    "$(verdict "$p99" '<' 5)"
row "POSTs answered 503 or timed out in bench/webhooks.sh" "$errors" "0" \
    "$(verdict "$errors" '==' 0)"
row "worker RSS growth over a 200k-delivery backlog" "$memory" "<= 10 %" \
    "$(verdict "${memory#+}" '<=' 10)"
row "GET room / return 200" "$get_ratio" ">= 0.6" \
    "$(verdict "$get_ratio" '>=' 0.6)"
