/*
 * Copyright (C) collab
 *
 * Workflows and their execution log: create and change (the code is
 * compiled by a workflow runner first, while the request waits without
 * holding the event loop: a syntax error is a 400 with its line and
 * column), list, read, delete, run a test event now and answer its
 * execution, list and read executions.  Executions themselves are the
 * outbox's (ngx_collab_executions.c) and the dispatcher's; the tail is
 * in ngx_collab_tail.c.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"
#include "ngx_collab_subscription.h"
#include "ngx_collab_outbox.h"
#include "ngx_collab_workflow.h"


#define COLLAB_WORKFLOWS_MAX     100
#define COLLAB_CODE_MAX          (1024 * 1024)

#define COLLAB_WORKFLOW_COLUMNS                                               \
    "seq, id, name, events, room_id, language, enabled, created_at,"        \
    " updated_at, code, event_mask"


static const char  ngx_collab_sql_workflow_insert[] =
    "INSERT INTO workflows (id, account_id, name, events, event_mask,"
    " room_id, language, code, js, source_map, enabled, created_at,"
    " updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)"
    " RETURNING " COLLAB_WORKFLOW_COLUMNS;

static const char  ngx_collab_sql_workflow_count[] =
    "SELECT count(*) FROM workflows WHERE account_id = ?1";

static const char  ngx_collab_sql_workflow_list[] =
    "SELECT " COLLAB_WORKFLOW_COLUMNS " FROM workflows"
    " WHERE account_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

static const char  ngx_collab_sql_workflow_get[] =
    "SELECT " COLLAB_WORKFLOW_COLUMNS " FROM workflows"
    " WHERE account_id = ?1 AND id = ?2";

/* a new updated_at is always larger: prepare's check relies on it */
static const char  ngx_collab_sql_workflow_update[] =
    "UPDATE workflows SET name = ?3, events = ?4, event_mask = ?5,"
    " room_id = ?6, enabled = ?7, updated_at = max(?8, updated_at + 1),"
    " language = CASE WHEN ?9 THEN ?10 ELSE language END,"
    " code = CASE WHEN ?9 THEN ?11 ELSE code END,"
    " js = CASE WHEN ?9 THEN ?12 ELSE js END,"
    " source_map = CASE WHEN ?9 THEN ?13 ELSE source_map END"
    " WHERE account_id = ?1 AND id = ?2"
    " RETURNING " COLLAB_WORKFLOW_COLUMNS;

static const char  ngx_collab_sql_workflow_delete[] =
    "DELETE FROM workflows WHERE account_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_workflow_code[] =
    "SELECT js, source_map, room_id, events FROM workflows"
    " WHERE account_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_newest_room[] =
    "SELECT id FROM rooms WHERE account_id = ?1 ORDER BY seq DESC LIMIT 1";

static const char  ngx_collab_sql_execution_list[] =
    "SELECT " COLLAB_EXECUTION_COLUMNS " FROM executions"
    " WHERE workflow_id = ?1 AND seq < ?2 AND (?3 IS NULL OR status = ?3)"
    " ORDER BY seq DESC LIMIT ?4";

static const char  ngx_collab_sql_execution_get[] =
    "SELECT " COLLAB_EXECUTION_COLUMNS " FROM executions"
    " WHERE workflow_id = ?1 AND id = ?2";

static const char  ngx_collab_sql_execution_seq[] =
    "SELECT " COLLAB_EXECUTION_COLUMNS " FROM executions WHERE seq = ?1";


static const char  *ngx_collab_workflow_fields[] = {
    "name", "events", "code", "language", "roomId", "enabled", NULL
};


/* what a create or an update asks for */
typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  code;
    ngx_str_t                  language;
    ngx_collab_sub_t           sub;
    unsigned                   has_name:1;
    unsigned                   has_code:1;
    unsigned                   has_language:1;
} ngx_collab_workflow_input_t;


/* a request's state between its steps */
typedef struct {
    ngx_collab_workflow_input_t   in;
    ngx_collab_req_t             *cr;
    ngx_collab_compile_t          compile;
    unsigned                      compiled:1;
    ngx_str_t                     js;
    ngx_str_t                     source_map;
    int64_t                       expect;      /* updated_at; 0: any */

    /* a test run */
    ngx_collab_execution_t        exec;
    ngx_collab_exec_watch_t       watch;
    u_char                        exec_id[COLLAB_ID_MAX];
} ngx_collab_workflow_ctx_t;


