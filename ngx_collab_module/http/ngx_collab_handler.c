/*
 * Copyright (C) collab
 *
 * The request handler of a collab_api location: it routes the request,
 * authenticates and authorizes it, reads its body (JSON, or raw bytes to
 * a temp file) and runs the resource handler.  Its header and body
 * filters give nginx's own error pages (413 and the like) inside such a
 * location the API's error shape.
 */

#include "ngx_collab.h"
#include "ngx_collab_http.h"


static void ngx_http_collab_body_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_collab_is_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_collab_run(ngx_collab_req_t *cr);
static ngx_int_t ngx_http_collab_work(ngx_collab_work_t *w);
static void ngx_http_collab_work_done(ngx_collab_work_t *w);
static ngx_int_t ngx_http_collab_refused(ngx_collab_req_t *cr);
static ngx_int_t ngx_http_collab_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_collab_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

#if (NGX_DEBUG)
/* by ngx_collab_body_e, for the debug log */
static const char  *ngx_http_collab_body_kind[] = {
    "none", "a JSON object", "a JSON value", "a file"
};
#endif


ngx_int_t
ngx_http_collab_handler(ngx_http_request_t *r)
{
    ngx_int_t          rc;
    ngx_str_t          allow;
    ngx_table_elt_t   *h;
    ngx_collab_req_t  *cr;

    cr = ngx_http_get_module_ctx(r, ngx_http_collab_module);

    if (cr == NULL) {
        cr = ngx_pcalloc(r->pool, sizeof(ngx_collab_req_t));
        if (cr == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cr->request = r;
        collab_json_init(&cr->out);
        ngx_http_set_ctx(r, cr, ngx_http_collab_module);
    }

    if (ngx_collab_db_handle() == NULL) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "the database is not available");
    }

    rc = ngx_collab_route(r, cr, &allow);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab: route \"%s\": %i",
                   cr->route ? cr->route->pattern : "", rc);

    if (rc == NGX_HTTP_BAD_REQUEST) {
        return ngx_http_collab_refused(cr);
    }

    if (rc == NGX_HTTP_NOT_FOUND) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "no such route");
    }

    if (rc == NGX_HTTP_NOT_ALLOWED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        h->value = allow;

        return ngx_collab_fail(cr, NGX_HTTP_NOT_ALLOWED, NULL,
                               "method %V is not allowed here; allowed: %V",
                               &r->method_name, &allow);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = (ngx_collab_authenticate(cr) == NGX_OK
          && ngx_collab_authorize(cr) == NGX_OK
          && (cr->route->check == NULL || cr->route->check(cr) == NGX_OK))
         ? NGX_OK : NGX_ERROR;

    /* no read snapshot may stay open while the body is read */
    ngx_collab_db_release();

    if (rc != NGX_OK) {
        return ngx_http_collab_refused(cr);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab handler: body: %s",
                   ngx_http_collab_body_kind[cr->method->body]);

    if (cr->method->body == COLLAB_BODY_NONE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_collab_run(cr);
    }

    if (cr->method->body == COLLAB_BODY_FILE) {
        /* as the dav module does: the body ends up in a named temp file */
        r->request_body_in_file_only = 1;
        r->request_body_in_persistent_file = 1;
        r->request_body_in_clean_file = 1;
        r->request_body_file_log_level = 0;

    } else if ((r->headers_in.content_length_n > 0 || r->headers_in.chunked)
               && !ngx_http_collab_is_json(r))
    {
        return ngx_collab_fail(cr, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
                               "the request body must be application/json");

    } else {
        r->request_body_in_single_buf = 1;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_collab_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* application/json, with or without parameters, in any case */
static ngx_uint_t
ngx_http_collab_is_json(ngx_http_request_t *r)
{
    ngx_str_t  *ct;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    ct = &r->headers_in.content_type->value;

    return ct->len >= 16
           && ngx_strncasecmp(ct->data, (u_char *) "application/json", 16)
              == 0
           && (ct->len == 16 || ct->data[16] == ';' || ct->data[16] == ' ');
}


/*
 * The body in one NUL-ended piece of memory.  Buffers may be empty: the
 * last one of a chunked body, or the only one of "Content-Length: 0",
 * which has no memory at all (pos is NULL).
 */
static u_char *
ngx_http_collab_body_bytes(ngx_http_request_t *r, size_t *len)
{
    u_char       *p, *data;
    size_t        size, n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    *len = 0;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return (u_char *) "";
    }

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size += b->in_file ? (size_t) (b->file_last - b->file_pos)
                           : (size_t) (b->last - b->pos);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab: request body of %uz bytes", size);

    if (size == 0) {
        return (u_char *) "";
    }

    data = ngx_pnalloc(r->pool, size + 1);
    if (data == NULL) {
        return NULL;
    }

    p = data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = b->file_last - b->file_pos;

            if (n
                && ngx_read_file(b->file, p, n, b->file_pos) != (ssize_t) n)
            {
                return NULL;
            }

        } else {
            n = b->last - b->pos;

            if (n) {
                ngx_memcpy(p, b->pos, n);
            }
        }

        p += n;
    }

    *p = '\0';
    *len = size;

    return data;
}


