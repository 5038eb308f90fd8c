/*
 * Copyright (C) collab
 *
 * Endpoint URLs and the address rules (see ngx_collab_url.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "ngx_collab_url.h"


#define COLLAB_HOST_NAME_MAX      253
#define COLLAB_HOST_LABEL_MAX     63


static int collab_url_scheme(const char *p, const char *end, unsigned *https,
    const char **rest);
static int collab_url_ipv6(const char *p, size_t len, collab_url_t *u,
    const char **err);
static int collab_url_name(const char *p, size_t len, collab_url_t *u,
    const char **err);
static int collab_url_numeric(const char *label, size_t len);
static int collab_url_ipv4(const char *p, size_t len);
static int collab_url_port(const char *p, size_t len, uint16_t *port);
static const char *collab_ipv4_forbidden(uint32_t a);
static const char *collab_ipv6_forbidden(const unsigned char *a);


int
collab_url_parse(const char *url, size_t len, collab_url_t *u,
    const char **err)
{
    size_t          i;
    unsigned        https;
    unsigned char   c;
    const char     *p, *end, *auth, *auth_end, *host_end, *colon;

    memset(u, 0, sizeof(collab_url_t));

    if (len > COLLAB_URL_MAX) {
        *err = "must be at most 2048 bytes";
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) url[i];

        if (c == ' ') {
            *err = "must not contain spaces";
            return -1;
        }

        if (c < 0x20 || c == 0x7f) {
            *err = "must not contain control characters";
            return -1;
        }

        if (c >= 0x80) {
            *err = "must not contain non-ASCII characters";
            return -1;
        }
    }

    end = url + len;

    if (collab_url_scheme(url, end, &https, &auth) != 0) {
        *err = "must be an absolute http or https URL";
        return -1;
    }

    if (memchr(url, '#', len) != NULL) {
        *err = "must not contain a fragment";
        return -1;
    }

    for (auth_end = auth;
         auth_end < end && *auth_end != '/' && *auth_end != '?';
         auth_end++)
    {
        if (*auth_end == '@') {
            *err = "must not contain credentials";
            return -1;
        }
    }

    if (auth_end < end && *auth_end == '?') {
        *err = "must have a path before the query";
        return -1;
    }

    u->https = https;

    if (auth < auth_end && *auth == '[') {
        p = memchr(auth, ']', (size_t) (auth_end - auth));
        if (p == NULL) {
            *err = "must have a valid IPv6 address";
            return -1;
        }

        if (collab_url_ipv6(auth + 1, (size_t) (p - auth - 1), u, err) != 0) {
            return -1;
        }

        host_end = p + 1;

        if (host_end < auth_end && *host_end != ':') {
            *err = "must have a valid IPv6 address";
            return -1;
        }

    } else {
        colon = memchr(auth, ':', (size_t) (auth_end - auth));
        host_end = colon ? colon : auth_end;

        if (collab_url_name(auth, (size_t) (host_end - auth), u, err) != 0) {
            return -1;
        }
    }

    if (host_end < auth_end) {
        if (collab_url_port(host_end + 1, (size_t) (auth_end - host_end - 1),
                            &u->port)
            != 0)
        {
            *err = "must have a port between 1 and 65535";
            return -1;
        }

    } else {
        u->port = https ? 443 : 80;
    }

    if (auth_end < end) {
        u->path = auth_end;
        u->path_len = (size_t) (end - auth_end);

    } else {
        u->path = "/";
        u->path_len = 1;
    }

    return 0;
}


static int
collab_url_scheme(const char *p, const char *end, unsigned *https,
    const char **rest)
{
    size_t  n, i;

    n = (size_t) (end - p);

    if (n < 7) {
        return -1;
    }

    for (i = 0; i < 4; i++) {
        if ((p[i] | 0x20) != "http"[i]) {
            return -1;
        }
    }

    *https = (p[4] | 0x20) == 's';
    p += 4 + *https;
    n -= 4 + *https;

    if (n < 3 || memcmp(p, "://", 3) != 0) {
        return -1;
    }

    *rest = p + 3;

    return 0;
}


static int
collab_url_ipv6(const char *p, size_t len, collab_url_t *u, const char **err)
{
    size_t         i;
    char           buf[INET6_ADDRSTRLEN];
    unsigned char  a[16];

    if (memchr(p, '%', len) != NULL) {
        *err = "must not contain an IPv6 zone id";
        return -1;
    }

    if (len == 0 || len >= sizeof(buf)) {
        *err = "must have a valid IPv6 address";
        return -1;
    }

    for (i = 0; i < len; i++) {
        buf[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char) (p[i] | 0x20) : p[i];
    }

    buf[len] = '\0';

    if (inet_pton(AF_INET6, buf, a) != 1) {
        *err = "must have a valid IPv6 address";
        return -1;
    }

    memcpy(u->host, buf, len + 1);
    u->host_len = len;
    u->literal = 1;

    return 0;
}


/*
 * A host name: dot-separated labels of letters, digits and "-", one
 * trailing dot dropped.  As in the WHATWG URL standard, a name whose last
 * label is a number is an IPv4 address, and only the dotted-quad decimal
 * form is taken: others ("127.1", "0x7f.1", "2130706433", "010.0.0.1")
 * mean different addresses to different resolvers.
 */

