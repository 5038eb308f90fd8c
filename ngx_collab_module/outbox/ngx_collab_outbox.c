/*
 * Copyright (C) collab
 *
 * The outbox (see ngx_collab_outbox.h): events and their fan-out, the
 * claims of due deliveries, their outcomes, retries and purge, and the
 * wake-ups of the consumers after a commit.
 *
 * The deliveries go through the batches of ngx_collab_batch.c: each one
 * writes the outcomes that came in since the last one (one UPDATE joined
 * with the batch's VALUES and one multi-row INSERT of attempts, both by
 * the delivery's sequence number) and the webhooks that answered 410,
 * and claims the next due deliveries webhook by webhook, in one
 * savepoint.
 *
 * The express way: while the worker has room, the fan-out itself leases
 * a new delivery to its worker and keeps it aside (in the storage
 * thread); after the commit, the event loop checks that the delivery is
 * there (its work was not rolled back) and sends it at once, with no
 * claim in between.  The rest is claimed by the batches.
 */

#include "ngx_collab_store.h"
#include "ngx_collab_outbox.h"


#define COLLAB_CLAIM_HOOKS        64
#define COLLAB_INFLIGHT_MAX       1024
#define COLLAB_HOLD               1000
#define COLLAB_RETRY_FLOOR        60000
#define COLLAB_LEASE_MARGIN       10000
#define COLLAB_WAKE_HANDLERS      4


typedef struct {
    int64_t                   seq;
    const char               *status;
    int64_t                   next;        /* 0: none */
    int64_t                   at;
    int64_t                   duration;
    ngx_int_t                 code;        /* -1: none */
    ngx_str_t                 error;       /* data NULL: none */
    ngx_str_t                 response;    /* data NULL: none */
} ngx_collab_result_t;


/* a webhook with attempts in flight in this worker */
typedef struct {
    ngx_str_t                 webhook;
    ngx_uint_t                inflight;
} ngx_collab_busy_t;


/* a webhook the batch claimed deliveries of, and its row */
typedef struct {
    ngx_str_t                 id;
    ngx_str_t                 url;
    ngx_str_t                 secret;
    ngx_str_t                 previous;
    int64_t                   previous_until;
    int64_t                   updated_at;
    ngx_uint_t                first;
    ngx_uint_t                n;
} ngx_collab_hook_t;


typedef struct {
    int64_t                   seq;
    ngx_str_t                 id;
    ngx_str_t                 payload;
    ngx_uint_t                attempts;
} ngx_collab_claimed_t;


/* a webhook that answered 410 Gone, and what its disabling returned */
typedef struct {
    ngx_str_t                 webhook;
    ngx_str_t                 account;
    ngx_str_t                 room;
    uint32_t                  mask;
    unsigned                  disabled:1;
} ngx_collab_gone_t;


/* a batch of deliveries: its results are ngx_collab_result_t */
typedef struct {
    ngx_collab_batch_t        batch;

    /* in */
    ngx_array_t               gone;        /* ngx_collab_gone_t */
    ngx_array_t               busy;        /* ngx_collab_busy_t */
    ngx_uint_t                concurrency;

    /* out */
    ngx_array_t               hooks;       /* ngx_collab_hook_t */
    ngx_array_t               claimed;     /* ngx_collab_claimed_t */
} ngx_collab_run_t;


typedef struct {
    ngx_uint_t                wake;
    ngx_collab_wake_pt        handler;
} ngx_collab_wake_handler_t;


/* a delivery leased by its fan-out, waiting for its commit */
typedef struct ngx_collab_express_s  ngx_collab_express_t;

struct ngx_collab_express_s {
    ngx_collab_express_t     *next;
    ngx_collab_hook_t         hook;
    int64_t                   seq;
    ngx_str_t                 id;
    ngx_str_t                 payload;
    ngx_uint_t                checks;      /* found missing */
};


static struct {
    ngx_log_t                    *log;
    ngx_collab_webhook_conf_t    *conf;
    ngx_collab_send_pt            send;

    ngx_collab_batcher_t          batcher;

    ngx_queue_t                   targets;
    ngx_queue_t                   stale;
    ngx_uint_t                    inflight;

    ngx_collab_batch_sql_t        update_sql;
    ngx_collab_batch_sql_t        insert_sql;

    ngx_collab_wake_handler_t     wake[COLLAB_WAKE_HANDLERS];
    ngx_uint_t                    nwake;

    /* the express way: filled in storage threads, under the mutex */
    ngx_thread_mutex_t            mutex;
    ngx_collab_express_t         *express;     /* in the order of writing */
    ngx_collab_express_t        **express_last;
    ngx_uint_t                    nexpress;
    ngx_atomic_t                  sending;     /* inflight, for threads */
} ngx_collab_outbox;


static int ngx_collab_outbox_deliveries(ngx_collab_event_t *ev);
static void ngx_collab_outbox_committed(ngx_uint_t wake);
static ngx_int_t ngx_collab_run_init(ngx_collab_batch_t *b);
static ngx_uint_t ngx_collab_run_room(void);
static void ngx_collab_run_prepare(ngx_collab_batch_t *b);
static int ngx_collab_run_write(ngx_collab_batch_t *b, int64_t now);
static int ngx_collab_run_claim(ngx_collab_batch_t *b, int64_t now);
static void ngx_collab_run_done(ngx_collab_batch_t *b, ngx_int_t rc);
static void ngx_collab_outbox_tick(void);
static void ngx_collab_outbox_result(ngx_collab_delivery_t *d,
    ngx_collab_outcome_t *o, ngx_collab_target_t *t);
static ngx_collab_target_t *ngx_collab_target(ngx_collab_hook_t *h);
static void ngx_collab_target_free(ngx_collab_target_t *t);
static void ngx_collab_express_send(void);
static int ngx_collab_outbox_insert(ngx_str_t *webhook, ngx_str_t *event_id,
    const char *event, ngx_str_t *payload, int64_t now, int64_t lease,
    ngx_str_t *id);
static ngx_msec_t ngx_collab_outbox_lease(void);
static void ngx_collab_outbox_metrics(void);


