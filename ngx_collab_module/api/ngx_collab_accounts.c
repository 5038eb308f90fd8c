/*
 * Copyright (C) collab
 *
 * Accounts and their API keys (admin token).  A key's token is shown once,
 * at creation; only its SHA-256 is kept, in SQLite and in the shm registry.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"


static const char  ngx_collab_sql_account_insert[] =
    "INSERT INTO accounts (id, name, created_at) VALUES (?1, ?2, ?3)";

static const char  ngx_collab_sql_account_get[] =
    "SELECT id, name, created_at FROM accounts WHERE id = ?1";

static const char  ngx_collab_sql_key_insert[] =
    "INSERT INTO api_keys (id, account_id, name, hash, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";

static const char  ngx_collab_sql_key_delete[] =
    "DELETE FROM api_keys WHERE id = ?1";

static const char  ngx_collab_sql_key_list[] =
    "SELECT seq, id, name, created_at, revoked_at FROM api_keys"
    " WHERE account_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

static const char  ngx_collab_sql_key_find[] =
    "SELECT hash FROM api_keys"
    " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL";

static const char  ngx_collab_sql_key_revoke[] =
    "UPDATE api_keys SET revoked_at = ?3"
    " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL";


static const char  *ngx_collab_account_fields[] = { "name", NULL };
static const char  *ngx_collab_key_fields[] = { "name", NULL };


static void
ngx_collab_account_json(collab_json_t *j, ngx_str_t *id, ngx_str_t *name,
    int64_t created)
{
    collab_json_obj_open(j);
    collab_json_key(j, "id");
    collab_json_str(j, id->data, id->len);
    collab_json_key(j, "name");
    collab_json_str(j, name->data, name->len);
    collab_json_key(j, "createdAt");
    collab_json_time(j, created);
    collab_json_obj_close(j);
}


ngx_int_t
ngx_collab_account_create(ngx_collab_req_t *cr)
{
    int            rc;
    int64_t        now;
    ngx_str_t      id, name;
    ngx_uint_t     present;
    sqlite3_stmt  *st;
    char           idbuf[COLLAB_ID_MAX];

    if (ngx_collab_check_fields(cr, ngx_collab_account_fields) != NGX_OK
        || ngx_collab_get_string(cr, "name", 1, COLLAB_NAME_MAX, &name,
                                 &present) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (present != 1) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must be a string");
    }

    id.len = collab_id_new(idbuf, "acc_");
    id.data = (u_char *) idbuf;
    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_account_insert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "account insert");
    }

    ngx_collab_db_bind_str(st, 1, &id);
    ngx_collab_db_bind_str(st, 2, &name);
    sqlite3_bind_int64(st, 3, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "account insert");
    }

    ngx_collab_account_json(&cr->out, &id, &name, now);

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);
}


ngx_int_t
ngx_collab_account_get(ngx_collab_req_t *cr)
{
    int            rc;
    ngx_str_t      id, name;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_account_get);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "account get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "account not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "account get");
    }

    ngx_collab_db_col(st, 0, &id);
    ngx_collab_db_col(st, 1, &name);
    ngx_collab_account_json(&cr->out, &id, &name, sqlite3_column_int64(st, 2));

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


ngx_int_t
ngx_collab_key_create(ngx_collab_req_t *cr)
{
    int            rc;
    int64_t        now;
    ngx_str_t      id, name, token;
    ngx_uint_t     present;
    sqlite3_stmt  *st;
    u_char         hash[COLLAB_HASH_LEN];
    char           idbuf[COLLAB_ID_MAX], tokbuf[COLLAB_TOKEN_MAX];

    if (ngx_collab_check_fields(cr, ngx_collab_key_fields) != NGX_OK
        || ngx_collab_get_string(cr, "name", 0, COLLAB_NAME_MAX, &name,
                                 &present) != NGX_OK)
    {
        return NGX_ERROR;
    }

    id.len = collab_id_new(idbuf, "key_");
    id.data = (u_char *) idbuf;
    token.len = collab_token_new(tokbuf, "ck_");
    token.data = (u_char *) tokbuf;
    collab_sha256(token.data, token.len, hash);
    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_key_insert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "key insert");
    }

    ngx_collab_db_bind_str(st, 1, &id);
    ngx_collab_db_bind_str(st, 2, &cr->params[0]);
    ngx_collab_db_bind_str(st, 3, present == 1 ? &name : NULL);
    sqlite3_bind_blob(st, 4, hash, COLLAB_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "key insert");
    }

    if (ngx_collab_shm_key_add(hash, &id, &cr->params[0]) != NGX_OK) {
        /* the registry is full: a key that cannot be used must not stay */
        st = ngx_collab_db_stmt(ngx_collab_sql_key_delete);
        if (st) {
            ngx_collab_db_bind_str(st, 1, &id);
            (void) sqlite3_step(st);
        }

        ngx_log_error(NGX_LOG_ERR, cr->request->connection->log, 0,
                      "collab: no room for a new key in the collab zone");

        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "the key registry is full");
    }

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "id");
    collab_json_str(&cr->out, id.data, id.len);
    collab_json_key(&cr->out, "name");

    if (present == 1) {
        collab_json_str(&cr->out, name.data, name.len);

    } else {
        collab_json_null(&cr->out);
    }

    collab_json_key(&cr->out, "token");
    collab_json_str(&cr->out, token.data, token.len);
    collab_json_key(&cr->out, "createdAt");
    collab_json_time(&cr->out, now);
    collab_json_obj_close(&cr->out);

    ngx_explicit_memzero(tokbuf, sizeof(tokbuf));

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);
}


/* a row of the key list: the key without its token */
static void
ngx_collab_key_json(collab_json_t *j, sqlite3_stmt *st)
{
    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "name");
    ngx_collab_col_text(j, st, 2);
    collab_json_key(j, "createdAt");
    ngx_collab_col_time(j, st, 3);
    collab_json_key(j, "revokedAt");
    ngx_collab_col_time(j, st, 4);
    collab_json_obj_close(j);
}


ngx_int_t
ngx_collab_key_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;

    if (ngx_collab_page_args(cr, "keys", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_key_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "key list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit + 1);

    return ngx_collab_reply_page(cr, st, "keys", limit, ngx_collab_key_json,
                                 "key list");
}


/*
 * The key leaves the registry first, so that no worker accepts it once
 * the revocation is committed; if the commit fails it goes back.
 */
ngx_int_t
ngx_collab_key_revoke(ngx_collab_req_t *cr)
{
    int            rc;
    sqlite3_stmt  *st;
    u_char         hash[COLLAB_HASH_LEN];

    st = ngx_collab_db_stmt(ngx_collab_sql_key_find);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "key find");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "key not found");
    }

    if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 0) != COLLAB_HASH_LEN) {
        return ngx_collab_refuse_db(cr, rc, "key find");
    }

    ngx_memcpy(hash, sqlite3_column_blob(st, 0), COLLAB_HASH_LEN);
    sqlite3_reset(st);

    (void) ngx_collab_shm_key_remove(hash);

    st = ngx_collab_db_stmt(ngx_collab_sql_key_revoke);
    if (st == NULL) {
        rc = SQLITE_ERROR;
        goto failed;
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);
    sqlite3_bind_int64(st, 3, collab_now_ms());

    rc = sqlite3_step(st);

    if (rc != SQLITE_DONE) {
        goto failed;
    }

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);

failed:

    (void) ngx_collab_shm_key_add(hash, &cr->params[1], &cr->params[0]);

    return ngx_collab_refuse_db(cr, rc, "key revoke");
}
