/*
 * Copyright (C) collab
 *
 * The webhook sender: an HTTP client on nginx's own machinery (the http
 * block's resolver, ngx_event_connect_peer(), ngx_ssl with SNI and
 * certificate checks) with a pool of idle keepalive connections per
 * endpoint.  It takes a delivery the outbox claimed, POSTs it signed, and
 * reports how the attempt ended; claims, outcomes and retries are the
 * outbox's (ngx_collab_outbox.c).
 *
 * Per attempt it allocates one pool: the attempt, its request (headers,
 * signatures and body in one buffer) and the buffer of the response
 * header.  At most collab_webhook_concurrency attempts of a webhook are
 * sent at once; the outbox claims ahead, and the others wait their turn
 * here, ready to go.  The URL is parsed and the signing keys are made
 * ready once per webhook (the outbox's targets); a kept connection's
 * record is made once with the connection.
 */

#include "ngx_collab.h"
#include "ngx_collab_sign.h"
#include "ngx_collab_url.h"
#include "ngx_collab_outbox.h"


#define COLLAB_ATTEMPT_POOL       4096
#define COLLAB_HEADER_FIRST       1024
#define COLLAB_HEADER_MAX         8192
#define COLLAB_RESPONSE_KEEP      1024


typedef struct {
    ngx_queue_t              queue;
    ngx_queue_t              idle;
    ngx_uint_t               nidle;
    size_t                   key_len;
    u_char                   key[300];
} ngx_collab_endpoint_t;


/* a connection's record, made once with it, for its idle times */
typedef struct {
    ngx_queue_t              queue;
    ngx_connection_t        *connection;
    ngx_uint_t               requests;
    ngx_collab_endpoint_t   *endpoint;
} ngx_collab_keep_t;


/* what an attempt is doing, for the error log's "while ..." */
typedef enum {
    COLLAB_STEP_START = 0,
    COLLAB_STEP_RESOLVE,
    COLLAB_STEP_CONNECT,
    COLLAB_STEP_HANDSHAKE,
    COLLAB_STEP_SEND,
    COLLAB_STEP_READ
} ngx_collab_step_e;


typedef struct {
    ngx_queue_t              queue;            /* waiting for its turn */
    ngx_pool_t              *pool;
    ngx_log_t                log;
    ngx_collab_delivery_t    d;
    ngx_collab_target_t     *t;
    ngx_collab_step_e        step;
    int64_t                  started_ms;
    ngx_peer_connection_t    peer;
    ngx_resolver_ctx_t      *resolving;
    ngx_connection_t        *connection;
    ngx_collab_keep_t       *keep;
    ngx_event_t              deadline;
    ngx_buf_t               *request;
    ngx_buf_t               *header;
    ngx_str_t                host;

    ngx_uint_t               status;
    off_t                    content_length;   /* -1: unknown */
    off_t                    chunk;            /* left in this chunk */
    ngx_uint_t               chunk_state;
    time_t                   retry_after;      /* -1: none */
    const char              *bad;              /* why it is not HTTP */
    size_t                   kept;
    u_char                   body[COLLAB_RESPONSE_KEEP];
    u_char                   id[COLLAB_ID_MAX];

    unsigned                 begun:1;
    unsigned                 connected:1;
    unsigned                 reused:1;
    unsigned                 chunked:1;
    unsigned                 close:1;
    unsigned                 header_done:1;
    unsigned                 timed_out:1;
    unsigned                 retried:1;
} ngx_collab_attempt_t;


static struct {
    ngx_collab_webhook_conf_t    *conf;
    ngx_queue_t                   endpoints;
    unsigned                      ready:1;
} ngx_collab_sender;


static void ngx_collab_sender_send(ngx_collab_delivery_t *d);
static u_char *ngx_collab_attempt_log_error(ngx_log_t *log, u_char *buf,
    size_t len);
static ngx_int_t ngx_collab_attempt_request(ngx_collab_attempt_t *a,
    ngx_collab_delivery_t *d);
static void ngx_collab_attempt_begin(ngx_collab_attempt_t *a);
static void ngx_collab_attempt_start(ngx_collab_attempt_t *a);
static void ngx_collab_attempt_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_collab_attempt_connect(ngx_collab_attempt_t *a,
    struct sockaddr *sa, socklen_t socklen);
static void ngx_collab_attempt_connected(ngx_collab_attempt_t *a);
#if (NGX_SSL)
static void ngx_collab_attempt_ssl_handshaked(ngx_connection_t *c);
#endif
static void ngx_collab_attempt_send(ngx_collab_attempt_t *a);
static void ngx_collab_attempt_handler(ngx_event_t *ev);
static void ngx_collab_attempt_read(ngx_collab_attempt_t *a);
static ngx_int_t ngx_collab_attempt_parse(ngx_collab_attempt_t *a,
    ngx_buf_t *b);
static ngx_int_t ngx_collab_attempt_body(ngx_collab_attempt_t *a,
    u_char *p, u_char *last);
static void ngx_collab_attempt_timeout(ngx_event_t *ev);
static void ngx_collab_attempt_finish(ngx_collab_attempt_t *a,
    const char *error);
static void ngx_collab_attempt_again(ngx_collab_attempt_t *a);
static void ngx_collab_attempt_release(ngx_collab_attempt_t *a,
    ngx_uint_t keep);
static void ngx_collab_close(ngx_connection_t *c);
static void ngx_collab_idle_handler(ngx_event_t *ev);


