/*
 * Copyright (C) collab
 *
 * Webhook endpoints and their delivery log: create (the secret is shown
 * once), list, read, update, delete, rotate the secret, send a test event,
 * list and read deliveries, retry one, recover failed ones.  The
 * deliveries themselves are the outbox's (ngx_collab_outbox.c).
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"
#include "ngx_collab_subscription.h"
#include "ngx_collab_sign.h"
#include "ngx_collab_url.h"
#include "ngx_collab_outbox.h"


#define COLLAB_WEBHOOKS_MAX      100
#define COLLAB_DESCRIPTION_MAX   1024
#define COLLAB_ROTATE_OVERLAP    (24 * 3600 * 1000LL)
#define COLLAB_RECOVER_MAX       (14 * 24 * 3600 * 1000LL)

#define COLLAB_WEBHOOK_COLUMNS                                                \
    "seq, id, url, events, room_id, description, enabled, created_at,"      \
    " updated_at"

#define COLLAB_DELIVERY_COLUMNS                                               \
    "seq, id, event, event_id, status, status_code, attempts,"              \
    " next_attempt_at, last_attempt_at, duration_ms, error, created_at"

static const char  ngx_collab_sql_webhook_insert[] =
    "INSERT INTO webhooks (id, account_id, url, events, event_mask, room_id,"
    " description, enabled, secret, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
    " RETURNING " COLLAB_WEBHOOK_COLUMNS;

static const char  ngx_collab_sql_webhook_count[] =
    "SELECT count(*) FROM webhooks WHERE account_id = ?1";

static const char  ngx_collab_sql_webhook_list[] =
    "SELECT " COLLAB_WEBHOOK_COLUMNS " FROM webhooks"
    " WHERE account_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

static const char  ngx_collab_sql_webhook_get[] =
    "SELECT " COLLAB_WEBHOOK_COLUMNS ", event_mask FROM webhooks"
    " WHERE account_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_webhook_update[] =
    "UPDATE webhooks SET url = ?3, events = ?4, event_mask = ?5,"
    " room_id = ?6, description = ?7, enabled = ?8, updated_at = ?9"
    " WHERE account_id = ?1 AND id = ?2"
    " RETURNING " COLLAB_WEBHOOK_COLUMNS;

static const char  ngx_collab_sql_webhook_delete[] =
    "DELETE FROM webhooks WHERE account_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_webhook_rotate[] =
    "UPDATE webhooks SET previous_secret = secret, previous_until = ?4,"
    " secret = ?3, updated_at = ?5"
    " WHERE account_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_delivery_list[] =
    "SELECT " COLLAB_DELIVERY_COLUMNS " FROM deliveries"
    " WHERE webhook_id = ?1 AND seq < ?2 AND (?3 IS NULL OR status = ?3)"
    " ORDER BY seq DESC LIMIT ?4";

static const char  ngx_collab_sql_delivery_get[] =
    "SELECT " COLLAB_DELIVERY_COLUMNS ", payload FROM deliveries"
    " WHERE webhook_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_delivery_attempts[] =
    "SELECT at, status_code, duration_ms, error, response"
    " FROM delivery_attempts WHERE delivery_seq = ?1 ORDER BY seq";

static const char  ngx_collab_sql_delivery_retry[] =
    "UPDATE deliveries SET status = 'pending', next_attempt_at = ?3"
    " WHERE webhook_id = ?1 AND id = ?2"
    " RETURNING " COLLAB_DELIVERY_COLUMNS;

static const char  ngx_collab_sql_delivery_recover[] =
    "UPDATE deliveries SET status = 'pending', next_attempt_at = ?4"
    " WHERE webhook_id = ?1 AND status = 'failed'"
    " AND created_at >= ?2 AND created_at < ?3";


static ngx_int_t ngx_collab_webhook_resync(ngx_collab_req_t *cr);
static void ngx_collab_webhook_row(collab_json_t *j, sqlite3_stmt *st);
static void ngx_collab_delivery_row(collab_json_t *j, sqlite3_stmt *st);


static const char  *ngx_collab_webhook_create_fields[] = {
    "url", "events", "roomId", "description", "enabled", NULL
};


static const ngx_collab_sub_kind_t  ngx_collab_webhook_sub = {
    COLLAB_SUB_WEBHOOK,
    "webhook",
    "webhooks",
    ngx_collab_sql_webhook_count,
    ngx_collab_sql_webhook_list,
    ngx_collab_sql_webhook_get,
    ngx_collab_sql_webhook_delete,
    9,                                      /* event_mask */
    COLLAB_WAKE_DELIVERIES,
    ngx_collab_webhook_row,
    ngx_collab_webhook_resync,
    "delivery",
    "deliveries",
    ngx_collab_sql_delivery_list,
    ngx_collab_sql_delivery_get,
    ngx_collab_delivery_row
};


