/*
 * Copyright (C) collab
 *
 * Answers: the JSON answer and the empty one, the one error writer and
 * its verbs (answer now, or record a refusal to answer later), the page
 * writer of every list and the helpers that write a column of a row.
 */

#include "ngx_collab.h"
#include "ngx_collab_http.h"


static void
ngx_collab_free(void *data)
{
    free(data);
}


const char *
ngx_collab_status_code(ngx_uint_t status)
{
    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        return "invalid_request";
    case NGX_HTTP_UNAUTHORIZED:
        return "unauthorized";
    case NGX_HTTP_FORBIDDEN:
        return "forbidden";
    case NGX_HTTP_NOT_FOUND:
        return "not_found";
    case NGX_HTTP_NOT_ALLOWED:
        return "method_not_allowed";
    case NGX_HTTP_CONFLICT:
        return "conflict";
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "payload_too_large";
    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        return "unsupported_media_type";
    case 429:
        return "rate_limited";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
    case NGX_HTTP_BAD_GATEWAY:
    case NGX_HTTP_GATEWAY_TIME_OUT:
        return "unavailable";
    default:
        return status < 500 ? "invalid_request" : "internal";
    }
}


static const char *
ngx_collab_status_message(ngx_uint_t status)
{
    switch (status) {
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "the request body is larger than this server accepts";
    case NGX_HTTP_REQUEST_TIME_OUT:
        return "the request took too long to arrive";
    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return "the request URI is too long";
    case NGX_HTTP_RANGE_NOT_SATISFIABLE:
        return "the requested range is not satisfiable";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "the service is unavailable, try again";
    case NGX_HTTP_NOT_FOUND:
        return "not found";
    case NGX_HTTP_FORBIDDEN:
        return "forbidden";
    default:
        return status < 500 ? "the request is not valid"
                            : "an internal error occurred";
    }
}


static void
ngx_collab_error_json(collab_json_t *j, ngx_uint_t status, const char *field,
    const u_char *msg, size_t len, ngx_collab_err_t *at)
{
    collab_json_obj_open(j);
    collab_json_key(j, "error");
    collab_json_obj_open(j);
    collab_json_key(j, "code");
    collab_json_cstr(j, ngx_collab_status_code(status));
    collab_json_key(j, "message");

    if (msg) {
        collab_json_str(j, msg, len);

    } else {
        collab_json_cstr(j, ngx_collab_status_message(status));
    }

    if (field) {
        collab_json_key(j, "field");
        collab_json_cstr(j, field);
    }

    /* where in the field's text (a workflow's code) the error is */
    if (at && at->line) {
        collab_json_key(j, "line");
        collab_json_int(j, at->line);
        collab_json_key(j, "column");
        collab_json_int(j, at->column);
    }

    collab_json_obj_close(j);
    collab_json_obj_close(j);
}


ngx_buf_t *
ngx_collab_error_buf(ngx_http_request_t *r, ngx_uint_t status,
    const char *field, const u_char *msg, size_t len)
{
    ngx_buf_t      *b;
    collab_json_t   j;

    collab_json_init(&j);
    ngx_collab_error_json(&j, status, field, msg, len, NULL);

    if (j.failed) {
        collab_json_free(&j);
        return NULL;
    }

    b = ngx_create_temp_buf(r->pool, j.len + 1);
    if (b == NULL) {
        collab_json_free(&j);
        return NULL;
    }

    b->last = ngx_cpymem(b->pos, j.data, j.len);
    *b->last++ = '\n';
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    collab_json_free(&j);

    return b;
}