ngx_int_t
ngx_collab_sender_init(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf)
{
    ngx_collab_sender.conf = &cmcf->webhook;

    ngx_queue_init(&ngx_collab_sender.endpoints);

    ngx_collab_sender.ready = 1;

    ngx_collab_outbox_deliver(ngx_collab_sender_send);

    return NGX_OK;
}


void
ngx_collab_sender_exit(void)
{
    ngx_queue_t            *q;
    ngx_collab_keep_t      *keep;
    ngx_collab_endpoint_t  *ep;

    if (!ngx_collab_sender.ready) {
        return;
    }

    while (!ngx_queue_empty(&ngx_collab_sender.endpoints)) {
        q = ngx_queue_head(&ngx_collab_sender.endpoints);
        ep = ngx_queue_data(q, ngx_collab_endpoint_t, queue);
        ngx_queue_remove(q);

        while (!ngx_queue_empty(&ep->idle)) {
            keep = ngx_queue_data(ngx_queue_head(&ep->idle),
                                  ngx_collab_keep_t, queue);
            ngx_queue_remove(&keep->queue);
            ngx_collab_close(keep->connection);
        }

        ngx_free(ep);
    }

    ngx_collab_sender.ready = 0;
}


/* the keepalive pool of the target's scheme, host and port */
static ngx_collab_endpoint_t *
ngx_collab_endpoint(ngx_collab_target_t *t)
{
    u_char                 *p;
    ngx_queue_t            *q;
    ngx_collab_endpoint_t  *ep;
    u_char                  key[300];

    if (t->endpoint) {
        return t->endpoint;
    }

    p = ngx_snprintf(key, sizeof(key), "%s://%*s:%d",
                     t->u.https ? "https" : "http", t->u.host_len,
                     t->u.host, (int) t->u.port);

    for (q = ngx_queue_head(&ngx_collab_sender.endpoints);
         q != ngx_queue_sentinel(&ngx_collab_sender.endpoints);
         q = ngx_queue_next(q))
    {
        ep = ngx_queue_data(q, ngx_collab_endpoint_t, queue);

        if (ep->key_len == (size_t) (p - key)
            && ngx_memcmp(ep->key, key, ep->key_len) == 0)
        {
            t->endpoint = ep;
            return ep;
        }
    }

    ep = ngx_alloc(sizeof(ngx_collab_endpoint_t), ngx_cycle->log);
    if (ep == NULL) {
        return NULL;
    }

    ngx_queue_init(&ep->idle);
    ep->nidle = 0;
    ep->key_len = p - key;
    ngx_memcpy(ep->key, key, ep->key_len);
    ngx_queue_insert_tail(&ngx_collab_sender.endpoints, &ep->queue);

    t->endpoint = ep;

    return ep;
}


/*
 * An attempt of a claimed delivery.  Everything it needs of the delivery
 * is copied into its pool here (the id, and the body into the request),
 * since the claim that holds the delivery is freed when this returns.
 */
static void
ngx_collab_sender_send(ngx_collab_delivery_t *d)
{
    ngx_pool_t            *pool;
    ngx_collab_outcome_t   o;
    ngx_collab_attempt_t  *a;

    pool = ngx_create_pool(COLLAB_ATTEMPT_POOL, ngx_cycle->log);
    if (pool == NULL) {
        goto failed;
    }

    a = ngx_pcalloc(pool, sizeof(ngx_collab_attempt_t));
    if (a == NULL) {
        ngx_destroy_pool(pool);
        goto failed;
    }

    a->pool = pool;
    a->t = d->target;
    a->d = *d;
    a->d.id.data = a->id;
    a->d.id.len = ngx_min(d->id.len, COLLAB_ID_MAX - 1);
    ngx_memcpy(a->id, d->id.data, a->d.id.len);
    ngx_str_null(&a->d.payload);

    a->log = *ngx_cycle->log;
    a->log.handler = ngx_collab_attempt_log_error;
    a->log.data = a;
    a->log.action = "starting webhook delivery";

    a->content_length = -1;
    a->retry_after = -1;

    a->deadline.handler = ngx_collab_attempt_timeout;
    a->deadline.data = a;
    a->deadline.log = &a->log;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V attempt %ui to \"%V\" "
                   "%ui bytes", &a->d.id, a->d.attempt, &a->t->url,
                   d->payload.len);

    if (a->t->invalid == NULL) {
        a->host.data = (u_char *) a->t->u.host;
        a->host.len = a->t->u.host_len;

        if (ngx_collab_attempt_request(a, d) != NGX_OK
            || ngx_collab_endpoint(a->t) == NULL)
        {
            a->started_ms = collab_now_ms();
            ngx_collab_attempt_finish(a, "out of memory");
            return;
        }
    }

    if (a->t->sending >= ngx_collab_sender.conf->concurrency) {
        ngx_queue_insert_tail(&a->t->waiting, &a->queue);
        return;
    }

    ngx_collab_attempt_begin(a);

    return;

failed:

    /* no attempt could start: recorded as one that failed at once */
    ngx_memzero(&o, sizeof(ngx_collab_outcome_t));
    o.status = -1;
    o.error = "out of memory";
    o.at = collab_now_ms();
    o.retry_after = -1;

    ngx_collab_outbox_sent(d, &o);
}