/* what a create or an update asks for */
typedef struct {
    ngx_str_t         url;
    ngx_str_t         description;  /* data NULL: none */
    ngx_collab_sub_t  sub;
    unsigned          has_url:1;
    unsigned          has_description:1;
} ngx_collab_webhook_input_t;


/* a row of COLLAB_WEBHOOK_COLUMNS */
static void
ngx_collab_webhook_json(collab_json_t *j, sqlite3_stmt *st,
    const char *secret)
{
    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "url");
    ngx_collab_col_text(j, st, 2);
    ngx_collab_sub_json(j, st);
    collab_json_key(j, "description");
    ngx_collab_col_text(j, st, 5);
    collab_json_key(j, "enabled");
    collab_json_bool(j, sqlite3_column_int(st, 6));

    if (secret) {
        collab_json_key(j, "secret");
        collab_json_cstr(j, secret);
    }

    collab_json_key(j, "createdAt");
    collab_json_time(j, sqlite3_column_int64(st, 7));
    collab_json_key(j, "updatedAt");
    collab_json_time(j, sqlite3_column_int64(st, 8));
    collab_json_obj_close(j);
}


static ngx_int_t
ngx_collab_webhook_url(ngx_collab_req_t *cr, ngx_str_t *url)
{
    const char                   *err, *rule;
    collab_url_t                  u;
    ngx_http_collab_main_conf_t  *cmcf;

    if (collab_url_parse((char *) url->data, url->len, &u, &err) != 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "url", "url: %s",
                                 err);
    }

    cmcf = ngx_http_get_module_main_conf(cr->request, ngx_http_collab_module);

    if (!cmcf->webhook.allow_private) {
        rule = collab_host_forbidden(&u);

        if (rule) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "url",
                                     "url: the address is %s; webhooks may "
                                     "not reach it", rule);
        }
    }

    return NGX_OK;
}


/* url, events, mask, room, description and enabled at ?3 to ?8 */
static void
ngx_collab_webhook_bind(sqlite3_stmt *st, ngx_collab_webhook_input_t *in)
{
    ngx_collab_db_bind_str(st, 3, &in->url);
    ngx_collab_sub_bind(st, 4, &in->sub);
    ngx_collab_db_bind_str(st, 7, in->description.data ? &in->description
                                                        : NULL);
    sqlite3_bind_int(st, 8, (int) in->sub.enabled);
}


/* the row an insert or update returns is the answer; then its commit */
static ngx_int_t
ngx_collab_webhook_returned(ngx_collab_req_t *cr, sqlite3_stmt *st,
    const char *secret, const char *what)
{
    int  rc;

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, what);
    }

    ngx_collab_webhook_json(&cr->out, st, secret);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        rc = ngx_collab_db_commit();
    }

    if (rc != SQLITE_OK) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_refuse_db(cr, rc, what);
    }

    return NGX_OK;
}


/* the fields of a create or update body, validated */
static ngx_int_t
ngx_collab_webhook_input(ngx_collab_req_t *cr, ngx_uint_t create,
    ngx_collab_webhook_input_t *in)
{
    json_t      *v;
    ngx_uint_t   present;

    ngx_memzero(in, sizeof(ngx_collab_webhook_input_t));

    if (ngx_collab_check_fields(cr, ngx_collab_webhook_create_fields)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = json_object_get(cr->body, "url");

    if (v || create) {
        if (v == NULL) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "url",
                                     "url: is required");
        }

        if (!json_is_string(v)) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "url",
                                     "url: must be a string");
        }

        in->url.data = (u_char *) json_string_value(v);
        in->url.len = json_string_length(v);
        in->has_url = 1;

        if (ngx_collab_webhook_url(cr, &in->url) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_collab_sub_events(cr, &ngx_collab_webhook_sub, create, &in->sub)
        != NGX_OK
        || ngx_collab_sub_room(cr, &in->sub) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_collab_get_string(cr, "description", 0, COLLAB_DESCRIPTION_MAX,
                              &in->description, &present)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    in->has_description = (present != 0);

    return ngx_collab_sub_enabled(cr, &in->sub);
}


