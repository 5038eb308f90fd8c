/*
 * Copyright (C) collab
 *
 * The tail of a workflow: a Server-Sent Events stream of its executions
 * as they finish, whichever worker ran them.  A finish in worker A
 * reaches a tail held in worker B through the database: every outcome
 * written gets the next number of the node's finished executions
 * (executions.done_seq, from the meta table's counter), and the worker
 * that wrote it bumps a counter in the shm registry.  Each tail looks at
 * that counter every COLLAB_TAIL_POLL ms and, when it moved, reads the
 * executions of its workflow numbered after the last one it sent.  Idle
 * tails cost no SQL; a busy node costs each tail one indexed range read
 * per tick.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"


#define COLLAB_TAIL_POLL        200
#define COLLAB_TAIL_HEARTBEAT   15000
#define COLLAB_TAIL_BATCH       100
#define COLLAB_TAIL_BUFFERED    (1024 * 1024)


typedef struct {
    ngx_collab_req_t          *cr;
    ngx_event_t                tick;
    int64_t                    last;        /* done_seq sent */
    ngx_atomic_uint_t          seen;        /* the registry's counter */
    ngx_msec_t                 beat;        /* last write */
    ngx_str_t                  workflow;
    ngx_chain_t               *free;        /* buffers sent, to reuse */
    ngx_chain_t               *busy;
} ngx_collab_tail_t;


static const char  ngx_collab_sql_tail_start[] =
    "SELECT value FROM meta WHERE name = 'executions_done'";

static const char  ngx_collab_sql_tail_next[] =
    "SELECT " COLLAB_EXECUTION_COLUMNS ", done_seq FROM executions"
    " WHERE workflow_id = ?1 AND done_seq > ?2"
    " ORDER BY done_seq LIMIT ?3";

static const char  ngx_collab_sql_tail_workflow[] =
    "SELECT 1 FROM workflows WHERE account_id = ?1 AND id = ?2";


static void ngx_collab_tail_tick(ngx_event_t *ev);
static void ngx_collab_tail_cleanup(void *data);
static void ngx_collab_tail_write_handler(ngx_http_request_t *r);


/*
 * Writes one message (head, then body) to the stream, in a buffer of its
 * own that is reused once sent: a stream that stays open for days keeps
 * no more memory than it has unsent.
 */
static ngx_int_t
ngx_collab_tail_send(ngx_collab_tail_t *t, u_char *head, size_t hlen,
    u_char *body, size_t blen)
{
    u_char              *p;
    size_t               len, size;
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_http_request_t  *r;

    r = t->cr->request;
    len = hlen + blen + (body ? 2 : 0);

    cl = ngx_chain_get_free_buf(r->pool, &t->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;

    if (b->start == NULL || (size_t) (b->end - b->start) < len) {
        if (b->start) {
            ngx_pfree(r->pool, b->start);
        }

        /* at least a page: a large block of the pool, which ngx_pfree() */
        size = ngx_max(len, ngx_pagesize);

        b->start = ngx_palloc(r->pool, size);
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->end = b->start + size;
    }

    p = ngx_cpymem(b->start, head, hlen);

    if (body) {
        p = ngx_cpymem(p, body, blen);
        *p++ = '\n';
        *p++ = '\n';
    }

    b->pos = b->start;
    b->last = p;
    b->temporary = 1;
    b->flush = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_collab_module;

    rc = ngx_http_output_filter(r, cl);

    ngx_chain_update_chains(r->pool, &t->free, &t->busy, &cl,
                            (ngx_buf_tag_t) &ngx_http_collab_module);

    return rc;
}


/* GET .../workflows/{id}/tail */
ngx_int_t
ngx_collab_workflow_tail(ngx_collab_req_t *cr)
{
    int                    rc;
    ngx_int_t              res;
    sqlite3_stmt          *st;
    ngx_table_elt_t       *h;
    ngx_http_cleanup_t    *cln;
    ngx_collab_tail_t     *t;
    ngx_http_request_t    *r;

    r = cr->request;

    st = ngx_collab_db_stmt(ngx_collab_sql_tail_workflow);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "workflow get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND,
                                 NULL, "workflow not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "workflow get");
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_collab_tail_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->cr = cr;
    t->workflow = cr->params[1];
    cr->ctx = t;

    /* what finished before the tail began is not shown */
    t->seen = ngx_collab_shm_executions_seen();

    st = ngx_collab_db_stmt(ngx_collab_sql_tail_start);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "tail start");
    }

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "tail start");
    }

    t->last = sqlite3_column_int64(st, 0);

    ngx_collab_db_release();

    if (r->method == NGX_HTTP_HEAD) {
        r->headers_out.status = NGX_HTTP_OK;
        ngx_str_set(&r->headers_out.content_type, "text/event-stream");
        r->headers_out.content_type_len = r->headers_out.content_type.len;
        r->header_only = 1;
        cr->sending = 1;
        return ngx_http_send_header(r);
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_collab_tail_cleanup;
    cln->data = t;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-cache");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Accel-Buffering");
    ngx_str_set(&h->value, "no");

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = -1;

    cr->sending = 1;

    res = ngx_http_send_header(r);

    if (res == NGX_ERROR || res > NGX_OK) {
        return res;
    }

    res = ngx_collab_tail_send(t, (u_char *) "retry: 1000\n\n",
                               sizeof("retry: 1000\n\n") - 1, NULL, 0);

    if (res == NGX_ERROR) {
        return NGX_ERROR;
    }

    t->beat = ngx_current_msec;

    t->tick.handler = ngx_collab_tail_tick;
    t->tick.data = t;
    t->tick.log = r->connection->log;

    ngx_add_timer(&t->tick, COLLAB_TAIL_POLL);

    r->write_event_handler = ngx_collab_tail_write_handler;
    r->read_event_handler = ngx_http_test_reading;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab tail: started after %L", t->last);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_collab_tail_cleanup(void *data)
{
    ngx_collab_tail_t  *t = data;

    if (t->tick.timer_set) {
        ngx_del_timer(&t->tick);
    }
}


