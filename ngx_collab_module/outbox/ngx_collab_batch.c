/*
 * Copyright (C) collab
 *
 * The batches of the outbox's consumers (see ngx_collab_batch.h): when a
 * batch goes to the store, what it does there, and what follows its
 * commit; the maintenance clock, the purge's schedule and the hold of an
 * exiting worker.
 */

#include "ngx_collab_batch.h"


#define COLLAB_CLAIM_MAX          256
#define COLLAB_POLL               1000
#define COLLAB_PURGE_EVERY        3600


static const ngx_uint_t  ngx_collab_batch_sizes[COLLAB_BATCH_SIZES] = {
    8, 32, COLLAB_BATCH_MAX
};


static void ngx_collab_batcher_kick(ngx_event_t *ev);
static void ngx_collab_batcher_poll(ngx_event_t *ev);
static void ngx_collab_batcher_hold(ngx_event_t *ev);
static ngx_collab_batch_t *ngx_collab_batch_new(ngx_collab_batcher_t *q);
static ngx_int_t ngx_collab_batch_run(ngx_collab_work_t *w);
static void ngx_collab_batch_done(ngx_collab_work_t *w);


/* --- the batcher (event loop) -------------------------------------------- */

void
ngx_collab_batcher_init(ngx_collab_batcher_t *q,
    const ngx_collab_batch_ops_t *ops, ngx_log_t *log, time_t retention)
{
    ngx_uint_t  n;

    q->ops = ops;
    q->log = log;
    q->retention = retention;

    q->ident.fd = (ngx_socket_t) -1;

    q->kick.handler = ngx_collab_batcher_kick;
    q->kick.log = log;
    q->kick.data = &q->ident;

    q->poll.handler = ngx_collab_batcher_poll;
    q->poll.log = log;
    q->poll.data = &q->ident;
    q->poll.cancelable = 1;

    q->hold.handler = ngx_collab_batcher_hold;
    q->hold.log = log;
    q->hold.data = &q->ident;

    /*
     * Finished rows are purged hourly, or at the pace of a shorter
     * retention, and once at start.
     */
    n = (ngx_uint_t) retention;
    q->purge_every = (n && n < COLLAB_PURGE_EVERY) ? n : COLLAB_PURGE_EVERY;
    q->purge = (retention != 0);
}


void
ngx_collab_batcher_start(ngx_collab_batcher_t *q, ngx_msec_t first)
{
    q->ready = 1;

    /* rows left by a previous run are claimed as soon as the worker can */
    q->woken = 1;
    ngx_add_timer(&q->poll, first);
}


void
ngx_collab_batcher_exit(ngx_collab_batcher_t *q)
{
    if (q->kick.posted) {
        ngx_delete_posted_event(&q->kick);
    }

    if (q->collect) {
        ngx_destroy_pool(q->collect->pool);
        q->collect = NULL;
    }

    q->ready = 0;
}


void
ngx_collab_batcher_wake(ngx_collab_batcher_t *q)
{
    if (!q->ready) {
        return;
    }

    q->woken = 1;
    ngx_collab_batcher_post(q);
}


void
ngx_collab_batcher_post(ngx_collab_batcher_t *q)
{
    if (!q->kick.posted) {
        ngx_post_event(&q->kick, &ngx_posted_events);
    }
}


/*
 * The maintenance clock: rows recorded by other workers, retries that
 * came due and leases that ran out (of this worker or of a dead one) are
 * found by the next claim, and the purge runs on its own schedule.  The
 * clock is never moved by the batches in between, so it ticks however
 * busy the consumer is.
 */
static void
ngx_collab_batcher_poll(ngx_event_t *ev)
{
    ngx_collab_batcher_t  *q;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    q = (ngx_collab_batcher_t *) ((u_char *) ev
                                  - offsetof(ngx_collab_batcher_t, poll));

    q->woken = 1;

    if (q->ops->tick) {
        q->ops->tick();
    }

    if (q->retention && ngx_time() - q->purged >= (time_t) q->purge_every) {
        q->purge = 1;
    }

    ngx_collab_batcher_post(q);

    ngx_add_timer(ev, COLLAB_POLL);
}


