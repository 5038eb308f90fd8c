/*
 * Copyright (C) collab
 *
 * fetch(): libcurl's multi interface on the runner's event loop, names
 * resolved by c-ares through the --resolver servers (or those of
 * /etc/resolv.conf, read at start), and the address rules of webhook URLs
 * (core/ngx_collab_url.h) applied to every address after resolution, to
 * every redirect (followed here, at most 5, each one resolved and checked
 * anew) and to the very address of each connect (the open-socket hook).
 * libcurl never resolves a name itself: each transfer is handed the
 * checked addresses (CURLOPT_RESOLVE), so neither its resolver thread nor
 * a second lookup that could answer differently is ever used.  TLS peers
 * are verified against a certificate store loaded once at start.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ares.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ngx_collab_fetch.h"
#include "ngx_collab_url.h"


#define COLLAB_FETCH_REDIRECTS     5
#define COLLAB_FETCH_HEADERS_MAX   (256 * 1024)
#define COLLAB_FETCH_ADDRS         16
#define COLLAB_FETCH_USER_AGENT    "collab-workflows/" COLLAB_RUNNER_VERSION
#define COLLAB_CA_BUNDLE           "/etc/ssl/certs/ca-certificates.crt"


typedef struct collab_resolve_s  collab_resolve_t;
typedef struct collab_sock_s     collab_sock_t;


struct collab_fetch_s {
    collab_fetch_t      *next;          /* of the execution */
    collab_exec_t       *exec;
    JSValue              resolving_funcs[2];

    char                *first_url;
    char                *url;
    char                *method;
    struct curl_slist   *headers;
    uint8_t             *body;          /* in the engine's memory */
    size_t               body_len;

    collab_url_t         u;
    collab_resolve_t    *resolving;
    CURL                *easy;
    struct curl_slist   *addresses;
    collab_timer_t       timer;
    int64_t              started;
    int                  redirects;

    uint8_t             *data;          /* the answer, in engine memory */
    size_t               data_len;
    size_t               data_cap;
    char                *fields;        /* "name\0value\0" ... */
    size_t               fields_len;
    size_t               fields_cap;
    char                 status_text[64];

    char                 limit[COLLAB_LIMIT_MESSAGE];
    char                 error[CURL_ERROR_SIZE];
    char                 refused[128];
};


typedef struct {
    int                  family;
    unsigned char        addr[16];
    int                  bits;
} collab_cidr_t;


struct collab_resolve_s {
    collab_fetch_t      *fetch;         /* NULL: the fetch is gone */
};


struct collab_sock_s {
    collab_io_t          io;
    collab_sock_t       *next;          /* of the dead ones */
    unsigned             dns:1;
};


static struct {
    CURLM               *multi;
    ares_channel         channel;
    X509_STORE          *store;
    collab_timer_t       curl_timer;
    collab_timer_t       dns_timer;
    collab_sock_t       *dead;
    collab_sock_t       *dns_socks[64];
    collab_cidr_t        allowed[COLLAB_MAX_ALLOWED];
    int                  nallowed;
    unsigned             ares:1;
} collab_fetch;


static int collab_fetch_curl_socket(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp);
static int collab_fetch_curl_timer(CURLM *multi, long timeout_ms,
    void *userp);
static void collab_fetch_curl_timeout(collab_timer_t *t);
static void collab_fetch_curl_io(collab_io_t *io, uint32_t events);
static void collab_fetch_messages(void);
static void collab_fetch_dns_state(void *data, ares_socket_t fd,
    int readable, int writable);
static void collab_fetch_dns_io(collab_io_t *io, uint32_t events);
static void collab_fetch_dns_timeout(collab_timer_t *t);
static void collab_fetch_dns_schedule(void);
static void collab_fetch_resolved(void *arg, int status, int timeouts,
    struct ares_addrinfo *res);
