/*
 * Copyright (C) collab
 *
 * Unit tests of the client tokens (ngx_collab_ctoken.c): a token carries
 * its account, room, user and times back; one made with another key, one
 * with any character changed, cut or lengthened, and one whose payload
 * and signature come from two tokens are all refused; expiry is exact.
 * Prints TAP.
 */

#include <stdio.h>
#include <string.h>

#include "ngx_collab_ctoken.h"


#include "tap.h"


static const unsigned char  key[COLLAB_CTOKEN_KEY_LEN] =
    "0123456789abcdef0123456789abcdef";
static const unsigned char  other[COLLAB_CTOKEN_KEY_LEN] =
    "fedcba9876543210fedcba9876543210";

#define ROOM     "c3003c93-60cf-4184-b85f-20be14d26dac"
#define ACCOUNT  "acc_0123456789ABCDEFabcdef"

#define ISSUED   1780048800000LL
#define EXPIRES  (ISSUED + 3600000)


static void
token_init(collab_ctoken_t *t, const char *account, const char *room,
    const char *user)
{
    t->issued_at = ISSUED;
    t->expires_at = EXPIRES;
    t->account = (const unsigned char *) account;
    t->account_len = strlen(account);
    t->room = (const unsigned char *) room;
    t->room_len = strlen(room);
    t->user = (const unsigned char *) user;
    t->user_len = strlen(user);
}


static int
same(const unsigned char *a, size_t alen, const char *b)
{
    return alen == strlen(b) && memcmp(a, b, alen) == 0;
}


static int
verify(const char *s, size_t len, const unsigned char *k, int64_t now,
    collab_ctoken_t *t)
{
    unsigned char  scratch[COLLAB_CTOKEN_PAYLOAD_MAX];

    return collab_ctoken_verify((const unsigned char *) s, len, k,
                                COLLAB_CTOKEN_KEY_LEN, now, t, scratch);
}


static void
test_round_trip(void)
{
    int              rc;
    char             buf[COLLAB_CTOKEN_MAX + 1];
    size_t           n;
    collab_ctoken_t  t, got;
    unsigned char    scratch[COLLAB_CTOKEN_PAYLOAD_MAX];

    token_init(&t, ACCOUNT, ROOM, "user-001");
    n = collab_ctoken_sign(buf, key, sizeof(key), &t);

    tap(n > 0 && n == strlen(buf) && strncmp(buf, "ct_", 3) == 0, NULL,
        "a token starts with ct_ and is NUL-ended");

    rc = collab_ctoken_verify((unsigned char *) buf, n, key, sizeof(key),
                              ISSUED, &got, scratch);

    tap(rc == COLLAB_CTOKEN_OK
        && same(got.account, got.account_len, ACCOUNT)
        && same(got.room, got.room_len, ROOM)
        && same(got.user, got.user_len, "user-001")
        && got.issued_at == ISSUED && got.expires_at == EXPIRES,
        NULL, "a token gives back its account, room, user and times");

    tap(verify(buf, n, other, ISSUED, &got) == COLLAB_CTOKEN_INVALID, NULL,
        "a token is refused under another key");

    tap(verify(buf, n, key, EXPIRES - 1, &got) == COLLAB_CTOKEN_OK, NULL,
        "a token is good until the millisecond before it expires");

    tap(verify(buf, n, key, EXPIRES, &got) == COLLAB_CTOKEN_EXPIRED
        && same(got.user, got.user_len, "user-001"), NULL,
        "a token is expired from its expiry on, and says whose it was");
}


