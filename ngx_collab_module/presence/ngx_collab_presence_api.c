/*
 * Copyright (C) collab
 *
 * The presence routes: client tokens, the connect route's authentication
 * (a client token, as a Bearer header or ?token=), server heartbeats
 * (PUT and DELETE .../presence/{userId}), the participants (GET
 * .../presence), the sessions, and what the deletion of a user or a room
 * does to presence.
 *
 * A heartbeat that makes a user join or leave answers once the events of
 * that transition are recorded: a 2xx means the events are in the
 * database.
 */

#include "ngx_collab.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_TOKEN_TTL_MIN      60
#define COLLAB_TOKEN_TTL_DEFAULT  3600
#define COLLAB_HEARTBEAT_TTL_MAX  3600
#define COLLAB_RECORD_WAIT        10000    /* ms, at most */


/* the verified client token of a connect request */
typedef struct {
    ngx_str_t                   user;
    int64_t                     issued_at;
} ngx_collab_client_t;


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


static u_char       ngx_collab_token_key[COLLAB_CTOKEN_KEY_LEN];
static ngx_uint_t   ngx_collab_token_ready;
static ngx_queue_t  ngx_collab_waiters;


ngx_int_t
ngx_collab_presence_api_init(ngx_cycle_t *cycle)
{
    int            rc;
    sqlite3_stmt  *st;

    ngx_queue_init(&ngx_collab_waiters);

    rc = sqlite3_prepare_v2(ngx_collab_db_handle(),
                            "SELECT value FROM meta"
                            " WHERE name = 'client_token_key'", -1, &st,
                            NULL);

    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW
        || sqlite3_column_bytes(st, 0) != COLLAB_CTOKEN_KEY_LEN)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "collab: the database has no client token key");
        sqlite3_finalize(st);
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_collab_token_key, sqlite3_column_blob(st, 0),
               COLLAB_CTOKEN_KEY_LEN);
    sqlite3_finalize(st);

    ngx_collab_token_ready = 1;

    return NGX_OK;
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

    if (!ngx_collab_token_ready) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "presence is not available");
    }

    now = ngx_collab_now_ms();

    t.issued_at = now;
    t.expires_at = now + (int64_t) ttl * 1000;
    t.account = cr->params[0].data;
    t.account_len = cr->params[0].len;
    t.room = cr->params[1].data;
    t.room_len = cr->params[1].len;
    t.user = cr->params[2].data;
    t.user_len = cr->params[2].len;

    n = collab_ctoken_sign(token, ngx_collab_token_key,
                           COLLAB_CTOKEN_KEY_LEN, &t);
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


/* every copy of the token in what nginx may log is overwritten */
static void
ngx_collab_presence_scrub(ngx_str_t *where, u_char *token, size_t len)
{
    u_char  *p, *last;

    if (where->data == NULL || where->len < len || len == 0) {
        return;
    }

    last = where->data + where->len - len;

    for (p = where->data; p <= last; p++) {
        if (*p == token[0] && ngx_memcmp(p, token, len) == 0) {
            ngx_memset(p, '*', len);
            p += len - 1;
        }
    }
}


/*
 * The connect route's authentication: a client token, from the
 * Authorization header or, for EventSource, the query string; never an
 * account key.  The token must name the account and room of the path
 * (which no database read checks: a deleted room's tokens are revoked).
 */