static ngx_int_t ngx_collab_workflow_compile(ngx_collab_req_t *cr,
    ngx_collab_workflow_ctx_t *ctx);
static void ngx_collab_workflow_compiled(ngx_collab_compile_t *c,
    json_t *answer);
static ngx_int_t ngx_collab_workflow_resync(ngx_collab_req_t *cr);
static void ngx_collab_workflow_row(collab_json_t *j, sqlite3_stmt *st);
static void ngx_collab_execution_row(collab_json_t *j, sqlite3_stmt *st);


static const ngx_collab_sub_kind_t  ngx_collab_workflow_sub = {
    COLLAB_SUB_WORKFLOW,
    "workflow",
    "workflows",
    ngx_collab_sql_workflow_count,
    ngx_collab_sql_workflow_list,
    ngx_collab_sql_workflow_get,
    ngx_collab_sql_workflow_delete,
    10,                                     /* event_mask */
    COLLAB_WAKE_EXECUTIONS,
    ngx_collab_workflow_row,
    ngx_collab_workflow_resync,
    "execution",
    "executions",
    ngx_collab_sql_execution_list,
    ngx_collab_sql_execution_get,
    ngx_collab_execution_row
};


/* ---  --------------------------------------------------------------------- */

/* a row of COLLAB_WORKFLOW_COLUMNS */
static void
ngx_collab_workflow_json(collab_json_t *j, sqlite3_stmt *st, ngx_uint_t code)
{
    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "name");
    ngx_collab_col_text(j, st, 2);
    ngx_collab_sub_json(j, st);
    collab_json_key(j, "language");
    ngx_collab_col_text(j, st, 5);
    collab_json_key(j, "enabled");
    collab_json_bool(j, sqlite3_column_int(st, 6));

    if (code) {
        collab_json_key(j, "code");
        ngx_collab_col_text(j, st, 9);
    }

    collab_json_key(j, "createdAt");
    collab_json_time(j, sqlite3_column_int64(st, 7));
    collab_json_key(j, "updatedAt");
    collab_json_time(j, sqlite3_column_int64(st, 8));
    collab_json_obj_close(j);
}


static void
ngx_collab_col_raw(collab_json_t *j, sqlite3_stmt *st, int col,
    const char *none)
{
    ngx_str_t  s;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        collab_json_raw(j, (u_char *) none, ngx_strlen(none));
        return;
    }

    ngx_collab_db_col(st, col, &s);
    collab_json_raw(j, s.data, s.len);
}


/* a row of COLLAB_EXECUTION_COLUMNS; the tail writes it too */
void
ngx_collab_execution_json(collab_json_t *j, sqlite3_stmt *st,
    ngx_uint_t payload)
{
    collab_json_obj_open(j);
    collab_json_key(j, "id");
    ngx_collab_col_text(j, st, 1);
    collab_json_key(j, "workflowId");
    ngx_collab_col_text(j, st, 2);
    collab_json_key(j, "event");
    ngx_collab_col_text(j, st, 3);
    collab_json_key(j, "eventId");
    ngx_collab_col_text(j, st, 4);
    collab_json_key(j, "status");
    ngx_collab_col_text(j, st, 5);
    collab_json_key(j, "attempts");
    collab_json_int(j, sqlite3_column_int64(st, 15));
    collab_json_key(j, "durationMs");
    ngx_collab_col_int(j, st, 6);
    collab_json_key(j, "result");
    ngx_collab_col_raw(j, st, 7, "null");
    collab_json_key(j, "error");
    ngx_collab_col_raw(j, st, 8, "null");
    collab_json_key(j, "logs");
    ngx_collab_col_raw(j, st, 9, "[]");
    collab_json_key(j, "fetches");
    ngx_collab_col_raw(j, st, 10, "[]");
    collab_json_key(j, "startedAt");
    ngx_collab_col_time(j, st, 11);
    collab_json_key(j, "finishedAt");
    ngx_collab_col_time(j, st, 12);
    collab_json_key(j, "createdAt");
    ngx_collab_col_time(j, st, 13);

    if (payload) {
        collab_json_key(j, "payload");
        ngx_collab_col_raw(j, st, 14, "null");
    }

    collab_json_obj_close(j);
}


/* ---  --------------------------------------------------------------------- */

