/*
 * Copyright (C) collab
 *
 * Unit test of the workflow console's formatting: the runner's runtime
 * script (ngx_collab_prelude.js) runs in a bare QuickJS context with
 * stand-ins for the runner's native functions, and console.log() of each
 * case of inspect-node.json must print what Node's console.log printed
 * for it (inspect-node.js wrote that file); prints TAP.
 *
 *     test_runner_inspect [inspect-node.json]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <quickjs.h>

#include "ngx_collab_prelude.h"


#include "tap.h"


/* just enough of the runner's natives for console, in JavaScript */
static const char  test_natives[] =
    "({\n"
    "  logs: [],\n"
    "  log(level, message) { this.logs.push(message); },\n"
    "  setTimeout() {}, clearTimeout() {},\n"
    "  utf8Encode(s) {\n"
    "    const b = [];\n"
    "    for (const ch of s) {\n"
    "      const c = ch.codePointAt(0);\n"
    "      if (c < 0x80) b.push(c);\n"
    "      else if (c < 0x800) b.push(0xc0 | c >> 6, 0x80 | c & 63);\n"
    "      else if (c < 0x10000) b.push(0xe0 | c >> 12,\n"
    "                                   0x80 | c >> 6 & 63, 0x80 | c & 63);\n"
    "      else b.push(0xf0 | c >> 18, 0x80 | c >> 12 & 63,\n"
    "                  0x80 | c >> 6 & 63, 0x80 | c & 63);\n"
    "    }\n"
    "    return new Uint8Array(b);\n"
    "  },\n"
    "  utf8Decode(b) { return String.fromCharCode(...b); },\n"
    "  randomUUID() { return ''; }, randomFill() {},\n"
    "  promiseState(p) { return this.states.get(p) || 0; },\n"
    "  promiseResult(p) { return this.results.get(p); },\n"
    "  states: new Map(), results: new Map(),\n"
    "  mapStack(s) { return s; },\n"
    "  fetch() {}, storeGet() {}, storeGetAll() {}, roomGet() {},\n"
    "  roomUsers() {}, filesList() {},\n"
    "  libs: {}, load(name) { return this.libs[name]; }\n"
    "})";


static char *
test_exception(JSContext *ctx)
{
    char        *copy;
    JSValue      exc;
    const char  *s;

    exc = JS_GetException(ctx);
    s = JS_ToCString(ctx, exc);
    copy = strdup(s ? s : "(no message)");
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, exc);

    return copy;
}


