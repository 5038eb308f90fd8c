/*
 * Copyright (C) collab
 *
 * The asynchronous storage interface.  Whoever changes durable state hands
 * a unit of work to the store and is called back on the event loop with
 * its outcome; nothing on the event loop ever waits for a lock.
 *
 * With SQLite, the work runs on a thread of nginx's thread pool, on a
 * connection that belongs to that thread.  The works that wait while one
 * group runs are committed together as the next group (group commit):
 * each inside its own savepoint, so that one that fails rolls back alone,
 * and all under one COMMIT.  Inside a work, the statement helpers of
 * ngx_collab_db.h (ngx_collab_db_stmt() and the binders) act on the
 * thread's connection.
 *
 * Layers above register what must happen after a commit (waking the
 * webhook sender, say) with ngx_collab_store_on_commit(): the store calls
 * up only through those pointers.
 */

#ifndef _NGX_COLLAB_STORE_H_INCLUDED_
#define _NGX_COLLAB_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_collab_work_s  ngx_collab_work_t;

/*
 * Runs in a storage thread, inside the work's savepoint.  NGX_OK keeps
 * what it wrote; anything else rolls the savepoint back.  It may not touch
 * nginx's event machinery (timers, posted events, connections).
 */
typedef ngx_int_t (*ngx_collab_work_pt)(ngx_collab_work_t *w);

/* runs on the event loop once the work's group is committed or failed */
typedef void (*ngx_collab_work_done_pt)(ngx_collab_work_t *w);

/* runs on the event loop after a commit, with the wake bits of its works */
typedef void (*ngx_collab_commit_pt)(ngx_uint_t wake);


/* what a committed work asks the consumers above to look at */
#define COLLAB_WAKE_DELIVERIES   0x01
#define COLLAB_WAKE_EXECUTIONS   0x02
#define COLLAB_WAKE_EVENTS       0x04


struct ngx_collab_work_s {
    ngx_collab_work_pt        handler;
    ngx_collab_work_done_pt   done;
    void                     *data;
    ngx_log_t                *log;

    /*
     * The outcome, for done(): rc is what the handler returned, or
     * NGX_ERROR when the group could not be committed; then db_rc holds
     * the SQLite code (see ngx_collab_db_status()).
     */
    ngx_int_t                 rc;
    int                       db_rc;
    ngx_uint_t                wake;

    ngx_collab_work_t        *next;
};


/* hands a work over (event loop only); NGX_ERROR when there is no store */
ngx_int_t ngx_collab_store_post(ngx_collab_work_t *w);

/* inside a work: what its commit should wake */
void ngx_collab_store_wake(ngx_uint_t wake);

ngx_int_t ngx_collab_store_on_commit(ngx_collab_commit_pt handler);

ngx_int_t ngx_collab_store_init(ngx_cycle_t *cycle, ngx_str_t *database,
    ngx_str_t *pool);
void ngx_collab_store_exit(void);


#endif /* _NGX_COLLAB_STORE_H_INCLUDED_ */