/* the fields of a create or update body, validated (on the event loop) */
static ngx_int_t
ngx_collab_workflow_input(ngx_collab_req_t *cr, ngx_uint_t create,
    ngx_collab_workflow_input_t *in)
{
    json_t      *v;
    ngx_uint_t   present;

    ngx_memzero(in, sizeof(ngx_collab_workflow_input_t));

    if (ngx_collab_check_fields(cr, ngx_collab_workflow_fields) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_collab_get_string(cr, "name", create, COLLAB_NAME_MAX, &in->name,
                              &present)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (present == 2) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                 "name", "name: must be a string");
    }

    in->has_name = (present == 1);

    if (ngx_collab_sub_events(cr, &ngx_collab_workflow_sub, create, &in->sub)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = json_object_get(cr->body, "code");

    if (v || create) {
        if (v == NULL) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "code", "code: is required");
        }

        if (!json_is_string(v) || json_string_length(v) == 0) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "code",
                                     "code: must be a non-empty string");
        }

        if (json_string_length(v) > COLLAB_CODE_MAX) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "code", "code: at most %d bytes",
                                     COLLAB_CODE_MAX);
        }

        in->code.data = (u_char *) json_string_value(v);
        in->code.len = json_string_length(v);
        in->has_code = 1;
    }

    v = json_object_get(cr->body, "language");

    if (v) {
        if (!json_is_string(v)
            || (ngx_strcmp(json_string_value(v), "javascript") != 0
                && ngx_strcmp(json_string_value(v), "typescript") != 0))
        {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "language", "language: must be "
                                     "\"javascript\" or \"typescript\"");
        }

        in->has_language = 1;
    }

    if (v || create) {
        ngx_str_set(&in->language, "javascript");

        if (v && json_string_value(v)[0] == 't') {
            ngx_str_set(&in->language, "typescript");
        }
    }

    if (ngx_collab_sub_room(cr, &in->sub) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_collab_sub_enabled(cr, &in->sub);
}


/* ---  --------------------------------------------------------------------- */

static ngx_int_t
ngx_collab_workflow_compile(ngx_collab_req_t *cr,
    ngx_collab_workflow_ctx_t *ctx)
{
    ngx_collab_compile_t  *c;

    c = &ctx->compile;

    c->code = ctx->in.code;
    c->language = (ctx->in.language.data[0] == 't') ? "typescript"
                                                     : "javascript";
    c->handler = ngx_collab_workflow_compiled;
    c->data = ctx;
    c->log = cr->request->connection->log;

    if (!ngx_collab_dispatch_available()
        || ngx_collab_runner_compile(c) != NGX_OK)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "workflows cannot be compiled now: no "
                                 "workflow runner is available");
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cr->request->connection->log, 0,
                   "collab: workflow code of %uz bytes sent to compile",
                   c->code.len);

    return NGX_AGAIN;
}


static void
ngx_collab_workflow_compiled(ngx_collab_compile_t *c, json_t *answer)
{
    json_t                     *js, *map, *line, *column;
    ngx_str_t                   message;
    ngx_pool_t                 *pool;
    ngx_collab_req_t           *cr;
    ngx_collab_workflow_ctx_t  *ctx;

    ctx = c->data;
    cr = ctx->cr;
    pool = cr->request->pool;

    if (answer == NULL) {
        (void) ngx_collab_refuse(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "the workflow runner did not answer; "
                                 "nothing was changed, try again");
        ngx_collab_resume(cr, NGX_ERROR);
        return;
    }

    if (!json_is_true(json_object_get(answer, "ok"))) {
        message.data = (u_char *) json_string_value(
                                      json_object_get(answer, "message"));

        if (message.data == NULL) {
            ngx_str_set(&message, "the code does not compile");

        } else {
            message.len = ngx_strlen(message.data);
        }

        line = json_object_get(answer, "line");
        column = json_object_get(answer, "column");

        if (json_is_number(line) && json_number_value(line) >= 1) {
            cr->err.line = (ngx_uint_t) json_number_value(line);
            cr->err.column = json_is_number(column)
                             ? (ngx_uint_t) json_number_value(column) : 1;

            (void) ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "code", "code: %V (line %ui, "
                                     "column %ui)", &message, cr->err.line,
                                     cr->err.column);

        } else {
            (void) ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "code", "code: %V", &message);
        }

        ngx_collab_resume(cr, NGX_ERROR);
        return;
    }

    js = json_object_get(answer, "js");
    map = json_object_get(answer, "sourceMap");

    if (!json_is_string(js)) {
        (void) ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "the workflow runner answered without "
                                 "code");
        ngx_collab_resume(cr, NGX_ERROR);
        return;
    }

    ctx->js.len = json_string_length(js);
    ctx->js.data = ngx_pnalloc(pool, ctx->js.len + 1);

    if (json_is_string(map)) {
        ctx->source_map.len = json_string_length(map);
        ctx->source_map.data = ngx_pnalloc(pool, ctx->source_map.len + 1);
    }

    if (ctx->js.data == NULL
        || (json_is_string(map) && ctx->source_map.data == NULL))
    {
        (void) ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
        ngx_collab_resume(cr, NGX_ERROR);
        return;
    }

    ngx_memcpy(ctx->js.data, json_string_value(js), ctx->js.len);

    if (ctx->source_map.data) {
        ngx_memcpy(ctx->source_map.data, json_string_value(map),
                   ctx->source_map.len);
    }

    ctx->compiled = 1;

    ngx_collab_resume(cr, NGX_OK);
}


