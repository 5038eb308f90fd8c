/*
 * Copyright (C) collab
 *
 * Unit tests of webhook secrets and signatures, base64, the URL parser
 * and the address rules (ngx_collab_sign.c); prints TAP.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "ngx_collab_sign.h"


#include "tap.h"


/* compares two C strings, either of which may be NULL */

static void
is_str(const char *got, const char *want, const char *fmt, ...)
{
    int      ok;
    char     name[256], diag[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    if (got == NULL || want == NULL) {
        ok = got == want;

    } else {
        ok = strcmp(got, want) == 0;
    }

    if (!ok) {
        snprintf(diag, sizeof(diag), "#   got:      %s\n#   expected: %s",
                 got ? got : "(null)", want ? want : "(null)");
    }

    tap(ok, ok ? NULL : diag, "%s", name);
}


static void
test_signatures(void)
{
    int     rc;
    char    out[COLLAB_SIG_V1_LEN + 1], hex[COLLAB_SIG_HEX_LEN + 1];
    size_t  i;

    static const char  *sw_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static const char  *sw_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    static const char  *sw_body = "{\"test\": 2432232314}";

    static const char  *secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    static const char  *id = "msg_2LJzRnBMxYBVr7dAbkgXQfWCoQr";

    /* all expected values below come from node's crypto.createHmac() */

    static const char  *escaped =
        "{\"type\":\"event.created\",\"data\":"
        "{\"text\":\"h\\u00e9llo \\u2603\",\"n\":1}}";

    static const char  *unicode =
        "{\"text\":\"h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83 \xf0\x9f\x98\x80 "
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\",\"ctl\":\"\\u0001\\n\"}";

    static const unsigned char  raw[] = { 0, 1, 2, 0xff, 0xfe, 0x80, 10, 13 };

    static const char  *bad[] = {
        "whsec_",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=",
        "whsec_MfKQ9r8G!YqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",
        "whsec",
        "",
    };

    rc = collab_sign_v1(sw_secret, strlen(sw_secret), sw_id, strlen(sw_id),
                        1614265330, (const unsigned char *) sw_body,
                        strlen(sw_body), out);
    tap(rc == 0, NULL, "v1: returns 0");
    is_str(out, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
           "v1: Standard Webhooks test vector");
    tap(strlen(out) == COLLAB_SIG_V1_LEN, NULL, "v1: %d characters",
        COLLAB_SIG_V1_LEN);

    rc = collab_sign_v1(secret, strlen(secret), id, strlen(id), 1780049160,
                        (const unsigned char *) escaped, strlen(escaped),
                        out);
    is_str(rc == 0 ? out : NULL,
           "v1,ee8IB01WcfZJx+p72iTrKgMWyGFEi0s6ewlwzFOf+30=",
           "v1: node vector, escaped JSON body");

    rc = collab_sign_v1(secret, strlen(secret), id, strlen(id), 1780049160,
                        (const unsigned char *) unicode, strlen(unicode),
                        out);
    is_str(rc == 0 ? out : NULL,
           "v1,CuK796XzFI9i7jFZoAwks9shQ3Uiqz/Evg8jgh4KUac=",
           "v1: node vector, UTF-8 body");

    rc = collab_sign_v1(secret, strlen(secret), id, strlen(id), -5, NULL, 0,
                        out);
    is_str(rc == 0 ? out : NULL,
           "v1,r7nJ2C6/RW3EWy2dSkHxI2iDFSL4IrNM4kbbc6304WY=",
           "v1: node vector, negative timestamp, empty body");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(out, 'x', sizeof(out));
        rc = collab_sign_v1(bad[i], strlen(bad[i]), id, strlen(id), 1,
                            (const unsigned char *) "{}", 2, out);
        tap(rc == -1 && out[0] == 'x', NULL, "v1: refuses secret \"%s\"",
            bad[i]);
    }

    collab_sign_hex(secret, strlen(secret), (const unsigned char *) unicode,
                    strlen(unicode), hex);
    is_str(hex,
           "2ab5a2cc3d91c7089475128a46eab98df1713f97423a6148cac9772be654ae20",
           "hex: node vector, UTF-8 body");

    collab_sign_hex(sw_secret, strlen(sw_secret),
                    (const unsigned char *) sw_body, strlen(sw_body), hex);
    is_str(hex,
           "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c",
           "hex: keyed with the whole secret string");

    collab_sign_hex(sw_secret, strlen(sw_secret), NULL, 0, hex);
    is_str(hex,
           "da5f5865984e699a69cfec62ce49a76daf8ae4601b54a781fa13f3b2d3b2088a",
           "hex: empty body");

    collab_sign_hex("", 0, (const unsigned char *) "", 0, hex);
    is_str(hex,
           "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
           "hex: empty key, empty body");

    collab_sign_hex("k\xc3\xa9y", 4, raw, sizeof(raw), hex);
    is_str(hex,
           "bf3d982b02a61f339c71aca70fc535a76acf55ea59cefbd8a8394b384d19657e",
           "hex: UTF-8 key, binary body with NUL");
}


