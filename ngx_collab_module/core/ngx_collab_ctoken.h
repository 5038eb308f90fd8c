/*
 * Copyright (C) collab
 *
 * Client tokens: what a browser presents to open a presence connection.
 * A token names an account, a room and a user, and carries the time it
 * was issued and the time it expires; the server signs it with a key of
 * its own (HMAC-SHA256), so that checking one needs no database read.
 *
 *     "ct_" base64url(payload) "." base64url(HMAC-SHA256(key, context
 *     "ct_" base64url(payload)))
 *
 * The payload is a version byte, the issue and expiry times (milliseconds,
 * 64-bit big endian) and the three names, each after its length byte.
 * The signed context is a fixed string of its own, so that no other MAC
 * made with the same key can pass for a token.  Plain C + libcrypto.
 */

#ifndef _NGX_COLLAB_CTOKEN_H_INCLUDED_
#define _NGX_COLLAB_CTOKEN_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#define COLLAB_CTOKEN_PREFIX     "ct_"
#define COLLAB_CTOKEN_KEY_LEN    32
#define COLLAB_CTOKEN_NAME_MAX   128

/* the longest payload: version, two times, three names with lengths */
#define COLLAB_CTOKEN_PAYLOAD_MAX                                              \
    (1 + 8 + 8 + 3 * (1 + COLLAB_CTOKEN_NAME_MAX))

/* the longest token, without its NUL */
#define COLLAB_CTOKEN_MAX                                                     \
    (3 + (COLLAB_CTOKEN_PAYLOAD_MAX * 4 + 2) / 3 + 1 + 43)

#define COLLAB_CTOKEN_OK         0
#define COLLAB_CTOKEN_INVALID   -1      /* malformed, or not signed by us */
#define COLLAB_CTOKEN_EXPIRED   -2


typedef struct {
    int64_t               issued_at;      /* ms since the epoch */
    int64_t               expires_at;     /* ms since the epoch */
    const unsigned char  *account;
    size_t                account_len;
    const unsigned char  *room;
    size_t                room_len;
    const unsigned char  *user;
    size_t                user_len;
} collab_ctoken_t;


/*
 * Writes the token and a NUL into buf (COLLAB_CTOKEN_MAX + 1 bytes);
 * returns its length, or 0 when a name is empty or too long.
 */
size_t collab_ctoken_sign(char *buf, const unsigned char *key, size_t keylen,
    const collab_ctoken_t *t);

/*
 * Checks the signature first, then decodes the payload into scratch
 * (COLLAB_CTOKEN_PAYLOAD_MAX bytes), where t's names point.  An expired
 * token (now >= expires_at) is COLLAB_CTOKEN_EXPIRED, with t filled in.
 */
int collab_ctoken_verify(const unsigned char *s, size_t len,
    const unsigned char *key, size_t keylen, int64_t now, collab_ctoken_t *t,
    unsigned char *scratch);

#endif /* _NGX_COLLAB_CTOKEN_H_INCLUDED_ */
