/*
 * Copyright (C) collab
 *
 * The presence routes: client tokens, the connect route (its token is
 * checked by authentication, http/ngx_collab_auth.c), server heartbeats
 * (PUT and DELETE .../presence/{userId}), the participants (GET
 * .../presence), the sessions, and what the deletion of a user or a room
 * does to presence.  The table, the recorder and the streams are the
 * presence layer's (presence/).
 *
 * A heartbeat that makes a user join or leave answers once the events of
 * that transition are recorded: a 2xx means the events are in the
 * database.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_TOKEN_TTL_MIN      60
#define COLLAB_TOKEN_TTL_DEFAULT  3600
#define COLLAB_HEARTBEAT_TTL_MAX  3600
#define COLLAB_RECORD_WAIT        10000    /* ms, at most */


/* an answer that waits for its events to be recorded */
typedef struct {
    ngx_queue_t                 queue;
    ngx_collab_req_t           *cr;
    uint64_t                    seq;
    int64_t                     since;
    ngx_uint_t                  status;
} ngx_collab_waiter_t;


static const char  ngx_collab_sql_user_exists[] =
    "SELECT 1 FROM users WHERE room_id = ?1 AND user_id = ?2";

static const char  ngx_collab_sql_session_list[] =
    "SELECT seq, id, started_at, closed_at, peak FROM sessions"
    " WHERE room_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";


static const char  *ngx_collab_token_fields[] = { "ttl", NULL };


static ngx_queue_t  ngx_collab_waiters;


static void ngx_collab_presence_api_recorded(void);


/* init_process, once the presence layer runs */
void
ngx_collab_presence_api_init(void)
{
    ngx_queue_init(&ngx_collab_waiters);
    ngx_collab_stream_on_recorded(ngx_collab_presence_api_recorded);
}


/* the user of the path in its room (the route checked the room) */
static ngx_int_t
ngx_collab_presence_find(ngx_collab_req_t *cr, ngx_str_t *user)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_user_exists);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "user lookup");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, user);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND, NULL,
                                 "user not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "user lookup");
    }

    return NGX_OK;
}


/* an integer field of at most max, at least min, or absent (dflt) */
static ngx_int_t
ngx_collab_presence_seconds(ngx_collab_req_t *cr, const char *field,
    ngx_int_t min, ngx_int_t max, ngx_int_t dflt, ngx_int_t *out)
{
    double   v;
    json_t  *j;

    j = json_object_get(cr->body, field);

    if (j == NULL) {
        if (dflt < 0) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                     "%s: is required", field);
        }

        *out = dflt;
        return NGX_OK;
    }

    v = json_is_number(j) ? json_number_value(j) : -1;

    if (v != (double) (ngx_int_t) v || v < min || v > max) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be a whole number of seconds "
                                 "from %i to %i", field, min, max);
    }

    *out = (ngx_int_t) v;

    return NGX_OK;
}


/* POST .../users/{userId}/tokens {ttl?} */
ngx_int_t
ngx_collab_token_create(ngx_collab_req_t *cr)
{
    size_t           n;
    int64_t          now;
    ngx_int_t        ttl;
    const u_char    *key;
    collab_ctoken_t  t;
    char             token[COLLAB_CTOKEN_MAX + 1];

    if (ngx_collab_check_fields(cr, ngx_collab_token_fields) != NGX_OK
        || ngx_collab_presence_seconds(cr, "ttl", COLLAB_TOKEN_TTL_MIN,
                                       COLLAB_PRESENCE_TOKEN_TTL_MAX,
                                       COLLAB_TOKEN_TTL_DEFAULT, &ttl)
           != NGX_OK
        || ngx_collab_presence_find(cr, &cr->params[2]) != NGX_OK)
    {
        return NGX_ERROR;
    }

    key = ngx_collab_presence_token_key();

    if (key == NULL) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "presence is not available");
    }

    now = collab_now_ms();

    t.issued_at = now;
    t.expires_at = now + (int64_t) ttl * 1000;
    t.account = cr->params[0].data;
    t.account_len = cr->params[0].len;
    t.room = cr->params[1].data;
    t.room_len = cr->params[1].len;
    t.user = cr->params[2].data;
    t.user_len = cr->params[2].len;

    n = collab_ctoken_sign(token, key, COLLAB_CTOKEN_KEY_LEN, &t);
    if (n == 0) {
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, NULL,
                               "no token can be made for this user");
    }

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "token");
    collab_json_str(&cr->out, (u_char *) token, n);
    collab_json_key(&cr->out, "expiresAt");
    collab_json_time(&cr->out, t.expires_at);
    collab_json_obj_close(&cr->out);

    ngx_explicit_memzero(token, sizeof(token));

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);
}


