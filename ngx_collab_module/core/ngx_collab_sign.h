/*
 * Copyright (C) collab
 *
 * Webhook signatures and endpoint URLs, in plain C (libc + libcrypto) so
 * that they are unit-tested alone:
 *
 * - the secret: "whsec_" + base64 of 24 random bytes;
 * - X-Webhook-Signature: hex HMAC-SHA256 keyed with the whole secret
 *   string, over the body;
 * - Standard Webhooks: "v1," + base64 HMAC-SHA256 keyed with the
 *   base64-decoded part after "whsec_", over "{id}.{timestamp}.{body}".
 *
 * The URL rules of webhook endpoints live in ngx_collab_url.h.
 */

#ifndef _NGX_COLLAB_SIGN_H_INCLUDED_
#define _NGX_COLLAB_SIGN_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ngx_collab_url.h"

#define COLLAB_SECRET_LEN      38     /* "whsec_" + 32 base64 characters */
#define COLLAB_SIG_HEX_LEN     64
#define COLLAB_SIG_V1_LEN      47     /* "v1," + 44 base64 characters */

/* a fresh secret, COLLAB_SECRET_LEN characters + NUL; 0 or -1 */
int collab_secret_new(char *buf);

/* hex HMAC-SHA256(key = secret string, body) into out[65] */
void collab_sign_hex(const char *secret, size_t secret_len,
    const unsigned char *body, size_t body_len, char *out);

/*
 * "v1," + base64 HMAC-SHA256(key = base64-decode(secret after "whsec_"),
 * id "." timestamp "." body) into out[48]; -1 if the secret is not
 * "whsec_" + valid base64.
 */
int collab_sign_v1(const char *secret, size_t secret_len, const char *id,
    size_t id_len, int64_t timestamp, const unsigned char *body,
    size_t body_len, char *out);

/*
 * A signing key made ready once: an HMAC-SHA256 context holding the key,
 * so that each signature only re-initializes it (no fetch of the MAC, no
 * allocation, no key schedule).  One per webhook secret, kept while the
 * secret is; not for two threads at once.
 */
typedef struct collab_signer_s  collab_signer_t;

/* for X-Webhook-Signature: the key is the secret string itself */
collab_signer_t *collab_signer_hex(const char *secret, size_t secret_len);

/* for webhook-signature: the key is the base64 after "whsec_"; NULL if bad */
collab_signer_t *collab_signer_v1(const char *secret, size_t secret_len);

void collab_signer_free(collab_signer_t *s);
void collab_sign_cleanup(void);

/* the same signatures as collab_sign_hex() and collab_sign_v1() */
int collab_signer_sign_hex(collab_signer_t *s, const unsigned char *body,
    size_t body_len, char *out);
int collab_signer_sign_v1(collab_signer_t *s, const char *id, size_t id_len,
    int64_t timestamp, const unsigned char *body, size_t body_len,
    char *out);

/* standard base64 with padding; returns the output length (no NUL) */
size_t collab_base64_encode(const unsigned char *in, size_t len, char *out);
/* -1 on invalid input, else the decoded length */
long collab_base64_decode(const char *in, size_t len, unsigned char *out);

#endif /* _NGX_COLLAB_SIGN_H_INCLUDED_ */
