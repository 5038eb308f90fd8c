/*
 * Copyright (C) collab
 *
 * Users of a room.  Creating, changing and removing one records
 * user.created, user.updated (with the names of the fields that changed)
 * and user.deleted in the same transaction.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_USER_ID_MAX   128
#define COLLAB_EMAIL_MAX     254

#define COLLAB_USER_COLUMNS                                                   \
    "seq, room_id, user_id, name, email, metadata, created_at, updated_at"

static const char  ngx_collab_sql_user_insert[] =
    "INSERT INTO users (room_id, user_id, name, email, metadata,"
    " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
    " RETURNING " COLLAB_USER_COLUMNS;

static const char  ngx_collab_sql_user_list[] =
    "SELECT " COLLAB_USER_COLUMNS " FROM users"
    " WHERE room_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

static const char  ngx_collab_sql_user_get[] =
    "SELECT " COLLAB_USER_COLUMNS " FROM users"
    " WHERE room_id = ?1 AND user_id = ?2";

static const char  ngx_collab_sql_user_update[] =
    "UPDATE users SET name = ?3, email = ?4, metadata = ?5, updated_at = ?6"
    " WHERE room_id = ?1 AND user_id = ?2"
    " RETURNING " COLLAB_USER_COLUMNS;

static const char  ngx_collab_sql_user_delete[] =
    "DELETE FROM users WHERE room_id = ?1 AND user_id = ?2";


static const char  *ngx_collab_user_create_fields[] = {
    "userId", "name", "email", "metadata", NULL
};

static const char  *ngx_collab_user_update_fields[] = {
    "name", "email", "metadata", NULL
};


static void
ngx_collab_user_json(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_str_t  s, room;

    collab_json_obj_open(j);
    collab_json_key(j, "userId");
    ngx_collab_db_col(st, 2, &s);
    collab_json_str(j, s.data, s.len);
    collab_json_key(j, "roomId");
    ngx_collab_db_col(st, 1, &s);
    collab_json_str(j, s.data, s.len);
    collab_json_key(j, "name");

    ngx_collab_col_text(j, st, 3);

    collab_json_key(j, "email");

    ngx_collab_col_text(j, st, 4);

    collab_json_key(j, "metadata");
    ngx_collab_db_col(st, 5, &s);
    collab_json_raw(j, s.data, s.len);

    collab_json_key(j, "online");
    ngx_collab_db_col(st, 1, &room);
    ngx_collab_db_col(st, 2, &s);
    collab_json_bool(j, ngx_collab_presence_user_online(&room, &s));

    collab_json_key(j, "createdAt");
    collab_json_time(j, sqlite3_column_int64(st, 6));
    collab_json_key(j, "updatedAt");
    collab_json_time(j, sqlite3_column_int64(st, 7));
    collab_json_obj_close(j);
}


static ngx_int_t
ngx_collab_user_id_valid(ngx_str_t *s)
{
    size_t  i;
    u_char  c;

    if (s->len == 0 || s->len > COLLAB_USER_ID_MAX) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '.'
              || c == ':' || c == '@' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* name, email and metadata, for create (has_* set) and update */