static ngx_collab_workflow_ctx_t *
ngx_collab_workflow_ctx(ngx_collab_req_t *cr)
{
    ngx_collab_workflow_ctx_t  *ctx;

    ctx = ngx_pcalloc(cr->request->pool, sizeof(ngx_collab_workflow_ctx_t));
    if (ctx == NULL) {
        (void) ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
        return NULL;
    }

    ctx->cr = cr;
    cr->ctx = ctx;

    return ctx;
}


/* ---  --------------------------------------------------------------------- */

ngx_int_t
ngx_collab_workflow_create_prepare(ngx_collab_req_t *cr)
{
    ngx_collab_workflow_ctx_t  *ctx;

    ctx = ngx_collab_workflow_ctx(cr);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_collab_workflow_input(cr, 1, &ctx->in) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_collab_workflow_compile(cr, ctx);
}


/* the row an insert or update returns is the answer */
static ngx_int_t
ngx_collab_workflow_returned(ngx_collab_req_t *cr, sqlite3_stmt *st,
    const char *what)
{
    int  rc;

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, what);
    }

    ngx_collab_workflow_json(&cr->out, st, 1);

    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        collab_json_free(&cr->out);
        collab_json_init(&cr->out);
        return ngx_collab_refuse_db(cr, rc, what);
    }

    return NGX_OK;
}


/* in a storage thread: the compiled workflow is written */
ngx_int_t
ngx_collab_workflow_create(ngx_collab_req_t *cr)
{
    ngx_int_t                    rc;
    ngx_str_t                    id;
    sqlite3_stmt                *st;
    ngx_collab_workflow_ctx_t   *ctx;
    ngx_collab_workflow_input_t *in;
    char                         idbuf[COLLAB_ID_MAX];

    ctx = cr->ctx;
    in = &ctx->in;

    rc = ngx_collab_sub_count(cr, &ngx_collab_workflow_sub,
                              COLLAB_WORKFLOWS_MAX);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_collab_fail(cr, NGX_HTTP_CONFLICT, NULL,
                               "an account has at most %d workflows",
                               COLLAB_WORKFLOWS_MAX);
    }

    id.len = collab_id_new(idbuf, "wf_");
    id.data = (u_char *) idbuf;

    st = ngx_collab_db_stmt(ngx_collab_sql_workflow_insert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "workflow insert");
    }

    ngx_collab_db_bind_str(st, 1, &id);
    ngx_collab_db_bind_str(st, 2, &cr->params[0]);
    ngx_collab_db_bind_str(st, 3, &in->name);
    ngx_collab_sub_bind(st, 4, &in->sub);
    ngx_collab_db_bind_str(st, 7, &in->language);
    ngx_collab_db_bind_str(st, 8, &in->code);
    ngx_collab_db_bind_str(st, 9, &ctx->js);
    ngx_collab_db_bind_str(st, 10, ctx->source_map.data ? &ctx->source_map
                                                        : NULL);
    sqlite3_bind_int(st, 11, (int) in->sub.enabled);
    sqlite3_bind_int64(st, 12, collab_now_ms());

    if (ngx_collab_workflow_returned(cr, st, "workflow insert") != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_collab_sub_register(cr, &ngx_collab_workflow_sub, &id, &in->sub)
        != NGX_OK)
    {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "the workflow registry is full");
    }

    return ngx_collab_reply(cr, NGX_HTTP_CREATED);
}


