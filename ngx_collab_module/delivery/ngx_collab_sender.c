/*
 * Copyright (C) collab
 *
 * The webhook sender.  It runs in every worker from timers, with no client
 * request behind it, on nginx's own machinery: the http block's resolver,
 * ngx_event_connect_peer(), ngx_ssl with SNI and certificate checks, and
 * a pool of idle keepalive connections per endpoint.
 *
 * Due deliveries are claimed with a lease (UPDATE ... RETURNING), so that
 * two workers never send the same attempt and a dead worker's claims come
 * back once the lease runs out.  A change that queues deliveries wakes the
 * sender of its worker at once; a timer looks for retries and expired
 * leases every second.  Each attempt is recorded in the delivery's log,
 * and the delivery is rescheduled, finished or failed as the retry rules
 * say.
 */

#include "ngx_collab.h"
#include "ngx_collab_sign.h"
#include "ngx_collab_url.h"


#define COLLAB_SENDER_POLL        1000
#define COLLAB_SENDER_BATCH       64
#define COLLAB_SENDER_MAX_FLIGHT  1024
#define COLLAB_RESPONSE_HEADER    8192
#define COLLAB_RESPONSE_KEEP      1024
#define COLLAB_RETRY_FLOOR        60000
#define COLLAB_PURGE_EVERY        (3600 * 1000)


typedef struct {
    ngx_queue_t              queue;
    ngx_queue_t              idle;
    ngx_uint_t               nidle;
    size_t                   key_len;
    u_char                   key[300];
} ngx_collab_endpoint_t;


typedef struct {
    ngx_queue_t              queue;
    ngx_connection_t        *connection;
    ngx_uint_t               requests;
    ngx_collab_endpoint_t   *endpoint;
} ngx_collab_idle_t;


typedef struct {
    ngx_queue_t              queue;
    ngx_uint_t               inflight;
    size_t                   id_len;
    u_char                   id[COLLAB_ID_MAX];
} ngx_collab_flight_t;


typedef struct {
    ngx_pool_t              *pool;
    ngx_log_t               *log;
    ngx_str_t                delivery;
    ngx_str_t                url;
    ngx_str_t                secret;
    ngx_str_t                previous;
    ngx_str_t                payload;
    int64_t                  attempts;
    int64_t                  started_ms;
    collab_url_t             u;
    ngx_str_t                host;
    ngx_collab_endpoint_t   *endpoint;
    ngx_collab_flight_t     *flight;
    ngx_peer_connection_t    peer;
    ngx_resolver_ctx_t      *resolving;
    ngx_connection_t        *connection;
    ngx_uint_t               requests;
    ngx_event_t              deadline;
    ngx_buf_t               *request;
    ngx_buf_t               *header;

    ngx_uint_t               status;
    off_t                    content_length;   /* -1: unknown */
    off_t                    chunk;            /* left in this chunk */
    ngx_uint_t               chunk_state;
    time_t                   retry_after;      /* -1: none */
    size_t                   kept;
    u_char                   body[COLLAB_RESPONSE_KEEP];

    unsigned                 connected:1;
    unsigned                 reused:1;
    unsigned                 chunked:1;
    unsigned                 close:1;
    unsigned                 header_done:1;
    unsigned                 complete:1;
    unsigned                 timed_out:1;
    unsigned                 retried:1;
} ngx_collab_attempt_t;


/* the outcome of an attempt, waiting for the batch to be written */
typedef struct {
    ngx_str_t                delivery;
    const char              *status;
    int64_t                  next;             /* 0: none */
    int64_t                  at;
    int64_t                  duration;
    ngx_int_t                code;             /* -1: no response */
    ngx_str_t                error;
    ngx_str_t                response;
    unsigned                 gone:1;
} ngx_collab_result_t;


static struct {
    ngx_cycle_t                  *cycle;
    ngx_collab_webhook_conf_t    *conf;
    ngx_event_t                   poll;
    ngx_event_t                   wake;
    ngx_event_t                   flush;
    ngx_array_t                  *results;
    ngx_pool_t                   *results_pool;
    ngx_queue_t                   endpoints;
    ngx_queue_t                   flights;
    ngx_uint_t                    inflight;
    ngx_msec_t                    purged;
    unsigned                      running:1;
    unsigned                      ready:1;
} ngx_collab_sender;


static void ngx_collab_sender_run(ngx_event_t *ev);
static void ngx_collab_sender_flush(ngx_event_t *ev);
static ngx_collab_attempt_t *ngx_collab_attempt_new(sqlite3_stmt *st,
    ngx_str_t *url, ngx_str_t *secret, ngx_str_t *previous);
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
    u_char *p, u_char *last);
static void ngx_collab_attempt_timeout(ngx_event_t *ev);
static void ngx_collab_attempt_finish(ngx_collab_attempt_t *a,
    const char *error);
static void ngx_collab_attempt_record(ngx_collab_attempt_t *a,
    const char *error, ngx_msec_int_t duration);
