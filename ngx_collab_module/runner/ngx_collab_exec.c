/*
 * Copyright (C) collab
 *
 * Executions: each one a fresh QuickJS runtime and context with its own
 * memory limit (an allocator that counts), stack limit and interrupt
 * handler (the wall-clock deadline, or a limit passed elsewhere).  The
 * module is evaluated, its default export called with the event and the
 * bindings, and the promise it returns awaited while the event loop runs
 * the other executions; runnable executions take turns of a few
 * milliseconds of jobs each.  The result frame goes to the module when
 * the promise settles, a limit is passed or the deadline comes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_collab_exec.h"
#include "ngx_collab_js.h"
#include "ngx_collab_fetch.h"


/* the time one execution may run jobs before the others get a turn */
#define COLLAB_SLICE_MS        5
#define COLLAB_JOBS_PER_CHECK  64


static struct {
    collab_exec_t      *all;
    size_t              count;
    collab_exec_t      *run_head;
    collab_exec_t      *run_tail;
} collab_execs;


static int collab_exec_interrupt(JSRuntime *rt, void *opaque);
static const char *collab_member_str(json_t *msg, const char *name);
static collab_exec_t *collab_exec_new(json_t *msg, const char **err);
static void collab_exec_wake(collab_exec_t *e);
static void collab_exec_fail(collab_exec_t *e, const char *message);
static void collab_exec_throw(collab_exec_t *e);
static void collab_exec_deadline(collab_timer_t *t);
static void collab_exec_step(collab_exec_t *e);
static int collab_exec_jobs(collab_exec_t *e);
static void collab_exec_settle(collab_exec_t *e);
static void collab_exec_call(collab_exec_t *e);
static void collab_exec_finish(collab_exec_t *e, const char *status,
    JSValue result, JSValue error);
static int collab_exec_result(collab_exec_t *e, JSValueConst result,
    collab_json_t *res, char *message);
static void collab_exec_error_json(collab_exec_t *e, collab_json_t *j,
    JSValueConst error);
static void collab_exec_free(collab_exec_t *e);


/* how an execution's natives, timers and fetches report to it */
static const collab_exec_ops_t  collab_exec_ops = {
    collab_exec_wake,
    collab_exec_fail,
    collab_exec_throw
};


static int
collab_exec_interrupt(JSRuntime *rt, void *opaque)
{
    collab_exec_t  *e = opaque;

    if (e->fatal[0] != '\0' || e->engine.exceeded) {
        return 1;
    }

    if (collab_clock() >= e->deadline) {
        e->timed_out = 1;
        return 1;
    }

    return 0;
}


static const char *
collab_member_str(json_t *msg, const char *name)
{
    return json_string_value(json_object_get(msg, name));
}