int
main(int argc, char **argv)
{
    char         *err, code[4096], diag[8192];
    size_t        i, len;
    json_t       *cases, *c;
    JSValue       fn, natives, ret, logs, v;
    JSRuntime    *rt;
    JSContext    *ctx;
    const char   *file, *expr, *want, *got;
    json_error_t  jerr;

    file = argc > 1 ? argv[1] : "t/unit/inspect-node.json";

    cases = json_load_file(file, 0, &jerr);
    if (!json_is_array(cases)) {
        printf("1..0 # SKIP cannot read %s: %s\n", file, jerr.text);
        return 0;
    }

    rt = JS_NewRuntime();
    ctx = JS_NewContext(rt);

    fn = JS_Eval(ctx, collab_prelude_source, sizeof(collab_prelude_source) - 1,
                 "collab:runtime", JS_EVAL_TYPE_GLOBAL);
    natives = JS_Eval(ctx, test_natives, sizeof(test_natives) - 1,
                      "natives", JS_EVAL_TYPE_GLOBAL);

    if (JS_IsException(fn) || JS_IsException(natives)) {
        err = test_exception(ctx);
        tap(0, err, "the runtime script runs");
        free(err);
        return tap_done();
    }

    /* the parts the runtime script loads on first use */
    {
        size_t      k;
        JSValue     libs, part;
        struct { const char *name, *source; size_t len; }  parts[] = {
            { "builtins", collab_builtins_source,
              sizeof(collab_builtins_source) - 1 },
            { "text", collab_text_source, sizeof(collab_text_source) - 1 },
            { "inspect", collab_inspect_source,
              sizeof(collab_inspect_source) - 1 },
            { "url", collab_url_source, sizeof(collab_url_source) - 1 },
            { "fetch", collab_fetchapi_source,
              sizeof(collab_fetchapi_source) - 1 },
        };

        libs = JS_GetPropertyStr(ctx, natives, "libs");

        for (k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
            part = JS_Eval(ctx, parts[k].source, parts[k].len,
                           "collab:runtime", JS_EVAL_TYPE_GLOBAL);

            if (JS_IsException(part)) {
                err = test_exception(ctx);
                tap(0, err, "the runtime part %s compiles", parts[k].name);
                free(err);
                return tap_done();
            }

            JS_SetPropertyStr(ctx, libs, parts[k].name, part);
        }

        JS_FreeValue(ctx, libs);
    }

    ret = JS_Call(ctx, fn, JS_UNDEFINED, 1, &natives);

    if (JS_IsException(ret)) {
        err = test_exception(ctx);
        tap(0, err, "the runtime script installs the globals");
        free(err);
        return tap_done();
    }

    JS_FreeValue(ctx, ret);
    JS_FreeValue(ctx, fn);

    /* promises are inspected through the natives' state tables */
    snprintf(code, sizeof(code), "(n) => { globalThis.__natives = n; }");
    v = JS_Eval(ctx, code, strlen(code), "setup", JS_EVAL_TYPE_GLOBAL);
    JS_FreeValue(ctx, JS_Call(ctx, v, JS_UNDEFINED, 1, &natives));
    JS_FreeValue(ctx, v);

    logs = JS_GetPropertyStr(ctx, natives, "logs");

    json_array_foreach(cases, i, c) {
        expr = json_string_value(json_array_get(c, 0));
        want = json_string_value(json_array_get(c, 1));

        if (expr == NULL || want == NULL) {
            continue;
        }

        snprintf(code, sizeof(code),
                 "(() => {\n"
                 "  const args = [%s];\n"
                 "  for (const a of args) {\n"
                 "    if (a instanceof Promise) {\n"
                 "      __natives.states.set(a, 0);\n"
                 "      a.then((r) => { __natives.states.set(a, 1);\n"
                 "                      __natives.results.set(a, r); });\n"
                 "    }\n"
                 "  }\n"
                 "  return args;\n"
                 "})()", expr);

        v = JS_Eval(ctx, code, strlen(code), "case", JS_EVAL_TYPE_GLOBAL);

        if (JS_IsException(v)) {
            err = test_exception(ctx);
            tap(0, err, "console.log(%s)", expr);
            free(err);
            continue;
        }

        /* settle the promises of the case before it is printed */
        {
            JSContext  *c1;

            while (JS_IsJobPending(rt)) {
                JS_ExecutePendingJob(rt, &c1);
            }
        }

        snprintf(code, sizeof(code), "(args) => console.log(...args)");
        fn = JS_Eval(ctx, code, strlen(code), "call", JS_EVAL_TYPE_GLOBAL);
        ret = JS_Call(ctx, fn, JS_UNDEFINED, 1, &v);
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, v);

        if (JS_IsException(ret)) {
            err = test_exception(ctx);
            tap(0, err, "console.log(%s)", expr);
            free(err);
            continue;
        }

        JS_FreeValue(ctx, ret);

        snprintf(code, sizeof(code), "__natives.logs.pop()");
        v = JS_Eval(ctx, code, strlen(code), "pop", JS_EVAL_TYPE_GLOBAL);
        got = JS_ToCStringLen(ctx, &len, v);

        if (got && strcmp(got, want) == 0) {
            tap(1, NULL, "console.log(%s)", expr);

        } else {
            snprintf(diag, sizeof(diag),
                     "#   got:      %s\n#   expected: %s",
                     got ? got : "(null)", want);
            tap(0, diag, "console.log(%s)", expr);
        }

        JS_FreeCString(ctx, got);
        JS_FreeValue(ctx, v);
    }

    JS_FreeValue(ctx, logs);
    JS_FreeValue(ctx, natives);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    json_decref(cases);

    return tap_done();
}