/*
 * The consumers of events.  Each fan-out runs in the transaction that
 * records the event: webhook deliveries, workflow executions
 * (ngx_collab_executions.c).
 */
static const ngx_collab_consumer_t  ngx_collab_consumers[] = {
    { "deliveries", COLLAB_WAKE_DELIVERIES, ngx_collab_outbox_deliveries },
    { "executions", COLLAB_WAKE_EXECUTIONS, ngx_collab_executions_fanout },
    { NULL, 0, NULL }
};


static const char  ngx_collab_sql_event_insert[] =
    "INSERT INTO events (id, account_id, room_id, type, data, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char  ngx_collab_sql_delivery_insert[] =
    "INSERT INTO deliveries (id, webhook_id, event_id, event, payload,"
    " status, next_attempt_at, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)";

static const char  ngx_collab_sql_webhook_target[] =
    "SELECT url, secret, previous_secret, previous_until, updated_at"
    " FROM webhooks WHERE id = ?1 AND enabled = 1";

static const char  ngx_collab_sql_express_check[] =
    "SELECT 1 FROM deliveries WHERE seq = ?1 AND id = ?2";

/*
 * A claimed delivery's next_attempt_at is its lease: it leaves the range
 * of due deliveries until the lease runs out, so these queries touch only
 * what can be sent, however long the backlog.
 */
static const char  ngx_collab_sql_due_webhooks[] =
    "SELECT id, url, secret, previous_secret, previous_until, updated_at"
    " FROM webhooks WHERE enabled = 1 AND EXISTS"
    " (SELECT 1 FROM deliveries WHERE webhook_id = webhooks.id"
    " AND status = 'pending' AND next_attempt_at <= ?1)"
    " LIMIT 64";

static const char  ngx_collab_sql_claim[] =
    "UPDATE deliveries SET next_attempt_at = ?3 WHERE seq IN"
    " (SELECT seq FROM deliveries WHERE webhook_id = ?1"
    " AND status = 'pending' AND next_attempt_at <= ?2"
    " ORDER BY next_attempt_at LIMIT ?4)"
    " RETURNING seq, id, payload, attempts";

static const char  ngx_collab_sql_webhook_gone[] =
    "UPDATE webhooks SET enabled = 0, updated_at = ?2"
    " WHERE id = ?1 AND enabled = 1"
    " RETURNING account_id, room_id, event_mask";

/*
 * The partial index of due deliveries holds the pending ones and nothing
 * else: counting its entries reads no row, however many deliveries ended.
 */
static const char  ngx_collab_sql_pending[] =
    "SELECT count(*) FROM deliveries INDEXED BY deliveries_due"
    " WHERE status = 'pending'";

static const char  ngx_collab_sql_purge[] =
    "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries"
    " WHERE created_at < ?1 AND status != 'pending' LIMIT 1000)";


/* the outcome statements: one row of VALUES per outcome */
#define COLLAB_UPDATE_HEAD                                                    \
    "WITH o (seq, status, next, at, code, duration, error) AS (VALUES "
#define COLLAB_UPDATE_ROW         "(?,?,?,?,?,?,?)"
#define COLLAB_UPDATE_TAIL                                                    \
    ") UPDATE deliveries SET status = o.status, attempts = attempts + 1,"    \
    " next_attempt_at = o.next, last_attempt_at = o.at,"                     \
    " status_code = o.code, duration_ms = o.duration, error = o.error"       \
    " FROM o WHERE deliveries.seq = o.seq AND deliveries.status = 'pending'"

#define COLLAB_INSERT_HEAD                                                    \
    "WITH o (seq, at, code, duration, error, response) AS (VALUES "
#define COLLAB_INSERT_ROW         "(?,?,?,?,?,?)"
#define COLLAB_INSERT_TAIL                                                    \
    ") INSERT INTO delivery_attempts (delivery_seq, at, status_code,"        \
    " duration_ms, error, response)"                                         \
    " SELECT seq, at, code, duration, error, response FROM o"                \
    " WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = o.seq)"


/* the deliveries' batches */
static const ngx_collab_batch_ops_t  ngx_collab_deliveries_ops = {
    "delivery",
    sizeof(ngx_collab_run_t),
    sizeof(ngx_collab_result_t),
    32,
    COLLAB_HOLD,
    ngx_collab_sql_purge,
    0,
    ngx_collab_run_init,
    ngx_collab_run_room,
    ngx_collab_outbox_lease,
    ngx_collab_run_prepare,
    ngx_collab_run_write,
    ngx_collab_run_claim,
    ngx_collab_run_done,
    ngx_collab_outbox_tick
};



/* --- events and fan-out (in a storage thread) ---------------------------- */

/*
 * Records an event and fans it out; the caller is inside the work of the
 * change that causes it.  Returns SQLITE_OK or the SQLite error.
 */
int
ngx_collab_event_record(ngx_str_t *account, ngx_str_t *room,
    ngx_collab_event_e type, collab_json_t *data, int64_t now)
{
    ngx_str_t  id;
    char       idbuf[COLLAB_ID_MAX];

    id.len = collab_id_new(idbuf, "evt_");
    id.data = (u_char *) idbuf;

    return ngx_collab_event_record_id(&id, account, room, type, data, now);
}


/* the same, under an id chosen before (presence names its events early) */
int
ngx_collab_event_record_id(ngx_str_t *id, ngx_str_t *account,
    ngx_str_t *room, ngx_collab_event_e type, collab_json_t *data,
    int64_t now)
{
    int                           rc;
    ngx_str_t                     payload;
    sqlite3_stmt                 *st;
    collab_json_t                 envelope;
    ngx_collab_event_t            ev;
    const ngx_collab_consumer_t  *c;

    if (data->failed) {
        return SQLITE_NOMEM;
    }

    ev.account = account;
    ev.room = room;
    ev.type = type;
    ev.name = ngx_collab_event_name(type);
    ev.id = *id;
    ev.at = now;

    st = ngx_collab_db_stmt(ngx_collab_sql_event_insert);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &ev.id);
    ngx_collab_db_bind_str(st, 2, account);
    ngx_collab_db_bind_str(st, 3, room);
    ngx_collab_db_bind_cstr(st, 4, ev.name);
    sqlite3_bind_text(st, 5, (char *) data->data, (int) data->len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    ngx_collab_metrics_txn_inc(COLLAB_M_EVENTS + type, 1);

    /* the receivers of every consumer get the envelope */
    collab_json_init(&envelope);
    payload.data = data->data;
    payload.len = data->len;
    ngx_collab_event_envelope(&envelope, ev.name, &payload, now);

    if (envelope.failed) {
        collab_json_free(&envelope);
        return SQLITE_NOMEM;
    }

    ev.payload.data = envelope.data;
    ev.payload.len = envelope.len;

    rc = SQLITE_OK;

    for (c = ngx_collab_consumers; c->name && rc == SQLITE_OK; c++) {
        rc = c->fanout(&ev);
    }

    collab_json_free(&envelope);

    return rc;
}