/* GET .../connect: authentication has checked the client token */
ngx_int_t
ngx_collab_stream_connect(ngx_collab_req_t *cr)
{
    ngx_int_t         rc;
    ngx_collab_who_t  who;

    who.account = cr->params[0];
    who.room = cr->params[1];
    who.user = cr->auth.user;

    rc = ngx_collab_stream_start(cr->request, &who, cr->auth.issued_at);

    switch (rc) {

    case NGX_DECLINED:
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "the token has been revoked");

    case NGX_BUSY:
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "too many participants on this server, "
                               "try again");

    case NGX_ABORT:
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "presence is not available");

    default:
        return rc;
    }
}


/* GET .../presence */
ngx_int_t
ngx_collab_presence_get(ngx_collab_req_t *cr)
{
    if (!ngx_collab_presence_ready()) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "presence is not available");
    }

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "data");

    if (ngx_collab_presence_list(&cr->params[1], collab_now_ms(),
                                 &cr->out)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    collab_json_obj_close(&cr->out);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/*
 * The answer is sent now, or once the transitions up to seq are
 * recorded.
 */
static ngx_int_t
ngx_collab_presence_answer(ngx_collab_req_t *cr, uint64_t seq,
    ngx_uint_t status)
{
    ngx_collab_waiter_t  *w;

    if (seq == 0 || ngx_collab_presence_recorded() >= seq) {
        return status == NGX_HTTP_NO_CONTENT
               ? ngx_collab_reply_empty(cr, status)
               : ngx_collab_reply(cr, status);
    }

    w = ngx_palloc(cr->request->pool, sizeof(ngx_collab_waiter_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->cr = cr;
    w->seq = seq;
    w->since = collab_now_ms();
    w->status = status;
    ngx_queue_insert_tail(&ngx_collab_waiters, &w->queue);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cr->request->connection->log, 0,
                   "collab presence: the answer waits for transition %uL",
                   seq);

    cr->request->main->count++;

    ngx_collab_presence_record();

    return NGX_DONE;
}


/*
 * After a batch was recorded (or on the clock): the answers whose
 * transitions are in.  One that waited too long, because the database
 * failed, goes too: the transition is decided and will be recorded.
 */
static void
ngx_collab_presence_api_recorded(void)
{
    int64_t               now;
    uint64_t              recorded;
    ngx_int_t             rc;
    ngx_queue_t          *q, *next;
    ngx_connection_t     *c;
    ngx_collab_waiter_t  *w;

    if (ngx_queue_empty(&ngx_collab_waiters)) {
        return;
    }

    recorded = ngx_collab_presence_recorded();
    now = collab_now_ms();

    for (q = ngx_queue_head(&ngx_collab_waiters);
         q != ngx_queue_sentinel(&ngx_collab_waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_collab_waiter_t, queue);

        if (w->seq > recorded && now - w->since < COLLAB_RECORD_WAIT) {
            continue;
        }

        ngx_queue_remove(q);

        c = w->cr->request->connection;

        rc = (w->status == NGX_HTTP_NO_CONTENT)
             ? ngx_collab_reply_empty(w->cr, w->status)
             : ngx_collab_reply(w->cr, w->status);

        ngx_http_finalize_request(w->cr->request, rc);
        ngx_http_run_posted_requests(c);
    }
}


/* PUT .../presence/{userId} {ttl} */
ngx_int_t
ngx_collab_presence_put(ngx_collab_req_t *cr)
{
    int64_t                                now, checked;
    uint64_t                               recorded;
    ngx_int_t                              ttl, rc;
    ngx_collab_who_t                       who;
    ngx_http_collab_presence_main_conf_t  *pmcf;

    static const char  *fields[] = { "ttl", NULL };

    checked = collab_now_ms();

    if (ngx_collab_check_fields(cr, fields) != NGX_OK
        || ngx_collab_presence_seconds(cr, "ttl", 1, COLLAB_HEARTBEAT_TTL_MAX,
                                       -1, &ttl)
           != NGX_OK
        || ngx_collab_presence_find(cr, &cr->params[2]) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_collab_db_release();

    if (!ngx_collab_presence_ready()) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "presence is not available");
    }

    pmcf = ngx_collab_presence_conf();

    who.account = cr->params[0];
    who.room = cr->params[1];
    who.user = cr->params[2];

    now = collab_now_ms();

    rc = ngx_collab_presence_heartbeat(&who, checked, now,
                                       now + (int64_t) ttl * 1000,
                                       pmcf->grace, &cr->out, &recorded);

    if (rc == NGX_DECLINED) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "user not found");
    }

    if (rc != NGX_OK) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "too many participants on this server, "
                               "try again");
    }

    ngx_collab_presence_deadline(now + (int64_t) ttl * 1000 + pmcf->grace);

    return ngx_collab_presence_answer(cr, recorded, NGX_HTTP_OK);
}


