/*
 * Copyright (C) collab
 *
 * Workflow executions in the outbox (see ngx_collab_outbox.h): the
 * executions consumer of events, the claims of due executions with a
 * lease, their outcomes, the watchers of an outcome, and the purge.
 *
 * As deliveries, executions go through the batches of ngx_collab_batch.c:
 * each one writes the outcomes that came in since the last one (one
 * UPDATE joined with the batch's VALUES, by sequence number), claims the
 * next due executions and reads the compiled code of their workflows, in
 * one savepoint.  Finished executions are numbered (done_seq) from a
 * counter in the meta table, in the order their outcomes are written, so
 * that a tail in any worker finds what finished since it last looked.
 */

#include "ngx_collab_store.h"
#include "ngx_collab_outbox.h"


#define COLLAB_EXEC_FIRST_TICK    1000
#define COLLAB_EXEC_HOLD          100
#define COLLAB_EXEC_LEASE_MARGIN  10000

/* an execution interrupted this many times (crashes) is not run again */
#define COLLAB_EXEC_ATTEMPTS      3

/* the parameters of a row of the outcome statement */
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


/* a batch of executions: its results are ngx_collab_exec_result_t */
typedef struct {
    ngx_collab_batch_t        batch;

    /* out */
    ngx_array_t               claimed;     /* ngx_collab_exec_claimed_t */
    ngx_array_t               codes;       /* ngx_collab_exec_code_t */
    ngx_array_t               given_up;    /* ngx_collab_exec_result_t */
    ngx_uint_t                written;
} ngx_collab_exec_batch_t;


static struct {
    ngx_log_t                    *log;
    ngx_collab_workflow_conf_t   *conf;
    ngx_collab_exec_run_pt        run;
    ngx_collab_exec_room_pt       room;

    ngx_collab_batcher_t          batcher;

    ngx_queue_t                   watchers;

    ngx_collab_batch_sql_t        update_sql;
} ngx_collab_execs;


static void ngx_collab_executions_woken(void);
static ngx_int_t ngx_collab_exec_batch_init(ngx_collab_batch_t *b);
static ngx_uint_t ngx_collab_exec_room(void);
static int ngx_collab_exec_results(ngx_collab_batch_t *b, int64_t now);
static int ngx_collab_exec_claim(ngx_collab_batch_t *batch, int64_t now);
static void ngx_collab_exec_batch_done(ngx_collab_batch_t *batch,
    ngx_int_t rc);
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


/*
 * The executions' batches: eager, as a claim takes no more than the
 * runners have room for.
 */
static const ngx_collab_batch_ops_t  ngx_collab_executions_ops = {
    "execution",
    sizeof(ngx_collab_exec_batch_t),
    sizeof(ngx_collab_exec_result_t),
    16,
    COLLAB_EXEC_HOLD,
    ngx_collab_sql_exec_purge,
    1,
    ngx_collab_exec_batch_init,
    ngx_collab_exec_room,
    ngx_collab_executions_lease,
    NULL,
    ngx_collab_exec_results,
    ngx_collab_exec_claim,
    ngx_collab_exec_batch_done,
    NULL
};


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