/*
 * Inside the fan-out: what the express way needs of an enabled webhook
 * (its row, the payload, room for the delivery's id), or *ep = NULL when
 * the webhook is disabled and the delivery goes the usual way.
 */
static ngx_int_t
ngx_collab_express_new(ngx_str_t *webhook, ngx_str_t *payload,
    ngx_collab_express_t **ep)
{
    u_char                *p;
    size_t                 len;
    ngx_str_t              url, secret, previous;
    sqlite3_stmt          *st;
    ngx_collab_express_t  *e;

    *ep = NULL;

    st = ngx_collab_db_stmt(ngx_collab_sql_webhook_target);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, webhook);

    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NGX_OK;
    }

    ngx_collab_db_col(st, 0, &url);
    ngx_collab_db_col(st, 1, &secret);
    ngx_collab_db_col(st, 2, &previous);

    len = sizeof(ngx_collab_express_t) + webhook->len + url.len + secret.len
          + previous.len + payload->len + COLLAB_ID_MAX + 5;

    e = ngx_alloc(len, ngx_cycle->log);
    if (e == NULL) {
        sqlite3_reset(st);
        return NGX_ERROR;
    }

    ngx_memzero(e, sizeof(ngx_collab_express_t));

    p = (u_char *) e + sizeof(ngx_collab_express_t);

#define ngx_collab_express_str(dst, src)                                      \
    (dst)->data = p; (dst)->len = (src)->len;                                 \
    p = ngx_cpymem(p, (src)->data, (src)->len); *p++ = '\0'

    ngx_collab_express_str(&e->hook.id, webhook);
    ngx_collab_express_str(&e->hook.url, &url);
    ngx_collab_express_str(&e->hook.secret, &secret);
    ngx_collab_express_str(&e->payload, payload);

    if (previous.data) {
        ngx_collab_express_str(&e->hook.previous, &previous);
    }

#undef ngx_collab_express_str

    e->id.data = p;
    e->hook.previous_until = sqlite3_column_int64(st, 3);
    e->hook.updated_at = sqlite3_column_int64(st, 4);

    sqlite3_reset(st);

    *ep = e;

    return NGX_OK;
}


/* the delivery is written: it waits for the commit */
static void
ngx_collab_express_keep(ngx_collab_express_t *e, ngx_str_t *id, int64_t seq)
{
    e->id.len = id->len;
    ngx_memcpy(e->id.data, id->data, id->len);
    e->seq = seq;

    e->next = NULL;

    ngx_thread_mutex_lock(&ngx_collab_outbox.mutex, ngx_cycle->log);

    *ngx_collab_outbox.express_last = e;
    ngx_collab_outbox.express_last = &e->next;
    ngx_collab_outbox.nexpress++;

    ngx_thread_mutex_unlock(&ngx_collab_outbox.mutex, ngx_cycle->log);
}


/* the express way while the worker's attempts leave room for one more */
static ngx_uint_t
ngx_collab_express_room(void)
{
    ngx_uint_t  n;

    if (!ngx_collab_outbox.batcher.ready || ngx_collab_outbox.send == NULL) {
        return 0;
    }

    ngx_thread_mutex_lock(&ngx_collab_outbox.mutex, ngx_cycle->log);
    n = ngx_collab_outbox.nexpress;
    ngx_thread_mutex_unlock(&ngx_collab_outbox.mutex, ngx_cycle->log);

    return n + ngx_collab_outbox.sending < ngx_collab_outbox.conf->concurrency;
}


/* the deliveries consumer: one per matching webhook of the shm registry */
static int
ngx_collab_outbox_deliveries(ngx_collab_event_t *ev)
{
    int         rc;
    ngx_str_t   webhook, id;
    ngx_uint_t  i, n;
    u_char      ids[100][COLLAB_ID_MAX];
    u_char      idbuf[COLLAB_ID_MAX];

    n = ngx_collab_shm_hooks_match(ev->account, ev->room, ev->type, ids, 100);

    for (i = 0; i < n; i++) {
        webhook.data = ids[i];
        webhook.len = ngx_strlen(ids[i]);
        id.data = idbuf;

        rc = ngx_collab_outbox_delivery_add(&webhook, &ev->id, ev->name,
                                            &ev->payload, ev->at, &id);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }

    return SQLITE_OK;
}


/*
 * A pending delivery of an event to one webhook: the express way when the
 * worker has room and the webhook is enabled, else due at once for the
 * next claim.
 */
int
ngx_collab_outbox_delivery_add(ngx_str_t *webhook, ngx_str_t *event_id,
    const char *event, ngx_str_t *payload, int64_t now, ngx_str_t *id)
{
    int                    rc;
    int64_t                lease;
    ngx_collab_express_t  *e;

    e = NULL;
    lease = 0;

    if (ngx_collab_express_room()) {
        if (ngx_collab_express_new(webhook, payload, &e) != NGX_OK) {
            return SQLITE_NOMEM;
        }

        if (e) {
            lease = now + ngx_collab_outbox_lease();
        }
    }

    rc = ngx_collab_outbox_insert(webhook, event_id, event, payload, now,
                                  lease, id);
    if (rc != SQLITE_OK) {
        if (e) {
            ngx_free(e);
        }

        return rc;
    }

    if (e) {
        ngx_collab_express_keep(e, id,
                           sqlite3_last_insert_rowid(ngx_collab_db_handle()));
    }

    ngx_collab_store_wake(e ? COLLAB_WAKE_EXPRESS : COLLAB_WAKE_DELIVERIES);

    return SQLITE_OK;
}


