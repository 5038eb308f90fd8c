#!/usr/bin/env bash
#
# Copyright (C) collab
#
# Differential test of the JSON writer against node: a generated corpus of
# JSON texts (one per line) goes through collab_json_canonical() (driver
# t/unit/json_canon.c) and through JSON.stringify(JSON.parse(line)); the
# outputs must be byte-identical.  Prints TAP.
#
# Environment: CC, CFLAGS (driver build), JSON_CANON (prebuilt driver),
# JSON_SEED (corpus seed), JSON_COUNT (number of random texts).

# skips without node; sets $node, $root, $tmp and fail()
. "$(dirname "$0")/vs-node.sh"

seed=${JSON_SEED:-20260529}
count=${JSON_COUNT:-400}
name="C canonical matches node JSON.stringify (seed $seed)"

canon=${JSON_CANON:-}

if [ -z "$canon" ]; then
    canon=$tmp/json_canon

    # shellcheck disable=SC2086
    ${CC:-cc} -std=gnu11 ${CFLAGS:--O2} -I"$root/ngx_collab_module/core" \
        -o "$canon" "$root/t/unit/json_canon.c" \
        "$root/ngx_collab_module/core/ngx_collab_json.c" \
        "$root/ngx_collab_module/core/ngx_collab_utf8.c" -ljansson -lm \
        > "$tmp/cc.log" 2>&1 \
        || { sed 's/^/# /' "$tmp/cc.log"; fail "cannot build json_canon"; }
fi

cat > "$tmp/gen.js" <<'EOF'
'use strict';

const fs = require('fs');
const mode = process.argv[2];

/* expect <corpus> <out>: node's own answer for every line */
if (mode === 'expect') {
    const lines = fs.readFileSync(process.argv[3], 'utf8').split('\n');
    lines.pop();
    const out = lines.map((l) => {
        try {
            return JSON.stringify(JSON.parse(l));
        } catch (e) {
            return '!error';
        }
    });
    fs.writeFileSync(process.argv[4], out.join('\n') + '\n');
    process.exit(0);
}

/* gen <seed> <count> <out> */
const [seedArg, countArg, file] = process.argv.slice(3);

/* xorshift32, seeded from the command line */
let state = (Number(seedArg) >>> 0) || 1;

function u32() {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
}

function int(n) { return u32() % n; }
function pick(a) { return a[int(a.length)]; }
function chance(p) { return u32() / 4294967296 < p; }

function ws() {
    if (!chance(0.3)) return '';
    let s = '';
    for (let i = int(3) + 1; i > 0; i--) s += pick([' ', '\t', '\r']);
    return s;
}

function randomDouble() {
    const dv = new DataView(new ArrayBuffer(8));
    for (;;) {
        dv.setUint32(0, u32());
        dv.setUint32(4, u32());
        if (chance(0.1)) dv.setUint16(0, dv.getUint16(0) & 0x800f);
        const x = dv.getFloat64(0);
        if (Number.isFinite(x)) return x;
    }
}

function digits(n) {
    let s = String(1 + int(9));
    while (--n > 0) s += String(int(10));
    return s;
}

/* number text in many spellings; never one that overflows */
function numberText() {
    let t;
    switch (int(9)) {
    case 0: t = String(randomDouble()); break;
    case 1: t = randomDouble().toExponential(int(21)); break;
    case 2: t = randomDouble().toPrecision(1 + int(21)); break;
    case 3: t = (chance(0.3) ? '-' : '') + digits(1 + int(25)); break;
    case 4:
        t = (chance(0.3) ? '-' : '') + digits(1 + int(4)) + '.'
            + digits(1 + int(18)) + pick(['e', 'E']) + pick(['', '+', '-'])
            + String(int(30));
        break;
    case 5:
        t = (chance(0.5) ? '-' : '') + '0.' + '0'.repeat(int(9))
            + digits(1 + int(17));
        break;
    case 6:
        t = (chance(0.5) ? '1' : digits(1 + int(3))) + 'e'
            + pick(['', '+', '-']) + String(int(26));
        break;
    case 7:
        t = String(Math.pow(2, int(2098) - 1074) * (chance(0.5) ? 1 : -1));
        break;
    default:
        t = pick(['0', '-0', '0.0', '-0.0', '0e5', '-0E-3', '1', '-1',
                  '100', '1e21', '1e+21', '1e20', '1e-7', '1.5e-7',
                  '0.000001', '123e-20', '2432232314', '9007199254740993',
                  '1.7976931348623157e308', '5e-324', '4.35', '0.1',
                  '12345678901234567890', '999999999999999999999',
                  '4294967295', '4294967296', '1e-400']);
    }
    if (!Number.isFinite(Number(t))) t = '0';
    return t;
}

