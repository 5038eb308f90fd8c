/*
 * Copyright (C) collab
 *
 * Workflow executions in the outbox (see ngx_collab_outbox.h): the
 * executions consumer of events, the claims of due executions with a
 * lease, their outcomes, the watchers of an outcome, and the purge.
 *
 * As for deliveries, one batch work at a time goes through the store: it
 * writes the outcomes that came in since the last one (one UPDATE joined
 * with the batch's VALUES, by sequence number), claims the next due
 * executions and reads the compiled code of their workflows, in one
 * savepoint.  Finished executions are numbered (done_seq) from a counter
 * in the meta table, in the order their outcomes are written, so that a
 * tail in any worker finds what finished since it last looked.
 */

#include "ngx_collab_store.h"
#include "ngx_collab_outbox.h"


#define COLLAB_EXEC_CLAIM_MAX     256
#define COLLAB_EXEC_POLL          1000
#define COLLAB_EXEC_HOLD          100
#define COLLAB_EXEC_PURGE_EVERY   3600
#define COLLAB_EXEC_PURGE_ROWS    1000
#define COLLAB_EXEC_LEASE_MARGIN  10000

/* an execution interrupted this many times (crashes) is not run again */
#define COLLAB_EXEC_ATTEMPTS      3

/* outcome statements by number of rows; a batch pads to the next size */
#define COLLAB_EXEC_SIZES         3
#define COLLAB_EXEC_BATCH_MAX     128
#define COLLAB_EXEC_ROW_PARAMS    11


typedef struct {
    int64_t                   seq;
    const char               *status;
    ngx_str_t                 result;
    ngx_str_t                 error;
    ngx_str_t                 logs;
    ngx_str_t                 fetches;
    int64_t                   started_at;
    int64_t                   finished_at;
    int64_t                   duration;
    ngx_uint_t                attempt;     /* 0: as claimed */
    ngx_uint_t                written;     /* the row took it */
} ngx_collab_exec_result_t;


/* the compiled code of a workflow the batch claimed executions of */
typedef struct {
    ngx_str_t                 workflow;
    ngx_str_t                 js;
    ngx_str_t                 source_map;
} ngx_collab_exec_code_t;


typedef struct {
    int64_t                   seq;
    ngx_str_t                 id;
    ngx_str_t                 workflow;
    ngx_str_t                 account;
    ngx_str_t                 room;
    ngx_str_t                 payload;
    ngx_uint_t                attempts;
    ngx_collab_exec_code_t   *code;
} ngx_collab_exec_claimed_t;


typedef struct {
    ngx_collab_work_t         work;
    ngx_pool_t               *pool;

    /* in */
    ngx_array_t               results;     /* ngx_collab_exec_result_t */
    ngx_uint_t                claim;       /* at most; 0: no claim */
    ngx_msec_t                lease;
    int64_t                   purge_before;   /* 0: no purge */

    /* out */
    ngx_array_t               claimed;     /* ngx_collab_exec_claimed_t */
    ngx_array_t               codes;       /* ngx_collab_exec_code_t */
    ngx_array_t               given_up;    /* ngx_collab_exec_result_t */
    ngx_uint_t                written;
    ngx_uint_t                purged;
    unsigned                  more:1;      /* due ones were left */
} ngx_collab_exec_batch_t;


static struct {
    ngx_log_t                    *log;
    ngx_collab_workflow_conf_t   *conf;
    ngx_collab_exec_run_pt        run;
    ngx_collab_exec_room_pt       room;

    ngx_event_t                   kick;        /* posted: a batch may go */
    ngx_event_t                   poll;        /* every second */
    ngx_event_t                   hold;        /* keeps an exiting worker */

    ngx_collab_exec_batch_t      *running;     /* in the store */
    ngx_collab_exec_batch_t      *collect;     /* outcomes for the next */

    ngx_queue_t                   watchers;

    time_t                        purged;
    ngx_uint_t                    purge_every;

    char                         *update_sql[COLLAB_EXEC_SIZES];

    ngx_connection_t              ident;   /* what debug lines show: fd -1 */

    unsigned                      due:1;
    unsigned                      purge:1;
    unsigned                      ready:1;
} ngx_collab_execs;


