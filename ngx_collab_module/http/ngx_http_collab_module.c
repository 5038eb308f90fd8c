/*
 * Copyright (C) collab
 *
 * The module itself: directives, configuration, process start and stop,
 * the content handler that turns a request into a call of a resource
 * handler, and the filter that gives nginx's own error pages (413 and the
 * like) the API's error shape inside a collab_api location.
 */

#include "ngx_collab.h"


static ngx_int_t ngx_http_collab_handler(ngx_http_request_t *r);
static void ngx_http_collab_body_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_collab_is_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_collab_run(ngx_collab_req_t *cr);
static ngx_int_t ngx_http_collab_work(ngx_collab_work_t *w);
static void ngx_http_collab_work_done(ngx_collab_work_t *w);
static ngx_int_t ngx_http_collab_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_collab_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void *ngx_http_collab_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_collab_next_to_database(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf, const char *name, ngx_str_t *path);
static char *ngx_http_collab_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_collab_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_collab_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_collab_database(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_admin_token_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_collab_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_files_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_files_max_per_room(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_collab_files_quota(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_store_max_value(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_collab_retry_schedule(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_collab_webhook_conf(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf);
static ngx_int_t ngx_http_collab_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_collab_init_process(ngx_cycle_t *cycle);
static void ngx_http_collab_exit_process(ngx_cycle_t *cycle);


#define COLLAB_ZONE_DEFAULT  (16 * 1024 * 1024)
#define COLLAB_TOKEN_MIN     16

#define COLLAB_FILES_PER_ROOM_DEFAULT  1000
#define COLLAB_FILES_QUOTA_DEFAULT     ((off_t) 1024 * 1024 * 1024)
#define COLLAB_STORE_VALUE_DEFAULT     (64 * 1024)
#define COLLAB_STORE_VALUE_MAX         (16 * 1024 * 1024)


static ngx_command_t  ngx_http_collab_commands[] = {

    { ngx_string("collab_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_database,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, thread_pool),
      NULL },

    { ngx_string("collab_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_collab_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_admin_token_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_admin_token_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_collab_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_webhook_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.timeout),
      NULL },

    { ngx_string("collab_webhook_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.connect_timeout),
      NULL },

    { ngx_string("collab_webhook_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.ssl_verify),
      NULL },

    { ngx_string("collab_webhook_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.ssl_trusted_certificate),
      NULL },

    { ngx_string("collab_webhook_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.keepalive),
      NULL },

    { ngx_string("collab_webhook_keepalive_requests"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.keepalive_requests),
      NULL },

    { ngx_string("collab_webhook_keepalive_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.keepalive_timeout),
      NULL },

    { ngx_string("collab_webhook_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.concurrency),
      NULL },

    { ngx_string("collab_webhook_retry_schedule"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_collab_retry_schedule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_webhook_allow_private"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.allow_private),
      NULL },

    { ngx_string("collab_delivery_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.delivery_retention),
      NULL },

    { ngx_string("collab_files_path"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_files_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_files_max_per_room"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_files_max_per_room,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_files_quota"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_files_quota,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_store_max_value"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_store_max_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_collab_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_collab_postconfiguration,     /* postconfiguration */

    ngx_http_collab_create_main_conf,      /* create main configuration */
    ngx_http_collab_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_collab_create_loc_conf,       /* create location configuration */
    ngx_http_collab_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_collab_module = {
    NGX_MODULE_V1,
    &ngx_http_collab_module_ctx,           /* module context */
    ngx_http_collab_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_collab_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_collab_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
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
        return ngx_collab_invalid(cr);
    }

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


static u_char *
ngx_http_collab_body_bytes(ngx_http_request_t *r, size_t *len)
{
    u_char       *p, *data;
    size_t        size;
    ssize_t       n;
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

    data = ngx_pnalloc(r->pool, size + 1);
    if (data == NULL) {
        return NULL;
    }

    p = data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NULL;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
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

    } else if (!ngx_collab_utf8_valid(body, len)) {
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
 * group is committed.
 */
static ngx_int_t
ngx_http_collab_run(ngx_collab_req_t *cr)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = cr->request;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = cr->method->handler(cr);
        ngx_collab_db_release();
        return rc;
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

    r->main->count++;

    return NGX_DONE;
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

    if (w->rc == NGX_ERROR && w->db_rc != SQLITE_OK
        && cr->reply_status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        ngx_log_error(NGX_LOG_ERR, cr->request->connection->log, 0,
                      "collab: %V %V: sqlite: %s (%d)",
                      &cr->request->method_name, &cr->request->uri,
                      sqlite3_errstr(w->db_rc), w->db_rc);

        status = ngx_collab_db_status(w->db_rc);

        rc = ngx_collab_fail(cr, status, NULL,
                             status == NGX_HTTP_SERVICE_UNAVAILABLE
                             ? "the database is unavailable, nothing was "
                               "changed; try again"
                             : "an internal error occurred, nothing was "
                               "changed");

    } else if (cr->reply_status == 0) {
        rc = cr->handler_rc;

    } else if (cr->reply_empty) {
        rc = ngx_collab_reply_empty(cr, cr->reply_status);

    } else {
        rc = ngx_collab_reply(cr, cr->reply_status);
    }

    ngx_http_finalize_request(cr->request, rc);
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


static void *
ngx_http_collab_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_collab_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->database = { 0, NULL };
     *     cmcf->shm_zone = NULL;
     *     cmcf->admin_token_file = { 0, NULL };
     *     cmcf->used = 0;
     *     cmcf->webhook.ssl_trusted_certificate = { 0, NULL };
     *     cmcf->webhook.retry_schedule = NULL;
     *     cmcf->files_path = { 0, NULL };
     */

    cmcf->webhook.timeout = NGX_CONF_UNSET_MSEC;
    cmcf->webhook.connect_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->webhook.ssl_verify = NGX_CONF_UNSET;
    cmcf->webhook.keepalive = NGX_CONF_UNSET_UINT;
    cmcf->webhook.keepalive_requests = NGX_CONF_UNSET_UINT;
    cmcf->webhook.keepalive_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->webhook.concurrency = NGX_CONF_UNSET_UINT;
    cmcf->webhook.allow_private = NGX_CONF_UNSET;
    cmcf->webhook.delivery_retention = NGX_CONF_UNSET;

    cmcf->files_max_per_room = NGX_CONF_UNSET_UINT;
    cmcf->files_quota = NGX_CONF_UNSET;
    cmcf->store_max_value = NGX_CONF_UNSET_SIZE;

    return cmcf;
}


/* a file in the database's folder, NUL-terminated */
static ngx_int_t
ngx_http_collab_next_to_database(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf, const char *name, ngx_str_t *path)
{
    u_char  *p, *last;

    last = cmcf->database.data + cmcf->database.len;
    p = cmcf->database.data;

    while (ngx_strlchr(p, last, '/')) {
        p = ngx_strlchr(p, last, '/') + 1;
    }

    path->len = (p - cmcf->database.data) + ngx_strlen(name);
    path->data = ngx_pnalloc(cf->pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(path->data, "%*s%s%Z", (size_t) (p - cmcf->database.data),
                cmcf->database.data, name);

    return NGX_OK;
}


static char *
ngx_http_collab_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  name;

    if (!cmcf->used) {
        return NGX_CONF_OK;
    }

    if (ngx_http_collab_webhook_conf(cf, cmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cmcf->database.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"collab_api\" needs \"collab_database\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    /* the store's works run on this pool; "default" needs no directive */
    if (cmcf->thread_pool.len == 0) {
        ngx_str_set(&cmcf->thread_pool, "default");
    }

    if (ngx_thread_pool_add(cf, ngx_strcmp(cmcf->thread_pool.data, "default")
                                == 0 ? NULL : &cmcf->thread_pool)
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

    if (cmcf->shm_zone == NULL) {
        ngx_str_set(&name, "collab");

        cmcf->shm_zone = ngx_collab_shm_add(cf, &name, COLLAB_ZONE_DEFAULT,
                                            cmcf);
        if (cmcf->shm_zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (cmcf->admin_token_file.len == 0
        && ngx_http_collab_next_to_database(cf, cmcf, "admin.token",
                                            &cmcf->admin_token_file)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cmcf->files_path.len == 0
        && ngx_http_collab_next_to_database(cf, cmcf, "files",
                                            &cmcf->files_path)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(cmcf->files_max_per_room,
                             COLLAB_FILES_PER_ROOM_DEFAULT);
    ngx_conf_init_value(cmcf->files_quota, COLLAB_FILES_QUOTA_DEFAULT);
    ngx_conf_init_size_value(cmcf->store_max_value,
                             COLLAB_STORE_VALUE_DEFAULT);

    return NGX_CONF_OK;
}


/*
 * Reads the admin token, or creates the file with a fresh random token
 * (mode 0600) when it does not exist.  Only the token's hash is kept.
 * Runs in the master when the zone is set up, after the database folder
 * exists, on every start and reload.
 */
ngx_int_t
ngx_collab_admin_token_load(ngx_http_collab_main_conf_t *cmcf, ngx_log_t *log)
{
    u_char      *p, *last;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_str_t    token;
    ngx_file_t   file;
    u_char       buf[512];
    char         fresh[COLLAB_ID_MAX + 8];

    fd = ngx_open_file(cmcf->admin_token_file.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
        fd = ngx_open_file(cmcf->admin_token_file.data, NGX_FILE_WRONLY,
                           NGX_FILE_CREATE_OR_OPEN|O_EXCL, 0600);
        if (fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                               "collab_admin_token_file: cannot create "
                               "\"%V\"", &cmcf->admin_token_file);
            return NGX_ERROR;
        }

        n = collab_id_new(fresh, "cadm_");
        fresh[n++] = '\n';

        if (write(fd, fresh, n) != n) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                               "collab_admin_token_file: cannot write "
                               "\"%V\"", &cmcf->admin_token_file);
            ngx_close_file(fd);
            return NGX_ERROR;
        }

        ngx_close_file(fd);

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                           "collab: admin token written to \"%V\"",
                           &cmcf->admin_token_file);

        fd = ngx_open_file(cmcf->admin_token_file.data, NGX_FILE_RDONLY,
                           NGX_FILE_OPEN, 0);
    }

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                           "collab_admin_token_file: cannot open \"%V\"",
                           &cmcf->admin_token_file);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = cmcf->admin_token_file;
    file.log = log;

    n = ngx_read_file(&file, buf, sizeof(buf), 0);
    ngx_close_file(fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    p = buf;
    last = buf + n;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t'
                        || last[-1] == '\r' || last[-1] == '\n'))
    {
        last--;
    }

    token.data = p;
    token.len = last - p;

    if (token.len < COLLAB_TOKEN_MIN || n == sizeof(buf)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                           "collab_admin_token_file: \"%V\" must hold one "
                           "token of %d to 500 characters",
                           &cmcf->admin_token_file, COLLAB_TOKEN_MIN);
        return NGX_ERROR;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                               "collab_admin_token_file: the token in \"%V\" "
                               "has a character that is not printable ASCII",
                               &cmcf->admin_token_file);
            return NGX_ERROR;
        }
    }

    collab_sha256(token.data, token.len, cmcf->admin_hash);
    cmcf->admin_set = 1;

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


static void *
ngx_http_collab_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_collab_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_collab_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->api = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_collab_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_collab_loc_conf_t *prev = parent;
    ngx_http_collab_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_database(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  *value;

    if (cmcf->database.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    cmcf->database = value[1];

    if (cmcf->database.len == 0
        || cmcf->database.data[cmcf->database.len - 1] == '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_database: \"%V\" is not a file path",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &cmcf->database, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (cmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone: invalid zone name \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone: invalid size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone: zone \"%V\" of size \"%V\" is too "
                           "small, at least %uzk", &value[1], &value[2],
                           8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    cmcf->shm_zone = ngx_collab_shm_add(cf, &value[1], size, cmcf);
    if (cmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_admin_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  *value;

    if (cmcf->admin_token_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_admin_token_file: \"%V\" is not a file "
                           "path", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->admin_token_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &cmcf->admin_token_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_collab_main_conf_t  *cmcf;

    if (lcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lcf->api = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_collab_handler;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_collab_module);
    cmcf->used = 1;

    return NGX_CONF_OK;
}


/* collab_webhook_retry_schedule 5s 5m 30m 2h 5h 10h 10h; */
static char *
ngx_http_collab_retry_schedule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t   *value;
    ngx_msec_t  *d, t;
    ngx_uint_t   i;

    if (cmcf->webhook.retry_schedule) {
        return "is duplicate";
    }

    value = cf->args->elts;

    cmcf->webhook.retry_schedule = ngx_array_create(cf->pool,
                                                    cf->args->nelts - 1,
                                                    sizeof(ngx_msec_t));
    if (cmcf->webhook.retry_schedule == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        t = ngx_parse_time(&value[i], 0);

        if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "collab_webhook_retry_schedule: invalid "
                               "delay \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        d = ngx_array_push(cmcf->webhook.retry_schedule);
        if (d == NULL) {
            return NGX_CONF_ERROR;
        }

        *d = t;
    }

    return NGX_CONF_OK;
}


/* defaults of the collab_webhook_* directives, the TLS context, resolver */
static ngx_int_t
ngx_http_collab_webhook_conf(ngx_conf_t *cf, ngx_http_collab_main_conf_t *cmcf)
{
    ngx_uint_t                  i;
    ngx_msec_t                 *d;
    ngx_http_conf_ctx_t        *ctx;
    ngx_pool_cleanup_t         *cln;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_collab_webhook_conf_t  *wc;

    /* Svix's schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h */
    static ngx_msec_t  schedule[] = {
        5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000
    };

    wc = &cmcf->webhook;

    ngx_conf_init_msec_value(wc->timeout, 15000);
    ngx_conf_init_msec_value(wc->connect_timeout, 10000);
    ngx_conf_init_value(wc->ssl_verify, 1);
    ngx_conf_init_uint_value(wc->keepalive, 32);
    ngx_conf_init_uint_value(wc->keepalive_requests, 1000);
    ngx_conf_init_msec_value(wc->keepalive_timeout, 60000);
    ngx_conf_init_uint_value(wc->concurrency, 16);
    ngx_conf_init_value(wc->allow_private, 0);
    ngx_conf_init_value(wc->delivery_retention, 30 * 24 * 3600);

    if (wc->concurrency == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_webhook_concurrency must be at least 1");
        return NGX_ERROR;
    }

    if (wc->keepalive_requests == 0) {
        wc->keepalive = 0;
    }

    if (wc->retry_schedule == NULL) {
        wc->retry_schedule = ngx_array_create(cf->pool, 7,
                                              sizeof(ngx_msec_t));
        if (wc->retry_schedule == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < sizeof(schedule) / sizeof(schedule[0]); i++) {
            d = ngx_array_push(wc->retry_schedule);
            if (d == NULL) {
                return NGX_ERROR;
            }

            *d = schedule[i];
        }
    }

    ctx = (ngx_http_conf_ctx_t *) cf->ctx;
    clcf = ctx->loc_conf[ngx_http_core_module.ctx_index];

    wc->resolver = clcf->resolver;
    wc->resolver_timeout = clcf->resolver_timeout;

#if (NGX_SSL)
    {
    ngx_ssl_t  *ssl;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_ERROR;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (wc->ssl_trusted_certificate.len == 0) {
        ngx_str_set(&wc->ssl_trusted_certificate,
                    "/etc/ssl/certs/ca-certificates.crt");

        if (ngx_file_info(wc->ssl_trusted_certificate.data, &(ngx_file_info_t)
                          { 0 })
            == NGX_FILE_ERROR)
        {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "collab: no CA bundle at \"%V\": webhooks "
                               "to https endpoints will fail verification; "
                               "set collab_webhook_ssl_trusted_certificate",
                               &wc->ssl_trusted_certificate);
            wc->ssl_trusted_certificate.len = 0;
        }
    }

    if (wc->ssl_trusted_certificate.len
        && ngx_ssl_trusted_certificate(cf, ssl, &wc->ssl_trusted_certificate,
                                       10)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    wc->ssl = ssl;
    }
#else
    (void) cln;
#endif

    return NGX_OK;
}


static char *
ngx_http_collab_files_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  *value;

    if (cmcf->files_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_files_path: \"%V\" is not a folder path",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->files_path = value[1];

    while (cmcf->files_path.len > 1
           && cmcf->files_path.data[cmcf->files_path.len - 1] == '/')
    {
        cmcf->files_path.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &cmcf->files_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_files_max_per_room(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (cmcf->files_max_per_room != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_files_max_per_room: invalid number \"%V\","
                           " must be 1 or more", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->files_max_per_room = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_files_quota(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    off_t       size;
    ngx_str_t  *value;

    if (cmcf->files_quota != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_offset(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_files_quota: invalid size \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->files_quota = size;

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_store_max_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (cmcf->store_max_value != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_size(&value[1]);

    if (size < 1 || size > COLLAB_STORE_VALUE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_store_max_value: invalid size \"%V\", "
                           "must be 1 to 16m", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->store_max_value = size;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_collab_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_collab_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_collab_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_collab_init_process(ngx_cycle_t *cycle)
{
    ngx_http_collab_main_conf_t  *cmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_collab_module);

    if (cmcf == NULL || !cmcf->used) {
        return NGX_OK;
    }

    /*
     * A worker that cannot open the database still serves, answering 503
     * in the API locations, so that the rest of the server is unharmed.
     */
    if (ngx_collab_db_open(cycle, &cmcf->database) == NGX_OK
        && ngx_collab_store_init(cycle, &cmcf->database, &cmcf->thread_pool)
           == NGX_OK)
    {
        (void) ngx_collab_outbox_init(cycle, cmcf);
        (void) ngx_collab_sender_init(cycle, cmcf);
        (void) ngx_collab_wal_init(cycle, cmcf);

    } else {
        ngx_collab_db_close();
    }

    return NGX_OK;
}


static void
ngx_http_collab_exit_process(ngx_cycle_t *cycle)
{
    ngx_collab_sender_exit();
    ngx_collab_outbox_exit();
    ngx_collab_wal_exit();
    ngx_collab_store_exit();
    ngx_collab_db_close();
}
