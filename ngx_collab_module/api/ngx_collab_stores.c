/*
 * Copyright (C) collab
 *
 * Key-value stores of a room: any JSON value under a store and a key,
 * kept as the JSON text that JavaScript's JSON.stringify would write, and
 * given back byte for byte.  A store exists while it has keys; deleting
 * the room removes its stores (by foreign key cascade).
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"


#define COLLAB_STORE_NAME_MAX  256


static const char  ngx_collab_sql_store_get[] =
    "SELECT value FROM store_items"
    " WHERE room_id = ?1 AND store = ?2 AND key = ?3";

static const char  ngx_collab_sql_store_update[] =
    "UPDATE store_items SET value = ?4, updated_at = ?5"
    " WHERE room_id = ?1 AND store = ?2 AND key = ?3";

static const char  ngx_collab_sql_store_insert[] =
    "INSERT INTO store_items (room_id, store, key, value, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";

static const char  ngx_collab_sql_store_list[] =
    "SELECT key, value, updated_at FROM store_items"
    " WHERE room_id = ?1 AND store = ?2 AND key >= ?3"
    " ORDER BY key LIMIT ?4";

static const char  ngx_collab_sql_store_delete_key[] =
    "DELETE FROM store_items"
    " WHERE room_id = ?2 AND store = ?3 AND key = ?4"
    " AND room_id IN (SELECT id FROM rooms WHERE account_id = ?1)";

static const char  ngx_collab_sql_store_delete[] =
    "DELETE FROM store_items"
    " WHERE room_id = ?2 AND store = ?3"
    " AND room_id IN (SELECT id FROM rooms WHERE account_id = ?1)";


/* 1 to 256 bytes of UTF-8 with no control character and no "/" */
static ngx_int_t
ngx_collab_store_name(ngx_collab_req_t *cr, ngx_str_t *s, const char *field)
{
    if (s->len > COLLAB_STORE_NAME_MAX) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be 1 to %d bytes long", field,
                                 COLLAB_STORE_NAME_MAX);
    }

    if (!collab_utf8_valid(s->data, s->len)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be valid UTF-8", field);
    }

    if (ngx_collab_has_control(s->data, s->len)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must not contain control characters",
                                 field);
    }

    if (ngx_strlchr(s->data, s->data + s->len, '/')) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must not contain \"/\"", field);
    }

    return NGX_OK;
}