static int
collab_url_name(const char *p, size_t len, collab_url_t *u, const char **err)
{
    char    c;
    size_t  i, label, last;

    if (len && p[len - 1] == '.') {
        len--;
    }

    if (len == 0) {
        *err = "must have a host";
        return -1;
    }

    if (len > COLLAB_HOST_NAME_MAX) {
        *err = "must have a valid host name";
        return -1;
    }

    label = 0;
    last = 0;

    for (i = 0; i <= len; i++) {
        c = i < len ? p[i] : '.';

        if (c == '.') {
            if (label == 0 || label > COLLAB_HOST_LABEL_MAX
                || p[i - 1] == '-' || p[i - label] == '-')
            {
                *err = "must have a valid host name";
                return -1;
            }

            last = i - label;
            label = 0;

        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                   || c == '-')
        {
            label++;

        } else if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
            label++;

        } else {
            *err = "must have a valid host name";
            return -1;
        }

        u->host[i] = i < len ? c : '\0';
    }

    u->host_len = len;

    if (collab_url_numeric(u->host + last, len - last)) {
        if (collab_url_ipv4(u->host, len) != 0) {
            *err = "must not be a numeric host in a non-standard form";
            return -1;
        }

        u->literal = 1;
    }

    return 0;
}


static int
collab_url_numeric(const char *label, size_t len)
{
    size_t  i;

    if (len >= 2 && label[0] == '0' && label[1] == 'x') {
        for (i = 2; i < len; i++) {
            if (!((label[i] >= '0' && label[i] <= '9')
                  || (label[i] >= 'a' && label[i] <= 'f')))
            {
                return 0;
            }
        }

        return 1;
    }

    for (i = 0; i < len; i++) {
        if (label[i] < '0' || label[i] > '9') {
            return 0;
        }
    }

    return 1;
}


static int
collab_url_ipv4(const char *p, size_t len)
{
    char      c;
    size_t    i, parts, digits;
    unsigned  v;

    parts = 0;
    digits = 0;
    v = 0;

    for (i = 0; i <= len; i++) {
        c = i < len ? p[i] : '.';

        if (c == '.') {
            if (digits == 0 || v > 255 || ++parts > 4) {
                return -1;
            }

            digits = 0;
            v = 0;
            continue;
        }

        if (c < '0' || c > '9' || digits == 3 || (digits == 1 && v == 0)) {
            return -1;
        }

        v = v * 10 + (unsigned) (c - '0');
        digits++;
    }

    return parts == 4 ? 0 : -1;
}


static int
collab_url_port(const char *p, size_t len, uint16_t *port)
{
    size_t    i;
    unsigned  v;

    if (len == 0 || len > 5) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (unsigned) (p[i] - '0');
    }

    if (v == 0 || v > 65535) {
        return -1;
    }

    *port = (uint16_t) v;

    return 0;
}


const char *
collab_addr_forbidden(const struct sockaddr *sa)
{
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    if (sa == NULL) {
        return "reserved";
    }

    switch (sa->sa_family) {

    case AF_INET:
        sin = (const struct sockaddr_in *) sa;
        return collab_ipv4_forbidden(ntohl(sin->sin_addr.s_addr));

    case AF_INET6:
        sin6 = (const struct sockaddr_in6 *) sa;
        return collab_ipv6_forbidden(sin6->sin6_addr.s6_addr);

    default:
        /* not an Internet address at all */
        return "reserved";
    }
}