/* the context of the error log's lines of an attempt */
static u_char *
ngx_collab_attempt_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    ngx_collab_attempt_t *a = log->data;

    switch (a->step) {

    case COLLAB_STEP_RESOLVE:
        return ngx_snprintf(buf, len, " while resolving \"%V\" for webhook "
                            "delivery %V", &a->host, &a->d.id);

    case COLLAB_STEP_CONNECT:
        return ngx_snprintf(buf, len, " while connecting to \"%V\" for "
                            "webhook delivery %V", &a->t->url, &a->d.id);

    case COLLAB_STEP_HANDSHAKE:
        return ngx_snprintf(buf, len, " while SSL handshaking to \"%V\" for "
                            "webhook delivery %V", &a->t->url, &a->d.id);

    case COLLAB_STEP_SEND:
        return ngx_snprintf(buf, len, " while sending webhook delivery %V "
                            "to \"%V\"", &a->d.id, &a->t->url);

    case COLLAB_STEP_READ:
        return ngx_snprintf(buf, len, " while reading response of webhook "
                            "delivery %V from \"%V\"", &a->d.id,
                            &a->t->url);

    default:
        return ngx_snprintf(buf, len, " while starting webhook delivery %V "
                            "to \"%V\"", &a->d.id, &a->t->url);
    }
}


static void
ngx_collab_attempt_step(ngx_collab_attempt_t *a, ngx_collab_step_e step)
{
    static char  *actions[] = {
        "starting webhook delivery",
        "resolving",
        "connecting to",
        "SSL handshaking to",
        "sending webhook delivery",
        "reading response of"
    };

    a->step = step;
    a->log.action = actions[step];
}


/* the request: headers, signatures and body, in one buffer of its size */
static ngx_int_t
ngx_collab_attempt_request(ngx_collab_attempt_t *a, ngx_collab_delivery_t *d)
{
    size_t                len;
    time_t                ts;
    ngx_buf_t            *b;
    ngx_collab_target_t  *t;
    char                  hex[COLLAB_SIG_HEX_LEN + 1];
    char                  v1[COLLAB_SIG_V1_LEN + 1];
    char                  v1old[COLLAB_SIG_V1_LEN + 1];

    static const char     head[] =
        "POST  HTTP/1.1\r\nHost: []:65535\r\n"
        "Content-Type: application/json\r\n"
        "User-Agent: collab-webhooks/" COLLAB_VERSION "\r\n"
        "Content-Length: 18446744073709551615\r\n"
        "X-Webhook-Signature: \r\n"
        "webhook-id: \r\n"
        "webhook-timestamp: -9223372036854775808\r\n"
        "webhook-signature:  \r\n"
        "Connection: keep-alive\r\n\r\n";

    t = a->t;
    ts = ngx_time();

    (void) collab_signer_sign_hex(t->hex, d->payload.data, d->payload.len,
                                  hex);

    if (collab_signer_sign_v1(t->v1, (char *) d->id.data, d->id.len, ts,
                              d->payload.data, d->payload.len, v1)
        != 0)
    {
        return NGX_ERROR;
    }

    v1old[0] = '\0';

    if (t->previous && t->previous_until > collab_now_ms()
        && collab_signer_sign_v1(t->previous, (char *) d->id.data,
                                 d->id.len, ts, d->payload.data,
                                 d->payload.len, v1old)
           != 0)
    {
        v1old[0] = '\0';
    }

    len = sizeof(head) - 1 + t->u.path_len + t->u.host_len + d->id.len
          + COLLAB_SIG_HEX_LEN + 2 * COLLAB_SIG_V1_LEN + d->payload.len;

    b = ngx_create_temp_buf(a->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "POST %*s HTTP/1.1\r\nHost: ",
                          t->u.path_len, t->u.path);

    if (ngx_strlchr((u_char *) t->u.host, (u_char *) t->u.host
                                          + t->u.host_len, ':'))
    {
        b->last = ngx_sprintf(b->last, "[%*s]", t->u.host_len, t->u.host);

    } else {
        b->last = ngx_cpymem(b->last, t->u.host, t->u.host_len);
    }

    if (t->u.port != (t->u.https ? 443 : 80)) {
        b->last = ngx_sprintf(b->last, ":%d", (int) t->u.port);
    }

    b->last = ngx_sprintf(b->last,
                          "\r\nContent-Type: application/json\r\n"
                          "User-Agent: collab-webhooks/" COLLAB_VERSION "\r\n"
                          "Content-Length: %uz\r\n"
                          "X-Webhook-Signature: %s\r\n"
                          "webhook-id: %V\r\n"
                          "webhook-timestamp: %T\r\n"
                          "webhook-signature: %s%s%s\r\n"
                          "Connection: %s\r\n\r\n",
                          d->payload.len, hex, &d->id, ts, v1,
                          v1old[0] ? " " : "", v1old,
                          ngx_collab_sender.conf->keepalive ? "keep-alive"
                                                            : "close");

    b->last = ngx_cpymem(b->last, d->payload.data, d->payload.len);

    a->request = b;

    return NGX_OK;
}


/* the attempt's turn: its time starts now */
static void
ngx_collab_attempt_begin(ngx_collab_attempt_t *a)
{
    a->t->sending++;
    a->begun = 1;
    a->started_ms = collab_now_ms();

    ngx_add_timer(&a->deadline, ngx_collab_sender.conf->timeout);

    if (a->t->invalid) {
        ngx_collab_attempt_finish(a, a->t->invalid);
        return;
    }

    ngx_collab_attempt_start(a);
}