static void collab_fetch_begin(collab_fetch_t *f);
static void collab_fetch_connect(collab_fetch_t *f);
static void collab_fetch_complete(collab_fetch_t *f, CURLcode rc);
static void collab_fetch_reject(collab_fetch_t *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void collab_fetch_answer(collab_fetch_t *f, long status);
static void collab_fetch_record(collab_fetch_t *f, long status,
    const char *error);
static void collab_fetch_release(collab_fetch_t *f);
static void collab_fetch_timeout(collab_timer_t *t);
static int collab_fetch_allowed_parse(const char *text, collab_cidr_t *c);
static const char *collab_fetch_rule(const struct sockaddr *sa);
static const char *collab_fetch_host_rule(const collab_url_t *u);


int
collab_fetch_init(void)
{
    int                  rc, i;
    char                 csv[COLLAB_MAX_RESOLVERS * 64];
    size_t               len;
    const char          *ca;
    struct ares_options  opts;

    for (i = 0; i < collab_runner.nallowed; i++) {
        if (collab_fetch_allowed_parse(collab_runner.allowed[i],
                                       &collab_fetch.allowed[i]) != 0)
        {
            collab_runner_error("bad --allow-address \"%s\"",
                                collab_runner.allowed[i]);
            return -1;
        }
    }

    collab_fetch.nallowed = collab_runner.nallowed;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        collab_runner_error("curl_global_init() failed");
        return -1;
    }

    collab_fetch.multi = curl_multi_init();
    if (collab_fetch.multi == NULL) {
        collab_runner_error("curl_multi_init() failed");
        return -1;
    }

    curl_multi_setopt(collab_fetch.multi, CURLMOPT_SOCKETFUNCTION,
                      collab_fetch_curl_socket);
    curl_multi_setopt(collab_fetch.multi, CURLMOPT_TIMERFUNCTION,
                      collab_fetch_curl_timer);

    collab_fetch.curl_timer.handler = collab_fetch_curl_timeout;
    collab_fetch.dns_timer.handler = collab_fetch_dns_timeout;

    /* the trusted certificates, read now: no file opens after start */
    ca = collab_runner.trusted_certificate ? collab_runner.trusted_certificate
                                           : COLLAB_CA_BUNDLE;

    collab_fetch.store = X509_STORE_new();
    if (collab_fetch.store == NULL) {
        collab_runner_error("X509_STORE_new() failed");
        return -1;
    }

    if (X509_STORE_load_file(collab_fetch.store, ca) != 1) {
        if (collab_runner.trusted_certificate) {
            collab_runner_error("cannot read the certificates of \"%s\"",
                                ca);
            return -1;
        }

        collab_runner_error("cannot read \"%s\": https fetches will fail "
                            "to verify their peers", ca);
    }

    /* OpenSSL reads its configuration once, now, too */
    {
        SSL_CTX  *warm = SSL_CTX_new(TLS_client_method());

        SSL_CTX_free(warm);
    }

    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        collab_runner_error("ares_library_init() failed: %s",
                            ares_strerror(rc));
        return -1;
    }

    memset(&opts, 0, sizeof(opts));
    opts.sock_state_cb = collab_fetch_dns_state;
    opts.sock_state_cb_data = NULL;
    opts.lookups = (char *) "b";
    opts.timeout = 2000;
    opts.tries = 2;

    rc = ares_init_options(&collab_fetch.channel, &opts,
                           ARES_OPT_SOCK_STATE_CB|ARES_OPT_LOOKUPS
                           |ARES_OPT_TIMEOUTMS|ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        collab_runner_error("ares_init_options() failed: %s",
                            ares_strerror(rc));
        return -1;
    }

    collab_fetch.ares = 1;

    if (collab_runner.nresolvers > 0) {
        len = 0;
        csv[0] = '\0';

        for (i = 0; i < collab_runner.nresolvers; i++) {
            len += snprintf(csv + len, sizeof(csv) - len, "%s%s",
                            i ? "," : "", collab_runner.resolvers[i]);

            if (len >= sizeof(csv)) {
                collab_runner_error("the --resolver addresses are too long");
                return -1;
            }
        }

        rc = ares_set_servers_ports_csv(collab_fetch.channel, csv);
        if (rc != ARES_SUCCESS) {
            collab_runner_error("bad --resolver \"%s\": %s", csv,
                                ares_strerror(rc));
            return -1;
        }
    }

    return 0;
}


void
collab_fetch_done(void)
{
    collab_timer_del(&collab_fetch.curl_timer);
    collab_timer_del(&collab_fetch.dns_timer);

    if (collab_fetch.ares) {
        ares_destroy(collab_fetch.channel);
        ares_library_cleanup();
        collab_fetch.ares = 0;
    }

    if (collab_fetch.multi) {
        curl_multi_cleanup(collab_fetch.multi);
        collab_fetch.multi = NULL;
    }

    collab_fetch_turn_end();

    if (collab_fetch.store) {
        X509_STORE_free(collab_fetch.store);
        collab_fetch.store = NULL;
    }

    curl_global_cleanup();
}


/* sockets leave the loop at once, their records at the end of the turn */
void
collab_fetch_turn_end(void)
{
    collab_sock_t  *s;

    while (collab_fetch.dead) {
        s = collab_fetch.dead;
        collab_fetch.dead = s->next;
        free(s);
    }
}


/* "192.0.2.10", "10.1.0.0/16", "fd00::/8" */
static int
collab_fetch_allowed_parse(const char *text, collab_cidr_t *c)
{
    char        *end, host[INET6_ADDRSTRLEN];
    long         bits;
    const char  *slash;
    size_t       len;

    slash = strchr(text, '/');
    len = slash ? (size_t) (slash - text) : strlen(text);

    if (len == 0 || len >= sizeof(host)) {
        return -1;
    }

    memcpy(host, text, len);
    host[len] = '\0';
    memset(c, 0, sizeof(collab_cidr_t));

    if (inet_pton(AF_INET, host, c->addr) == 1) {
        c->family = AF_INET;
        c->bits = 32;

    } else if (inet_pton(AF_INET6, host, c->addr) == 1) {
        c->family = AF_INET6;
        c->bits = 128;

    } else {
        return -1;
    }

    if (slash) {
        bits = strtol(slash + 1, &end, 10);

        if (*end != '\0' || end == slash + 1 || bits < 0 || bits > c->bits) {
            return -1;
        }

        c->bits = (int) bits;
    }

    return 0;
}