/* a pending delivery, due at once, or leased until "lease" */
static int
ngx_collab_outbox_insert(ngx_str_t *webhook, ngx_str_t *event_id,
    const char *event, ngx_str_t *payload, int64_t now, int64_t lease,
    ngx_str_t *id)
{
    int            rc;
    sqlite3_stmt  *st;

    id->len = collab_id_new((char *) id->data, "dlv_");

    st = ngx_collab_db_stmt(ngx_collab_sql_delivery_insert);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, id);
    ngx_collab_db_bind_str(st, 2, webhook);
    ngx_collab_db_bind_str(st, 3, event_id);
    ngx_collab_db_bind_cstr(st, 4, event);
    ngx_collab_db_bind_str(st, 5, payload);
    sqlite3_bind_int64(st, 6, lease ? lease : now);
    sqlite3_bind_int64(st, 7, now);

    rc = sqlite3_step(st);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}


/*
 * A claim's lease: the wait for a turn (a timeout for each concurrency's
 * worth of attempts ahead) and the attempt itself.
 */
static ngx_msec_t
ngx_collab_outbox_lease(void)
{
    return COLLAB_CLAIM_AHEAD * ngx_collab_outbox.conf->timeout
           + ngx_collab_outbox.conf->connect_timeout
           + ngx_collab_outbox.conf->resolver_timeout
           + COLLAB_LEASE_MARGIN;
}


/* --- the worker's outbox (event loop) ------------------------------------ */