static const ngx_uint_t  ngx_collab_exec_sizes[COLLAB_EXEC_SIZES] = {
    8, 32, COLLAB_EXEC_BATCH_MAX
};


static void ngx_collab_executions_woken(void);
static void ngx_collab_executions_post(void);
static void ngx_collab_executions_kick_handler(ngx_event_t *ev);
static void ngx_collab_executions_poll(ngx_event_t *ev);
static void ngx_collab_executions_hold(ngx_event_t *ev);
static ngx_collab_exec_batch_t *ngx_collab_exec_batch_new(void);
static ngx_int_t ngx_collab_exec_batch(ngx_collab_work_t *w);
static void ngx_collab_exec_batch_done(ngx_collab_work_t *w);
static void ngx_collab_executions_metrics(void);


static const char  ngx_collab_sql_execution_insert[] =
    "INSERT INTO executions (id, workflow_id, account_id, room_id,"
    " event_id, event, payload, status, attempts, next_at, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/*
 * A claimed execution is "running" until its lease (next_at) runs out;
 * then it is due again, as a pending one is.  Executions of a disabled
 * workflow wait.
 */
static const char  ngx_collab_sql_exec_claim[] =
    "UPDATE executions SET status = 'running', next_at = ?2,"
    " attempts = attempts + 1 WHERE seq IN"
    " (SELECT e.seq FROM executions e"
    " WHERE e.status IN ('pending', 'running') AND e.next_at <= ?1"
    " AND EXISTS (SELECT 1 FROM workflows w"
    " WHERE w.id = e.workflow_id AND w.enabled = 1)"
    " ORDER BY e.next_at LIMIT ?3)"
    " RETURNING seq, id, workflow_id, account_id, room_id, payload,"
    " attempts";

static const char  ngx_collab_sql_exec_code[] =
    "SELECT js, source_map FROM workflows WHERE id = ?1";

static const char  ngx_collab_sql_exec_counter[] =
    "UPDATE meta SET value = value + ?1 WHERE name = 'executions_done'"
    " RETURNING value";

/* at a scrape: what waits to run or runs (the partial index has them) */
static const char  ngx_collab_sql_exec_pending[] =
    "SELECT count(*) FROM executions INDEXED BY executions_due"
    " WHERE status IN ('pending', 'running')";

static const char  ngx_collab_sql_exec_purge[] =
    "DELETE FROM executions WHERE seq IN (SELECT seq FROM executions"
    " WHERE created_at < ?1 AND status NOT IN ('pending', 'running')"
    " LIMIT 1000)";


/* the outcome statement: one row of VALUES per outcome */
#define COLLAB_EXEC_UPDATE_HEAD                                               \
    "WITH o (seq, status, result, error, logs, fetches, started, finished," \
    " duration, done, attempt) AS (VALUES "
#define COLLAB_EXEC_UPDATE_ROW    "(?,?,?,?,?,?,?,?,?,?,?)"
#define COLLAB_EXEC_UPDATE_TAIL                                               \
    ") UPDATE executions SET status = o.status, result = o.result,"         \
    " error = o.error, logs = o.logs, fetches = o.fetches,"                  \
    " started_at = o.started, finished_at = o.finished,"                     \
    " duration_ms = o.duration, done_seq = o.done, next_at = NULL,"          \
    " attempts = max(attempts, coalesce(o.attempt, 0))"                      \
    " FROM o WHERE executions.seq = o.seq"                                   \
    " AND executions.status = 'running' RETURNING executions.seq"


/* --- fan-out (in a storage thread) ---------------------------------------- */

/* the executions consumer: one per matching workflow of the registry */
int
ngx_collab_executions_fanout(ngx_collab_event_t *ev)
{
    int         rc;
    int64_t     seq;
    ngx_str_t   workflow, id;
    ngx_uint_t  i, n;
    u_char      ids[100][COLLAB_ID_MAX];
    u_char      idbuf[COLLAB_ID_MAX];

    n = ngx_collab_shm_subs_match(COLLAB_SUB_WORKFLOW, ev->account, ev->room,
                                  ev->type, ids, 100);

    for (i = 0; i < n; i++) {
        workflow.data = ids[i];
        workflow.len = ngx_strlen(ids[i]);
        id.data = idbuf;

        rc = ngx_collab_execution_add(&workflow, ev->account, ev->room,
                                      &ev->id, ev->name, &ev->payload,
                                      ev->at, 0, &id, &seq);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }

    return SQLITE_OK;
}


