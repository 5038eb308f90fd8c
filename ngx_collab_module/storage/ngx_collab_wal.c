/*
 * Copyright (C) collab
 *
 * The write-ahead log, kept short away from requests and commits.  The
 * connections that write never checkpoint (wal_autocheckpoint = 0, see
 * ngx_collab_db.c): a checkpoint inside a commit made that commit wait
 * for an fdatasync of the database file.  Instead one worker checkpoints
 * five times a second on a connection of its own, in a thread of nginx's
 * pool: PASSIVE, which copies what it can and waits for nobody (a log
 * copied to its end starts over at the next write when nobody reads it),
 * and at most once a second, once the log has grown past a bound (under
 * load somebody always reads, so the log may never start over), TRUNCATE,
 * which holds writers back while it waits a little for the readers of
 * the moment, and empties the file.
 */

#include "ngx_collab.h"


#define COLLAB_WAL_EVERY      200       /* ms between PASSIVE checkpoints */
#define COLLAB_WAL_TRUNCATE   1000      /* ms at least between TRUNCATEs */
#define COLLAB_WAL_BOUND      4096      /* pages in the log: 16 MiB */
#define COLLAB_WAL_WAIT       20        /* ms a TRUNCATE may wait */
#define COLLAB_WAL_WAIT_LONG  100       /* ... past four times the bound */


typedef struct {
    ngx_uint_t                truncate;    /* may try one */
    int                       rc;
    int                       mode;
    int                       log;
    int                       done;
    long                      wait;        /* ms */
    struct timespec           start;
} ngx_collab_wal_run_t;


static struct {
    ngx_thread_pool_t        *pool;
    ngx_thread_task_t        *task;
    ngx_event_t               timer;
    ngx_log_t                *log;
    sqlite3                  *db;
    u_char                   *path;
    u_char                   *wal_path;    /* for its size, in metrics */
    ngx_uint_t                running;
    ngx_msec_t                truncated;   /* when a TRUNCATE was tried */
    ngx_connection_t          ident;       /* what debug lines show: fd -1 */
} ngx_collab_wal;


static int ngx_collab_wal_busy(void *data, int count);
static void ngx_collab_wal_tick(ngx_event_t *ev);
static void ngx_collab_wal_thread(void *data, ngx_log_t *log);
static void ngx_collab_wal_done(ngx_event_t *ev);