static void
ngx_collab_workflow_row(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_collab_workflow_json(j, st, 0);
}


ngx_int_t
ngx_collab_workflow_list(ngx_collab_req_t *cr)
{
    return ngx_collab_sub_list(cr, &ngx_collab_workflow_sub);
}


ngx_int_t
ngx_collab_workflow_get(ngx_collab_req_t *cr)
{
    sqlite3_stmt  *st;

    if (ngx_collab_sub_find(cr, &ngx_collab_workflow_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_collab_workflow_json(&cr->out, st, 1);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/*
 * A change of the code or the language is compiled first: the code and
 * language it does not change are read here, and the write checks that
 * the workflow did not change meanwhile.
 */
ngx_int_t
ngx_collab_workflow_update_prepare(ngx_collab_req_t *cr)
{
    ngx_pool_t                 *pool;
    sqlite3_stmt               *st;
    ngx_collab_workflow_ctx_t  *ctx;

    ctx = ngx_collab_workflow_ctx(cr);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_collab_workflow_input(cr, 0, &ctx->in) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!ctx->in.has_code && !ctx->in.has_language) {
        return NGX_OK;
    }

    if (ngx_collab_sub_find(cr, &ngx_collab_workflow_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    pool = cr->request->pool;

    if ((!ctx->in.has_code
         && ngx_collab_db_dup(pool, st, 9, &ctx->in.code) != NGX_OK)
        || (!ctx->in.has_language
            && ngx_collab_db_dup(pool, st, 5, &ctx->in.language) != NGX_OK))
    {
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    ctx->expect = sqlite3_column_int64(st, 8);

    return ngx_collab_workflow_compile(cr, ctx);
}


/* in a storage thread */
ngx_int_t
ngx_collab_workflow_update(ngx_collab_req_t *cr)
{
    ngx_pool_t                   *pool;
    sqlite3_stmt                 *st;
    ngx_collab_workflow_ctx_t    *ctx;
    ngx_collab_workflow_input_t  *in;

    ctx = cr->ctx;
    in = &ctx->in;

    if (ngx_collab_sub_find(cr, &ngx_collab_workflow_sub, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->expect && sqlite3_column_int64(st, 8) != ctx->expect) {
        return ngx_collab_fail(cr, NGX_HTTP_CONFLICT, NULL,
                               "the workflow changed while its code was "
                               "compiled; nothing was changed, try again");
    }

    /* what the request does not change keeps the row's value */
    pool = cr->request->pool;

    if ((!in->has_name && ngx_collab_db_dup(pool, st, 2, &in->name) != NGX_OK)
        || ngx_collab_sub_keep(pool, st, &ngx_collab_workflow_sub, &in->sub)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_workflow_update);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "workflow update");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);
    ngx_collab_db_bind_str(st, 3, &in->name);
    ngx_collab_sub_bind(st, 4, &in->sub);
    sqlite3_bind_int(st, 7, (int) in->sub.enabled);
    sqlite3_bind_int64(st, 8, collab_now_ms());
    sqlite3_bind_int(st, 9, ctx->compiled);

    if (ctx->compiled) {
        ngx_collab_db_bind_str(st, 10, &in->language);
        ngx_collab_db_bind_str(st, 11, &in->code);
        ngx_collab_db_bind_str(st, 12, &ctx->js);
        ngx_collab_db_bind_str(st, 13, ctx->source_map.data
                                       ? &ctx->source_map : NULL);
    }

    if (ngx_collab_workflow_returned(cr, st, "workflow update") != NGX_OK) {
        return NGX_ERROR;
    }

    /* from the next event on, in every worker */
    ngx_collab_sub_update(cr, &ngx_collab_workflow_sub, &in->sub);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


static ngx_int_t
ngx_collab_workflow_resync(ngx_collab_req_t *cr)
{
    return ngx_collab_sub_resync(cr, &ngx_collab_workflow_sub);
}


/* after the commit: what runs of it in this worker stops */
static ngx_int_t
ngx_collab_workflow_deleted(ngx_collab_req_t *cr)
{
    ngx_collab_dispatch_cancel(&cr->params[1]);

    return NGX_OK;
}


/* its executions go with it (by foreign key), pending ones included */
ngx_int_t
ngx_collab_workflow_delete(ngx_collab_req_t *cr)
{
    ngx_int_t  rc;

    rc = ngx_collab_sub_delete(cr, &ngx_collab_workflow_sub);

    if (rc == NGX_DECLINED) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND,
                                 NULL, "workflow not found");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_collab_sub_unregister(cr, &ngx_collab_workflow_sub) != NGX_OK) {
        return ngx_collab_fail(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                               "an internal error occurred");
    }

    cr->committed = ngx_collab_workflow_deleted;

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);
}


/* ---  --------------------------------------------------------------------- */

/* the data of a sample event of this type */
static void
ngx_collab_workflow_sample(collab_json_t *j, ngx_int_t type, ngx_str_t *room)
{
    char  id[COLLAB_ID_MAX];

    collab_json_obj_open(j);

    if (type != COLLAB_EVENT_SESSION_STARTED
        && type != COLLAB_EVENT_SESSION_CLOSED)
    {
        collab_json_key(j, "userId");
        collab_json_cstr(j, "user-001");
    }

    collab_json_key(j, "roomId");

    if (room->data) {
        collab_json_str(j, room->data, room->len);

    } else {
        collab_json_null(j);
    }

    if (type == COLLAB_EVENT_SESSION_STARTED
        || type == COLLAB_EVENT_SESSION_CLOSED)
    {
        (void) collab_id_new(id, "ses_");
        collab_json_key(j, "sessionId");
        collab_json_cstr(j, id);
    }

    if (type == COLLAB_EVENT_SESSION_STARTED) {
        collab_json_key(j, "userId");
        collab_json_cstr(j, "user-001");
    }

    if (type == COLLAB_EVENT_SESSION_CLOSED) {
        collab_json_key(j, "durationMs");
        collab_json_int(j, 60000);
    }

    if (type == COLLAB_EVENT_USER_UPDATED) {
        collab_json_key(j, "fields");
        collab_json_arr_open(j);
        collab_json_cstr(j, "name");
        collab_json_arr_close(j);
    }

    collab_json_obj_close(j);
}


/*
 * The event of a test: the one given, an envelope {event, data,
 * timestamp?} of a known event whose data.roomId, when there is one, is a
 * room of the account; or a sample of the workflow's first event, in its
 * room or the account's newest.  Its name, room and envelope are set.
 */
static ngx_int_t
ngx_collab_workflow_test_event(ngx_collab_req_t *cr, sqlite3_stmt *wf,
    const char **name, ngx_str_t *room, collab_json_t *envelope)
{
    int            rc;
    json_t        *ev, *v, *data;
    int64_t        at;
    ngx_int_t      type;
    ngx_str_t      s, text;
    const char    *key;
    sqlite3_stmt  *st;
    collab_json_t  d;
    json_error_t   err;

    ev = json_object_get(cr->body, "event");
    room->data = NULL;
    room->len = 0;
    at = collab_now_ms();

    if (ev) {
        if (!json_is_object(ev)) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "event", "event: must be an event "
                                     "envelope {event, data, timestamp}");
        }

        json_object_foreach(ev, key, v) {
            if (ngx_strcmp(key, "event") != 0 && ngx_strcmp(key, "data") != 0
                && ngx_strcmp(key, "timestamp") != 0)
            {
                return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                         "event", "event.%s: unknown "
                                         "field", key);
            }
        }

        v = json_object_get(ev, "event");
        s.data = (u_char *) json_string_value(v);
        s.len = s.data ? json_string_length(v) : 0;
        type = s.data ? ngx_collab_event_lookup(&s) : NGX_ERROR;

        if (type == NGX_ERROR) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                     "event", "event.event: must be the "
                                     "name of an event");
        }

        data = json_object_get(ev, "data");

        if (!json_is_object(data)) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "event",
                                     "event.data: must be an object");
        }

        v = json_object_get(data, "roomId");

        if (v && !json_is_null(v)) {
            room->data = (u_char *) json_string_value(v);
            room->len = room->data ? json_string_length(v) : 0;

            rc = (room->data && collab_uuid_valid(room->data, room->len))
                 ? ngx_collab_room_exists(cr, &cr->params[0], room)
                 : NGX_DECLINED;

            if (rc == NGX_DECLINED) {
                return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                         "event", "event.data.roomId: "
                                         "no such room in this account");
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }
        }

        v = json_object_get(ev, "timestamp");

        if (v) {
            if (!json_is_string(v) || json_string_length(v) != 24) {
                return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST,
                                         "event", "event.timestamp: "
                                         "must be an ISO 8601 UTC time such "
                                         "as 2026-05-29T10:06:00.000Z");
            }
        }

        *name = ngx_collab_event_name(type);

        collab_json_init(&d);
        collab_json_value(&d, data);

        text.data = d.data;
        text.len = d.len;

        collab_json_obj_open(envelope);
        collab_json_key(envelope, "event");
        collab_json_cstr(envelope, *name);
        collab_json_key(envelope, "data");
        collab_json_raw(envelope, text.data, text.len);
        collab_json_key(envelope, "timestamp");

        if (v) {
            collab_json_str(envelope, (u_char *) json_string_value(v), 24);

        } else {
            collab_json_time(envelope, at);
        }

        collab_json_obj_close(envelope);
        collab_json_free(&d);

        return NGX_OK;
    }

    /* the first of the workflow's events; "*" means the first of all */
    ngx_collab_db_col(wf, 3, &text);
    v = json_loadb((char *) text.data, text.len, 0, &err);

    s.data = (u_char *) json_string_value(json_array_get(v, 0));
    s.len = s.data ? ngx_strlen(s.data) : 0;
    type = s.data ? ngx_collab_event_lookup(&s) : NGX_ERROR;

    json_decref(v);

    if (type == NGX_ERROR) {
        type = COLLAB_EVENT_PARTICIPANT_JOINED;
    }

    *name = ngx_collab_event_name(type);

    if (sqlite3_column_type(wf, 2) != SQLITE_NULL) {
        if (ngx_collab_db_dup(cr->request->pool, wf, 2, room) != NGX_OK) {
            return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL, "an internal error occurred");
        }

    } else {
        st = ngx_collab_db_stmt(ngx_collab_sql_newest_room);
        if (st == NULL) {
            return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room lookup");
        }

        ngx_collab_db_bind_str(st, 1, &cr->params[0]);

        rc = sqlite3_step(st);

        if (rc == SQLITE_ROW) {
            if (ngx_collab_db_dup(cr->request->pool, st, 0, room) != NGX_OK)
            {
                return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL, "an internal error occurred");
            }

        } else if (rc != SQLITE_DONE) {
            return ngx_collab_refuse_db(cr, rc, "room lookup");
        }
    }

    collab_json_init(&d);
    ngx_collab_workflow_sample(&d, type, room);

    text.data = d.data;
    text.len = d.len;

    ngx_collab_event_envelope(envelope, *name, &text, at);
    collab_json_free(&d);

    return NGX_OK;
}