int
ngx_collab_execution_add(ngx_str_t *workflow, ngx_str_t *account,
    ngx_str_t *room, ngx_str_t *event_id, const char *event,
    ngx_str_t *payload, int64_t now, ngx_uint_t claimed, ngx_str_t *id,
    int64_t *seq)
{
    int            rc;
    sqlite3_stmt  *st;

    id->len = collab_id_new((char *) id->data, "exe_");

    st = ngx_collab_db_stmt(ngx_collab_sql_execution_insert);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, id);
    ngx_collab_db_bind_str(st, 2, workflow);
    ngx_collab_db_bind_str(st, 3, account);
    ngx_collab_db_bind_str(st, 4, room);
    ngx_collab_db_bind_str(st, 5, event_id);
    ngx_collab_db_bind_cstr(st, 6, event);
    ngx_collab_db_bind_str(st, 7, payload);
    ngx_collab_db_bind_cstr(st, 8, claimed ? "running" : "pending");
    sqlite3_bind_int(st, 9, claimed ? 1 : 0);
    sqlite3_bind_int64(st, 10, claimed
                               ? now + (int64_t) ngx_collab_executions_lease()
                               : now);
    sqlite3_bind_int64(st, 11, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    *seq = sqlite3_last_insert_rowid(ngx_collab_db_handle());

    if (!claimed) {
        ngx_collab_store_wake(COLLAB_WAKE_EXECUTIONS);
    }

    return SQLITE_OK;
}


/* --- the worker's side (event loop) --------------------------------------- */

static char *
ngx_collab_exec_sql(ngx_pool_t *pool, ngx_uint_t n)
{
    u_char      *sql, *p;
    size_t       len;
    ngx_uint_t   i;

    len = sizeof(COLLAB_EXEC_UPDATE_HEAD)
          + n * sizeof(COLLAB_EXEC_UPDATE_ROW)
          + sizeof(COLLAB_EXEC_UPDATE_TAIL);

    sql = ngx_pnalloc(pool, len);
    if (sql == NULL) {
        return NULL;
    }

    p = ngx_cpymem(sql, COLLAB_EXEC_UPDATE_HEAD,
                   sizeof(COLLAB_EXEC_UPDATE_HEAD) - 1);

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, COLLAB_EXEC_UPDATE_ROW,
                       sizeof(COLLAB_EXEC_UPDATE_ROW) - 1);
    }

    p = ngx_cpymem(p, COLLAB_EXEC_UPDATE_TAIL,
                   sizeof(COLLAB_EXEC_UPDATE_TAIL) - 1);
    *p = '\0';

    return (char *) sql;
}