/* a timer that is not cancelable: an exiting worker waits for the batch */
static void
ngx_collab_batcher_hold(ngx_event_t *ev)
{
    ngx_collab_batcher_t  *q;

    q = (ngx_collab_batcher_t *) ((u_char *) ev
                                  - offsetof(ngx_collab_batcher_t, hold));

    if (q->running || q->collect) {
        if (q->ops->eager) {
            ngx_collab_batcher_post(q);
        }

        ngx_add_timer(ev, q->ops->hold);
    }
}


static void
ngx_collab_batcher_hold_on(ngx_collab_batcher_t *q)
{
    if (!q->hold.timer_set) {
        ngx_add_timer(&q->hold, q->ops->hold);
    }
}


ngx_collab_batch_t *
ngx_collab_batcher_collect(ngx_collab_batcher_t *q)
{
    ngx_collab_batch_t  *b;

    ngx_collab_batcher_post(q);

    b = q->collect;

    if (b == NULL) {
        b = ngx_collab_batch_new(q);
        if (b == NULL) {
            return NULL;
        }

        q->collect = b;
        ngx_collab_batcher_hold_on(q);
    }

    return b;
}


static ngx_collab_batch_t *
ngx_collab_batch_new(ngx_collab_batcher_t *q)
{
    ngx_pool_t          *pool;
    ngx_collab_batch_t  *b;

    pool = ngx_create_pool(4096, q->log);
    if (pool == NULL) {
        return NULL;
    }

    b = ngx_pcalloc(pool, q->ops->size);
    if (b == NULL) {
        goto failed;
    }

    b->pool = pool;
    b->batcher = q;

    if (ngx_array_init(&b->results, pool, q->ops->results,
                       q->ops->result_size)
        != NGX_OK
        || q->ops->init(b) != NGX_OK)
    {
        goto failed;
    }

    return b;

failed:

    ngx_destroy_pool(pool);
    return NULL;
}


/* a batch goes to the store when none is there: outcomes, a claim, purge */
static void
ngx_collab_batcher_kick(ngx_event_t *ev)
{
    ngx_uint_t             room;
    ngx_collab_batch_t    *b;
    ngx_collab_batcher_t  *q;

    q = (ngx_collab_batcher_t *) ((u_char *) ev
                                  - offsetof(ngx_collab_batcher_t, kick));

    if (q->running || !q->ready) {
        return;
    }

    room = 0;

    if ((q->due || q->woken) && !ngx_exiting && !ngx_terminate && !ngx_quit) {
        room = ngx_min(q->ops->room(), COLLAB_CLAIM_MAX);
    }

    b = q->collect;

    if (room == 0 && !q->purge && (b == NULL || b->results.nelts == 0)) {
        return;
    }

    if (b == NULL) {
        b = ngx_collab_batch_new(q);
        if (b == NULL) {
            return;
        }
    }

    q->collect = NULL;

    b->claim = room;
    b->lease = q->ops->lease();

    if (room) {
        q->due = 0;
        q->woken = 0;

        if (q->ops->prepare) {
            q->ops->prepare(b);
        }
    }

    if (q->purge) {
        q->purge = 0;
        q->purged = ngx_time();
        b->purge_before = collab_now_ms() - (int64_t) q->retention * 1000;
    }

    b->work.handler = ngx_collab_batch_run;
    b->work.done = ngx_collab_batch_done;
    b->work.data = b;
    b->work.log = q->log;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "collab outbox: %s batch of %ui outcomes, claim %ui",
                   q->ops->name, b->results.nelts, b->claim);

    if (ngx_collab_store_post(&b->work) != NGX_OK) {
        /* no store: the leases run out and the rows come back */
        ngx_destroy_pool(b->pool);
        return;
    }

    q->running = b;

    ngx_collab_batcher_hold_on(q);
}


/* --- the batch (in a storage thread) ------------------------------------- */

