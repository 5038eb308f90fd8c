/*
 * Copyright (C) collab
 *
 * The store: works handed over on the event loop run in groups on one
 * thread of nginx's thread pool, on a SQLite connection that belongs to
 * this worker's store.  One group runs at a time; the works that arrive
 * meanwhile wait, and go together as the next group (group commit): one
 * BEGIN IMMEDIATE, a savepoint per work, one COMMIT.  Lock waits happen
 * in that thread, never on the event loop.
 */

#include "ngx_collab.h"
#include "ngx_collab_store.h"


#if !(NGX_THREADS)
#error the collab module needs nginx built with thread pools (--with-threads)
#endif


#define COLLAB_GROUP_MAX      512
#define COLLAB_OBSERVERS_MAX  4


static void ngx_collab_store_start(void);
static void ngx_collab_store_thread(void *data, ngx_log_t *log);
static void ngx_collab_store_finish(ngx_event_t *ev);


static const char  ngx_collab_sql_begin[] = "BEGIN IMMEDIATE";
static const char  ngx_collab_sql_commit[] = "COMMIT";
static const char  ngx_collab_sql_savepoint[] = "SAVEPOINT work";
static const char  ngx_collab_sql_rollback_to[] = "ROLLBACK TO work";
static const char  ngx_collab_sql_release[] = "RELEASE work";


static struct {
    ngx_thread_pool_t        *pool;
    ngx_thread_task_t        *task;
    ngx_log_t                *log;

    ngx_collab_work_t        *waiting;
    ngx_collab_work_t       **last;
    ngx_uint_t                nwaiting;

    ngx_collab_work_t        *group;       /* in the thread */

    ngx_collab_conn_t        *conn;        /* the thread's connection */

    ngx_collab_commit_pt      observers[COLLAB_OBSERVERS_MAX];
    ngx_uint_t                nobservers;
} ngx_collab_store;


/* the work running in the storage thread (one group at a time) */
static ngx_collab_work_t  *ngx_collab_store_work;


ngx_int_t
ngx_collab_store_init(ngx_cycle_t *cycle, ngx_str_t *database,
    ngx_str_t *pool)
{
    ngx_collab_store.log = cycle->log;
    ngx_collab_store.waiting = NULL;
    ngx_collab_store.last = &ngx_collab_store.waiting;

    ngx_collab_store.pool = ngx_thread_pool_get(cycle, pool);

    if (ngx_collab_store.pool == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "collab: thread pool \"%V\" not found", pool);
        return NGX_ERROR;
    }

    ngx_collab_store.task = ngx_thread_task_alloc(cycle->pool, 0);
    if (ngx_collab_store.task == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_store.task->handler = ngx_collab_store_thread;
    ngx_collab_store.task->event.handler = ngx_collab_store_finish;
    ngx_collab_store.task->event.log = cycle->log;

    ngx_collab_store.conn = ngx_pcalloc(cycle->pool,
                                        ngx_collab_db_conn_size());
    if (ngx_collab_store.conn == NULL) {
        return NGX_ERROR;
    }

    if (ngx_collab_db_connect(cycle, database, ngx_collab_store.conn)
        == NULL)
    {
        ngx_collab_store.conn = NULL;
        return NGX_ERROR;
    }

    ngx_collab_db_wait(ngx_collab_store.conn);

    return NGX_OK;
}


/* the threads of this process, from /proc (0 when it cannot be read) */
static ngx_uint_t
ngx_collab_store_threads(void)
{
    DIR            *dir;
    ngx_uint_t      n;
    struct dirent  *de;

    dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return 0;
    }

    n = 0;

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] != '.') {
            n++;
        }
    }

    closedir(dir);

    return n;
}


void
ngx_collab_store_exit(void)
{
    ngx_uint_t  i;

    /*
     * nginx's thread pools have told their threads to end by now (their
     * module exits first), so no group runs on this connection any more.
     * The threads are detached and may still be on their way out: the
     * process waits a moment for them, so that it ends alone (a leak
     * check at exit stops every thread, and one that vanishes meanwhile
     * breaks it).
     */
    for (i = 0; i < 100 && ngx_collab_store_threads() > 1; i++) {
        ngx_msleep(1);
    }

    if (ngx_collab_store.conn) {
        ngx_collab_db_disconnect(ngx_collab_store.conn);
        ngx_collab_store.conn = NULL;
    }
}


ngx_int_t
ngx_collab_store_on_commit(ngx_collab_commit_pt handler)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_collab_store.nobservers; i++) {
        if (ngx_collab_store.observers[i] == handler) {
            return NGX_OK;
        }
    }

    if (ngx_collab_store.nobservers == COLLAB_OBSERVERS_MAX) {
        return NGX_ERROR;
    }

    ngx_collab_store.observers[ngx_collab_store.nobservers++] = handler;

    return NGX_OK;
}


ngx_int_t
ngx_collab_store_post(ngx_collab_work_t *w)
{
    if (ngx_collab_store.conn == NULL) {
        return NGX_ERROR;
    }

    w->rc = NGX_ERROR;
    w->db_rc = SQLITE_OK;
    w->wake = 0;
    w->next = NULL;

    *ngx_collab_store.last = w;
    ngx_collab_store.last = &w->next;
    ngx_collab_store.nwaiting++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, w->log ? w->log : ngx_cycle->log, 0,
                   "collab store: work %p posted, %ui waiting", w,
                   ngx_collab_store.nwaiting);

    if (ngx_collab_store.group == NULL) {
        ngx_collab_store_start();
    }

    return NGX_OK;
}


