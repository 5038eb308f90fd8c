/*
 * Copyright (C) collab
 *
 * What webhooks and workflows share as subscriptions to events: the
 * events, roomId and enabled fields of a create or an update, the list,
 * the lookup by the path's id, the account's limit, and keeping the
 * registry of the collab zone in step with the table (set back from the
 * table when a commit fails).
 */

#include "ngx_collab_subscription.h"


/* what a statement is called in the log: "webhook get" and so on */
static const char *
ngx_collab_sub_what(const char *name, const char *op, u_char *buf,
    size_t size)
{
    u_char  *p;

    p = ngx_snprintf(buf, size - 1, "%s %s", name, op);
    *p = '\0';

    return (const char *) buf;
}


static ngx_int_t
ngx_collab_sub_refuse_db(ngx_collab_req_t *cr, int rc,
    const ngx_collab_sub_kind_t *kind, const char *op)
{
    u_char  what[64];

    return ngx_collab_refuse_db(cr, rc,
                                ngx_collab_sub_what(kind->name, op, what,
                                                    sizeof(what)));
}


/* the events array: its mask, and its JSON text as it will be stored */
static ngx_int_t
ngx_collab_sub_event_list(ngx_collab_req_t *cr, json_t *v,
    ngx_collab_sub_t *sub)
{
    size_t          i, k;
    json_t         *e;
    ngx_int_t       type;
    ngx_str_t       name;
    collab_json_t   j;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "events",
                                 "events: must be a non-empty array of event "
                                 "names");
    }

    sub->mask = 0;

    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "events",
                                     "events[%uz]: must be a string", i);
        }

        name.data = (u_char *) json_string_value(e);
        name.len = json_string_length(e);

        /* an earlier equal one passed, so this one is a name */
        for (k = 0; k < i; k++) {
            if (json_equal(e, json_array_get(v, k))) {
                return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "events",
                                         "events[%uz]: \"%V\" is listed twice",
                                         i, &name);
            }
        }

        if (name.len == 1 && name.data[0] == '*') {
            sub->mask = COLLAB_EVENTS_ALL;
            continue;
        }

        /* not a name: it is not shown */
        if (ngx_collab_validate_name(&name, 64) != NGX_OK) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "events",
                                     "events[%uz]: unknown event", i);
        }

        type = ngx_collab_event_lookup(&name);

        if (type == NGX_ERROR) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "events",
                                     "events[%uz]: unknown event \"%V\"", i,
                                     &name);
        }

        sub->mask |= 1u << type;
    }

    collab_json_init(&j);
    collab_json_value(&j, v);

    if (j.failed) {
        collab_json_free(&j);
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    sub->events.data = ngx_pnalloc(cr->request->pool, j.len);
    if (sub->events.data == NULL) {
        collab_json_free(&j);
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    ngx_memcpy(sub->events.data, j.data, j.len);
    sub->events.len = j.len;
    collab_json_free(&j);

    return NGX_OK;
}


/* "events" of the body: required by a create */
ngx_int_t
ngx_collab_sub_events(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind,
    ngx_uint_t create, ngx_collab_sub_t *sub)
{
    json_t  *v;

    v = json_object_get(cr->body, "events");

    if (v == NULL && !create) {
        return NGX_OK;
    }

    if (v == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "events",
                                 "events: is required");
    }

    if (ngx_collab_sub_event_list(cr, v, sub) != NGX_OK) {
        return NGX_ERROR;
    }

    sub->has_events = 1;

    return NGX_OK;
}


/* "roomId" of the body: a room of the path's account, or null for all */
ngx_int_t
ngx_collab_sub_room(ngx_collab_req_t *cr, ngx_collab_sub_t *sub)
{
    json_t     *v;
    ngx_int_t   rc;

    v = json_object_get(cr->body, "roomId");

    if (v == NULL) {
        return NGX_OK;
    }

    sub->has_room = 1;

    if (json_is_null(v)) {
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "roomId",
                                 "roomId: must be a string or null");
    }

    sub->room.data = (u_char *) json_string_value(v);
    sub->room.len = json_string_length(v);

    rc = collab_uuid_valid(sub->room.data, sub->room.len)
         ? ngx_collab_room_exists(cr, &cr->params[0], &sub->room)
         : NGX_DECLINED;

    if (rc == NGX_DECLINED) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "roomId",
                                 "roomId: no such room in this account");
    }

    return rc == NGX_OK ? NGX_OK : NGX_ERROR;
}


/* "enabled" of the body: true when absent */
ngx_int_t
ngx_collab_sub_enabled(ngx_collab_req_t *cr, ngx_collab_sub_t *sub)
{
    json_t  *v;

    v = json_object_get(cr->body, "enabled");

    if (v == NULL) {
        sub->enabled = 1;
        return NGX_OK;
    }

    if (!json_is_boolean(v)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "enabled",
                                 "enabled: must be true or false");
    }

    sub->has_enabled = 1;
    sub->enabled = json_is_true(v);

    return NGX_OK;
}


