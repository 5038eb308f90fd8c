/*
 * Copyright (C) collab
 *
 * A workflow's globals: the runtime script (ngx_collab_prelude.js,
 * compiled once to bytecode at start) and the native functions it is
 * given: console capture, timers, UTF-8, randomness, stack mapping,
 * fetch and the bindings' reads.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ngx_collab_js.h"
#include "ngx_collab_bindings.h"
#include "ngx_collab_fetch.h"
#include "ngx_collab_id.h"
#include "ngx_collab_prelude.h"


#define COLLAB_STACK_FRAMES  30


struct collab_js_timer_s {
    collab_timer_t      timer;
    collab_js_timer_t  *next;
    collab_exec_t      *exec;
    uint32_t            id;
    JSValue             fn;
    int                 argc;
    JSValue             argv[];
};


typedef struct {
    const char         *name;
    const char         *source;
    size_t              source_len;
    uint8_t            *bytecode;
    size_t              len;
} collab_js_script_t;


/* the runtime script first, then the parts it loads on first use */
static collab_js_script_t  collab_js_scripts[] = {
    { "runtime", collab_prelude_source, sizeof(collab_prelude_source) - 1,
      NULL, 0 },
    { "builtins", collab_builtins_source,
      sizeof(collab_builtins_source) - 1, NULL, 0 },
    { "text", collab_text_source, sizeof(collab_text_source) - 1, NULL, 0 },
    { "inspect", collab_inspect_source, sizeof(collab_inspect_source) - 1,
      NULL, 0 },
    { "url", collab_url_source, sizeof(collab_url_source) - 1, NULL, 0 },
    { "fetch", collab_fetchapi_source, sizeof(collab_fetchapi_source) - 1,
      NULL, 0 },
    { NULL, NULL, 0, NULL, 0 }
};


static collab_exec_t *
collab_js_exec(JSContext *ctx)
{
    return JS_GetContextOpaque(ctx);
}


/*
 * The scripts are compiled once, at start, into bytecode without debug
 * information (the smaller, the faster each execution reads it; their
 * frames are left out of stacks anyway).
 */
int
collab_js_init(void)
{
    JSValue              fn, exc;
    uint8_t             *code;
    JSRuntime           *rt;
    JSContext           *ctx;
    const char          *s;
    collab_engine_t      eng;
    collab_js_script_t  *sc;

    rt = collab_engine_new(&eng, NULL, 64 * 1024 * 1024);
    if (rt == NULL) {
        collab_runner_error("no memory for the engine");
        return -1;
    }

    JS_SetStripInfo(rt, JS_STRIP_DEBUG);

    ctx = JS_NewContext(rt);
    if (ctx == NULL) {
        JS_FreeRuntime(rt);
        collab_runner_error("no memory for the engine");
        return -1;
    }

    for (sc = collab_js_scripts; sc->name; sc++) {
        fn = JS_Eval(ctx, sc->source, sc->source_len, COLLAB_RUNTIME_FILE,
                     JS_EVAL_TYPE_GLOBAL|JS_EVAL_FLAG_COMPILE_ONLY);

        if (JS_IsException(fn)) {
            exc = JS_GetException(ctx);
            s = JS_ToCString(ctx, exc);
            collab_runner_error("the runtime script \"%s\" does not "
                                "compile: %s", sc->name, s ? s : "?");
            JS_FreeCString(ctx, s);
            JS_FreeValue(ctx, exc);
            break;
        }

        code = JS_WriteObject(ctx, &sc->len, fn, JS_WRITE_OBJ_BYTECODE);
        JS_FreeValue(ctx, fn);

        if (code) {
            sc->bytecode = malloc(sc->len);

            if (sc->bytecode) {
                memcpy(sc->bytecode, code, sc->len);
            }

            js_free(ctx, code);
        }

        if (sc->bytecode == NULL) {
            collab_runner_error("no memory for the runtime scripts");
            break;
        }
    }

    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);

    return sc->name == NULL ? 0 : -1;
}