ngx_int_t
ngx_collab_reply(ngx_collab_req_t *cr, ngx_uint_t status)
{
    size_t               len;
    u_char              *data;
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_pool_cleanup_t  *cln;
    ngx_http_request_t  *r;

    r = cr->request;

    if (cr->deferred) {
        /* in a storage thread: sent by the work's done handler */
        cr->reply_status = status;
        cr->reply_empty = 0;
        return NGX_OK;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cr->out.failed) {
        collab_json_free(&cr->out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    b = ngx_calloc_buf(r->pool);

    if (cln == NULL || b == NULL) {
        collab_json_free(&cr->out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    data = collab_json_detach(&cr->out, &len);
    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* collab_json_detach() leaves room for the NUL: a newline ends it */
    data[len++] = '\n';

    cln->handler = ngx_collab_free;
    cln->data = data;

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    cr->sending = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_collab_reply_empty(ngx_collab_req_t *cr, ngx_uint_t status)
{
    ngx_http_request_t  *r;

    r = cr->request;

    if (cr->deferred) {
        cr->reply_status = status;
        cr->reply_empty = 1;
        return NGX_OK;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    collab_json_free(&cr->out);

    cr->sending = 1;
    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


static ngx_int_t
ngx_collab_fail_v(ngx_collab_req_t *cr, ngx_uint_t status,
    const char *field, const char *fmt, va_list args)
{
    u_char  *p, msg[512];

    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);

    collab_json_free(&cr->out);
    collab_json_init(&cr->out);
    ngx_collab_error_json(&cr->out, status, field, msg, p - msg, &cr->err);

    if (status == NGX_HTTP_UNAUTHORIZED) {
        ngx_table_elt_t  *h;

        h = ngx_list_push(&cr->request->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer");
        cr->request->headers_out.www_authenticate = h;
    }

    return ngx_collab_reply(cr, status);
}


/* answers the request now with the API's error shape */
ngx_int_t
ngx_collab_fail(ngx_collab_req_t *cr, ngx_uint_t status, const char *field,
    const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    va_start(args, fmt);
    rc = ngx_collab_fail_v(cr, status, field, fmt, args);
    va_end(args);

    return rc;
}


static ngx_int_t
ngx_collab_refuse_v(ngx_collab_req_t *cr, ngx_uint_t status,
    const char *field, const char *fmt, va_list args)
{
    u_char  *p;

    p = ngx_vslprintf(cr->err.message,
                      cr->err.message + sizeof(cr->err.message) - 1,
                      fmt, args);

    *p = '\0';
    cr->err.status = status;
    cr->err.field = field;

    return NGX_ERROR;
}


/*
 * Records why the request is refused, and returns NGX_ERROR: a handler
 * (or a route's check) returns that, and the handler runner answers the
 * refusal (ngx_collab_handler.c).  Validators and lookups use this, so
 * that what is wrong travels as data to the one place that answers.
 */
ngx_int_t
ngx_collab_refuse(ngx_collab_req_t *cr, ngx_uint_t status,
    const char *field, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    va_start(args, fmt);
    rc = ngx_collab_refuse_v(cr, status, field, fmt, args);
    va_end(args);

    return rc;
}


/*
 * ngx_collab_refuse() for a failed SQLite call: the transaction is rolled
 * back and the error logged, and the client is told only 503 (try again)
 * or 500, never SQLite's words.
 */
ngx_int_t
ngx_collab_refuse_db(ngx_collab_req_t *cr, int rc, const char *what)
{
    ngx_uint_t  status;

    ngx_collab_db_rollback();
    ngx_collab_db_log(cr->request->connection->log, rc, what);

    status = ngx_collab_db_status(rc);

    return ngx_collab_refuse(cr, status, NULL,
                             status == NGX_HTTP_SERVICE_UNAVAILABLE
                             ? "the database is unavailable, nothing was "
                               "changed; try again"
                             : "an internal error occurred, nothing was "
                               "changed");
}


/*
 * Answers a page of a list: st is bound to return, newest first, at most
 * limit + 1 rows whose column 0 is the row's sequence number; row() writes
 * one row.  The extra row only says that a next page exists.
 */
ngx_int_t
ngx_collab_reply_page(ngx_collab_req_t *cr, sqlite3_stmt *st,
    const char *kind, ngx_uint_t limit, ngx_collab_row_pt row,
    const char *what)
{
    int         rc;
    size_t      len;
    int64_t     last;
    ngx_uint_t  n;
    char        cursor[64];

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "data");
    collab_json_arr_open(&cr->out);

    last = 0;

    for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW && n < limit; n++) {
        last = sqlite3_column_int64(st, 0);
        row(&cr->out, st);
    }

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, what);
    }

    collab_json_arr_close(&cr->out);
    collab_json_key(&cr->out, "nextCursor");

    if (rc == SQLITE_ROW) {
        len = collab_cursor_encode(cursor, sizeof(cursor),
                                   ngx_collab_db_secret(), 32, kind, last);
        collab_json_str(&cr->out, (u_char *) cursor, len);

    } else {
        collab_json_null(&cr->out);
    }

    collab_json_obj_close(&cr->out);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/*
 * closes the "data" array and writes "nextCursor": the name the next page
 * starts with, or null when next is empty
 */
static void
ngx_collab_page_name_end(ngx_collab_req_t *cr, const char *kind,
    ngx_str_t *next)
{
    size_t  n;
    char    cursor[COLLAB_CURSOR_NAME_SIZE(COLLAB_CURSOR_NAME_MAX)];

    collab_json_arr_close(&cr->out);
    collab_json_key(&cr->out, "nextCursor");

    n = next->len ? collab_cursor_encode_name(cursor, sizeof(cursor),
                                              ngx_collab_db_secret(), 32,
                                              kind, next->data, next->len)
                  : 0;

    if (n) {
        collab_json_str(&cr->out, (u_char *) cursor, n);

    } else {
        collab_json_null(&cr->out);
    }

    collab_json_obj_close(&cr->out);
}


/*
 * Answers a page of a list by name: st is bound to return, in name order,
 * at most limit + 1 rows whose column 0 is the name; row() writes each of
 * the first limit, and the name of the one after is the next cursor.
 */
ngx_int_t
ngx_collab_reply_page_name(ngx_collab_req_t *cr, sqlite3_stmt *st,
    const char *kind, ngx_uint_t limit, ngx_collab_row_pt row,
    const char *what)
{
    int         rc;
    ngx_str_t   next;
    ngx_uint_t  n;

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "data");
    collab_json_arr_open(&cr->out);

    ngx_str_null(&next);

    for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
        if (n == limit) {
            ngx_collab_db_col(st, 0, &next);
            break;
        }

        row(&cr->out, st);
    }

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, what);
    }

    ngx_collab_page_name_end(cr, kind, &next);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/* a text column as a JSON string, or null */
void
ngx_collab_col_text(collab_json_t *j, sqlite3_stmt *st, int col)
{
    ngx_str_t  s;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        collab_json_null(j);
        return;
    }

    ngx_collab_db_col(st, col, &s);
    collab_json_str(j, s.data, s.len);
}


/* an integer column as a JSON number, or null */
void
ngx_collab_col_int(collab_json_t *j, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        collab_json_null(j);
        return;
    }

    collab_json_int(j, sqlite3_column_int64(st, col));
}


/* a column of unix milliseconds as an ISO 8601 string, or null */
void
ngx_collab_col_time(collab_json_t *j, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        collab_json_null(j);
        return;
    }

    collab_json_time(j, sqlite3_column_int64(st, col));
}