ngx_int_t
ngx_collab_outbox_init(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf)
{
    ngx_collab_outbox.log = cycle->log;
    ngx_collab_outbox.conf = &cmcf->webhook;

    ngx_queue_init(&ngx_collab_outbox.targets);
    ngx_queue_init(&ngx_collab_outbox.stale);
    ngx_collab_outbox.express_last = &ngx_collab_outbox.express;

    if (ngx_thread_mutex_create(&ngx_collab_outbox.mutex, cycle->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_collab_batch_sql_init(&ngx_collab_outbox.update_sql, cycle->pool,
                                  COLLAB_UPDATE_HEAD, COLLAB_UPDATE_ROW,
                                  COLLAB_UPDATE_TAIL)
        != NGX_OK
        || ngx_collab_batch_sql_init(&ngx_collab_outbox.insert_sql,
                                     cycle->pool, COLLAB_INSERT_HEAD,
                                     COLLAB_INSERT_ROW, COLLAB_INSERT_TAIL)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_collab_batcher_init(&ngx_collab_outbox.batcher,
                            &ngx_collab_deliveries_ops, cycle->log,
                            cmcf->webhook.delivery_retention);

    if (ngx_collab_store_on_commit(ngx_collab_outbox_committed) != NGX_OK) {
        return NGX_ERROR;
    }

    (void) ngx_collab_metrics_collector(ngx_collab_outbox_metrics);

    /* deliveries left by a previous run go out as soon as the worker is up */
    ngx_collab_batcher_start(&ngx_collab_outbox.batcher, 10);

    return NGX_OK;
}


void
ngx_collab_outbox_exit(void)
{
    ngx_queue_t           *q;
    ngx_collab_target_t   *t;
    ngx_collab_express_t  *e;

    if (!ngx_collab_outbox.batcher.ready) {
        return;
    }

    /*
     * A batch still waiting here is lost: its claims come back when their
     * leases end, and its outcomes are sent again (at least once).
     */
    ngx_collab_batcher_exit(&ngx_collab_outbox.batcher);

    /* the pool's threads have ended: the list is the event loop's now */
    while (ngx_collab_outbox.express) {
        e = ngx_collab_outbox.express;
        ngx_collab_outbox.express = e->next;
        ngx_free(e);
    }

    while (!ngx_queue_empty(&ngx_collab_outbox.targets)) {
        q = ngx_queue_head(&ngx_collab_outbox.targets);
        ngx_queue_remove(q);
        t = ngx_queue_data(q, ngx_collab_target_t, queue);
        ngx_collab_target_free(t);
    }

    while (!ngx_queue_empty(&ngx_collab_outbox.stale)) {
        q = ngx_queue_head(&ngx_collab_outbox.stale);
        ngx_queue_remove(q);
        t = ngx_queue_data(q, ngx_collab_target_t, queue);
        ngx_collab_target_free(t);
    }
}


void
ngx_collab_outbox_deliver(ngx_collab_send_pt send)
{
    ngx_collab_outbox.send = send;
}


ngx_int_t
ngx_collab_outbox_on_wake(ngx_uint_t wake, ngx_collab_wake_pt handler)
{
    if (ngx_collab_outbox.nwake == COLLAB_WAKE_HANDLERS) {
        return NGX_ERROR;
    }

    ngx_collab_outbox.wake[ngx_collab_outbox.nwake].wake = wake;
    ngx_collab_outbox.wake[ngx_collab_outbox.nwake].handler = handler;
    ngx_collab_outbox.nwake++;

    return NGX_OK;
}


/* after a commit of the store (event loop): wake whom it concerns */
static void
ngx_collab_outbox_committed(ngx_uint_t wake)
{
    ngx_uint_t  i;

    if (!ngx_collab_outbox.batcher.ready) {
        return;
    }

    if (wake & COLLAB_WAKE_DELIVERIES) {
        ngx_collab_batcher_wake(&ngx_collab_outbox.batcher);
    }

    if (wake & COLLAB_WAKE_EXPRESS) {
        ngx_collab_express_send();
    }

    for (i = 0; i < ngx_collab_outbox.nwake; i++) {
        if (wake & ngx_collab_outbox.wake[i].wake) {
            ngx_collab_outbox.wake[i].handler();
        }
    }
}


/* a tick of the batcher's clock */
static void
ngx_collab_outbox_tick(void)
{
    if (ngx_collab_outbox.express) {
        /* what a failed commit left behind is let go */
        ngx_collab_express_send();
    }
}


static ngx_int_t
ngx_collab_run_init(ngx_collab_batch_t *b)
{
    ngx_collab_run_t  *run;

    run = (ngx_collab_run_t *) b;

    if (ngx_array_init(&run->gone, b->pool, 1, sizeof(ngx_collab_gone_t))
        != NGX_OK
        || ngx_array_init(&run->busy, b->pool, 4, sizeof(ngx_collab_busy_t))
           != NGX_OK
        || ngx_array_init(&run->hooks, b->pool, 4, sizeof(ngx_collab_hook_t))
           != NGX_OK
        || ngx_array_init(&run->claimed, b->pool, 32,
                          sizeof(ngx_collab_claimed_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the attempts a claim may add to those in flight */
static ngx_uint_t
ngx_collab_run_room(void)
{
    if (ngx_collab_outbox.send == NULL) {
        return 0;
    }

    return COLLAB_INFLIGHT_MAX - ngx_collab_outbox.inflight;
}


/* the webhooks of a list of targets with attempts in flight */
static ngx_int_t
ngx_collab_run_busy_add(ngx_collab_run_t *run, ngx_queue_t *list)
{
    ngx_queue_t          *q;
    ngx_collab_busy_t    *busy;
    ngx_collab_target_t  *t;

    for (q = ngx_queue_head(list);
         q != ngx_queue_sentinel(list);
         q = ngx_queue_next(q))
    {
        t = ngx_queue_data(q, ngx_collab_target_t, queue);

        if (t->inflight == 0) {
            continue;
        }

        busy = ngx_array_push(&run->busy);
        if (busy == NULL) {
            return NGX_ERROR;
        }

        busy->webhook = t->webhook;
        busy->inflight = t->inflight;
    }

    return NGX_OK;
}


/*
 * Before a claim: how many attempts each webhook already has going, the
 * stale targets' (whose webhook changed) included.
 */
static void
ngx_collab_run_prepare(ngx_collab_batch_t *b)
{
    ngx_collab_run_t  *run;

    run = (ngx_collab_run_t *) b;

    run->concurrency = COLLAB_CLAIM_AHEAD
                       * ngx_collab_outbox.conf->concurrency;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_collab_outbox.log, 0,
                   "collab outbox: %ui in flight", ngx_collab_outbox.inflight);

    if (ngx_collab_run_busy_add(run, &ngx_collab_outbox.targets) != NGX_OK
        || ngx_collab_run_busy_add(run, &ngx_collab_outbox.stale) != NGX_OK)
    {
        b->claim = 0;
    }
}


/* --- the batch (in a storage thread) ------------------------------------- */

/*
 * The outcomes, set-based: one UPDATE of the deliveries joined with the
 * rows of VALUES by sequence number, one INSERT of every attempt; a batch
 * larger than the largest statement takes several.  Unused rows of a
 * statement stay NULL and match nothing.
 */
static int
ngx_collab_run_results(ngx_collab_run_t *run)
{
    int                   rc, k;
    ngx_uint_t            i, n, done;
    sqlite3_stmt         *st;
    ngx_collab_result_t  *r;

    r = run->batch.results.elts;

    for (done = 0; done < run->batch.results.nelts; done += n) {
        n = ngx_min(run->batch.results.nelts - done, COLLAB_BATCH_MAX);

        st = ngx_collab_batch_stmt(&ngx_collab_outbox.update_sql, n);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        for (i = 0; i < n; i++) {
            k = (int) (i * 7);
            sqlite3_bind_int64(st, k + 1, r[done + i].seq);
            ngx_collab_db_bind_cstr(st, k + 2, r[done + i].status);

            if (r[done + i].next) {
                sqlite3_bind_int64(st, k + 3, r[done + i].next);
            }

            sqlite3_bind_int64(st, k + 4, r[done + i].at);

            if (r[done + i].code >= 0) {
                sqlite3_bind_int(st, k + 5, (int) r[done + i].code);
            }

            sqlite3_bind_int64(st, k + 6, r[done + i].duration);
            ngx_collab_batch_bind_text(st, k + 7, &r[done + i].error);
        }

        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            return rc;
        }

        st = ngx_collab_batch_stmt(&ngx_collab_outbox.insert_sql, n);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        for (i = 0; i < n; i++) {
            k = (int) (i * 6);
            sqlite3_bind_int64(st, k + 1, r[done + i].seq);
            sqlite3_bind_int64(st, k + 2, r[done + i].at);

            if (r[done + i].code >= 0) {
                sqlite3_bind_int(st, k + 3, (int) r[done + i].code);
            }

            sqlite3_bind_int64(st, k + 4, r[done + i].duration);
            ngx_collab_batch_bind_text(st, k + 5, &r[done + i].error);
            ngx_collab_batch_bind_text(st, k + 6, &r[done + i].response);
        }

        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            return rc;
        }
    }

    return SQLITE_OK;
}


static int
ngx_collab_run_gone(ngx_collab_run_t *run, int64_t now)
{
    int                 rc;
    ngx_uint_t          i;
    sqlite3_stmt       *st;
    ngx_collab_gone_t  *g;

    g = run->gone.elts;

    for (i = 0; i < run->gone.nelts; i++) {
        st = ngx_collab_db_stmt(ngx_collab_sql_webhook_gone);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &g[i].webhook);
        sqlite3_bind_int64(st, 2, now);

        rc = sqlite3_step(st);

        if (rc == SQLITE_ROW) {
            if (ngx_collab_db_dup(run->batch.pool, st, 0, &g[i].account)
                != NGX_OK
                || ngx_collab_db_dup(run->batch.pool, st, 1, &g[i].room)
                   != NGX_OK)
            {
                return SQLITE_NOMEM;
            }

            g[i].mask = (uint32_t) sqlite3_column_int64(st, 2);
            g[i].disabled = 1;

            rc = sqlite3_step(st);
        }

        if (rc != SQLITE_DONE) {
            return rc;
        }
    }

    return SQLITE_OK;
}


static ngx_uint_t
ngx_collab_run_busy(ngx_collab_run_t *run, ngx_str_t *webhook)
{
    ngx_uint_t          i, n;
    ngx_collab_busy_t  *b;

    b = run->busy.elts;
    n = 0;

    for (i = 0; i < run->busy.nelts; i++) {
        if (b[i].webhook.len == webhook->len
            && ngx_memcmp(b[i].webhook.data, webhook->data, webhook->len)
               == 0)
        {
            n += b[i].inflight;
        }
    }

    return n;
}


/* the outcomes, and the webhooks that answered 410 */
static int
ngx_collab_run_write(ngx_collab_batch_t *b, int64_t now)
{
    int                rc;
    ngx_collab_run_t  *run;

    run = (ngx_collab_run_t *) b;

    rc = ngx_collab_run_results(run);

    if (rc == SQLITE_OK) {
        rc = ngx_collab_run_gone(run, now);
    }

    return rc;
}


/* claims due deliveries, webhook by webhook, as far as each has room */
static int
ngx_collab_run_claim(ngx_collab_batch_t *b, int64_t now)
{
    int                    rc;
    ngx_uint_t             i, room, busy, left;
    sqlite3_stmt          *st;
    ngx_collab_run_t      *run;
    ngx_collab_hook_t     *h;
    ngx_collab_claimed_t  *c;

    run = (ngx_collab_run_t *) b;

    st = ngx_collab_db_stmt(ngx_collab_sql_due_webhooks);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    sqlite3_bind_int64(st, 1, now);

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        h = ngx_array_push(&run->hooks);
        if (h == NULL) {
            return SQLITE_NOMEM;
        }

        ngx_memzero(h, sizeof(ngx_collab_hook_t));

        if (ngx_collab_db_dup(b->pool, st, 0, &h->id) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 1, &h->url) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 2, &h->secret) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 3, &h->previous) != NGX_OK)
        {
            return SQLITE_NOMEM;
        }

        h->previous_until = sqlite3_column_int64(st, 4);
        h->updated_at = sqlite3_column_int64(st, 5);
    }

    if (rc != SQLITE_DONE) {
        return rc;
    }

    if (run->hooks.nelts == COLLAB_CLAIM_HOOKS) {
        /* webhooks past the first ones may have room */
        b->more = 1;
        b->again = 1;
    }

    left = b->claim;
    h = run->hooks.elts;

    for (i = 0; i < run->hooks.nelts && left; i++) {
        h[i].first = run->claimed.nelts;

        busy = ngx_collab_run_busy(run, &h[i].id);

        if (busy >= run->concurrency) {
            /* the next outcome of this webhook makes room */
            b->more = 1;
            continue;
        }

        room = ngx_min(run->concurrency - busy, left);

        st = ngx_collab_db_stmt(ngx_collab_sql_claim);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &h[i].id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, now + b->lease);
        sqlite3_bind_int64(st, 4, room);

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            c = ngx_array_push(&run->claimed);
            if (c == NULL) {
                return SQLITE_NOMEM;
            }

            c->seq = sqlite3_column_int64(st, 0);
            c->attempts = (ngx_uint_t) sqlite3_column_int64(st, 3);

            if (ngx_collab_db_dup(b->pool, st, 1, &c->id) != NGX_OK
                || ngx_collab_db_dup(b->pool, st, 2, &c->payload)
                   != NGX_OK)
            {
                return SQLITE_NOMEM;
            }
        }

        if (rc != SQLITE_DONE) {
            return rc;
        }

        h[i].n = run->claimed.nelts - h[i].first;
        left -= h[i].n;

        if (h[i].n == room) {
            /* as many as there was room for: there may be more */
            b->more = 1;
        }
    }

    if (left == 0 && i < run->hooks.nelts) {
        /* the claim's own bound stopped it: go on at once */
        b->again = 1;
    }

    return SQLITE_OK;
}