ngx_int_t
ngx_collab_executions_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf)
{
    ngx_uint_t  i, n;

    ngx_collab_execs.log = cycle->log;
    ngx_collab_execs.conf = &cmcf->workflow;

    ngx_queue_init(&ngx_collab_execs.watchers);

    for (i = 0; i < COLLAB_EXEC_SIZES; i++) {
        ngx_collab_execs.update_sql[i] = ngx_collab_exec_sql(cycle->pool,
                                                  ngx_collab_exec_sizes[i]);
        if (ngx_collab_execs.update_sql[i] == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_collab_execs.ident.fd = (ngx_socket_t) -1;

    ngx_collab_execs.kick.handler = ngx_collab_executions_kick_handler;
    ngx_collab_execs.kick.log = cycle->log;
    ngx_collab_execs.kick.data = &ngx_collab_execs.ident;

    ngx_collab_execs.poll.handler = ngx_collab_executions_poll;
    ngx_collab_execs.poll.log = cycle->log;
    ngx_collab_execs.poll.data = &ngx_collab_execs.ident;
    ngx_collab_execs.poll.cancelable = 1;

    ngx_collab_execs.hold.handler = ngx_collab_executions_hold;
    ngx_collab_execs.hold.log = cycle->log;
    ngx_collab_execs.hold.data = &ngx_collab_execs.ident;

    n = (ngx_uint_t) cmcf->workflow.execution_retention;
    ngx_collab_execs.purge_every = (n && n < COLLAB_EXEC_PURGE_EVERY)
                                   ? n : COLLAB_EXEC_PURGE_EVERY;
    ngx_collab_execs.purge = (cmcf->workflow.execution_retention != 0);

    if (ngx_collab_outbox_on_wake(COLLAB_WAKE_EXECUTIONS,
                                  ngx_collab_executions_woken)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    (void) ngx_collab_metrics_collector(ngx_collab_executions_metrics);

    ngx_collab_execs.ready = 1;

    /* executions left by a previous run start once a runner is up */
    ngx_collab_execs.due = 1;
    ngx_add_timer(&ngx_collab_execs.poll, COLLAB_EXEC_POLL);

    return NGX_OK;
}


void
ngx_collab_executions_exit(void)
{
    if (!ngx_collab_execs.ready) {
        return;
    }

    /*
     * Outcomes not written by now are lost: their executions run again
     * once their leases end (at least once).
     */
    if (ngx_collab_execs.kick.posted) {
        ngx_delete_posted_event(&ngx_collab_execs.kick);
    }

    if (ngx_collab_execs.collect) {
        ngx_destroy_pool(ngx_collab_execs.collect->pool);
        ngx_collab_execs.collect = NULL;
    }

    /* watchers are requests: the process ends with them */
    ngx_queue_init(&ngx_collab_execs.watchers);

    ngx_collab_execs.ready = 0;
}


ngx_msec_t
ngx_collab_executions_lease(void)
{
    return ngx_collab_execs.conf->timeout + COLLAB_EXEC_LEASE_MARGIN;
}


void
ngx_collab_executions_consume(ngx_collab_exec_run_pt run,
    ngx_collab_exec_room_pt room)
{
    ngx_collab_execs.run = run;
    ngx_collab_execs.room = room;
}


void
ngx_collab_executions_kick(void)
{
    if (!ngx_collab_execs.ready) {
        return;
    }

    ngx_collab_execs.due = 1;
    ngx_collab_executions_post();
}


void
ngx_collab_executions_watch(ngx_collab_exec_watch_t *w)
{
    ngx_queue_insert_tail(&ngx_collab_execs.watchers, &w->queue);
}


/* a commit of this worker recorded executions */
static void
ngx_collab_executions_woken(void)
{
    ngx_collab_executions_kick();
}


static void
ngx_collab_executions_post(void)
{
    if (!ngx_collab_execs.kick.posted) {
        ngx_post_event(&ngx_collab_execs.kick, &ngx_posted_events);
    }
}


/*
 * The maintenance clock: executions recorded by other workers, leases
 * that ran out and the purge are found on its ticks.
 */
static void
ngx_collab_executions_poll(ngx_event_t *ev)
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_collab_execs.due = 1;

    if (ngx_collab_execs.conf->execution_retention
        && ngx_time() - ngx_collab_execs.purged
           >= (time_t) ngx_collab_execs.purge_every)
    {
        ngx_collab_execs.purge = 1;
    }

    ngx_collab_executions_post();

    ngx_add_timer(ev, COLLAB_EXEC_POLL);
}


/* a timer that is not cancelable: an exiting worker writes its outcomes */
static void
ngx_collab_executions_hold(ngx_event_t *ev)
{
    if (ngx_collab_execs.running || ngx_collab_execs.collect) {
        ngx_collab_executions_post();
        ngx_add_timer(ev, COLLAB_EXEC_HOLD);
    }
}


static ngx_collab_exec_batch_t *
ngx_collab_exec_batch_new(void)
{
    ngx_pool_t               *pool;
    ngx_collab_exec_batch_t  *b;

    pool = ngx_create_pool(4096, ngx_collab_execs.log);
    if (pool == NULL) {
        return NULL;
    }

    b = ngx_pcalloc(pool, sizeof(ngx_collab_exec_batch_t));
    if (b == NULL) {
        goto failed;
    }

    b->pool = pool;

    if (ngx_array_init(&b->results, pool, 16,
                       sizeof(ngx_collab_exec_result_t))
        != NGX_OK
        || ngx_array_init(&b->claimed, pool, 16,
                          sizeof(ngx_collab_exec_claimed_t))
           != NGX_OK
        || ngx_array_init(&b->codes, pool, 4, sizeof(ngx_collab_exec_code_t))
           != NGX_OK
        || ngx_array_init(&b->given_up, pool, 1,
                          sizeof(ngx_collab_exec_result_t))
           != NGX_OK)
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
ngx_collab_executions_kick_handler(ngx_event_t *ev)
{
    ngx_uint_t                room;
    ngx_collab_exec_batch_t  *b;

    if (ngx_collab_execs.running || !ngx_collab_execs.ready) {
        return;
    }

    room = 0;

    if (ngx_collab_execs.due && ngx_collab_execs.room
        && !ngx_exiting && !ngx_terminate && !ngx_quit)
    {
        room = ngx_min(ngx_collab_execs.room(), COLLAB_EXEC_CLAIM_MAX);
    }

    b = ngx_collab_execs.collect;

    if (room == 0 && !ngx_collab_execs.purge
        && (b == NULL || b->results.nelts == 0))
    {
        return;
    }

    if (b == NULL) {
        b = ngx_collab_exec_batch_new();
        if (b == NULL) {
            return;
        }
    }

    ngx_collab_execs.collect = NULL;

    b->claim = room;
    b->lease = ngx_collab_executions_lease();

    if (room) {
        ngx_collab_execs.due = 0;
    }

    if (ngx_collab_execs.purge) {
        ngx_collab_execs.purge = 0;
        ngx_collab_execs.purged = ngx_time();
        b->purge_before = collab_now_ms()
                          - (int64_t) ngx_collab_execs.conf
                                ->execution_retention * 1000;
    }

    b->work.handler = ngx_collab_exec_batch;
    b->work.done = ngx_collab_exec_batch_done;
    b->work.data = b;
    b->work.log = ngx_collab_execs.log;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_collab_execs.log, 0,
                   "collab executions: batch of %ui outcomes, claim %ui",
                   b->results.nelts, b->claim);

    if (ngx_collab_store_post(&b->work) != NGX_OK) {
        /* no store: the leases run out and the executions come back */
        ngx_destroy_pool(b->pool);
        return;
    }

    ngx_collab_execs.running = b;

    if (!ngx_collab_execs.hold.timer_set) {
        ngx_add_timer(&ngx_collab_execs.hold, COLLAB_EXEC_HOLD);
    }
}


/* --- the batch (in a storage thread) -------------------------------------- */

static void
ngx_collab_exec_bind_text(sqlite3_stmt *st, int i, ngx_str_t *s)
{
    if (s->data) {
        sqlite3_bind_text(st, i, (char *) s->data, (int) s->len,
                          SQLITE_STATIC);
    }
}


/*
 * The outcomes, set-based: one UPDATE joined with the rows of VALUES by
 * sequence number (a batch larger than the largest statement takes
 * several); each gets the next number of the finished executions.
 * Unused rows of a statement stay NULL and match nothing.
 */
static int
ngx_collab_exec_write(ngx_collab_exec_batch_t *b, ngx_array_t *results)
{
    int                        rc, k;
    int64_t                    done, seq;
    ngx_uint_t                 i, n, at, size;
    sqlite3_stmt              *st;
    ngx_collab_exec_result_t  *r;

    if (results->nelts == 0) {
        return SQLITE_OK;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_exec_counter);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    sqlite3_bind_int64(st, 1, results->nelts);

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
    }

    done = sqlite3_column_int64(st, 0) - results->nelts;

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    r = results->elts;

    for (at = 0; at < results->nelts; at += n) {
        n = ngx_min(results->nelts - at, COLLAB_EXEC_BATCH_MAX);

        for (size = 0; size < COLLAB_EXEC_SIZES - 1; size++) {
            if (n <= ngx_collab_exec_sizes[size]) {
                break;
            }
        }

        st = ngx_collab_db_stmt(ngx_collab_execs.update_sql[size]);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        for (i = 0; i < n; i++) {
            k = (int) (i * COLLAB_EXEC_ROW_PARAMS);
            sqlite3_bind_int64(st, k + 1, r[at + i].seq);
            ngx_collab_db_bind_cstr(st, k + 2, r[at + i].status);
            ngx_collab_exec_bind_text(st, k + 3, &r[at + i].result);
            ngx_collab_exec_bind_text(st, k + 4, &r[at + i].error);
            ngx_collab_exec_bind_text(st, k + 5, &r[at + i].logs);
            ngx_collab_exec_bind_text(st, k + 6, &r[at + i].fetches);

            if (r[at + i].started_at) {
                sqlite3_bind_int64(st, k + 7, r[at + i].started_at);
            }

            if (r[at + i].finished_at) {
                sqlite3_bind_int64(st, k + 8, r[at + i].finished_at);
            }

            if (r[at + i].duration >= 0) {
                sqlite3_bind_int64(st, k + 9, r[at + i].duration);
            }

            sqlite3_bind_int64(st, k + 10, ++done);

            if (r[at + i].attempt) {
                sqlite3_bind_int64(st, k + 11, r[at + i].attempt);
            }
        }

        /* the rows that took their outcome: the metrics count those */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            seq = sqlite3_column_int64(st, 0);

            for (i = 0; i < n; i++) {
                if (r[at + i].seq == seq) {
                    r[at + i].written = 1;
                    break;
                }
            }

            b->written++;
        }

        if (rc != SQLITE_DONE) {
            return rc;
        }
    }

    return SQLITE_OK;
}