static void
ngx_collab_attempt_start(ngx_collab_attempt_t *a)
{
    const char             *rule;
    ngx_queue_t            *q;
    ngx_connection_t       *c;
    ngx_collab_keep_t      *keep;
    ngx_resolver_ctx_t     *ctx, temp;
    ngx_collab_endpoint_t  *ep;

    ep = a->t->endpoint;

    if (!ngx_queue_empty(&ep->idle)) {
        q = ngx_queue_last(&ep->idle);
        ngx_queue_remove(q);
        ep->nidle--;

        keep = ngx_queue_data(q, ngx_collab_keep_t, queue);
        c = keep->connection;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        a->connection = c;
        a->keep = keep;
        a->reused = 1;
        a->connected = 1;

        c->idle = 0;
        c->data = a;
        c->log = &a->log;
        c->read->log = &a->log;
        c->write->log = &a->log;
        c->read->handler = ngx_collab_attempt_handler;
        c->write->handler = ngx_collab_attempt_handler;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                       "collab sender: delivery %V on kept connection %p, "
                       "request %ui", &a->d.id, c, keep->requests + 1);

        ngx_collab_attempt_send(a);
        return;
    }

    if (a->t->u.literal) {
        ngx_collab_attempt_connect(a, a->t->sockaddr, a->t->socklen);
        return;
    }

    rule = ngx_collab_sender.conf->allow_private
           ? NULL : collab_host_forbidden(&a->t->u);

    if (rule) {
        ngx_collab_attempt_finish(a, rule);
        return;
    }

    ngx_collab_attempt_step(a, COLLAB_STEP_RESOLVE);

    temp.name = a->host;

    ctx = ngx_resolve_start(ngx_collab_sender.conf->resolver, &temp);

    if (ctx == NULL) {
        ngx_collab_attempt_finish(a, "out of memory");
        return;
    }

    if (ctx == NGX_NO_RESOLVER) {
        ngx_collab_attempt_finish(a, "no resolver is configured to resolve "
                                     "the host name");
        return;
    }

    ctx->name = a->host;
    ctx->handler = ngx_collab_attempt_resolved;
    ctx->data = a;
    ctx->timeout = ngx_collab_sender.conf->resolver_timeout;

    a->resolving = ctx;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V resolving \"%V\"",
                   &a->d.id, &a->host);

    if (ngx_resolve_name(ctx) != NGX_OK) {
        a->resolving = NULL;
        ngx_collab_attempt_finish(a, "cannot resolve the host name");
    }
}


static void
ngx_collab_attempt_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_collab_attempt_t *a = ctx->data;

    u_char           *p;
    socklen_t         socklen;
    const char       *rule;
    ngx_uint_t        i;
    struct sockaddr  *sa;
    u_char            text[NGX_SOCKADDR_STRLEN];
    u_char            buf[NGX_SOCKADDRLEN];

    a->resolving = NULL;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V resolved, state:%i "
                   "addresses:%ui", &a->d.id, ctx->state, ctx->naddrs);

    if (ctx->state || ctx->naddrs == 0) {
        p = ngx_snprintf(text, sizeof(text) - 1, "%s",
                         ngx_resolver_strerror(ctx->state));
        *p = '\0';
        ngx_resolve_name_done(ctx);

        ngx_collab_attempt_finish(a, (char *) ngx_pstrdup(a->pool,
                                  &(ngx_str_t) { p - text + 1, text }));
        return;
    }

    /*
     * Every address the name has must be allowed: a name that points at a
     * private network, now or after a change of its records (DNS
     * rebinding), is refused here, after resolution.
     */
    rule = NULL;

    if (!ngx_collab_sender.conf->allow_private) {
        for (i = 0; i < ctx->naddrs && rule == NULL; i++) {
            rule = collab_addr_forbidden(ctx->addrs[i].sockaddr);
        }
    }

    i = ngx_random() % ctx->naddrs;
    socklen = ctx->addrs[i].socklen;
    ngx_memcpy(buf, ctx->addrs[i].sockaddr, socklen);
    sa = (struct sockaddr *) buf;
    ngx_inet_set_port(sa, a->t->u.port);

    ngx_resolve_name_done(ctx);

    if (rule) {
        p = ngx_snprintf(text, sizeof(text) - 1,
                         "the host resolves to a %s address", rule);
        *p = '\0';
        ngx_collab_attempt_finish(a, (char *) ngx_pstrdup(a->pool,
                                  &(ngx_str_t) { p - text + 1, text }));
        return;
    }

    ngx_collab_attempt_connect(a, sa, socklen);
}


static void
ngx_collab_attempt_connect(ngx_collab_attempt_t *a, struct sockaddr *sa,
    socklen_t socklen)
{
    ngx_int_t          rc;
    ngx_err_t          err;
    const char        *rule;
    ngx_connection_t  *c;
    u_char             text[128];

    ngx_collab_attempt_step(a, COLLAB_STEP_CONNECT);

    if (!ngx_collab_sender.conf->allow_private) {
        rule = collab_addr_forbidden(sa);

        if (rule) {
            ngx_snprintf(text, sizeof(text) - 1, "the address is %s%Z",
                         rule);
            ngx_collab_attempt_finish(a, (char *) ngx_pstrdup(a->pool,
                               &(ngx_str_t) { ngx_strlen(text) + 1, text }));
            return;
        }
    }

    /* a fresh connection: the peer's address is kept in the attempt */
    if (a->peer.sockaddr == NULL) {
        a->peer.sockaddr = ngx_palloc(a->pool, sizeof(ngx_sockaddr_t));
        if (a->peer.sockaddr == NULL) {
            ngx_collab_attempt_finish(a, "out of memory");
            return;
        }
    }

    ngx_memcpy(a->peer.sockaddr, sa, socklen);
    a->peer.socklen = socklen;
    a->peer.name = &a->host;
    a->peer.get = ngx_event_get_peer;
    a->peer.log = &a->log;
    a->peer.log_error = NGX_ERROR_INFO;
    a->peer.tries = 1;

    rc = ngx_event_connect_peer(&a->peer);
    err = ngx_socket_errno;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V connect rc:%i",
                   &a->d.id, rc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (a->peer.connection) {
            ngx_close_connection(a->peer.connection);
            a->peer.connection = NULL;
        }

        ngx_snprintf(text, sizeof(text) - 1, "connect() failed: %s%Z",
                     err ? strerror(err) : "no connection");
        ngx_collab_attempt_finish(a, (char *) ngx_pstrdup(a->pool,
                               &(ngx_str_t) { ngx_strlen(text) + 1, text }));
        return;
    }

    c = a->peer.connection;
    a->connection = c;

    c->pool = ngx_create_pool(512, ngx_cycle->log);
    if (c->pool == NULL) {
        ngx_collab_attempt_finish(a, "out of memory");
        return;
    }

    /* the record of its idle times: once, for the connection's life */
    a->keep = ngx_palloc(c->pool, sizeof(ngx_collab_keep_t));
    if (a->keep == NULL) {
        ngx_collab_attempt_finish(a, "out of memory");
        return;
    }

    a->keep->connection = c;
    a->keep->requests = 0;
    a->keep->endpoint = a->t->endpoint;

    c->data = a;
    c->log = &a->log;
    c->read->log = &a->log;
    c->write->log = &a->log;
    c->read->handler = ngx_collab_attempt_handler;
    c->write->handler = ngx_collab_attempt_handler;

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, ngx_collab_sender.conf->connect_timeout);
        return;
    }

    ngx_collab_attempt_connected(a);
}