/* --- after the batch (event loop) ----------------------------------------- */

static void
ngx_collab_run_done(ngx_collab_batch_t *b, ngx_int_t rc)
{
    ngx_uint_t               i, k;
    ngx_collab_run_t        *run;
    ngx_collab_gone_t       *g;
    ngx_collab_hook_t       *h;
    ngx_collab_target_t     *t;
    ngx_collab_claimed_t    *c;
    ngx_collab_delivery_t    d;

    if (rc != NGX_OK) {
        /* the claims were rolled back; outcomes lost are sent again */
        return;
    }

    run = (ngx_collab_run_t *) b;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_collab_outbox.log, 0,
                   "collab outbox: batch done, %ui outcomes, %ui claimed, "
                   "%ui purged", b->results.nelts, run->claimed.nelts,
                   b->purged);

    g = run->gone.elts;

    for (i = 0; i < run->gone.nelts; i++) {
        if (!g[i].disabled) {
            continue;
        }

        (void) ngx_collab_shm_hook_set(&g[i].account, &g[i].webhook,
                                       g[i].room.data ? &g[i].room : NULL,
                                       g[i].mask, 0);

        ngx_log_error(NGX_LOG_NOTICE, ngx_collab_outbox.log, 0,
                      "collab: webhook \"%V\" disabled: its endpoint "
                      "answered 410 Gone", &g[i].webhook);
    }

    h = run->hooks.elts;
    c = run->claimed.elts;

    for (i = 0; i < run->hooks.nelts; i++) {
        if (h[i].n == 0) {
            continue;
        }

        t = ngx_collab_target(&h[i]);

        if (t == NULL) {
            /* out of memory: these keep their lease and come back */
            continue;
        }

        for (k = h[i].first; k < h[i].first + h[i].n; k++) {
            d.seq = c[k].seq;
            d.id = c[k].id;
            d.payload = c[k].payload;
            d.attempt = c[k].attempts + 1;
            d.target = t;

            t->inflight++;
            ngx_collab_outbox.inflight++;
            ngx_collab_outbox.sending = ngx_collab_outbox.inflight;

            ngx_collab_outbox.send(&d);
        }
    }
}


/* --- outcomes and retries ------------------------------------------------ */