static ngx_collab_exec_code_t *
ngx_collab_exec_code(ngx_collab_exec_batch_t *b, ngx_str_t *workflow,
    int *rc)
{
    int                      step;
    ngx_uint_t               i;
    sqlite3_stmt            *st;
    ngx_collab_exec_code_t  *code;

    code = b->codes.elts;

    for (i = 0; i < b->codes.nelts; i++) {
        if (code[i].workflow.len == workflow->len
            && ngx_memcmp(code[i].workflow.data, workflow->data,
                          workflow->len)
               == 0)
        {
            return &code[i];
        }
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_exec_code);
    if (st == NULL) {
        *rc = SQLITE_ERROR;
        return NULL;
    }

    ngx_collab_db_bind_str(st, 1, workflow);

    step = sqlite3_step(st);

    if (step != SQLITE_ROW) {
        /* gone (deleted with its executions): SQLITE_DONE is no error */
        *rc = (step == SQLITE_DONE) ? SQLITE_OK : step;
        sqlite3_reset(st);
        return NULL;
    }

    code = ngx_array_push(&b->codes);
    if (code == NULL) {
        *rc = SQLITE_NOMEM;
        return NULL;
    }

    code->workflow = *workflow;

    if (ngx_collab_db_dup(b->pool, st, 0, &code->js) != NGX_OK
        || ngx_collab_db_dup(b->pool, st, 1, &code->source_map) != NGX_OK)
    {
        *rc = SQLITE_NOMEM;
        return NULL;
    }

    sqlite3_reset(st);

    return code;
}


