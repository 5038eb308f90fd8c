/*
 * Copyright (C) collab
 *
 * What a request brings: the fields of its JSON body (unknown fields,
 * strings, names, metadata), UTF-8 and control characters, query
 * arguments and the arguments of a page (?limit= and ?cursor=).
 * Validation failures are data, a field and a message, for the reply.
 */

#include "ngx_collab.h"
#include "ngx_collab_http.h"


static void
ngx_collab_json_decref(void *data)
{
    json_decref(data);
}


void
ngx_collab_json_cleanup(ngx_http_request_t *r, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (cln == NULL) {
        /* the pool is short of memory: leak rather than crash */
        return;
    }

    cln->handler = ngx_collab_json_decref;
    cln->data = json;
}


/* rejects a field the resource does not know */
ngx_int_t
ngx_collab_check_fields(ngx_collab_req_t *cr, const char **allowed)
{
    const char   *key, **a;
    json_t       *value;

    json_object_foreach(cr->body, key, value) {

        for (a = allowed; *a; a++) {
            if (ngx_strcmp(key, *a) == 0) {
                break;
            }
        }

        if (*a == NULL) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, key,
                                     "%s: unknown field", key);
        }
    }

    return NGX_OK;
}


/* 1..max characters, none of them a control character */
ngx_int_t
ngx_collab_validate_name(ngx_str_t *s, size_t max)
{
    size_t   n, i;

    n = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < 0x20 || s->data[i] == 0x7f) {
            return NGX_ERROR;
        }

        if ((s->data[i] & 0xc0) != 0x80) {
            n++;
        }
    }

    return (n >= 1 && n <= max) ? NGX_OK : NGX_DECLINED;
}


/* C0 and C1 control characters and DEL, in valid UTF-8 */
ngx_uint_t
ngx_collab_has_control(const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f
            || (p[i] == 0xc2 && i + 1 < len && p[i + 1] < 0xa0))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * A string field: *present is 0 when absent, 1 for a string, 2 for null
 * (which only the caller may accept).
 */
ngx_int_t
ngx_collab_get_string(ngx_collab_req_t *cr, const char *field,
    ngx_uint_t required, size_t max, ngx_str_t *out, ngx_uint_t *present)
{
    json_t     *v;
    ngx_int_t   rc;

    v = json_object_get(cr->body, field);
    *present = 0;
    out->data = NULL;
    out->len = 0;

    if (v == NULL) {
        if (required) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                     "%s: is required", field);
        }

        return NGX_OK;
    }

    if (json_is_null(v)) {
        *present = 2;
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be a string", field);
    }

    out->data = (u_char *) json_string_value(v);
    out->len = json_string_length(v);
    *present = 1;

    rc = ngx_collab_validate_name(out, max);

    if (rc == NGX_ERROR) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must not contain control characters",
                                 field);
    }

    if (rc == NGX_DECLINED) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be 1 to %uz characters long", field,
                                 max);
    }

    return NGX_OK;
}


/* metadata: a JSON object of at most 8 KiB, kept as JSON text */
ngx_int_t
ngx_collab_get_metadata(ngx_collab_req_t *cr, ngx_str_t *out,
    ngx_uint_t *present)
{
    json_t         *v;
    collab_json_t   j;

    v = json_object_get(cr->body, "metadata");
    *present = 0;

    if (v == NULL) {
        return NGX_OK;
    }

    if (!json_is_object(v)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "metadata",
                                 "metadata: must be a JSON object");
    }

    collab_json_init(&j);
    collab_json_value(&j, v);

    if (j.failed) {
        collab_json_free(&j);
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "metadata",
                                 "metadata: nested too deeply");
    }

    if (j.len > COLLAB_METADATA_MAX) {
        collab_json_free(&j);
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "metadata",
                                 "metadata: must be at most %d bytes of JSON",
                                 COLLAB_METADATA_MAX);
    }

    out->data = ngx_pnalloc(cr->request->pool, j.len);
    if (out->data == NULL) {
        collab_json_free(&j);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, j.data, j.len);
    out->len = j.len;
    *present = 1;

    collab_json_free(&j);

    return NGX_OK;
}


/*
 * A query argument, percent-decoded: NGX_OK, NGX_DECLINED when absent, or
 * NGX_ERROR with cr->err set when it is not UTF-8.
 */
ngx_int_t
ngx_collab_arg(ngx_collab_req_t *cr, const char *name, ngx_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   raw;

    if (ngx_http_arg(cr->request, (u_char *) name, ngx_strlen(name), &raw)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(cr->request->pool, raw.len);
    if (dst == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    value->data = dst;
    src = raw.data;

    ngx_unescape_uri(&dst, &src, raw.len, 0);

    value->len = dst - value->data;

    if (!collab_utf8_valid(value->data, value->len)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, name,
                                 "%s: must be valid UTF-8", name);
    }

    return NGX_OK;
}


/* ?limit= of a list: 1..100, default 20 */
static ngx_int_t
ngx_collab_page_limit(ngx_collab_req_t *cr, ngx_uint_t *limit)
{
    ngx_int_t  n, rc;
    ngx_str_t  v;

    *limit = COLLAB_LIMIT_DEFAULT;

    rc = ngx_collab_arg(cr, "limit", &v);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    n = (v.len > 0 && v.len < 4) ? ngx_atoi(v.data, v.len) : NGX_ERROR;

    if (n < 1 || n > COLLAB_LIMIT_MAX) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "limit",
                                 "limit: must be an integer from 1 to %d",
                                 COLLAB_LIMIT_MAX);
    }

    *limit = n;

    return NGX_OK;
}


/*
 * ?limit= and ?cursor= of a list; *before is the sequence number the page
 * starts below.
 */
ngx_int_t
ngx_collab_page_args(ngx_collab_req_t *cr, const char *kind,
    ngx_uint_t *limit, int64_t *before)
{
    ngx_int_t  rc;
    ngx_str_t  v;

    *before = INT64_MAX;

    if (ngx_collab_page_limit(cr, limit) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_collab_arg(cr, "cursor", &v);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (collab_cursor_decode(v.data, v.len, ngx_collab_db_secret(), 32, kind,
                             before)
        != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "cursor",
                                 "cursor: not a cursor of this list");
    }

    return NGX_OK;
}


/*
 * ?limit= and ?cursor= of a list ordered by name (keys, files); *from is
 * the first name of the page, empty for the first page.
 */
ngx_int_t
ngx_collab_page_name_args(ngx_collab_req_t *cr, const char *kind,
    ngx_uint_t *limit, ngx_str_t *from)
{
    ngx_int_t  rc;
    ngx_str_t  v;

    ngx_str_set(from, "");

    if (ngx_collab_page_limit(cr, limit) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_collab_arg(cr, "cursor", &v);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    from->data = ngx_pnalloc(cr->request->pool, COLLAB_CURSOR_NAME_MAX);
    if (from->data == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    if (collab_cursor_decode_name(v.data, v.len, ngx_collab_db_secret(), 32,
                                  kind, from->data, &from->len)
        != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "cursor",
                                 "cursor: not a cursor of this list");
    }

    return NGX_OK;
}