static ngx_msec_t
ngx_collab_retry_delay(ngx_collab_outcome_t *o, ngx_uint_t n)
{
    ngx_msec_t   d, floor, longest, ra, *sched;
    ngx_uint_t   i;

    sched = ngx_collab_outbox.conf->retry_schedule->elts;

    d = sched[n - 1];

    /* each delay is drawn from [0.8 d, 1.2 d] */
    d = (ngx_msec_t) ((double) d * (0.8 + 0.4 * (ngx_random() % 10001)
                                          / 10000.0));

    if (o->timed_out || o->status == 429) {
        longest = 0;

        for (i = 0; i < ngx_collab_outbox.conf->retry_schedule->nelts; i++) {
            longest = ngx_max(longest, sched[i]);
        }

        /* at least a minute, unless the whole schedule is shorter */
        floor = ngx_min(COLLAB_RETRY_FLOOR, longest);
        d = ngx_max(d, floor);
    }

    if (o->retry_after >= 0) {
        ra = (ngx_msec_t) o->retry_after * 1000;
        d = ngx_max(ra, d);
        d = ngx_min(d, 2 * sched[n - 1]);
        d = ngx_max(d, sched[n - 1]);
    }

    return d;
}


/*
 * The outcome of an attempt joins the next batch, with the delivery's new
 * state: success, another attempt later (as the retry rules say), or
 * failed once the attempts run out or the endpoint is gone.
 */
void
ngx_collab_outbox_sent(ngx_collab_delivery_t *d, ngx_collab_outcome_t *o)
{
    ngx_collab_target_t  *t;

    ngx_collab_metrics_observe(COLLAB_H_ATTEMPT_DURATION, o->duration);
    ngx_collab_metrics_inc(o->timed_out ? COLLAB_M_ATTEMPT_TIMEOUT
                           : o->error ? COLLAB_M_ATTEMPT_ERROR
                           : (o->status >= 200 && o->status < 300)
                             ? COLLAB_M_ATTEMPT_SUCCESS
                             : COLLAB_M_ATTEMPT_HTTP_ERROR, 1);

    t = d->target;
    d->target = NULL;

    ngx_collab_outbox_result(d, o, t);

    /* the target is let go once the outcome (a 410 names it) is kept */
    t->inflight--;
    ngx_collab_outbox.inflight--;
    ngx_collab_outbox.sending = ngx_collab_outbox.inflight;

    if (t->stale && t->inflight == 0) {
        ngx_queue_remove(&t->queue);
        ngx_collab_target_free(t);
    }
}


static void
ngx_collab_outbox_result(ngx_collab_delivery_t *d, ngx_collab_outcome_t *o,
    ngx_collab_target_t *t)
{
    ngx_str_t             text;
    ngx_uint_t            max, success;
    const char           *error;
    ngx_collab_batch_t   *b;
    ngx_collab_run_t     *run;
    ngx_collab_gone_t    *g;
    ngx_collab_result_t  *res;
    u_char                buf[64];

    b = ngx_collab_batcher_collect(&ngx_collab_outbox.batcher);
    if (b == NULL) {
        /* the lease runs out and the delivery is tried again */
        return;
    }

    run = (ngx_collab_run_t *) b;

    res = ngx_array_push(&b->results);
    if (res == NULL) {
        return;
    }

    ngx_memzero(res, sizeof(ngx_collab_result_t));

    max = ngx_collab_outbox.conf->retry_schedule->nelts + 1;
    success = (o->error == NULL && o->status >= 200 && o->status < 300);
    error = o->error;

    if (error == NULL && !success) {
        ngx_snprintf(buf, sizeof(buf) - 1, "the endpoint answered %i%Z",
                     o->status);
        error = (char *) buf;
    }

    res->seq = d->seq;
    res->at = o->at;
    res->duration = o->duration;
    res->code = o->status;

    if (success) {
        res->status = "success";
        ngx_collab_metrics_inc(COLLAB_M_DELIVERY_SUCCESS, 1);

    } else if ((o->error == NULL && o->status == 410) || d->attempt >= max) {
        res->status = "failed";
        ngx_collab_metrics_inc(COLLAB_M_DELIVERY_FAILED, 1);

    } else {
        res->status = "pending";
        res->next = collab_now_ms()
                    + ngx_collab_retry_delay(o, d->attempt);
    }

    if (!success) {
        text.data = (u_char *) error;
        text.len = ngx_strlen(error);

        if (ngx_collab_batch_copy(b->pool, &res->error, &text) != NGX_OK) {
            b->results.nelts--;
            return;
        }
    }

    if (ngx_collab_batch_copy(b->pool, &res->response, &o->response)
        != NGX_OK)
    {
        b->results.nelts--;
        return;
    }

    if (o->error == NULL && o->status == 410) {
        g = ngx_array_push(&run->gone);

        if (g) {
            ngx_memzero(g, sizeof(ngx_collab_gone_t));

            if (ngx_collab_batch_copy(b->pool, &g->webhook, &t->webhook)
                != NGX_OK)
            {
                run->gone.nelts--;
            }
        }
    }
}


/* --- the express way (event loop) ---------------------------------------- */

/*
 * After a commit that kept deliveries aside: each one whose row is there
 * (its work was committed, not rolled back to its savepoint) is sent at
 * once.  One that is not there yet may belong to the group that runs now:
 * it is looked for once more after the next commit, and then let go.
 */