/* claims due executions and reads the code of their workflows */
static int
ngx_collab_exec_claim(ngx_collab_exec_batch_t *b, int64_t now)
{
    int                         rc;
    ngx_uint_t                  i;
    sqlite3_stmt               *st;
    ngx_collab_exec_result_t   *r;
    ngx_collab_exec_claimed_t  *c;
    u_char                     *p;

    st = ngx_collab_db_stmt(ngx_collab_sql_exec_claim);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, now + b->lease);
    sqlite3_bind_int64(st, 3, b->claim);

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        c = ngx_array_push(&b->claimed);
        if (c == NULL) {
            return SQLITE_NOMEM;
        }

        ngx_memzero(c, sizeof(ngx_collab_exec_claimed_t));

        c->seq = sqlite3_column_int64(st, 0);
        c->attempts = (ngx_uint_t) sqlite3_column_int64(st, 6);

        if (ngx_collab_db_dup(b->pool, st, 1, &c->id) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 2, &c->workflow) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 3, &c->account) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 4, &c->room) != NGX_OK
            || ngx_collab_db_dup(b->pool, st, 5, &c->payload) != NGX_OK)
        {
            return SQLITE_NOMEM;
        }
    }

    if (rc != SQLITE_DONE) {
        return rc;
    }

    if (b->claimed.nelts == b->claim) {
        b->more = 1;
    }

    c = b->claimed.elts;

    for (i = 0; i < b->claimed.nelts; i++) {

        if (c[i].attempts > COLLAB_EXEC_ATTEMPTS) {
            /*
             * Started this often and never finished: what runs it (the
             * runner, nginx) stops with it.  It ends as an error.
             */
            r = ngx_array_push(&b->given_up);
            if (r == NULL) {
                return SQLITE_NOMEM;
            }

            ngx_memzero(r, sizeof(ngx_collab_exec_result_t));

            p = ngx_pnalloc(b->pool, 160);
            if (p == NULL) {
                return SQLITE_NOMEM;
            }

            r->error.data = p;
            r->error.len = ngx_sprintf(p, "{\"message\":\"the execution was "
                                       "interrupted %d times (the workflow "
                                       "runner or nginx stopped while it "
                                       "ran); it is not run again\","
                                       "\"stack\":null}",
                                       COLLAB_EXEC_ATTEMPTS)
                           - p;
            r->seq = c[i].seq;
            r->status = "error";
            r->finished_at = now;
            r->duration = -1;

            c[i].code = NULL;
            continue;
        }

        rc = SQLITE_OK;
        c[i].code = ngx_collab_exec_code(b, &c[i].workflow, &rc);

        if (rc != SQLITE_OK) {
            return rc;
        }
    }

    return ngx_collab_exec_write(b, &b->given_up);
}