static ngx_int_t
ngx_collab_user_input(ngx_collab_req_t *cr, ngx_str_t *name,
    ngx_uint_t *has_name, ngx_str_t *email, ngx_uint_t *has_email,
    ngx_str_t *metadata, ngx_uint_t *has_metadata)
{
    u_char  *at;

    if (ngx_collab_get_string(cr, "name", 0, COLLAB_NAME_MAX, name, has_name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_collab_get_string(cr, "email", 0, COLLAB_EMAIL_MAX, email,
                              has_email)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (*has_email == 1) {
        at = ngx_strlchr(email->data, email->data + email->len, '@');

        if (at == NULL || at == email->data
            || at == email->data + email->len - 1
            || ngx_strlchr(at + 1, email->data + email->len, '@')
            || ngx_strlchr(email->data, email->data + email->len, ' '))
        {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "email",
                                     "email: must be an email address");
        }
    }

    return ngx_collab_get_metadata(cr, metadata, has_metadata);
}


/* data of user.* events: {userId, roomId[, fields]} */
static void
ngx_collab_user_event_data(collab_json_t *j, ngx_str_t *room,
    ngx_str_t *user)
{
    collab_json_obj_open(j);
    collab_json_key(j, "userId");
    collab_json_str(j, user->data, user->len);
    collab_json_key(j, "roomId");
    collab_json_str(j, room->data, room->len);
}


ngx_int_t
ngx_collab_user_create(ngx_collab_req_t *cr)
{
    int             rc;
    json_t         *v;
    int64_t         now;
    ngx_str_t       user, name, email, metadata;
    ngx_uint_t      has_user, has_name, has_email, has_metadata;
    sqlite3_stmt   *st;
    collab_json_t   data;
    char            idbuf[COLLAB_ID_MAX];

    if (ngx_collab_check_fields(cr, ngx_collab_user_create_fields) != NGX_OK
        || ngx_collab_user_input(cr, &name, &has_name, &email, &has_email,
                                 &metadata, &has_metadata) != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = json_object_get(cr->body, "userId");
    has_user = (v != NULL);

    if (has_user) {
        user.data = (u_char *) json_string_value(v);
        user.len = json_is_string(v) ? json_string_length(v) : 0;

        if (!json_is_string(v) || !ngx_collab_user_id_valid(&user)) {
            return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "userId",
                                   "userId: must be a string of 1 to %d "
                                   "characters of A-Z a-z 0-9 _ . : @ -",
                                   COLLAB_USER_ID_MAX);
        }
    }

    if (!has_user) {
        user.len = collab_id_new(idbuf, "user_");
        user.data = (u_char *) idbuf;
    }

    if (!has_metadata) {
        ngx_str_set(&metadata, "{}");
    }

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "user create");
    }

    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_user_insert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user insert");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &user);
    ngx_collab_db_bind_str(st, 3, has_name == 1 ? &name : NULL);
    ngx_collab_db_bind_str(st, 4, has_email == 1 ? &email : NULL);
    ngx_collab_db_bind_str(st, 5, &metadata);
    sqlite3_bind_int64(st, 6, now);

    rc = sqlite3_step(st);

    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        ngx_collab_db_rollback();
        return ngx_collab_fail(cr, NGX_HTTP_CONFLICT, "userId",
                               "userId: this room already has that user");
    }

    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        /* the room was deleted since the route's rule found it */
        ngx_collab_db_rollback();
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "room not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "user insert");
    }

    ngx_collab_user_json(&cr->out, st);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        goto failed;
    }

    collab_json_init(&data);
    ngx_collab_user_event_data(&data, &cr->params[1], &user);
    collab_json_obj_close(&data);

    rc = ngx_collab_event_record(&cr->params[0], &cr->params[1],
                                 COLLAB_EVENT_USER_CREATED, &data, now);
    collab_json_free(&data);

    if (rc != SQLITE_OK) {
        goto failed;
    }

    rc = ngx_collab_db_commit();
    if (rc != SQLITE_OK) {
        goto failed;
    }

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);

failed:

    collab_json_free(&cr->out);
    collab_json_init(&cr->out);

    return ngx_collab_refuse_db(cr, rc, "user create");
}


ngx_int_t
ngx_collab_user_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;

    if (ngx_collab_page_args(cr, "users", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_user_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit + 1);

    return ngx_collab_reply_page(cr, st, "users", limit, ngx_collab_user_json,
                                 "user list");
}


ngx_int_t
ngx_collab_user_get(ngx_collab_req_t *cr)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_user_get);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "user not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "user get");
    }

    ngx_collab_user_json(&cr->out, st);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


static ngx_uint_t
ngx_collab_column_differs(sqlite3_stmt *st, int col, ngx_str_t *v)
{
    ngx_str_t  cur;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return v->data != NULL;
    }

    if (v->data == NULL) {
        return 1;
    }

    ngx_collab_db_col(st, col, &cur);

    return cur.len != v->len || ngx_memcmp(cur.data, v->data, v->len) != 0;
}