static void
test_tampering(void)
{
    char             buf[COLLAB_CTOKEN_MAX + 1], copy[COLLAB_CTOKEN_MAX + 2];
    size_t           n, i, bad;
    collab_ctoken_t  t, got;

    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

    token_init(&t, ACCOUNT, ROOM, "u.2:x@y-z_");
    n = collab_ctoken_sign(buf, key, sizeof(key), &t);

    bad = 0;

    for (i = 0; i < n; i++) {
        const char  *c;

        for (c = alphabet; *c; c++) {
            if (*c == buf[i]) {
                continue;
            }

            memcpy(copy, buf, n);
            copy[i] = *c;

            if (verify(copy, n, key, ISSUED, &got) != COLLAB_CTOKEN_INVALID) {
                bad++;
            }
        }
    }

    tap(bad == 0, NULL,
        "a token with any one character changed is refused (%zu accepted)",
        bad);

    bad = 0;

    for (i = 0; i < n; i++) {
        if (verify(buf, i, key, ISSUED, &got) != COLLAB_CTOKEN_INVALID) {
            bad++;
        }
    }

    tap(bad == 0, NULL, "every prefix of a token is refused");

    memcpy(copy, buf, n);
    copy[n] = 'A';

    tap(verify(copy, n + 1, key, ISSUED, &got) == COLLAB_CTOKEN_INVALID,
        NULL, "a token with a character added is refused");
}


static void
test_mixing(void)
{
    char             a[COLLAB_CTOKEN_MAX + 1], b[COLLAB_CTOKEN_MAX + 1];
    char             mixed[2 * COLLAB_CTOKEN_MAX + 2];
    size_t           na, nb, pa, pb;
    collab_ctoken_t  t, got;

    token_init(&t, ACCOUNT, ROOM, "alice");
    na = collab_ctoken_sign(a, key, sizeof(key), &t);

    token_init(&t, ACCOUNT, "11111111-2222-4333-8444-555555555555", "alice");
    nb = collab_ctoken_sign(b, key, sizeof(key), &t);

    /* the payload of one token with the signature of the other */
    pa = strchr(a, '.') - a;
    pb = strchr(b, '.') - b;

    memcpy(mixed, b, pb);
    memcpy(mixed + pb, a + pa, na - pa);

    tap(verify(mixed, pb + na - pa, key, ISSUED, &got)
        == COLLAB_CTOKEN_INVALID, NULL,
        "the payload of one token under the signature of another is refused");

    (void) nb;

    tap(verify("ck_0123456789012345678901234567890123456789012", 46, key,
               ISSUED, &got) == COLLAB_CTOKEN_INVALID, NULL,
        "an account key is not a client token");

    tap(verify("", 0, key, ISSUED, &got) == COLLAB_CTOKEN_INVALID, NULL,
        "an empty token is refused");
}


static void
test_names(void)
{
    int              rc;
    char             buf[COLLAB_CTOKEN_MAX + 1];
    char             name[COLLAB_CTOKEN_NAME_MAX + 2];
    size_t           n;
    collab_ctoken_t  t, got;

    memset(name, 'u', COLLAB_CTOKEN_NAME_MAX);
    name[COLLAB_CTOKEN_NAME_MAX] = '\0';

    token_init(&t, name, name, name);
    n = collab_ctoken_sign(buf, key, sizeof(key), &t);
    rc = verify(buf, n, key, ISSUED, &got);

    tap(n > 0 && n <= COLLAB_CTOKEN_MAX && rc == COLLAB_CTOKEN_OK
        && got.user_len == COLLAB_CTOKEN_NAME_MAX, NULL,
        "names of %d bytes fit (a token of %zu characters)",
        COLLAB_CTOKEN_NAME_MAX, n);

    name[COLLAB_CTOKEN_NAME_MAX] = 'u';
    name[COLLAB_CTOKEN_NAME_MAX + 1] = '\0';

    token_init(&t, ACCOUNT, ROOM, name);

    tap(collab_ctoken_sign(buf, key, sizeof(key), &t) == 0, NULL,
        "a name of %d bytes is not signed", COLLAB_CTOKEN_NAME_MAX + 1);

    token_init(&t, ACCOUNT, ROOM, "");

    tap(collab_ctoken_sign(buf, key, sizeof(key), &t) == 0, NULL,
        "an empty name is not signed");
}


int
main(void)
{
    test_round_trip();
    test_tampering();
    test_mixing();
    test_names();

    return tap_done();
}
