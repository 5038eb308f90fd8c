/*
 * Copyright (C) collab
 *
 * Identifiers, tokens, hashes and cursor tags (see ngx_collab_id.h).
 */

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ngx_collab_id.h"


static const char  collab_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


int
collab_random(unsigned char *buf, size_t len)
{
    return RAND_bytes(buf, (int) len) == 1 ? 0 : -1;
}


static void
collab_random_base62(char *out, size_t n)
{
    size_t         i;
    unsigned char  r[64];

    i = 0;

    while (i < n) {
        size_t  k;

        if (collab_random(r, sizeof(r)) != 0) {
            abort();
        }

        /* rejection sampling keeps every character equally likely */
        for (k = 0; k < sizeof(r) && i < n; k++) {
            if (r[k] < 248) {
                out[i++] = collab_base62[r[k] % 62];
            }
        }
    }
}


static size_t
collab_prefixed(char *buf, const char *prefix, size_t n)
{
    size_t  plen;

    plen = strlen(prefix);
    memcpy(buf, prefix, plen);
    collab_random_base62(buf + plen, n);
    buf[plen + n] = '\0';

    return plen + n;
}


size_t
collab_id_new(char *buf, const char *prefix)
{
    return collab_prefixed(buf, prefix, COLLAB_ID_RANDOM);
}


size_t
collab_token_new(char *buf, const char *prefix)
{
    return collab_prefixed(buf, prefix, COLLAB_TOKEN_RANDOM);
}


int
collab_uuid_new(char *buf)
{
    unsigned char  u[16];

    if (collab_random(u, sizeof(u)) != 0) {
        return -1;
    }

    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;

    snprintf(buf, COLLAB_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
             u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);

    return 0;
}


int
collab_uuid_valid(const unsigned char *s, size_t len)
{
    size_t  i;

    if (len != COLLAB_UUID_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }

        } else if (!((s[i] >= '0' && s[i] <= '9')
                     || (s[i] >= 'a' && s[i] <= 'f')
                     || (s[i] >= 'A' && s[i] <= 'F')))
        {
            return 0;
        }
    }

    return 1;
}


int
collab_id_valid(const unsigned char *s, size_t len, const char *prefix)
{
    size_t  i, plen;

    plen = strlen(prefix);

    if (len <= plen || len >= COLLAB_ID_MAX
        || memcmp(s, prefix, plen) != 0)
    {
        return 0;
    }

    for (i = plen; i < len; i++) {
        if (strchr(collab_base62, s[i]) == NULL || s[i] == '\0') {
            return 0;
        }
    }

    return 1;
}


/*
 * SHA-256 of every API key a request shows: the digest is fetched from the
 * provider once per process (SHA256() fetches it anew on every call, most
 * of its cost for a short key).  The storage threads may hash too: the
 * first to fetch installs its copy, another frees its own.
 */
static EVP_MD  *collab_md_sha256;


