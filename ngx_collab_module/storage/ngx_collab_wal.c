/*
 * Copyright (C) collab
 *
 * The write-ahead log, kept short away from requests and commits.  The
 * connections that write never checkpoint (wal_autocheckpoint = 0, see
 * ngx_collab_db.c): a checkpoint inside a commit made that commit wait
 * for an fdatasync of the database file.  Instead one worker checkpoints
 * every second on a connection of its own, in a thread of nginx's pool:
 * PASSIVE, which copies what it can and waits for nobody, and once the
 * log has grown past a bound (some reader always held a snapshot under
 * load, so the log could never start over) TRUNCATE, which waits a
 * little for the readers and writers of the moment and empties the file.
 */

#include "ngx_collab.h"


#define COLLAB_WAL_EVERY      1000
#define COLLAB_WAL_BOUND      4096      /* pages in the log: 16 MiB */
#define COLLAB_WAL_WAIT       20        /* ms a TRUNCATE may wait */


typedef struct {
    int                       rc;
    int                       mode;
    int                       log;
    int                       done;
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
    ngx_connection_t          ident;       /* what debug lines show: fd -1 */
} ngx_collab_wal;


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
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!ngx_collab_wal.running) {
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

        sqlite3_busy_timeout(db, COLLAB_WAL_WAIT);
        (void) sqlite3_exec(db, "PRAGMA journal_size_limit = 67108864;",
                            NULL, NULL, NULL);

        ngx_collab_wal.db = db;
    }

    db = ngx_collab_wal.db;

    run->rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                        &run->log, &run->done);

    if (run->rc != SQLITE_OK || run->log < COLLAB_WAL_BOUND) {
        return;
    }

    run->mode = SQLITE_CHECKPOINT_TRUNCATE;
    run->rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                        &run->log, &run->done);
}


static void
ngx_collab_wal_done(ngx_event_t *ev)
{
    ngx_file_info_t        fi;
    ngx_collab_wal_run_t  *run;

    run = ngx_collab_wal.task->ctx;
    ngx_collab_wal.running = 0;

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
