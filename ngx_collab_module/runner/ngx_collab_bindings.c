/*
 * Copyright (C) collab
 *
 * The bindings' reads: the runner's own read-only SQLite connection, every
 * query scoped to the execution's account and room, and every object
 * written as the REST API writes it (api/ngx_collab_rooms.c, _users.c,
 * _files.c, _stores.c), through the same JSON writer.
 *
 * The connection is opened, and its first read transaction run, before
 * the sandbox closes: that opens the database, its write-ahead log and
 * its shared-memory index, which stay open for the connection's life.
 */

#include <string.h>
#include <sqlite3.h>

#include "ngx_collab_bindings.h"


static const char  collab_sql_room[] =
    "SELECT id, name, metadata, created_at, updated_at FROM rooms"
    " WHERE account_id = ?1 AND id = ?2";

static const char  collab_sql_users[] =
    "SELECT u.user_id, u.room_id, u.name, u.email, u.metadata,"
    " u.created_at, u.updated_at"
    " FROM rooms r JOIN users u ON u.room_id = r.id"
    " WHERE r.account_id = ?1 AND r.id = ?2 ORDER BY u.seq DESC";

static const char  collab_sql_store_get[] =
    "SELECT s.value FROM rooms r"
    " JOIN store_items s ON s.room_id = r.id"
    " WHERE r.account_id = ?1 AND r.id = ?2 AND s.store = ?3"
    " AND s.key = ?4";

static const char  collab_sql_store_all[] =
    "SELECT s.key, s.value FROM rooms r"
    " JOIN store_items s ON s.room_id = r.id"
    " WHERE r.account_id = ?1 AND r.id = ?2 AND s.store = ?3"
    " ORDER BY s.key";

static const char  collab_sql_files[] =
    "SELECT f.name, f.blob, f.size, f.content_type, f.uploaded_at"
    " FROM rooms r JOIN files f ON f.room_id = r.id"
    " WHERE r.account_id = ?1 AND r.id = ?2 ORDER BY f.name";


typedef struct {
    const char     *sql;
    sqlite3_stmt   *stmt;
} collab_stmt_t;


static struct {
    sqlite3        *db;
    collab_stmt_t   stmts[5];
} collab_bindings = {
    NULL,
    {
        { collab_sql_room, NULL },
        { collab_sql_users, NULL },
        { collab_sql_store_get, NULL },
        { collab_sql_store_all, NULL },
        { collab_sql_files, NULL },
    }
};


static sqlite3_stmt *collab_bindings_stmt(const char *sql, collab_exec_t *e);
static void collab_col_str(collab_json_t *j, sqlite3_stmt *st, int col);
static void collab_col_text(collab_json_t *j, sqlite3_stmt *st, int col);
static void collab_col_raw(collab_json_t *j, sqlite3_stmt *st, int col);
static int collab_user_online(collab_exec_t *e, sqlite3_stmt *st, int col);


int
collab_bindings_open(const char *path)
{
    int            rc;
    size_t         i;
    sqlite3_stmt  *st;

    rc = sqlite3_open_v2(path, &collab_bindings.db,
                         SQLITE_OPEN_READONLY|SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        collab_runner_error("cannot open the database \"%s\": %s", path,
                            collab_bindings.db
                            ? sqlite3_errmsg(collab_bindings.db)
                            : sqlite3_errstr(rc));
        return -1;
    }

    /* a writer holds its lock for microseconds */
    sqlite3_busy_timeout(collab_bindings.db, 2000);

    if (sqlite3_exec(collab_bindings.db, "PRAGMA temp_store = MEMORY",
                     NULL, NULL, NULL) != SQLITE_OK)
    {
        goto failed;
    }

    /* every statement, prepared now: a missing table is found at start */
    for (i = 0; i < sizeof(collab_bindings.stmts)
                    / sizeof(collab_bindings.stmts[0]); i++)
    {
        rc = sqlite3_prepare_v3(collab_bindings.db,
                                collab_bindings.stmts[i].sql, -1,
                                SQLITE_PREPARE_PERSISTENT,
                                &collab_bindings.stmts[i].stmt, NULL);
        if (rc != SQLITE_OK) {
            goto failed;
        }
    }

    /* the first read opens the write-ahead log and its index for good */
    rc = sqlite3_prepare_v2(collab_bindings.db,
                            "SELECT count(*) FROM rooms", -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }

    if (rc != SQLITE_ROW) {
        goto failed;
    }

    return 0;

failed:

    collab_runner_error("the database \"%s\" cannot be read: %s", path,
                        sqlite3_errmsg(collab_bindings.db));
    collab_bindings_close();

    return -1;
}