static int
collab_fetch_allowed(const struct sockaddr *sa)
{
    int                   i, full, rest;
    const unsigned char  *a;
    const collab_cidr_t  *c;

    for (i = 0; i < collab_fetch.nallowed; i++) {
        c = &collab_fetch.allowed[i];

        if (sa->sa_family != c->family) {
            continue;
        }

        a = c->family == AF_INET
            ? (const unsigned char *)
                  &((const struct sockaddr_in *) sa)->sin_addr
            : ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;

        full = c->bits / 8;
        rest = c->bits % 8;

        if (memcmp(a, c->addr, full) == 0
            && (rest == 0
                || ((a[full] ^ c->addr[full]) & (0xff << (8 - rest))) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The address rules of webhook URLs, less what --allow-private or
 * --allow-address lift: NULL, or the name of the rule the address breaks.
 */
static const char *
collab_fetch_rule(const struct sockaddr *sa)
{
    if (collab_runner.allow_private || collab_fetch_allowed(sa)) {
        return NULL;
    }

    return collab_addr_forbidden(sa);
}


/* the same for the host of a URL before any resolution */
static const char *
collab_fetch_host_rule(const collab_url_t *u)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    if (collab_runner.allow_private) {
        return NULL;
    }

    if (u->literal) {
        memset(&sin, 0, sizeof(sin));
        memset(&sin6, 0, sizeof(sin6));

        if (inet_pton(AF_INET, u->host, &sin.sin_addr) == 1) {
            sin.sin_family = AF_INET;
            return collab_fetch_rule((struct sockaddr *) &sin);
        }

        if (inet_pton(AF_INET6, u->host, &sin6.sin6_addr) == 1) {
            sin6.sin6_family = AF_INET6;
            return collab_fetch_rule((struct sockaddr *) &sin6);
        }
    }

    return collab_host_forbidden(u);
}


/* libcurl's sockets and timer */

static int
collab_fetch_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
    uint32_t        events;
    collab_sock_t  *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            collab_io_set(&s->io, 0);
            curl_multi_assign(collab_fetch.multi, fd, NULL);
            s->next = collab_fetch.dead;
            collab_fetch.dead = s;
        }

        return 0;
    }

    if (s == NULL) {
        s = calloc(1, sizeof(collab_sock_t));
        if (s == NULL) {
            return -1;
        }

        s->io.fd = fd;
        s->io.handler = collab_fetch_curl_io;
        s->io.data = s;
        curl_multi_assign(collab_fetch.multi, fd, s);
    }

    events = 0;

    if (what & CURL_POLL_IN) {
        events |= EPOLLIN;
    }

    if (what & CURL_POLL_OUT) {
        events |= EPOLLOUT;
    }

    return collab_io_set(&s->io, events) == 0 ? 0 : -1;
}


static int
collab_fetch_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    if (timeout_ms < 0) {
        collab_timer_del(&collab_fetch.curl_timer);

    } else {
        collab_timer_set(&collab_fetch.curl_timer, timeout_ms);
    }

    return 0;
}


static void
collab_fetch_curl_timeout(collab_timer_t *t)
{
    int  running;

    curl_multi_socket_action(collab_fetch.multi, CURL_SOCKET_TIMEOUT, 0,
                             &running);
    collab_fetch_messages();
}


static void
collab_fetch_curl_io(collab_io_t *io, uint32_t events)
{
    int  flags, running;

    flags = 0;

    if (events & (EPOLLIN|EPOLLHUP)) {
        flags |= CURL_CSELECT_IN;
    }

    if (events & EPOLLOUT) {
        flags |= CURL_CSELECT_OUT;
    }

    if (events & EPOLLERR) {
        flags |= CURL_CSELECT_ERR;
    }

    curl_multi_socket_action(collab_fetch.multi, io->fd, flags, &running);
    collab_fetch_messages();
}


static void
collab_fetch_messages(void)
{
    int              left;
    CURLMsg         *msg;
    collab_fetch_t  *f;

    while ((msg = curl_multi_info_read(collab_fetch.multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        f = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &f);

        if (f) {
            collab_fetch_complete(f, msg->data.result);
        }
    }
}


/* c-ares' sockets and timer */

static void
collab_fetch_dns_state(void *data, ares_socket_t fd, int readable,
    int writable)
{
    size_t          i, free_slot;
    uint32_t        events;
    collab_sock_t  *s;

    s = NULL;
    free_slot = (size_t) -1;

    for (i = 0; i < sizeof(collab_fetch.dns_socks)
                    / sizeof(collab_fetch.dns_socks[0]); i++)
    {
        if (collab_fetch.dns_socks[i] == NULL) {
            if (free_slot == (size_t) -1) {
                free_slot = i;
            }

            continue;
        }

        if (collab_fetch.dns_socks[i]->io.fd == fd) {
            s = collab_fetch.dns_socks[i];
            break;
        }
    }

    if (!readable && !writable) {
        if (s) {
            collab_io_set(&s->io, 0);
            collab_fetch.dns_socks[i] = NULL;
            s->next = collab_fetch.dead;
            collab_fetch.dead = s;
        }

        return;
    }

    if (s == NULL) {
        if (free_slot == (size_t) -1) {
            collab_runner_error("too many DNS sockets");
            return;
        }

        s = calloc(1, sizeof(collab_sock_t));
        if (s == NULL) {
            return;
        }

        s->io.fd = fd;
        s->io.handler = collab_fetch_dns_io;
        s->io.data = s;
        s->dns = 1;
        collab_fetch.dns_socks[free_slot] = s;
    }

    events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);

    if (collab_io_set(&s->io, events) != 0) {
        collab_runner_error("epoll_ctl() of a DNS socket failed: %s",
                            strerror(errno));
    }
}