ngx_int_t
ngx_collab_webhook_create(ngx_collab_req_t *cr)
{
    int                          rc;
    int64_t                      now;
    ngx_int_t                    res;
    ngx_str_t                    id;
    sqlite3_stmt                *st;
    ngx_collab_webhook_input_t   in;
    char                         idbuf[COLLAB_ID_MAX];
    char                         secret[COLLAB_SECRET_LEN + 1];

    if (ngx_collab_webhook_input(cr, 1, &in) != NGX_OK) {
        return NGX_ERROR;
    }

    id.len = collab_id_new(idbuf, "wh_");
    id.data = (u_char *) idbuf;

    if (collab_secret_new(secret) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * The count and the insert in one transaction: creates in the other
     * workers cannot slip in between and pass the limit together.
     */

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "webhook create");
    }

    res = ngx_collab_sub_count(cr, &ngx_collab_webhook_sub,
                               COLLAB_WEBHOOKS_MAX);

    if (res == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (res == NGX_DECLINED) {
        ngx_collab_db_rollback();
        return ngx_collab_fail(cr, NGX_HTTP_CONFLICT, NULL,
                               "an account has at most %d webhooks",
                               COLLAB_WEBHOOKS_MAX);
    }

    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_webhook_insert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "webhook insert");
    }

    ngx_collab_db_bind_str(st, 1, &id);
    ngx_collab_db_bind_str(st, 2, &cr->params[0]);
    ngx_collab_webhook_bind(st, &in);
    ngx_collab_db_bind_cstr(st, 9, secret);
    sqlite3_bind_int64(st, 10, now);

    if (ngx_collab_webhook_returned(cr, st, secret, "webhook insert")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_collab_sub_register(cr, &ngx_collab_webhook_sub, &id, &in.sub)
        != NGX_OK)
    {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "the webhook registry is full");
    }

    ngx_explicit_memzero(secret, sizeof(secret));

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);
}


static void
ngx_collab_webhook_row(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_collab_webhook_json(j, st, NULL);
}


ngx_int_t
ngx_collab_webhook_list(ngx_collab_req_t *cr)
{
    return ngx_collab_sub_list(cr, &ngx_collab_webhook_sub);
}


ngx_int_t
ngx_collab_webhook_get(ngx_collab_req_t *cr)
{
    sqlite3_stmt  *st;

    if (ngx_collab_sub_find(cr, &ngx_collab_webhook_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_collab_webhook_json(&cr->out, st, NULL);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


ngx_int_t
ngx_collab_webhook_update(ngx_collab_req_t *cr)
{
    int                          rc;
    ngx_pool_t                  *pool;
    sqlite3_stmt                *st;
    ngx_collab_webhook_input_t   in;

    if (ngx_collab_webhook_input(cr, 0, &in) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "webhook update");
    }

    if (ngx_collab_sub_find(cr, &ngx_collab_webhook_sub, &st) != NGX_OK) {
        ngx_collab_db_rollback();
        return NGX_ERROR;
    }

    /* what the request does not change keeps the row's value */
    pool = cr->request->pool;

    if ((!in.has_url && ngx_collab_db_dup(pool, st, 2, &in.url) != NGX_OK)
        || (!in.has_description
            && ngx_collab_db_dup(pool, st, 5, &in.description) != NGX_OK)
        || ngx_collab_sub_keep(pool, st, &ngx_collab_webhook_sub, &in.sub)
           != NGX_OK)
    {
        ngx_collab_db_rollback();
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_webhook_update);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "webhook update");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);
    ngx_collab_webhook_bind(st, &in);
    sqlite3_bind_int64(st, 9, collab_now_ms());

    if (ngx_collab_webhook_returned(cr, st, NULL, "webhook update")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_collab_sub_update(cr, &ngx_collab_webhook_sub, &in.sub);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


static ngx_int_t
ngx_collab_webhook_resync(ngx_collab_req_t *cr)
{
    return ngx_collab_sub_resync(cr, &ngx_collab_webhook_sub);
}


ngx_int_t
ngx_collab_webhook_delete(ngx_collab_req_t *cr)
{
    ngx_int_t  rc;

    rc = ngx_collab_sub_delete(cr, &ngx_collab_webhook_sub);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "webhook not found");
    }

    if (ngx_collab_sub_unregister(cr, &ngx_collab_webhook_sub) != NGX_OK) {
        return ngx_collab_fail(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                               "an internal error occurred");
    }

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);
}