void
collab_bindings_close(void)
{
    size_t  i;

    for (i = 0; i < sizeof(collab_bindings.stmts)
                    / sizeof(collab_bindings.stmts[0]); i++)
    {
        sqlite3_finalize(collab_bindings.stmts[i].stmt);
        collab_bindings.stmts[i].stmt = NULL;
    }

    sqlite3_close(collab_bindings.db);
    collab_bindings.db = NULL;
}


/* the statement for sql, reset, with the account and room bound */
static sqlite3_stmt *
collab_bindings_stmt(const char *sql, collab_exec_t *e)
{
    size_t         i;
    sqlite3_stmt  *st;

    st = NULL;

    for (i = 0; i < sizeof(collab_bindings.stmts)
                    / sizeof(collab_bindings.stmts[0]); i++)
    {
        if (collab_bindings.stmts[i].sql == sql) {
            st = collab_bindings.stmts[i].stmt;
            break;
        }
    }

    if (st == NULL) {
        return NULL;
    }

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, e->account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->room_id, -1, SQLITE_STATIC);

    return st;
}


static void
collab_col_str(collab_json_t *j, sqlite3_stmt *st, int col)
{
    const unsigned char  *s;

    s = sqlite3_column_text(st, col);
    collab_json_str(j, s, sqlite3_column_bytes(st, col));
}


/* a nullable text column */
static void
collab_col_text(collab_json_t *j, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        collab_json_null(j);
        return;
    }

    collab_col_str(j, st, col);
}


/* a column that holds JSON text the API wrote */
static void
collab_col_raw(collab_json_t *j, sqlite3_stmt *st, int col)
{
    const unsigned char  *s;

    s = sqlite3_column_text(st, col);
    collab_json_raw(j, s, sqlite3_column_bytes(st, col));
}


/* the room object, or nothing (out stays empty) when there is none */
int
collab_bindings_room(collab_exec_t *e, collab_json_t *out)
{
    int            rc;
    sqlite3_stmt  *st;

    if (e->room_id == NULL) {
        return 0;
    }

    st = collab_bindings_stmt(collab_sql_room, e);
    if (st == NULL) {
        return -1;
    }

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        collab_json_obj_open(out);
        collab_json_key(out, "id");
        collab_col_str(out, st, 0);
        collab_json_key(out, "name");
        collab_col_str(out, st, 1);
        collab_json_key(out, "metadata");
        collab_col_raw(out, st, 2);
        collab_json_key(out, "createdAt");
        collab_json_time(out, sqlite3_column_int64(st, 3));
        collab_json_key(out, "updatedAt");
        collab_json_time(out, sqlite3_column_int64(st, 4));
        collab_json_obj_close(out);
        rc = SQLITE_DONE;
    }

    sqlite3_reset(st);

    return rc == SQLITE_DONE && !out->failed ? 0 : -1;
}