static collab_exec_t *
collab_exec_new(json_t *msg, const char **err)
{
    json_t         *online, *v, *map;
    size_t          i;
    const char     *id, *account, *room, *bad;
    collab_exec_t  *e;

    id = collab_member_str(msg, "id");
    account = collab_member_str(msg, "accountId");
    v = json_object_get(msg, "roomId");
    room = json_string_value(v);
    online = json_object_get(msg, "online");
    map = json_object_get(msg, "sourceMap");

    if (account == NULL) {
        *err = "accountId must be a string";
        return NULL;
    }

    if (v != NULL && !json_is_null(v) && room == NULL) {
        *err = "roomId must be a string or null";
        return NULL;
    }

    if (!json_is_string(json_object_get(msg, "js"))) {
        *err = "js must be a string";
        return NULL;
    }

    if (!json_is_object(json_object_get(msg, "event"))) {
        *err = "event must be an object";
        return NULL;
    }

    if (online != NULL && !json_is_null(online)) {
        if (!json_is_array(online)) {
            *err = "online must be an array of user ids";
            return NULL;
        }

        for (i = 0; i < json_array_size(online); i++) {
            if (!json_is_string(json_array_get(online, i))) {
                *err = "online must be an array of user ids";
                return NULL;
            }
        }
    }

    if (map != NULL && !json_is_null(map) && !json_is_string(map)) {
        *err = "sourceMap must be a string or null";
        return NULL;
    }

    e = calloc(1, sizeof(collab_exec_t));
    if (e == NULL) {
        *err = "out of memory";
        return NULL;
    }

    e->ops = &collab_exec_ops;
    e->promise = JS_UNDEFINED;
    e->event = JS_UNDEFINED;
    e->bindings = JS_UNDEFINED;
    e->describe = JS_UNDEFINED;
    e->deadline_timer.handler = collab_exec_deadline;
    e->deadline_timer.data = e;

    if (collab_limits_parse(&e->limits, json_object_get(msg, "limits"),
                            &bad) != 0)
    {
        static char  text[64];

        free(e);
        if (strcmp(bad, "limits") == 0) {
            snprintf(text, sizeof(text), "limits must be an object");

        } else {
            snprintf(text, sizeof(text), "limits.%s must be a whole number "
                     "from 0", bad);
        }
        *err = text;
        return NULL;
    }

    e->id = strdup(id);
    e->account_id = strdup(account);
    e->room_id = room ? strdup(room) : NULL;
    e->online = online && json_is_array(online) ? json_incref(online)
                                                 : json_array();

    if (e->id == NULL || e->account_id == NULL
        || (room && e->room_id == NULL) || e->online == NULL)
    {
        *err = "out of memory";
        collab_exec_free(e);
        return NULL;
    }

    if (json_is_string(map)) {
        if (collab_sourcemap_parse(&e->sourcemap, json_string_value(map),
                                   json_string_length(map)) != 0)
        {
            *err = "sourceMap is not a version 3 source map";
            collab_exec_free(e);
            return NULL;
        }

        e->has_sourcemap = 1;
    }

    collab_json_init(&e->logs);
    collab_json_arr_open(&e->logs);
    collab_json_init(&e->fetches);
    collab_json_arr_open(&e->fetches);

    return e;
}


void
collab_exec_start(json_t *msg)
{
    json_t         *js;
    JSValue         module, event;
    const char     *err;
    collab_json_t   text;
    collab_exec_t  *e;
    unsigned char  *data;
    size_t          len;

    if (collab_member_str(msg, "id") == NULL) {
        collab_runner_send_error(NULL, "run: id must be a string");
        return;
    }

    e = collab_exec_new(msg, &err);
    if (e == NULL) {
        collab_runner_send_error(collab_member_str(msg, "id"), err);
        return;
    }

    e->started_at = collab_wall_clock();
    e->started = collab_clock();
    e->deadline = e->started + e->limits.timeout_ms;

    e->next = collab_execs.all;
    if (collab_execs.all) {
        collab_execs.all->prev = e;
    }
    collab_execs.all = e;
    collab_execs.count++;
    e->listed = 1;

    collab_timer_set(&e->deadline_timer, e->limits.timeout_ms);

    e->rt = collab_engine_new(&e->engine, e, e->limits.memory);
    if (e->rt == NULL) {
        collab_exec_fail(e, "collab-runner: out of memory");
        collab_exec_finish(e, "error", JS_UNDEFINED, JS_UNDEFINED);
        return;
    }

    JS_SetInterruptHandler(e->rt, collab_exec_interrupt, e);
    JS_UpdateStackTop(e->rt);

    e->ctx = JS_NewContext(e->rt);
    if (e->ctx == NULL) {
        e->engine.exceeded = 1;
        collab_exec_finish(e, "error", JS_UNDEFINED, JS_UNDEFINED);
        return;
    }

    JS_SetContextOpaque(e->ctx, e);

    if (collab_js_install(e) != 0) {
        collab_exec_throw(e);
        return;
    }

    /* the event, as the API writes it, into the context */
    collab_json_init(&text);
    collab_json_value(&text, json_object_get(msg, "event"));
    data = collab_json_detach(&text, &len);

    if (data == NULL) {
        collab_exec_fail(e, "collab-runner: out of memory");
        collab_exec_finish(e, "error", JS_UNDEFINED, JS_UNDEFINED);
        return;
    }

    event = JS_ParseJSON(e->ctx, (char *) data, len, "event");
    free(data);

    if (JS_IsException(event)) {
        collab_exec_throw(e);
        return;
    }

    e->event = event;

    js = json_object_get(msg, "js");

    module = JS_Eval(e->ctx, json_string_value(js), json_string_length(js),
                     COLLAB_WORKFLOW_FILE,
                     JS_EVAL_TYPE_MODULE|JS_EVAL_FLAG_COMPILE_ONLY);

    if (JS_IsException(module)) {
        collab_exec_throw(e);
        return;
    }

    e->module = JS_VALUE_GET_PTR(module);
    e->phase = COLLAB_EXEC_EVAL;

    /* the top level runs now, up to its first await */
    e->promise = JS_EvalFunction(e->ctx, module);

    if (JS_IsException(e->promise)) {
        e->promise = JS_UNDEFINED;
        collab_exec_throw(e);
        return;
    }

    collab_exec_wake(e);
}