static void
collab_fetch_dns_io(collab_io_t *io, uint32_t events)
{
    ares_socket_t  rfd, wfd;

    rfd = (events & (EPOLLIN|EPOLLHUP|EPOLLERR)) ? io->fd : ARES_SOCKET_BAD;
    wfd = (events & EPOLLOUT) ? io->fd : ARES_SOCKET_BAD;

    ares_process_fd(collab_fetch.channel, rfd, wfd);
    collab_fetch_dns_schedule();
}


static void
collab_fetch_dns_timeout(collab_timer_t *t)
{
    ares_process_fd(collab_fetch.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    collab_fetch_dns_schedule();
}


static void
collab_fetch_dns_schedule(void)
{
    struct timeval   tv, *next;

    next = ares_timeout(collab_fetch.channel, NULL, &tv);

    if (next == NULL) {
        collab_timer_del(&collab_fetch.dns_timer);
        return;
    }

    collab_timer_set(&collab_fetch.dns_timer,
                     (int64_t) next->tv_sec * 1000 + next->tv_usec / 1000);
}


/* the hooks of each transfer */

static curl_socket_t
collab_fetch_open_socket(void *clientp, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
    const char      *rule;
    collab_fetch_t  *f = clientp;

    if (purpose != CURLSOCKTYPE_IPCXN
        || (addr->family != AF_INET && addr->family != AF_INET6))
    {
        snprintf(f->refused, sizeof(f->refused), "%s",
                 "only Internet addresses may be reached");
        return CURL_SOCKET_BAD;
    }

    rule = collab_fetch_rule(&addr->addr);

    if (rule) {
        snprintf(f->refused, sizeof(f->refused),
                 "the address is %s (collab_workflow_allow_private)", rule);
        return CURL_SOCKET_BAD;
    }

    return socket(addr->family, addr->socktype | SOCK_CLOEXEC,
                  addr->protocol);
}


static CURLcode
collab_fetch_ssl_ctx(CURL *curl, void *ssl_ctx, void *userptr)
{
    X509_STORE_up_ref(collab_fetch.store);
    SSL_CTX_set_cert_store(ssl_ctx, collab_fetch.store);

    return CURLE_OK;
}


static size_t
collab_fetch_write(char *data, size_t size, size_t n, void *userp)
{
    size_t           len, cap;
    uint8_t         *p;
    collab_fetch_t  *f = userp;
    collab_exec_t   *e = f->exec;

    len = size * n;

    if (collab_limits_fetch_size(&e->limits, f->data_len + len,
                                 f->first_url, f->limit) != 0)
    {
        return 0;
    }

    if (f->data_len + len > f->data_cap) {
        cap = f->data_cap ? f->data_cap : 16384;

        while (cap < f->data_len + len) {
            cap *= 2;
        }

        p = js_realloc_rt(e->rt, f->data, cap);
        if (p == NULL) {
            e->engine.exceeded = 1;
            return 0;
        }

        f->data = p;
        f->data_cap = cap;
    }

    memcpy(f->data + f->data_len, data, len);
    f->data_len += len;

    return len;
}


static int
collab_fetch_field(collab_fetch_t *f, const char *p, size_t n)
{
    char    *fields;
    size_t   cap;

    if (f->fields_len + n + 1 > COLLAB_FETCH_HEADERS_MAX) {
        return -1;
    }

    if (f->fields_len + n + 1 > f->fields_cap) {
        cap = f->fields_cap ? f->fields_cap * 2 : 1024;

        while (cap < f->fields_len + n + 1) {
            cap *= 2;
        }

        fields = realloc(f->fields, cap);
        if (fields == NULL) {
            return -1;
        }

        f->fields = fields;
        f->fields_cap = cap;
    }

    memcpy(f->fields + f->fields_len, p, n);
    f->fields[f->fields_len + n] = '\0';
    f->fields_len += n + 1;

    return 0;
}


/* each header line of the answer; a status line starts a new answer */
static size_t
collab_fetch_header(char *data, size_t size, size_t n, void *userp)
{
    char            *colon, *v;
    size_t           len, i, name_len, value_len;
    collab_fetch_t  *f = userp;

    len = size * n;

    while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n')) {
        len--;
    }

    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        f->fields_len = 0;
        f->status_text[0] = '\0';

        /* "HTTP/1.1 200 OK": the reason after the code */
        v = memchr(data, ' ', len);

        if (v) {
            v = memchr(v + 1, ' ', len - (v + 1 - data));
        }

        if (v) {
            v++;
            value_len = len - (v - data);

            if (value_len >= sizeof(f->status_text)) {
                value_len = sizeof(f->status_text) - 1;
            }

            memcpy(f->status_text, v, value_len);
            f->status_text[value_len] = '\0';
            collab_utf8_fix(f->status_text, value_len);

            for (i = 0; i < value_len; i++) {
                if ((unsigned char) f->status_text[i] < 0x20) {
                    f->status_text[i] = ' ';
                }
            }
        }

        return size * n;
    }

    colon = memchr(data, ':', len);
    if (colon == NULL || colon == data) {
        return size * n;
    }

    name_len = colon - data;

    for (i = 0; i < name_len; i++) {
        if (data[i] >= 'A' && data[i] <= 'Z') {
            data[i] = (char) (data[i] - 'A' + 'a');
        }
    }

    v = colon + 1;
    value_len = len - (v - data);

    while (value_len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        value_len--;
    }

    while (value_len > 0 && (v[value_len - 1] == ' '
                             || v[value_len - 1] == '\t'))
    {
        value_len--;
    }

    collab_utf8_fix(data, len);

    if (collab_fetch_field(f, data, name_len) != 0
        || collab_fetch_field(f, v, value_len) != 0)
    {
        snprintf(f->refused, sizeof(f->refused), "%s",
                 "the answer's headers are too large");
        return 0;
    }

    return size * n;
}