static void ngx_collab_attempt_again(ngx_collab_attempt_t *a);
static void ngx_collab_attempt_release(ngx_collab_attempt_t *a,
    ngx_uint_t keep);
static void ngx_collab_close(ngx_connection_t *c);
static void ngx_collab_idle_handler(ngx_event_t *ev);


/*
 * A claimed delivery's next_attempt_at is its lease: it leaves the range
 * of due deliveries until the lease runs out, so these queries touch only
 * what can be sent, however long the backlog.
 */
static const char  ngx_collab_sql_due_webhooks[] =
    "SELECT id FROM webhooks WHERE enabled = 1 AND EXISTS"
    " (SELECT 1 FROM deliveries WHERE webhook_id = webhooks.id"
    " AND status = 'pending' AND next_attempt_at <= ?1)"
    " LIMIT 64";

static const char  ngx_collab_sql_webhook_target[] =
    "SELECT url, secret, previous_secret, previous_until FROM webhooks"
    " WHERE id = ?1 AND enabled = 1";

static const char  ngx_collab_sql_claim[] =
    "UPDATE deliveries SET next_attempt_at = ?3 WHERE seq IN"
    " (SELECT seq FROM deliveries WHERE webhook_id = ?1"
    " AND status = 'pending' AND next_attempt_at <= ?2"
    " ORDER BY next_attempt_at LIMIT ?4)"
    " RETURNING id, payload, attempts";

static const char  ngx_collab_sql_attempt_insert[] =
    "INSERT INTO delivery_attempts (delivery_id, at, status_code,"
    " duration_ms, error, response) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char  ngx_collab_sql_delivery_done[] =
    "UPDATE deliveries SET status = ?2, attempts = attempts + 1,"
    " next_attempt_at = ?3, last_attempt_at = ?4,"
    " status_code = ?5, duration_ms = ?6, error = ?7"
    " WHERE id = ?1 RETURNING webhook_id";

static const char  ngx_collab_sql_webhook_gone[] =
    "UPDATE webhooks SET enabled = 0, updated_at = ?2 WHERE id = ?1"
    " RETURNING account_id, room_id, event_mask";

static const char  ngx_collab_sql_purge[] =
    "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries"
    " WHERE created_at < ?1 AND status != 'pending' LIMIT 1000)";


ngx_int_t
ngx_collab_sender_init(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf)
{
    ngx_collab_sender.cycle = cycle;
    ngx_collab_sender.conf = &cmcf->webhook;

    ngx_queue_init(&ngx_collab_sender.endpoints);
    ngx_queue_init(&ngx_collab_sender.flights);

    ngx_collab_sender.poll.handler = ngx_collab_sender_run;
    ngx_collab_sender.poll.log = cycle->log;
    ngx_collab_sender.poll.data = &ngx_collab_sender;
    ngx_collab_sender.poll.cancelable = 1;

    ngx_collab_sender.wake.handler = ngx_collab_sender_run;
    ngx_collab_sender.wake.log = cycle->log;
    ngx_collab_sender.wake.data = &ngx_collab_sender;

    ngx_collab_sender.flush.handler = ngx_collab_sender_flush;
    ngx_collab_sender.flush.log = cycle->log;
    ngx_collab_sender.flush.data = &ngx_collab_sender;

    ngx_collab_sender.ready = 1;

    /* deliveries left by a previous run go out as soon as the worker is up */
    ngx_add_timer(&ngx_collab_sender.poll, 10);

    return NGX_OK;
}


void
ngx_collab_sender_wake(void)
{
    if (ngx_collab_sender.ready && !ngx_collab_sender.wake.posted) {
        ngx_post_event(&ngx_collab_sender.wake, &ngx_posted_events);
    }
}


void
ngx_collab_sender_exit(void)
{
    ngx_queue_t            *q;
    ngx_collab_idle_t      *idle;
    ngx_collab_endpoint_t  *ep;

    if (!ngx_collab_sender.ready) {
        return;
    }

    if (ngx_collab_sender.flush.posted) {
        ngx_delete_posted_event(&ngx_collab_sender.flush);
    }

    ngx_collab_sender_flush(&ngx_collab_sender.flush);

    while (!ngx_queue_empty(&ngx_collab_sender.endpoints)) {
        q = ngx_queue_head(&ngx_collab_sender.endpoints);
        ep = ngx_queue_data(q, ngx_collab_endpoint_t, queue);
        ngx_queue_remove(q);

        while (!ngx_queue_empty(&ep->idle)) {
            idle = ngx_queue_data(ngx_queue_head(&ep->idle),
                                  ngx_collab_idle_t, queue);
            ngx_queue_remove(&idle->queue);
            ngx_collab_close(idle->connection);
        }

        ngx_free(ep);
    }

    while (!ngx_queue_empty(&ngx_collab_sender.flights)) {
        q = ngx_queue_head(&ngx_collab_sender.flights);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_collab_flight_t, queue));
    }

    if (ngx_collab_sender.wake.posted) {
        ngx_delete_posted_event(&ngx_collab_sender.wake);
    }

    ngx_collab_sender.ready = 0;
}


