#!/usr/bin/env bash
#
# Copyright (C) collab
#
# Differential test of the webhook signatures against node's crypto: a
# generated corpus of (secret, id, timestamp, body) cases goes through
# collab_sign_hex() and collab_sign_v1() (a small driver built here) and
# through crypto.createHmac(); both signatures must be identical.  Fields
# travel hex-encoded, one case a line, so any byte survives.  Prints TAP.
#
# Environment: NODE, CC, CFLAGS (driver build), SIGN_SEED (corpus seed),
# SIGN_COUNT (number of cases).

# skips without node; sets $node, $root, $tmp and fail()
. "$(dirname "$0")/vs-node.sh"

seed=${SIGN_SEED:-20260529}
count=${SIGN_COUNT:-200}
name="C signatures match node crypto.createHmac (seed $seed)"

cat > "$tmp/sign_driver.c" <<'EOF'
/*
 * Reads "secret id timestamp body" lines, every field but the timestamp
 * hex-encoded, and prints "hex v1" for each, "!error" in place of a v1
 * signature that the secret does not allow.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_collab_sign.h"


static int
unhex(const char *s, size_t len, unsigned char *out)
{
    size_t  i;
    int     hi, lo;

    if (len % 2) {
        return -1;
    }

    for (i = 0; i < len; i += 2) {
        hi = s[i] >= 'a' ? s[i] - 'a' + 10 : s[i] - '0';
        lo = s[i + 1] >= 'a' ? s[i + 1] - 'a' + 10 : s[i + 1] - '0';

        if (hi < 0 || hi > 15 || lo < 0 || lo > 15) {
            return -1;
        }

        out[i / 2] = (unsigned char) (hi << 4 | lo);
    }

    return 0;
}


int
main(void)
{
    char           *line, *f[4], *rest, hex[COLLAB_SIG_HEX_LEN + 1];
    char            v1[COLLAB_SIG_V1_LEN + 1];
    size_t          cap, n[4], i;
    ssize_t         len;
    long long       ts;
    unsigned char  *b[4];

    line = NULL;
    cap = 0;

    while ((len = getline(&line, &cap, stdin)) != -1) {
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }

        rest = line;

        for (i = 0; i < 4; i++) {
            f[i] = strsep(&rest, " ");
            if (f[i] == NULL) {
                fputs("bad line\n", stderr);
                return 1;
            }

            n[i] = strlen(f[i]) / 2;
            b[i] = malloc(n[i] + 1);

            if (b[i] == NULL
                || (i != 2 && unhex(f[i], strlen(f[i]), b[i]) != 0))
            {
                fputs("bad field\n", stderr);
                return 1;
            }
        }

        ts = strtoll(f[2], NULL, 10);

        collab_sign_hex((char *) b[0], n[0], b[3], n[3], hex);

        if (collab_sign_v1((char *) b[0], n[0], (char *) b[1], n[1], ts,
                           b[3], n[3], v1)
            != 0)
        {
            strcpy(v1, "!error");
        }

        printf("%s %s\n", hex, v1);

        for (i = 0; i < 4; i++) {
            free(b[i]);
        }
    }

    free(line);

    if (fflush(stdout) != 0 || ferror(stdin)) {
        return 1;
    }

    return 0;
}
EOF

# shellcheck disable=SC2086
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror ${CFLAGS:--O2} \
    -I"$root/ngx_collab_module/core" -o "$tmp/sign_driver" "$tmp/sign_driver.c" \
    "$root/ngx_collab_module/core/ngx_collab_sign.c" -lcrypto \
    > "$tmp/cc.log" 2>&1 \
    || { sed 's/^/# /' "$tmp/cc.log"; fail "cannot build the driver"; }

cat > "$tmp/gen.js" <<'EOF'
'use strict';

const crypto = require('crypto');
const fs = require('fs');

const [seedArg, countArg, casesFile, wantFile] = process.argv.slice(2);

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

function bytes(n) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
}

const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function word(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += alnum[int(alnum.length)];
    return s;
}

const charPool = [
    () => String.fromCharCode(32 + int(95)),
    () => String.fromCharCode(int(32)),
    () => pick(['"', '\\', '/', '\x7f', '\u2028', '\u2029', '\ufeff']),
    () => String.fromCharCode(0x80 + int(0x780)),
    () => String.fromCharCode(0x800 + int(0xd000)),
    () => String.fromCodePoint(0x10000 + int(0x100000)),
    () => pick(['\u00e9', '\u2603', '\u{1f600}', '\u65e5\u672c']),
];

function text(max) {
    let s = '';
    for (let n = int(max); n > 0; n--) s += pick(charPool)();
    return s;
}

function value(depth) {
    switch (int(depth > 3 ? 4 : 6)) {
    case 0: return pick([true, false, null]);
    case 1: return chance(0.5) ? int(1e9) : (u32() - 2147483648) / 7;
    case 2: case 3: return text(24);
    case 4: {
        const o = {};
        for (let n = int(5); n > 0; n--) o[text(8)] = value(depth + 1);
        return o;
    }
    default: {
        const a = [];
        for (let n = int(5); n > 0; n--) a.push(value(depth + 1));
        return a;
    }
    }
}

function secret() {
    const r = int(20);
    if (r === 0) return Buffer.from(text(20));
    if (r === 1) return Buffer.from('whsec_');
    const n = r < 12 ? 24 : 1 + int(100);
    return Buffer.from('whsec_' + bytes(n).toString('base64'));
}

function id() {
    switch (int(6)) {
    case 0: return Buffer.from(text(12));
    case 1: return Buffer.alloc(0);
    default: return Buffer.from('msg_' + word(27));
    }
}

function timestamp() {
    switch (int(8)) {
    case 0: return pick(['0', '-1', '9223372036854775807',
                         '-9223372036854775808', '1614265330']);
    case 1: return String(-int(2000000000));
    default: return String(1600000000 + int(400000000));
    }
}

function body() {
    switch (int(8)) {
    case 0: return Buffer.alloc(0);
    case 1: return bytes(int(300));
    case 2: return Buffer.from(text(40));
    default:
        return Buffer.from(JSON.stringify({ type: 'event.' + word(6),
                                            data: value(0) }));
    }
}

const cases = [], want = [];

for (let i = 0; i < Number(countArg); i++) {
    const s = secret(), m = id(), t = timestamp(), b = body();

    const hex = crypto.createHmac('sha256', s).update(b).digest('hex');

    let v1 = '!error';
    const str = s.toString('latin1');

    if (str.startsWith('whsec_') && str.length > 6) {
        const key = Buffer.from(str.slice(6), 'base64');
        v1 = 'v1,' + crypto.createHmac('sha256', key)
            .update(Buffer.concat([m, Buffer.from('.' + t + '.'), b]))
            .digest('base64');
    }

    cases.push([s, m].map((x) => x.toString('hex')).join(' ') + ' ' + t
               + ' ' + b.toString('hex'));
    want.push(hex + ' ' + v1);
}

fs.writeFileSync(casesFile, cases.join('\n') + '\n');
fs.writeFileSync(wantFile, want.join('\n') + '\n');
EOF

"$node" "$tmp/gen.js" "$seed" "$count" "$tmp/cases" "$tmp/want" \
    || fail "case generation failed"
"$tmp/sign_driver" < "$tmp/cases" > "$tmp/got" || fail "the driver failed"

lines=$(wc -l < "$tmp/cases")

if ! cmp -s "$tmp/want" "$tmp/got"; then
    echo "not ok 1 - $name"
    paste -d '\n' "$tmp/cases" "$tmp/want" "$tmp/got" \
        | LC_ALL=C awk '
            NR % 3 == 1 { c = $0 }
            NR % 3 == 2 { w = $0 }
            NR % 3 == 0 && w != $0 && shown++ < 5 {
                print "# case " NR / 3 ": " substr(c, 1, 120)
                print "# expected: " w
                print "#      got: " $0
            }'
    exit 1
fi

echo "ok 1 - $name, $lines cases"