static void
ngx_collab_tail_write_handler(ngx_http_request_t *r)
{
    ngx_collab_req_t   *cr;
    ngx_collab_tail_t  *t;

    cr = ngx_http_get_module_ctx(r, ngx_http_collab_module);
    t = cr->ctx;

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    ngx_chain_update_chains(r->pool, &t->free, &t->busy, NULL,
                            (ngx_buf_tag_t) &ngx_http_collab_module);
}


/* the executions of the workflow that finished since the last tick */
static ngx_int_t
ngx_collab_tail_read(ngx_collab_tail_t *t, ngx_uint_t *more)
{
    int                  rc;
    u_char              *p;
    ngx_int_t            res;
    ngx_str_t            id;
    ngx_uint_t           n;
    sqlite3_stmt        *st;
    collab_json_t        j;
    ngx_http_request_t  *r;
    u_char               head[sizeof("event: execution\nid: \ndata: ")
                              + COLLAB_ID_MAX];

    r = t->cr->request;
    *more = 0;

    st = ngx_collab_db_stmt(ngx_collab_sql_tail_next);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &t->workflow);
    sqlite3_bind_int64(st, 2, t->last);
    sqlite3_bind_int(st, 3, COLLAB_TAIL_BATCH);

    n = 0;
    res = NGX_OK;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        t->last = sqlite3_column_int64(st, 16);

        collab_json_init(&j);
        ngx_collab_execution_json(&j, st, 0);

        if (j.failed) {
            collab_json_free(&j);
            res = NGX_ERROR;
            break;
        }

        ngx_collab_db_col(st, 1, &id);
        id.len = ngx_min(id.len, COLLAB_ID_MAX);

        p = ngx_sprintf(head, "event: execution\nid: %V\ndata: ", &id);

        res = ngx_collab_tail_send(t, head, p - head, j.data, j.len);

        collab_json_free(&j);

        if (res == NGX_ERROR) {
            break;
        }
    }

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ngx_collab_db_log(r->connection->log, rc, "tail");
    }

    ngx_collab_db_release();

    if (n == COLLAB_TAIL_BATCH) {
        *more = 1;
    }

    if (n) {
        t->beat = ngx_current_msec;
    }

    return res;
}


static void
ngx_collab_tail_end(ngx_collab_tail_t *t, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = t->cr->request;
    c = r->connection;

    if (rc == NGX_OK) {
        rc = ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_collab_tail_tick(ngx_event_t *ev)
{
    int                  rc;
    off_t                size;
    ngx_uint_t           more;
    ngx_chain_t         *cl;
    sqlite3_stmt        *st;
    ngx_connection_t    *c;
    ngx_collab_tail_t   *t;
    ngx_atomic_uint_t    seen;
    ngx_http_request_t  *r;

    t = ev->data;
    r = t->cr->request;
    c = r->connection;

    /* an exiting worker ends its streams; clients come back (retry) */
    if (ngx_exiting || ngx_quit || ngx_terminate || c->error) {
        ngx_collab_tail_end(t, c->error ? NGX_ERROR : NGX_OK);
        return;
    }

    more = 0;
    seen = ngx_collab_shm_executions_seen();

    if (seen != t->seen) {
        t->seen = seen;

        if (ngx_collab_tail_read(t, &more) != NGX_OK) {
            ngx_collab_tail_end(t, NGX_ERROR);
            return;
        }

        if (more) {
            /* read on at the next tick */
            t->seen--;
        }
    }

    if (ngx_current_msec - t->beat >= COLLAB_TAIL_HEARTBEAT) {
        /* the workflow may be gone: then the stream ends */
        st = ngx_collab_db_stmt(ngx_collab_sql_tail_workflow);

        if (st) {
            ngx_collab_db_bind_str(st, 1, &t->cr->params[0]);
            ngx_collab_db_bind_str(st, 2, &t->workflow);

            rc = sqlite3_step(st);
            ngx_collab_db_release();

            if (rc == SQLITE_DONE) {
                ngx_collab_tail_end(t, NGX_OK);
                return;
            }
        }

        t->beat = ngx_current_msec;

        if (ngx_collab_tail_send(t, (u_char *) ": heartbeat\n\n",
                                 sizeof(": heartbeat\n\n") - 1, NULL, 0)
            == NGX_ERROR)
        {
            ngx_collab_tail_end(t, NGX_ERROR);
            return;
        }
    }

    for (size = 0, cl = t->busy; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    if (size > COLLAB_TAIL_BUFFERED) {
        /* a reader that does not read: the stream ends */
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "collab: tail ended: the client does not read");
        ngx_collab_tail_end(t, NGX_ERROR);
        return;
    }

    ngx_add_timer(ev, COLLAB_TAIL_POLL);

    ngx_http_run_posted_requests(c);
}