static ngx_collab_flight_t *
ngx_collab_flight(ngx_str_t *webhook)
{
    ngx_queue_t          *q;
    ngx_collab_flight_t  *f;

    for (q = ngx_queue_head(&ngx_collab_sender.flights);
         q != ngx_queue_sentinel(&ngx_collab_sender.flights);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_collab_flight_t, queue);

        if (f->id_len == webhook->len
            && ngx_memcmp(f->id, webhook->data, webhook->len) == 0)
        {
            return f;
        }
    }

    if (webhook->len >= COLLAB_ID_MAX) {
        return NULL;
    }

    f = ngx_alloc(sizeof(ngx_collab_flight_t), ngx_cycle->log);
    if (f == NULL) {
        return NULL;
    }

    f->inflight = 0;
    f->id_len = webhook->len;
    ngx_memcpy(f->id, webhook->data, webhook->len);
    ngx_queue_insert_tail(&ngx_collab_sender.flights, &f->queue);

    return f;
}


/* claims due deliveries of one webhook and starts their attempts */
static ngx_int_t
ngx_collab_sender_claim(ngx_str_t *webhook, int64_t now)
{
    int                    rc;
    int64_t                previous_until;
    ngx_str_t              url, secret, previous;
    ngx_uint_t             room, n, i;
    ngx_pool_t            *pool;
    sqlite3_stmt          *st;
    ngx_collab_flight_t   *flight;
    ngx_collab_attempt_t  *a, *list[COLLAB_SENDER_BATCH];

    flight = ngx_collab_flight(webhook);
    if (flight == NULL) {
        return NGX_ERROR;
    }

    if (flight->inflight >= ngx_collab_sender.conf->concurrency) {
        return NGX_OK;
    }

    room = ngx_collab_sender.conf->concurrency - flight->inflight;
    room = ngx_min(room, COLLAB_SENDER_BATCH);
    room = ngx_min(room, COLLAB_SENDER_MAX_FLIGHT - ngx_collab_sender.inflight);

    if (room == 0) {
        return NGX_OK;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_webhook_target);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, webhook);

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? NGX_OK : NGX_ERROR;
    }

    pool = ngx_create_pool(512, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    previous_until = sqlite3_column_int64(st, 3);

    if (ngx_collab_db_dup(pool, st, 0, &url) != NGX_OK
        || ngx_collab_db_dup(pool, st, 1, &secret) != NGX_OK
        || ngx_collab_db_dup(pool, st, 2, &previous) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    if (previous.data && previous_until <= now) {
        previous.data = NULL;
        previous.len = 0;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_claim);
    if (st == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, webhook);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now + ngx_collab_sender.conf->timeout
                              + ngx_collab_sender.conf->connect_timeout
                              + ngx_collab_sender.conf->resolver_timeout
                              + 10000);
    sqlite3_bind_int64(st, 4, room);

    /* every row first: an attempt may end at once, and then it writes */
    n = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        a = ngx_collab_attempt_new(st, &url, &secret, &previous);
        if (a == NULL) {
            /* the rest keep their lease and come back when it ends */
            sqlite3_reset(st);
            break;
        }

        a->flight = flight;
        flight->inflight++;
        ngx_collab_sender.inflight++;

        list[n++] = a;
    }

    ngx_destroy_pool(pool);

    ngx_collab_db_release();

    for (i = 0; i < n; i++) {
        ngx_collab_attempt_start(list[i]);
    }

    return NGX_OK;
}


