/*
 * Copyright (C) collab
 *
 * SQLite, the durable truth: the master creates the file and runs the
 * numbered migrations before the workers start; every worker then opens its
 * own connection in init_process (a handle never crosses fork).  Statements
 * are prepared once per worker and cached by the address of their SQL text.
 */

#include "ngx_collab.h"
#include "ngx_collab_schema.h"


#define COLLAB_STMT_CACHE  96
#define COLLAB_WAL_RESTART 4096         /* pages in the log: 16 MiB */
#define COLLAB_BUSY_THREAD_MS  2000
#define COLLAB_BUSY_LOOP_YIELDS  64


typedef struct {
    const char      *sql;
    sqlite3_stmt    *stmt;
    ngx_uint_t       used;
} ngx_collab_stmt_t;


/*
 * A connection and its statements.  A worker has one for the event loop
 * (reads) and one for its storage thread (the works of the store); each
 * is used by one thread at a time, and the statement helpers act on the
 * connection of the thread that calls them.
 */
struct ngx_collab_conn_s {
    sqlite3            *db;
    ngx_log_t          *log;
    ngx_collab_stmt_t   stmts[COLLAB_STMT_CACHE];
    ngx_uint_t          nstmts;
    ngx_uint_t          batch;      /* inside a group of works */
    ngx_uint_t          rolled;     /* the current work asked to roll back */
};


static ngx_collab_conn_t             ngx_collab_loop_conn;
/*
 * The event loop's thread uses the loop's connection; the one storage
 * thread that runs this worker's group of works uses the store's (set by
 * ngx_collab_db_use()).  No thread-local storage: nginx unloads the module
 * before a process ends, with its thread-local blocks.
 */
static ngx_collab_conn_t            *ngx_collab_thread_conn;
static pthread_t                     ngx_collab_loop_thread;
static ngx_uint_t                    ngx_collab_loop_set;

#define ngx_collab_conn  ngx_collab_db_current()


static ngx_inline ngx_collab_conn_t *
ngx_collab_db_current(void)
{
    if (ngx_collab_loop_set
        && pthread_equal(pthread_self(), ngx_collab_loop_thread))
    {
        return ngx_collab_loop_conn.db ? &ngx_collab_loop_conn : NULL;
    }

    return ngx_collab_thread_conn;
}
static u_char                        ngx_collab_secret[32];


/*
 * The master's connection (migrations at start): it may sleep.  Writers in
 * the workers hold the lock for milliseconds; it gives up after two
 * seconds of real time.
 */
static int
ngx_collab_db_busy(void *data, int count)
{
    static struct timespec  start;
    struct timespec         now;

    clock_gettime(CLOCK_MONOTONIC, &now);

    if (count == 0) {
        start = now;

    } else if ((now.tv_sec - start.tv_sec) * 1000
               + (now.tv_nsec - start.tv_nsec) / 1000000 >= 2000)
    {
        return 0;
    }

    usleep(count < 10 ? 100 : 1000);

    return 1;
}


/*
 * The event loop's connection only reads, and in WAL mode a reader waits
 * for nobody but a moment of the log's reset; it yields the processor a
 * few times and then gives up (503) rather than sleep on the event loop.
 */
static int
ngx_collab_db_busy_loop(void *data, int count)
{
    if (count == 0) {
        ngx_collab_metrics_inc(COLLAB_M_BUSY_LOOP, 1);
    }

    if (count >= COLLAB_BUSY_LOOP_YIELDS) {
        ngx_collab_metrics_inc(COLLAB_M_BUSY_TIMEOUT_LOOP, 1);
        return 0;
    }

    sched_yield();

    return 1;
}


/*
 * A storage thread's connection: it may sleep, nobody else waits on this
 * thread but the works of its group.  It gives up after two seconds: the
 * lock is then held by something outside collab (groups of the other
 * workers hold it for milliseconds), and the group fails with 503.
 */
