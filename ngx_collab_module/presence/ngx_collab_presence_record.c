/*
 * Copyright (C) collab
 *
 * The recorder: writes the transitions of the presence table to the
 * database, in the order they were decided, through the store.  One worker
 * records at a time (it claims the head of the queue in the zone); a
 * claim is one work, so a batch of events commits together with their
 * deliveries, and the next batch is claimed only once this one is done.
 * Each transition also keeps the sessions and participants tables.
 *
 * A recorder that dies leaves its claim in the zone; the worker that
 * finds it gone claims the same records again, and the events already
 * committed (known by their ids, chosen when the transition was decided)
 * are skipped.
 *
 * The first batch of a new zone closes what the database holds as open:
 * the sessions and participants of the nginx that ran before.
 */

#include "ngx_collab.h"
#include "ngx_collab_store.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_RECORD_BATCH   256
#define COLLAB_RECORD_RETRY   1000      /* ms after a failed batch */

/*
 * After this many failed batches in a row, records go one at a time; a
 * record that fails alone this many times for a reason other than a busy
 * or full database is given up, so that one bad record cannot hold the
 * others back for ever.
 */
#define COLLAB_RECORD_TRIES   3


static ngx_int_t ngx_collab_record_work(ngx_collab_work_t *w);
static void ngx_collab_record_done(ngx_collab_work_t *w);
static void ngx_collab_record_retry(ngx_event_t *ev);
static ngx_uint_t ngx_collab_record_anything_open(void);


static const char  ngx_collab_sql_event_exists[] =
    "SELECT 1 FROM events WHERE id = ?1";

static const char  ngx_collab_sql_session_start[] =
    "INSERT INTO sessions (id, account_id, room_id, started_at, peak)"
    " SELECT ?1, ?2, ?3, ?4, 1 WHERE EXISTS"
    " (SELECT 1 FROM rooms WHERE id = ?3)";

static const char  ngx_collab_sql_session_peak[] =
    "UPDATE sessions SET peak = max(peak, ?2) WHERE id = ?1";

static const char  ngx_collab_sql_session_close[] =
    "UPDATE sessions SET closed_at = ?2, peak = max(peak, ?3) WHERE id = ?1";

static const char  ngx_collab_sql_participant_join[] =
    "INSERT OR REPLACE INTO participants"
    " (room_id, user_id, account_id, session_id, since)"
    " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS"
    " (SELECT 1 FROM rooms WHERE id = ?1)";

static const char  ngx_collab_sql_participant_leave[] =
    "DELETE FROM participants WHERE room_id = ?1 AND user_id = ?2";

static const char  ngx_collab_sql_anything_open[] =
    "SELECT EXISTS (SELECT 1 FROM sessions WHERE closed_at IS NULL)"
    " OR EXISTS (SELECT 1 FROM participants)";

static const char  ngx_collab_sql_open_sessions[] =
    "SELECT id, account_id, room_id, started_at FROM sessions"
    " WHERE closed_at IS NULL ORDER BY seq";

static const char  ngx_collab_sql_session_participants[] =
    "SELECT user_id FROM participants WHERE session_id = ?1 ORDER BY since";

static const char  ngx_collab_sql_session_forget[] =
    "DELETE FROM participants WHERE session_id = ?1";

static const char  ngx_collab_sql_participants_clear[] =
    "DELETE FROM participants";

static const char  ngx_collab_sql_revocation[] =
    "INSERT OR REPLACE INTO token_revocations (room_id, user_id, revoked_at)"
    " VALUES (?1, ?2, ?3)";


static struct {
    ngx_collab_work_t           work;
    u_char                     *recs;
    ngx_uint_t                  n;
    ngx_uint_t                  reconcile;
    int64_t                     now;
    ngx_uint_t                  busy;
    ngx_uint_t                  failures;   /* batches in a row */
    ngx_event_t                 retry;
    ngx_log_t                  *log;
    ngx_collab_recorded_pt      published;
} ngx_collab_recorder;


/*
 * published: told once a batch is committed (or a record given up) and
 * its joins and leaves are in the ring; the worker makes it the streams'
 * wake-up.
 */
