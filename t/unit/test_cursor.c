/*
 * Copyright (C) collab
 *
 * Unit tests of the list cursors (ngx_collab_id.c): numbers and names
 * round-trip, and a cursor of another kind, another secret or with a
 * changed character is refused; prints TAP.
 */

#include <stdio.h>
#include <string.h>

#include "ngx_collab_id.h"


static int  ntests, nfailed;


static void
ok(int cond, const char *name)
{
    ntests++;
    nfailed += !cond;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", ntests, name);
}


static const unsigned char  secret[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char  other[32] = "fedcba9876543210fedcba9876543210";


static void
test_numbers(void)
{
    char     buf[64];
    size_t   n;
    int64_t  v;

    n = collab_cursor_encode(buf, sizeof(buf), secret, 32, "rooms", 12345);
    ok(n > 13 && buf[n - 13] == '.', "a number cursor is digits.tag");
    ok(collab_cursor_decode((unsigned char *) buf, n, secret, 32, "rooms",
                            &v) == 0 && v == 12345,
       "a number cursor decodes to its number");
    ok(collab_cursor_decode((unsigned char *) buf, n, secret, 32, "users",
                            &v) != 0,
       "a number cursor of another kind is refused");
    ok(collab_cursor_decode((unsigned char *) buf, n, other, 32, "rooms",
                            &v) != 0,
       "a number cursor under another secret is refused");
}


static void
test_names(void)
{
    size_t         n, len, i;
    char           buf[COLLAB_CURSOR_NAME_SIZE(COLLAB_CURSOR_NAME_MAX)];
    unsigned char  name[COLLAB_CURSOR_NAME_MAX], big[COLLAB_CURSOR_NAME_MAX];
    static const char  *names[] = {
        "a", "ab", "abc", "abcd", "d\xc3\xa9j\xc3\xa0/vu.txt",
        "\xf0\x9f\x98\x80", "key with spaces", NULL
    };
    const char   **p;
    char           title[128];

    for (p = names; *p; p++) {
        len = strlen(*p);
        n = collab_cursor_encode_name(buf, sizeof(buf), secret, 32, "store",
                                      (unsigned char *) *p, len);

        snprintf(title, sizeof(title), "name cursor of %zu bytes is "
                 "URL-safe", len);
        ok(n > 0 && strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                "qrstuvwxyz0123456789-_.") == n, title);

        snprintf(title, sizeof(title), "name cursor of %zu bytes "
                 "round-trips", len);
        ok(collab_cursor_decode_name((unsigned char *) buf, n, secret, 32,
                                     "store", name, &i) == 0
           && i == len && memcmp(name, *p, len) == 0, title);
    }

    for (i = 0; i < sizeof(big); i++) {
        big[i] = (unsigned char) (i * 7 + 1);
    }

    n = collab_cursor_encode_name(buf, sizeof(buf), secret, 32, "files", big,
                                  sizeof(big));
    ok(n > 0 && n < COLLAB_CURSOR_NAME_SIZE(sizeof(big)),
       "the longest name fits COLLAB_CURSOR_NAME_SIZE");
    ok(collab_cursor_decode_name((unsigned char *) buf, n, secret, 32,
                                 "files", name, &len) == 0
       && len == sizeof(big) && memcmp(name, big, len) == 0,
       "the longest name round-trips");

    ok(collab_cursor_encode_name(buf, 10, secret, 32, "files", big, 5) == 0
       && collab_cursor_encode_name(buf, sizeof(buf), secret, 32, "files",
                                    big, 0) == 0,
       "a buffer too small or an empty name is refused");

    n = collab_cursor_encode_name(buf, sizeof(buf), secret, 32, "store",
                                  (unsigned char *) "abc", 3);
    ok(collab_cursor_decode_name((unsigned char *) buf, n, secret, 32,
                                 "files", name, &len) != 0,
       "a name cursor of another kind is refused");
    ok(collab_cursor_decode_name((unsigned char *) buf, n, other, 32,
                                 "store", name, &len) != 0,
       "a name cursor under another secret is refused");

    buf[0] = buf[0] == 'Y' ? 'Z' : 'Y';
    ok(collab_cursor_decode_name((unsigned char *) buf, n, secret, 32,
                                 "store", name, &len) != 0,
       "a name cursor with a changed character is refused");

    ok(collab_cursor_decode_name((unsigned char *) "x.0123456789ab", 14,
                                 secret, 32, "store", name, &len) != 0
       && collab_cursor_decode_name((unsigned char *) "YWJj", 4, secret, 32,
                                    "store", name, &len) != 0
       && collab_cursor_decode_name((unsigned char *) "Y!Jj.0123456789ab",
                                    17, secret, 32, "store", name, &len)
          != 0,
       "malformed name cursors are refused");
}


int
main(void)
{
    test_numbers();
    test_names();

    printf("1..%d\n", ntests);

    if (nfailed) {
        printf("# %d of %d tests failed\n", nfailed, ntests);
    }

    return nfailed ? 1 : 0;
}
