/*
 * Copyright (C) collab
 *
 * Unit tests of the UTF-8 validator (ngx_collab_utf8.c) and of the JSON
 * writer's handling of ill-formed input; prints TAP.
 *
 * The corpus is generated here: every Unicode scalar value, the code
 * points at every boundary of the encoding, a named case of every
 * malformed class, and every sequence of one to three bytes (and of four
 * bytes from F0..FF with chosen last bytes).  Each one is checked against
 * a reference written the other way round from the validator: decode by
 * the bit patterns alone, then ask whether the code point is a scalar
 * value that needs exactly that many bytes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_collab_json.h"
#include "ngx_collab_utf8.h"


#include "tap.h"


/* the encoding of c (any value below 2^21) in 1 to 4 bytes */
static size_t
encode(uint32_t c, unsigned char *b)
{
    if (c < 0x80) {
        b[0] = (unsigned char) c;
        return 1;
    }

    if (c < 0x800) {
        b[0] = (unsigned char) (0xc0 | (c >> 6));
        b[1] = (unsigned char) (0x80 | (c & 0x3f));
        return 2;
    }

    if (c < 0x10000) {
        b[0] = (unsigned char) (0xe0 | (c >> 12));
        b[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
        b[2] = (unsigned char) (0x80 | (c & 0x3f));
        return 3;
    }

    b[0] = (unsigned char) (0xf0 | (c >> 18));
    b[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
    b[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
    b[3] = (unsigned char) (0x80 | (c & 0x3f));
    return 4;
}


/* how many bytes the lead byte announces by its bit pattern; 0: none */
static size_t
ref_length(unsigned char lead)
{
    if ((lead & 0x80) == 0x00) {
        return 1;
    }

    if ((lead & 0xe0) == 0xc0) {
        return 2;
    }

    if ((lead & 0xf0) == 0xe0) {
        return 3;
    }

    if ((lead & 0xf8) == 0xf0) {
        return 4;
    }

    return 0;
}


/* is b[0..n) exactly one well-formed character? its code point in *cp */
static int
ref_char(const unsigned char *b, size_t n, uint32_t *cp)
{
    size_t    i;
    uint32_t  c;

    static const uint32_t  min[] = { 0, 0, 0x80, 0x800, 0x10000 };

    if (n == 0 || ref_length(b[0]) != n) {
        return 0;
    }

    c = (n == 1) ? b[0] : (uint32_t) (b[0] & (0x7f >> n));

    for (i = 1; i < n; i++) {
        if ((b[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (b[i] & 0x3f);
    }

    if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return 1;
}


/*
 * Can b[0..k) begin a well-formed character of its announced length?
 * Completing it with the smallest continuation bytes or with the largest
 * reaches each limit (overlong, above U+10FFFF, surrogate) from the safe
 * side, so one of the two is well-formed if any completion is.
 */
static int
ref_prefix(const unsigned char *b, size_t k)
{
    size_t         n, i;
    uint32_t       cp;
    unsigned char  t[4];

    n = ref_length(b[0]);

    if (n == 0 || k > n) {
        return 0;
    }

    memcpy(t, b, k);

    for (i = k; i < n; i++) {
        t[i] = 0x80;
    }

    if (ref_char(t, n, &cp)) {
        return 1;
    }

    for (i = k; i < n; i++) {
        t[i] = 0xbf;
    }

    return ref_char(t, n, &cp);
}


/* what the decoder must answer for the sequence at b (len >= 1) */
static uint32_t
ref_decode(const unsigned char *b, size_t len, size_t *n)
{
    size_t    k, want;
    uint32_t  cp;

    want = ref_length(b[0]);

    if (want && want <= len && ref_char(b, want, &cp)) {
        *n = want;
        return cp;
    }

    for (k = (want > len ? len : (want ? want - 1 : 1)); k > 1; k--) {
        if (ref_prefix(b, k)) {
            break;
        }
    }

    *n = k;

    return COLLAB_UTF8_INVALID;
}


static int
ref_valid(const unsigned char *b, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; i += n) {
        if (ref_decode(b + i, len - i, &n) == COLLAB_UTF8_INVALID) {
            return 0;
        }
    }

    return 1;
}


static void
hex(const unsigned char *b, size_t len, char *out, size_t size)
{
    size_t  i;

    out[0] = '\0';

    for (i = 0; i < len && 3 * i + 4 < size; i++) {
        snprintf(out + 3 * i, size - 3 * i, "%s%02X", i ? " " : "", b[i]);
    }
}


/*
 * One corpus entry against the reference: counts a difference in *bad
 * and describes the first one in diag.
 */
static void
agree(const unsigned char *b, size_t len, size_t *bad, char *diag,
    size_t size)
{
    size_t    n, rn;
    uint32_t  c, rc;
    int       v, rv;
    char      h[64];

    c = collab_utf8_decode(b, len, &n);
    rc = ref_decode(b, len, &rn);
    v = collab_utf8_valid(b, len);
    rv = ref_valid(b, len);

    if (c == rc && n == rn && v == rv) {
        return;
    }

    if ((*bad)++ == 0) {
        hex(b, len, h, sizeof(h));
        snprintf(diag, size, "#   bytes %s: decode %X/%zu valid %d, "
                 "expected %X/%zu valid %d", h, c, n, v, rc, rn, rv);
    }
}


/* every scalar value encodes to one well-formed character of its own */
static void
test_scalar_values(void)
{
    size_t         n, len, bad;
    uint32_t       c, got;
    unsigned char  b[4];
    char           diag[160];

    bad = 0;
    diag[0] = '\0';

    for (c = 0; c <= 0x10ffff; c++) {
        if (c >= 0xd800 && c <= 0xdfff) {
            continue;
        }

        len = encode(c, b);
        got = collab_utf8_decode(b, len, &n);

        if ((got != c || n != len || !collab_utf8_valid(b, len)) && !bad++) {
            snprintf(diag, sizeof(diag), "#   U+%04X: got %X/%zu", c, got, n);
        }
    }

    tap(bad == 0, bad ? diag : NULL,
        "all 1112064 scalar values decode to themselves, %zu wrong", bad);

    bad = 0;

    for (c = 0xd800; c <= 0xdfff; c++) {
        len = encode(c, b);

        if ((collab_utf8_decode(b, len, &n) != COLLAB_UTF8_INVALID || n != 1
             || collab_utf8_valid(b, len))
            && !bad++)
        {
            snprintf(diag, sizeof(diag), "#   U+%04X accepted", c);
        }
    }

    tap(bad == 0, bad ? diag : NULL,
        "all 2048 surrogates, encoded, are refused at their first byte");

    bad = 0;

    for (c = 0x110000; c < 0x200000; c++) {
        len = encode(c, b);

        if (collab_utf8_valid(b, len) && !bad++) {
            snprintf(diag, sizeof(diag), "#   U+%X accepted", c);
        }
    }

    tap(bad == 0, bad ? diag : NULL,
        "every four-byte form above U+10FFFF is refused");
}


/* the code points on each side of every boundary of the encoding */
static void
test_boundaries(void)
{
    size_t         i, n, len;
    uint32_t       got;
    unsigned char  b[4];
    char           diag[64];

    static const uint32_t  edges[] = {
        0x0, 0x1, 0x7f, 0x80, 0x7ff, 0x800, 0xfff, 0x1000, 0xcfff,
        0xd000, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x10000,
        0x3ffff, 0x40000, 0xfffff, 0x100000, 0x10fffe, 0x10ffff
    };

    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        len = encode(edges[i], b);
        got = collab_utf8_decode(b, len, &n);

        snprintf(diag, sizeof(diag), "#   got %X/%zu", got, n);

        tap(got == edges[i] && n == len && collab_utf8_valid(b, len),
            got == edges[i] ? NULL : diag,
            "U+%04X, %zu bytes, is well-formed", edges[i], len);
    }
}


typedef struct {
    const char     *name;
    const char     *bytes;
    size_t          len;
    size_t          bad;     /* offset of the first ill-formed sequence */
} malformed_t;

#define M(name, s, bad)  { name, s, sizeof(s) - 1, bad }


/* one named case of every malformed class */
static void
test_malformed(void)
{
    size_t  i, at;
    char    diag[64];

    static const malformed_t  cases[] = {
        M("a lone continuation byte 80", "\x80", 0),
        M("a lone continuation byte BF", "a\xbf", 1),
        M("two continuation bytes", "\x80\x80", 0),
        M("C0 80: overlong NUL", "\xc0\x80", 0),
        M("C1 BF: overlong U+007F", "\xc1\xbf", 0),
        M("E0 80 80: overlong NUL", "\xe0\x80\x80", 0),
        M("E0 9F BF: overlong U+07FF", "\xe0\x9f\xbf", 0),
        M("F0 80 80 80: overlong NUL", "\xf0\x80\x80\x80", 0),
        M("F0 8F BF BF: overlong U+FFFF", "\xf0\x8f\xbf\xbf", 0),
        M("ED A0 80: U+D800", "\xed\xa0\x80", 0),
        M("ED BF BF: U+DFFF", "\xed\xbf\xbf", 0),
        M("a surrogate pair in six bytes", "\xed\xa0\xbd\xed\xb8\x80", 0),
        M("F4 90 80 80: U+110000", "\xf4\x90\x80\x80", 0),
        M("F5 80 80 80", "\xf5\x80\x80\x80", 0),
        M("F7 BF BF BF: U+1FFFFF", "\xf7\xbf\xbf\xbf", 0),
        M("F8 88 80 80 80: five bytes", "\xf8\x88\x80\x80\x80", 0),
        M("FC 84 80 80 80 80: six bytes", "\xfc\x84\x80\x80\x80\x80", 0),
        M("FE", "\xfe", 0),
        M("FF", "x\xff", 1),
        M("C3 C3: a lead where a continuation belongs", "\xc3\xc3", 0),
        M("E4 FF FF", "\xe4\xff\xff", 0),
        M("C3 then ASCII", "\xc3" "A", 0),
        M("E2 82 then ASCII", "\xe2\x82" "A", 0),
        M("F0 9F 98 then ASCII", "\xf0\x9f\x98" "A", 0),
        M("C3 at the end", "ok\xc3", 2),
        M("E2 82 at the end", "ok\xe2\x82", 2),
        M("F0 9F 98 at the end", "ok\xf0\x9f\x98", 2),
        M("F0 at the end", "\xf0", 0),
        M("a lead in place of the third byte", "\xe2\x82\xe2\x82\xac", 0),
        M("a lead in place of the fourth byte", "\xf0\x9f\x98\xf0", 0),
        M("ill-formed after well-formed", "\xc3\xa9\xe6\x97\xa5\x80", 5),
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        at = collab_utf8_check((const unsigned char *) cases[i].bytes,
                               cases[i].len);

        snprintf(diag, sizeof(diag), "#   first ill-formed at %zu, "
                 "expected %zu", at, cases[i].bad);

        tap(at == cases[i].bad, at == cases[i].bad ? NULL : diag,
            "refused: %s", cases[i].name);
    }

    tap(collab_utf8_valid((const unsigned char *) "", 0),
        NULL, "the empty string is well-formed");

    tap(collab_utf8_valid((const unsigned char *) "\0", 1),
        NULL, "NUL is well-formed UTF-8 (other checks refuse it)");
}


/* every sequence of 1, 2 and 3 bytes, and many of 4, against the reference */
static void
test_exhaustive(void)
{
    size_t         bad, total, i;
    uint32_t       x;
    unsigned char  b[4];
    char           diag[160];

    static const unsigned char  last[] = { 0x00, 0x7f, 0x80, 0xbf, 0xc0,
                                           0xff };

    bad = 0;
    total = 0;

    for (x = 0; x < 0x100; x++) {
        b[0] = (unsigned char) x;
        total++;
        agree(b, 1, &bad, diag, sizeof(diag));
    }

    for (x = 0; x < 0x10000; x++) {
        b[0] = (unsigned char) (x >> 8);
        b[1] = (unsigned char) x;
        total++;

        agree(b, 2, &bad, diag, sizeof(diag));
    }

    tap(bad == 0, bad ? diag : NULL,
        "every sequence of one and two bytes agrees with the reference "
        "(%zu sequences, %zu differ)", total, bad);

    bad = 0;
    total = 0;

    for (x = 0; x < 0x1000000; x++) {
        b[0] = (unsigned char) (x >> 16);
        b[1] = (unsigned char) (x >> 8);
        b[2] = (unsigned char) x;
        total++;

        agree(b, 3, &bad, diag, sizeof(diag));
    }

    tap(bad == 0, bad ? diag : NULL,
        "every sequence of three bytes agrees with the reference "
        "(%zu sequences, %zu differ)", total, bad);

    bad = 0;
    total = 0;

    for (x = 0xf00000; x < 0x1000000; x++) {
        for (i = 0; i < sizeof(last); i++) {
            b[0] = (unsigned char) (x >> 16);
            b[1] = (unsigned char) (x >> 8);
            b[2] = (unsigned char) x;
            b[3] = last[i];
            total++;

            agree(b, 4, &bad, diag, sizeof(diag));
        }
    }

    tap(bad == 0, bad ? diag : NULL,
        "four-byte sequences from F0..FF agree with the reference "
        "(%zu sequences, %zu differ)", total, bad);
}


/* the writer's output for a string, and whether it is as expected */
static void
is_json_str(const char *in, size_t len, const char *want, const char *name)
{
    int             ok;
    size_t          n;
    unsigned char  *out;
    collab_json_t   j;
    char            diag[256], h[160];

    collab_json_init(&j);
    collab_json_str(&j, (const unsigned char *) in, len);
    out = collab_json_detach(&j, &n);

    ok = out != NULL && n == strlen(want) && memcmp(out, want, n) == 0
         && collab_utf8_valid(out, n);

    hex(out, n, h, sizeof(h));
    snprintf(diag, sizeof(diag), "#   got: %s", h);

    tap(ok, ok ? NULL : diag, "%s", name);
    free(out);
}


#define FFFD  "\xef\xbf\xbd"

static void
test_writer(void)
{
    size_t          bad, n, total;
    uint32_t        x;
    unsigned char   b[3], *out;
    collab_json_t   j;

    is_json_str("a\xff" "b", 3, "\"a" FFFD "b\"",
                "the writer writes U+FFFD for a byte that is never UTF-8");
    is_json_str("\xc3\xc3", 2, "\"" FFFD FFFD "\"",
                "the writer writes one U+FFFD per lead without its "
                "continuation");
    is_json_str("\xe4\xff\xff", 3, "\"" FFFD FFFD FFFD "\"",
                "the writer writes U+FFFD for a lead and each bad byte");
    is_json_str("x\xf0\x9f\x98", 4, "\"x" FFFD "\"",
                "the writer writes one U+FFFD for a truncated sequence");
    is_json_str("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"",
                "the writer writes U+FFFD for each byte of a surrogate");
    is_json_str("\xc0\x80\"", 3, "\"" FFFD FFFD "\\\"\"",
                "the writer writes U+FFFD for an overlong form and still "
                "escapes what follows");
    is_json_str("\xe2\x82\xac\xf0\x9f\x98\x80\x7f", 8,
                "\"\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"",
                "the writer keeps well-formed characters as they are");

    collab_json_init(&j);
    collab_json_raw(&j, (const unsigned char *) "{\"k\":\"\xff\xc3\"}", 10);
    out = collab_json_detach(&j, &n);
    tap(out && n == 14
        && memcmp(out, "{\"k\":\"" FFFD FFFD "\"}", 14) == 0,
        NULL, "raw JSON text gets U+FFFD for its ill-formed bytes");
    free(out);

    /* whatever it is given, the writer's output is well-formed */
    bad = 0;
    total = 0;

    for (x = 0; x < 0x1000000; x += (x >> 16) >= 0x80 ? 1 : 0x100) {
        b[0] = (unsigned char) (x >> 16);
        b[1] = (unsigned char) (x >> 8);
        b[2] = (unsigned char) x;
        total++;

        collab_json_init(&j);
        collab_json_str(&j, b, 3);
        collab_json_raw(&j, b, 3);
        out = collab_json_detach(&j, &n);

        if (out == NULL || !collab_utf8_valid(out, n)) {
            bad++;
        }

        free(out);
    }

    tap(bad == 0, NULL, "the writer's output is well-formed UTF-8 for "
        "%zu three-byte inputs (%zu are not)", total, bad);
}


int
main(void)
{
    test_scalar_values();
    test_boundaries();
    test_malformed();
    test_exhaustive();
    test_writer();

    return tap_done();
}