static int
ngx_collab_db_busy_thread(void *data, int count)
{
    static struct timespec  start;     /* one storage thread at a time */
    struct timespec         now;

    clock_gettime(CLOCK_MONOTONIC, &now);

    if (count == 0) {
        start = now;
        ngx_collab_metrics_inc(COLLAB_M_BUSY_THREAD, 1);

    } else if ((now.tv_sec - start.tv_sec) * 1000
               + (now.tv_nsec - start.tv_nsec) / 1000000
               >= COLLAB_BUSY_THREAD_MS)
    {
        ngx_collab_metrics_inc(COLLAB_M_BUSY_TIMEOUT_THREAD, 1);
        return 0;
    }

    if (count < 20) {
        sched_yield();

    } else {
        usleep(count < 100 ? 100 : 1000);
    }

    return 1;
}


/* a connection of a storage thread waits for the lock in that thread */
void
ngx_collab_db_wait(ngx_collab_conn_t *c)
{
    sqlite3_busy_handler(c->db, ngx_collab_db_busy_thread, NULL);
}


size_t
ngx_collab_db_conn_size(void)
{
    return sizeof(ngx_collab_conn_t);
}


static ngx_int_t
ngx_collab_db_exec(sqlite3 *db, const char *sql, ngx_log_t *log)
{
    int    rc;
    char  *msg;

    msg = NULL;
    rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "collab: sqlite: %s",
                      msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_collab_db_pragmas(sqlite3 *db, ngx_log_t *log)
{
    sqlite3_busy_handler(db, ngx_collab_db_busy, NULL);
    sqlite3_extended_result_codes(db, 1);

    return ngx_collab_db_exec(db, "PRAGMA foreign_keys = ON;"
                                  "PRAGMA synchronous = NORMAL;"
                                  "PRAGMA journal_size_limit = 67108864;"
                                  "PRAGMA wal_autocheckpoint = 0;",
                                  log);
}


sqlite3 *
ngx_collab_db_open_master(ngx_str_t *path, ngx_log_t *log)
{
    int       rc;
    sqlite3  *db;

    rc = sqlite3_open_v2((char *) path->data, &db,
                         SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                         |SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "collab: cannot open database \"%V\": %s",
                      path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }

    if (ngx_collab_db_pragmas(db, log) != NGX_OK) {
        sqlite3_close(db);
        return NULL;
    }

    return db;
}


/* hands a file the master created over to the worker user */
void
ngx_collab_db_chown(ngx_cycle_t *cycle, ngx_str_t *path, const char *suffix)
{
    u_char            name[NGX_MAX_PATH];
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return;
    }

    ngx_snprintf(name, sizeof(name) - 1, "%V%s%Z", path, suffix);

    if (chown((char *) name, ccf->user, ccf->group) == -1
        && ngx_errno != NGX_ENOENT)
    {
        ngx_log_error(NGX_LOG_WARN, cycle->log, ngx_errno,
                      "collab: chown(\"%s\") failed", name);
    }
}


/*
 * Runs in the master at start and on every reload: creates the database
 * (and its folder) for the worker user, switches it to WAL and brings the
 * schema up to date.
 */