static int
collab_user_online(collab_exec_t *e, sqlite3_stmt *st, int col)
{
    size_t       i, len;
    json_t      *v;
    const char  *id;

    id = (const char *) sqlite3_column_text(st, col);
    len = sqlite3_column_bytes(st, col);

    for (i = 0; i < json_array_size(e->online); i++) {
        v = json_array_get(e->online, i);

        if (json_string_length(v) == len
            && memcmp(json_string_value(v), id, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* the users of the room, newest first, as GET .../users lists them */
int
collab_bindings_users(collab_exec_t *e, collab_json_t *out)
{
    int            rc;
    sqlite3_stmt  *st;

    collab_json_arr_open(out);

    if (e->room_id == NULL) {
        collab_json_arr_close(out);
        return 0;
    }

    st = collab_bindings_stmt(collab_sql_users, e);
    if (st == NULL) {
        return -1;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        collab_json_obj_open(out);
        collab_json_key(out, "userId");
        collab_col_str(out, st, 0);
        collab_json_key(out, "roomId");
        collab_col_str(out, st, 1);
        collab_json_key(out, "name");
        collab_col_text(out, st, 2);
        collab_json_key(out, "email");
        collab_col_text(out, st, 3);
        collab_json_key(out, "metadata");
        collab_col_raw(out, st, 4);
        collab_json_key(out, "online");
        collab_json_bool(out, collab_user_online(e, st, 0));
        collab_json_key(out, "createdAt");
        collab_json_time(out, sqlite3_column_int64(st, 5));
        collab_json_key(out, "updatedAt");
        collab_json_time(out, sqlite3_column_int64(st, 6));
        collab_json_obj_close(out);
    }

    sqlite3_reset(st);
    collab_json_arr_close(out);

    return rc == SQLITE_DONE && !out->failed ? 0 : -1;
}


/* the value, or nothing (out stays empty) when there is none */
int
collab_bindings_store_get(collab_exec_t *e, const char *store,
    size_t store_len, const char *key, size_t key_len, collab_json_t *out)
{
    int            rc;
    sqlite3_stmt  *st;

    if (e->room_id == NULL) {
        return 0;
    }

    st = collab_bindings_stmt(collab_sql_store_get, e);
    if (st == NULL) {
        return -1;
    }

    sqlite3_bind_text(st, 3, store, (int) store_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, key, (int) key_len, SQLITE_STATIC);

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        collab_col_raw(out, st, 0);
        rc = SQLITE_DONE;
    }

    sqlite3_reset(st);

    return rc == SQLITE_DONE && !out->failed ? 0 : -1;
}


/* {key: value, ...} of one store, by key */
int
collab_bindings_store_all(collab_exec_t *e, const char *store,
    size_t store_len, collab_json_t *out)
{
    int            rc;
    sqlite3_stmt  *st;

    collab_json_obj_open(out);

    if (e->room_id == NULL) {
        collab_json_obj_close(out);
        return 0;
    }

    st = collab_bindings_stmt(collab_sql_store_all, e);
    if (st == NULL) {
        return -1;
    }

    sqlite3_bind_text(st, 3, store, (int) store_len, SQLITE_STATIC);

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        collab_json_key(out, (const char *) sqlite3_column_text(st, 0));
        collab_col_raw(out, st, 1);
    }

    sqlite3_reset(st);
    collab_json_obj_close(out);

    return rc == SQLITE_DONE && !out->failed ? 0 : -1;
}


/* the files' metadata, by name, as GET .../files lists it */
int
collab_bindings_files(collab_exec_t *e, collab_json_t *out)
{
    int            rc;
    size_t         len;
    sqlite3_stmt  *st;
    char           etag[160];

    collab_json_arr_open(out);

    if (e->room_id == NULL) {
        collab_json_arr_close(out);
        return 0;
    }

    st = collab_bindings_stmt(collab_sql_files, e);
    if (st == NULL) {
        return -1;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        collab_json_obj_open(out);
        collab_json_key(out, "name");
        collab_col_str(out, st, 0);
        collab_json_key(out, "size");
        collab_json_int(out, sqlite3_column_int64(st, 2));
        collab_json_key(out, "contentType");
        collab_col_str(out, st, 3);

        /* the ETag nginx serves the file with: the blob id, quoted */
        len = (size_t) snprintf(etag, sizeof(etag), "\"%.*s\"",
                                (int) sqlite3_column_bytes(st, 1) > 150
                                ? 150 : sqlite3_column_bytes(st, 1),
                                (const char *) sqlite3_column_text(st, 1));
        collab_json_key(out, "etag");
        collab_json_str(out, (const unsigned char *) etag, len);

        collab_json_key(out, "uploadedAt");
        collab_json_time(out, sqlite3_column_int64(st, 4));
        collab_json_obj_close(out);
    }

    sqlite3_reset(st);
    collab_json_arr_close(out);

    return rc == SQLITE_DONE && !out->failed ? 0 : -1;
}