ngx_int_t
ngx_collab_webhook_rotate(ngx_collab_req_t *cr)
{
    int            rc;
    int64_t        now;
    sqlite3_stmt  *st;
    char           secret[COLLAB_SECRET_LEN + 1];

    if (ngx_collab_check_fields(cr, (const char *[]) { NULL }) != NGX_OK) {
        return NGX_ERROR;
    }

    if (collab_secret_new(secret) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = collab_now_ms();

    st = ngx_collab_db_stmt(ngx_collab_sql_webhook_rotate);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "webhook rotate");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);
    ngx_collab_db_bind_cstr(st, 3, secret);
    sqlite3_bind_int64(st, 4, now + COLLAB_ROTATE_OVERLAP);
    sqlite3_bind_int64(st, 5, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "webhook rotate");
    }

    if (sqlite3_changes(ngx_collab_db_handle()) == 0) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "webhook not found");
    }

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "secret");
    collab_json_cstr(&cr->out, secret);
    collab_json_key(&cr->out, "previousSecretExpiresAt");
    collab_json_time(&cr->out, now + COLLAB_ROTATE_OVERLAP);
    collab_json_obj_close(&cr->out);

    ngx_explicit_memzero(secret, sizeof(secret));

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/* a row of COLLAB_DELIVERY_COLUMNS */
static void
ngx_collab_delivery_json(collab_json_t *j, sqlite3_stmt *st,
    ngx_uint_t close)
{
    ngx_str_t  s;

    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "event");
    ngx_collab_col_text(j, st, 2);
    collab_json_key(j, "eventId");
    ngx_collab_col_text(j, st, 3);
    collab_json_key(j, "status");
    ngx_collab_col_text(j, st, 4);
    collab_json_key(j, "statusCode");
    ngx_collab_col_int(j, st, 5);
    collab_json_key(j, "attempts");
    collab_json_int(j, sqlite3_column_int64(st, 6));
    collab_json_key(j, "nextRetryAt");

    ngx_collab_db_col(st, 4, &s);

    if (sqlite3_column_type(st, 7) == SQLITE_NULL
        || s.len != 7 || ngx_strncmp(s.data, "pending", 7) != 0)
    {
        collab_json_null(j);

    } else {
        collab_json_time(j, sqlite3_column_int64(st, 7));
    }

    collab_json_key(j, "lastAttemptAt");

    ngx_collab_col_time(j, st, 8);

    collab_json_key(j, "durationMs");

    ngx_collab_col_int(j, st, 9);

    collab_json_key(j, "error");

    ngx_collab_col_text(j, st, 10);

    collab_json_key(j, "createdAt");
    collab_json_time(j, sqlite3_column_int64(st, 11));

    if (close) {
        collab_json_obj_close(j);
    }
}


static void
ngx_collab_delivery_row(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_collab_delivery_json(j, st, 1);
}


ngx_int_t
ngx_collab_delivery_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_int_t      rc;
    ngx_str_t      status;
    ngx_uint_t     limit, has_status;

    if (ngx_collab_page_args(cr, "deliveries", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_collab_arg(cr, "status", &status);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    has_status = (rc == NGX_OK);

    if (has_status
        && !(status.len == 7 && ngx_strncmp(status.data, "pending", 7) == 0)
        && !(status.len == 7 && ngx_strncmp(status.data, "success", 7) == 0)
        && !(status.len == 6 && ngx_strncmp(status.data, "failed", 6) == 0))
    {
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "status",
                               "status: must be pending, success or failed");
    }

    return ngx_collab_sub_log_list(cr, &ngx_collab_webhook_sub, limit, before,
                                   has_status ? &status : NULL);
}


