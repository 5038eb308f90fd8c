/*
 * Copyright (C) collab
 *
 * Rooms of an account: create, list, read, update, delete.  Deleting a
 * room removes what hangs off it: users, store items and file rows by
 * foreign key cascade, then the files' bytes.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_ROOM_COLUMNS                                                   \
    "seq, id, name, metadata, created_at, updated_at"

static const char  ngx_collab_sql_room_insert[] =
    "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";

static const char  ngx_collab_sql_room_list[] =
    "SELECT " COLLAB_ROOM_COLUMNS " FROM rooms"
    " WHERE account_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

static const char  ngx_collab_sql_room_get[] =
    "SELECT " COLLAB_ROOM_COLUMNS " FROM rooms"
    " WHERE account_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_room_update[] =
    "UPDATE rooms SET name = coalesce(?3, name),"
    " metadata = coalesce(?4, metadata), updated_at = ?5"
    " WHERE account_id = ?1 AND id = ?2"
    " RETURNING " COLLAB_ROOM_COLUMNS;

static const char  ngx_collab_sql_room_delete[] =
    "DELETE FROM rooms WHERE account_id = ?1 AND id = ?2";


static const char  *ngx_collab_room_fields[] = { "name", "metadata", NULL };


/* a row of COLLAB_ROOM_COLUMNS as the API's room object */
static void
ngx_collab_room_json(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_str_t  s;

    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_db_col(st, 1, &s);
    collab_json_str(j, s.data, s.len);
    collab_json_key(j, "name");
    ngx_collab_db_col(st, 2, &s);
    collab_json_str(j, s.data, s.len);
    collab_json_key(j, "metadata");
    ngx_collab_db_col(st, 3, &s);
    collab_json_raw(j, s.data, s.len);
    collab_json_key(j, "createdAt");
    collab_json_time(j, sqlite3_column_int64(st, 4));
    collab_json_key(j, "updatedAt");
    collab_json_time(j, sqlite3_column_int64(st, 5));
    collab_json_obj_close(j);
}


static ngx_int_t
ngx_collab_room_input(ngx_collab_req_t *cr, ngx_uint_t create,
    ngx_str_t *name, ngx_str_t *metadata, ngx_uint_t *has_metadata)
{
    ngx_uint_t  present;

    if (ngx_collab_check_fields(cr, ngx_collab_room_fields) != NGX_OK
        || ngx_collab_get_string(cr, "name", create, COLLAB_NAME_MAX, name,
                                 &present) != NGX_OK
        || ngx_collab_get_metadata(cr, metadata, has_metadata) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (present == 2) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must be a string");
    }

    return NGX_OK;
}


ngx_int_t
ngx_collab_room_create(ngx_collab_req_t *cr)
{
    int            rc;
    int64_t        now;
    ngx_str_t      id, name, metadata;
    ngx_uint_t     has_metadata;
    sqlite3_stmt  *st;
    char           idbuf[COLLAB_UUID_LEN + 1];

    if (ngx_collab_room_input(cr, 1, &name, &metadata, &has_metadata)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!has_metadata) {
        ngx_str_set(&metadata, "{}");
    }

    if (collab_uuid_new(idbuf) != 0) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room id");
    }

    id.data = (u_char *) idbuf;
    id.len = COLLAB_UUID_LEN;
    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_room_insert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room insert");
    }

    ngx_collab_db_bind_str(st, 1, &id);
    ngx_collab_db_bind_str(st, 2, &cr->params[0]);
    ngx_collab_db_bind_str(st, 3, &name);
    ngx_collab_db_bind_str(st, 4, &metadata);
    sqlite3_bind_int64(st, 5, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "room insert");
    }

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "id");
    collab_json_str(&cr->out, id.data, id.len);
    collab_json_key(&cr->out, "name");
    collab_json_str(&cr->out, name.data, name.len);
    collab_json_key(&cr->out, "metadata");
    collab_json_raw(&cr->out, metadata.data, metadata.len);
    collab_json_key(&cr->out, "createdAt");
    collab_json_time(&cr->out, now);
    collab_json_key(&cr->out, "updatedAt");
    collab_json_time(&cr->out, now);
    collab_json_obj_close(&cr->out);

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);
}


ngx_int_t
ngx_collab_room_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;

    if (ngx_collab_page_args(cr, "rooms", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_room_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit + 1);

    return ngx_collab_reply_page(cr, st, "rooms", limit, ngx_collab_room_json,
                                 "room list");
}


ngx_int_t
ngx_collab_room_get(ngx_collab_req_t *cr)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_room_get);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "room not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "room get");
    }

    ngx_collab_room_json(&cr->out, st);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


ngx_int_t
ngx_collab_room_update(ngx_collab_req_t *cr)
{
    int            rc;
    ngx_str_t      name, metadata;
    ngx_uint_t     has_metadata;
    sqlite3_stmt  *st;

    if (ngx_collab_room_input(cr, 0, &name, &metadata, &has_metadata)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_room_update);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room update");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);
    ngx_collab_db_bind_str(st, 3, name.data ? &name : NULL);
    ngx_collab_db_bind_str(st, 4, has_metadata ? &metadata : NULL);
    sqlite3_bind_int64(st, 5, collab_now_ms());

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "room not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "room update");
    }

    ngx_collab_room_json(&cr->out, st);

    /* a RETURNING statement commits only when stepped to the end */
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_refuse_db(cr, rc, "room update");
    }

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


ngx_int_t
ngx_collab_room_delete(ngx_collab_req_t *cr)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_room_delete);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room delete");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "room delete");
    }

    if (sqlite3_changes(ngx_collab_db_handle()) == 0) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "room not found");
    }

    /* its client tokens die with it; once committed, everyone leaves */
    rc = ngx_collab_presence_revoke_row(&cr->params[1], NULL,
                                        collab_now_ms());
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "room delete");
    }

    cr->committed = ngx_collab_presence_room_deleted;

    ngx_collab_files_drop_room(cr, &cr->params[1]);

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);
}