static void
test_base64(void)
{
    long           n;
    char           enc[256];
    size_t         i, len, k;
    unsigned char  data[128], dec[128];
    int            ok;

    static const struct {
        const char  *plain;
        const char  *b64;
    } rfc[] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
        { "\xfb\xff\xbf", "+/+/" },
    };

    static const char  *invalid[] = {
        "Zg=",
        "Zg",
        "Zm9",
        "Zg==Zg==",
        "Z===",
        "====",
        "Zm=v",
        "Zm9v!A==",
        "Zm9v-_==",
        "Zh==",
        "Zm9=",
        "Zm 9v",
        "Zm9v\n",
        "Zm9vYg==\n",
    };

    for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
        len = collab_base64_encode((const unsigned char *) rfc[i].plain,
                                   strlen(rfc[i].plain), enc);
        enc[len] = '\0';
        is_str(enc, rfc[i].b64, "base64: encode \"%s\"", rfc[i].b64);

        memset(dec, 0, sizeof(dec));
        n = collab_base64_decode(rfc[i].b64, strlen(rfc[i].b64), dec);
        tap(n == (long) strlen(rfc[i].plain)
            && memcmp(dec, rfc[i].plain, (size_t) n) == 0, NULL,
            "base64: decode \"%s\"", rfc[i].b64);
    }

    ok = 1;

    for (len = 0; len <= sizeof(data); len++) {
        for (k = 0; k < len; k++) {
            data[k] = (unsigned char) (k * 151 + len * 7 + 3);
        }

        n = (long) collab_base64_encode(data, len, enc);

        if ((size_t) n != (len + 2) / 3 * 4) {
            ok = 0;
            break;
        }

        n = collab_base64_decode(enc, (size_t) n, dec);

        if (n != (long) len || memcmp(data, dec, len) != 0) {
            ok = 0;
            break;
        }
    }

    tap(ok, NULL, "base64: round trips of 0 to %zu bytes", sizeof(data));

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        n = collab_base64_decode(invalid[i], strlen(invalid[i]), dec);
        tap(n == -1, NULL, "base64: refuses \"%.*s\"",
            (int) strcspn(invalid[i], "\n"), invalid[i]);
    }

    n = collab_base64_decode("Zm\0v", 4, dec);
    tap(n == -1, NULL, "base64: refuses a NUL byte");
}


static void
test_secret(void)
{
    int            rc1, rc2;
    long           n;
    char           a[COLLAB_SECRET_LEN + 1], b[COLLAB_SECRET_LEN + 1];
    char           out[COLLAB_SIG_V1_LEN + 1];
    unsigned char  key[64];

    memset(a, 'x', sizeof(a));
    memset(b, 'x', sizeof(b));

    rc1 = collab_secret_new(a);
    rc2 = collab_secret_new(b);

    tap(rc1 == 0 && rc2 == 0, NULL, "secret: returns 0");
    tap(strncmp(a, "whsec_", 6) == 0, NULL, "secret: whsec_ prefix");
    tap(a[COLLAB_SECRET_LEN] == '\0' && strlen(a) == COLLAB_SECRET_LEN, NULL,
        "secret: %d characters", COLLAB_SECRET_LEN);

    n = collab_base64_decode(a + 6, COLLAB_SECRET_LEN - 6, key);
    tap(n == 24, NULL, "secret: decodes to 24 bytes");

    tap(strcmp(a, b) != 0, NULL, "secret: two secrets differ");

    rc1 = collab_sign_v1(a, strlen(a), "msg_1", 5, 1,
                         (const unsigned char *) "{}", 2, out);
    tap(rc1 == 0 && strlen(out) == COLLAB_SIG_V1_LEN, NULL,
        "secret: signs with v1");
}