/* fetch(url, method, [[name, value]...], body?) */
JSValue
collab_fetch_start(collab_exec_t *e, const char *url, const char *method,
    JSValueConst headers, JSValueConst body)
{
    int              has_ua, has_accept, has_expect;
    size_t           len;
    uint32_t         i, n;
    JSValue          promise, pair, v;
    const char      *name, *value;
    collab_fetch_t  *f;
    char             limit[COLLAB_LIMIT_MESSAGE];
    char            *line;
    const uint8_t   *p;
    struct curl_slist  *list;

    if (collab_limits_fetch(&e->limits, &e->usage, limit) != 0) {
        e->ops->fail(e, limit);
        return JS_ThrowInternalError(e->ctx, "%s", limit);
    }

    f = calloc(1, sizeof(collab_fetch_t));
    if (f == NULL) {
        return JS_ThrowOutOfMemory(e->ctx);
    }

    f->exec = e;
    f->resolving_funcs[0] = JS_UNDEFINED;
    f->resolving_funcs[1] = JS_UNDEFINED;
    f->timer.handler = collab_fetch_timeout;
    f->timer.data = f;
    f->started = collab_clock();
    f->first_url = strdup(url);
    f->url = strdup(url);
    f->method = strdup(method);

    f->next = e->fetching;
    e->fetching = f;

    if (f->first_url == NULL || f->url == NULL || f->method == NULL) {
        collab_fetch_release(f);
        return JS_ThrowOutOfMemory(e->ctx);
    }

    /* the request headers, as libcurl takes them */
    has_ua = 0;
    has_accept = 0;
    has_expect = 0;

    v = JS_GetPropertyStr(e->ctx, headers, "length");
    if (JS_ToUint32(e->ctx, &n, v) != 0) {
        JS_FreeValue(e->ctx, v);
        collab_fetch_release(f);
        return JS_EXCEPTION;
    }

    JS_FreeValue(e->ctx, v);

    for (i = 0; i < n; i++) {
        pair = JS_GetPropertyUint32(e->ctx, headers, i);
        v = JS_GetPropertyUint32(e->ctx, pair, 0);
        name = JS_ToCString(e->ctx, v);
        JS_FreeValue(e->ctx, v);
        v = JS_GetPropertyUint32(e->ctx, pair, 1);
        value = JS_ToCStringLen(e->ctx, &len, v);
        JS_FreeValue(e->ctx, v);
        JS_FreeValue(e->ctx, pair);

        if (name == NULL || value == NULL) {
            JS_FreeCString(e->ctx, name);
            JS_FreeCString(e->ctx, value);
            collab_fetch_release(f);
            return JS_EXCEPTION;
        }

        has_ua |= strcasecmp(name, "user-agent") == 0;
        has_accept |= strcasecmp(name, "accept") == 0;
        has_expect |= strcasecmp(name, "expect") == 0;

        line = malloc(strlen(name) + len + 3);

        if (line) {
            /* "name;" sends a header with an empty value */
            if (len == 0) {
                sprintf(line, "%s;", name);

            } else {
                sprintf(line, "%s: %s", name, value);
            }

            collab_utf8_fix(line, strlen(line));
            list = curl_slist_append(f->headers, line);
            free(line);

            if (list) {
                f->headers = list;
            }
        }

        JS_FreeCString(e->ctx, name);
        JS_FreeCString(e->ctx, value);

        if (line == NULL || list == NULL) {
            collab_fetch_release(f);
            return JS_ThrowOutOfMemory(e->ctx);
        }
    }

    if (!has_ua) {
        f->headers = curl_slist_append(f->headers,
                                       "User-Agent: " COLLAB_FETCH_USER_AGENT);
    }

    if (!has_accept) {
        f->headers = curl_slist_append(f->headers, "Accept: */*");
    }

    if (!has_expect) {
        /* no "Expect: 100-continue" round trip before a body */
        f->headers = curl_slist_append(f->headers, "Expect:");
    }

    if (!JS_IsUndefined(body)) {
        size_t          offset, size, bpe, ab_len;
        JSValue         ab;

        ab = JS_GetTypedArrayBuffer(e->ctx, body, &offset, &size, &bpe);
        if (JS_IsException(ab)) {
            collab_fetch_release(f);
            return JS_EXCEPTION;
        }

        p = JS_GetArrayBuffer(e->ctx, &ab_len, ab);
        JS_FreeValue(e->ctx, ab);

        if (p == NULL || offset + size > ab_len) {
            collab_fetch_release(f);
            return JS_ThrowTypeError(e->ctx, "fetch: the body is detached");
        }

        f->body = js_malloc_rt(e->rt, size ? size : 1);
        if (f->body == NULL) {
            collab_fetch_release(f);
            return JS_ThrowOutOfMemory(e->ctx);
        }

        memcpy(f->body, p + offset, size);
        f->body_len = size;
    }

    promise = JS_NewPromiseCapability(e->ctx, f->resolving_funcs);
    if (JS_IsException(promise)) {
        collab_fetch_release(f);
        return JS_EXCEPTION;
    }

    collab_timer_set(&f->timer, e->limits.fetch_timeout_ms);
    collab_fetch_begin(f);

    return promise;
}