static ngx_int_t
ngx_collab_exec_batch(ngx_collab_work_t *w)
{
    int                       rc;
    int64_t                   now;
    sqlite3_stmt             *st;
    ngx_collab_exec_batch_t  *b;

    b = w->data;
    now = collab_now_ms();

    rc = ngx_collab_exec_write(b, &b->results);

    if (rc == SQLITE_OK && b->claim) {
        rc = ngx_collab_exec_claim(b, now);
    }

    if (rc == SQLITE_OK && b->purge_before) {
        st = ngx_collab_db_stmt(ngx_collab_sql_exec_purge);

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


/* --- after the batch (event loop) ----------------------------------------- */

static void
ngx_collab_exec_notify(ngx_collab_exec_batch_t *b, ngx_int_t rc)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q, *next;
    ngx_collab_exec_watch_t   *w;
    ngx_collab_exec_result_t  *r;

    r = b->results.elts;

    for (q = ngx_queue_head(&ngx_collab_execs.watchers);
         q != ngx_queue_sentinel(&ngx_collab_execs.watchers);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_collab_exec_watch_t, queue);

        for (i = 0; i < b->results.nelts; i++) {
            if (r[i].seq == w->seq) {
                ngx_queue_remove(q);
                w->handler(w, rc);
                break;
            }
        }
    }
}


/*
 * The metrics of the executions that ended, once their outcomes are
 * committed: only those whose row took the outcome, so that an outcome
 * that came too late (its execution claimed again, or deleted) is not
 * counted twice.  One given up has no duration.
 */
static void
ngx_collab_exec_count(ngx_array_t *results)
{
    ngx_uint_t                 i;
    ngx_collab_exec_result_t  *r;

    r = results->elts;

    for (i = 0; i < results->nelts; i++) {
        if (!r[i].written) {
            continue;
        }

        ngx_collab_metrics_inc(ngx_strcmp(r[i].status, "success") == 0
                               ? COLLAB_M_EXECUTION_SUCCESS
                               : ngx_strcmp(r[i].status, "timeout") == 0
                                 ? COLLAB_M_EXECUTION_TIMEOUT
                                 : COLLAB_M_EXECUTION_ERROR, 1);

        if (r[i].duration >= 0) {
            ngx_collab_metrics_observe(COLLAB_H_EXECUTION_DURATION,
                                       (ngx_msec_t) r[i].duration);
        }
    }
}


