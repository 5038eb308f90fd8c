/*
 * Copyright (C) collab
 *
 * Identifiers and secrets: prefixed base62 ids (acc_, key_, evt_ ...),
 * UUID v4 room ids, API tokens and their SHA-256 hashes, and the HMAC tag
 * that makes list cursors opaque and unforgeable.  Plain C + libcrypto.
 */

#ifndef _NGX_COLLAB_ID_H_INCLUDED_
#define _NGX_COLLAB_ID_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#define COLLAB_ID_RANDOM     22      /* base62 characters after the prefix */
#define COLLAB_ID_MAX        48
#define COLLAB_TOKEN_MAX     64
#define COLLAB_UUID_LEN      36
#define COLLAB_TOKEN_RANDOM  43
#define COLLAB_HASH_LEN      32

/* prefix + 22 random base62 characters + NUL into buf; returns length */
size_t collab_id_new(char *buf, const char *prefix);
/* prefix + 43 random base62 characters (256 bits) + NUL; returns length */
size_t collab_token_new(char *buf, const char *prefix);
/* a random UUID v4, 36 characters + NUL */
int collab_uuid_new(char *buf);
int collab_uuid_valid(const unsigned char *s, size_t len);
/* does s look like prefix + base62 characters? */
int collab_id_valid(const unsigned char *s, size_t len, const char *prefix);
void collab_sha256(const unsigned char *data, size_t len, unsigned char *out);
void collab_id_cleanup(void);
int collab_random(unsigned char *buf, size_t len);

/* cursor = base62(value) "." 12 chars of HMAC(secret, kind:value) */
size_t collab_cursor_encode(char *buf, size_t size, const unsigned char *key,
    size_t keylen, const char *kind, int64_t value);
int collab_cursor_decode(const unsigned char *s, size_t len,
    const unsigned char *key, size_t keylen, const char *kind,
    int64_t *value);

/*
 * cursor = base64url(name) "." 12 chars of HMAC(secret, kind:name), for
 * lists ordered by a name of 1 to COLLAB_CURSOR_NAME_MAX bytes; buf must
 * hold COLLAB_CURSOR_NAME_SIZE(len) bytes, name COLLAB_CURSOR_NAME_MAX
 */
#define COLLAB_CURSOR_NAME_MAX      1024
#define COLLAB_CURSOR_NAME_SIZE(len)  (((len) + 2) / 3 * 4 + 14)

size_t collab_cursor_encode_name(char *buf, size_t size,
    const unsigned char *key, size_t keylen, const char *kind,
    const unsigned char *name, size_t len);
int collab_cursor_decode_name(const unsigned char *s, size_t len,
    const unsigned char *key, size_t keylen, const char *kind,
    unsigned char *name, size_t *namelen);

#endif /* _NGX_COLLAB_ID_H_INCLUDED_ */