ngx_int_t
ngx_collab_db_prepare(ngx_cycle_t *cycle, ngx_str_t *path, ngx_log_t *log)
{
    int           version, n;
    u_char       *p;
    sqlite3      *db;
    ngx_str_t     dir;
    sqlite3_stmt *st;
    u_char        sql[64];

    p = (u_char *) ngx_strlchr(path->data, path->data + path->len, '/');

    for (dir.data = path->data, dir.len = 0; p; ) {
        dir.len = p - path->data;
        p = ngx_strlchr(p + 1, path->data + path->len, '/');
    }

    if (dir.len > 0) {
        u_char  d[NGX_MAX_PATH];

        ngx_snprintf(d, sizeof(d) - 1, "%V%Z", &dir);

        if (ngx_create_dir(d, 0700) == NGX_FILE_ERROR) {
            if (ngx_errno != NGX_EEXIST) {
                ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                              "collab: cannot create \"%s\"", d);
                return NGX_ERROR;
            }

        } else {
            dir.len = ngx_strlen(d);
            dir.data = d;
            ngx_collab_db_chown(cycle, &dir, "");
        }
    }

    db = ngx_collab_db_open_master(path, log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    if (ngx_collab_db_exec(db, "PRAGMA journal_mode = WAL;", log) != NGX_OK) {
        goto failed;
    }

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL)
        != SQLITE_OK)
    {
        goto failed;
    }

    version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);

    n = (int) ngx_collab_nmigrations;

    if (version < 0 || version > n) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "collab: database \"%V\" has schema version %d, "
                      "this module knows up to %d", path, version, n);
        goto failed;
    }

    for ( /* void */ ; version < n; version++) {
        ngx_snprintf(sql, sizeof(sql) - 1, "PRAGMA user_version = %d;%Z",
                     version + 1);

        if (ngx_collab_db_exec(db, "BEGIN IMMEDIATE", log) != NGX_OK) {
            goto failed;
        }

        if (ngx_collab_db_exec(db, ngx_collab_migrations[version], log)
            != NGX_OK
            || ngx_collab_db_exec(db, (char *) sql, log) != NGX_OK
            || ngx_collab_db_exec(db, "COMMIT", log) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "collab: migration %d of \"%V\" failed",
                          version + 1, path);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto failed;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "collab: database \"%V\" migrated to version %d",
                      path, version + 1);
    }

    sqlite3_close(db);

    ngx_collab_db_chown(cycle, path, "");
    ngx_collab_db_chown(cycle, path, "-wal");
    ngx_collab_db_chown(cycle, path, "-shm");

    return NGX_OK;

failed:

    sqlite3_close(db);
    return NGX_ERROR;
}


/*
 * Opens a connection of this worker: the event loop's (conn == NULL) or
 * one that a storage thread will own.  The first one also reads the
 * database's cursor secret.
 */
ngx_collab_conn_t *
ngx_collab_db_connect(ngx_cycle_t *cycle, ngx_str_t *path,
    ngx_collab_conn_t *conn)
{
    int            rc;
    sqlite3       *db;
    sqlite3_stmt  *st;

    if (conn == NULL) {
        conn = &ngx_collab_loop_conn;
        ngx_collab_loop_thread = pthread_self();
        ngx_collab_loop_set = 1;
    }

    ngx_memzero(conn, sizeof(ngx_collab_conn_t));
    conn->log = cycle->log;

    rc = sqlite3_open_v2((char *) path->data, &db,
                         SQLITE_OPEN_READWRITE|SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "collab: cannot open database \"%V\": %s", path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto failed;
    }

    if (ngx_collab_db_pragmas(db, cycle->log) != NGX_OK) {
        goto failed;
    }

    /* a storage thread's connection gets its own by ngx_collab_db_wait() */
    sqlite3_busy_handler(db, ngx_collab_db_busy_loop, NULL);

    rc = sqlite3_prepare_v2(db, "SELECT value FROM meta"
                                " WHERE name = 'cursor_secret'", -1, &st,
                            NULL);

    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW
        || sqlite3_column_bytes(st, 0) != 32)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "collab: database \"%V\" is not initialized", path);
        sqlite3_finalize(st);
        goto failed;
    }

    ngx_memcpy(ngx_collab_secret, sqlite3_column_blob(st, 0), 32);
    sqlite3_finalize(st);

    conn->db = db;

    return conn;

failed:

    sqlite3_close(db);
    return NULL;
}


ngx_int_t
ngx_collab_db_open(ngx_cycle_t *cycle, ngx_str_t *path)
{
    return ngx_collab_db_connect(cycle, path, NULL) ? NGX_OK : NGX_ERROR;
}