void
collab_js_done(void)
{
    collab_js_script_t  *sc;

    for (sc = collab_js_scripts; sc->name; sc++) {
        free(sc->bytecode);
        sc->bytecode = NULL;
    }
}


/* a script's function, read from its bytecode into ctx */
static JSValue
collab_js_script(JSContext *ctx, collab_js_script_t *sc)
{
    JSValue  code;

    code = JS_ReadObject(ctx, sc->bytecode, sc->len, JS_READ_OBJ_BYTECODE);
    if (JS_IsException(code)) {
        return code;
    }

    return JS_EvalFunction(ctx, code);
}


static JSValue
collab_js_load(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    const char          *name;
    collab_js_script_t  *sc;

    name = JS_ToCString(ctx, argv[0]);
    if (name == NULL) {
        return JS_EXCEPTION;
    }

    for (sc = collab_js_scripts + 1; sc->name; sc++) {
        if (strcmp(sc->name, name) == 0) {
            break;
        }
    }

    JS_FreeCString(ctx, name);

    if (sc->name == NULL) {
        return JS_ThrowReferenceError(ctx, "no runtime part of that name");
    }

    return collab_js_script(ctx, sc);
}


/* console.*: the message was formatted by the runtime script */

static void
collab_js_log(collab_exec_t *e, const char *level, const char *msg,
    size_t len)
{
    char  at[32], limit[COLLAB_LIMIT_MESSAGE];

    if (collab_limits_log(&e->limits, &e->usage, len, limit) != 0) {
        e->ops->fail(e, limit);
        return;
    }

    collab_iso8601(at, collab_wall_clock());

    collab_json_obj_open(&e->logs);
    collab_json_key(&e->logs, "level");
    collab_json_cstr(&e->logs, level);
    collab_json_key(&e->logs, "message");
    collab_json_str(&e->logs, (const unsigned char *) msg, len);
    collab_json_key(&e->logs, "at");
    collab_json_cstr(&e->logs, at);
    collab_json_obj_close(&e->logs);

    if (e->logs.failed) {
        e->engine.exceeded = 1;
    }
}


static JSValue
collab_js_native_log(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    size_t          len;
    const char     *level, *msg;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    level = JS_ToCString(ctx, argv[0]);
    if (level == NULL) {
        return JS_EXCEPTION;
    }

    msg = JS_ToCStringLen(ctx, &len, argv[1]);
    if (msg == NULL) {
        JS_FreeCString(ctx, level);
        return JS_EXCEPTION;
    }

    collab_utf8_fix((char *) msg, len);
    collab_js_log(e, level, msg, len);

    JS_FreeCString(ctx, level);
    JS_FreeCString(ctx, msg);

    if (e->fatal[0] != '\0') {
        return JS_ThrowInternalError(ctx, "%s", e->fatal);
    }

    return JS_UNDEFINED;
}


/* setTimeout and clearTimeout */

static void
collab_js_timer_free(JSContext *ctx, collab_js_timer_t *t)
{
    int  i;

    JS_FreeValue(ctx, t->fn);

    for (i = 0; i < t->argc; i++) {
        JS_FreeValue(ctx, t->argv[i]);
    }

    collab_timer_del(&t->timer);
    js_free(ctx, t);
}


static void
collab_js_timer_unlink(collab_exec_t *e, collab_js_timer_t *t)
{
    collab_js_timer_t  **pp;

    for (pp = &e->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            return;
        }
    }
}


static void
collab_js_timer_fire(collab_timer_t *timer)
{
    int                 i, argc;
    JSValue             fn, ret, argv[16];
    JSContext          *ctx;
    collab_exec_t      *e;
    collab_js_timer_t  *t;

    t = timer->data;
    e = t->exec;
    ctx = e->ctx;

    collab_js_timer_unlink(e, t);

    fn = t->fn;
    argc = t->argc;

    for (i = 0; i < argc; i++) {
        argv[i] = t->argv[i];
    }

    js_free(ctx, t);

    JS_UpdateStackTop(e->rt);
    ret = JS_Call(ctx, fn, JS_UNDEFINED, argc, argv);

    JS_FreeValue(ctx, fn);

    for (i = 0; i < argc; i++) {
        JS_FreeValue(ctx, argv[i]);
    }

    if (JS_IsException(ret)) {
        /* an error thrown from a timer ends the execution, as in Node */
        e->ops->thrown(e);
        return;
    }

    JS_FreeValue(ctx, ret);
    e->ops->wake(e);
}