static void
ngx_collab_exec_batch_done(ngx_collab_work_t *w)
{
    ngx_uint_t                  i;
    ngx_collab_execution_t      e;
    ngx_collab_exec_batch_t    *b;
    ngx_collab_exec_claimed_t  *c;

    b = w->data;
    ngx_collab_execs.running = NULL;

    if (w->rc != NGX_OK) {
        /* the claims were rolled back; outcomes lost run again later */
        ngx_log_error(NGX_LOG_ERR, ngx_collab_execs.log, 0,
                      "collab: writing %ui execution outcomes and claiming "
                      "failed: sqlite: %s (%d)", b->results.nelts,
                      sqlite3_errstr(w->db_rc), w->db_rc);

        ngx_collab_exec_notify(b, NGX_ERROR);
        goto done;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_collab_execs.log, 0,
                   "collab executions: batch done, %ui outcomes, "
                   "%ui claimed, %ui given up, %ui purged",
                   b->results.nelts, b->claimed.nelts, b->given_up.nelts,
                   b->purged);

    if (b->written) {
        ngx_collab_shm_executions_done();
        ngx_collab_exec_count(&b->results);
        ngx_collab_exec_count(&b->given_up);
    }

    ngx_collab_exec_notify(b, NGX_OK);

    if (b->purged == COLLAB_EXEC_PURGE_ROWS) {
        ngx_collab_execs.purge = 1;
    }

    if (b->more) {
        ngx_collab_execs.due = 1;
    }

    c = b->claimed.elts;

    for (i = 0; i < b->claimed.nelts; i++) {
        if (c[i].code == NULL) {
            continue;
        }

        e.seq = c[i].seq;
        e.id = c[i].id;
        e.workflow = c[i].workflow;
        e.account = c[i].account;
        e.room = c[i].room;
        e.payload = c[i].payload;
        e.js = c[i].code->js;
        e.source_map = c[i].code->source_map;
        e.attempt = c[i].attempts;

        ngx_collab_execs.run(&e);
    }

done:

    ngx_destroy_pool(b->pool);

    if (ngx_collab_execs.due || ngx_collab_execs.purge
        || ngx_collab_execs.collect)
    {
        ngx_collab_executions_post();
    }
}


/* --- outcomes ------------------------------------------------------------- */

static ngx_int_t
ngx_collab_exec_copy(ngx_pool_t *pool, ngx_str_t *dst, ngx_str_t *src)
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


/* the outcome joins the next batch */
void
ngx_collab_executions_finished(int64_t seq, ngx_collab_exec_outcome_t *o)
{
    ngx_collab_exec_batch_t   *b;
    ngx_collab_exec_result_t  *r;

    if (!ngx_collab_execs.ready) {
        return;
    }

    ngx_collab_executions_post();

    b = ngx_collab_execs.collect;

    if (b == NULL) {
        b = ngx_collab_exec_batch_new();
        if (b == NULL) {
            /* the lease runs out and the execution runs again */
            return;
        }

        ngx_collab_execs.collect = b;

        if (!ngx_collab_execs.hold.timer_set) {
            ngx_add_timer(&ngx_collab_execs.hold, COLLAB_EXEC_HOLD);
        }
    }

    r = ngx_array_push(&b->results);
    if (r == NULL) {
        return;
    }

    r->seq = seq;
    r->status = o->status;
    r->started_at = o->started_at;
    r->finished_at = o->finished_at;
    r->duration = o->duration;
    r->attempt = o->attempt;
    r->written = 0;

    if (ngx_collab_exec_copy(b->pool, &r->result, &o->result) != NGX_OK
        || ngx_collab_exec_copy(b->pool, &r->error, &o->error) != NGX_OK
        || ngx_collab_exec_copy(b->pool, &r->logs, &o->logs) != NGX_OK
        || ngx_collab_exec_copy(b->pool, &r->fetches, &o->fetches)
           != NGX_OK)
    {
        b->results.nelts--;
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_collab_execs.log, 0,
                   "collab executions: outcome of %L: %s", seq, o->status);
}


/* --- metrics ------------------------------------------------------------- */

/* at a scrape, on the event loop's connection */
static void
ngx_collab_executions_metrics(void)
{
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_exec_pending);

    if (st && sqlite3_step(st) == SQLITE_ROW) {
        ngx_collab_metrics_gauge_set(COLLAB_G_EXECUTIONS_PENDING,
                                     sqlite3_column_int64(st, 0));
    }

    ngx_collab_db_release();
}