ngx_int_t
ngx_collab_workflow_test_prepare(ngx_collab_req_t *cr)
{
    if (ngx_collab_workflow_ctx(cr) == NULL) {
        return NGX_ERROR;
    }

    if (ngx_collab_check_fields(cr, (const char *[]) { "event", NULL })
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ngx_collab_dispatch_available()) {
        return ngx_collab_refuse(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "workflows cannot run now: no workflow "
                                 "runner is available");
    }

    return NGX_OK;
}


static void
ngx_collab_workflow_test_done(ngx_collab_exec_watch_t *w, ngx_int_t rc)
{
    int                         step;
    ngx_int_t                   res;
    sqlite3_stmt               *st;
    ngx_connection_t           *c;
    ngx_collab_req_t           *cr;
    ngx_collab_workflow_ctx_t  *ctx;

    ctx = w->data;
    cr = ctx->cr;
    c = cr->request->connection;

    if (rc != NGX_OK) {
        res = ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                              "the outcome of the execution could not be "
                              "written; it runs again later");
        goto done;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_execution_seq);

    if (st == NULL) {
        step = SQLITE_ERROR;

    } else {
        sqlite3_bind_int64(st, 1, w->seq);
        step = sqlite3_step(st);
    }

    if (step == SQLITE_ROW) {
        ngx_collab_execution_json(&cr->out, st, 1);
        res = ngx_collab_reply(cr, NGX_HTTP_OK);

    } else if (step == SQLITE_DONE) {
        /* the workflow was deleted meanwhile */
        res = ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL,
                              "execution not found");

    } else {
        (void) ngx_collab_refuse_db(cr, step, "execution get");
        res = ngx_collab_fail(cr, cr->err.status, NULL, "%s",
                              cr->err.message);
    }