static JSValue
collab_js_set_timeout(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int                 i, n;
    double              delay;
    collab_exec_t      *e;
    collab_js_timer_t  *t;

    e = collab_js_exec(ctx);

    if (argc < 1 || !JS_IsFunction(ctx, argv[0])) {
        return JS_ThrowTypeError(ctx, "setTimeout: the callback must be a "
                                 "function");
    }

    delay = 0;

    if (argc > 1 && JS_ToFloat64(ctx, &delay, argv[1]) != 0) {
        return JS_EXCEPTION;
    }

    if (!(delay >= 1) || delay > 2147483647.0) {
        delay = 1;
    }

    n = argc > 2 ? argc - 2 : 0;

    if (n > 16) {
        return JS_ThrowRangeError(ctx, "setTimeout: at most 16 arguments "
                                  "for the callback");
    }

    t = js_mallocz(ctx, sizeof(collab_js_timer_t) + n * sizeof(JSValue));
    if (t == NULL) {
        return JS_EXCEPTION;
    }

    t->exec = e;
    t->id = ++e->timer_ids;
    t->fn = JS_DupValue(ctx, argv[0]);
    t->argc = n;

    for (i = 0; i < n; i++) {
        t->argv[i] = JS_DupValue(ctx, argv[i + 2]);
    }

    t->timer.handler = collab_js_timer_fire;
    t->timer.data = t;
    t->next = e->timers;
    e->timers = t;

    collab_timer_set(&t->timer, (int64_t) delay);

    return JS_NewUint32(ctx, t->id);
}


static JSValue
collab_js_clear_timeout(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    uint32_t            id;
    collab_exec_t      *e;
    collab_js_timer_t  *t;

    e = collab_js_exec(ctx);

    if (argc < 1 || !JS_IsNumber(argv[0])
        || JS_ToUint32(ctx, &id, argv[0]) != 0)
    {
        return JS_UNDEFINED;
    }

    for (t = e->timers; t; t = t->next) {
        if (t->id == id) {
            collab_js_timer_unlink(e, t);
            collab_js_timer_free(ctx, t);
            break;
        }
    }

    return JS_UNDEFINED;
}


void
collab_js_timers_cancel(collab_exec_t *e)
{
    collab_js_timer_t  *t;

    while (e->timers) {
        t = e->timers;
        e->timers = t->next;
        collab_js_timer_free(e->ctx, t);
    }
}


int
collab_js_has_timers(collab_exec_t *e)
{
    return e->timers != NULL;
}


/* UTF-8 both ways, as TextEncoder and TextDecoder need it */

static JSValue
collab_js_bytes(JSContext *ctx, const void *data, size_t len)
{
    JSValue  args[3], arr;

    args[0] = JS_NewArrayBufferCopy(ctx, data, len);
    if (JS_IsException(args[0])) {
        return args[0];
    }

    /* the engine reads all three arguments, whatever argc says */
    args[1] = JS_NewInt32(ctx, 0);
    args[2] = JS_NewInt64(ctx, (int64_t) len);

    arr = JS_NewTypedArray(ctx, 3, args, JS_TYPED_ARRAY_UINT8);
    JS_FreeValue(ctx, args[0]);

    return arr;
}


static JSValue
collab_js_utf8_encode(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    size_t       len;
    JSValue      arr;
    const char  *s;

    s = JS_ToCStringLen(ctx, &len, argv[0]);
    if (s == NULL) {
        return JS_EXCEPTION;
    }

    collab_utf8_fix((char *) s, len);
    arr = collab_js_bytes(ctx, s, len);
    JS_FreeCString(ctx, s);

    return arr;
}


