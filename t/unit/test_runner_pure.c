/*
 * Copyright (C) collab
 *
 * Unit tests of the workflow runner's pure parts: the frames of its
 * socket (ngx_collab_frame.c), the limits and the messages that name
 * their directives (ngx_collab_limits.c), source map decoding, lookup and
 * stack rewriting (ngx_collab_sourcemap.c); prints TAP.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ngx_collab_frame.h"
#include "ngx_collab_limits.h"
#include "ngx_collab_sourcemap.h"


#include "tap.h"


static void
is_str(const char *got, const char *want, const char *fmt, ...)
{
    int      ok;
    char     name[256], *diag;
    size_t   n;
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    ok = (got == NULL && want == NULL)
         || (got && want && strcmp(got, want) == 0);

    diag = NULL;

    if (!ok) {
        n = (got ? strlen(got) : 6) + (want ? strlen(want) : 6) + 64;
        diag = malloc(n);
        if (diag == NULL) {
            abort();
        }

        snprintf(diag, n, "#   got:      %s\n#   expected: %s",
                 got ? got : "(null)", want ? want : "(null)");
    }

    tap(ok, diag, "%s", name);
    free(diag);
}


static void
is_int(long long got, long long want, const char *name)
{
    char  diag[128];

    snprintf(diag, sizeof(diag), "#   got:      %lld\n#   expected: %lld",
             got, want);
    tap(got == want, got == want ? NULL : diag, "%s", name);
}


static void
test_frames(void)
{
    int                   rc;
    size_t                len, i;
    collab_buf_t          b;
    const unsigned char  *payload;
    unsigned char         big[3];
    char                  text[64];

    collab_buf_init(&b);

    is_int(collab_frame_write(&b, (const unsigned char *) "{\"a\":1}", 7), 0,
           "a frame is written");
    is_int(collab_buf_len(&b), 11, "a frame is its 4-byte length + payload");
    is_int(b.data[0] == 0 && b.data[1] == 0 && b.data[2] == 0
           && b.data[3] == 7, 1, "the length is big-endian");

    /* read back one byte at a time: incomplete until the last byte */
    {
        collab_buf_t  in;

        collab_buf_init(&in);

        for (i = 0; i < 10; i++) {
            collab_buf_append(&in, b.data + i, 1);
            rc = collab_frame_next(&in, 1024, &payload, &len);

            if (rc != 0) {
                break;
            }
        }

        is_int(i, 10, "no frame before its last byte");

        collab_buf_append(&in, b.data + 10, 1);
        rc = collab_frame_next(&in, 1024, &payload, &len);
        is_int(rc, 1, "the frame is complete with its last byte");

        snprintf(text, sizeof(text), "%.*s", (int) len, payload);
        is_str(text, "{\"a\":1}", "the payload is read back");

        collab_buf_consume(&in, COLLAB_FRAME_HEADER + len);
        is_int(collab_buf_len(&in), 0, "consumed whole");
        collab_buf_free(&in);
    }

    /* two frames in one read, then the buffer compacts */
    collab_frame_write(&b, (const unsigned char *) "[]", 2);
    rc = collab_frame_next(&b, 1024, &payload, &len);
    is_int(rc == 1 && len == 7, 1, "the first of two frames");
    collab_buf_consume(&b, COLLAB_FRAME_HEADER + len);
    rc = collab_frame_next(&b, 1024, &payload, &len);
    is_int(rc == 1 && len == 2 && memcmp(payload, "[]", 2) == 0, 1,
           "the second of two frames");
    collab_buf_consume(&b, COLLAB_FRAME_HEADER + len);
    is_int(collab_frame_next(&b, 1024, &payload, &len), 0,
           "no third frame");

    /* an announced length over the maximum */
    big[0] = 0x7f;
    big[1] = 0;
    big[2] = 0;
    collab_buf_append(&b, big, 3);
    collab_buf_append(&b, big, 1);
    is_int(collab_frame_next(&b, COLLAB_FRAME_MAX, &payload, &len), -1,
           "a frame longer than the maximum is refused");

    /* an empty payload is a frame too */
    collab_buf_free(&b);
    collab_buf_init(&b);
    collab_frame_write(&b, (const unsigned char *) "", 0);
    is_int(collab_frame_next(&b, 10, &payload, &len) == 1 && len == 0, 1,
           "an empty frame");

    /* a large payload survives growth of the buffer */
    {
        unsigned char  *p;
        collab_buf_t    in;

        p = malloc(1000000);
        memset(p, 'x', 1000000);
        collab_buf_init(&in);
        collab_frame_write(&in, p, 1000000);
        rc = collab_frame_next(&in, COLLAB_FRAME_MAX, &payload, &len);
        is_int(rc == 1 && len == 1000000 && payload[999999] == 'x', 1,
               "a frame of a million bytes");
        collab_buf_free(&in);
        free(p);
    }

    collab_buf_free(&b);
}