/* an attempt of the claimed row, in a pool of its own */
static ngx_collab_attempt_t *
ngx_collab_attempt_new(sqlite3_stmt *st, ngx_str_t *url, ngx_str_t *secret,
    ngx_str_t *previous)
{
    ngx_pool_t            *pool;
    ngx_collab_attempt_t  *a;

    pool = ngx_create_pool(2048, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    a = ngx_pcalloc(pool, sizeof(ngx_collab_attempt_t));
    if (a == NULL) {
        goto failed;
    }

    a->pool = pool;
    a->log = ngx_cycle->log;
    a->attempts = sqlite3_column_int64(st, 2);

    if (ngx_collab_db_dup(pool, st, 0, &a->delivery) != NGX_OK
        || ngx_collab_db_dup(pool, st, 1, &a->payload) != NGX_OK)
    {
        goto failed;
    }

    a->url.len = url->len;
    a->url.data = ngx_pstrdup(pool, url);
    a->secret.len = secret->len;
    a->secret.data = ngx_pstrdup(pool, secret);

    if (a->url.data == NULL || a->secret.data == NULL) {
        goto failed;
    }

    if (previous->data) {
        a->previous.len = previous->len;
        a->previous.data = ngx_pstrdup(pool, previous);

        if (a->previous.data == NULL) {
            goto failed;
        }
    }

    return a;

failed:

    ngx_destroy_pool(pool);
    return NULL;
}


static void
ngx_collab_sender_purge(int64_t now)
{
    sqlite3_stmt  *st;

    if (ngx_collab_sender.conf->delivery_retention == 0) {
        return;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_purge);
    if (st == NULL) {
        return;
    }

    sqlite3_bind_int64(st, 1, now - (int64_t) ngx_collab_sender.conf
                                       ->delivery_retention * 1000);

    if (sqlite3_step(st) != SQLITE_DONE) {
        ngx_collab_db_log(ngx_cycle->log, sqlite3_errcode(
                          ngx_collab_db_handle()), "delivery purge");
    }
}


static void
ngx_collab_sender_run(ngx_event_t *ev)
{
    int            rc;
    int64_t        now;
    ngx_str_t      webhook;
    ngx_uint_t     i, n;
    sqlite3_stmt  *st;
    u_char         ids[COLLAB_SENDER_BATCH][COLLAB_ID_MAX];

    if (ngx_collab_sender.running || !ngx_collab_sender.ready
        || ngx_exiting || ngx_terminate || ngx_quit
        || ngx_collab_db_handle() == NULL)
    {
        return;
    }

    ngx_collab_sender.running = 1;

    now = ngx_collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_due_webhooks);
    n = 0;

    if (st) {
        sqlite3_bind_int64(st, 1, now);

        while (n < COLLAB_SENDER_BATCH
               && (rc = sqlite3_step(st)) == SQLITE_ROW)
        {
            webhook.len = ngx_min((size_t) sqlite3_column_bytes(st, 0),
                                  COLLAB_ID_MAX - 1);
            ngx_memcpy(ids[n], sqlite3_column_text(st, 0), webhook.len);
            ids[n][webhook.len] = '\0';
            n++;
        }
    }

    ngx_collab_db_release();

    for (i = 0; i < n; i++) {
        webhook.data = ids[i];
        webhook.len = ngx_strlen(ids[i]);

        if (ngx_collab_sender_claim(&webhook, now) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "collab: claiming deliveries of \"%V\" failed: %s",
                          &webhook, sqlite3_errmsg(ngx_collab_db_handle()));
        }

        ngx_collab_db_release();
    }

    if (ngx_current_msec - ngx_collab_sender.purged >= COLLAB_PURGE_EVERY
        || ngx_collab_sender.purged == 0)
    {
        ngx_collab_sender.purged = ngx_current_msec;
        ngx_collab_sender_purge(now);
        ngx_collab_db_release();
    }

    if (ngx_worker == 0 && ev == &ngx_collab_sender.poll) {
        /* the sender's clock also keeps the database's log short */
        ngx_collab_db_checkpoint();
    }

    ngx_collab_sender.running = 0;

    if (ngx_collab_sender.poll.timer_set) {
        ngx_del_timer(&ngx_collab_sender.poll);
    }

    ngx_add_timer(&ngx_collab_sender.poll, COLLAB_SENDER_POLL);
}


