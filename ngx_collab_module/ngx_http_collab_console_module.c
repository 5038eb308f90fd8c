
/*
 * Copyright (C) collab
 *
 * The console module: "location /console/ { collab_console; }" answers
 * the console's files (console/ in the source tree), which the build
 * embeds in the module (util/console-embed.sh), so nothing else has to
 * be installed.  Every answer, errors included, carries a strict
 * Content-Security-Policy and X-Content-Type-Options: nosniff; a file
 * answers its ETag and 304 to a matching If-None-Match.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_collab_console.h"


#define COLLAB_CONSOLE_CSP                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self'; "               \
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "      \
    "base-uri 'none'; form-action 'none'"


static char *ngx_http_collab_console(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_collab_console_headers(ngx_http_request_t *r);
static ngx_int_t ngx_http_collab_console_header(ngx_http_request_t *r,
    char *name, char *value);


static ngx_command_t  ngx_http_collab_console_commands[] = {

    { ngx_string("collab_console"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_collab_console,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_collab_console_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_collab_console_module = {
    NGX_MODULE_V1,
    &ngx_http_collab_console_module_ctx,   /* module context */
    ngx_http_collab_console_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_collab_console_handler(ngx_http_request_t *r)
{
    u_char                           *p;
    ngx_int_t                         rc;
    ngx_str_t                         name;
    ngx_buf_t                        *b;
    ngx_chain_t                       out;
    ngx_table_elt_t                  *inm;
    ngx_http_core_loc_conf_t         *clcf;
    const ngx_collab_console_file_t  *f;

    if (ngx_http_collab_console_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the part of the URI after the location's prefix: a file's name */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    name.data = r->uri.data;
    name.len = r->uri.len;

    if (!clcf->exact_match
#if (NGX_PCRE)
        && clcf->regex == NULL
#endif
        && name.len >= clcf->name.len)
    {
        name.data += clcf->name.len;
        name.len -= clcf->name.len;

        if (name.len && name.data[0] == '/') {
            /* "location /console" */
            name.data++;
            name.len--;
        }

    } else {
        /* an exact or a regular expression location: the last part */
        p = ngx_strlchr(name.data, name.data + name.len, '/');

        while (p) {
            name.len -= p + 1 - name.data;
            name.data = p + 1;
            p = ngx_strlchr(name.data, name.data + name.len, '/');
        }
    }

    if (name.len == 0) {
        ngx_str_set(&name, "index.html");
    }

    /* only the names of the table: no path can lead elsewhere */

    for (f = ngx_collab_console_files; f->name.len; f++) {
        if (f->name.len == name.len
            && ngx_strncmp(f->name.data, name.data, name.len) == 0)
        {
            break;
        }
    }

    if (f->name.len == 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab console: no file \"%V\"", &name);
        return NGX_HTTP_NOT_FOUND;
    }

    r->headers_out.content_type = f->type;
    r->headers_out.content_type_len = f->type.len;

    if (ngx_http_collab_console_header(r, "Cache-Control", "no-cache")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.etag = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.etag == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.etag->hash = 1;
#if (nginx_version >= 1023000)
    r->headers_out.etag->next = NULL;
#endif
    ngx_str_set(&r->headers_out.etag->key, "ETag");
    r->headers_out.etag->value = f->etag;

    inm = r->headers_in.if_none_match;

    if (inm && inm->value.len == f->etag.len
        && ngx_strncmp(inm->value.data, f->etag.data, f->etag.len) == 0)
    {
        r->headers_out.status = NGX_HTTP_NOT_MODIFIED;
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = f->len;

    if (r->method == NGX_HTTP_HEAD || f->len == 0) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) f->data;
    b->last = b->pos + f->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


/* the headers of every answer, which error pages keep too */

static ngx_int_t
ngx_http_collab_console_headers(ngx_http_request_t *r)
{
    if (ngx_http_collab_console_header(r, "Content-Security-Policy",
                                       COLLAB_CONSOLE_CSP)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_collab_console_header(r, "X-Content-Type-Options",
                                       "nosniff")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_collab_console_header(r, "Referrer-Policy",
                                          "no-referrer");
}


static ngx_int_t
ngx_http_collab_console_header(ngx_http_request_t *r, char *name,
    char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


/* collab_console; */
static char *
ngx_http_collab_console(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_collab_console_handler;

    return NGX_CONF_OK;
}
