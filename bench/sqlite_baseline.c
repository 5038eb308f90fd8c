/*
 * Copyright (C) collab
 *
 * The SQLite baseline of `make bench`: what SQLite alone can do with the
 * transaction that POST /v1/accounts/{acc}/rooms/{room}/users runs, on the
 * module's schema and pragmas, with no HTTP, JSON or nginx around it.
 *
 *   sqlite_baseline DB SECONDS PROCS
 *   sqlite_baseline --version      (of the SQLite library it runs with)
 *
 * creates DB afresh (the module's schema, one account, one room), then
 * runs PROCS processes at once, each with its own connection and its own
 * prepared statements, for SECONDS seconds, each iteration being
 *
 *   BEGIN IMMEDIATE;
 *   SELECT 1 FROM rooms WHERE account_id = ? AND id = ?;
 *   INSERT INTO users (...) VALUES (...) RETURNING <all columns>;
 *   INSERT INTO events (...) VALUES (...);
 *   COMMIT;
 *
 * and prints one line:
 *
 *   BASELINE procs=P seconds=S tx=N busy=B tps=T wal_bytes=W
 *
 * where tps is the sum over the processes of their own transactions/s and
 * W the size of the WAL file when the time was up.
 *
 * Build, with the module's migrations (ngx_collab_schema.c):
 *
 *   cc -O2 -I../ngx_collab_module/storage -o sqlite_baseline \
 *       sqlite_baseline.c ../ngx_collab_module/storage/ngx_collab_schema.c \
 *       -lsqlite3
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sqlite3.h>

#include "ngx_collab_schema.h"


/* identifiers shaped like the module's: acc_ + 22 base62, a UUID room */
static const char  account_id[] = "acc_7HcQb2mXw9LrT4kVn0sZpE";
static const char  room_id[] = "3f6c2a9e-41d7-4b8a-9c05-7e2d1f8a6b34";


static const char  sql_room_exists[] =
    "SELECT 1 FROM rooms WHERE account_id = ?1 AND id = ?2";

static const char  sql_user_insert[] =
    "INSERT INTO users (room_id, user_id, name, email, metadata,"
    " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
    " RETURNING seq, room_id, user_id, name, email, metadata,"
    " created_at, updated_at";

static const char  sql_event_insert[] =
    "INSERT INTO events (id, account_id, room_id, type, data, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";


static void
die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_baseline: %s: %s\n", what,
            db ? sqlite3_errmsg(db) : "failed");
    exit(1);
}


static double
now_mono(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int64_t
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * The module's busy handler waits for the other workers' write lock in
 * short steps and gives up after about two seconds: do the same.
 */
static int
on_busy(void *data, int count)
{
    (void) data;

    if (count >= 2000) {
        return 0;
    }

    usleep(count < 10 ? 0 : 1000);
    return 1;
}


static sqlite3 *
open_db(const char *path, int create)
{
    int       flags;
    sqlite3  *db;

    flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (create) {
        flags |= SQLITE_OPEN_CREATE;
    }

    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        die(db, path);
    }

    sqlite3_busy_handler(db, on_busy, NULL);
    sqlite3_extended_result_codes(db, 1);

    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
                         "PRAGMA foreign_keys = ON;"
                         "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL)
        != SQLITE_OK)
    {
        die(db, "pragmas");
    }

    return db;
}


static void
create_db(const char *path)
{
    char      name[4096];
    char     *sql;
    size_t    i;
    sqlite3  *db;

    unlink(path);
    snprintf(name, sizeof(name), "%s-wal", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", path);
    unlink(name);

    db = open_db(path, 1);

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        die(db, "begin");
    }

    /* the module's own migrations, as ngx_collab_db_prepare() runs them */
    for (i = 0; i < ngx_collab_nmigrations; i++) {
        if (sqlite3_exec(db, ngx_collab_migrations[i], NULL, NULL, NULL)
            != SQLITE_OK)
        {
            die(db, "schema");
        }
    }

    sql = sqlite3_mprintf("PRAGMA user_version = %d;",
                          (int) ngx_collab_nmigrations);

    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        die(db, "schema version");
    }

    sqlite3_free(sql);

    sql = sqlite3_mprintf(
        "INSERT INTO accounts (id, name, created_at)"
        " VALUES (%Q, 'bench', %lld);"
        "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
        " updated_at) VALUES (%Q, %Q, 'bench', '{}', %lld, %lld);"
        "COMMIT;",
        account_id, (long long) now_ms(), room_id, account_id,
        (long long) now_ms(), (long long) now_ms());

    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        die(db, "account and room");
    }

    sqlite3_free(sql);
    sqlite3_close(db);
}