static void
ngx_collab_attempt_connected(ngx_collab_attempt_t *a)
{
    ngx_connection_t  *c;
#if (NGX_SSL)
    ngx_int_t          rc;
    ngx_ssl_t         *ssl;
#endif

    c = a->connection;
    a->connected = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V connected", &a->d.id);

#if (NGX_SSL)

    if (a->t->u.https && c->ssl == NULL) {
        ngx_collab_attempt_step(a, COLLAB_STEP_HANDSHAKE);

        ssl = ngx_collab_sender.conf->ssl;

        if (ssl == NULL
            || ngx_ssl_create_connection(ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
               != NGX_OK)
        {
            ngx_collab_attempt_finish(a, "cannot start TLS");
            return;
        }

#ifdef SSL_CTRL_SET_TLSEXT_HOSTNAME
        if (!a->t->u.literal
            && SSL_set_tlsext_host_name(c->ssl->connection, a->t->u.host)
               == 0)
        {
            ngx_collab_attempt_finish(a, "cannot set the TLS server name");
            return;
        }
#endif

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            if (!c->write->timer_set) {
                ngx_add_timer(c->write,
                              ngx_collab_sender.conf->connect_timeout);
            }

            c->ssl->handler = ngx_collab_attempt_ssl_handshaked;
            return;
        }

        ngx_collab_attempt_ssl_handshaked(c);
        return;
    }

#else

    if (a->t->u.https) {
        ngx_collab_attempt_finish(a, "https is not available: nginx was "
                                     "built without SSL");
        return;
    }

#endif

    ngx_collab_attempt_send(a);
}


#if (NGX_SSL)

static void
ngx_collab_attempt_ssl_handshaked(ngx_connection_t *c)
{
    ngx_collab_attempt_t *a = c->data;

    long         rc;
    u_char      *p;
    u_char       text[256];

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (!c->ssl->handshaked) {
        ngx_collab_attempt_finish(a, "TLS handshake failed");
        return;
    }

    if (ngx_collab_sender.conf->ssl_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            p = ngx_snprintf(text, sizeof(text) - 1,
                             "TLS certificate verify failed: (%l:%s)", rc,
                             X509_verify_cert_error_string(rc));
            *p++ = '\0';
            ngx_collab_attempt_finish(a, (char *) ngx_pstrdup(a->pool,
                                      &(ngx_str_t) { p - text, text }));
            return;
        }

        if (ngx_ssl_check_host(c, &a->host) != NGX_OK) {
            ngx_collab_attempt_finish(a, "TLS certificate does not match "
                                         "the host name");
            return;
        }
    }

    c->read->handler = ngx_collab_attempt_handler;
    c->write->handler = ngx_collab_attempt_handler;

    ngx_collab_attempt_send(a);
}

#endif


static void
ngx_collab_attempt_send(ngx_collab_attempt_t *a)
{
    ssize_t            n;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = a->connection;
    b = a->request;

    ngx_collab_attempt_step(a, COLLAB_STEP_SEND);

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                       "collab sender: delivery %V sent %z", &a->d.id, n);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_collab_attempt_finish(a, "send failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            if (a->reused && !a->retried) {
                ngx_collab_attempt_again(a);
                return;
            }

            ngx_collab_attempt_finish(a, "send failed: the connection was "
                                         "reset");
            return;
        }

        b->pos += n;
    }

    a->keep->requests++;

    ngx_collab_attempt_step(a, COLLAB_STEP_READ);

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_collab_attempt_finish(a, "read failed");
        return;
    }

    if (c->read->ready) {
        ngx_collab_attempt_read(a);
    }
}


static void
ngx_collab_attempt_handler(ngx_event_t *ev)
{
    int                    err;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_collab_attempt_t  *a;
    u_char                 text[128];

    c = ev->data;
    a = c->data;

    if (ev->timedout) {
        a->timed_out = 1;
        ngx_collab_attempt_finish(a, "connect timed out");
        return;
    }

    if (!a->connected) {
        /* the first event of a new connection says how connect() went */
        if (c->write->timer_set) {
            ngx_del_timer(c->write);
        }

        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_snprintf(text, sizeof(text) - 1, "connect() failed: %s%Z",
                         strerror(err));
            ngx_collab_attempt_finish(a, (char *) ngx_pstrdup(a->pool,
                               &(ngx_str_t) { ngx_strlen(text) + 1, text }));
            return;
        }

        ngx_collab_attempt_connected(a);
        return;
    }

    if (ev->write) {
        if (a->request->pos < a->request->last) {
            ngx_collab_attempt_send(a);
        }

        return;
    }

    ngx_collab_attempt_read(a);
}


