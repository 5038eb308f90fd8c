/*
 * Copyright (C) collab
 *
 * Endpoint URLs and the address rules that keep webhooks and workflow
 * fetches away from private networks.  Plain C (libc only): shared by the
 * module and the workflow runner, and unit-tested alone.
 */

#ifndef _NGX_COLLAB_URL_H_INCLUDED_
#define _NGX_COLLAB_URL_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define COLLAB_URL_MAX         2048


typedef struct {
    unsigned     https:1;
    char         host[256];    /* without brackets for IPv6 literals */
    size_t       host_len;
    uint16_t     port;         /* explicit or 80/443 */
    const char  *path;         /* points into the URL: "/..." incl. query */
    size_t       path_len;     /* "/" when the URL has no path */
    unsigned     literal:1;    /* host is an IPv4 or IPv6 address */
} collab_url_t;

/*
 * Parses an absolute http(s) URL of at most COLLAB_URL_MAX bytes: refuses
 * other schemes, userinfo ("user:pass@"), fragments, control characters,
 * spaces, empty hosts and bad ports.  Returns 0, or -1 with *err set to a
 * short English reason ("must be an absolute http or https URL", ...).
 */
int collab_url_parse(const char *url, size_t len, collab_url_t *u,
    const char **err);

/*
 * The address rules: NULL when the address may be used, else the name of
 * the rule it breaks: "loopback", "private", "shared address space"
 * (100.64/10), "link-local", "unique local" (fc00::/7), "multicast",
 * "unspecified", "broadcast", "reserved" (0/8, 240/4), and the same for the
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::/96)
 * forms of IPv4 addresses.
 */
const char *collab_addr_forbidden(const struct sockaddr *sa);

/* the same for a literal host of a parsed URL */
const char *collab_host_forbidden(const collab_url_t *u);

#endif /* _NGX_COLLAB_URL_H_INCLUDED_ */