static void
ngx_collab_express_send(void)
{
    int                     rc;
    ngx_uint_t              n;
    sqlite3_stmt           *st;
    ngx_collab_target_t    *t;
    ngx_collab_express_t   *e, *next, *keep, **last;
    ngx_collab_delivery_t   d;

    ngx_thread_mutex_lock(&ngx_collab_outbox.mutex, ngx_cycle->log);

    e = ngx_collab_outbox.express;
    ngx_collab_outbox.express = NULL;
    ngx_collab_outbox.express_last = &ngx_collab_outbox.express;
    ngx_collab_outbox.nexpress = 0;

    ngx_thread_mutex_unlock(&ngx_collab_outbox.mutex, ngx_cycle->log);

    /* in the order they were written, so that they leave in that order */
    keep = NULL;
    last = &keep;
    n = 0;

    for ( /* void */ ; e; e = next) {
        next = e->next;

        st = ngx_collab_db_stmt(ngx_collab_sql_express_check);
        if (st == NULL) {
            /* no read now: the lease runs out and a claim takes it */
            ngx_free(e);
            continue;
        }

        sqlite3_bind_int64(st, 1, e->seq);
        ngx_collab_db_bind_str(st, 2, &e->id);

        rc = sqlite3_step(st);

        if (rc != SQLITE_ROW) {
            sqlite3_reset(st);

            /*
             * A read that could not be made now (the log being truncated,
             * say) does not count: the next commit or tick tries again.
             * The list stays short: it counts against the worker's room.
             */
            e->checks += (rc == SQLITE_DONE) ? 1 : 0;

            if (e->checks < 2) {
                e->next = NULL;
                *last = e;
                last = &e->next;
                n++;

            } else {
                ngx_free(e);
            }

            continue;
        }

        sqlite3_reset(st);

        t = ngx_collab_target(&e->hook);

        if (t && ngx_collab_outbox.send) {
            d.seq = e->seq;
            d.id = e->id;
            d.payload = e->payload;
            d.attempt = 1;
            d.target = t;

            t->inflight++;
            ngx_collab_outbox.inflight++;
            ngx_collab_outbox.sending = ngx_collab_outbox.inflight;

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_collab_outbox.log, 0,
                           "collab outbox: express delivery %V", &e->id);

            ngx_collab_outbox.send(&d);
        }

        ngx_free(e);
    }

    ngx_collab_db_release();

    if (keep == NULL) {
        return;
    }

    /* what waits goes back before what was written meanwhile */
    ngx_thread_mutex_lock(&ngx_collab_outbox.mutex, ngx_cycle->log);

    *last = ngx_collab_outbox.express;

    if (ngx_collab_outbox.express == NULL) {
        ngx_collab_outbox.express_last = last;
    }

    ngx_collab_outbox.express = keep;
    ngx_collab_outbox.nexpress += n;

    ngx_thread_mutex_unlock(&ngx_collab_outbox.mutex, ngx_cycle->log);
}


/* --- targets ------------------------------------------------------------- */

static void
ngx_collab_target_free(ngx_collab_target_t *t)
{
    collab_signer_free(t->hex);
    collab_signer_free(t->v1);
    collab_signer_free(t->previous);
    ngx_free(t);
}


/*
 * The target of a claimed webhook: the one kept, when the webhook did not
 * change since (every change, a rotation of the secret included, moves
 * its updated_at), or a new one.  A replaced target that still has
 * attempts in flight waits for them on the stale list.
 */
static ngx_collab_target_t *
ngx_collab_target(ngx_collab_hook_t *h)
{
    u_char               *p;
    size_t                len;
    ngx_queue_t          *q;
    const char           *err;
    ngx_collab_target_t  *t, *old;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    old = NULL;

    for (q = ngx_queue_head(&ngx_collab_outbox.targets);
         q != ngx_queue_sentinel(&ngx_collab_outbox.targets);
         q = ngx_queue_next(q))
    {
        t = ngx_queue_data(q, ngx_collab_target_t, queue);

        if (t->webhook.len == h->id.len
            && ngx_memcmp(t->webhook.data, h->id.data, h->id.len) == 0)
        {
            if (t->updated_at == h->updated_at) {
                return t;
            }

            old = t;
            break;
        }
    }

    len = sizeof(ngx_collab_target_t) + sizeof(ngx_sockaddr_t)
          + h->id.len + h->url.len + 1;

    t = ngx_alloc(len, ngx_collab_outbox.log);
    if (t == NULL) {
        return NULL;
    }

    ngx_memzero(t, sizeof(ngx_collab_target_t));

    p = (u_char *) t + sizeof(ngx_collab_target_t);
    t->sockaddr = (struct sockaddr *) p;
    p += sizeof(ngx_sockaddr_t);

    t->webhook.data = p;
    t->webhook.len = h->id.len;
    p = ngx_cpymem(p, h->id.data, h->id.len);

    t->url.data = p;
    t->url.len = h->url.len;
    p = ngx_cpymem(p, h->url.data, h->url.len);
    *p = '\0';

    t->updated_at = h->updated_at;
    t->previous_until = h->previous_until;
    ngx_queue_init(&t->waiting);

    if (collab_url_parse((char *) t->url.data, t->url.len, &t->u, &err)
        != 0)
    {
        t->invalid = err;

    } else if (t->u.literal) {
        ngx_memzero(t->sockaddr, sizeof(ngx_sockaddr_t));
        sin = (struct sockaddr_in *) t->sockaddr;

        if (inet_pton(AF_INET, t->u.host, &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
            sin->sin_port = htons(t->u.port);
            t->socklen = sizeof(struct sockaddr_in);
        }

#if (NGX_HAVE_INET6)
        sin6 = (struct sockaddr_in6 *) t->sockaddr;

        if (t->socklen == 0
            && inet_pton(AF_INET6, t->u.host, &sin6->sin6_addr) == 1)
        {
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(t->u.port);
            t->socklen = sizeof(struct sockaddr_in6);
        }
#endif

        if (t->socklen == 0) {
            t->invalid = "bad address";
        }
    }

    t->hex = collab_signer_hex((char *) h->secret.data, h->secret.len);
    t->v1 = collab_signer_v1((char *) h->secret.data, h->secret.len);

    if (h->previous.data) {
        t->previous = collab_signer_v1((char *) h->previous.data,
                                       h->previous.len);
    }

    if (t->invalid == NULL && (t->hex == NULL || t->v1 == NULL)) {
        t->invalid = "cannot sign the request: bad secret";
    }

    if (old) {
        ngx_queue_remove(&old->queue);

        if (old->inflight) {
            old->stale = 1;
            ngx_queue_insert_tail(&ngx_collab_outbox.stale, &old->queue);

        } else {
            ngx_collab_target_free(old);
        }
    }

    ngx_queue_insert_tail(&ngx_collab_outbox.targets, &t->queue);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_collab_outbox.log, 0,
                   "collab outbox: target of webhook \"%V\" is \"%V\"",
                   &t->webhook, &t->url);

    return t;
}


/* --- metrics ------------------------------------------------------------- */

/* at a scrape, on the event loop's connection */
static void
ngx_collab_outbox_metrics(void)
{
    ngx_collab_batch_gauge(ngx_collab_sql_pending,
                           COLLAB_G_DELIVERIES_PENDING);
}