static void
test_limits(void)
{
    json_t           *obj;
    const char       *err;
    collab_limits_t   l;
    collab_usage_t    u;
    char              msg[COLLAB_LIMIT_MESSAGE], buf[32];
    int               i, rc;

    collab_limits_default(&l);
    is_int(l.timeout_ms, 30000, "default collab_workflow_timeout 30s");
    is_int(l.memory, 128 * 1024 * 1024, "default collab_workflow_memory 128m");
    is_int(l.max_fetches, 50, "default collab_workflow_max_fetches 50");
    is_int(l.fetch_timeout_ms, 10000,
           "default collab_workflow_fetch_timeout 10s");
    is_int(l.fetch_max_size, 1048576,
           "default collab_workflow_fetch_max_size 1m");
    is_int(l.max_logs, 65536, "default collab_workflow_max_logs 64k");
    is_int(l.max_result, 65536, "default collab_workflow_max_result 64k");

    obj = json_loads("{\"timeoutMs\":1500,\"memory\":1048576,"
                     "\"maxFetches\":2,\"unknown\":\"ignored\"}",
                     JSON_DECODE_INT_AS_REAL, NULL);
    is_int(collab_limits_parse(&l, obj, &err), 0, "limits are read");
    is_int(l.timeout_ms, 1500, "timeoutMs");
    is_int(l.memory, 1048576, "memory");
    is_int(l.max_fetches, 2, "maxFetches");
    is_int(l.max_logs, 65536, "an absent limit keeps its default");
    json_decref(obj);

    obj = json_loads("{\"maxLogs\":-1}", 0, NULL);
    err = NULL;
    is_int(collab_limits_parse(&l, obj, &err), -1, "a negative limit");
    is_str(err, "maxLogs", "... names the member");
    json_decref(obj);

    obj = json_loads("{\"timeoutMs\":1.5}", JSON_DECODE_INT_AS_REAL, NULL);
    is_int(collab_limits_parse(&l, obj, &err), -1, "a fractional limit");
    json_decref(obj);

    obj = json_loads("{\"memory\":\"1m\"}", 0, NULL);
    is_int(collab_limits_parse(&l, obj, &err), -1, "a string limit");
    is_str(err, "memory", "... names the member");
    json_decref(obj);

    is_int(collab_limits_parse(&l, NULL, &err), 0, "no limits: defaults");

    /* fetches: the 51st is one too many */
    collab_limits_default(&l);
    memset(&u, 0, sizeof(u));
    rc = 0;

    for (i = 0; i < 50 && rc == 0; i++) {
        rc = collab_limits_fetch(&l, &u, msg);
    }

    is_int(rc, 0, "50 fetches are allowed");
    is_int(collab_limits_fetch(&l, &u, msg), -1, "the 51st is not");
    is_str(msg, "collab_workflow_max_fetches: the workflow started more "
           "than 50 fetches", "... and the message names the directive");

    /* logs: bytes add up to the limit, not past it */
    memset(&u, 0, sizeof(u));
    is_int(collab_limits_log(&l, &u, 65536, msg), 0,
           "64 KiB of logs exactly are allowed");
    is_int(collab_limits_log(&l, &u, 1, msg), -1, "one byte more is not");
    is_str(msg, "collab_workflow_max_logs: the workflow logged more than "
           "64k of messages", "... named");

    memset(&u, 0, sizeof(u));
    is_int(collab_limits_log(&l, &u, (size_t) -1, msg), -1,
           "a huge message does not wrap the count");

    is_int(collab_limits_result(&l, 65536, msg), 0, "a 64 KiB result");
    is_int(collab_limits_result(&l, 2 * 1024 * 1024, msg), -1,
           "a 2 MiB result");
    is_str(msg, "collab_workflow_max_result: the result is larger than 64k "
           "of JSON", "... named");

    is_int(collab_limits_fetch_size(&l, 1048577, "https://x.test/", msg), -1,
           "an answer over 1m");
    is_str(msg, "collab_workflow_fetch_max_size: the answer of "
           "https://x.test/ is larger than 1m", "... named, with the URL");

    collab_limits_timeout_message(&l, msg);
    is_str(msg, "collab_workflow_timeout: the execution ran longer than 30s",
           "the timeout message");

    collab_limits_memory_message(&l, msg);
    is_str(msg, "collab_workflow_memory: the execution needed more than "
           "128m of memory", "the memory message");

    collab_limits_fetch_timeout_message(&l, "http://h.test/", msg);
    is_str(msg, "collab_workflow_fetch_timeout: no complete answer from "
           "http://h.test/ within 10s", "the fetch timeout message");

    collab_limits_size(buf, sizeof(buf), 1000);
    is_str(buf, "1000", "sizes: bytes");
    collab_limits_size(buf, sizeof(buf), 3 * 1024 * 1024 * 1024ULL);
    is_str(buf, "3g", "sizes: g");
    collab_limits_time(buf, sizeof(buf), 1500);
    is_str(buf, "1500ms", "times: ms");
    collab_limits_time(buf, sizeof(buf), 120000);
    is_str(buf, "2m", "times: m");
}