/* the route's check: the store and key names of the path */
ngx_int_t
ngx_collab_store_check(ngx_collab_req_t *cr)
{
    if (ngx_collab_store_name(cr, &cr->params[2], "store") != NGX_OK) {
        return NGX_ERROR;
    }

    if (cr->nparams > 3
        && ngx_collab_store_name(cr, &cr->params[3], "key") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_collab_store_item_json(collab_json_t *j, ngx_str_t *key,
    ngx_str_t *value, int64_t updated)
{
    collab_json_obj_open(j);
    collab_json_key(j, "key");
    collab_json_str(j, key->data, key->len);
    collab_json_key(j, "value");
    collab_json_raw(j, value->data, value->len);
    collab_json_key(j, "updatedAt");
    collab_json_time(j, updated);
    collab_json_obj_close(j);
}


ngx_int_t
ngx_collab_store_put(ngx_collab_req_t *cr)
{
    int                           rc;
    int64_t                       now;
    ngx_str_t                     value;
    ngx_uint_t                    created;
    sqlite3_stmt                 *st;
    collab_json_t                 j;
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(cr->request, ngx_http_collab_module);

    collab_json_init(&j);
    collab_json_value(&j, cr->body);

    if (j.failed) {
        collab_json_free(&j);
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, NULL,
                               "the value is nested too deeply");
    }

    if (j.len > cmcf->store_max_value) {
        collab_json_free(&j);
        return ngx_collab_fail(cr, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                               "the value must be at most %uz bytes of JSON",
                               cmcf->store_max_value);
    }

    value.data = ngx_pnalloc(cr->request->pool, j.len);
    if (value.data == NULL) {
        collab_json_free(&j);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(value.data, j.data, j.len);
    value.len = j.len;
    collab_json_free(&j);

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "store put");
    }

    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_store_update);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "store update");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);
    ngx_collab_db_bind_str(st, 3, &cr->params[3]);
    ngx_collab_db_bind_str(st, 4, &value);
    sqlite3_bind_int64(st, 5, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "store update");
    }

    created = (sqlite3_changes(ngx_collab_db_handle()) == 0);

    if (created) {
        st = ngx_collab_db_stmt(ngx_collab_sql_store_insert);
        if (st == NULL) {
            return ngx_collab_refuse_db(cr, SQLITE_ERROR, "store insert");
        }

        ngx_collab_db_bind_str(st, 1, &cr->params[1]);
        ngx_collab_db_bind_str(st, 2, &cr->params[2]);
        ngx_collab_db_bind_str(st, 3, &cr->params[3]);
        ngx_collab_db_bind_str(st, 4, &value);
        sqlite3_bind_int64(st, 5, now);

        rc = sqlite3_step(st);

        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            /* the room was deleted since the route's rule found it */
            ngx_collab_db_rollback();
            return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                                   "room not found");
        }

        if (rc != SQLITE_DONE) {
            return ngx_collab_refuse_db(cr, rc, "store insert");
        }
    }

    rc = ngx_collab_db_commit();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "store put");
    }

    ngx_collab_store_item_json(&cr->out, &cr->params[3], &value, now);

    return ngx_collab_reply(cr, created ? NGX_HTTP_CREATED : NGX_HTTP_OK);
}


/* the value alone, exactly as it was stored */
ngx_int_t
ngx_collab_store_get(ngx_collab_req_t *cr)
{
    int            rc;
    ngx_str_t      value;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_store_get);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "store get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);
    ngx_collab_db_bind_str(st, 3, &cr->params[3]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "key not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "store get");
    }

    ngx_collab_db_col(st, 0, &value);
    collab_json_raw(&cr->out, value.data, value.len);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/* a row of the list: key, value, updated_at */
static void
ngx_collab_store_row(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_str_t  key, value;

    ngx_collab_db_col(st, 0, &key);
    ngx_collab_db_col(st, 1, &value);
    ngx_collab_store_item_json(j, &key, &value, sqlite3_column_int64(st, 2));
}


/* the keys of a store in byte order of their UTF-8, with their values */
ngx_int_t
ngx_collab_store_list(ngx_collab_req_t *cr)
{
    ngx_str_t      from;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;

    if (ngx_collab_page_name_args(cr, "store", &limit, &from) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_store_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "store list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);
    ngx_collab_db_bind_str(st, 3, &from);
    sqlite3_bind_int64(st, 4, limit + 1);

    return ngx_collab_reply_page_name(cr, st, "store", limit,
                                      ngx_collab_store_row, "store list");
}


/*
 * Deletes one key (the path's four parameters) or a whole store (its
 * first three); 404 names what was missing, the key or the store.
 */
static ngx_int_t
ngx_collab_store_drop(ngx_collab_req_t *cr, const char *sql,
    ngx_uint_t nparams, const char *what)
{
    int            rc;
    ngx_uint_t     i;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(sql);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, what);
    }

    for (i = 0; i < nparams; i++) {
        ngx_collab_db_bind_str(st, i + 1, &cr->params[i]);
    }

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, what);
    }

    if (sqlite3_changes(ngx_collab_db_handle()) == 0) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "%s not found",
                               what);
    }

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);
}


ngx_int_t
ngx_collab_store_delete_key(ngx_collab_req_t *cr)
{
    return ngx_collab_store_drop(cr, ngx_collab_sql_store_delete_key, 4,
                                 "key");
}


ngx_int_t
ngx_collab_store_delete(ngx_collab_req_t *cr)
{
    return ngx_collab_store_drop(cr, ngx_collab_sql_store_delete, 3,
                                 "store");
}