/* parses the URL of the moment and finds its addresses */
static void
collab_fetch_begin(collab_fetch_t *f)
{
    size_t                       len;
    const char                  *err, *rule;
    collab_resolve_t            *r;
    struct ares_addrinfo_hints   hints;

    if (collab_url_parse(f->url, strlen(f->url), &f->u, &err) != 0) {
        collab_fetch_reject(f, "fetch failed: %s: %s", f->url, err);
        return;
    }

    rule = collab_fetch_host_rule(&f->u);

    if (rule) {
        collab_fetch_reject(f, "fetch refused: %s: the address is %s "
                            "(collab_workflow_allow_private)", f->url, rule);
        return;
    }

    if (f->u.literal) {
        collab_fetch_connect(f);
        return;
    }

    len = f->u.host_len;

    if (len && f->u.host[len - 1] == '.') {
        len--;
    }

    /* RFC 6761: localhost is the loopback, never asked of DNS */
    if ((len == 9 && strncasecmp(f->u.host, "localhost", 9) == 0)
        || (len > 10
            && strncasecmp(f->u.host + len - 10, ".localhost", 10) == 0))
    {
        char  entry[300];

        snprintf(entry, sizeof(entry), "%.*s:%u:127.0.0.1,[::1]",
                 (int) f->u.host_len, f->u.host, (unsigned) f->u.port);

        f->addresses = curl_slist_append(NULL, entry);
        collab_fetch_connect(f);
        return;
    }

    r = malloc(sizeof(collab_resolve_t));
    if (r == NULL) {
        collab_fetch_reject(f, "fetch failed: %s: out of memory", f->url);
        return;
    }

    r->fetch = f;
    f->resolving = r;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;

    ares_getaddrinfo(collab_fetch.channel, f->u.host, NULL, &hints,
                     collab_fetch_resolved, r);
    collab_fetch_dns_schedule();
}


static void
collab_fetch_resolved(void *arg, int status, int timeouts,
    struct ares_addrinfo *res)
{
    int                         n;
    char                        addr[INET6_ADDRSTRLEN], *entry;
    size_t                      len;
    const char                 *rule;
    collab_fetch_t             *f;
    collab_resolve_t           *r = arg;
    struct ares_addrinfo_node  *node;
    struct sockaddr_in         *sin;
    struct sockaddr_in6        *sin6;

    f = r->fetch;
    free(r);

    if (f == NULL) {
        /* the fetch ended while its name was being resolved */
        if (res) {
            ares_freeaddrinfo(res);
        }

        return;
    }

    f->resolving = NULL;

    if (status != ARES_SUCCESS || res == NULL || res->nodes == NULL) {
        if (res) {
            ares_freeaddrinfo(res);
        }

        collab_fetch_reject(f, "fetch failed: %s: cannot resolve \"%.*s\": "
                            "%s", f->url, (int) f->u.host_len, f->u.host,
                            ares_strerror(status));
        return;
    }

    /* "host:port:addr,addr,...": the only addresses libcurl may use */
    len = f->u.host_len + 16 + COLLAB_FETCH_ADDRS * (INET6_ADDRSTRLEN + 3);
    entry = malloc(len);

    if (entry == NULL) {
        ares_freeaddrinfo(res);
        collab_fetch_reject(f, "fetch failed: %s: out of memory", f->url);
        return;
    }

    n = snprintf(entry, len, "%.*s:%u:", (int) f->u.host_len, f->u.host,
                 (unsigned) f->u.port);

    rule = NULL;

    for (node = res->nodes; node; node = node->ai_next) {
        if (node->ai_family == AF_INET) {
            sin = (struct sockaddr_in *) node->ai_addr;
            inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));

        } else if (node->ai_family == AF_INET6) {
            sin6 = (struct sockaddr_in6 *) node->ai_addr;
            inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));

        } else {
            continue;
        }

        /*
         * Every address of the name must be allowed: a name that points
         * at a private network, now or after a change of its records, is
         * refused.
         */
        if (rule == NULL) {
            rule = collab_fetch_rule(node->ai_addr);
        }

        if (len - n < INET6_ADDRSTRLEN + 4) {
            break;
        }

        n += snprintf(entry + n, len - n, node->ai_family == AF_INET6
                                          ? "%s[%s]" : "%s%s",
                      entry[n - 1] == ':' ? "" : ",", addr);
    }

    ares_freeaddrinfo(res);

    if (rule) {
        free(entry);
        collab_fetch_reject(f, "fetch refused: %s: the host resolves to a %s "
                            "address (collab_workflow_allow_private)",
                            f->url, rule);
        return;
    }

    if (entry[n - 1] == ':') {
        free(entry);
        collab_fetch_reject(f, "fetch failed: %s: \"%.*s\" has no Internet "
                            "address", f->url, (int) f->u.host_len,
                            f->u.host);
        return;
    }

    f->addresses = curl_slist_append(NULL, entry);
    free(entry);

    if (f->addresses == NULL) {
        collab_fetch_reject(f, "fetch failed: %s: out of memory", f->url);
        return;
    }

    collab_fetch_connect(f);
}