/*
 * The header buffer starts small (most answers' headers fit in 1 KiB)
 * and doubles up to 8 KiB when a header needs more.
 */
static ngx_int_t
ngx_collab_attempt_header_room(ngx_collab_attempt_t *a)
{
    size_t      size;
    ngx_buf_t  *b, *nb;

    b = a->header;

    if (b == NULL) {
        a->header = ngx_create_temp_buf(a->pool, COLLAB_HEADER_FIRST);
        return a->header ? NGX_OK : NGX_ERROR;
    }

    if (b->last < b->end) {
        return NGX_OK;
    }

    if (b->pos > b->start) {
        /* what interim answers left behind them moves to the front */
        b->last = ngx_movemem(b->start, b->pos, b->last - b->pos);
        b->pos = b->start;
        return NGX_OK;
    }

    size = b->end - b->start;

    if (size >= COLLAB_HEADER_MAX) {
        return NGX_DECLINED;
    }

    nb = ngx_create_temp_buf(a->pool, size * 2);
    if (nb == NULL) {
        return NGX_ERROR;
    }

    nb->last = ngx_cpymem(nb->pos, b->pos, b->last - b->pos);
    a->header = nb;

    return NGX_OK;
}


static void
ngx_collab_attempt_read(ngx_collab_attempt_t *a)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_connection_t  *c;
    u_char             chunk[16384];

    c = a->connection;

    for ( ;; ) {

        if (!a->header_done) {
            rc = ngx_collab_attempt_header_room(a);

            if (rc == NGX_ERROR) {
                ngx_collab_attempt_finish(a, "out of memory");
                return;
            }

            if (rc == NGX_DECLINED) {
                ngx_collab_attempt_finish(a, "the response header is too "
                                             "large");
                return;
            }

            b = a->header;
            n = c->recv(c, b->last, b->end - b->last);

        } else {
            b = NULL;
            n = c->recv(c, chunk, sizeof(chunk));
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                       "collab sender: delivery %V recv %z", &a->d.id, n);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_collab_attempt_finish(a, "read failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {

            if (a->header_done && a->content_length == -1 && !a->chunked) {
                /* the body ends with the connection */
                a->close = 1;
                ngx_collab_attempt_finish(a, NULL);
                return;
            }

            if (a->reused && !a->retried && !a->header_done
                && a->header->last == a->header->start)
            {
                ngx_collab_attempt_again(a);
                return;
            }

            ngx_collab_attempt_finish(a, "the connection was closed before "
                                         "the response was complete");
            return;
        }

        if (b) {
            b->last += n;
            rc = ngx_collab_attempt_parse(a, b);

        } else {
            rc = ngx_collab_attempt_body(a, chunk, chunk + n);
        }

        if (rc == NGX_ERROR) {
            ngx_collab_attempt_finish(a, a->bad ? a->bad
                                              : "the response is not valid "
                                                "HTTP");
            return;
        }

        if (rc == NGX_OK) {
            ngx_collab_attempt_finish(a, NULL);
            return;
        }
    }
}


static void
ngx_collab_attempt_keep(ngx_collab_attempt_t *a, u_char *p, size_t len)
{
    size_t  n;

    n = ngx_min(len, COLLAB_RESPONSE_KEEP - a->kept);
    ngx_memcpy(a->body + a->kept, p, n);
    a->kept += n;
}