static void
collab_exec_wake(collab_exec_t *e)
{
    if (e->queued || e->phase == COLLAB_EXEC_DONE) {
        return;
    }

    e->queued = 1;
    e->run_next = NULL;

    if (collab_execs.run_tail) {
        collab_execs.run_tail->run_next = e;

    } else {
        collab_execs.run_head = e;
    }

    collab_execs.run_tail = e;
}


int
collab_exec_busy(void)
{
    return collab_execs.run_head != NULL;
}


size_t
collab_exec_count(void)
{
    return collab_execs.count;
}


/* one turn for each execution that was runnable when the turn began */
void
collab_exec_run(void)
{
    collab_exec_t  *e, *last;

    last = collab_execs.run_tail;

    while (collab_execs.run_head) {
        e = collab_execs.run_head;
        collab_execs.run_head = e->run_next;

        if (collab_execs.run_head == NULL) {
            collab_execs.run_tail = NULL;
        }

        e->queued = 0;
        e->run_next = NULL;

        collab_exec_step(e);

        if (e == last) {
            break;
        }
    }
}


/* a limit was passed outside the engine: the execution ends */
static void
collab_exec_fail(collab_exec_t *e, const char *message)
{
    if (e->fatal[0] == '\0') {
        strncpy(e->fatal, message, sizeof(e->fatal) - 1);
    }

    collab_exec_wake(e);
}


static void
collab_exec_deadline(collab_timer_t *t)
{
    collab_exec_t  *e = t->data;

    e->timed_out = 1;
    collab_exec_finish(e, "timeout", JS_UNDEFINED, JS_UNDEFINED);
}


/* runs pending jobs for one slice; 0, or -1 when the execution ended */
static int
collab_exec_jobs(collab_exec_t *e)
{
    int         rc, n;
    int64_t     until;
    JSContext  *ctx;

    JS_UpdateStackTop(e->rt);
    until = collab_clock() + COLLAB_SLICE_MS;

    for (n = 1; JS_IsJobPending(e->rt); n++) {
        rc = JS_ExecutePendingJob(e->rt, &ctx);

        if (rc < 0) {
            collab_exec_throw(e);
            return -1;
        }

        if (e->fatal[0] != '\0' || e->timed_out || e->engine.exceeded) {
            collab_exec_throw(e);
            return -1;
        }

        if (n % COLLAB_JOBS_PER_CHECK == 0 && collab_clock() >= until) {
            /* the others' turn: this one is still runnable */
            collab_exec_wake(e);
            break;
        }
    }

    return 0;
}


static void
collab_exec_step(collab_exec_t *e)
{
    if (e->phase == COLLAB_EXEC_DONE) {
        return;
    }

    if (e->fatal[0] != '\0' || e->timed_out || e->engine.exceeded) {
        collab_exec_throw(e);
        return;
    }

    if (collab_exec_jobs(e) != 0) {
        return;
    }

    collab_exec_settle(e);
}