/* the bytes of a Uint8Array (or any view) */
static const uint8_t *
collab_js_view(JSContext *ctx, JSValueConst v, size_t *len)
{
    size_t    offset, size, bpe, buf_len;
    JSValue   ab;
    uint8_t  *p;

    ab = JS_GetTypedArrayBuffer(ctx, v, &offset, &size, &bpe);
    if (JS_IsException(ab)) {
        return NULL;
    }

    p = JS_GetArrayBuffer(ctx, &buf_len, ab);
    JS_FreeValue(ctx, ab);

    if (p == NULL || offset + size > buf_len) {
        if (p) {
            JS_ThrowTypeError(ctx, "a detached buffer");
        }

        return NULL;
    }

    *len = size;

    return p + offset;
}


/*
 * UTF-8 to a JavaScript string as the WHATWG decoder does it: every
 * maximal ill-formed subsequence becomes U+FFFD (or an error when fatal).
 */
static JSValue
collab_js_utf8_decode(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int             fatal, ignore_bom;
    size_t          len, i, n, need, o;
    uint32_t        cp, lower, upper;
    JSValue         str;
    unsigned char  *out, c;
    const uint8_t  *p;

    p = collab_js_view(ctx, argv[0], &len);
    if (p == NULL) {
        return JS_EXCEPTION;
    }

    fatal = JS_ToBool(ctx, argv[1]);
    ignore_bom = JS_ToBool(ctx, argv[2]);

    i = 0;

    if (!ignore_bom && len >= 3 && p[0] == 0xef && p[1] == 0xbb
        && p[2] == 0xbf)
    {
        i = 3;
    }

    out = js_malloc(ctx, (len - i) * 3 + 1);
    if (out == NULL) {
        return JS_EXCEPTION;
    }

    o = 0;

    while (i < len) {
        c = p[i];

        if (c < 0x80) {
            out[o++] = c;
            i++;
            continue;
        }

        lower = 0x80;
        upper = 0xbf;

        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;

        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
            lower = c == 0xe0 ? 0xa0 : 0x80;
            upper = c == 0xed ? 0x9f : 0xbf;

        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
            lower = c == 0xf0 ? 0x90 : 0x80;
            upper = c == 0xf4 ? 0x8f : 0xbf;

        } else {
            goto invalid;
        }

        for (n = 1; n <= need; n++) {
            if (i + n >= len || p[i + n] < lower || p[i + n] > upper) {
                i += n - 1;
                goto invalid;
            }

            cp = cp << 6 | (p[i + n] & 0x3f);
            lower = 0x80;
            upper = 0xbf;
        }

        memcpy(out + o, p + i, need + 1);
        o += need + 1;
        i += need + 1;
        continue;

    invalid:

        if (fatal) {
            js_free(ctx, out);
            return JS_ThrowTypeError(ctx, "TextDecoder: the data is not "
                                     "valid UTF-8");
        }

        out[o++] = 0xef;
        out[o++] = 0xbf;
        out[o++] = 0xbd;
        i++;
    }

    str = JS_NewStringLen(ctx, (char *) out, o);
    js_free(ctx, out);

    return str;
}


static JSValue
collab_js_random_uuid(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    char  uuid[COLLAB_UUID_LEN + 1];

    if (collab_uuid_new(uuid) != 0) {
        return JS_ThrowInternalError(ctx, "crypto.randomUUID: no random "
                                     "bytes");
    }

    return JS_NewStringLen(ctx, uuid, COLLAB_UUID_LEN);
}


static JSValue
collab_js_random_fill(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    size_t          len;
    const uint8_t  *p;

    p = collab_js_view(ctx, argv[0], &len);
    if (p == NULL) {
        return JS_EXCEPTION;
    }

    if (collab_random((unsigned char *) p, len) != 0) {
        return JS_ThrowInternalError(ctx, "crypto.getRandomValues: no "
                                     "random bytes");
    }

    return JS_UNDEFINED;
}


static JSValue
collab_js_promise_state(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    return JS_NewInt32(ctx, JS_PromiseState(ctx, argv[0]));
}