/* the body bytes in [p, last): NGX_OK when the response is complete */
static ngx_int_t
ngx_collab_attempt_body(ngx_collab_attempt_t *a, u_char *p, u_char *last)
{
    size_t  n;
    u_char  ch;

    enum {
        sw_size = 0,
        sw_size_ext,
        sw_size_lf,
        sw_data,
        sw_data_cr,
        sw_data_lf,
        sw_trailer,
        sw_trailer_lf,
        sw_trailer_line
    };

    if (!a->chunked) {
        if (a->content_length == -1) {
            ngx_collab_attempt_keep(a, p, last - p);
            return NGX_AGAIN;
        }

        n = ngx_min((off_t) (last - p), a->content_length);
        ngx_collab_attempt_keep(a, p, n);
        a->content_length -= n;

        if (p + n < last) {
            /* more than the response: the connection is not reusable */
            a->close = 1;
        }

        return a->content_length == 0 ? NGX_OK : NGX_AGAIN;
    }

    while (p < last) {
        ch = *p;

        switch (a->chunk_state) {

        case sw_size:
            if (ch >= '0' && ch <= '9') {
                a->chunk = a->chunk * 16 + (ch - '0');

            } else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') {
                a->chunk = a->chunk * 16 + ((ch | 0x20) - 'a' + 10);

            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                a->chunk_state = sw_size_ext;

            } else if (ch == '\r') {
                a->chunk_state = sw_size_lf;

            } else {
                return NGX_ERROR;
            }

            if (a->chunk > (off_t) 1 << 40) {
                return NGX_ERROR;
            }

            p++;
            break;

        case sw_size_ext:
            if (ch == '\r') {
                a->chunk_state = sw_size_lf;
            }

            p++;
            break;

        case sw_size_lf:
            if (ch != '\n') {
                return NGX_ERROR;
            }

            a->chunk_state = a->chunk ? sw_data : sw_trailer;
            p++;
            break;

        case sw_data:
            n = ngx_min((off_t) (last - p), a->chunk);
            ngx_collab_attempt_keep(a, p, n);
            a->chunk -= n;
            p += n;

            if (a->chunk == 0) {
                a->chunk_state = sw_data_cr;
            }

            break;

        case sw_data_cr:
            if (ch != '\r') {
                return NGX_ERROR;
            }

            a->chunk_state = sw_data_lf;
            p++;
            break;

        case sw_data_lf:
            if (ch != '\n') {
                return NGX_ERROR;
            }

            a->chunk_state = sw_size;
            p++;
            break;

        case sw_trailer:
            if (ch == '\r') {
                a->chunk_state = sw_trailer_lf;

            } else {
                a->chunk_state = sw_trailer_line;
            }

            p++;
            break;

        case sw_trailer_line:
            if (ch == '\n') {
                a->chunk_state = sw_trailer;
            }

            p++;
            break;

        case sw_trailer_lf:
            if (ch != '\n') {
                return NGX_ERROR;
            }

            if (p + 1 < last) {
                a->close = 1;
            }

            return NGX_OK;
        }
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_collab_header_is(u_char *name, size_t len, const char *want)
{
    return len == ngx_strlen(want)
           && ngx_strncasecmp(name, (u_char *) want, len) == 0;
}


/* the first 1 KiB of the response as text: invalid UTF-8 becomes '?' */
static size_t
ngx_collab_response_text(u_char *p, size_t len)
{
    u_char     *s, *last;
    uint32_t    c;

    s = p;
    last = p + len;

    while (s < last) {
        if (*s < 0x80) {
            s++;
            continue;
        }

        c = ngx_utf8_decode(&s, last - s);

        if (c == 0xfffffffe) {
            /* cut in the middle of a character by the 1 KiB limit */
            return s - p;
        }

        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            s[-1] = '?';
        }
    }

    return len;
}


/*
 * The status line and the headers in b, then the body: NGX_OK when the
 * whole response is in, NGX_AGAIN for more, NGX_ERROR when it is not
 * HTTP (a->bad says why, when it is worth saying).  Interim answers
 * (1xx but 101) are passed over: the final answer follows them.
 */
static ngx_int_t
ngx_collab_attempt_parse(ngx_collab_attempt_t *a, ngx_buf_t *b)
{
    u_char     *p, *last, *end, *line, *colon, *v, *vend;
    off_t       length;
    ngx_int_t   n;
    time_t      t;

again:

    p = b->pos;
    last = b->last;
    end = NULL;

    for (v = p; v + 3 < last; v++) {
        if (v[0] == '\r' && v[1] == '\n' && v[2] == '\r' && v[3] == '\n') {
            end = v;
            break;
        }
    }

    if (end == NULL) {
        return NGX_AGAIN;
    }

    /* "HTTP/1.1 200 OK" */
    if (end - p < 12 || ngx_strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') {
        return NGX_ERROR;
    }

    n = ngx_atoi(p + 9, 3);

    if (n < 100 || n > 999) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V status %i", &a->d.id, n);

    if (n < 200 && n != 101) {
        b->pos = end + 4;
        goto again;
    }

    a->status = n;

    if (p[7] == '0') {
        a->close = 1;
    }

    line = ngx_strlchr(p, end, '\n');

    while (line && line < end) {
        line++;
        vend = ngx_strlchr(line, end + 2, '\r');

        if (vend == NULL) {
            break;
        }

        colon = ngx_strlchr(line, vend, ':');

        if (colon) {
            for (v = colon + 1; v < vend && (*v == ' ' || *v == '\t'); v++) {
                /* void */
            }

            if (ngx_collab_header_is(line, colon - line, "Content-Length")) {
                length = ngx_atoof(v, vend - v);

                if (length < 0) {
                    return NGX_ERROR;
                }

                if (a->content_length != -1 && a->content_length != length)
                {
                    /* which one frames the body is anybody's guess */
                    a->bad = "the response is not valid HTTP: two different "
                             "Content-Length headers";
                    return NGX_ERROR;
                }

                a->content_length = length;

            } else if (ngx_collab_header_is(line, colon - line,
                                            "Transfer-Encoding"))
            {
                a->chunked = (ngx_strlcasestrn(v, vend, (u_char *) "chunked",
                                               7 - 1) != NULL);

            } else if (ngx_collab_header_is(line, colon - line, "Connection")) {
                if (ngx_strlcasestrn(v, vend, (u_char *) "close", 5 - 1)) {
                    a->close = 1;
                }

            } else if (ngx_collab_header_is(line, colon - line,
                                            "Retry-After"))
            {
                n = ngx_atoi(v, vend - v);

                if (n >= 0) {
                    a->retry_after = n;

                } else {
                    t = ngx_parse_http_time(v, vend - v);

                    if (t != NGX_ERROR) {
                        a->retry_after = ngx_max(t - ngx_time(), 0);
                    }
                }
            }
        }

        line = ngx_strlchr(vend, end + 2, '\n');
    }

    a->header_done = 1;

    if (a->chunked) {
        /* a length beside chunked framing is not to be trusted */
        if (a->content_length != -1) {
            a->close = 1;
        }

        a->content_length = -1;
    }

    if (a->status == 101 || a->status == 204 || a->status == 304) {
        if (a->status == 101) {
            /* no upgrade was asked for: do not reuse */
            a->close = 1;
        }

        return NGX_OK;
    }

    if (!a->chunked && a->content_length == -1) {
        a->close = 1;
    }

    if (!a->chunked && a->content_length == 0) {
        if (end + 4 < last) {
            a->close = 1;
        }

        return NGX_OK;
    }

    return ngx_collab_attempt_body(a, end + 4, last);
}