ngx_int_t
ngx_collab_presence_record_init(ngx_cycle_t *cycle,
    ngx_collab_recorded_pt published)
{
    ngx_collab_recorder.log = cycle->log;
    ngx_collab_recorder.published = published;

    ngx_collab_recorder.recs = ngx_palloc(cycle->pool,
                                          COLLAB_RECORD_BATCH
                                          * COLLAB_PRESENCE_REC_SIZE);
    if (ngx_collab_recorder.recs == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_recorder.work.handler = ngx_collab_record_work;
    ngx_collab_recorder.work.done = ngx_collab_record_done;
    ngx_collab_recorder.work.log = cycle->log;

    ngx_collab_recorder.retry.handler = ngx_collab_record_retry;
    ngx_collab_recorder.retry.log = cycle->log;
    ngx_collab_recorder.retry.data = cycle;
    ngx_collab_recorder.retry.cancelable = 1;
    ngx_collab_recorder.failures = 0;

    return NGX_OK;
}


void
ngx_collab_presence_record_exit(void)
{
    if (ngx_collab_recorder.retry.timer_set) {
        ngx_del_timer(&ngx_collab_recorder.retry);
    }
}


/*
 * Starts a batch if there are transitions to record and no worker is at
 * it; called after every change that decided some, and from the timer.
 */
void
ngx_collab_presence_record(void)
{
    if (ngx_collab_recorder.busy || ngx_collab_recorder.recs == NULL
        || ngx_exiting || ngx_terminate || ngx_quit)
    {
        return;
    }

    for ( ;; ) {
        if (ngx_collab_presence_claim(ngx_collab_recorder.recs,
                                      ngx_collab_recorder.failures
                                      >= COLLAB_RECORD_TRIES
                                      ? 1 : COLLAB_RECORD_BATCH,
                                      &ngx_collab_recorder.n,
                                      &ngx_collab_recorder.reconcile)
            != NGX_OK)
        {
            return;
        }

        if (!ngx_collab_recorder.reconcile
            || ngx_collab_record_anything_open())
        {
            break;
        }

        ngx_collab_presence_claimed(0, 1);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_collab_recorder.log, 0,
                   "collab presence: recording %ui transitions%s",
                   ngx_collab_recorder.n,
                   ngx_collab_recorder.reconcile ? " after the start-up"
                                                   " reconciliation" : "");

    ngx_collab_recorder.busy = 1;
    ngx_collab_recorder.now = collab_now_ms();

    if (ngx_collab_store_post(&ngx_collab_recorder.work) != NGX_OK) {
        ngx_collab_recorder.busy = 0;
        ngx_collab_presence_unclaim();

        if (!ngx_collab_recorder.retry.timer_set) {
            ngx_add_timer(&ngx_collab_recorder.retry, COLLAB_RECORD_RETRY);
        }
    }
}


static void
ngx_collab_record_retry(ngx_event_t *ev)
{
    ngx_collab_presence_record();
}


/* in a storage thread: an event with its id, data and deliveries */
static int
ngx_collab_record_event(ngx_str_t *id, ngx_str_t *account, ngx_str_t *room,
    ngx_collab_presence_rec_t *rec, int64_t at)
{
    int            rc;
    collab_json_t  data;

    collab_json_init(&data);
    ngx_collab_presence_event_data(&data, rec);

    rc = ngx_collab_event_record_id(id, account, room, rec->type, &data, at);

    collab_json_free(&data);

    return rc;
}


static int
ngx_collab_record_one(ngx_collab_presence_rec_t *rec)
{
    int            rc;
    ngx_str_t      id, account, room, user, session;
    sqlite3_stmt  *st;

    id.data = rec->event_id;
    id.len = COLLAB_PRESENCE_EVENT_ID;
    account.data = rec->account;
    account.len = rec->account_len;
    room.data = rec->room;
    room.len = COLLAB_UUID_LEN;
    user.data = rec->user;
    user.len = rec->user_len;
    session.data = rec->session;
    session.len = COLLAB_PRESENCE_SESSION_ID;

    /* claimed before: recorded already, by a worker that died after it? */
    if (rec->claims > 1) {
        st = ngx_collab_db_stmt(ngx_collab_sql_event_exists);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &id);

        rc = sqlite3_step(st);

        if (rc == SQLITE_ROW) {
            return SQLITE_OK;
        }

        if (rc != SQLITE_DONE) {
            return rc;
        }
    }

    switch (rec->type) {

    case COLLAB_EVENT_SESSION_STARTED:
        st = ngx_collab_db_stmt(ngx_collab_sql_session_start);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &session);
        ngx_collab_db_bind_str(st, 2, &account);
        ngx_collab_db_bind_str(st, 3, &room);
        sqlite3_bind_int64(st, 4, rec->at);
        break;

    case COLLAB_EVENT_PARTICIPANT_JOINED:
        st = ngx_collab_db_stmt(ngx_collab_sql_participant_join);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &room);
        ngx_collab_db_bind_str(st, 2, &user);
        ngx_collab_db_bind_str(st, 3, &account);
        ngx_collab_db_bind_str(st, 4, &session);
        sqlite3_bind_int64(st, 5, rec->at);

        if (rec->peak <= 1) {
            break;
        }

        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            return rc;
        }

        st = ngx_collab_db_stmt(ngx_collab_sql_session_peak);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &session);
        sqlite3_bind_int64(st, 2, rec->peak);
        break;

    case COLLAB_EVENT_PARTICIPANT_LEFT:
        st = ngx_collab_db_stmt(ngx_collab_sql_participant_leave);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &room);
        ngx_collab_db_bind_str(st, 2, &user);
        break;

    default: /* COLLAB_EVENT_SESSION_CLOSED */
        st = ngx_collab_db_stmt(ngx_collab_sql_session_close);
        if (st == NULL) {
            return SQLITE_ERROR;
        }

        ngx_collab_db_bind_str(st, 1, &session);
        sqlite3_bind_int64(st, 2, rec->at);
        sqlite3_bind_int64(st, 3, rec->peak);
        break;
    }

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    return ngx_collab_record_event(&id, &account, &room, rec, rec->at);
}


typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   account;
    ngx_str_t                   room;
    int64_t                     started;
} ngx_collab_open_session_t;


static void
ngx_collab_record_dup(ngx_str_t *dst, sqlite3_stmt *st, int col)
{
    ngx_str_t  s;

    ngx_collab_db_col(st, col, &s);

    dst->data = ngx_alloc(s.len + 1, ngx_cycle->log);
    dst->len = dst->data ? s.len : 0;

    if (dst->data) {
        ngx_memcpy(dst->data, s.data, s.len);
    }
}


/* the leaves and the close of one session left open by the last nginx */
static int
ngx_collab_record_close(ngx_collab_open_session_t *os, int64_t now)
{
    int                         rc;
    ngx_str_t                   user, id;
    sqlite3_stmt               *st, *users;
    ngx_collab_presence_rec_t  *rec;
    char                        idbuf[COLLAB_ID_MAX];
    u_char                      buf[COLLAB_PRESENCE_REC_SIZE];

    if (os->id.len != COLLAB_PRESENCE_SESSION_ID
        || os->room.len != COLLAB_UUID_LEN || os->account.len >= COLLAB_ID_MAX)
    {
        return SQLITE_OK;
    }

    rec = (ngx_collab_presence_rec_t *) buf;
    ngx_memzero(rec, sizeof(ngx_collab_presence_rec_t));

    rec->at = now;
    rec->started = os->started;
    ngx_memcpy(rec->session, os->id.data, COLLAB_PRESENCE_SESSION_ID);
    ngx_memcpy(rec->room, os->room.data, COLLAB_UUID_LEN);
    ngx_memcpy(rec->account, os->account.data, os->account.len);
    rec->account_len = (u_char) os->account.len;

    id.data = (u_char *) idbuf;

    users = ngx_collab_db_stmt(ngx_collab_sql_session_participants);
    if (users == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(users, 1, &os->id);

    while ((rc = sqlite3_step(users)) == SQLITE_ROW) {
        ngx_collab_db_col(users, 0, &user);

        if (user.len == 0 || user.len > COLLAB_PRESENCE_USER_MAX) {
            continue;
        }

        rec->type = COLLAB_EVENT_PARTICIPANT_LEFT;
        ngx_memcpy(rec->user, user.data, user.len);
        rec->user_len = (u_char) user.len;

        id.len = collab_id_new(idbuf, "evt_");

        rc = ngx_collab_record_event(&id, &os->account, &os->room, rec, now);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }

    if (rc != SQLITE_DONE) {
        return rc;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_session_forget);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &os->id);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_session_close);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, &os->id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, 0);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }

    rec->type = COLLAB_EVENT_SESSION_CLOSED;
    rec->user_len = 0;
    id.len = collab_id_new(idbuf, "evt_");

    return ngx_collab_record_event(&id, &os->account, &os->room, rec, now);
}


/*
 * In a storage thread, once per zone, alone in its batch: what the
 * database holds as open was open in an nginx that is gone (killed, or
 * stopped with people online), since a new zone knows nobody.  Its
 * participants leave and its sessions close, with their events.  Should
 * the recorder die after the commit, doing it again finds nothing open:
 * no batch of the new zone can have been recorded in between.
 */
static int
ngx_collab_record_reconcile(int64_t now)
{
    int                         rc;
    ngx_uint_t                  i, n, max;
    sqlite3_stmt               *st;
    ngx_collab_open_session_t  *open, *more;

    /* the open sessions are read first: few, and nothing else is open */
    st = ngx_collab_db_stmt(ngx_collab_sql_open_sessions);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    open = NULL;
    n = 0;
    max = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == max) {
            max = max ? 2 * max : 16;
            more = realloc(open, max * sizeof(ngx_collab_open_session_t));
            if (more == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }

            open = more;
        }

        ngx_collab_record_dup(&open[n].id, st, 0);
        ngx_collab_record_dup(&open[n].account, st, 1);
        ngx_collab_record_dup(&open[n].room, st, 2);
        open[n].started = sqlite3_column_int64(st, 3);
        n++;
    }

    if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;

        for (i = 0; i < n && rc == SQLITE_OK; i++) {
            rc = ngx_collab_record_close(&open[i], now);
        }
    }

    for (i = 0; i < n; i++) {
        ngx_free(open[i].id.data);
        ngx_free(open[i].account.data);
        ngx_free(open[i].room.data);
    }

    free(open);

    if (rc != SQLITE_OK) {
        return rc;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_participants_clear);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    rc = sqlite3_step(st);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}