void
ngx_collab_db_disconnect(ngx_collab_conn_t *conn)
{
    ngx_uint_t  i;

    for (i = 0; i < conn->nstmts; i++) {
        sqlite3_finalize(conn->stmts[i].stmt);
    }

    conn->nstmts = 0;

    if (conn->db) {
        sqlite3_close(conn->db);
        conn->db = NULL;
    }
}


void
ngx_collab_db_close(void)
{
    ngx_collab_db_disconnect(&ngx_collab_loop_conn);
}


/* makes conn the connection of the calling thread; returns the last one */
ngx_collab_conn_t *
ngx_collab_db_use(ngx_collab_conn_t *conn)
{
    ngx_collab_conn_t  *last;

    last = ngx_collab_thread_conn;
    ngx_collab_thread_conn = conn;

    return last;
}


sqlite3 *
ngx_collab_db_handle(void)
{
    return ngx_collab_conn ? ngx_collab_conn->db : NULL;
}


const u_char *
ngx_collab_db_secret(void)
{
    return ngx_collab_secret;
}


/*
 * A write outside an explicit transaction must not find a read of the
 * same request still open: upgrading that read snapshot to a write fails
 * at once (SQLITE_BUSY_SNAPSHOT, no busy wait) when another worker wrote
 * meanwhile.  So every statement in use is reset before such a write.
 */
static void
ngx_collab_db_before(ngx_collab_conn_t *c, sqlite3_stmt *st)
{
    if (sqlite3_stmt_readonly(st) || !sqlite3_get_autocommit(c->db)) {
        return;
    }

    ngx_collab_db_reset(c);
}


/* resets every statement in use, so that no read snapshot stays open */
void
ngx_collab_db_reset(ngx_collab_conn_t *c)
{
    ngx_uint_t  i;

    for (i = 0; i < c->nstmts; i++) {
        if (c->stmts[i].used) {
            sqlite3_reset(c->stmts[i].stmt);
        }
    }
}


/*
 * The statement for this SQL text, reset and with no bindings.  Every
 * statement handed out during a request is reset again by
 * ngx_collab_db_release() when the request's handler returns, so that no
 * read snapshot outlives the request.
 */
sqlite3_stmt *
ngx_collab_db_stmt(const char *sql)
{
    int                 rc;
    ngx_uint_t          i;
    ngx_collab_conn_t  *c;
    ngx_collab_stmt_t  *s;

    c = ngx_collab_conn;

    if (c == NULL || c->db == NULL) {
        return NULL;
    }

    for (i = 0; i < c->nstmts; i++) {
        s = &c->stmts[i];

        if (s->sql == sql) {
            sqlite3_reset(s->stmt);
            sqlite3_clear_bindings(s->stmt);
            ngx_collab_db_before(c, s->stmt);
            s->used = 1;
            return s->stmt;
        }
    }

    if (c->nstmts == COLLAB_STMT_CACHE) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "collab: statement cache is full");
        return NULL;
    }

    s = &c->stmts[c->nstmts];

    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                            &s->stmt, NULL);
    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "collab: sqlite prepare failed: %s",
                      sqlite3_errmsg(c->db));
        return NULL;
    }

    ngx_collab_db_before(c, s->stmt);

    s->sql = sql;
    s->used = 1;
    c->nstmts++;

    return s->stmt;
}


void
ngx_collab_db_release(void)
{
    ngx_uint_t          i;
    ngx_collab_conn_t  *c;

    c = ngx_collab_conn;

    if (c == NULL) {
        return;
    }

    for (i = 0; i < c->nstmts; i++) {
        if (c->stmts[i].used) {
            sqlite3_reset(c->stmts[i].stmt);
            c->stmts[i].used = 0;
        }
    }

    if (c->db && !c->batch && !sqlite3_get_autocommit(c->db)) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "collab: transaction left open, rolled back");
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
}