static void
collab_fetch_connect(collab_fetch_t *f)
{
    CURL  *easy;

    easy = curl_easy_init();
    if (easy == NULL) {
        collab_fetch_reject(f, "fetch failed: %s: out of memory", f->url);
        return;
    }

    f->easy = easy;
    f->error[0] = '\0';
    f->refused[0] = '\0';

    curl_easy_setopt(easy, CURLOPT_PRIVATE, f);
    curl_easy_setopt(easy, CURLOPT_URL, f->url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collab_fetch_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collab_fetch_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION,
                     collab_fetch_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, f);
    curl_easy_setopt(easy, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, collab_fetch_ssl_ctx);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) f->exec->limits.fetch_timeout_ms);

    if (f->addresses) {
        curl_easy_setopt(easy, CURLOPT_RESOLVE, f->addresses);
    }

    if (strcmp(f->method, "GET") == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);

    } else if (strcmp(f->method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);

    } else {
        if (strcmp(f->method, "POST") != 0) {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, f->method);
        }

        if (f->body || strcmp(f->method, "POST") == 0) {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t) f->body_len);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
                             f->body ? (char *) f->body : "");
        }
    }

    if (curl_multi_add_handle(collab_fetch.multi, easy) != CURLM_OK) {
        collab_fetch_reject(f, "fetch failed: %s: the transfer cannot "
                            "start", f->url);
    }
}


static void
collab_fetch_complete(collab_fetch_t *f, CURLcode rc)
{
    long            status;
    char           *location, *next;
    collab_exec_t  *e = f->exec;

    status = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);

    if (f->limit[0] != '\0') {
        /* past collab_workflow_fetch_max_size: the execution ends */
        collab_fetch_record(f, status ? status : -1, f->limit);
        e->ops->fail(e, f->limit);
        collab_fetch_release(f);
        return;
    }

    if (rc == CURLE_WRITE_ERROR && e->engine.exceeded) {
        collab_fetch_record(f, status ? status : -1, "out of memory");
        e->ops->wake(e);
        collab_fetch_release(f);
        return;
    }

    if (rc != CURLE_OK) {
        if (f->refused[0] != '\0') {
            collab_fetch_reject(f, "fetch refused: %s: %s", f->url,
                                f->refused);

        } else {
            collab_fetch_reject(f, "fetch failed: %s: %s", f->url,
                                f->error[0] ? f->error
                                            : curl_easy_strerror(rc));
        }

        return;
    }

    location = NULL;

    if (status == 301 || status == 302 || status == 303 || status == 307
        || status == 308)
    {
        curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &location);
    }

    if (location == NULL) {
        collab_fetch_answer(f, status);
        return;
    }

    if (++f->redirects > COLLAB_FETCH_REDIRECTS) {
        collab_fetch_reject(f, "fetch failed: %s: more than %d redirects",
                            f->first_url, COLLAB_FETCH_REDIRECTS);
        return;
    }

    next = strdup(location);
    if (next == NULL) {
        collab_fetch_reject(f, "fetch failed: %s: out of memory", f->url);
        return;
    }

    /* the next request: 303, and 301/302 after a POST, become a GET */
    if ((status == 303 && strcmp(f->method, "HEAD") != 0)
        || ((status == 301 || status == 302)
            && strcmp(f->method, "POST") == 0))
    {
        char               *get;
        struct curl_slist  *h, *kept;

        get = strdup("GET");
        if (get == NULL) {
            free(next);
            collab_fetch_reject(f, "fetch failed: %s: out of memory",
                                f->url);
            return;
        }

        free(f->method);
        f->method = get;

        if (f->body) {
            js_free_rt(e->rt, f->body);
            f->body = NULL;
            f->body_len = 0;
        }

        /* the body's own headers go with it */
        kept = NULL;

        for (h = f->headers; h; h = h->next) {
            if (strncasecmp(h->data, "content-", 8) != 0) {
                kept = curl_slist_append(kept, h->data);
            }
        }

        curl_slist_free_all(f->headers);
        f->headers = kept;
    }

    curl_multi_remove_handle(collab_fetch.multi, f->easy);
    curl_easy_cleanup(f->easy);
    f->easy = NULL;
    curl_slist_free_all(f->addresses);
    f->addresses = NULL;

    free(f->url);
    f->url = next;
    f->data_len = 0;
    f->fields_len = 0;

    collab_fetch_begin(f);
}


/* resolves the promise with [status, statusText, url, redirected, headers,
   body] and lets the execution go on */
