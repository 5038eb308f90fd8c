/*
 * Copyright (C) collab
 *
 * The event list, GET /accounts/{accountId}/events: recent events, newest
 * first, by type and room (the outbox records them).
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"


static const char  ngx_collab_sql_event_list[] =
    "SELECT seq, id, type, data, created_at FROM events"
    " WHERE account_id = ?1 AND seq < ?2"
    " AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR room_id = ?4)"
    " ORDER BY seq DESC LIMIT ?5";


/* a row of the event list: {id, event, data, timestamp} */
static void
ngx_collab_event_json(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_str_t  data;

    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "event");
    ngx_collab_col_text(j, st, 2);
    collab_json_key(j, "data");
    ngx_collab_db_col(st, 3, &data);
    collab_json_raw(j, data.data, data.len);
    collab_json_key(j, "timestamp");
    ngx_collab_col_time(j, st, 4);
    collab_json_obj_close(j);
}


ngx_int_t
ngx_collab_event_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_int_t      rc;
    ngx_str_t      type, room;
    ngx_uint_t     limit, has_type, has_room;
    sqlite3_stmt  *st;

    if (ngx_collab_page_args(cr, "events", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_collab_arg(cr, "type", &type);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    has_type = (rc == NGX_OK);

    if (has_type && ngx_collab_event_lookup(&type) == NGX_ERROR) {
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "type",
                               "type: not an event name");
    }

    rc = ngx_collab_arg(cr, "roomId", &room);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    has_room = (rc == NGX_OK);

    if (has_room && !collab_uuid_valid(room.data, room.len)) {
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "roomId",
                               "roomId: not a room id");
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_event_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "event list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    sqlite3_bind_int64(st, 2, before);
    ngx_collab_db_bind_str(st, 3, has_type ? &type : NULL);
    ngx_collab_db_bind_str(st, 4, has_room ? &room : NULL);
    sqlite3_bind_int64(st, 5, limit + 1);

    return ngx_collab_reply_page(cr, st, "events", limit, ngx_collab_event_json,
                                 "event list");
}