/* what the promise of the moment says */
static void
collab_exec_settle(collab_exec_t *e)
{
    JSValue  v;

    switch (JS_PromiseState(e->ctx, e->promise)) {

    case JS_PROMISE_PENDING:
        if (!JS_IsJobPending(e->rt) && e->fetching == NULL
            && !collab_js_has_timers(e) && !e->queued)
        {
            /* nothing can ever settle it */
            collab_exec_fail(e, "the workflow's promise never settled: "
                             "it awaits nothing that can happen");
            collab_exec_finish(e, "error", JS_UNDEFINED, JS_UNDEFINED);
        }

        return;

    case JS_PROMISE_REJECTED:
        v = JS_PromiseResult(e->ctx, e->promise);
        collab_exec_finish(e, "error", JS_UNDEFINED, v);
        return;

    case JS_PROMISE_FULFILLED:
        if (e->phase == COLLAB_EXEC_EVAL) {
            collab_exec_call(e);
            return;
        }

        v = JS_PromiseResult(e->ctx, e->promise);
        collab_exec_finish(e, "success", v, JS_UNDEFINED);
        return;

    default:
        /* not a promise: a plain function's value */
        collab_exec_finish(e, "success", JS_DupValue(e->ctx, e->promise),
                           JS_UNDEFINED);
        return;
    }
}


/* the module ran: its default export is called with the event */
static void
collab_exec_call(collab_exec_t *e)
{
    JSValue       ns, fn, ret, args[2];

    ns = JS_GetModuleNamespace(e->ctx, e->module);
    if (JS_IsException(ns)) {
        collab_exec_throw(e);
        return;
    }

    fn = JS_GetPropertyStr(e->ctx, ns, "default");
    JS_FreeValue(e->ctx, ns);

    if (JS_IsException(fn)) {
        collab_exec_throw(e);
        return;
    }

    if (!JS_IsFunction(e->ctx, fn)) {
        JS_FreeValue(e->ctx, fn);
        collab_exec_fail(e, "the workflow has no default export function: "
                         "write \"export default async function(event, "
                         "bindings) { ... }\"");
        collab_exec_finish(e, "error", JS_UNDEFINED, JS_UNDEFINED);
        return;
    }

    args[0] = e->event;
    args[1] = e->bindings;

    JS_UpdateStackTop(e->rt);
    ret = JS_Call(e->ctx, fn, JS_UNDEFINED, 2, args);
    JS_FreeValue(e->ctx, fn);

    if (JS_IsException(ret)) {
        collab_exec_throw(e);
        return;
    }

    JS_FreeValue(e->ctx, e->promise);
    e->promise = ret;
    e->phase = COLLAB_EXEC_CALL;

    if (e->fatal[0] != '\0' || e->timed_out || e->engine.exceeded) {
        collab_exec_throw(e);
        return;
    }

    if (JS_PromiseState(e->ctx, ret) == (JSPromiseStateEnum) -1) {
        collab_exec_finish(e, "success", JS_DupValue(e->ctx, ret),
                           JS_UNDEFINED);
        return;
    }

    collab_exec_wake(e);
}


/*
 * The engine threw (or was interrupted): a passed limit names itself,
 * anything else is the workflow's own error.
 */
static void
collab_exec_throw(collab_exec_t *e)
{
    JSValue  exc;

    exc = e->ctx ? JS_GetException(e->ctx) : JS_UNDEFINED;

    collab_exec_finish(e, e->timed_out ? "timeout" : "error", JS_UNDEFINED,
                       exc);
}


/* {"message": ..., "stack": ...} of a thrown value */
static void
collab_exec_error_json(collab_exec_t *e, collab_json_t *j, JSValueConst error)
{
    size_t       len;
    JSValue      desc, v;
    const char  *s;

    collab_json_obj_open(j);

    desc = JS_UNDEFINED;

    if (!JS_IsUndefined(e->describe) && !e->engine.exceeded) {
        JS_UpdateStackTop(e->rt);
        desc = JS_Call(e->ctx, e->describe, JS_UNDEFINED, 1, &error);
    }

    if (JS_IsException(desc) || JS_IsUndefined(desc)) {
        v = JS_GetException(e->ctx);
        JS_FreeValue(e->ctx, v);

        collab_json_key(j, "message");
        collab_json_cstr(j, "the workflow threw a value that cannot be "
                            "described");
        collab_json_key(j, "stack");
        collab_json_null(j);
        collab_json_obj_close(j);
        return;
    }

    collab_json_key(j, "message");
    v = JS_GetPropertyUint32(e->ctx, desc, 0);
    s = JS_ToCStringLen(e->ctx, &len, v);
    JS_FreeValue(e->ctx, v);

    if (s) {
        collab_utf8_fix((char *) s, len);
        collab_json_str(j, (const unsigned char *) s, len);
        JS_FreeCString(e->ctx, s);

    } else {
        collab_json_cstr(j, "");
    }

    collab_json_key(j, "stack");
    v = JS_GetPropertyUint32(e->ctx, desc, 1);

    if (JS_IsString(v) && (s = JS_ToCStringLen(e->ctx, &len, v)) != NULL) {
        collab_utf8_fix((char *) s, len);
        collab_json_str(j, (const unsigned char *) s, len);
        JS_FreeCString(e->ctx, s);

    } else {
        collab_json_null(j);
    }

    JS_FreeValue(e->ctx, v);
    JS_FreeValue(e->ctx, desc);

    v = JS_GetException(e->ctx);
    JS_FreeValue(e->ctx, v);

    collab_json_obj_close(j);
}