ngx_int_t
ngx_collab_executions_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf)
{
    ngx_collab_execs.log = cycle->log;
    ngx_collab_execs.conf = &cmcf->workflow;

    ngx_queue_init(&ngx_collab_execs.watchers);

    if (ngx_collab_batch_sql_init(&ngx_collab_execs.update_sql, cycle->pool,
                                  COLLAB_EXEC_UPDATE_HEAD,
                                  COLLAB_EXEC_UPDATE_ROW,
                                  COLLAB_EXEC_UPDATE_TAIL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_collab_batcher_init(&ngx_collab_execs.batcher,
                            &ngx_collab_executions_ops, cycle->log,
                            cmcf->workflow.execution_retention);

    if (ngx_collab_outbox_on_wake(COLLAB_WAKE_EXECUTIONS,
                                  ngx_collab_executions_woken)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    (void) ngx_collab_metrics_collector(ngx_collab_executions_metrics);

    /* executions left by a previous run start once a runner is up */
    ngx_collab_batcher_start(&ngx_collab_execs.batcher,
                             COLLAB_EXEC_FIRST_TICK);

    return NGX_OK;
}


void
ngx_collab_executions_exit(void)
{
    if (!ngx_collab_execs.batcher.ready) {
        return;
    }

    /*
     * Outcomes not written by now are lost: their executions run again
     * once their leases end (at least once).
     */
    ngx_collab_batcher_exit(&ngx_collab_execs.batcher);

    /* watchers are requests: the process ends with them */
    ngx_queue_init(&ngx_collab_execs.watchers);
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
    ngx_collab_batcher_wake(&ngx_collab_execs.batcher);
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


static ngx_int_t
ngx_collab_exec_batch_init(ngx_collab_batch_t *batch)
{
    ngx_collab_exec_batch_t  *b;

    b = (ngx_collab_exec_batch_t *) batch;

    if (ngx_array_init(&b->claimed, batch->pool, 16,
                       sizeof(ngx_collab_exec_claimed_t))
        != NGX_OK
        || ngx_array_init(&b->codes, batch->pool, 4,
                          sizeof(ngx_collab_exec_code_t))
           != NGX_OK
        || ngx_array_init(&b->given_up, batch->pool, 1,
                          sizeof(ngx_collab_exec_result_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* as many as the dispatcher can take now */
static ngx_uint_t
ngx_collab_exec_room(void)
{
    return ngx_collab_execs.room ? ngx_collab_execs.room() : 0;
}


/* --- the batch (in a storage thread) -------------------------------------- */

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
    ngx_uint_t                 i, n, at;
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
        n = ngx_min(results->nelts - at, COLLAB_BATCH_MAX);

        st = ngx_collab_batch_stmt(&ngx_collab_execs.update_sql, n);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        for (i = 0; i < n; i++) {
            k = (int) (i * COLLAB_EXEC_ROW_PARAMS);
            sqlite3_bind_int64(st, k + 1, r[at + i].seq);
            ngx_collab_db_bind_cstr(st, k + 2, r[at + i].status);
            ngx_collab_batch_bind_text(st, k + 3, &r[at + i].result);
            ngx_collab_batch_bind_text(st, k + 4, &r[at + i].error);
            ngx_collab_batch_bind_text(st, k + 5, &r[at + i].logs);
            ngx_collab_batch_bind_text(st, k + 6, &r[at + i].fetches);

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

    if (ngx_collab_db_dup(b->batch.pool, st, 0, &code->js) != NGX_OK
        || ngx_collab_db_dup(b->batch.pool, st, 1, &code->source_map)
           != NGX_OK)
    {
        *rc = SQLITE_NOMEM;
        return NULL;
    }

    sqlite3_reset(st);

    return code;
}


/* the outcomes that came in */
static int
ngx_collab_exec_results(ngx_collab_batch_t *b, int64_t now)
{
    return ngx_collab_exec_write((ngx_collab_exec_batch_t *) b, &b->results);
}


/* claims due executions and reads the code of their workflows */
static int
ngx_collab_exec_claim(ngx_collab_batch_t *batch, int64_t now)
{
    int                         rc;
    ngx_uint_t                  i;
    sqlite3_stmt               *st;
    ngx_collab_exec_batch_t    *b;
    ngx_collab_exec_result_t   *r;
    ngx_collab_exec_claimed_t  *c;
    u_char                     *p;

    b = (ngx_collab_exec_batch_t *) batch;

    st = ngx_collab_db_stmt(ngx_collab_sql_exec_claim);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, now + batch->lease);
    sqlite3_bind_int64(st, 3, batch->claim);

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        c = ngx_array_push(&b->claimed);
        if (c == NULL) {
            return SQLITE_NOMEM;
        }

        ngx_memzero(c, sizeof(ngx_collab_exec_claimed_t));

        c->seq = sqlite3_column_int64(st, 0);
        c->attempts = (ngx_uint_t) sqlite3_column_int64(st, 6);

        if (ngx_collab_db_dup(batch->pool, st, 1, &c->id) != NGX_OK
            || ngx_collab_db_dup(batch->pool, st, 2, &c->workflow) != NGX_OK
            || ngx_collab_db_dup(batch->pool, st, 3, &c->account) != NGX_OK
            || ngx_collab_db_dup(batch->pool, st, 4, &c->room) != NGX_OK
            || ngx_collab_db_dup(batch->pool, st, 5, &c->payload) != NGX_OK)
        {
            return SQLITE_NOMEM;
        }
    }

    if (rc != SQLITE_DONE) {
        return rc;
    }

    if (b->claimed.nelts == batch->claim) {
        batch->more = 1;
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

            p = ngx_pnalloc(batch->pool, 160);
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


/* --- after the batch (event loop) ----------------------------------------- */

static void
ngx_collab_exec_notify(ngx_collab_exec_batch_t *b, ngx_int_t rc)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q, *next;
    ngx_collab_exec_watch_t   *w;
    ngx_collab_exec_result_t  *r;

    r = b->batch.results.elts;

    for (q = ngx_queue_head(&ngx_collab_execs.watchers);
         q != ngx_queue_sentinel(&ngx_collab_execs.watchers);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_collab_exec_watch_t, queue);

        for (i = 0; i < b->batch.results.nelts; i++) {
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
ngx_collab_exec_batch_done(ngx_collab_batch_t *batch, ngx_int_t rc)
{
    ngx_uint_t                  i;
    ngx_collab_execution_t      e;
    ngx_collab_exec_batch_t    *b;
    ngx_collab_exec_claimed_t  *c;

    b = (ngx_collab_exec_batch_t *) batch;

    if (rc != NGX_OK) {
        /* the claims were rolled back; outcomes lost run again later */
        ngx_collab_exec_notify(b, NGX_ERROR);
        return;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_collab_execs.log, 0,
                   "collab executions: batch done, %ui outcomes, "
                   "%ui claimed, %ui given up, %ui purged",
                   batch->results.nelts, b->claimed.nelts, b->given_up.nelts,
                   batch->purged);

    /* counted once committed: the rows that took their outcome */
    if (b->written) {
        ngx_collab_shm_executions_done();
        ngx_collab_exec_count(&batch->results);
        ngx_collab_exec_count(&b->given_up);
    }

    ngx_collab_exec_notify(b, NGX_OK);

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
}


/* --- outcomes ------------------------------------------------------------- */

/* the outcome joins the next batch */
void
ngx_collab_executions_finished(int64_t seq, ngx_collab_exec_outcome_t *o)
{
    ngx_collab_batch_t        *b;
    ngx_collab_exec_result_t  *r;

    if (!ngx_collab_execs.batcher.ready) {
        return;
    }

    b = ngx_collab_batcher_collect(&ngx_collab_execs.batcher);
    if (b == NULL) {
        /* the lease runs out and the execution runs again */
        return;
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

    if (ngx_collab_batch_copy(b->pool, &r->result, &o->result) != NGX_OK
        || ngx_collab_batch_copy(b->pool, &r->error, &o->error) != NGX_OK
        || ngx_collab_batch_copy(b->pool, &r->logs, &o->logs) != NGX_OK
        || ngx_collab_batch_copy(b->pool, &r->fetches, &o->fetches)
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
    ngx_collab_batch_gauge(ngx_collab_sql_exec_pending,
                           COLLAB_G_EXECUTIONS_PENDING);
}