/*
 * Inside a group of works the transaction and each work's savepoint are
 * the store's: a handler's begin and commit are then no-ops, and its
 * rollback marks the work to be rolled back to its savepoint.
 */
ngx_int_t
ngx_collab_db_begin(void)
{
    sqlite3_stmt  *st;

    if (ngx_collab_conn && ngx_collab_conn->batch) {
        return SQLITE_OK;
    }

    st = ngx_collab_db_stmt("BEGIN IMMEDIATE");
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    return sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK
                                           : sqlite3_errcode(ngx_collab_conn->db);
}


ngx_int_t
ngx_collab_db_commit(void)
{
    int                 rc;
    sqlite3_stmt       *st;
    ngx_collab_conn_t  *c;

    c = ngx_collab_conn;

    if (c && c->batch) {
        return c->rolled ? SQLITE_ABORT : SQLITE_OK;
    }

    /*
     * A statement stepped to a row and not reset keeps a read transaction
     * open after COMMIT, and then no checkpoint can ever finish: the
     * write-ahead log would grow without bound.
     */
    ngx_collab_db_reset(c);

    st = ngx_collab_db_stmt("COMMIT");
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return SQLITE_OK;
    }

    rc = sqlite3_errcode(c->db);
    ngx_collab_db_rollback();

    return rc;
}


void
ngx_collab_db_rollback(void)
{
    ngx_collab_conn_t  *c;

    c = ngx_collab_conn;

    if (c == NULL) {
        return;
    }

    if (c->batch) {
        c->rolled = 1;
        return;
    }

    if (c->db && !sqlite3_get_autocommit(c->db)) {
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
}


/* for the store: marks the connection as running a group of works */
void
ngx_collab_db_batch(ngx_collab_conn_t *c, ngx_uint_t on)
{
    c->batch = on;
    c->rolled = 0;
}


ngx_uint_t
ngx_collab_db_rolled(ngx_collab_conn_t *c)
{
    ngx_uint_t  rolled;

    rolled = c->rolled;
    c->rolled = 0;

    return rolled;
}


sqlite3 *
ngx_collab_db_conn_handle(ngx_collab_conn_t *c)
{
    return c->db;
}


/* the HTTP status a failed SQLite call answers with */
ngx_int_t
ngx_collab_db_status(int rc)
{
    switch (rc & 0xff) {

    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


void
ngx_collab_db_log(ngx_log_t *log, int rc, const char *what)
{
    sqlite3  *db;

    db = ngx_collab_db_handle();

    ngx_log_error(NGX_LOG_ERR, log, 0, "collab: %s: sqlite: %s (%d)", what,
                  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
}


ngx_int_t
ngx_collab_db_bind_str(sqlite3_stmt *st, int i, ngx_str_t *s)
{
    if (s == NULL || s->data == NULL) {
        return sqlite3_bind_null(st, i);
    }

    return sqlite3_bind_text(st, i, (char *) s->data, (int) s->len,
                             SQLITE_STATIC);
}


ngx_int_t
ngx_collab_db_bind_cstr(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}


void
ngx_collab_db_col(sqlite3_stmt *st, int i, ngx_str_t *s)
{
    s->data = (u_char *) sqlite3_column_text(st, i);
    s->len = sqlite3_column_bytes(st, i);
}


/* a copy of a text column in the pool, NUL-ended; {0, NULL} for NULL */
ngx_int_t
ngx_collab_db_dup(ngx_pool_t *pool, sqlite3_stmt *st, int col, ngx_str_t *dst)
{
    ngx_str_t  s;

    dst->data = NULL;
    dst->len = 0;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return NGX_OK;
    }

    ngx_collab_db_col(st, col, &s);

    dst->data = ngx_pnalloc(pool, s.len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, s.data, s.len);
    dst->data[s.len] = '\0';
    dst->len = s.len;

    return NGX_OK;
}