ngx_int_t
ngx_collab_client_authenticate(ngx_collab_req_t *cr)
{
    u_char               *p, *last;
    int64_t               now;
    ngx_int_t             rc;
    ngx_str_t             token, raw;
    ngx_table_elt_t      *h;
    collab_ctoken_t       t;
    ngx_http_request_t   *r;
    ngx_collab_client_t  *client;
    u_char                copy[COLLAB_CTOKEN_MAX];
    u_char                scratch[COLLAB_CTOKEN_PAYLOAD_MAX];

    r = cr->request;
    h = r->headers_in.authorization;

    token.len = 0;

    if (ngx_http_arg(r, (u_char *) "token", 5, &raw) == NGX_OK) {
        /* the query form: out of the logs before anything else */
        token.len = ngx_min(raw.len, sizeof(copy));
        token.data = ngx_cpymem(copy, raw.data, token.len) - token.len;

        ngx_collab_presence_scrub(&r->request_line, copy, token.len);
        ngx_collab_presence_scrub(&r->unparsed_uri, copy, token.len);
        ngx_collab_presence_scrub(&r->args, copy, token.len);

        if (h || raw.len > sizeof(copy)) {
            return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                   "the client token is not valid");
        }

    } else if (h) {
        p = h->value.data;
        last = p + h->value.len;

        if (h->value.len < 7
            || ngx_strncasecmp(p, (u_char *) "Bearer ", 7) != 0)
        {
            return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                   "the Authorization header must be "
                                   "\"Bearer <token>\"");
        }

        for (p += 7; p < last && *p == ' '; p++) { /* void */ }

        while (last > p && last[-1] == ' ') {
            last--;
        }

        token.data = p;
        token.len = last - p;
    }

    if (token.len == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                               "a client token is required, as "
                               "\"Authorization: Bearer <token>\" or "
                               "?token=");
    }

    if (token.len > 3 && ngx_strncmp(token.data, "ck_", 3) == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                               "an account key cannot connect; "
                               "use a client token of the user");
    }

    if (!ngx_collab_token_ready) {
        return ngx_collab_refuse(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "presence is not available");
    }

    now = ngx_collab_now_ms();

    rc = collab_ctoken_verify(token.data, token.len, ngx_collab_token_key,
                              COLLAB_CTOKEN_KEY_LEN, now, &t, scratch);

    if (rc == COLLAB_CTOKEN_EXPIRED) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                               "the client token has expired");
    }

    if (rc != COLLAB_CTOKEN_OK) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                               "the client token is not valid");
    }

    if (t.account_len != cr->params[0].len
        || ngx_memcmp(t.account, cr->params[0].data, t.account_len) != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_FORBIDDEN, NULL,
                               "this client token belongs to another "
                               "account");
    }

    if (t.room_len != cr->params[1].len
        || ngx_memcmp(t.room, cr->params[1].data, t.room_len) != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_FORBIDDEN, NULL,
                               "this client token is for another room");
    }

    client = ngx_palloc(r->pool, sizeof(ngx_collab_client_t));
    if (client == NULL) {
        return NGX_ERROR;
    }

    client->user.data = ngx_pnalloc(r->pool, t.user_len);
    if (client->user.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(client->user.data, t.user, t.user_len);
    client->user.len = t.user_len;
    client->issued_at = t.issued_at;

    ngx_http_set_ctx(r, client, ngx_http_collab_presence_module);

    ngx_memcpy(cr->auth.account, t.account, t.account_len);
    cr->auth.account_len = t.account_len;

    ngx_explicit_memzero(copy, sizeof(copy));

    return NGX_OK;
}


/* GET .../connect */
ngx_int_t
ngx_collab_stream_connect(ngx_collab_req_t *cr)
{
    ngx_collab_who_t      who;
    ngx_collab_client_t  *client;

    client = ngx_http_get_module_ctx(cr->request,
                                     ngx_http_collab_presence_module);
    if (client == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    who.account = cr->params[0];
    who.room = cr->params[1];
    who.user = client->user;

    return ngx_collab_stream_start(cr, &who, client->issued_at);
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

    if (ngx_collab_presence_list(&cr->params[1], ngx_collab_now_ms(),
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
    w->since = ngx_collab_now_ms();
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
void
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
    now = ngx_collab_now_ms();

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

    checked = ngx_collab_now_ms();

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

    now = ngx_collab_now_ms();

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

    (void) ngx_collab_presence_heartbeat_end(&who, ngx_collab_now_ms(),
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


/* the "online" of a user object (also called in storage threads) */
ngx_uint_t
ngx_collab_presence_user_online(ngx_str_t *room, ngx_str_t *user)
{
    if (ngx_collab_presence_conf() == NULL) {
        return 0;
    }

    return ngx_collab_presence_online(room, user);
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

    if (ngx_collab_presence_remove(&who, ngx_collab_now_ms(), &recorded)
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

    if (ngx_collab_presence_remove(&who, ngx_collab_now_ms(), &recorded)
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
