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


static const char  collab_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char  collab_hex_digits[] = "0123456789abcdef";


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


/*
 * The MAC is fetched once per process and one context, with the digest
 * set, is kept for the signatures made with a key of the moment; a
 * signer keeps a context of its own with its key in it.
 */
static EVP_MAC      *collab_mac;
static EVP_MAC_CTX  *collab_mac_ctx;


struct collab_signer_s {
    EVP_MAC_CTX  *ctx;
};


/*
 * Frees what the process fetched.  nginx unloads the module before the
 * process ends, and a pointer left in the unloaded module's memory would
 * read as a leak.
 */
void
collab_sign_cleanup(void)
{
    EVP_MAC_CTX_free(collab_mac_ctx);
    collab_mac_ctx = NULL;

    EVP_MAC_free(collab_mac);
    collab_mac = NULL;
}


static EVP_MAC_CTX *
collab_hmac_new(const unsigned char *key, size_t key_len)
{
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    if (collab_mac == NULL) {
        collab_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
        if (collab_mac == NULL) {
            return NULL;
        }
    }

    ctx = EVP_MAC_CTX_new(collab_mac);
    if (ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    /* a NULL key would mean "keep the previous key" */
    if (EVP_MAC_init(ctx, key ? key : (const unsigned char *) "", key_len,
                     params)
        != 1)
    {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


/*
 * One MAC over the parts.  With key == NULL the context keeps its key and
 * is only re-initialized.
 */
static int
collab_hmac_sha256_v(EVP_MAC_CTX *ctx, const unsigned char *key,
    size_t key_len, const unsigned char **part, const size_t *part_len,
    size_t n, unsigned char *mac)
{
    size_t  i, len;

    if (EVP_MAC_init(ctx, key, key ? key_len : 0, NULL) != 1) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (EVP_MAC_update(ctx, part[i], part_len[i]) != 1) {
            return -1;
        }
    }

    if (EVP_MAC_final(ctx, mac, &len, 32) != 1 || len != 32) {
        return -1;
    }

    return 0;
}


/* the process's context, given a key for this one signature */
static int
collab_hmac_once(const unsigned char *key, size_t key_len,
    const unsigned char **part, const size_t *part_len, size_t n,
    unsigned char *mac)
{
    if (collab_mac_ctx == NULL) {
        collab_mac_ctx = collab_hmac_new(NULL, 0);
        if (collab_mac_ctx == NULL) {
            return -1;
        }
    }

    /* EVP_MAC_init() takes NULL as "the same key": an empty key is "" */
    return collab_hmac_sha256_v(collab_mac_ctx,
                                key ? key : (const unsigned char *) "",
                                key_len, part, part_len, n, mac);
}


static void
collab_hex(const unsigned char *mac, char *out)
{
    size_t  i;

    for (i = 0; i < 32; i++) {
        out[2 * i] = collab_hex_digits[mac[i] >> 4];
        out[2 * i + 1] = collab_hex_digits[mac[i] & 0x0f];
    }

    out[COLLAB_SIG_HEX_LEN] = '\0';
}


void
collab_sign_hex(const char *secret, size_t secret_len,
    const unsigned char *body, size_t body_len, char *out)
{
    unsigned char         mac[32];
    const unsigned char  *part[1];

    part[0] = body ? body : (const unsigned char *) "";

    if (collab_hmac_once((const unsigned char *) secret, secret_len, part,
                         &body_len, 1, mac)
        != 0)
    {
        /* an empty string never matches a signature */
        out[0] = '\0';
        return;
    }

    collab_hex(mac, out);
}


/* the key of a Standard Webhooks secret: the bytes after "whsec_" */
static long
collab_v1_key(const char *secret, size_t secret_len, unsigned char *stack,
    size_t size, unsigned char **key)
{
    if (secret == NULL || secret_len <= COLLAB_SECRET_PREFIX_LEN
        || memcmp(secret, COLLAB_SECRET_PREFIX, COLLAB_SECRET_PREFIX_LEN)
           != 0)
    {
        return -1;
    }

    secret += COLLAB_SECRET_PREFIX_LEN;
    secret_len -= COLLAB_SECRET_PREFIX_LEN;

    *key = stack;

    if (secret_len / 4 * 3 > size) {
        *key = malloc(secret_len / 4 * 3);
        if (*key == NULL) {
            return -1;
        }
    }

    return collab_base64_decode(secret, secret_len, *key);
}


static void
collab_v1_key_free(unsigned char *key, unsigned char *stack,
    size_t secret_len)
{
    OPENSSL_cleanse(key, (secret_len - COLLAB_SECRET_PREFIX_LEN) / 4 * 3);

    if (key != stack) {
        free(key);
    }
}


static int
collab_v1(EVP_MAC_CTX *ctx, const unsigned char *key, size_t key_len,
    const char *id, size_t id_len, int64_t timestamp,
    const unsigned char *body, size_t body_len, char *out)
{
    int                   rc;
    char                  ts[24];
    size_t                len[5];
    unsigned char         mac[32];
    const unsigned char  *part[5];

    part[0] = (const unsigned char *) (id ? id : "");
    len[0] = id_len;
    part[1] = (const unsigned char *) ".";
    len[1] = 1;
    part[2] = (const unsigned char *) ts;
    len[2] = (size_t) snprintf(ts, sizeof(ts), "%lld", (long long) timestamp);
    part[3] = (const unsigned char *) ".";
    len[3] = 1;
    part[4] = body ? body : (const unsigned char *) "";
    len[4] = body_len;

    if (ctx) {
        rc = collab_hmac_sha256_v(ctx, NULL, 0, part, len, 5, mac);

    } else {
        rc = collab_hmac_once(key, key_len, part, len, 5, mac);
    }

    if (rc != 0) {
        return -1;
    }

    memcpy(out, "v1,", 3);
    out[3 + collab_base64_encode(mac, sizeof(mac), out + 3)] = '\0';

    return 0;
}


int
collab_sign_v1(const char *secret, size_t secret_len, const char *id,
    size_t id_len, int64_t timestamp, const unsigned char *body,
    size_t body_len, char *out)
{
    int             rc;
    long            n;
    unsigned char   stack[192], *key;

    key = NULL;
    n = collab_v1_key(secret, secret_len, stack, sizeof(stack), &key);

    rc = -1;

    if (n > 0) {
        rc = collab_v1(NULL, key, (size_t) n, id, id_len, timestamp, body,
                       body_len, out);
    }

    if (key) {
        collab_v1_key_free(key, stack, secret_len);
    }

    return rc;
}


collab_signer_t *
collab_signer_hex(const char *secret, size_t secret_len)
{
    collab_signer_t  *s;

    s = malloc(sizeof(collab_signer_t));
    if (s == NULL) {
        return NULL;
    }

    s->ctx = collab_hmac_new((const unsigned char *) secret, secret_len);

    if (s->ctx == NULL) {
        free(s);
        return NULL;
    }

    return s;
}


collab_signer_t *
collab_signer_v1(const char *secret, size_t secret_len)
{
    long              n;
    unsigned char     stack[192], *key;
    collab_signer_t  *s;

    key = NULL;
    n = collab_v1_key(secret, secret_len, stack, sizeof(stack), &key);

    s = NULL;

    if (n > 0) {
        s = malloc(sizeof(collab_signer_t));

        if (s) {
            s->ctx = collab_hmac_new(key, (size_t) n);

            if (s->ctx == NULL) {
                free(s);
                s = NULL;
            }
        }
    }

    if (key) {
        collab_v1_key_free(key, stack, secret_len);
    }

    return s;
}


void
collab_signer_free(collab_signer_t *s)
{
    if (s) {
        EVP_MAC_CTX_free(s->ctx);
        free(s);
    }
}


int
collab_signer_sign_hex(collab_signer_t *s, const unsigned char *body,
    size_t body_len, char *out)
{
    unsigned char         mac[32];
    const unsigned char  *part[1];

    part[0] = body ? body : (const unsigned char *) "";

    if (collab_hmac_sha256_v(s->ctx, NULL, 0, part, &body_len, 1, mac) != 0)
    {
        out[0] = '\0';
        return -1;
    }

    collab_hex(mac, out);

    return 0;
}


int
collab_signer_sign_v1(collab_signer_t *s, const char *id, size_t id_len,
    int64_t timestamp, const unsigned char *body, size_t body_len,
    char *out)
{
    return collab_v1(s->ctx, NULL, 0, id, id_len, timestamp, body, body_len,
                     out);
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