/* what an update does not change keeps the value of the row st is on */
ngx_int_t
ngx_collab_sub_keep(ngx_pool_t *pool, sqlite3_stmt *st,
    const ngx_collab_sub_kind_t *kind, ngx_collab_sub_t *sub)
{
    if ((!sub->has_events
         && ngx_collab_db_dup(pool, st, COLLAB_SUB_COL_EVENTS, &sub->events)
            != NGX_OK)
        || (!sub->has_room
            && ngx_collab_db_dup(pool, st, COLLAB_SUB_COL_ROOM, &sub->room)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    if (!sub->has_events) {
        sub->mask = (uint32_t) sqlite3_column_int64(st, kind->mask_col);
    }

    if (!sub->has_enabled) {
        sub->enabled = sqlite3_column_int(st, COLLAB_SUB_COL_ENABLED);
    }

    return NGX_OK;
}


/* the events at ?i, the mask at ?i+1, the room (NULL: all) at ?i+2 */
void
ngx_collab_sub_bind(sqlite3_stmt *st, int i, ngx_collab_sub_t *sub)
{
    ngx_collab_db_bind_str(st, i, &sub->events);
    sqlite3_bind_int64(st, i + 1, sub->mask);
    ngx_collab_db_bind_str(st, i + 2, sub->room.data ? &sub->room : NULL);
}


/* "events" and "roomId" of a row of sql_get or sql_list */
void
ngx_collab_sub_json(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_str_t  s;

    collab_json_key(j, "events");
    ngx_collab_db_col(st, COLLAB_SUB_COL_EVENTS, &s);
    collab_json_raw(j, s.data, s.len);
    collab_json_key(j, "roomId");
    ngx_collab_col_text(j, st, COLLAB_SUB_COL_ROOM);
}


/* NGX_OK while the account has fewer than max, NGX_DECLINED at max */
ngx_int_t
ngx_collab_sub_count(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind,
    ngx_uint_t max)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(kind->sql_count);
    if (st == NULL) {
        return ngx_collab_sub_refuse_db(cr, SQLITE_ERROR, kind, "count");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return ngx_collab_sub_refuse_db(cr, rc, kind, "count");
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cr->request->connection->log, 0,
                   "collab: the account has %d %s",
                   sqlite3_column_int(st, 0), kind->plural);

    return sqlite3_column_int(st, 0) >= (int) max ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_collab_sub_list(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind)
{
    int64_t        before;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;
    u_char         what[64];

    if (ngx_collab_page_args(cr, kind->plural, &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(kind->sql_list);
    if (st == NULL) {
        return ngx_collab_sub_refuse_db(cr, SQLITE_ERROR, kind, "list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit + 1);

    return ngx_collab_reply_page(cr, st, kind->plural, limit, kind->row,
                                 ngx_collab_sub_what(kind->name, "list", what,
                                                     sizeof(what)));
}


/* the subscription of the path, or NGX_ERROR with cr->err set */
ngx_int_t
ngx_collab_sub_find(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind,
    sqlite3_stmt **stp)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(kind->sql_get);
    if (st == NULL) {
        return ngx_collab_sub_refuse_db(cr, SQLITE_ERROR, kind, "get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND, NULL,
                                 "%s not found", kind->name);
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_sub_refuse_db(cr, rc, kind, "get");
    }

    *stp = st;

    return NGX_OK;
}


/* if the commit fails, the registry is set back from the table */
static ngx_int_t
ngx_collab_sub_undo_on_failure(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_str_t *id)
{
    cr->subject.data = ngx_pstrdup(cr->request->pool, id);
    if (cr->subject.data == NULL) {
        return NGX_ERROR;
    }

    cr->subject.len = id->len;
    cr->undo = kind->resync;

    return NGX_OK;
}


/*
 * After the insert of a new one: into the registry, from the next event
 * on.  NGX_ERROR if there is no room in the zone: the row is deleted
 * again, and the caller answers 503.
 */
ngx_int_t
ngx_collab_sub_register(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_str_t *id, ngx_collab_sub_t *sub)
{
    sqlite3_stmt  *st;

    if (ngx_collab_sub_undo_on_failure(cr, kind, id) == NGX_OK
        && ngx_collab_shm_sub_set(kind->kind, &cr->params[0], id,
                                  sub->room.data ? &sub->room : NULL,
                                  sub->mask, sub->enabled)
           == NGX_OK)
    {
        return NGX_OK;
    }

    cr->undo = NULL;

    st = ngx_collab_db_stmt(kind->sql_delete);
    if (st) {
        ngx_collab_db_bind_str(st, 1, &cr->params[0]);
        ngx_collab_db_bind_str(st, 2, id);
        (void) sqlite3_step(st);
    }

    collab_json_free(&cr->out);
    collab_json_init(&cr->out);

    ngx_log_error(NGX_LOG_ERR, cr->request->connection->log, 0,
                  "collab: no room for a new %s in the collab zone",
                  kind->name);

    return NGX_ERROR;
}


/* after the update of the path's one: the registry follows */
void
ngx_collab_sub_update(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind,
    ngx_collab_sub_t *sub)
{
    if (ngx_collab_sub_undo_on_failure(cr, kind, &cr->params[1]) != NGX_OK
        || ngx_collab_shm_sub_set(kind->kind, &cr->params[0], &cr->params[1],
                                  sub->room.data ? &sub->room : NULL,
                                  sub->mask, sub->enabled)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cr->request->connection->log, 0,
                      "collab: no room to update %s \"%V\" in the collab "
                      "zone", kind->name, &cr->params[1]);
    }

    if (sub->enabled) {
        /* what was held while it was disabled may go now */
        ngx_collab_store_wake(kind->wake);
    }
}


/*
 * Deletes the path's one: NGX_OK, NGX_DECLINED if there is none (the
 * caller answers 404), or NGX_ERROR with cr->err set.
 */
ngx_int_t
ngx_collab_sub_delete(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(kind->sql_delete);
    if (st == NULL) {
        return ngx_collab_sub_refuse_db(cr, SQLITE_ERROR, kind, "delete");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_sub_refuse_db(cr, rc, kind, "delete");
    }

    return sqlite3_changes(ngx_collab_db_handle()) ? NGX_OK : NGX_DECLINED;
}


/* after the delete of the path's one; NGX_ERROR: the caller answers 500 */
ngx_int_t
ngx_collab_sub_unregister(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind)
{
    if (ngx_collab_sub_undo_on_failure(cr, kind, &cr->params[1]) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_collab_shm_sub_remove(&cr->params[0], &cr->params[1]);

    return NGX_OK;
}


/*
 * When the group of a create, update or delete could not be committed,
 * the registry was changed for nothing: it is set back from the table,
 * which has the subscription cr->subject as it was (or not at all).
 */
ngx_int_t
ngx_collab_sub_resync(ngx_collab_req_t *cr, const ngx_collab_sub_kind_t *kind)
{
    int            rc;
    ngx_str_t      room;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(kind->sql_get);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->subject);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        ngx_collab_shm_sub_remove(&cr->params[0], &cr->subject);

    } else if (rc == SQLITE_ROW) {
        ngx_collab_db_col(st, COLLAB_SUB_COL_ROOM, &room);

        (void) ngx_collab_shm_sub_set(kind->kind, &cr->params[0],
                                      &cr->subject, room.data ? &room : NULL,
                                      (uint32_t) sqlite3_column_int64(
                                                     st, kind->mask_col),
                                      sqlite3_column_int(
                                          st, COLLAB_SUB_COL_ENABLED));
    }

    ngx_collab_db_release();

    return rc == SQLITE_ROW || rc == SQLITE_DONE ? NGX_OK : NGX_ERROR;
}


/*
 * A statement on the log of the path's one (ngx_collab_sub_find() first),
 * its ?1 bound to the id; NULL with cr->err set.
 */
static sqlite3_stmt *
ngx_collab_sub_log_stmt(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, const char *sql, const char *what)
{
    sqlite3_stmt  *st;

    if (ngx_collab_sub_find(cr, kind, &st) != NGX_OK) {
        return NULL;
    }

    st = ngx_collab_db_stmt(sql);
    if (st == NULL) {
        (void) ngx_collab_refuse_db(cr, SQLITE_ERROR, what);
        return NULL;
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);

    return st;
}


/* a page of the log of the path's one, of a status only if one is given */
ngx_int_t
ngx_collab_sub_log_list(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_uint_t limit, int64_t before,
    ngx_str_t *status)
{
    u_char         what[64];
    sqlite3_stmt  *st;

    (void) ngx_collab_sub_what(kind->log_name, "list", what, sizeof(what));

    st = ngx_collab_sub_log_stmt(cr, kind, kind->sql_log_list,
                                 (const char *) what);
    if (st == NULL) {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 2, before);
    ngx_collab_db_bind_str(st, 3, status);
    sqlite3_bind_int64(st, 4, limit + 1);

    return ngx_collab_reply_page(cr, st, kind->log_plural, limit,
                                 kind->log_row, (const char *) what);
}


/*
 * The log entry of the path (its third parameter) of the path's one: st
 * on its row and NGX_OK, NGX_DECLINED if there is none (the caller
 * answers 404), or NGX_ERROR with cr->err set.
 */
ngx_int_t
ngx_collab_sub_log_get(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, sqlite3_stmt **stp)
{
    int            rc;
    u_char         what[64];
    sqlite3_stmt  *st;

    (void) ngx_collab_sub_what(kind->log_name, "get", what, sizeof(what));

    st = ngx_collab_sub_log_stmt(cr, kind, kind->sql_log_get,
                                 (const char *) what);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_db_bind_str(st, 2, &cr->params[2]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return NGX_DECLINED;
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, (const char *) what);
    }

    *stp = st;

    return NGX_OK;
}