static void
ngx_http_collab_body_handler(ngx_http_request_t *r)
{
    size_t             len;
    u_char            *body;
    json_error_t       err;
    ngx_collab_req_t  *cr;

    cr = ngx_http_get_module_ctx(r, ngx_http_collab_module);

    if (cr->method->body == COLLAB_BODY_FILE) {
        ngx_http_finalize_request(r, ngx_http_collab_run(cr));
        return;
    }

    body = ngx_http_collab_body_bytes(r, &len);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (len == 0) {
        if (cr->method->body == COLLAB_BODY_VALUE) {
            ngx_http_finalize_request(r,
                ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, NULL,
                                "the request body must be a JSON value"));
            return;
        }

        cr->body = json_object();

    } else if (!collab_utf8_valid(body, len)) {
        ngx_http_finalize_request(r,
            ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, NULL,
                            "the request body is not valid UTF-8"));
        return;

    } else {
        cr->body = json_loadb((char *) body, len,
                              COLLAB_JSON_DECODE|JSON_REJECT_DUPLICATES
                              |JSON_DECODE_ANY, &err);

        if (cr->body == NULL) {
            ngx_http_finalize_request(r,
                ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, NULL,
                                "the request body is not valid JSON: %s "
                                "(line %d, column %d)", err.text, err.line,
                                err.column));
            return;
        }
    }

    if (cr->body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_collab_json_cleanup(r, cr->body);

    if (cr->method->body == COLLAB_BODY_OBJECT && !json_is_object(cr->body)) {
        ngx_http_finalize_request(r,
            ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, NULL,
                            "the request body must be a JSON object"));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_collab_run(cr));
}


/*
 * A method that reads runs its handler here, on the event loop: reads in
 * WAL mode never wait for the write lock.  A method that writes hands its
 * handler to the store as a work, and its answer is sent once the work's
 * group is committed.  A handler that returns NGX_ERROR with a refusal
 * recorded (ngx_collab_refuse()) gets that refusal answered.
 */
static ngx_int_t
ngx_http_collab_run(ngx_collab_req_t *cr)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = cr->request;

    if ((r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
        || (cr->method->method & COLLAB_METHOD_LOOP))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab handler: %s on the event loop",
                       (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
                       ? "read" : "loop method");

        rc = cr->method->handler(cr);
        ngx_collab_db_release();

        if (rc == NGX_ERROR && cr->err.status && !cr->sending) {
            return ngx_http_collab_refused(cr);
        }

        return rc;
    }

    if (cr->prepare && !cr->prepared) {
        cr->prepared = 1;

        rc = cr->prepare(cr);
        ngx_collab_db_release();

        if (rc == NGX_AGAIN) {
            r->main->count++;
            return NGX_DONE;
        }

        if (rc != NGX_OK) {
            return ngx_http_collab_refused(cr);
        }
    }

    cr->work.handler = ngx_http_collab_work;
    cr->work.done = ngx_http_collab_work_done;
    cr->work.data = cr;
    cr->work.log = r->connection->log;
    cr->deferred = 1;

    if (ngx_collab_store_post(&cr->work) != NGX_OK) {
        cr->deferred = 0;
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "the database is not available");
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab handler: work %p posted to the store", &cr->work);

    r->main->count++;

    return NGX_DONE;
}


/*
 * The end of a prepare step that waited (on the event loop, outside the
 * request's own handlers): NGX_OK hands the handler to the store,
 * NGX_ERROR answers cr->err.
 */
void
ngx_collab_resume(ngx_collab_req_t *cr, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = cr->request;
    c = r->connection;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "collab: prepared, rc:%i", rc);

    rc = (rc == NGX_OK) ? ngx_http_collab_run(cr)
                        : ngx_http_collab_refused(cr);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* in a storage thread: the resource handler, whose answer waits */