/*
 * A map as esbuild writes it for
 *   1 interface A { x: number }
 *   2 export default async function(e: A, b: any): Promise<number> {
 *   3   const y: number = e.x;
 *   4   throw new Error("boom " + y);
 *   5 }
 * compiled to
 *   1 async function workflow_default(e, b) {
 *   2   const y = e.x;
 *   3   throw new Error("boom " + y);
 *   4 }
 */
static const char  test_map[] =
    "{\"version\":3,\"sources\":[\"workflow.ts\"],\"mappings\":"
    "\"AACA,eAAO,iBAAuB,GAAM,GAAyB;AAC3D,QAAM,IAAY,EAAE;"
    "AACpB,QAAM,IAAI,MAAM,UAAU,CAAC;AAC7B;\",\"names\":[]}";


static void
test_sourcemap(void)
{
    int                 line, col;
    char               *out;
    collab_sourcemap_t  sm;
    const char         *stack;

    is_int(collab_sourcemap_parse(&sm, test_map, sizeof(test_map) - 1), 0,
           "esbuild's map is read");
    is_str(sm.source, "workflow.ts", "its source is named");

    is_int(collab_sourcemap_lookup(&sm, 3, 3, &line, &col), 0,
           "line 3 of the JavaScript maps");
    is_int(line, 4, "... to line 4 of the TypeScript");
    is_int(col, 3, "... column 3");

    is_int(collab_sourcemap_lookup(&sm, 3, 13, &line, &col), 0,
           "a column between mappings");
    is_int(line * 100 + col, 4 * 100 + 13, "... takes the mapping before it");

    is_int(collab_sourcemap_lookup(&sm, 1, 1, &line, &col), 0,
           "the first line");
    is_int(line, 2, "... is line 2 (the interface has no code)");

    is_int(collab_sourcemap_lookup(&sm, 9, 1, &line, &col), -1,
           "a line past the map maps nowhere");

    stack = "    at check (workflow.js:3:13)\n"
            "    at next (collab:runtime:100:5)\n"
            "    at fetch\n"
            "    at default (workflow.js:2:9)\n"
            "    at map (native)\n";

    out = collab_stack_rewrite(stack, strlen(stack), "workflow.js", &sm,
                               "collab:runtime");
    is_str(out, "    at check (workflow.ts:4:13)\n"
                "    at default (workflow.ts:3:9)\n"
                "    at map (native)\n",
           "a stack in TypeScript positions, runtime frames left out (with "
           "or without a position)");
    free(out);

    out = collab_stack_rewrite(stack, strlen(stack), "workflow.js", NULL,
                               "collab:runtime");
    is_str(out, "    at check (workflow.js:3:13)\n"
                "    at default (workflow.js:2:9)\n"
                "    at map (native)\n",
           "without a map only the runtime's frames go");
    free(out);

    stack = "    at workflow_default (workflow.js:3:13)\n";
    out = collab_stack_rewrite(stack, strlen(stack), "workflow.js", &sm,
                               NULL);
    is_str(out, "    at default (workflow.ts:4:13)\n",
           "esbuild's name of the default export is \"default\" again");
    free(out);

    stack = "    at workflow.js:3:13\nnot a frame\n";
    out = collab_stack_rewrite(stack, strlen(stack), "workflow.js", &sm,
                               NULL);
    is_str(out, "    at workflow.ts:4:13\nnot a frame\n",
           "a frame without a function name, and other lines kept");
    free(out);

    collab_sourcemap_free(&sm);

    is_int(collab_sourcemap_parse(&sm, "{\"version\":2,\"mappings\":\"\"}",
                                  28), -1, "a version 2 map is refused");
    is_int(collab_sourcemap_parse(&sm, "{\"version\":3,\"mappings\":\"!\"}",
                                  28), -1, "bad VLQ is refused");
    is_int(collab_sourcemap_parse(&sm, "not json", 8), -1,
           "not JSON is refused");
}


int
main(void)
{
    test_frames();
    test_limits();
    test_sourcemap();

    return tap_done();
}