const charPool = [
    () => String.fromCharCode(32 + int(95)),
    () => String.fromCharCode(int(32)),
    () => pick(['"', '\\', '/', '\x7f', "'", '<', '>', '&']),
    () => String.fromCharCode(0x80 + int(0x780)),
    () => String.fromCharCode(0x800 + int(0xd000)),
    () => pick(['\u2028', '\u2029', '\ufeff', '\ufffd', '\uffff', '\u00e9']),
    () => String.fromCodePoint(0x10000 + int(0x100000)),
    () => '\u{1f600}',
];

function hex4(c) {
    const h = c.toString(16).padStart(4, '0');
    return '\\u' + (chance(0.5) ? h : h.toUpperCase());
}

/* a string literal, each character raw or escaped at random */
function stringText(allowNul) {
    let s = '"';
    for (let n = int(13); n > 0; n--) {
        const ch = pick(charPool)();
        const c = ch.codePointAt(0);
        if (c === 0 && !allowNul) continue;
        const short = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r',
                        34: '\\"', 92: '\\\\', 47: '\\/' };
        if (c < 0x20 || c === 34 || c === 92) {
            s += (short[c] && chance(0.6)) ? short[c] : hex4(c);
        } else if (chance(0.25)) {
            if (c > 0xffff) {
                s += hex4(ch.charCodeAt(0)) + hex4(ch.charCodeAt(1));
            } else {
                s += (short[c] && chance(0.5)) ? short[c] : hex4(c);
            }
        } else {
            s += ch;
        }
    }
    return s + '"';
}

function keyText(used) {
    if (used.length && chance(0.1)) return pick(used);
    let k;
    switch (int(4)) {
    case 0:
        k = JSON.stringify(pick(['0', '1', '2', '7', '10', '01', '00', '-1',
            '-0', '1.0', '1e3', ' 1', '1 ', '+1', '4294967294', '4294967295',
            '4294967296', '99999999999', '', 'a', 'b', 'length',
            '__proto__']));
        break;
    case 1: k = JSON.stringify(String(int(40))); break;
    case 2: k = JSON.stringify(String(u32() + int(3))); break;
    default: k = stringText(false);
    }
    used.push(k);
    return k;
}

function valueText(depth) {
    const r = int(depth > 5 ? 5 : 8);
    switch (r) {
    case 0: return pick(['true', 'false', 'null']);
    case 1: case 2: return numberText();
    case 3: case 4: return stringText(true);
    case 5: case 6: {
        const n = int(7), used = [], parts = [];
        for (let i = 0; i < n; i++) {
            parts.push(ws() + keyText(used) + ws() + ':' + ws()
                       + valueText(depth + 1) + ws());
        }
        return '{' + (n ? parts.join(',') : ws()) + '}';
    }
    default: {
        const n = int(6), parts = [];
        for (let i = 0; i < n; i++) {
            parts.push(ws() + valueText(depth + 1) + ws());
        }
        return '[' + (n ? parts.join(',') : ws()) + ']';
    }
    }
}

const out = [];

/* every power of two, and of ten, in arrays of about 100 */
let batch = [];

function flush(min) {
    if (batch.length >= min) {
        out.push('[' + batch.join(',') + ']');
        batch = [];
    }
}

for (let k = -1074; k <= 1023; k++) {
    batch.push(String(Math.pow(2, k)));
    flush(100);
}
for (let k = -330; k <= 308; k++) {
    batch.push('1e' + k, '-1.5e' + k);
    flush(100);
}
flush(1);

for (let i = 0; i < Number(countArg); i++) out.push(ws() + valueText(0) + ws());

fs.writeFileSync(file, out.join('\n') + '\n');
EOF

"$node" "$tmp/gen.js" gen "$seed" "$count" "$tmp/corpus" \
    || fail "corpus generation failed"
"$node" "$tmp/gen.js" expect "$tmp/corpus" "$tmp/want" \
    || fail "node expectation failed"
"$canon" < "$tmp/corpus" > "$tmp/got" || fail "json_canon failed"

lines=$(wc -l < "$tmp/corpus")

if ! cmp -s "$tmp/want" "$tmp/got"; then
    echo "not ok 1 - $name"
    paste -d '\n' "$tmp/corpus" "$tmp/want" "$tmp/got" \
        | LC_ALL=C awk '
            NR % 3 == 1 { t = $0 }
            NR % 3 == 2 { w = $0 }
            NR % 3 == 0 && w != $0 && shown++ < 5 {
                for (c = 1; substr(w, c, 1) == substr($0, c, 1); c++) { }
                s = c > 40 ? c - 40 : 1
                print "# line " NR / 3 ", byte " c
                print "#    input: " substr(t, 1, 120)
                print "# expected: " substr(w, s, 120)
                print "#      got: " substr($0, s, 120)
            }'
    echo "# $(cmp "$tmp/want" "$tmp/got" 2>&1 | head -1)"
    exit 1
fi

echo "ok 1 - $name, $lines texts"