static JSValue
collab_js_promise_result(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    return JS_PromiseResult(ctx, argv[0]);
}


/* a deep recursion's stack keeps its first frames only */
static void
collab_js_stack_cut(char *stack, size_t *len)
{
    int     lines, more;
    char   *p, *end, *cut;

    lines = 0;
    cut = NULL;
    end = stack + *len;

    for (p = stack; p < end; p++) {
        if (*p == '\n' && ++lines == COLLAB_STACK_FRAMES) {
            cut = p;
        }
    }

    if (cut == NULL) {
        return;
    }

    more = lines + 1 - COLLAB_STACK_FRAMES;
    *len = cut - stack;
    *len += snprintf(cut, end - cut, "\n    ... %d more", more);
}


/* a stack trace in the workflow's own file and positions */
static JSValue
collab_js_map_stack(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    char           *out;
    size_t          len, n;
    JSValue         str;
    const char     *s;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    s = JS_ToCStringLen(ctx, &len, argv[0]);
    if (s == NULL) {
        return JS_EXCEPTION;
    }

    out = collab_stack_rewrite(s, len, COLLAB_WORKFLOW_FILE,
                               e->has_sourcemap ? &e->sourcemap : NULL,
                               COLLAB_RUNTIME_FILE);
    JS_FreeCString(ctx, s);

    if (out == NULL) {
        return JS_ThrowOutOfMemory(ctx);
    }

    n = strlen(out);

    if (n > 0 && out[n - 1] == '\n') {
        n--;
    }

    collab_js_stack_cut(out, &n);

    str = JS_NewStringLen(ctx, out, n);
    free(out);

    return str;
}


static JSValue
collab_js_native_fetch(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    JSValue         p;
    const char     *url, *method;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    url = JS_ToCString(ctx, argv[0]);
    if (url == NULL) {
        return JS_EXCEPTION;
    }

    method = JS_ToCString(ctx, argv[1]);
    if (method == NULL) {
        JS_FreeCString(ctx, url);
        return JS_EXCEPTION;
    }

    p = collab_fetch_start(e, url, method, argv[2], argv[3]);

    JS_FreeCString(ctx, url);
    JS_FreeCString(ctx, method);

    return p;
}


/* the bindings' reads answer JSON text, parsed by the runtime script */

static JSValue
collab_js_json_answer(JSContext *ctx, collab_exec_t *e, int rc,
    collab_json_t *out, const char *what)
{
    size_t          len;
    JSValue         str;
    unsigned char  *data;

    if (rc != 0) {
        collab_json_free(out);
        return JS_ThrowInternalError(ctx, "%s: the data cannot be read now",
                                     what);
    }

    if (out->len > e->limits.memory) {
        collab_json_free(out);
        e->engine.exceeded = 1;
        return JS_ThrowOutOfMemory(ctx);
    }

    data = collab_json_detach(out, &len);
    if (data == NULL) {
        return JS_ThrowOutOfMemory(ctx);
    }

    str = JS_NewStringLen(ctx, (char *) data, len);
    free(data);

    return str;
}


static JSValue
collab_js_store_get(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int             rc;
    size_t          store_len, key_len;
    const char     *store, *key;
    collab_json_t   out;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    store = JS_ToCStringLen(ctx, &store_len, argv[0]);
    if (store == NULL) {
        return JS_EXCEPTION;
    }

    key = JS_ToCStringLen(ctx, &key_len, argv[1]);
    if (key == NULL) {
        JS_FreeCString(ctx, store);
        return JS_EXCEPTION;
    }

    collab_json_init(&out);
    rc = collab_bindings_store_get(e, store, store_len, key, key_len, &out);

    JS_FreeCString(ctx, store);
    JS_FreeCString(ctx, key);

    if (rc == 0 && out.len == 0) {
        collab_json_free(&out);
        return JS_NULL;
    }

    return collab_js_json_answer(ctx, e, rc, &out, "store.get");
}