/* xorshift64*: cheap random identifiers, so that index inserts land
 * anywhere in the index as the module's random ids do */
static uint64_t  rng;

static void
random_id(char *out, const char *prefix, size_t n)
{
    static const char  b62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t             plen, i;

    plen = strlen(prefix);
    memcpy(out, prefix, plen);

    for (i = 0; i < n; i++) {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        out[plen + i] = b62[((rng * 0x2545F4914F6CDD1DULL) >> 58) % 62];
    }

    out[plen + n] = '\0';
}


/* one process: returns by its pipe "<transactions> <busy> <seconds>
 * <WAL bytes at the end>" */
static void
worker(const char *path, int id, double seconds, int go, int out)
{
    int            rc, i;
    char           c, user[64], evt[64], data[256], line[128];
    size_t         sink;
    int64_t        n, busy, ts, wal;
    double         start, end, t;
    struct stat    sb;
    sqlite3       *db;
    sqlite3_stmt  *begin, *exists, *user_ins, *event_ins, *commit, *rollback;

    rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t) getpid() << 20) ^ (uint64_t) id;

    db = open_db(path, 0);

    if (sqlite3_prepare_v3(db, "BEGIN IMMEDIATE", -1,
                           SQLITE_PREPARE_PERSISTENT, &begin, NULL)
        || sqlite3_prepare_v3(db, sql_room_exists, -1,
                              SQLITE_PREPARE_PERSISTENT, &exists, NULL)
        || sqlite3_prepare_v3(db, sql_user_insert, -1,
                              SQLITE_PREPARE_PERSISTENT, &user_ins, NULL)
        || sqlite3_prepare_v3(db, sql_event_insert, -1,
                              SQLITE_PREPARE_PERSISTENT, &event_ins, NULL)
        || sqlite3_prepare_v3(db, "COMMIT", -1,
                              SQLITE_PREPARE_PERSISTENT, &commit, NULL)
        || sqlite3_prepare_v3(db, "ROLLBACK", -1,
                              SQLITE_PREPARE_PERSISTENT, &rollback, NULL))
    {
        die(db, "prepare");
    }

    /* wait until every process is ready */
    if (read(go, &c, 1) < 0) {
        exit(1);
    }

    n = 0;
    busy = 0;
    sink = 0;
    start = now_mono();
    end = start + seconds;

    for (t = start; t < end; t = now_mono()) {

        rc = sqlite3_step(begin);
        sqlite3_reset(begin);

        if (rc != SQLITE_DONE) {
            if ((rc & 0xff) == SQLITE_BUSY) {
                busy++;
                continue;
            }
            die(db, "begin");
        }

        /* the room of the path exists in the account of the path */
        sqlite3_bind_text(exists, 1, account_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(exists, 2, room_id, -1, SQLITE_STATIC);

        if (sqlite3_step(exists) != SQLITE_ROW) {
            die(db, "room lookup");
        }

        sqlite3_reset(exists);

        /* the user: ids like the wrk script's, one per iteration */
        snprintf(user, sizeof(user), "r1-t%d-%" PRId64, id, n + 1);
        ts = now_ms();

        sqlite3_bind_text(user_ins, 1, room_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(user_ins, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(user_ins, 3, "Bench User", -1, SQLITE_STATIC);
        sqlite3_bind_null(user_ins, 4);
        sqlite3_bind_text(user_ins, 5, "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int64(user_ins, 6, ts);

        if (sqlite3_step(user_ins) != SQLITE_ROW) {
            die(db, "user insert");
        }

        /* read every column back, as the module does to answer */
        sink += (size_t) sqlite3_column_int64(user_ins, 0);
        for (i = 1; i < 8; i++) {
            if (sqlite3_column_type(user_ins, i) != SQLITE_NULL) {
                sink += (size_t) sqlite3_column_bytes(user_ins, i);
                sink += (size_t) *sqlite3_column_text(user_ins, i);
            }
        }

        if (sqlite3_step(user_ins) != SQLITE_DONE) {
            die(db, "user insert (done)");
        }

        sqlite3_reset(user_ins);

        /* the user.created event, with its JSON data */
        random_id(evt, "evt_", 22);
        snprintf(data, sizeof(data), "{\"userId\":\"%s\",\"roomId\":\"%s\"}",
                 user, room_id);

        sqlite3_bind_text(event_ins, 1, evt, -1, SQLITE_STATIC);
        sqlite3_bind_text(event_ins, 2, account_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(event_ins, 3, room_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(event_ins, 4, "user.created", -1, SQLITE_STATIC);
        sqlite3_bind_text(event_ins, 5, data, -1, SQLITE_STATIC);
        sqlite3_bind_int64(event_ins, 6, ts);

        if (sqlite3_step(event_ins) != SQLITE_DONE) {
            die(db, "event insert");
        }

        sqlite3_reset(event_ins);

        rc = sqlite3_step(commit);
        sqlite3_reset(commit);

        if (rc != SQLITE_DONE) {
            if ((rc & 0xff) == SQLITE_BUSY) {
                busy++;
                sqlite3_step(rollback);
                sqlite3_reset(rollback);
                continue;
            }
            die(db, "commit");
        }

        n++;
    }

    /* how far the WAL grew: checkpoints keep it small unless something
     * stops them */
    snprintf(evt, sizeof(evt), "%s-wal", path);
    wal = stat(evt, &sb) == 0 ? (int64_t) sb.st_size : -1;

    snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 " %.6f %" PRId64
             " %zu\n", n, busy, t - start, wal, sink & 1);

    if (write(out, line, strlen(line)) < 0) {
        exit(1);
    }

    sqlite3_finalize(begin);
    sqlite3_finalize(exists);
    sqlite3_finalize(user_ins);
    sqlite3_finalize(event_ins);
    sqlite3_finalize(commit);
    sqlite3_finalize(rollback);
    sqlite3_close(db);

    exit(0);
}


int
main(int argc, char **argv)
{
    int      i, procs, go[2], out[2], status;
    char     buf[4096];
    FILE    *f;
    double   seconds, secs, tps;
    int64_t  n, busy, total, total_busy, wal, max_wal;

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s\n", sqlite3_libversion());
        return 0;
    }

    if (argc != 4) {
        fprintf(stderr, "usage: %s DB SECONDS PROCS\n", argv[0]);
        return 2;
    }

    seconds = atof(argv[2]);
    procs = atoi(argv[3]);

    if (seconds <= 0 || procs < 1 || procs > 64) {
        fprintf(stderr, "sqlite_baseline: bad SECONDS or PROCS\n");
        return 2;
    }

    create_db(argv[1]);

    if (pipe(go) != 0 || pipe(out) != 0) {
        perror("pipe");
        return 1;
    }

    for (i = 0; i < procs; i++) {
        switch (fork()) {
        case -1:
            perror("fork");
            return 1;

        case 0:
            close(go[1]);
            close(out[0]);
            worker(argv[1], i + 1, seconds, go[0], out[1]);
            /* not reached */
        }
    }

    close(go[0]);
    close(out[1]);

    /* give the processes a moment to open and prepare, then start them
     * all at once: closing the pipe ends their read() */
    usleep(100000);
    close(go[1]);

    f = fdopen(out[0], "r");
    if (f == NULL) {
        perror("fdopen");
        return 1;
    }

    total = 0;
    total_busy = 0;
    max_wal = 0;
    tps = 0;

    while (fgets(buf, sizeof(buf), f)) {
        if (sscanf(buf, "%" SCNd64 " %" SCNd64 " %lf %" SCNd64, &n, &busy,
                   &secs, &wal)
            != 4 || secs <= 0)
        {
            continue;
        }

        if (wal > max_wal) {
            max_wal = wal;
        }

        total += n;
        total_busy += busy;
        tps += n / secs;
    }

    status = 0;
    for (i = 0; i < procs; i++) {
        int  st;

        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            status = 1;
        }
    }

    if (status != 0) {
        fprintf(stderr, "sqlite_baseline: a process failed\n");
        return 1;
    }

    printf("BASELINE procs=%d seconds=%.1f tx=%" PRId64 " busy=%" PRId64
           " tps=%.0f wal_bytes=%" PRId64 "\n", procs, seconds, total,
           total_busy, tps, max_wal);

    return 0;
}