/* DELETE .../presence/{userId}: the heartbeat ends, and with no grace */
ngx_int_t
ngx_collab_presence_delete(ngx_collab_req_t *cr)
{
    uint64_t          recorded;
    ngx_collab_who_t  who;

    if (ngx_collab_presence_find(cr, &cr->params[2]) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_collab_db_release();

    if (!ngx_collab_presence_ready()) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "presence is not available");
    }

    who.account = cr->params[0];
    who.room = cr->params[1];
    who.user = cr->params[2];

    (void) ngx_collab_presence_heartbeat_end(&who, collab_now_ms(),
                                             &recorded);

    return ngx_collab_presence_answer(cr, recorded, NGX_HTTP_NO_CONTENT);
}


/* a row of the session list */
static void
ngx_collab_session_json(collab_json_t *j, sqlite3_stmt *st)
{
    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "startedAt");
    ngx_collab_col_time(j, st, 2);
    collab_json_key(j, "closedAt");
    ngx_collab_col_time(j, st, 3);
    collab_json_key(j, "durationMs");

    if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
        collab_json_null(j);

    } else {
        collab_json_int(j, sqlite3_column_int64(st, 3)
                           - sqlite3_column_int64(st, 2));
    }

    collab_json_key(j, "peakParticipants");
    collab_json_int(j, sqlite3_column_int64(st, 4));
    collab_json_obj_close(j);
}


/* GET .../sessions */
ngx_int_t
ngx_collab_session_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;

    if (ngx_collab_page_args(cr, "sessions", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_session_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "session list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit + 1);

    return ngx_collab_reply_page(cr, st, "sessions", limit,
                                 ngx_collab_session_json, "session list");
}


/* after the commit of a user's deletion: it leaves, its streams end */
ngx_int_t
ngx_collab_presence_user_deleted(ngx_collab_req_t *cr)
{
    uint64_t          recorded;
    ngx_collab_who_t  who;

    if (!ngx_collab_presence_ready()) {
        return NGX_OK;
    }

    who.account = cr->params[0];
    who.room = cr->params[1];
    who.user = cr->params[2];

    if (ngx_collab_presence_remove(&who, collab_now_ms(), &recorded)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cr->request->connection->log, 0,
                      "collab: the presence zone is full: the tokens of "
                      "the deleted user \"%V\" are refused only by the "
                      "database's revocation after a restart", &who.user);
    }

    ngx_collab_presence_record();
    ngx_collab_stream_notify();

    return NGX_OK;
}


/* after the commit of a room's deletion: everyone leaves, streams end */
ngx_int_t
ngx_collab_presence_room_deleted(ngx_collab_req_t *cr)
{
    uint64_t          recorded;
    ngx_collab_who_t  who;

    if (!ngx_collab_presence_ready()) {
        return NGX_OK;
    }

    who.account = cr->params[0];
    who.room = cr->params[1];
    who.user.len = 0;
    who.user.data = NULL;

    if (ngx_collab_presence_remove(&who, collab_now_ms(), &recorded)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cr->request->connection->log, 0,
                      "collab: the presence zone is full: the tokens of "
                      "the deleted room are refused only by the "
                      "database's revocation after a restart");
    }

    ngx_collab_presence_record();
    ngx_collab_stream_notify();

    return NGX_OK;
}