static void
ngx_collab_attempt_timeout(ngx_event_t *ev)
{
    ngx_collab_attempt_t *a = ev->data;

    a->timed_out = 1;
    ngx_collab_attempt_finish(a, "timed out");
}


static void
ngx_collab_close(ngx_connection_t *c)
{
    ngx_pool_t  *pool;

#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    pool = c->pool;
    ngx_close_connection(c);

    if (pool) {
        ngx_destroy_pool(pool);
    }
}


static void
ngx_collab_idle_write(ngx_event_t *ev)
{
    /* an idle connection has nothing to write */
}


static void
ngx_collab_idle_handler(ngx_event_t *ev)
{
    ngx_connection_t   *c;
    ngx_collab_keep_t  *keep;
    char                buf[1];
    ssize_t             n;

    c = ev->data;
    keep = c->data;

    if (!ev->timedout) {
        /* anything but EAGAIN on an idle connection means it is done */
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            if (ngx_handle_read_event(c->read, 0) == NGX_OK) {
                return;
            }
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "collab sender: kept connection %p closed", c);

    ngx_queue_remove(&keep->queue);
    keep->endpoint->nidle--;

    ngx_collab_close(c);
}


/* the connection goes back to its endpoint's idle ones, or is closed */
static void
ngx_collab_attempt_release(ngx_collab_attempt_t *a, ngx_uint_t keep)
{
    ngx_connection_t       *c;
    ngx_collab_keep_t      *k;
    ngx_collab_endpoint_t  *ep;

    c = a->connection;
    a->connection = NULL;

    if (c == NULL) {
        return;
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    k = a->keep;
    ep = a->t->endpoint;

    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;

    if (!keep || k == NULL || ep == NULL
        || ep->nidle >= ngx_collab_sender.conf->keepalive
        || k->requests >= ngx_collab_sender.conf->keepalive_requests
        || ngx_exiting || ngx_terminate || ngx_quit
        || c->read->eof || c->read->error || c->write->error)
    {
        ngx_collab_close(c);
        return;
    }

    k->endpoint = ep;

    c->data = k;
    c->idle = 1;
    c->read->handler = ngx_collab_idle_handler;
    c->write->handler = ngx_collab_idle_write;

    ngx_add_timer(c->read, ngx_collab_sender.conf->keepalive_timeout);
    c->read->cancelable = 1;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_del_timer(c->read);
        ngx_collab_close(c);
        return;
    }

    ngx_queue_insert_tail(&ep->idle, &k->queue);
    ep->nidle++;
}


/*
 * A keepalive connection that the server had closed meanwhile: the
 * attempt starts again on a fresh connection, once, and no other idle
 * connection of that endpoint is trusted.
 */
static void
ngx_collab_attempt_again(ngx_collab_attempt_t *a)
{
    ngx_collab_keep_t      *keep;
    ngx_collab_endpoint_t  *ep;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V again on a new connection",
                   &a->d.id);

    ngx_collab_attempt_release(a, 0);

    ep = a->t->endpoint;

    while (!ngx_queue_empty(&ep->idle)) {
        keep = ngx_queue_data(ngx_queue_head(&ep->idle), ngx_collab_keep_t,
                              queue);
        ngx_queue_remove(&keep->queue);
        ep->nidle--;
        ngx_collab_close(keep->connection);
    }

    a->reused = 0;
    a->connected = 0;
    a->retried = 1;
    a->keep = NULL;
    a->request->pos = a->request->start;

    if (a->header) {
        a->header->pos = a->header->start;
        a->header->last = a->header->start;
    }

    ngx_collab_attempt_start(a);
}


/* the attempt is over: its connection is kept or closed, its outcome told */
static void
ngx_collab_attempt_finish(ngx_collab_attempt_t *a, const char *error)
{
    ngx_queue_t           *q;
    ngx_collab_target_t   *t;
    ngx_collab_outcome_t   o;
    ngx_collab_attempt_t  *next;

    if (a->deadline.timer_set) {
        ngx_del_timer(&a->deadline);
    }

    if (a->resolving) {
        ngx_resolve_name_done(a->resolving);
        a->resolving = NULL;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, &a->log, 0,
                   "collab sender: delivery %V done, status %ui, %s%s",
                   &a->d.id, a->header_done ? a->status : 0,
                   error ? "error: " : "ok", error ? error : "");

    ngx_collab_attempt_release(a, error == NULL && !a->close);

    ngx_memzero(&o, sizeof(ngx_collab_outcome_t));

    o.status = a->header_done ? (ngx_int_t) a->status : -1;
    o.error = error;
    o.at = a->started_ms;
    o.duration = (ngx_msec_t) (collab_now_ms() - a->started_ms);
    o.retry_after = a->retry_after;
    o.timed_out = a->timed_out;

    if (a->header_done) {
        o.response.data = a->body;
        o.response.len = ngx_collab_response_text(a->body, a->kept);
    }

    /* the next one waiting takes the turn (the target lives on for it) */
    t = a->t;
    next = NULL;

    if (a->begun) {
        t->sending--;

        if (!ngx_queue_empty(&t->waiting)) {
            q = ngx_queue_head(&t->waiting);
            ngx_queue_remove(q);
            next = ngx_queue_data(q, ngx_collab_attempt_t, queue);
        }
    }

    ngx_collab_outbox_sent(&a->d, &o);

    ngx_destroy_pool(a->pool);

    if (next) {
        ngx_collab_attempt_begin(next);
    }
}