/*
 * On the event loop: does the database hold anything open at all?  Most
 * starts find nothing, and then the reconciliation needs no write.
 */
static ngx_uint_t
ngx_collab_record_anything_open(void)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_anything_open);
    if (st == NULL) {
        return 1;
    }

    rc = sqlite3_step(st);
    rc = (rc != SQLITE_ROW || sqlite3_column_int(st, 0) != 0);

    ngx_collab_db_release();

    return rc;
}


/* in a storage thread: the batch, in order, in the work's savepoint */
static ngx_int_t
ngx_collab_record_work(ngx_collab_work_t *w)
{
    int         rc;
    ngx_uint_t  i;

    if (ngx_collab_recorder.reconcile) {
        rc = ngx_collab_record_reconcile(ngx_collab_recorder.now);
        if (rc != SQLITE_OK) {
            w->db_rc = rc;
            return NGX_ERROR;
        }
    }

    for (i = 0; i < ngx_collab_recorder.n; i++) {
        rc = ngx_collab_record_one((ngx_collab_presence_rec_t *)
                                   (ngx_collab_recorder.recs
                                    + i * COLLAB_PRESENCE_REC_SIZE));
        if (rc != SQLITE_OK) {
            w->db_rc = rc;
            return NGX_ERROR;
        }
    }

    ngx_collab_store_wake(COLLAB_WAKE_DELIVERIES);

    return NGX_OK;
}


static void
ngx_collab_record_done(ngx_collab_work_t *w)
{
    uint64_t                    upto;
    ngx_collab_presence_rec_t  *last;

    ngx_collab_recorder.busy = 0;

    upto = 0;

    if (ngx_collab_recorder.n) {
        last = (ngx_collab_presence_rec_t *)
               (ngx_collab_recorder.recs
                + (ngx_collab_recorder.n - 1) * COLLAB_PRESENCE_REC_SIZE);
        upto = last->seq;
    }

    if (w->rc != NGX_OK) {
        ngx_collab_recorder.failures++;

        if (ngx_collab_recorder.n == 1 && !ngx_collab_recorder.reconcile
            && ngx_collab_recorder.failures >= 2 * COLLAB_RECORD_TRIES
            && ngx_collab_db_status(w->db_rc) != NGX_HTTP_SERVICE_UNAVAILABLE)
        {
            ngx_log_error(NGX_LOG_ALERT, ngx_collab_recorder.log, 0,
                          "collab: a presence transition (%uL) cannot be "
                          "recorded: sqlite: %s (%d); it is given up",
                          upto, sqlite3_errstr(w->db_rc), w->db_rc);

            ngx_collab_recorder.failures = 0;
            ngx_collab_presence_claimed(upto, 0);
            ngx_collab_recorder.published();
            ngx_collab_presence_record();
            return;
        }

        ngx_log_error(NGX_LOG_ERR, ngx_collab_recorder.log, 0,
                      "collab: recording %ui presence transitions failed: "
                      "sqlite: %s (%d); trying again", ngx_collab_recorder.n,
                      sqlite3_errstr(w->db_rc), w->db_rc);

        ngx_collab_presence_unclaim();

        if (!ngx_collab_recorder.retry.timer_set) {
            ngx_add_timer(&ngx_collab_recorder.retry, COLLAB_RECORD_RETRY);
        }

        return;
    }

    ngx_collab_recorder.failures = 0;

    ngx_collab_presence_claimed(upto, ngx_collab_recorder.reconcile);

    /* the streams of every worker, and the answers waiting here */
    ngx_collab_recorder.published();

    ngx_collab_presence_record();
}


/*
 * In the work of a user's or a room's deletion: its client tokens stay
 * useless across restarts (user NULL: the whole room's).
 */
int
ngx_collab_presence_revoke_row(ngx_str_t *room, ngx_str_t *user,
    int64_t now)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_revocation);
    if (st == NULL) {
        return SQLITE_ERROR;
    }

    ngx_collab_db_bind_str(st, 1, room);

    if (user) {
        ngx_collab_db_bind_str(st, 2, user);

    } else {
        ngx_collab_db_bind_cstr(st, 2, "");
    }

    sqlite3_bind_int64(st, 3, now);

    rc = sqlite3_step(st);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