const char *
collab_host_forbidden(const collab_url_t *u)
{
    size_t               len;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    if (u->literal) {
        if (memchr(u->host, ':', u->host_len) != NULL) {
            memset(&sin6, 0, sizeof(sin6));
            sin6.sin6_family = AF_INET6;

            if (inet_pton(AF_INET6, u->host, &sin6.sin6_addr) != 1) {
                return "reserved";
            }

            return collab_addr_forbidden((struct sockaddr *) &sin6);
        }

        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;

        if (inet_pton(AF_INET, u->host, &sin.sin_addr) != 1) {
            return "reserved";
        }

        return collab_addr_forbidden((struct sockaddr *) &sin);
    }

    /* RFC 6761: "localhost" and its subdomains are the loopback */

    len = u->host_len;

    if (len && u->host[len - 1] == '.') {
        len--;
    }

    if ((len == 9 && strncasecmp(u->host, "localhost", 9) == 0)
        || (len > 10
            && strncasecmp(u->host + len - 10, ".localhost", 10) == 0))
    {
        return "loopback";
    }

    return NULL;
}


/*
 * 0.0.0.0 is "unspecified" (connecting to it reaches the local host on
 * most systems); the rest of 0/8 is "reserved".
 */

static const char *
collab_ipv4_forbidden(uint32_t a)
{
    static const struct {
        uint32_t     net;
        uint32_t     mask;
        const char  *rule;
    } rules[] = {
        { 0xffffffff, 0xffffffff, "broadcast" },
        { 0x00000000, 0xffffffff, "unspecified" },
        { 0x00000000, 0xff000000, "reserved" },
        { 0x7f000000, 0xff000000, "loopback" },
        { 0x0a000000, 0xff000000, "private" },
        { 0xac100000, 0xfff00000, "private" },
        { 0xc0a80000, 0xffff0000, "private" },
        { 0x64400000, 0xffc00000, "shared address space" },
        { 0xa9fe0000, 0xffff0000, "link-local" },
        { 0xc0000000, 0xffffff00, "reserved" },     /* IETF protocols */
        { 0xc0000200, 0xffffff00, "reserved" },     /* TEST-NET-1 */
        { 0xc6336400, 0xffffff00, "reserved" },     /* TEST-NET-2 */
        { 0xcb007100, 0xffffff00, "reserved" },     /* TEST-NET-3 */
        { 0xc6120000, 0xfffe0000, "reserved" },     /* benchmarking */
        { 0xe0000000, 0xf0000000, "multicast" },
        { 0xf0000000, 0xf0000000, "reserved" },
    };

    size_t  i;

    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if ((a & rules[i].mask) == rules[i].net) {
            return rules[i].rule;
        }
    }

    return NULL;
}


static const char *
collab_ipv6_forbidden(const unsigned char *a)
{
    size_t  i;

    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };

    static const unsigned char  nat64[12] = {
        0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
    };

    static const unsigned char  zero[12];

    if (memcmp(a, zero, 12) == 0) {
        for (i = 12; i < 15 && a[i] == 0; i++) { /* void */ }

        if (i == 15 && a[15] <= 1) {
            return a[15] ? "loopback" : "unspecified";
        }

        /* IPv4-compatible ::a.b.c.d */
        goto ipv4;
    }

    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0) {
        goto ipv4;
    }

    /* 64:ff9b:1::/48, local-use NAT64 (RFC 8215) */
    if (memcmp(a, nat64, 4) == 0 && a[4] == 0 && a[5] == 1) {
        return "private";
    }

    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
        return "link-local";
    }

    /* fec0::/10, the deprecated site-local addresses */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
        return "private";
    }

    if ((a[0] & 0xfe) == 0xfc) {
        return "unique local";
    }

    if (a[0] == 0xff) {
        return "multicast";
    }

    /* 2001:db8::/32, documentation */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
        return "reserved";
    }

    /* 100::/64, discard only */
    if (a[0] == 0x01 && memcmp(a + 1, zero, 7) == 0) {
        return "reserved";
    }

    return NULL;

ipv4:

    return collab_ipv4_forbidden((uint32_t) a[12] << 24
                                 | (uint32_t) a[13] << 16
                                 | (uint32_t) a[14] << 8 | a[15]);
}