ngx_int_t
ngx_collab_delivery_get(ngx_collab_req_t *cr)
{
    int            rc;
    ngx_str_t      s;
    sqlite3_stmt  *st, *at;

    rc = ngx_collab_sub_log_get(cr, &ngx_collab_webhook_sub, &st);

    if (rc == NGX_DECLINED) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "delivery not found");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_collab_delivery_json(&cr->out, st, 0);

    collab_json_key(&cr->out, "payload");
    ngx_collab_db_col(st, 12, &s);
    collab_json_raw(&cr->out, s.data, s.len);

    at = ngx_collab_db_stmt(ngx_collab_sql_delivery_attempts);
    if (at == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "delivery attempts");
    }

    sqlite3_bind_int64(at, 1, sqlite3_column_int64(st, 0));

    collab_json_key(&cr->out, "attemptLog");
    collab_json_arr_open(&cr->out);

    while ((rc = sqlite3_step(at)) == SQLITE_ROW) {
        collab_json_obj_open(&cr->out);
        collab_json_key(&cr->out, "at");
        collab_json_time(&cr->out, sqlite3_column_int64(at, 0));
        collab_json_key(&cr->out, "statusCode");

        ngx_collab_col_int(&cr->out, at, 1);

        collab_json_key(&cr->out, "durationMs");
        collab_json_int(&cr->out, sqlite3_column_int64(at, 2));
        collab_json_key(&cr->out, "error");

        ngx_collab_col_text(&cr->out, at, 3);

        collab_json_key(&cr->out, "response");

        ngx_collab_col_text(&cr->out, at, 4);

        collab_json_obj_close(&cr->out);
    }

    if (rc != SQLITE_DONE) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_refuse_db(cr, rc, "delivery attempts");
    }

    collab_json_arr_close(&cr->out);
    collab_json_obj_close(&cr->out);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


ngx_int_t
ngx_collab_delivery_retry(ngx_collab_req_t *cr)
{
    int            rc;
    sqlite3_stmt  *st;

    if (ngx_collab_sub_find(cr, &ngx_collab_webhook_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_delivery_retry);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "delivery retry");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);
    sqlite3_bind_int64(st, 3, collab_now_ms());

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                               "delivery not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "delivery retry");
    }

    ngx_collab_delivery_json(&cr->out, st, 1);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_refuse_db(cr, rc, "delivery retry");
    }

    ngx_collab_store_wake(COLLAB_WAKE_DELIVERIES);

    return ngx_collab_reply(cr, NGX_HTTP_ACCEPTED);
}


/* "2026-05-29T10:06:00Z" or with ".mmm": unix milliseconds, or -1 */
static int64_t
ngx_collab_parse_time(const u_char *p, size_t len)
{
    ngx_tm_t  tm;
    int64_t   ms;
    time_t    t;

    if (len != 20 && len != 24) {
        return -1;
    }

    if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':'
        || p[16] != ':' || p[len - 1] != 'Z'
        || (len == 24 && p[19] != '.'))
    {
        return -1;
    }

    ngx_memzero(&tm, sizeof(ngx_tm_t));

    tm.ngx_tm_year = ngx_atoi((u_char *) p, 4) - 1900;
    tm.ngx_tm_mon = ngx_atoi((u_char *) p + 5, 2) - 1;
    tm.ngx_tm_mday = ngx_atoi((u_char *) p + 8, 2);
    tm.ngx_tm_hour = ngx_atoi((u_char *) p + 11, 2);
    tm.ngx_tm_min = ngx_atoi((u_char *) p + 14, 2);
    tm.ngx_tm_sec = ngx_atoi((u_char *) p + 17, 2);
    ms = (len == 24) ? ngx_atoi((u_char *) p + 20, 3) : 0;

    if (tm.ngx_tm_year < 70 || tm.ngx_tm_mon < 0 || tm.ngx_tm_mon > 11
        || tm.ngx_tm_mday < 1 || tm.ngx_tm_mday > 31 || tm.ngx_tm_hour < 0
        || tm.ngx_tm_hour > 23 || tm.ngx_tm_min < 0 || tm.ngx_tm_min > 59
        || tm.ngx_tm_sec < 0 || tm.ngx_tm_sec > 59 || ms < 0)
    {
        return -1;
    }

    t = timegm(&tm);

    return (int64_t) t * 1000 + ms;
}