static JSValue
collab_js_store_all(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int             rc;
    size_t          store_len;
    const char     *store;
    collab_json_t   out;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    store = JS_ToCStringLen(ctx, &store_len, argv[0]);
    if (store == NULL) {
        return JS_EXCEPTION;
    }

    collab_json_init(&out);
    rc = collab_bindings_store_all(e, store, store_len, &out);
    JS_FreeCString(ctx, store);

    return collab_js_json_answer(ctx, e, rc, &out, "store.getAll");
}


static JSValue
collab_js_room_get(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int             rc;
    collab_json_t   out;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    collab_json_init(&out);
    rc = collab_bindings_room(e, &out);

    if (rc == 0 && out.len == 0) {
        collab_json_free(&out);
        return JS_NULL;
    }

    return collab_js_json_answer(ctx, e, rc, &out, "room.get");
}


static JSValue
collab_js_room_users(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int             rc;
    collab_json_t   out;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    collab_json_init(&out);
    rc = collab_bindings_users(e, &out);

    return collab_js_json_answer(ctx, e, rc, &out, "room.getUsers");
}


static JSValue
collab_js_files_list(JSContext *ctx, JSValueConst this_val, int argc,
    JSValueConst *argv)
{
    int             rc;
    collab_json_t   out;
    collab_exec_t  *e;

    e = collab_js_exec(ctx);

    collab_json_init(&out);
    rc = collab_bindings_files(e, &out);

    return collab_js_json_answer(ctx, e, rc, &out, "files.list");
}


static const JSCFunctionListEntry  collab_js_natives[] = {
    JS_CFUNC_DEF("load", 1, collab_js_load),
    JS_CFUNC_DEF("log", 2, collab_js_native_log),
    JS_CFUNC_DEF("setTimeout", 2, collab_js_set_timeout),
    JS_CFUNC_DEF("clearTimeout", 1, collab_js_clear_timeout),
    JS_CFUNC_DEF("utf8Encode", 1, collab_js_utf8_encode),
    JS_CFUNC_DEF("utf8Decode", 3, collab_js_utf8_decode),
    JS_CFUNC_DEF("randomUUID", 0, collab_js_random_uuid),
    JS_CFUNC_DEF("randomFill", 1, collab_js_random_fill),
    JS_CFUNC_DEF("promiseState", 1, collab_js_promise_state),
    JS_CFUNC_DEF("promiseResult", 1, collab_js_promise_result),
    JS_CFUNC_DEF("mapStack", 1, collab_js_map_stack),
    JS_CFUNC_DEF("fetch", 4, collab_js_native_fetch),
    JS_CFUNC_DEF("storeGet", 2, collab_js_store_get),
    JS_CFUNC_DEF("storeGetAll", 1, collab_js_store_all),
    JS_CFUNC_DEF("roomGet", 0, collab_js_room_get),
    JS_CFUNC_DEF("roomUsers", 0, collab_js_room_users),
    JS_CFUNC_DEF("filesList", 0, collab_js_files_list),
};


/* runs the runtime script in e's context: globals, bindings, describe() */
int
collab_js_install(collab_exec_t *e)
{
    JSValue     fn, natives, ret;
    JSContext  *ctx;

    ctx = e->ctx;

    fn = collab_js_script(ctx, &collab_js_scripts[0]);
    if (JS_IsException(fn)) {
        return -1;
    }

    natives = JS_NewObject(ctx);
    if (JS_IsException(natives)) {
        JS_FreeValue(ctx, fn);
        return -1;
    }

    JS_SetPropertyFunctionList(ctx, natives, collab_js_natives,
                               sizeof(collab_js_natives)
                               / sizeof(collab_js_natives[0]));

    ret = JS_Call(ctx, fn, JS_UNDEFINED, 1, &natives);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, natives);

    if (JS_IsException(ret)) {
        return -1;
    }

    e->bindings = JS_GetPropertyUint32(ctx, ret, 0);
    e->describe = JS_GetPropertyUint32(ctx, ret, 1);
    JS_FreeValue(ctx, ret);

    if (JS_IsException(e->bindings) || JS_IsException(e->describe)) {
        return -1;
    }

    return 0;
}