ngx_int_t
ngx_collab_user_update(ngx_collab_req_t *cr)
{
    int             rc;
    int64_t         now;
    ngx_str_t       name, email, metadata;
    ngx_uint_t      has_name, has_email, has_metadata, changed;
    sqlite3_stmt   *st;
    collab_json_t   data;
    const char     *fields[3];
    ngx_uint_t      i;

    if (ngx_collab_check_fields(cr, ngx_collab_user_update_fields) != NGX_OK
        || ngx_collab_user_input(cr, &name, &has_name, &email, &has_email,
                                 &metadata, &has_metadata) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "user update");
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_user_get);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        ngx_collab_db_rollback();
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "user not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "user get");
    }

    changed = 0;

    if (has_name && ngx_collab_column_differs(st, 3, &name)) {
        fields[changed++] = "name";
    }

    if (has_email && ngx_collab_column_differs(st, 4, &email)) {
        fields[changed++] = "email";
    }

    if (has_metadata && ngx_collab_column_differs(st, 5, &metadata)) {
        fields[changed++] = "metadata";
    }

    if (changed == 0) {
        /* nothing to change: no write, no event */
        ngx_collab_user_json(&cr->out, st);
        ngx_collab_db_rollback();
        return ngx_collab_reply(cr, NGX_HTTP_OK);
    }

    /* what the request does not change keeps the row's value */
    if ((!has_name
         && ngx_collab_db_dup(cr->request->pool, st, 3, &name) != NGX_OK)
        || (!has_email
            && ngx_collab_db_dup(cr->request->pool, st, 4, &email) != NGX_OK)
        || (!has_metadata
            && ngx_collab_db_dup(cr->request->pool, st, 5, &metadata)
               != NGX_OK))
    {
        ngx_collab_db_rollback();
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_user_update);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user update");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);
    ngx_collab_db_bind_str(st, 3, &name);
    ngx_collab_db_bind_str(st, 4, &email);
    ngx_collab_db_bind_str(st, 5, &metadata);
    sqlite3_bind_int64(st, 6, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        goto failed;
    }

    ngx_collab_user_json(&cr->out, st);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        goto failed;
    }

    collab_json_init(&data);
    ngx_collab_user_event_data(&data, &cr->params[1], &cr->params[2]);
    collab_json_key(&data, "fields");
    collab_json_arr_open(&data);

    for (i = 0; i < changed; i++) {
        collab_json_cstr(&data, fields[i]);
    }

    collab_json_arr_close(&data);
    collab_json_obj_close(&data);

    rc = ngx_collab_event_record(&cr->params[0], &cr->params[1],
                                 COLLAB_EVENT_USER_UPDATED, &data, now);
    collab_json_free(&data);

    if (rc != SQLITE_OK) {
        goto failed;
    }

    rc = ngx_collab_db_commit();
    if (rc != SQLITE_OK) {
        goto failed;
    }

    return ngx_collab_reply(cr, NGX_HTTP_OK);

failed:

    collab_json_free(&cr->out);
    collab_json_init(&cr->out);

    return ngx_collab_refuse_db(cr, rc, "user update");
}


ngx_int_t
ngx_collab_user_delete(ngx_collab_req_t *cr)
{
    int             rc;
    int64_t         now;
    sqlite3_stmt   *st;
    collab_json_t   data;

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "user delete");
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_user_delete);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user delete");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "user delete");
    }

    if (sqlite3_changes(ngx_collab_db_handle()) == 0) {
        ngx_collab_db_rollback();
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "user not found");
    }

    collab_json_init(&data);
    ngx_collab_user_event_data(&data, &cr->params[1], &cr->params[2]);
    collab_json_obj_close(&data);

    now = collab_now_ms();

    rc = ngx_collab_event_record(&cr->params[0], &cr->params[1],
                                 COLLAB_EVENT_USER_DELETED, &data, now);
    collab_json_free(&data);

    /* its client tokens die with it; once committed, it goes offline */
    if (rc == SQLITE_OK) {
        rc = ngx_collab_presence_revoke_row(&cr->params[1], &cr->params[2],
                                            now);
        cr->committed = ngx_collab_presence_user_deleted;
    }

    if (rc == SQLITE_OK) {
        rc = ngx_collab_db_commit();
    }

    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "user delete");
    }

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);
}
