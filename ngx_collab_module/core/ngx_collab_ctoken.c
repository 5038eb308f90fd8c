/*
 * Copyright (C) collab
 *
 * Client tokens: signing and checking (see ngx_collab_ctoken.h).
 */

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_collab_ctoken.h"


#define COLLAB_CTOKEN_VERSION    1
#define COLLAB_CTOKEN_MAC_LEN    32
#define COLLAB_CTOKEN_MAC_B64    43      /* 32 bytes, base64url, no pad */

/* what the MAC covers before the token's text: no other use of the key */
#define COLLAB_CTOKEN_CONTEXT    "collab client token\n"


static const char  collab_ctoken_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static size_t
collab_ctoken_b64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i < len; i += 3) {
        v = (uint32_t) in[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) in[i + 1] << 8;
        }

        if (i + 2 < len) {
            v |= in[i + 2];
        }

        out[n++] = collab_ctoken_b64[(v >> 18) & 63];
        out[n++] = collab_ctoken_b64[(v >> 12) & 63];

        if (i + 1 < len) {
            out[n++] = collab_ctoken_b64[(v >> 6) & 63];
        }

        if (i + 2 < len) {
            out[n++] = collab_ctoken_b64[v & 63];
        }
    }

    return n;
}


static int
collab_ctoken_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}


/*
 * Decodes canonical unpadded base64url: the unused bits of the last
 * character must be zero, so that a token has one spelling only.
 * Returns the decoded length, or -1.
 */
static long
collab_ctoken_b64_decode(const unsigned char *in, size_t len,
    unsigned char *out, size_t size)
{
    int       d;
    size_t    i, k, bits;
    uint32_t  v;

    if (len % 4 == 1) {
        return -1;
    }

    v = 0;
    bits = 0;
    k = 0;

    for (i = 0; i < len; i++) {
        d = collab_ctoken_b64_value(in[i]);
        if (d < 0) {
            return -1;
        }

        v = (v << 6) | (uint32_t) d;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;

            if (k == size) {
                return -1;
            }

            out[k++] = (unsigned char) (v >> bits);
            v &= (1u << bits) - 1;
        }
    }

    if (v != 0) {
        return -1;
    }

    return (long) k;
}


static int
collab_ctoken_mac(const unsigned char *key, size_t keylen,
    const unsigned char *text, size_t len, unsigned char *mac)
{
    size_t         n;
    unsigned int   mlen;
    unsigned char  msg[sizeof(COLLAB_CTOKEN_CONTEXT) + COLLAB_CTOKEN_MAX];

    n = sizeof(COLLAB_CTOKEN_CONTEXT) - 1;
    memcpy(msg, COLLAB_CTOKEN_CONTEXT, n);
    memcpy(msg + n, text, len);

    return HMAC(EVP_sha256(), key, (int) keylen, msg, n + len, mac, &mlen)
           != NULL ? 0 : -1;
}


static unsigned char *
collab_ctoken_put64(unsigned char *p, int64_t v)
{
    int       i;
    uint64_t  u;

    u = (uint64_t) v;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) (u & 0xff);
        u >>= 8;
    }

    return p + 8;
}


static int64_t
collab_ctoken_get64(const unsigned char *p)
{
    int       i;
    uint64_t  u;

    u = 0;

    for (i = 0; i < 8; i++) {
        u = (u << 8) | p[i];
    }

    return (int64_t) u;
}


static unsigned char *
collab_ctoken_put_name(unsigned char *p, const unsigned char *name,
    size_t len)
{
    *p++ = (unsigned char) len;
    memcpy(p, name, len);

    return p + len;
}