done:

    ngx_collab_db_release();

    ngx_http_finalize_request(cr->request, res);
    ngx_http_run_posted_requests(c);
}


/* after the commit: the execution runs now, and the answer waits for it */
static ngx_int_t
ngx_collab_workflow_test_committed(ngx_collab_req_t *cr)
{
    ngx_collab_workflow_ctx_t  *ctx;

    ctx = cr->ctx;

    ctx->watch.seq = ctx->exec.seq;
    ctx->watch.handler = ngx_collab_workflow_test_done;
    ctx->watch.data = ctx;

    ngx_collab_executions_watch(&ctx->watch);
    ngx_collab_dispatch_run(&ctx->exec);

    cr->request->main->count++;

    return NGX_DONE;
}


/* in a storage thread: the execution is recorded, claimed by this worker */
ngx_int_t
ngx_collab_workflow_test(ngx_collab_req_t *cr)
{
    int                          rc;
    ngx_str_t                    event_id, room, payload, id;
    ngx_pool_t                  *pool;
    const char                  *name;
    sqlite3_stmt                *st;
    collab_json_t                envelope;
    ngx_collab_execution_t      *e;
    ngx_collab_workflow_ctx_t   *ctx;
    char                         evtbuf[COLLAB_ID_MAX];

    ctx = cr->ctx;
    pool = cr->request->pool;
    e = &ctx->exec;
    name = NULL;

    st = ngx_collab_db_stmt(ngx_collab_sql_workflow_code);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "workflow get");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND,
                                 NULL, "workflow not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "workflow get");
    }

    if (ngx_collab_db_dup(pool, st, 0, &e->js) != NGX_OK
        || ngx_collab_db_dup(pool, st, 1, &e->source_map) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    collab_json_init(&envelope);

    if (ngx_collab_workflow_test_event(cr, st, &name, &room, &envelope)
        != NGX_OK)
    {
        collab_json_free(&envelope);
        return NGX_ERROR;
    }

    if (envelope.failed) {
        collab_json_free(&envelope);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    payload.len = envelope.len;
    payload.data = ngx_pnalloc(pool, envelope.len);

    if (payload.data == NULL) {
        collab_json_free(&envelope);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(payload.data, envelope.data, envelope.len);
    collab_json_free(&envelope);

    event_id.len = collab_id_new(evtbuf, "evt_");
    event_id.data = (u_char *) evtbuf;
    id.data = ctx->exec_id;

    rc = ngx_collab_execution_add(&cr->params[1], &cr->params[0],
                                  room.data ? &room : NULL, &event_id, name,
                                  &payload, collab_now_ms(), 1, &id,
                                  &e->seq);
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "test execution");
    }

    e->id = id;
    e->workflow = cr->params[1];
    e->account = cr->params[0];
    e->room = room;
    e->payload = payload;
    e->attempt = 1;

    cr->committed = ngx_collab_workflow_test_committed;

    /* the answer is the execution, once it has run */
    return ngx_collab_reply(cr, NGX_HTTP_OK);
}