static ngx_collab_endpoint_t *
ngx_collab_endpoint(ngx_collab_attempt_t *a)
{
    u_char                 *p;
    ngx_queue_t            *q;
    ngx_collab_endpoint_t  *ep;
    u_char                  key[300];

    p = ngx_snprintf(key, sizeof(key), "%s://%*s:%d",
                     a->u.https ? "https" : "http", a->u.host_len,
                     a->u.host, (int) a->u.port);

    for (q = ngx_queue_head(&ngx_collab_sender.endpoints);
         q != ngx_queue_sentinel(&ngx_collab_sender.endpoints);
         q = ngx_queue_next(q))
    {
        ep = ngx_queue_data(q, ngx_collab_endpoint_t, queue);

        if (ep->key_len == (size_t) (p - key)
            && ngx_memcmp(ep->key, key, ep->key_len) == 0)
        {
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

    return ep;
}


static ngx_int_t
ngx_collab_attempt_request(ngx_collab_attempt_t *a)
{
    size_t      len;
    time_t      ts;
    ngx_buf_t  *b;
    char        hex[COLLAB_SIG_HEX_LEN + 1];
    char        v1[COLLAB_SIG_V1_LEN + 1], v1old[COLLAB_SIG_V1_LEN + 1];

    ts = ngx_time();

    collab_sign_hex((char *) a->secret.data, a->secret.len, a->payload.data,
                    a->payload.len, hex);

    if (collab_sign_v1((char *) a->secret.data, a->secret.len,
                       (char *) a->delivery.data, a->delivery.len, ts,
                       a->payload.data, a->payload.len, v1)
        != 0)
    {
        return NGX_ERROR;
    }

    v1old[0] = '\0';

    if (a->previous.data
        && collab_sign_v1((char *) a->previous.data, a->previous.len,
                          (char *) a->delivery.data, a->delivery.len, ts,
                          a->payload.data, a->payload.len, v1old)
           != 0)
    {
        v1old[0] = '\0';
    }

    len = a->u.path_len + a->u.host_len + a->payload.len
          + a->delivery.len + 2 * COLLAB_SIG_V1_LEN + COLLAB_SIG_HEX_LEN
          + 512;

    b = ngx_create_temp_buf(a->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "POST %*s HTTP/1.1\r\nHost: ",
                          a->u.path_len, a->u.path);

    if (ngx_strlchr((u_char *) a->u.host, (u_char *) a->u.host
                                          + a->u.host_len, ':'))
    {
        b->last = ngx_sprintf(b->last, "[%*s]", a->u.host_len, a->u.host);

    } else {
        b->last = ngx_cpymem(b->last, a->u.host, a->u.host_len);
    }

    if (a->u.port != (a->u.https ? 443 : 80)) {
        b->last = ngx_sprintf(b->last, ":%d", (int) a->u.port);
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
                          a->payload.len, hex, &a->delivery, ts, v1,
                          v1old[0] ? " " : "", v1old,
                          ngx_collab_sender.conf->keepalive ? "keep-alive"
                                                            : "close");

    b->last = ngx_cpymem(b->last, a->payload.data, a->payload.len);

    a->request = b;

    return NGX_OK;
}


static void
ngx_collab_attempt_start(ngx_collab_attempt_t *a)
{
    const char             *err, *rule;
    ngx_queue_t            *q;
    ngx_collab_idle_t      *idle;
    ngx_resolver_ctx_t     *ctx, temp;
    ngx_connection_t       *c;
    struct sockaddr_in      sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6     sin6;
#endif

    a->started_ms = ngx_collab_now_ms();
    a->content_length = -1;
    a->retry_after = -1;

    a->deadline.handler = ngx_collab_attempt_timeout;
    a->deadline.data = a;
    a->deadline.log = a->log;
    ngx_add_timer(&a->deadline, ngx_collab_sender.conf->timeout);

    if (collab_url_parse((char *) a->url.data, a->url.len, &a->u, &err)
        != 0)
    {
        ngx_collab_attempt_finish(a, err);
        return;
    }

    a->host.data = (u_char *) a->u.host;
    a->host.len = a->u.host_len;

    if (a->request) {
        a->request->pos = a->request->start;

    } else if (ngx_collab_attempt_request(a) != NGX_OK) {
        ngx_collab_attempt_finish(a, "cannot sign the request: bad secret");
        return;
    }

    a->endpoint = ngx_collab_endpoint(a);
    if (a->endpoint == NULL) {
        ngx_collab_attempt_finish(a, "out of memory");
        return;
    }

    if (!ngx_queue_empty(&a->endpoint->idle)) {
        q = ngx_queue_last(&a->endpoint->idle);
        ngx_queue_remove(q);
        a->endpoint->nidle--;

        idle = ngx_queue_data(q, ngx_collab_idle_t, queue);
        c = idle->connection;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        a->connection = c;
        a->requests = idle->requests;
        a->reused = 1;
        a->connected = 1;

        c->idle = 0;
        c->data = a;
        c->log = a->log;
        c->read->log = a->log;
        c->write->log = a->log;
        c->read->handler = ngx_collab_attempt_handler;
        c->write->handler = ngx_collab_attempt_handler;

        ngx_collab_attempt_send(a);
        return;
    }

    if (a->u.literal) {
        ngx_memzero(&sin, sizeof(sin));

        if (inet_pton(AF_INET, a->u.host, &sin.sin_addr) == 1) {
            sin.sin_family = AF_INET;
            sin.sin_port = htons(a->u.port);
            ngx_collab_attempt_connect(a, (struct sockaddr *) &sin,
                                       sizeof(sin));
            return;
        }

#if (NGX_HAVE_INET6)
        ngx_memzero(&sin6, sizeof(sin6));

        if (inet_pton(AF_INET6, a->u.host, &sin6.sin6_addr) == 1) {
            sin6.sin6_family = AF_INET6;
            sin6.sin6_port = htons(a->u.port);
            ngx_collab_attempt_connect(a, (struct sockaddr *) &sin6,
                                       sizeof(sin6));
            return;
        }
#endif

        ngx_collab_attempt_finish(a, "bad address");
        return;
    }

    rule = ngx_collab_sender.conf->allow_private
           ? NULL : collab_host_forbidden(&a->u);

    if (rule) {
        ngx_collab_attempt_finish(a, rule);
        return;
    }

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
    ngx_inet_set_port(sa, a->u.port);

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

    a->peer.sockaddr = ngx_pcalloc(a->pool, socklen);
    if (a->peer.sockaddr == NULL) {
        ngx_collab_attempt_finish(a, "out of memory");
        return;
    }

    ngx_memcpy(a->peer.sockaddr, sa, socklen);
    a->peer.socklen = socklen;
    a->peer.name = &a->host;
    a->peer.get = ngx_event_get_peer;
    a->peer.log = a->log;
    a->peer.log_error = NGX_ERROR_INFO;
    a->peer.tries = 1;

    rc = ngx_event_connect_peer(&a->peer);
    err = ngx_socket_errno;

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

    c->data = a;
    c->log = a->log;
    c->read->log = a->log;
    c->write->log = a->log;
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
    a->requests = 0;
    a->connected = 1;

#if (NGX_SSL)

    if (a->u.https && c->ssl == NULL) {
        ssl = ngx_collab_sender.conf->ssl;

        if (ssl == NULL
            || ngx_ssl_create_connection(ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
               != NGX_OK)
        {
            ngx_collab_attempt_finish(a, "cannot start TLS");
            return;
        }

#ifdef SSL_CTRL_SET_TLSEXT_HOSTNAME
        if (!a->u.literal
            && SSL_set_tlsext_host_name(c->ssl->connection, a->u.host) == 0)
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

    if (a->u.https) {
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

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

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

    a->requests++;

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


static void
ngx_collab_attempt_read(ngx_collab_attempt_t *a)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_connection_t  *c;
    u_char             chunk[16384];

    c = a->connection;

    if (a->header == NULL) {
        a->header = ngx_create_temp_buf(a->pool, COLLAB_RESPONSE_HEADER);
        if (a->header == NULL) {
            ngx_collab_attempt_finish(a, "out of memory");
            return;
        }
    }

    b = a->header;

    for ( ;; ) {

        if (!a->header_done) {
            if (b->last == b->end) {
                ngx_collab_attempt_finish(a, "the response header is too "
                                             "large");
                return;
            }

            n = c->recv(c, b->last, b->end - b->last);

        } else {
            n = c->recv(c, chunk, sizeof(chunk));
        }

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_collab_attempt_finish(a, "read failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {

            if (a->header_done && a->content_length == -1 && !a->chunked) {
                /* the body ends with the connection */
                a->complete = 1;
                a->close = 1;
                ngx_collab_attempt_finish(a, NULL);
                return;
            }

            if (a->reused && !a->retried && b->last == b->start) {
                ngx_collab_attempt_again(a);
                return;
            }

            ngx_collab_attempt_finish(a, "the connection was closed before "
                                         "the response was complete");
            return;
        }

        if (!a->header_done) {
            b->last += n;
            rc = ngx_collab_attempt_parse(a, b->pos, b->last);

        } else {
            rc = ngx_collab_attempt_parse(a, chunk, chunk + n);
        }

        if (rc == NGX_ERROR) {
            ngx_collab_attempt_finish(a, "the response is not valid HTTP");
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


/*
 * The status line and the headers, then the body: NGX_OK when the whole
 * response is in, NGX_AGAIN for more, NGX_ERROR when it is not HTTP.
 */
static ngx_int_t
ngx_collab_attempt_parse(ngx_collab_attempt_t *a, u_char *p, u_char *last)
{
    u_char     *end, *line, *colon, *v, *vend;
    ngx_int_t   n;
    time_t      t;

    if (a->header_done) {
        return ngx_collab_attempt_body(a, p, last);
    }

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
                a->content_length = ngx_atoof(v, vend - v);

                if (a->content_length < 0) {
                    return NGX_ERROR;
                }

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
        a->content_length = -1;
    }

    if (a->status < 200 || a->status == 204 || a->status == 304) {
        if (a->status < 200) {
            /* an interim response is not expected: do not reuse */
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
    ngx_collab_idle_t  *idle;
    char                buf[1];
    ssize_t             n;

    c = ev->data;
    idle = c->data;

    if (!ev->timedout) {
        /* anything but EAGAIN on an idle connection means it is done */
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            if (ngx_handle_read_event(c->read, 0) == NGX_OK) {
                return;
            }
        }
    }

    ngx_queue_remove(&idle->queue);
    idle->endpoint->nidle--;

    ngx_collab_close(c);
}


/* an idle connection goes back to its endpoint, or is closed */
static void
ngx_collab_attempt_release(ngx_collab_attempt_t *a, ngx_uint_t keep)
{
    ngx_connection_t   *c;
    ngx_collab_idle_t  *idle;

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

    if (!keep || a->endpoint == NULL
        || a->endpoint->nidle >= ngx_collab_sender.conf->keepalive
        || a->requests >= ngx_collab_sender.conf->keepalive_requests
        || ngx_exiting || ngx_terminate || ngx_quit
        || c->read->eof || c->read->error || c->write->error)
    {
        ngx_collab_close(c);
        return;
    }

    idle = ngx_palloc(c->pool, sizeof(ngx_collab_idle_t));
    if (idle == NULL) {
        ngx_collab_close(c);
        return;
    }

    idle->connection = c;
    idle->requests = a->requests;
    idle->endpoint = a->endpoint;

    c->data = idle;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->read->handler = ngx_collab_idle_handler;
    c->write->handler = ngx_collab_idle_write;

    ngx_add_timer(c->read, ngx_collab_sender.conf->keepalive_timeout);
    c->read->cancelable = 1;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_del_timer(c->read);
        ngx_collab_close(c);
        return;
    }

    ngx_queue_insert_tail(&a->endpoint->idle, &idle->queue);
    a->endpoint->nidle++;
}


/*
 * A keepalive connection that the server had closed meanwhile: the
 * attempt starts again on a fresh connection, once, and no other idle
 * connection of that endpoint is trusted.
 */
static void
ngx_collab_attempt_again(ngx_collab_attempt_t *a)
{
    ngx_collab_idle_t      *idle;
    ngx_collab_endpoint_t  *ep;

    ngx_collab_attempt_release(a, 0);

    ep = a->endpoint;

    while (!ngx_queue_empty(&ep->idle)) {
        idle = ngx_queue_data(ngx_queue_head(&ep->idle), ngx_collab_idle_t,
                              queue);
        ngx_queue_remove(&idle->queue);
        ep->nidle--;
        ngx_collab_close(idle->connection);
    }

    if (a->deadline.timer_set) {
        ngx_del_timer(&a->deadline);
    }

    a->reused = 0;
    a->connected = 0;
    a->retried = 1;
    a->header = NULL;

    ngx_collab_attempt_start(a);
}


static void
ngx_collab_attempt_finish(ngx_collab_attempt_t *a, const char *error)
{
    ngx_msec_int_t  duration;

    if (a->deadline.timer_set) {
        ngx_del_timer(&a->deadline);
    }

    if (a->resolving) {
        ngx_resolve_name_done(a->resolving);
        a->resolving = NULL;
    }

    duration = (ngx_msec_int_t) (ngx_collab_now_ms() - a->started_ms);

    ngx_collab_attempt_release(a, error == NULL && !a->close);

    ngx_collab_attempt_record(a, error, duration);

    a->flight->inflight--;
    ngx_collab_sender.inflight--;

    ngx_destroy_pool(a->pool);

    ngx_collab_sender_wake();
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


static ngx_msec_t
ngx_collab_retry_delay(ngx_collab_attempt_t *a, ngx_uint_t n)
{
    ngx_msec_t   d, floor, longest, ra, *sched;
    ngx_uint_t   i;

    sched = ngx_collab_sender.conf->retry_schedule->elts;

    d = sched[n - 1];

    /* each delay is drawn from [0.8 d, 1.2 d] */
    d = (ngx_msec_t) ((double) d * (0.8 + 0.4 * (ngx_random() % 10001)
                                          / 10000.0));

    if (a->timed_out || a->status == 429) {
        longest = 0;

        for (i = 0; i < ngx_collab_sender.conf->retry_schedule->nelts; i++) {
            longest = ngx_max(longest, sched[i]);
        }

        /* at least a minute, unless the whole schedule is shorter */
        floor = ngx_min(COLLAB_RETRY_FLOOR, longest);
        d = ngx_max(d, floor);
    }

    if (a->retry_after >= 0) {
        ra = (ngx_msec_t) a->retry_after * 1000;
        d = ngx_max(ra, d);
        d = ngx_min(d, 2 * sched[n - 1]);
        d = ngx_max(d, sched[n - 1]);
    }

    return d;
}


/*
 * The outcome of an attempt joins the batch of this event loop iteration;
 * the batch is written in one transaction when the iteration's events are
 * done (one commit per batch rather than per delivery).
 */
static void
ngx_collab_attempt_record(ngx_collab_attempt_t *a, const char *error,
    ngx_msec_int_t duration)
{
    size_t                len;
    ngx_uint_t            n, success, max;
    ngx_collab_result_t  *res;
    u_char                text[64];

    if (ngx_collab_sender.results == NULL) {
        ngx_collab_sender.results_pool = ngx_create_pool(4096,
                                                         ngx_cycle->log);
        if (ngx_collab_sender.results_pool == NULL) {
            return;
        }

        ngx_collab_sender.results = ngx_array_create(
                                        ngx_collab_sender.results_pool, 64,
                                        sizeof(ngx_collab_result_t));
        if (ngx_collab_sender.results == NULL) {
            ngx_destroy_pool(ngx_collab_sender.results_pool);
            ngx_collab_sender.results_pool = NULL;
            return;
        }
    }

    res = ngx_array_push(ngx_collab_sender.results);
    if (res == NULL) {
        /* the lease runs out and the delivery is tried again */
        return;
    }

    ngx_memzero(res, sizeof(ngx_collab_result_t));

    n = (ngx_uint_t) a->attempts + 1;
    max = ngx_collab_sender.conf->retry_schedule->nelts + 1;

    success = (error == NULL && a->status >= 200 && a->status < 300);
    res->gone = (error == NULL && a->status == 410);

    if (error == NULL && !success) {
        ngx_snprintf(text, sizeof(text) - 1, "the endpoint answered %ui%Z",
                     a->status);
        error = (char *) text;
    }

    if (success) {
        res->status = "success";

    } else if (res->gone || n >= max) {
        res->status = "failed";

    } else {
        res->status = "pending";
        res->next = ngx_collab_now_ms() + ngx_collab_retry_delay(a, n);
    }

    res->delivery.len = a->delivery.len;
    res->delivery.data = ngx_pstrdup(ngx_collab_sender.results_pool,
                                     &a->delivery);
    res->at = a->started_ms;
    res->duration = duration;
    res->code = a->header_done ? (ngx_int_t) a->status : -1;

    if (!success) {
        res->error.len = ngx_strlen(error);
        res->error.data = ngx_pstrdup(ngx_collab_sender.results_pool,
                                      &(ngx_str_t) { res->error.len,
                                                     (u_char *) error });
    }

    if (a->header_done) {
        len = ngx_collab_response_text(a->body, a->kept);
        res->response.len = len;
        res->response.data = ngx_pnalloc(ngx_collab_sender.results_pool,
                                         len + 1);
        if (res->response.data) {
            ngx_memcpy(res->response.data, a->body, len);
        }
    }

    if (res->delivery.data == NULL
        || (!success && res->error.data == NULL))
    {
        ngx_collab_sender.results->nelts--;
        return;
    }

    if (!ngx_collab_sender.flush.posted) {
        ngx_post_event(&ngx_collab_sender.flush, &ngx_posted_events);
    }
}


static ngx_int_t
ngx_collab_result_write(ngx_collab_result_t *res, int64_t now)
{
    int            rc;
    ngx_str_t      account, room, webhook;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_delivery_done);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &res->delivery);
    ngx_collab_db_bind_cstr(st, 2, res->status);

    if (res->next) {
        sqlite3_bind_int64(st, 3, res->next);
    }

    sqlite3_bind_int64(st, 4, res->at);

    if (res->code >= 0) {
        sqlite3_bind_int(st, 5, (int) res->code);
    }

    sqlite3_bind_int64(st, 6, res->duration);
    ngx_collab_db_bind_str(st, 7, res->error.data ? &res->error : NULL);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        /* the webhook, and so the delivery, was deleted meanwhile */
        return SQLITE_OK;
    }

    if (rc != SQLITE_ROW) {
        return rc;
    }

    ngx_collab_db_col(st, 0, &webhook);

    webhook.data = ngx_pstrdup(ngx_collab_sender.results_pool, &webhook);
    if (webhook.data == NULL) {
        return SQLITE_NOMEM;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_attempt_insert);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &res->delivery);
    sqlite3_bind_int64(st, 2, res->at);

    if (res->code >= 0) {
        sqlite3_bind_int(st, 3, (int) res->code);
    }

    sqlite3_bind_int64(st, 4, res->duration);
    ngx_collab_db_bind_str(st, 5, res->error.data ? &res->error : NULL);
    ngx_collab_db_bind_str(st, 6, res->response.data ? &res->response
                                                     : NULL);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    if (!res->gone) {
        return SQLITE_OK;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_webhook_gone);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &webhook);
    sqlite3_bind_int64(st, 2, now);

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        ngx_collab_db_col(st, 0, &account);
        ngx_collab_db_col(st, 1, &room);

        (void) ngx_collab_shm_hook_set(&account, &webhook,
                                       room.data ? &room : NULL,
                                       (uint32_t) sqlite3_column_int64(st, 2),
                                       0);

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "collab: webhook \"%V\" disabled: its endpoint "
                      "answered 410 Gone", &webhook);

        return SQLITE_OK;
    }

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}


static void
ngx_collab_sender_flush(ngx_event_t *ev)
{
    int                   rc;
    int64_t               now;
    ngx_uint_t            i;
    ngx_pool_t           *pool;
    ngx_array_t          *results;
    ngx_collab_result_t  *res;

    results = ngx_collab_sender.results;
    pool = ngx_collab_sender.results_pool;

    if (results == NULL) {
        return;
    }

    if (ngx_collab_db_handle() == NULL) {
        goto done;
    }

    now = ngx_collab_now_ms();
    res = results->elts;

    rc = ngx_collab_db_begin();

    for (i = 0; rc == SQLITE_OK && i < results->nelts; i++) {
        rc = ngx_collab_result_write(&res[i], now);
    }

    if (rc == SQLITE_OK) {
        rc = ngx_collab_db_commit();
    }

    if (rc != SQLITE_OK) {
        /* the leases run out and the deliveries are tried again */
        ngx_collab_db_rollback();
        ngx_collab_db_log(ngx_cycle->log, rc, "recording delivery attempts");
    }

    ngx_collab_db_release();

done:

    ngx_collab_sender.results = NULL;
    ngx_collab_sender.results_pool = NULL;
    ngx_destroy_pool(pool);
}