static ngx_int_t
ngx_collab_batch_run(ngx_collab_work_t *w)
{
    int                    rc;
    int64_t                now;
    sqlite3_stmt          *st;
    ngx_collab_batch_t    *b;
    ngx_collab_batcher_t  *q;

    b = w->data;
    q = b->batcher;
    now = collab_now_ms();

    rc = q->ops->write(b, now);

    if (rc == SQLITE_OK && b->claim) {
        rc = q->ops->claim(b, now);
    }

    if (rc == SQLITE_OK && b->purge_before) {
        st = ngx_collab_db_stmt(q->ops->purge_sql);

        if (st == NULL) {
            rc = SQLITE_ERROR;

        } else {
            sqlite3_bind_int64(st, 1, b->purge_before);

            rc = sqlite3_step(st);

            if (rc == SQLITE_DONE) {
                b->purged = sqlite3_changes(ngx_collab_db_handle());
                rc = SQLITE_OK;
            }
        }
    }

    if (rc != SQLITE_OK) {
        w->db_rc = rc;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* --- after the batch (event loop) ---------------------------------------- */

static void
ngx_collab_batch_done(ngx_collab_work_t *w)
{
    ngx_uint_t             post;
    ngx_collab_batch_t    *b;
    ngx_collab_batcher_t  *q;

    b = w->data;
    q = b->batcher;
    q->running = NULL;

    if (w->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, q->log, 0,
                      "collab: writing %ui %s outcomes and claiming "
                      "failed: sqlite: %s (%d)", b->results.nelts,
                      q->ops->name, sqlite3_errstr(w->db_rc), w->db_rc);

        q->ops->done(b, NGX_ERROR);

    } else {
        if (b->purged == COLLAB_PURGE_ROWS) {
            q->purge = 1;
        }

        if (b->more) {
            /*
             * Due rows are left: the next batch claims them, which starts
             * at once when this one's bound stopped it (or the consumer
             * is eager), or else with the next outcome (a row in flight
             * makes room), or the next tick of the clock.
             */
            q->due = 1;
        }

        q->ops->done(b, NGX_OK);
    }

    post = b->again || q->woken || q->purge || q->collect
           || (q->ops->eager && q->due);

    ngx_destroy_pool(b->pool);

    if (post) {
        ngx_collab_batcher_post(q);
    }
}


/* --- for the consumers --------------------------------------------------- */

ngx_int_t
ngx_collab_batch_sql_init(ngx_collab_batch_sql_t *s, ngx_pool_t *pool,
    const char *head, const char *row, const char *tail)
{
    u_char      *sql, *p;
    size_t       len;
    ngx_uint_t   i, k, n;

    for (k = 0; k < COLLAB_BATCH_SIZES; k++) {
        n = ngx_collab_batch_sizes[k];

        len = ngx_strlen(head) + n * (ngx_strlen(row) + 1) + ngx_strlen(tail)
              + 1;

        sql = ngx_pnalloc(pool, len);
        if (sql == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(sql, head, ngx_strlen(head));

        for (i = 0; i < n; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, row, ngx_strlen(row));
        }

        p = ngx_cpymem(p, tail, ngx_strlen(tail));
        *p = '\0';

        s->sql[k] = (char *) sql;
    }

    return NGX_OK;
}


sqlite3_stmt *
ngx_collab_batch_stmt(ngx_collab_batch_sql_t *s, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < COLLAB_BATCH_SIZES - 1; i++) {
        if (n <= ngx_collab_batch_sizes[i]) {
            break;
        }
    }

    return ngx_collab_db_stmt(s->sql[i]);
}


void
ngx_collab_batch_bind_text(sqlite3_stmt *st, int i, ngx_str_t *s)
{
    if (s->data) {
        sqlite3_bind_text(st, i, (char *) s->data, (int) s->len,
                          SQLITE_STATIC);
    }
}


ngx_int_t
ngx_collab_batch_copy(ngx_pool_t *pool, ngx_str_t *dst, ngx_str_t *src)
{
    if (src->data == NULL) {
        dst->data = NULL;
        dst->len = 0;
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(pool, src->len ? src->len : 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);
    dst->len = src->len;

    return NGX_OK;
}


/* at a scrape, on the event loop's connection */
void
ngx_collab_batch_gauge(const char *sql, ngx_uint_t gauge)
{
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(sql);

    if (st && sqlite3_step(st) == SQLITE_ROW) {
        ngx_collab_metrics_gauge_set(gauge, sqlite3_column_int64(st, 0));
    }

    ngx_collab_db_release();
}
