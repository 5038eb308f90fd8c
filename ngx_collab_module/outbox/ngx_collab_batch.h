/*
 * Copyright (C) collab
 *
 * The batches of the outbox's consumers (ngx_collab_batch.c).  A consumer
 * of the outbox (deliveries, executions) keeps a table of work with a
 * status and a due time; in each worker, one batch work at a time goes
 * through the store for it: it writes the outcomes that came in since the
 * last one, claims the next due rows with a lease, and purges the old
 * finished ones, in one savepoint.  While it runs, new outcomes wait for
 * the next one, so the busier the consumer, the bigger the batches.
 *
 * The batcher owns that cycle: when a batch goes (a commit that recorded
 * rows, the clock, room in the consumer, outcomes waiting), the batch's
 * work, its end after the commit, the clock and the hold of an exiting
 * worker.  The consumer gives its statements and what is its own in a
 * table of operations, as a module gives nginx its hooks: how much it can
 * take now, how to write its outcomes and make its claim (in a storage
 * thread), and what to do with the claimed rows once committed (on the
 * event loop).
 */

#ifndef _NGX_COLLAB_BATCH_H_INCLUDED_
#define _NGX_COLLAB_BATCH_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_store.h"


/* the most outcome rows of one statement; a batch pads to the next size */
#define COLLAB_BATCH_MAX           128
#define COLLAB_BATCH_SIZES         3

/* the most rows one purge deletes (the purge statements say LIMIT 1000) */
#define COLLAB_PURGE_ROWS          1000


typedef struct ngx_collab_batcher_s  ngx_collab_batcher_t;


/*
 * A batch.  A consumer's batch starts with this one and adds its own
 * arrays; what the pointers point to lives in the batch's pool.
 */
typedef struct {
    ngx_collab_work_t          work;
    ngx_pool_t                *pool;
    ngx_collab_batcher_t      *batcher;

    /* in */
    ngx_array_t                results;     /* the consumer's outcomes */
    ngx_uint_t                 claim;       /* at most; 0: no claim */
    ngx_msec_t                 lease;
    int64_t                    purge_before;   /* 0: no purge */

    /* out */
    ngx_uint_t                 purged;
    unsigned                   more:1;      /* due ones were left */
    unsigned                   again:1;     /* ... that a claim can take now */
} ngx_collab_batch_t;


/* what a consumer gives the batcher */
typedef struct {
    const char                *name;        /* of a row: log lines */
    size_t                     size;        /* of the consumer's batch */
    size_t                     result_size; /* of an outcome */
    ngx_uint_t                 results;     /* outcomes a new batch holds */
    ngx_msec_t                 hold;        /* an exiting worker's wait */

    /* DELETE of at most COLLAB_PURGE_ROWS finished rows created before ?1 */
    const char                *purge_sql;

    /*
     * An eager consumer's batches follow each other: due rows left are
     * claimed at once (else at the next outcome or tick), and the hold of
     * an exiting worker sends the outcomes waiting.
     */
    unsigned                   eager:1;

    /* the consumer's arrays of a new batch */
    ngx_int_t                (*init)(ngx_collab_batch_t *b);

    /* how many rows the consumer can take now */
    ngx_uint_t               (*room)(void);

    /* how long a claim lasts, in ms */
    ngx_msec_t               (*lease)(void);

    /* before a batch that claims (event loop): it may lower b->claim */
    void                     (*prepare)(ngx_collab_batch_t *b);

    /* in a storage thread: SQLITE_OK or the SQLite error */
    int                      (*write)(ngx_collab_batch_t *b, int64_t now);
    int                      (*claim)(ngx_collab_batch_t *b, int64_t now);

    /*
     * After the batch (event loop): rc is NGX_OK once it is committed,
     * else NGX_ERROR (its claims were rolled back, its outcomes lost: the
     * leases run out and the rows come back).
     */
    void                     (*done)(ngx_collab_batch_t *b, ngx_int_t rc);

    /* each tick of the clock, before a batch is posted; may be NULL */
    void                     (*tick)(void);
} ngx_collab_batch_ops_t;


struct ngx_collab_batcher_s {
    const ngx_collab_batch_ops_t  *ops;
    ngx_log_t                     *log;
    time_t                         retention;   /* seconds, 0: keep all */

    ngx_event_t                    kick;        /* posted: a batch may go */
    ngx_event_t                    poll;        /* every second */
    ngx_event_t                    hold;        /* keeps an exiting worker */

    ngx_collab_batch_t            *running;     /* in the store */
    ngx_collab_batch_t            *collect;     /* outcomes for the next */

    time_t                         purged;
    ngx_uint_t                     purge_every;

    ngx_connection_t               ident;   /* what debug lines show: fd -1 */

    unsigned                       due:1;       /* due ones were left */
    unsigned                       woken:1;     /* a commit or the clock */
    unsigned                       purge:1;
    unsigned                       ready:1;
};


/* the outcome statements of a consumer, in COLLAB_BATCH_SIZES sizes */
typedef struct {
    char                      *sql[COLLAB_BATCH_SIZES];
} ngx_collab_batch_sql_t;


/* init_process: the batcher is set up, no batch goes yet */
void ngx_collab_batcher_init(ngx_collab_batcher_t *q,
    const ngx_collab_batch_ops_t *ops, ngx_log_t *log, time_t retention);

/* batches go: the first tick of the clock is in "first" ms */
void ngx_collab_batcher_start(ngx_collab_batcher_t *q, ngx_msec_t first);

/* exit_process: outcomes not written yet are lost (at least once) */
void ngx_collab_batcher_exit(ngx_collab_batcher_t *q);

/* there may be due rows (a commit recorded some, the consumer has room) */
void ngx_collab_batcher_wake(ngx_collab_batcher_t *q);

/* a batch may go */
void ngx_collab_batcher_post(ngx_collab_batcher_t *q);

/* the batch that collects outcomes, made if none; NULL: out of memory */
ngx_collab_batch_t *ngx_collab_batcher_collect(ngx_collab_batcher_t *q);

/* the statements "head row,row,... tail" of each size */
ngx_int_t ngx_collab_batch_sql_init(ngx_collab_batch_sql_t *s,
    ngx_pool_t *pool, const char *head, const char *row, const char *tail);

/* the statement for n <= COLLAB_BATCH_MAX outcomes, or NULL */
sqlite3_stmt *ngx_collab_batch_stmt(ngx_collab_batch_sql_t *s, ngx_uint_t n);

/* binds a text, or leaves NULL when s->data is NULL */
void ngx_collab_batch_bind_text(sqlite3_stmt *st, int i, ngx_str_t *s);

/* a copy in the pool; src->data NULL gives data NULL */
ngx_int_t ngx_collab_batch_copy(ngx_pool_t *pool, ngx_str_t *dst,
    ngx_str_t *src);

/* at a scrape: the gauge gets the count of a "SELECT count(*)" */
void ngx_collab_batch_gauge(const char *sql, ngx_uint_t gauge);


#endif /* _NGX_COLLAB_BATCH_H_INCLUDED_ */