/* ---  --------------------------------------------------------------------- */

static void
ngx_collab_execution_row(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_collab_execution_json(j, st, 0);
}


ngx_int_t
ngx_collab_execution_list(ngx_collab_req_t *cr)
{
    int64_t        before;
    ngx_str_t      status;
    ngx_uint_t     limit, has_status;

    static const char  *statuses[] = {
        "pending", "running", "success", "error", "timeout", NULL
    };

    if (ngx_collab_page_args(cr, "executions", &limit, &before) != NGX_OK) {
        return NGX_ERROR;
    }

    has_status = (ngx_collab_arg(cr, "status", &status) == NGX_OK);

    if (has_status) {
        const char  **s;

        for (s = statuses; *s; s++) {
            if (status.len == ngx_strlen(*s)
                && ngx_strncmp(status.data, *s, status.len) == 0)
            {
                break;
            }
        }

        if (*s == NULL) {
            return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "status",
                                   "status: must be pending, running, "
                                   "success, error or timeout");
        }
    }

    return ngx_collab_sub_log_list(cr, &ngx_collab_workflow_sub, limit,
                                   before, has_status ? &status : NULL);
}


ngx_int_t
ngx_collab_execution_get(ngx_collab_req_t *cr)
{
    ngx_int_t      rc;
    sqlite3_stmt  *st;

    rc = ngx_collab_sub_log_get(cr, &ngx_collab_workflow_sub, &st);

    if (rc == NGX_DECLINED) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND,
                                 NULL, "execution not found");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_collab_execution_json(&cr->out, st, 1);

    return ngx_collab_reply(cr, NGX_HTTP_OK);
}
