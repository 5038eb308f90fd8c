/*
 * Copyright (C) collab
 *
 * UTF-8 decoding and validation by the table of well-formed byte
 * sequences: the lead byte gives the length and the range the second
 * byte must fall in (narrower after E0, ED, F0 and F4, which is what
 * rules out overlong forms, surrogates and code points above U+10FFFF);
 * every other continuation byte is 80..BF.
 */

#include "ngx_collab_utf8.h"


uint32_t
collab_utf8_decode(const unsigned char *p, size_t len, size_t *n)
{
    size_t         i, need;
    uint32_t       c;
    unsigned char  b, lo, hi;

    c = p[0];
    *n = 1;

    if (c < 0x80) {
        return c;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        c &= 0x0f;

        if (c == 0x0) {
            lo = 0xa0;              /* E0 80..9F: overlong */

        } else if (c == 0xd) {
            hi = 0x9f;              /* ED A0..BF: surrogates */
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        c &= 0x07;

        if (c == 0x0) {
            lo = 0x90;              /* F0 80..8F: overlong */

        } else if (c == 0x4) {
            hi = 0x8f;              /* F4 90..BF: above U+10FFFF */
        }

    } else {
        /* a continuation byte, C0 and C1 (overlong), F5..FF */
        return COLLAB_UTF8_INVALID;
    }

    for (i = 1; i <= need; i++) {

        if (i == len) {
            return COLLAB_UTF8_INVALID;
        }

        b = p[i];

        if (b < lo || b > hi) {
            return COLLAB_UTF8_INVALID;
        }

        c = (c << 6) | (b & 0x3f);
        *n = i + 1;

        lo = 0x80;
        hi = 0xbf;
    }

    return c;
}


size_t
collab_utf8_check(const unsigned char *p, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; i += n) {

        if (p[i] < 0x80) {
            n = 1;
            continue;
        }

        if (collab_utf8_decode(p + i, len - i, &n) == COLLAB_UTF8_INVALID) {
            return i;
        }
    }

    return len;
}


int
collab_utf8_valid(const unsigned char *p, size_t len)
{
    return collab_utf8_check(p, len) == len;
}