static void
collab_fetch_answer(collab_fetch_t *f, long status)
{
    size_t          i, n;
    JSValue         answer, headers, pair, body, ret;
    JSContext      *ctx;
    collab_exec_t  *e = f->exec;

    ctx = e->ctx;

    answer = JS_NewArray(ctx);
    headers = JS_NewArray(ctx);

    for (i = 0, n = 0; i < f->fields_len; n++) {
        size_t  name_len = strlen(f->fields + i);
        size_t  value_len = strlen(f->fields + i + name_len + 1);

        pair = JS_NewArray(ctx);
        JS_SetPropertyUint32(ctx, pair, 0,
                             JS_NewStringLen(ctx, f->fields + i, name_len));
        JS_SetPropertyUint32(ctx, pair, 1,
                             JS_NewStringLen(ctx, f->fields + i + name_len + 1,
                                             value_len));
        JS_SetPropertyUint32(ctx, headers, (uint32_t) n, pair);

        i += name_len + value_len + 2;
    }

    if (f->data) {
        body = JS_NewArrayBufferCopy(ctx, f->data, f->data_len);

    } else {
        body = JS_NewArrayBufferCopy(ctx, (const uint8_t *) "", 0);
    }

    JS_SetPropertyUint32(ctx, answer, 0, JS_NewInt32(ctx, (int32_t) status));
    JS_SetPropertyUint32(ctx, answer, 1, JS_NewString(ctx, f->status_text));
    JS_SetPropertyUint32(ctx, answer, 2, JS_NewString(ctx, f->url));
    JS_SetPropertyUint32(ctx, answer, 3, JS_NewBool(ctx, f->redirects > 0));
    JS_SetPropertyUint32(ctx, answer, 4, headers);
    JS_SetPropertyUint32(ctx, answer, 5, body);

    collab_fetch_record(f, status, NULL);

    JS_UpdateStackTop(e->rt);
    ret = JS_Call(ctx, f->resolving_funcs[0], JS_UNDEFINED, 1, &answer);
    JS_FreeValue(ctx, ret);
    JS_FreeValue(ctx, answer);

    collab_fetch_release(f);
    e->ops->wake(e);
}


static void
collab_fetch_reject(collab_fetch_t *f, const char *fmt, ...)
{
    char            msg[1024];
    va_list         ap;
    JSValue         err, ret;
    collab_exec_t  *e = f->exec;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    collab_utf8_fix(msg, strlen(msg));
    collab_fetch_record(f, -1, msg);

    err = JS_NewError(e->ctx);
    JS_DefinePropertyValueStr(e->ctx, err, "message",
                              JS_NewString(e->ctx, msg),
                              JS_PROP_WRITABLE|JS_PROP_CONFIGURABLE);
    JS_DefinePropertyValueStr(e->ctx, err, "name",
                              JS_NewString(e->ctx, "TypeError"),
                              JS_PROP_WRITABLE|JS_PROP_CONFIGURABLE);

    JS_UpdateStackTop(e->rt);
    ret = JS_Call(e->ctx, f->resolving_funcs[1], JS_UNDEFINED, 1, &err);
    JS_FreeValue(e->ctx, ret);
    JS_FreeValue(e->ctx, err);

    collab_fetch_release(f);
    e->ops->wake(e);
}


/* one entry of the execution's "fetches" */
static void
collab_fetch_record(collab_fetch_t *f, long status, const char *error)
{
    collab_json_t  *j = &f->exec->fetches;

    collab_json_obj_open(j);
    collab_json_key(j, "url");
    collab_json_cstr(j, f->first_url);
    collab_json_key(j, "status");

    if (status > 0) {
        collab_json_int(j, status);

    } else {
        collab_json_null(j);
    }

    collab_json_key(j, "ms");
    collab_json_int(j, collab_clock() - f->started);

    if (error) {
        collab_json_key(j, "error");
        collab_json_cstr(j, error);
    }

    collab_json_obj_close(j);
}


static void
collab_fetch_timeout(collab_timer_t *t)
{
    char             msg[COLLAB_LIMIT_MESSAGE];
    collab_fetch_t  *f = t->data;
    collab_exec_t   *e = f->exec;

    collab_limits_fetch_timeout_message(&e->limits, f->first_url, msg);
    collab_fetch_record(f, -1, msg);
    e->ops->fail(e, msg);
    collab_fetch_release(f);
}


/* the fetch leaves its execution and every resource it held */
static void
collab_fetch_release(collab_fetch_t *f)
{
    collab_exec_t    *e = f->exec;
    collab_fetch_t  **pp;

    for (pp = &e->fetching; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }

    collab_timer_del(&f->timer);

    if (f->resolving) {
        f->resolving->fetch = NULL;
    }

    if (f->easy) {
        curl_multi_remove_handle(collab_fetch.multi, f->easy);
        curl_easy_cleanup(f->easy);
    }

    curl_slist_free_all(f->addresses);
    curl_slist_free_all(f->headers);

    JS_FreeValueRT(e->rt, f->resolving_funcs[0]);
    JS_FreeValueRT(e->rt, f->resolving_funcs[1]);

    if (f->body) {
        js_free_rt(e->rt, f->body);
    }

    if (f->data) {
        js_free_rt(e->rt, f->data);
    }

    free(f->fields);
    free(f->first_url);
    free(f->url);
    free(f->method);
    free(f);
}


/* the execution ends: its fetches in flight are dropped */
void
collab_fetch_cancel(collab_exec_t *e)
{
    while (e->fetching) {
        collab_fetch_record(e->fetching, -1, "cancelled: the execution "
                            "ended first");
        collab_fetch_release(e->fetching);
    }
}