ngx_int_t
ngx_collab_wal_init(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf)
{
    if (ngx_worker != 0) {
        return NGX_OK;
    }

    ngx_collab_wal.log = cycle->log;

    ngx_collab_wal.pool = ngx_thread_pool_get(cycle, &cmcf->thread_pool);
    if (ngx_collab_wal.pool == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_wal.task = ngx_thread_task_alloc(cycle->pool,
                                                sizeof(ngx_collab_wal_run_t));
    if (ngx_collab_wal.task == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_wal.path = ngx_pnalloc(cycle->pool, cmcf->database.len + 1);
    if (ngx_collab_wal.path == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_collab_wal.path, cmcf->database.data, cmcf->database.len);
    ngx_collab_wal.path[cmcf->database.len] = '\0';

    ngx_collab_wal.wal_path = ngx_pnalloc(cycle->pool, cmcf->database.len
                                                       + sizeof("-wal"));
    if (ngx_collab_wal.wal_path == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ngx_collab_wal.wal_path, "%V-wal%Z", &cmcf->database);

    ngx_collab_wal.task->handler = ngx_collab_wal_thread;
    ngx_collab_wal.task->event.handler = ngx_collab_wal_done;
    ngx_collab_wal.ident.fd = (ngx_socket_t) -1;
    ngx_collab_wal.task->event.data = &ngx_collab_wal.ident;
    ngx_collab_wal.task->event.log = cycle->log;

    ngx_collab_wal.timer.handler = ngx_collab_wal_tick;
    ngx_collab_wal.timer.data = &ngx_collab_wal.ident;
    ngx_collab_wal.timer.log = cycle->log;
    ngx_collab_wal.timer.cancelable = 1;

    ngx_add_timer(&ngx_collab_wal.timer, COLLAB_WAL_EVERY);

    return NGX_OK;
}


void
ngx_collab_wal_exit(void)
{
    /* the pool's threads have ended: nobody else uses the connection */
    if (ngx_collab_wal.db) {
        sqlite3_close(ngx_collab_wal.db);
        ngx_collab_wal.db = NULL;
    }
}


static void
ngx_collab_wal_tick(ngx_event_t *ev)
{
    ngx_collab_wal_run_t  *run;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!ngx_collab_wal.running) {
        run = ngx_collab_wal.task->ctx;
        run->truncate = (ngx_current_msec - ngx_collab_wal.truncated
                         >= COLLAB_WAL_TRUNCATE);

        if (ngx_thread_task_post(ngx_collab_wal.pool, ngx_collab_wal.task)
            == NGX_OK)
        {
            ngx_collab_wal.running = 1;
        }
    }

    ngx_add_timer(ev, COLLAB_WAL_EVERY);
}


/* in a thread of the pool */
static void
ngx_collab_wal_thread(void *data, ngx_log_t *log)
{
    ngx_collab_wal_run_t *run = data;

    sqlite3  *db;

    run->log = -1;
    run->done = -1;
    run->mode = SQLITE_CHECKPOINT_PASSIVE;

    if (ngx_collab_wal.db == NULL) {
        run->rc = sqlite3_open_v2((char *) ngx_collab_wal.path, &db,
                                  SQLITE_OPEN_READWRITE|SQLITE_OPEN_NOMUTEX,
                                  NULL);
        if (run->rc != SQLITE_OK) {
            sqlite3_close(db);
            return;
        }

        /*
         * A connection learns that the database is in WAL mode when it
         * first reads; until then a checkpoint does nothing.
         */
        run->rc = sqlite3_exec(db, "PRAGMA journal_size_limit = 67108864;"
                                   "PRAGMA wal_autocheckpoint = 0;"
                                   "SELECT count(*) FROM sqlite_master;",
                               NULL, NULL, NULL);
        if (run->rc != SQLITE_OK) {
            sqlite3_close(db);
            return;
        }

        ngx_collab_wal.db = db;
    }

    db = ngx_collab_wal.db;

    run->rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                        &run->log, &run->done);

    if (run->rc != SQLITE_OK || run->log < COLLAB_WAL_BOUND
        || !run->truncate)
    {
        return;
    }

    /*
     * TRUNCATE holds new writers back while it waits for the readers of
     * the moment: briefly, and a little longer once the log is far past
     * its bound.
     */
    run->wait = run->log < 4 * COLLAB_WAL_BOUND ? COLLAB_WAL_WAIT
                                                : COLLAB_WAL_WAIT_LONG;

    sqlite3_busy_handler(db, ngx_collab_wal_busy, run);

    run->mode = SQLITE_CHECKPOINT_TRUNCATE;
    run->rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                        &run->log, &run->done);

    sqlite3_busy_handler(db, NULL, NULL);
}


/*
 * The store's groups hold the write lock for a millisecond or so, one
 * after the other: a checkpoint looks for the gap between two of them in
 * short steps (SQLite's own waits of growing milliseconds would miss it).
 */
static int
ngx_collab_wal_busy(void *data, int count)
{
    ngx_collab_wal_run_t *run = data;

    struct timespec  now;

    clock_gettime(CLOCK_MONOTONIC, &now);

    if (count == 0) {
        run->start = now;

    } else if ((now.tv_sec - run->start.tv_sec) * 1000
               + (now.tv_nsec - run->start.tv_nsec) / 1000000 >= run->wait)
    {
        return 0;
    }

    if (count < 20) {
        sched_yield();

    } else {
        usleep(100);
    }

    return 1;
}


static void
ngx_collab_wal_done(ngx_event_t *ev)
{
    ngx_file_info_t        fi;
    ngx_collab_wal_run_t  *run;

    run = ngx_collab_wal.task->ctx;
    ngx_collab_wal.running = 0;

    if (run->mode == SQLITE_CHECKPOINT_TRUNCATE) {
        ngx_collab_wal.truncated = ngx_current_msec;
    }

    if (run->log >= 0) {
        ngx_collab_metrics_gauge_set(COLLAB_G_WAL_FRAMES, run->log);
    }

    if (ngx_file_info(ngx_collab_wal.wal_path, &fi) != NGX_FILE_ERROR) {
        ngx_collab_metrics_gauge_set(COLLAB_G_WAL_BYTES, ngx_file_size(&fi));
    }

    if (run->rc != SQLITE_OK && (run->rc & 0xff) != SQLITE_BUSY) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "collab: checkpoint of the write-ahead log failed: "
                      "sqlite: %s (%d)", sqlite3_errstr(run->rc), run->rc);
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "collab wal: checkpoint mode:%d rc:%d log:%d done:%d",
                   run->mode, run->rc, run->log, run->done);
}