/*
 * The JSON text of a successful result into res; 0, or -1 with the reason
 * in message (a passed limit sets its own flag or message).
 */
static int
collab_exec_result(collab_exec_t *e, JSValueConst result, collab_json_t *res,
    char *message)
{
    size_t       len;
    JSValue      json, exc;
    const char  *s;

    if (JS_IsUndefined(result)) {
        collab_json_null(res);
        return 0;
    }

    JS_UpdateStackTop(e->rt);
    json = JS_JSONStringify(e->ctx, result, JS_UNDEFINED, JS_UNDEFINED);

    if (JS_IsException(json)) {
        exc = JS_GetException(e->ctx);
        s = JS_ToCString(e->ctx, exc);

        snprintf(message, COLLAB_LIMIT_MESSAGE,
                 "the result cannot be written as JSON: %s",
                 s ? s : "an exception");

        JS_FreeCString(e->ctx, s);
        JS_FreeValue(e->ctx, exc);
        collab_utf8_fix(message, strlen(message));

        return -1;
    }

    if (!JS_IsString(json)) {
        /* undefined, a function or a symbol: no value */
        JS_FreeValue(e->ctx, json);
        collab_json_null(res);
        return 0;
    }

    s = JS_ToCStringLen(e->ctx, &len, json);
    JS_FreeValue(e->ctx, json);

    if (s == NULL) {
        e->engine.exceeded = 1;
        return -1;
    }

    if (collab_limits_result(&e->limits, len, message) != 0) {
        JS_FreeCString(e->ctx, s);
        return -1;
    }

    collab_utf8_fix((char *) s, len);
    collab_json_raw(res, (const unsigned char *) s, len);
    JS_FreeCString(e->ctx, s);

    return 0;
}


/*
 * The result frame goes out and the execution is freed; result and error
 * are the caller's references, handed over.
 */