static ngx_int_t
ngx_collab_get_time(ngx_collab_req_t *cr, const char *field,
    ngx_uint_t required, int64_t *ms)
{
    json_t  *v;

    v = json_object_get(cr->body, field);

    if (v == NULL) {
        if (required) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                     "%s: is required", field);
        }

        return NGX_DECLINED;
    }

    if (!json_is_string(v)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be a string", field);
    }

    *ms = ngx_collab_parse_time((u_char *) json_string_value(v),
                                json_string_length(v));

    if (*ms < 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, field,
                                 "%s: must be an ISO 8601 UTC time such as "
                                 "2026-05-29T10:06:00.000Z", field);
    }

    return NGX_OK;
}


ngx_int_t
ngx_collab_webhook_recover(ngx_collab_req_t *cr)
{
    int            rc;
    int64_t        since, until, now;
    ngx_int_t      res;
    sqlite3_stmt  *st;

    now = collab_now_ms();

    if (ngx_collab_check_fields(cr, (const char *[]) { "since", "until",
                                                       NULL })
        != NGX_OK
        || ngx_collab_get_time(cr, "since", 1, &since) != NGX_OK)
    {
        return NGX_ERROR;
    }

    res = ngx_collab_get_time(cr, "until", 0, &until);

    if (res == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (res == NGX_DECLINED) {
        until = now + 1;
    }

    if (since < now - COLLAB_RECOVER_MAX) {
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "since",
                               "since: must be at most 14 days ago");
    }

    if (until <= since) {
        return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "until",
                               "until: must be after since");
    }

    if (ngx_collab_sub_find(cr, &ngx_collab_webhook_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_delivery_recover);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "delivery recover");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int64(st, 3, until);
    sqlite3_bind_int64(st, 4, now);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "delivery recover");
    }

    collab_json_obj_open(&cr->out);
    collab_json_key(&cr->out, "recovered");
    collab_json_int(&cr->out, sqlite3_changes(ngx_collab_db_handle()));
    collab_json_obj_close(&cr->out);

    ngx_collab_store_wake(COLLAB_WAKE_DELIVERIES);

    return ngx_collab_reply(cr, NGX_HTTP_ACCEPTED);
}


ngx_int_t
ngx_collab_webhook_test(ngx_collab_req_t *cr)
{
    int             rc;
    int64_t         now;
    ngx_str_t       event_id, payload, id;
    sqlite3_stmt   *st;
    collab_json_t   data, body;
    char            evtbuf[COLLAB_ID_MAX];
    u_char          idbuf[COLLAB_ID_MAX];

    if (ngx_collab_check_fields(cr, (const char *[]) { NULL }) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_collab_sub_find(cr, &ngx_collab_webhook_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    now = collab_now_ms();
    event_id.len = collab_id_new(evtbuf, "evt_");
    event_id.data = (u_char *) evtbuf;

    collab_json_init(&data);
    collab_json_obj_open(&data);
    collab_json_key(&data, "webhookId");
    collab_json_str(&data, cr->params[1].data, cr->params[1].len);
    collab_json_obj_close(&data);

    payload.data = data.data;
    payload.len = data.len;

    collab_json_init(&body);
    ngx_collab_event_envelope(&body, "webhook.test", &payload, now);
    collab_json_free(&data);

    if (body.failed) {
        collab_json_free(&body);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    payload.data = body.data;
    payload.len = body.len;
    id.data = idbuf;

    rc = ngx_collab_outbox_delivery_add(&cr->params[1], &event_id,
                                        "webhook.test", &payload, now, &id);
    collab_json_free(&body);

    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "test delivery");
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_delivery_get);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "delivery get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &id);

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "delivery get");
    }

    ngx_collab_delivery_json(&cr->out, st, 1);

    return ngx_collab_reply(cr, NGX_HTTP_ACCEPTED);
}
