/*
 * Copyright (C) collab
 *
 * Webhook secrets and signatures (see ngx_collab_sign.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ngx_collab_sign.h"


#define COLLAB_SECRET_PREFIX      "whsec_"
#define COLLAB_SECRET_PREFIX_LEN  6
#define COLLAB_SECRET_BYTES       24


static int collab_hmac_sha256_v(const unsigned char *key, size_t key_len,
    const unsigned char **part, const size_t *part_len, size_t n,
    unsigned char *mac);


static const char  collab_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char  collab_hex[] = "0123456789abcdef";


int
collab_secret_new(char *buf)
{
    unsigned char  r[COLLAB_SECRET_BYTES];

    if (RAND_bytes(r, sizeof(r)) != 1) {
        return -1;
    }

    memcpy(buf, COLLAB_SECRET_PREFIX, COLLAB_SECRET_PREFIX_LEN);
    buf[COLLAB_SECRET_PREFIX_LEN
        + collab_base64_encode(r, sizeof(r), buf + COLLAB_SECRET_PREFIX_LEN)]
        = '\0';

    OPENSSL_cleanse(r, sizeof(r));

    return 0;
}


void
collab_sign_hex(const char *secret, size_t secret_len,
    const unsigned char *body, size_t body_len, char *out)
{
    size_t                i;
    unsigned char         mac[32];
    const unsigned char  *part[1];

    part[0] = body ? body : (const unsigned char *) "";

    if (collab_hmac_sha256_v((const unsigned char *) secret, secret_len, part,
                             &body_len, 1, mac)
        != 0)
    {
        /* an empty string never matches a signature */
        out[0] = '\0';
        return;
    }

    for (i = 0; i < sizeof(mac); i++) {
        out[2 * i] = collab_hex[mac[i] >> 4];
        out[2 * i + 1] = collab_hex[mac[i] & 0x0f];
    }

    out[COLLAB_SIG_HEX_LEN] = '\0';
}


int
collab_sign_v1(const char *secret, size_t secret_len, const char *id,
    size_t id_len, int64_t timestamp, const unsigned char *body,
    size_t body_len, char *out)
{
    int                   rc;
    long                  n;
    char                  ts[24];
    size_t                len[5];
    unsigned char         mac[32], stack[192], *key;
    const unsigned char  *part[5];

    if (secret == NULL || secret_len <= COLLAB_SECRET_PREFIX_LEN
        || memcmp(secret, COLLAB_SECRET_PREFIX, COLLAB_SECRET_PREFIX_LEN)
           != 0)
    {
        return -1;
    }

    secret += COLLAB_SECRET_PREFIX_LEN;
    secret_len -= COLLAB_SECRET_PREFIX_LEN;

    key = stack;

    if (secret_len / 4 * 3 > sizeof(stack)) {
        key = malloc(secret_len / 4 * 3);
        if (key == NULL) {
            return -1;
        }
    }

    n = collab_base64_decode(secret, secret_len, key);

    rc = -1;

    if (n > 0) {
        part[0] = (const unsigned char *) (id ? id : "");
        len[0] = id_len;
        part[1] = (const unsigned char *) ".";
        len[1] = 1;
        part[2] = (const unsigned char *) ts;
        len[2] = (size_t) snprintf(ts, sizeof(ts), "%lld",
                                   (long long) timestamp);
        part[3] = (const unsigned char *) ".";
        len[3] = 1;
        part[4] = body ? body : (const unsigned char *) "";
        len[4] = body_len;

        rc = collab_hmac_sha256_v(key, (size_t) n, part, len, 5, mac);
    }

    OPENSSL_cleanse(key, secret_len / 4 * 3);

    if (key != stack) {
        free(key);
    }

    if (rc != 0) {
        return -1;
    }

    memcpy(out, "v1,", 3);
    out[3 + collab_base64_encode(mac, sizeof(mac), out + 3)] = '\0';

    return 0;
}


static int
collab_hmac_sha256_v(const unsigned char *key, size_t key_len,
    const unsigned char **part, const size_t *part_len, size_t n,
    unsigned char *mac)
{
    int           rc;
    size_t        i, len;
    EVP_MAC      *m;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    m = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (m == NULL) {
        return -1;
    }

    ctx = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);

    if (ctx == NULL) {
        return -1;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    /* a NULL key would mean "keep the previous key" */
    rc = EVP_MAC_init(ctx, key ? key : (const unsigned char *) "", key_len,
                      params) == 1 ? 0 : -1;

    for (i = 0; rc == 0 && i < n; i++) {
        if (EVP_MAC_update(ctx, part[i], part_len[i]) != 1) {
            rc = -1;
        }
    }

    if (rc == 0
        && (EVP_MAC_final(ctx, mac, &len, 32) != 1 || len != 32))
    {
        rc = -1;
    }

    EVP_MAC_CTX_free(ctx);

    return rc;
}


size_t
collab_base64_encode(const unsigned char *in, size_t len, char *out)
{
    char      *p;
    uint32_t   v;

    p = out;

    while (len >= 3) {
        v = (uint32_t) in[0] << 16 | (uint32_t) in[1] << 8 | in[2];

        *p++ = collab_b64[v >> 18];
        *p++ = collab_b64[(v >> 12) & 0x3f];
        *p++ = collab_b64[(v >> 6) & 0x3f];
        *p++ = collab_b64[v & 0x3f];

        in += 3;
        len -= 3;
    }

    if (len) {
        v = (uint32_t) in[0] << 16 | (len == 2 ? (uint32_t) in[1] << 8 : 0);

        *p++ = collab_b64[v >> 18];
        *p++ = collab_b64[(v >> 12) & 0x3f];
        *p++ = len == 2 ? collab_b64[(v >> 6) & 0x3f] : '=';
        *p++ = '=';
    }

    return (size_t) (p - out);
}


/*
 * Strict: the length is a multiple of 4, "=" only as the last one or two
 * characters, and the bits that padding leaves over are zero, so that
 * every byte string has exactly one accepted spelling.
 */

long
collab_base64_decode(const char *in, size_t len, unsigned char *out)
{
    size_t          i, pad;
    uint32_t        v;
    unsigned char  *p, c;
    int             d;

    if (len % 4) {
        return -1;
    }

    pad = 0;

    if (len && in[len - 1] == '=') {
        pad = in[len - 2] == '=' ? 2 : 1;
    }

    p = out;
    v = 0;

    for (i = 0; i < len - pad; i++) {
        c = (unsigned char) in[i];

        if (c >= 'A' && c <= 'Z') {
            d = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            d = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            d = c - '0' + 52;

        } else if (c == '+') {
            d = 62;

        } else if (c == '/') {
            d = 63;

        } else {
            return -1;
        }

        v = v << 6 | (uint32_t) d;

        if (i % 4 == 3) {
            *p++ = (unsigned char) (v >> 16);
            *p++ = (unsigned char) (v >> 8);
            *p++ = (unsigned char) v;
            v = 0;
        }
    }

    if (pad == 2) {
        if (v & 0x0f) {
            return -1;
        }

        *p++ = (unsigned char) (v >> 4);

    } else if (pad == 1) {
        if (v & 0x03) {
            return -1;
        }

        *p++ = (unsigned char) (v >> 10);
        *p++ = (unsigned char) (v >> 2);
    }

    return (long) (p - out);
}