static ngx_int_t
ngx_http_collab_work(ngx_collab_work_t *w)
{
    ngx_collab_req_t  *cr;

    cr = w->data;

    cr->handler_rc = cr->method->handler(cr);

    if (cr->reply_status == 0) {
        return NGX_ERROR;
    }

    return cr->reply_status < NGX_HTTP_SPECIAL_RESPONSE ? NGX_OK
                                                       : NGX_DECLINED;
}


/* on the event loop, after the commit: the answer goes out */
static void
ngx_http_collab_work_done(ngx_collab_work_t *w)
{
    ngx_int_t          rc;
    ngx_uint_t         status;
    ngx_collab_req_t  *cr;

    cr = w->data;
    cr->deferred = 0;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, cr->request->connection->log, 0,
                   "collab handler: work %p done rc:%i db:%d, answer %ui",
                   w, w->rc, w->db_rc, cr->reply_status);

    if (w->rc == NGX_ERROR && w->db_rc != SQLITE_OK
        && cr->reply_status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        ngx_log_error(NGX_LOG_ERR, cr->request->connection->log, 0,
                      "collab: %V %V: sqlite: %s (%d)",
                      &cr->request->method_name, &cr->request->uri,
                      sqlite3_errstr(w->db_rc), w->db_rc);

        if (cr->undo) {
            (void) cr->undo(cr);
        }

        status = ngx_collab_db_status(w->db_rc);

        rc = ngx_collab_fail(cr, status, NULL,
                             status == NGX_HTTP_SERVICE_UNAVAILABLE
                             ? "the database is unavailable, nothing was "
                               "changed; try again"
                             : "an internal error occurred, nothing was "
                               "changed");

    } else if (cr->reply_status == 0) {
        rc = cr->handler_rc;

        if (rc == NGX_ERROR && cr->err.status && !cr->sending) {
            rc = ngx_http_collab_refused(cr);
        }

    } else if (w->rc == NGX_OK && cr->committed
               && (rc = cr->committed(cr)) == NGX_DONE)
    {
        /* the resource answers later by itself */

    } else if (cr->reply_empty) {
        rc = ngx_collab_reply_empty(cr, cr->reply_status);

    } else {
        rc = ngx_collab_reply(cr, cr->reply_status);
    }

    ngx_http_finalize_request(cr->request, rc);
}


/* answers what ngx_collab_refuse() recorded */
static ngx_int_t
ngx_http_collab_refused(ngx_collab_req_t *cr)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cr->request->connection->log, 0,
                   "collab: refused: %ui \"%s\"", cr->err.status,
                   cr->err.message);

    return ngx_collab_fail(cr, cr->err.status ? cr->err.status
                                              : NGX_HTTP_BAD_REQUEST,
                           cr->err.field, "%s", cr->err.message);
}


/*
 * Errors that nginx answers by itself inside a collab_api location (413
 * for an oversized body, 408, 500 ...) get the API's error shape too.
 */
static ngx_int_t
ngx_http_collab_header_filter(ngx_http_request_t *r)
{
    ngx_buf_t                   *b;
    ngx_collab_req_t            *cr;
    ngx_http_collab_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_collab_module);

    if (!clcf->api || r != r->main
        || r->headers_out.status < NGX_HTTP_BAD_REQUEST)
    {
        return ngx_http_next_header_filter(r);
    }

    cr = ngx_http_get_module_ctx(r, ngx_http_collab_module);

    if (cr && cr->sending) {
        return ngx_http_next_header_filter(r);
    }

    if (cr == NULL) {
        cr = ngx_pcalloc(r->pool, sizeof(ngx_collab_req_t));
        if (cr == NULL) {
            return NGX_ERROR;
        }

        cr->request = r;
        collab_json_init(&cr->out);
        ngx_http_set_ctx(r, cr, ngx_http_collab_module);
    }

    b = ngx_collab_error_buf(r, r->headers_out.status, NULL, NULL, 0);
    if (b == NULL) {
        return NGX_ERROR;
    }

    cr->replace = 1;
    cr->error_page = b;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_collab_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t         *b;
    ngx_chain_t       *cl, out;
    ngx_collab_req_t  *cr;

    cr = ngx_http_get_module_ctx(r, ngx_http_collab_module);

    if (cr == NULL || !cr->replace) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        if (b->last_buf && cr->error_page) {
            out.buf = cr->error_page;
            out.next = NULL;
            cr->error_page = NULL;

            return ngx_http_next_body_filter(r, &out);
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_collab_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_collab_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_collab_body_filter;

    return NGX_OK;
}