void
collab_sha256(const unsigned char *data, size_t len, unsigned char *out)
{
    EVP_MD  *md, *fetched, *none;

    md = __atomic_load_n(&collab_md_sha256, __ATOMIC_ACQUIRE);

    if (md == NULL) {
        fetched = EVP_MD_fetch(NULL, "SHA256", NULL);

        if (fetched == NULL) {
            SHA256(data, len, out);
            return;
        }

        none = NULL;

        if (__atomic_compare_exchange_n(&collab_md_sha256, &none, fetched, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        {
            md = fetched;

        } else {
            EVP_MD_free(fetched);
            md = none;
        }
    }

    if (EVP_Digest(data, len, out, NULL, md, NULL) != 1) {
        SHA256(data, len, out);
    }
}


/* frees the fetched digest: the module is unloaded before the process ends */
void
collab_id_cleanup(void)
{
    EVP_MD_free(collab_md_sha256);
    collab_md_sha256 = NULL;
}


static size_t
collab_cursor_tag(char *out, const unsigned char *key, size_t keylen,
    const char *kind, const unsigned char *value, size_t len)
{
    size_t         i, n;
    unsigned int   mlen;
    unsigned char  mac[EVP_MAX_MD_SIZE];
    unsigned char  msg[32 + COLLAB_CURSOR_NAME_MAX];

    n = strlen(kind);

    if (n >= 32 || len > COLLAB_CURSOR_NAME_MAX) {
        return 0;
    }

    memcpy(msg, kind, n);
    msg[n++] = ':';
    memcpy(msg + n, value, len);
    n += len;

    HMAC(EVP_sha256(), key, (int) keylen, msg, n, mac, &mlen);

    for (i = 0; i < 12; i++) {
        out[i] = collab_base62[mac[i] % 62];
    }

    return 12;
}


size_t
collab_cursor_encode(char *buf, size_t size, const unsigned char *key,
    size_t keylen, const char *kind, int64_t value)
{
    char      digits[24];
    size_t    n, i;
    uint64_t  v;

    if (size < sizeof(digits) + 14 || value < 0) {
        return 0;
    }

    v = (uint64_t) value;
    n = 0;

    do {
        digits[n++] = collab_base62[v % 62];
        v /= 62;
    } while (v);

    for (i = 0; i < n; i++) {
        buf[i] = digits[n - 1 - i];
    }

    buf[n] = '.';
    collab_cursor_tag(buf + n + 1, key, keylen, kind, (unsigned char *) buf,
                      n);
    buf[n + 13] = '\0';

    return n + 13;
}


int
collab_cursor_decode(const unsigned char *s, size_t len,
    const unsigned char *key, size_t keylen, const char *kind,
    int64_t *value)
{
    char          tag[12];
    const char   *p;
    size_t        n, i;
    uint64_t      v;

    for (n = 0; n < len && s[n] != '.'; n++) { /* void */ }

    if (n == 0 || n >= 16 || len != n + 13) {
        return -1;
    }

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\0' || (p = strchr(collab_base62, s[i])) == NULL) {
            return -1;
        }

        if (v > (uint64_t) INT64_MAX / 62) {
            return -1;
        }

        v = v * 62 + (uint64_t) (p - collab_base62);
    }

    if (v > (uint64_t) INT64_MAX) {
        return -1;
    }

    collab_cursor_tag(tag, key, keylen, kind, s, n);

    if (CRYPTO_memcmp(tag, s + n + 1, 12) != 0) {
        return -1;
    }

    *value = (int64_t) v;

    return 0;
}


static const char  collab_base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t
collab_cursor_encode_name(char *buf, size_t size, const unsigned char *key,
    size_t keylen, const char *kind, const unsigned char *name, size_t len)
{
    size_t    i, n;
    uint32_t  v;

    if (len == 0 || len > COLLAB_CURSOR_NAME_MAX
        || size < COLLAB_CURSOR_NAME_SIZE(len))
    {
        return 0;
    }

    n = 0;

    for (i = 0; i < len; i += 3) {
        v = (uint32_t) name[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) name[i + 1] << 8;
        }

        if (i + 2 < len) {
            v |= name[i + 2];
        }

        buf[n++] = collab_base64url[(v >> 18) & 63];
        buf[n++] = collab_base64url[(v >> 12) & 63];

        if (i + 1 < len) {
            buf[n++] = collab_base64url[(v >> 6) & 63];
        }

        if (i + 2 < len) {
            buf[n++] = collab_base64url[v & 63];
        }
    }

    buf[n++] = '.';
    n += collab_cursor_tag(buf + n, key, keylen, kind, name, len);
    buf[n] = '\0';

    return n;
}


int
collab_cursor_decode_name(const unsigned char *s, size_t len,
    const unsigned char *key, size_t keylen, const char *kind,
    unsigned char *name, size_t *namelen)
{
    char          tag[12];
    const char   *p;
    size_t        n, i, k, bits;
    uint32_t      v;

    if (len < 14 || s[len - 13] != '.') {
        return -1;
    }

    n = len - 13;

    if (n % 4 == 1) {
        return -1;
    }

    v = 0;
    bits = 0;
    k = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\0' || (p = strchr(collab_base64url, s[i])) == NULL) {
            return -1;
        }

        v = (v << 6) | (uint32_t) (p - collab_base64url);
        bits += 6;

        if (bits >= 8) {
            bits -= 8;

            if (k == COLLAB_CURSOR_NAME_MAX) {
                return -1;
            }

            name[k++] = (unsigned char) (v >> bits);
            v &= (1u << bits) - 1;
        }
    }

    if (k == 0) {
        return -1;
    }

    if (collab_cursor_tag(tag, key, keylen, kind, name, k) != 12
        || CRYPTO_memcmp(tag, s + n + 1, 12) != 0)
    {
        return -1;
    }

    *namelen = k;

    return 0;
}