static void
test_url(void)
{
    int            rc;
    char           name[96], want[96], got[512], *big, *p;
    size_t         i;
    const char    *err;
    collab_url_t   u;

    static const struct {
        const char  *url;
        const char  *host;
        unsigned     port;
        const char  *path;
        unsigned     https;
        unsigned     literal;
    } good[] = {
        { "http://example.com", "example.com", 80, "/", 0, 0 },
        { "https://example.com/hook", "example.com", 443, "/hook", 1, 0 },
        { "HTTPS://Example.COM/Path?Q=1",
          "example.com", 443, "/Path?Q=1", 1, 0 },
        { "HtTp://EXAMPLE.com", "example.com", 80, "/", 0, 0 },
        { "http://example.com:8080/a/b?x=1&y=2",
          "example.com", 8080, "/a/b?x=1&y=2", 0, 0 },
        { "https://example.com:443/", "example.com", 443, "/", 1, 0 },
        { "https://example.com:80/", "example.com", 80, "/", 1, 0 },
        { "http://example.com:1/", "example.com", 1, "/", 0, 0 },
        { "http://example.com:65535/", "example.com", 65535, "/", 0, 0 },
        { "http://example.com:00080/", "example.com", 80, "/", 0, 0 },
        { "http://example.com/?", "example.com", 80, "/?", 0, 0 },
        { "http://example.com/a%20b/@x:y",
          "example.com", 80, "/a%20b/@x:y", 0, 0 },
        { "http://example.com./x", "example.com", 80, "/x", 0, 0 },
        { "http://sub-1.xn--bcher-kva.co.uk/",
          "sub-1.xn--bcher-kva.co.uk", 80, "/", 0, 0 },
        { "http://123.example.com/", "123.example.com", 80, "/", 0, 0 },
        { "http://localhost:3000/", "localhost", 3000, "/", 0, 0 },
        { "http://127.0.0.1:9000/x", "127.0.0.1", 9000, "/x", 0, 1 },
        { "http://127.0.0.1./", "127.0.0.1", 80, "/", 0, 1 },
        { "https://8.8.8.8", "8.8.8.8", 443, "/", 1, 1 },
        { "http://[::1]/", "::1", 80, "/", 0, 1 },
        { "https://[2001:DB8::1]:8443/x?y",
          "2001:db8::1", 8443, "/x?y", 1, 1 },
        { "http://[::ffff:127.0.0.1]", "::ffff:127.0.0.1", 80, "/", 0, 1 },
    };

    static const struct {
        const char  *url;
        const char  *err;
    } bad[] = {
        { "", "must be an absolute http or https URL" },
        { "example.com/hook", "must be an absolute http or https URL" },
        { "//example.com/", "must be an absolute http or https URL" },
        { "ftp://example.com/", "must be an absolute http or https URL" },
        { "httpx://example.com/", "must be an absolute http or https URL" },
        { "http:/example.com/", "must be an absolute http or https URL" },
        { "http:example.com", "must be an absolute http or https URL" },
        { "javascript:alert(1)", "must be an absolute http or https URL" },
        { "http://exa mple.com/", "must not contain spaces" },
        { "http://example.com/ ", "must not contain spaces" },
        { "http://example.com/\n", "must not contain control characters" },
        { "http://example.com/\r\nHost: x",
          "must not contain control characters" },
        { "http://example.com/\t", "must not contain control characters" },
        { "http://example.com/\x7f", "must not contain control characters" },
        { "http://ex\xc3\xa4mple.com/",
          "must not contain non-ASCII characters" },
        { "http://example.com/#frag", "must not contain a fragment" },
        { "http://example.com#", "must not contain a fragment" },
        { "http://user:pass@example.com/", "must not contain credentials" },
        { "http://user@example.com/", "must not contain credentials" },
        { "http://@example.com/", "must not contain credentials" },
        { "http://example.com@evil.com/", "must not contain credentials" },
        { "http:///path", "must have a host" },
        { "http://", "must have a host" },
        { "http://:80/", "must have a host" },
        { "http://./", "must have a host" },
        { "http://example.com:/", "must have a port between 1 and 65535" },
        { "http://example.com:0/", "must have a port between 1 and 65535" },
        { "http://example.com:65536/",
          "must have a port between 1 and 65535" },
        { "http://example.com:99999/",
          "must have a port between 1 and 65535" },
        { "http://example.com:000080/",
          "must have a port between 1 and 65535" },
        { "http://example.com:+80/", "must have a port between 1 and 65535" },
        { "http://example.com:-1/", "must have a port between 1 and 65535" },
        { "http://example.com:8a/", "must have a port between 1 and 65535" },
        { "http://example.com:80:80/",
          "must have a port between 1 and 65535" },
        { "http://example..com/", "must have a valid host name" },
        { "http://.example.com/", "must have a valid host name" },
        { "http://example.com../", "must have a valid host name" },
        { "http://-example.com/", "must have a valid host name" },
        { "http://example-.com/", "must have a valid host name" },
        { "http://exa_mple.com/", "must have a valid host name" },
        { "http://exa%6dple.com/", "must have a valid host name" },
        { "http://evil.com\\@good.com/", "must not contain credentials" },
        { "http://evil.com\\.good.com/", "must have a valid host name" },
        { "http://example.com]/", "must have a valid host name" },
        { "http://127.1/",
          "must not be a numeric host in a non-standard form" },
        { "http://0x7f.0.0.1/",
          "must not be a numeric host in a non-standard form" },
        { "http://2130706433/",
          "must not be a numeric host in a non-standard form" },
        { "http://010.0.0.1/",
          "must not be a numeric host in a non-standard form" },
        { "http://127.0.0.01/",
          "must not be a numeric host in a non-standard form" },
        { "http://0x7F000001/",
          "must not be a numeric host in a non-standard form" },
        { "http://1.2.3.4.5/",
          "must not be a numeric host in a non-standard form" },
        { "http://256.0.0.1/",
          "must not be a numeric host in a non-standard form" },
        { "http://1000.0.0.1/",
          "must not be a numeric host in a non-standard form" },
        { "http://foo.0x10/",
          "must not be a numeric host in a non-standard form" },
        { "http://example.123/",
          "must not be a numeric host in a non-standard form" },
        { "http://[::1/", "must have a valid IPv6 address" },
        { "http://[]/", "must have a valid IPv6 address" },
        { "http://[::g]/", "must have a valid IPv6 address" },
        { "http://[127.0.0.1]/", "must have a valid IPv6 address" },
        { "http://[::1]x/", "must have a valid IPv6 address" },
        { "http://[1:2:3:4:5:6:7:8:9]/", "must have a valid IPv6 address" },
        { "http://[fe80::1%25eth0]/", "must not contain an IPv6 zone id" },
        { "http://[fe80::1%eth0]/", "must not contain an IPv6 zone id" },
        { "http://[::1]:0/", "must have a port between 1 and 65535" },
        { "http://example.com?x=1", "must have a path before the query" },
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        err = "(unset)";
        rc = collab_url_parse(good[i].url, strlen(good[i].url), &u, &err);

        if (rc != 0) {
            is_str(err, "(accepted)", "url: %s", good[i].url);
            continue;
        }

        snprintf(want, sizeof(want), "%s %u %s %u %u", good[i].host,
                 good[i].port, good[i].path, good[i].https, good[i].literal);
        snprintf(got, sizeof(got), "%.*s %u %.*s %u %u", (int) u.host_len,
                 u.host, u.port, (int) u.path_len, u.path, u.https,
                 u.literal);

        is_str(strlen(u.host) == u.host_len ? got : "(bad host_len)", want,
               "url: %s -> %s", good[i].url, want);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(name, sizeof(name), "url: %.60s", bad[i].url);

        for (p = name; *p; p++) {
            if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f) {
                *p = '?';
            }
        }

        err = "(unset)";
        rc = collab_url_parse(bad[i].url, strlen(bad[i].url), &u, &err);
        is_str(rc == -1 ? err : "(accepted)", bad[i].err, "%s", name);
    }

    err = NULL;
    rc = collab_url_parse("http://example.com/\0x", 21, &u, &err);
    is_str(rc == -1 ? err : "(accepted)",
           "must not contain control characters", "url: a NUL byte");

    big = malloc(COLLAB_URL_MAX + 2);
    if (big == NULL) {
        abort();
    }

    memcpy(big, "https://example.com/", 20);
    memset(big + 20, 'a', COLLAB_URL_MAX + 1 - 20);
    big[COLLAB_URL_MAX + 1] = '\0';

    rc = collab_url_parse(big, COLLAB_URL_MAX, &u, &err);
    tap(rc == 0 && u.path_len == COLLAB_URL_MAX - 19, NULL,
        "url: %d bytes", COLLAB_URL_MAX);

    err = NULL;
    rc = collab_url_parse(big, COLLAB_URL_MAX + 1, &u, &err);
    is_str(rc == -1 ? err : "(accepted)", "must be at most 2048 bytes",
           "url: %d bytes", COLLAB_URL_MAX + 1);

    /* labels of 63 and 64 characters, names of 253 and 254 */

    memcpy(big, "http://", 7);
    memset(big + 7, 'a', 63);
    strcpy(big + 70, ".com/");
    rc = collab_url_parse(big, strlen(big), &u, &err);
    tap(rc == 0 && u.host_len == 67, NULL, "url: a 63-character label");

    memset(big + 7, 'a', 64);
    strcpy(big + 71, ".com/");
    err = NULL;
    rc = collab_url_parse(big, strlen(big), &u, &err);
    is_str(rc == -1 ? err : "(accepted)", "must have a valid host name",
           "url: a 64-character label");

    for (i = 0; i < 4; i++) {
        memset(big + 7 + i * 64, 'a', 63);
        big[7 + i * 64 + 63] = '.';
    }

    big[7 + 253] = '\0';
    big[7 + 252] = 'b';
    rc = collab_url_parse(big, strlen(big), &u, &err);
    tap(rc == 0 && u.host_len == 253, NULL, "url: a 253-character name");

    big[7 + 253] = '.';
    big[7 + 254] = '\0';
    rc = collab_url_parse(big, strlen(big), &u, &err);
    tap(rc == 0 && u.host_len == 253, NULL,
        "url: a 253-character name and a trailing dot");

    big[7 + 253] = 'c';
    err = NULL;
    rc = collab_url_parse(big, strlen(big), &u, &err);
    is_str(rc == -1 ? err : "(accepted)", "must have a valid host name",
           "url: a 254-character name");

    free(big);
}