static void
collab_exec_finish(collab_exec_t *e, const char *status, JSValue result,
    JSValue error)
{
    size_t          len;
    int             success;
    collab_json_t   j, res;
    unsigned char  *data;
    char            message[COLLAB_LIMIT_MESSAGE], at[32];

    if (e->phase == COLLAB_EXEC_DONE) {
        if (e->ctx) {
            JS_FreeValue(e->ctx, result);
            JS_FreeValue(e->ctx, error);
        }

        return;
    }

    e->phase = COLLAB_EXEC_DONE;
    collab_timer_del(&e->deadline_timer);

    /* nothing of this execution runs any more */
    collab_fetch_cancel(e);
    collab_js_timers_cancel(e);

    message[0] = '\0';
    collab_json_init(&res);

    success = strcmp(status, "success") == 0
              && collab_exec_result(e, result, &res, message) == 0;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "result");
    collab_json_key(&j, "id");
    collab_json_cstr(&j, e->id);
    collab_json_key(&j, "status");
    collab_json_cstr(&j, success ? "success"
                         : e->timed_out || strcmp(status, "timeout") == 0
                         ? "timeout" : "error");

    collab_json_key(&j, "result");

    if (success) {
        data = collab_json_detach(&res, &len);
        collab_json_raw(&j, data, len);
        free(data);

    } else {
        collab_json_null(&j);
    }

    collab_json_free(&res);

    collab_json_key(&j, "error");

    if (success) {
        collab_json_null(&j);

    } else if (!e->timed_out && strcmp(status, "timeout") != 0
               && !e->engine.exceeded && e->fatal[0] == '\0'
               && message[0] == '\0' && e->ctx && !JS_IsUndefined(error))
    {
        collab_exec_error_json(e, &j, error);

    } else {
        if (e->timed_out || strcmp(status, "timeout") == 0) {
            collab_limits_timeout_message(&e->limits, message);

        } else if (e->engine.exceeded) {
            collab_limits_memory_message(&e->limits, message);

        } else if (e->fatal[0] != '\0') {
            snprintf(message, sizeof(message), "%s", e->fatal);

        } else if (message[0] == '\0') {
            snprintf(message, sizeof(message), "%s", "the execution failed");
        }

        collab_json_obj_open(&j);
        collab_json_key(&j, "message");
        collab_json_cstr(&j, message);
        collab_json_key(&j, "stack");
        collab_json_null(&j);
        collab_json_obj_close(&j);
    }

    collab_json_arr_close(&e->logs);
    data = collab_json_detach(&e->logs, &len);
    collab_json_key(&j, "logs");
    collab_json_raw(&j, data, len);
    free(data);

    collab_json_arr_close(&e->fetches);
    data = collab_json_detach(&e->fetches, &len);
    collab_json_key(&j, "fetches");
    collab_json_raw(&j, data, len);
    free(data);

    collab_json_key(&j, "startedAt");
    collab_iso8601(at, e->started_at);
    collab_json_cstr(&j, at);
    collab_json_key(&j, "finishedAt");
    collab_iso8601(at, collab_wall_clock());
    collab_json_cstr(&j, at);
    collab_json_key(&j, "durationMs");
    collab_json_int(&j, collab_clock() - e->started);
    collab_json_obj_close(&j);

    if (!e->cancelled) {
        collab_runner_send(&j);

    } else {
        collab_json_free(&j);
    }

    if (e->ctx) {
        JS_FreeValue(e->ctx, result);
        JS_FreeValue(e->ctx, error);
    }

    collab_exec_free(e);
}


static void
collab_exec_free(collab_exec_t *e)
{
    collab_exec_t  **pp;

    if (e->listed) {
        if (e->prev) {
            e->prev->next = e->next;

        } else {
            collab_execs.all = e->next;
        }

        if (e->next) {
            e->next->prev = e->prev;
        }

        collab_execs.count--;
    }

    if (e->queued) {
        for (pp = &collab_execs.run_head; *pp; pp = &(*pp)->run_next) {
            if (*pp == e) {
                *pp = e->run_next;
                break;
            }
        }

        collab_execs.run_tail = NULL;

        for (pp = &collab_execs.run_head; *pp; pp = &(*pp)->run_next) {
            collab_execs.run_tail = *pp;
        }
    }

    collab_timer_del(&e->deadline_timer);

    if (e->ctx) {
        JS_FreeValue(e->ctx, e->promise);
        JS_FreeValue(e->ctx, e->event);
        JS_FreeValue(e->ctx, e->bindings);
        JS_FreeValue(e->ctx, e->describe);
        JS_FreeContext(e->ctx);
    }

    if (e->rt) {
        JS_FreeRuntime(e->rt);

        /* every byte comes back, or something leaks */
        if (e->engine.used != 0) {
            collab_runner_error("execution %s: the engine kept %zu bytes",
                                e->id, e->engine.used);
        }
    }

    collab_sourcemap_free(&e->sourcemap);
    collab_json_free(&e->logs);
    collab_json_free(&e->fetches);
    json_decref(e->online);
    free(e->id);
    free(e->account_id);
    free(e->room_id);
    free(e);
}


void
collab_exec_cancel(const char *id)
{
    collab_exec_t  *e;

    for (e = collab_execs.all; e; e = e->next) {
        if (strcmp(e->id, id) == 0) {
            collab_exec_fail(e, "the execution was cancelled");
            return;
        }
    }
}


void
collab_exec_shutdown(void)
{
    while (collab_execs.all) {
        collab_execs.all->cancelled = 1;
        collab_exec_finish(collab_execs.all, "error", JS_UNDEFINED,
                           JS_UNDEFINED);
    }
}