void
ngx_collab_store_wake(ngx_uint_t wake)
{
    if (ngx_collab_store_work) {
        ngx_collab_store_work->wake |= wake;
    }
}


/* the waiting works, up to a bound, become the group of the thread */
static void
ngx_collab_store_start(void)
{
    ngx_uint_t          n;
    ngx_collab_work_t  *w, **last;

    if (ngx_collab_store.waiting == NULL) {
        return;
    }

    w = ngx_collab_store.waiting;
    last = &ngx_collab_store.waiting;

    for (n = 0; *last && n < COLLAB_GROUP_MAX; n++) {
        last = &(*last)->next;
    }

    ngx_collab_store.group = w;
    ngx_collab_store.waiting = *last;
    *last = NULL;

    if (ngx_collab_store.waiting == NULL) {
        ngx_collab_store.last = &ngx_collab_store.waiting;
    }

    ngx_collab_store.nwaiting -= n;
    ngx_collab_store.task->ctx = ngx_collab_store.group;

    if (ngx_thread_task_post(ngx_collab_store.pool, ngx_collab_store.task)
        != NGX_OK)
    {
        /* the pool's queue is full: fail the group on the event loop */
        for (w = ngx_collab_store.group; w; w = w->next) {
            w->rc = NGX_ERROR;
            w->db_rc = SQLITE_BUSY;
        }

        ngx_collab_store.task->ctx = NULL;
        ngx_post_event(&ngx_collab_store.task->event, &ngx_posted_events);
    }
}


static int
ngx_collab_store_exec(const char *sql)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(sql);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    rc = sqlite3_step(st);
    sqlite3_reset(st);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}


static void
ngx_collab_store_fail(ngx_collab_work_t *group, int rc)
{
    ngx_collab_work_t  *w;

    for (w = group; w; w = w->next) {
        w->rc = NGX_ERROR;
        w->db_rc = rc;
        w->wake = 0;
    }
}


/* runs in a thread of the pool: the whole group, in one transaction */
static void
ngx_collab_store_thread(void *data, ngx_log_t *log)
{
    int                 rc;
    sqlite3            *db;
    ngx_uint_t          rolled;
    ngx_collab_conn_t  *conn;
    ngx_collab_work_t  *group, *w;

    group = data;
    conn = ngx_collab_store.conn;
    db = ngx_collab_db_conn_handle(conn);

    (void) ngx_collab_db_use(conn);

    rc = ngx_collab_store_exec(ngx_collab_sql_begin);

    if (rc != SQLITE_OK) {
        rc = sqlite3_extended_errcode(db);
        ngx_collab_store_fail(group, rc);
        ngx_collab_db_release();
        (void) ngx_collab_db_use(NULL);
        return;
    }

    ngx_collab_metrics_txn_begin();
    ngx_collab_db_batch(conn, 1);

    for (w = group; w; w = w->next) {

        rc = ngx_collab_store_exec(ngx_collab_sql_savepoint);
        if (rc != SQLITE_OK) {
            goto failed;
        }

        ngx_collab_metrics_txn_savepoint();

        ngx_collab_store_work = w;
        w->rc = w->handler(w);
        ngx_collab_store_work = NULL;

        ngx_collab_db_reset(conn);
        rolled = ngx_collab_db_rolled(conn);

        if (sqlite3_get_autocommit(db)) {
            /* an error such as SQLITE_FULL ended the whole transaction */
            rc = sqlite3_extended_errcode(db);
            goto failed;
        }

        if (w->rc != NGX_OK || rolled) {
            if (w->rc == NGX_OK) {
                w->rc = NGX_DECLINED;
            }

            w->wake = 0;

            rc = ngx_collab_store_exec(ngx_collab_sql_rollback_to);
            if (rc != SQLITE_OK) {
                goto failed;
            }

            ngx_collab_metrics_txn_rollback();
        }

        rc = ngx_collab_store_exec(ngx_collab_sql_release);
        if (rc != SQLITE_OK) {
            goto failed;
        }
    }

    ngx_collab_db_release();
    ngx_collab_db_batch(conn, 0);

    rc = ngx_collab_store_exec(ngx_collab_sql_commit);

    if (rc != SQLITE_OK) {
        rc = sqlite3_extended_errcode(db);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        ngx_collab_store_fail(group, rc);
    }

    ngx_collab_metrics_txn_end(rc == SQLITE_OK);
    (void) ngx_collab_db_use(NULL);
    return;

failed:

    ngx_collab_store_work = NULL;
    ngx_collab_metrics_txn_end(0);
    ngx_collab_db_release();
    ngx_collab_db_batch(conn, 0);

    if (!sqlite3_get_autocommit(db)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }

    ngx_collab_store_fail(group, rc == SQLITE_OK ? SQLITE_ERROR : rc);
    (void) ngx_collab_db_use(NULL);
}


/* on the event loop: the group is over; the next one starts at once */
static void
ngx_collab_store_finish(ngx_event_t *ev)
{
    ngx_uint_t          i, wake;
    ngx_collab_work_t  *group, *w, *next;

    group = ngx_collab_store.group;
    ngx_collab_store.group = NULL;

    ngx_collab_store_start();

    wake = 0;

    for (w = group; w; w = next) {
        next = w->next;

        if (w->rc == NGX_OK) {
            wake |= w->wake;
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "collab store: work %p done rc:%i db:%d",
                       w, w->rc, w->db_rc);

        w->done(w);
    }

    if (wake) {
        for (i = 0; i < ngx_collab_store.nobservers; i++) {
            ngx_collab_store.observers[i](wake);
        }
    }
}