static void
test_addr(void)
{
    size_t                i;
    const char           *rule;
    struct sockaddr_un    sun;
    struct sockaddr_in    sin;
    struct sockaddr_in6   sin6;

    static const struct {
        const char  *addr;
        const char  *rule;
    } t[] = {
        { "0.0.0.0", "unspecified" },
        { "0.0.0.1", "reserved" },
        { "0.255.255.255", "reserved" },
        { "1.0.0.0", NULL },
        { "1.1.1.1", NULL },
        { "8.8.8.8", NULL },
        { "9.255.255.255", NULL },
        { "10.0.0.0", "private" },
        { "10.255.255.255", "private" },
        { "11.0.0.0", NULL },
        { "100.63.255.255", NULL },
        { "100.64.0.0", "shared address space" },
        { "100.127.255.255", "shared address space" },
        { "100.128.0.0", NULL },
        { "126.255.255.255", NULL },
        { "127.0.0.0", "loopback" },
        { "127.0.0.1", "loopback" },
        { "127.255.255.255", "loopback" },
        { "128.0.0.0", NULL },
        { "169.253.255.255", NULL },
        { "169.254.0.0", "link-local" },
        { "169.254.169.254", "link-local" },
        { "169.254.255.255", "link-local" },
        { "169.255.0.0", NULL },
        { "172.15.255.255", NULL },
        { "172.16.0.0", "private" },
        { "172.31.255.255", "private" },
        { "172.32.0.0", NULL },
        { "191.255.255.255", NULL },
        { "192.0.0.0", "reserved" },
        { "192.0.0.255", "reserved" },
        { "192.0.1.0", NULL },
        { "192.0.1.255", NULL },
        { "192.0.2.0", "reserved" },
        { "192.0.2.255", "reserved" },
        { "192.0.3.0", NULL },
        { "192.167.255.255", NULL },
        { "192.168.0.0", "private" },
        { "192.168.255.255", "private" },
        { "192.169.0.0", NULL },
        { "198.17.255.255", NULL },
        { "198.18.0.0", "reserved" },
        { "198.19.255.255", "reserved" },
        { "198.20.0.0", NULL },
        { "198.51.99.255", NULL },
        { "198.51.100.0", "reserved" },
        { "198.51.100.255", "reserved" },
        { "198.51.101.0", NULL },
        { "203.0.112.255", NULL },
        { "203.0.113.0", "reserved" },
        { "203.0.113.255", "reserved" },
        { "203.0.114.0", NULL },
        { "223.255.255.255", NULL },
        { "224.0.0.0", "multicast" },
        { "239.255.255.255", "multicast" },
        { "240.0.0.0", "reserved" },
        { "255.255.255.254", "reserved" },
        { "255.255.255.255", "broadcast" },

        { "::", "unspecified" },
        { "::1", "loopback" },
        { "::2", "reserved" },
        { "::127.0.0.1", "loopback" },
        { "::10.0.0.1", "private" },
        { "::8.8.8.8", NULL },
        { "::ffff:0:0", "unspecified" },
        { "::ffff:127.0.0.1", "loopback" },
        { "::ffff:7f00:1", "loopback" },
        { "::ffff:8.8.8.8", NULL },
        { "::ffff:169.254.169.254", "link-local" },
        { "::ffff:100.64.0.1", "shared address space" },
        { "::ffff:172.16.0.1", "private" },
        { "::ffff:224.0.0.1", "multicast" },
        { "::ffff:255.255.255.255", "broadcast" },
        { "::fffe:7f00:1", NULL },
        { "::1:0:0:0:1", NULL },
        { "64:ff9b::10.0.0.1", "private" },
        { "64:ff9b::127.0.0.1", "loopback" },
        { "64:ff9b::8.8.8.8", NULL },
        { "64:ff9b:1::1", "private" },
        { "64:ff9a:ffff:ffff:ffff:ffff:7f00:1", NULL },
        { "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
        { "fe80::", "link-local" },
        { "fe80::1", "link-local" },
        { "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local" },
        { "fec0::", "private" },
        { "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private" },
        { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
        { "fc00::", "unique local" },
        { "fd12:3456::1", "unique local" },
        { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique local" },
        { "fe00::", NULL },
        { "ff00::", "multicast" },
        { "ff02::1", "multicast" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast" },
        { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
        { "2001:db8::", "reserved" },
        { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "reserved" },
        { "2001:db9::", NULL },
        { "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
        { "100::", "reserved" },
        { "100::ffff:ffff:ffff:ffff", "reserved" },
        { "100:0:0:1::", NULL },
        { "2001:4860::8888", NULL },
        { "2001:4860:4860::8888", NULL },
        { "2606:4700:4700::1111", NULL },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strchr(t[i].addr, ':')) {
            memset(&sin6, 0, sizeof(sin6));
            sin6.sin6_family = AF_INET6;

            if (inet_pton(AF_INET6, t[i].addr, &sin6.sin6_addr) != 1) {
                abort();
            }

            rule = collab_addr_forbidden((struct sockaddr *) &sin6);

        } else {
            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;

            if (inet_pton(AF_INET, t[i].addr, &sin.sin_addr) != 1) {
                abort();
            }

            rule = collab_addr_forbidden((struct sockaddr *) &sin);
        }

        is_str(rule, t[i].rule, "addr: %s %s", t[i].addr,
               t[i].rule ? t[i].rule : "allowed");
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    tap(collab_addr_forbidden((struct sockaddr *) &sun) != NULL, NULL,
        "addr: not an Internet address");
}


static void
test_host(void)
{
    size_t         i;
    const char    *err;
    collab_url_t   u;

    static const struct {
        const char  *url;
        const char  *rule;
    } t[] = {
        { "http://localhost/", "loopback" },
        { "http://LOCALHOST./", "loopback" },
        { "http://api.localhost:8080/", "loopback" },
        { "http://a.b.Localhost/", "loopback" },
        { "http://localhost.example.com/", NULL },
        { "http://notlocalhost/", NULL },
        { "http://localhostx/", NULL },
        { "http://example.com/", NULL },
        { "http://127.0.0.1/", "loopback" },
        { "http://127.0.0.1./", "loopback" },
        { "http://0.0.0.0/", "unspecified" },
        { "http://10.1.2.3:8080/", "private" },
        { "http://169.254.169.254/latest/meta-data/", "link-local" },
        { "http://8.8.8.8/", NULL },
        { "http://[::1]/", "loopback" },
        { "http://[::]/", "unspecified" },
        { "http://[::FFFF:7F00:1]/", "loopback" },
        { "http://[::ffff:192.168.1.1]/", "private" },
        { "http://[64:ff9b::a00:1]/", "private" },
        { "http://[fc00::1]/", "unique local" },
        { "http://[2001:4860::8888]/", NULL },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (collab_url_parse(t[i].url, strlen(t[i].url), &u, &err) != 0) {
            is_str(err, "(accepted)", "host: %s", t[i].url);
            continue;
        }

        is_str(collab_host_forbidden(&u), t[i].rule, "host: %s %s", t[i].url,
               t[i].rule ? t[i].rule : "allowed");
    }
}


/* a signer made once gives the same signatures, again and again */
static void
test_signers(void)
{
    int               i, rc;
    char              out[COLLAB_SIG_V1_LEN + 1], hex[COLLAB_SIG_HEX_LEN + 1];
    collab_signer_t  *h, *v, *bad;

    static const char  *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static const char  *id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    static const char  *body = "{\"test\": 2432232314}";

    h = collab_signer_hex(secret, strlen(secret));
    v = collab_signer_v1(secret, strlen(secret));
    tap(h != NULL && v != NULL, NULL, "signer: made");

    if (h == NULL || v == NULL) {
        return;
    }

    for (i = 0; i < 3; i++) {
        rc = collab_signer_sign_v1(v, id, strlen(id), 1614265330,
                                   (const unsigned char *) body,
                                   strlen(body), out);
        is_str(rc == 0 ? out : NULL,
               "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
               "signer: v1 test vector, use %d", i + 1);

        rc = collab_signer_sign_hex(h, (const unsigned char *) body,
                                    strlen(body), hex);
        is_str(rc == 0 ? hex : NULL,
               "80ec8a89ce3cd22133a1066caecb4d04"
               "fea7467657c8514d717ec42c38a5c94c",
               "signer: hex keyed with the secret string, use %d", i + 1);

        /* a one-off key in between does not disturb the signers */
        collab_sign_hex("", 0, (const unsigned char *) "", 0, hex);
        is_str(hex,
               "b613679a0814d9ec772f95d778c35fc5"
               "ff1697c493715653c6c712144292c5ad",
               "signer: one-off empty key between, use %d", i + 1);
    }

    bad = collab_signer_v1("whsec_MfKQ9r8G!YqrTwjUPD8ILPZIo2LaLaSw", 38);
    tap(bad == NULL, NULL, "signer: refuses a secret that is not base64");

    collab_signer_free(h);
    collab_signer_free(v);
}


int
main(void)
{
    test_signatures();
    test_signers();
    test_base64();
    test_secret();
    test_url();
    test_addr();
    test_host();

    return tap_done();
}