size_t
collab_ctoken_sign(char *buf, const unsigned char *key, size_t keylen,
    const collab_ctoken_t *t)
{
    size_t         n;
    unsigned char  *p, mac[COLLAB_CTOKEN_MAC_LEN];
    unsigned char  payload[COLLAB_CTOKEN_PAYLOAD_MAX];

    if (t->account_len == 0 || t->account_len > COLLAB_CTOKEN_NAME_MAX
        || t->room_len == 0 || t->room_len > COLLAB_CTOKEN_NAME_MAX
        || t->user_len == 0 || t->user_len > COLLAB_CTOKEN_NAME_MAX)
    {
        return 0;
    }

    p = payload;
    *p++ = COLLAB_CTOKEN_VERSION;
    p = collab_ctoken_put64(p, t->issued_at);
    p = collab_ctoken_put64(p, t->expires_at);
    p = collab_ctoken_put_name(p, t->account, t->account_len);
    p = collab_ctoken_put_name(p, t->room, t->room_len);
    p = collab_ctoken_put_name(p, t->user, t->user_len);

    memcpy(buf, COLLAB_CTOKEN_PREFIX, 3);
    n = 3 + collab_ctoken_b64_encode(payload, p - payload, buf + 3);

    if (collab_ctoken_mac(key, keylen, (unsigned char *) buf, n, mac) != 0) {
        return 0;
    }

    buf[n++] = '.';
    n += collab_ctoken_b64_encode(mac, sizeof(mac), buf + n);
    buf[n] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return n;
}


static const unsigned char *
collab_ctoken_get_name(const unsigned char *p, const unsigned char *last,
    const unsigned char **name, size_t *len)
{
    if (p == last || *p == 0 || *p > COLLAB_CTOKEN_NAME_MAX
        || (size_t) (last - p - 1) < *p)
    {
        return NULL;
    }

    *len = *p++;
    *name = p;

    return p + *len;
}


int
collab_ctoken_verify(const unsigned char *s, size_t len,
    const unsigned char *key, size_t keylen, int64_t now, collab_ctoken_t *t,
    unsigned char *scratch)
{
    long                  n;
    size_t                body;
    const unsigned char  *p, *last;
    unsigned char         mac[COLLAB_CTOKEN_MAC_LEN];
    unsigned char         got[COLLAB_CTOKEN_MAC_LEN];

    if (len < 3 + 1 + COLLAB_CTOKEN_MAC_B64 || len > COLLAB_CTOKEN_MAX
        || memcmp(s, COLLAB_CTOKEN_PREFIX, 3) != 0
        || s[len - COLLAB_CTOKEN_MAC_B64 - 1] != '.')
    {
        return COLLAB_CTOKEN_INVALID;
    }

    body = len - COLLAB_CTOKEN_MAC_B64 - 1;

    if (collab_ctoken_b64_decode(s + body + 1, COLLAB_CTOKEN_MAC_B64, got,
                                 sizeof(got))
        != COLLAB_CTOKEN_MAC_LEN)
    {
        return COLLAB_CTOKEN_INVALID;
    }

    if (collab_ctoken_mac(key, keylen, s, body, mac) != 0
        || CRYPTO_memcmp(mac, got, sizeof(mac)) != 0)
    {
        return COLLAB_CTOKEN_INVALID;
    }

    /* signed by us: what follows only guards against our own mistakes */

    n = collab_ctoken_b64_decode(s + 3, body - 3, scratch,
                                 COLLAB_CTOKEN_PAYLOAD_MAX);

    if (n < 1 + 8 + 8 || scratch[0] != COLLAB_CTOKEN_VERSION) {
        return COLLAB_CTOKEN_INVALID;
    }

    p = scratch + 1;
    last = scratch + n;

    t->issued_at = collab_ctoken_get64(p);
    t->expires_at = collab_ctoken_get64(p + 8);
    p += 16;

    p = collab_ctoken_get_name(p, last, &t->account, &t->account_len);
    if (p == NULL) {
        return COLLAB_CTOKEN_INVALID;
    }

    p = collab_ctoken_get_name(p, last, &t->room, &t->room_len);
    if (p == NULL) {
        return COLLAB_CTOKEN_INVALID;
    }

    p = collab_ctoken_get_name(p, last, &t->user, &t->user_len);
    if (p == NULL || p != last) {
        return COLLAB_CTOKEN_INVALID;
    }

    if (now >= t->expires_at) {
        return COLLAB_CTOKEN_EXPIRED;
    }

    return COLLAB_CTOKEN_OK;
}
