/*
 * Copyright (C) collab
 *
 * Compile requests.  JavaScript is checked by QuickJS, compiled as an ES
 * module (compile only, imports refused).  TypeScript goes to esbuild
 * first (types stripped, ES module kept, inline source map), run by the
 * compile helper: a small process forked before the runner closes its
 * sandbox, the only one that may start a program; the executor never
 * can.  The helper runs one esbuild at a time, each bounded in time.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ngx_collab_compile.h"
#include "ngx_collab_sign.h"


#define COLLAB_TS_FILE          "workflow.ts"
#define COLLAB_ESBUILD_TIMEOUT  20000
#define COLLAB_ESBUILD_OUTPUT   (32 * 1024 * 1024)
#define COLLAB_MAP_PREFIX                                                    \
    "//# sourceMappingURL=data:application/json;base64,"


typedef struct collab_compile_s  collab_compile_t;

struct collab_compile_s {
    collab_compile_t   *next;
    json_t             *id;           /* the module's id, any JSON value */
    uint64_t            seq;          /* the helper's */
    char               *code;         /* the TypeScript source */
    size_t              code_len;
};


static struct {
    pid_t               helper;
    collab_io_t         io;
    collab_buf_t        in;
    collab_buf_t        out;
    collab_compile_t   *pending;
    uint64_t            seq;
    size_t              count;
    unsigned            dead:1;
} collab_compiler;


static void collab_helper_main(int fd) __attribute__((noreturn));
static int collab_helper_esbuild(const char *code, size_t len,
    collab_buf_t *out, collab_buf_t *err);
static void collab_compile_io(collab_io_t *io, uint32_t events);
static void collab_compile_flush(void);
static void collab_compile_answer(const unsigned char *payload, size_t len);
static void collab_compile_ts_done(collab_compile_t *c, int status,
    const char *out, size_t out_len, const char *err, size_t err_len);
static void collab_compile_check(json_t *id, const char *js, size_t len,
    const char *map, size_t map_len, const collab_sourcemap_t *sm,
    const char *source, size_t source_len);
static void collab_compile_fail(json_t *id, const char *message, int line,
    int column);
static int collab_compile_column(const char *source, size_t len, int line,
    int byte_column);


int
collab_compile_init(void)
{
    int    sv[2];
    pid_t  pid;

    collab_compiler.dead = 1;

    if (access(collab_runner.esbuild, X_OK) != 0) {
        /* JavaScript compiles and runs all the same */
        return 0;
    }

    if (socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, sv) != 0) {
        collab_runner_error("socketpair() failed: %s", strerror(errno));
        return -1;
    }

    pid = fork();

    if (pid == -1) {
        collab_runner_error("fork() failed: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }

    if (pid == 0) {
        close(sv[0]);
        close(COLLAB_RUNNER_FD);
        collab_helper_main(sv[1]);
    }

    close(sv[1]);

    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
        collab_runner_error("fcntl() failed: %s", strerror(errno));
        return -1;
    }

    collab_compiler.helper = pid;
    collab_compiler.io.fd = sv[0];
    collab_compiler.io.handler = collab_compile_io;
    collab_compiler.dead = 0;

    return 0;
}


void
collab_compile_done(void)
{
    collab_compile_t  *c;

    while (collab_compiler.pending) {
        c = collab_compiler.pending;
        collab_compiler.pending = c->next;
        json_decref(c->id);
        free(c->code);
        free(c);
    }

    if (collab_compiler.io.fd > 0) {
        collab_io_set(&collab_compiler.io, 0);
        close(collab_compiler.io.fd);
        collab_compiler.io.fd = -1;
    }

    if (collab_compiler.helper > 0) {
        kill(collab_compiler.helper, SIGKILL);
        waitpid(collab_compiler.helper, NULL, 0);
        collab_compiler.helper = 0;
    }

    collab_buf_free(&collab_compiler.in);
    collab_buf_free(&collab_compiler.out);
}


size_t
collab_compile_pending(void)
{
    return collab_compiler.count;
}


/* a {"type":"compile"} frame */
void
collab_compile(json_t *msg)
{
    json_t            *id, *code;
    const char        *language;
    collab_json_t      j;
    collab_compile_t  *c, **pp;
    unsigned char     *data;
    size_t             len;

    id = json_object_get(msg, "id");
    code = json_object_get(msg, "code");
    language = json_string_value(json_object_get(msg, "language"));

    if (id == NULL) {
        id = json_null();
    }

    if (!json_is_string(code)) {
        collab_compile_fail(id, "code must be a string", 0, 0);
        return;
    }

    if (language == NULL || strcmp(language, "javascript") == 0) {
        collab_compile_check(id, json_string_value(code),
                             json_string_length(code), NULL, 0, NULL, NULL,
                             0);
        return;
    }

    if (strcmp(language, "typescript") != 0) {
        collab_compile_fail(id, "language must be \"javascript\" or "
                            "\"typescript\"", 0, 0);
        return;
    }

    if (collab_compiler.dead) {
        collab_compile_fail(id, "TypeScript cannot be compiled here: "
                            "esbuild is not available", 0, 0);
        return;
    }

    c = calloc(1, sizeof(collab_compile_t));
    if (c == NULL) {
        collab_compile_fail(id, "out of memory", 0, 0);
        return;
    }

    c->id = json_incref(id);
    c->seq = ++collab_compiler.seq;
    c->code_len = json_string_length(code);
    c->code = malloc(c->code_len + 1);

    if (c->code == NULL) {
        json_decref(c->id);
        free(c);
        collab_compile_fail(id, "out of memory", 0, 0);
        return;
    }

    memcpy(c->code, json_string_value(code), c->code_len + 1);

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "seq");
    collab_json_int(&j, (int64_t) c->seq);
    collab_json_key(&j, "code");
    collab_json_str(&j, (const unsigned char *) c->code, c->code_len);
    collab_json_obj_close(&j);

    data = collab_json_detach(&j, &len);

    if (data == NULL || collab_frame_write(&collab_compiler.out, data, len)
                        != 0)
    {
        free(data);
        json_decref(c->id);
        free(c->code);
        free(c);
        collab_compile_fail(id, "out of memory", 0, 0);
        return;
    }

    free(data);

    /* the helper answers in order: the list is first in, first out */
    for (pp = &collab_compiler.pending; *pp; pp = &(*pp)->next) {
        /* void */
    }

    *pp = c;
    collab_compiler.count++;

    collab_compile_flush();
}


static void
collab_compile_flush(void)
{
    ssize_t   n;
    uint32_t  events;

    while (collab_buf_len(&collab_compiler.out) > 0) {
        n = write(collab_compiler.io.fd,
                  collab_compiler.out.data + collab_compiler.out.start,
                  collab_buf_len(&collab_compiler.out));

        if (n > 0) {
            collab_buf_consume(&collab_compiler.out, (size_t) n);
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        break;
    }

    events = collab_compiler.count ? EPOLLIN : 0;

    if (collab_buf_len(&collab_compiler.out) > 0) {
        events |= EPOLLOUT;
    }

    collab_io_set(&collab_compiler.io, events);
}


static void
collab_compile_helper_gone(void)
{
    collab_compile_t  *c;

    collab_compiler.dead = 1;
    collab_io_set(&collab_compiler.io, 0);

    while (collab_compiler.pending) {
        c = collab_compiler.pending;
        collab_compiler.pending = c->next;
        collab_compiler.count--;

        collab_compile_fail(c->id, "TypeScript cannot be compiled now: the "
                            "compile helper stopped", 0, 0);
        json_decref(c->id);
        free(c->code);
        free(c);
    }

    collab_runner_error("the compile helper stopped");
}


static void
collab_compile_io(collab_io_t *io, uint32_t events)
{
    int                   rc;
    size_t                len;
    ssize_t               n;
    const unsigned char  *payload;

    if (events & EPOLLOUT) {
        collab_compile_flush();
    }

    if (!(events & (EPOLLIN|EPOLLHUP|EPOLLERR))) {
        return;
    }

    for ( ;; ) {
        if (collab_buf_reserve(&collab_compiler.in, 65536) != 0) {
            collab_compile_helper_gone();
            return;
        }

        n = read(io->fd, collab_compiler.in.data + collab_compiler.in.end,
                 65536);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        if (n <= 0) {
            collab_compile_helper_gone();
            return;
        }

        collab_compiler.in.end += (size_t) n;

        while ((rc = collab_frame_next(&collab_compiler.in, COLLAB_FRAME_MAX,
                                       &payload, &len)) == 1)
        {
            collab_compile_answer(payload, len);
            collab_buf_consume(&collab_compiler.in, COLLAB_FRAME_HEADER + len);
        }

        if (rc < 0) {
            collab_compile_helper_gone();
            return;
        }
    }

    collab_compile_flush();
}


static void
collab_compile_answer(const unsigned char *payload, size_t len)
{
    json_t            *msg, *out, *err;
    collab_compile_t  *c;

    c = collab_compiler.pending;

    if (c == NULL) {
        return;
    }

    collab_compiler.pending = c->next;
    collab_compiler.count--;

    msg = json_loadb((const char *) payload, len, 0, NULL);

    if (msg == NULL
        || (uint64_t) json_integer_value(json_object_get(msg, "seq"))
           != c->seq)
    {
        collab_compile_fail(c->id, "the compile helper answered out of "
                            "turn", 0, 0);

    } else {
        out = json_object_get(msg, "stdout");
        err = json_object_get(msg, "stderr");

        collab_compile_ts_done(c, (int) json_integer_value(
                                              json_object_get(msg, "status")),
                               json_string_value(out),
                               json_string_length(out),
                               json_string_value(err),
                               json_string_length(err));
    }

    json_decref(msg);
    json_decref(c->id);
    free(c->code);
    free(c);
}


/*
 * esbuild's answer: on success the module with its inline source map at
 * the end, else the first error as
 *   "✘ [ERROR] message\n\n    workflow.ts:LINE:BYTE-COLUMN:\n..."
 */
static void
collab_compile_ts_done(collab_compile_t *c, int status, const char *out,
    size_t out_len, const char *err, size_t err_len)
{
    int                 line, column;
    long                n;
    char               *map, *message, *p, *end, *nl;
    size_t              js_len, b64_len, msg_len;
    const char         *b64;
    collab_sourcemap_t  sm;

    if (status == 0 && out) {
        b64 = NULL;
        js_len = out_len;

        /* the last line that holds the map */
        for (p = (char *) out + out_len; p > out; p--) {
            if (p[-1] == '\n' && (size_t) (out + out_len - p)
                                 > sizeof(COLLAB_MAP_PREFIX) - 1
                && memcmp(p, COLLAB_MAP_PREFIX,
                          sizeof(COLLAB_MAP_PREFIX) - 1) == 0)
            {
                b64 = p + sizeof(COLLAB_MAP_PREFIX) - 1;
                js_len = p - out;
                break;
            }
        }

        if (b64 == NULL) {
            collab_compile_fail(c->id, "esbuild wrote no source map", 0, 0);
            return;
        }

        b64_len = out_len - (b64 - out);

        while (b64_len > 0 && (b64[b64_len - 1] == '\n'
                               || b64[b64_len - 1] == '\r'))
        {
            b64_len--;
        }

        map = malloc(b64_len / 4 * 3 + 3);
        if (map == NULL) {
            collab_compile_fail(c->id, "out of memory", 0, 0);
            return;
        }

        n = collab_base64_decode(b64, b64_len, (unsigned char *) map);

        if (n < 0 || collab_sourcemap_parse(&sm, map, (size_t) n) != 0) {
            free(map);
            collab_compile_fail(c->id, "esbuild wrote a bad source map",
                                0, 0);
            return;
        }

        collab_compile_check(c->id, out, js_len, map, (size_t) n, &sm,
                             c->code, c->code_len);

        collab_sourcemap_free(&sm);
        free(map);
        return;
    }

    if (err == NULL || err_len == 0) {
        collab_compile_fail(c->id, status == -2
                            ? "esbuild took too long" : "esbuild failed",
                            0, 0);
        return;
    }

    /* the message: the rest of the line after "[ERROR] " */
    message = NULL;
    msg_len = 0;
    p = strstr(err, "[ERROR] ");

    if (p) {
        p += sizeof("[ERROR] ") - 1;
        nl = strchr(p, '\n');
        message = p;
        msg_len = nl ? (size_t) (nl - p) : strlen(p);
    }

    line = 0;
    column = 0;
    p = strstr(err, "    " COLLAB_TS_FILE ":");

    if (p) {
        p += sizeof("    " COLLAB_TS_FILE ":") - 1;
        line = (int) strtol(p, &end, 10);

        if (*end == ':') {
            column = collab_compile_column(c->code, c->code_len, line,
                                           (int) strtol(end + 1, NULL, 10));
        }
    }

    if (message == NULL) {
        message = (char *) err;
        msg_len = err_len;
    }

    {
        char  text[512];

        snprintf(text, sizeof(text), "%.*s", (int) msg_len, message);
        collab_compile_fail(c->id, text, line, column);
    }
}


/* a 0-based byte column of a line into a 1-based column in characters */
static int
collab_compile_column(const char *source, size_t len, int line,
    int byte_column)
{
    int          l, col;
    size_t       i;
    const char  *p;

    p = source;

    for (l = 1; l < line; l++) {
        p = memchr(p, '\n', len - (p - source));

        if (p == NULL) {
            return byte_column + 1;
        }

        p++;
    }

    col = 1;

    for (i = 0; i < (size_t) byte_column && p + i < source + len
                && p[i] != '\n'; i++)
    {
        if (((unsigned char) p[i] & 0xc0) != 0x80) {
            col++;
        }
    }

    return col;
}


static int
collab_compile_interrupt(JSRuntime *rt, void *opaque)
{
    int64_t  *deadline = opaque;

    return collab_clock() >= *deadline;
}


/*
 * QuickJS compiles the module; imports are resolved (and refused) too.
 * For TypeScript the error's position is mapped back to the source.
 */
static void
collab_compile_check(json_t *id, const char *js, size_t len,
    const char *map, size_t map_len, const collab_sourcemap_t *sm,
    const char *source, size_t source_len)
{
    int              line, column, src_line, src_col;
    char            *copy;
    int64_t          deadline;
    JSValue          module, exc, v;
    JSRuntime       *rt;
    JSContext       *ctx;
    const char      *s;
    collab_json_t    j;
    collab_engine_t  eng;
    char             message[512];

    rt = collab_engine_new(&eng, NULL, 256 * 1024 * 1024);
    if (rt == NULL) {
        collab_compile_fail(id, "out of memory", 0, 0);
        return;
    }

    deadline = collab_clock() + 10000;
    JS_SetInterruptHandler(rt, collab_compile_interrupt, &deadline);

    ctx = JS_NewContext(rt);
    if (ctx == NULL) {
        JS_FreeRuntime(rt);
        collab_compile_fail(id, "out of memory", 0, 0);
        return;
    }

    /* the engine wants the text NUL-terminated */
    copy = malloc(len + 1);
    if (copy == NULL) {
        JS_FreeContext(ctx);
        JS_FreeRuntime(rt);
        collab_compile_fail(id, "out of memory", 0, 0);
        return;
    }

    memcpy(copy, js, len);
    copy[len] = '\0';

    module = JS_Eval(ctx, copy, len, COLLAB_WORKFLOW_FILE,
                     JS_EVAL_TYPE_MODULE|JS_EVAL_FLAG_COMPILE_ONLY);

    if (!JS_IsException(module)) {
        if (JS_ResolveModule(ctx, module) == 0) {
            JS_FreeValue(ctx, module);
            free(copy);
            JS_FreeContext(ctx);
            JS_FreeRuntime(rt);

            collab_json_init(&j);
            collab_json_obj_open(&j);
            collab_json_key(&j, "type");
            collab_json_cstr(&j, "compiled");
            collab_json_key(&j, "id");
            collab_json_value(&j, id);
            collab_json_key(&j, "ok");
            collab_json_bool(&j, 1);
            collab_json_key(&j, "js");
            collab_json_str(&j, (const unsigned char *) js, len);
            collab_json_key(&j, "sourceMap");

            if (map) {
                collab_json_str(&j, (const unsigned char *) map, map_len);

            } else {
                collab_json_null(&j);
            }

            collab_json_obj_close(&j);
            collab_runner_send(&j);
            return;
        }

        JS_FreeValue(ctx, module);
    }

    exc = JS_GetException(ctx);

    line = 0;
    column = 0;

    v = JS_GetPropertyStr(ctx, exc, "lineNumber");
    JS_ToInt32(ctx, &line, v);
    JS_FreeValue(ctx, v);

    v = JS_GetPropertyStr(ctx, exc, "columnNumber");
    JS_ToInt32(ctx, &column, v);
    JS_FreeValue(ctx, v);

    v = JS_GetPropertyStr(ctx, exc, "message");
    s = JS_ToCString(ctx, v);
    JS_FreeValue(ctx, v);

    snprintf(message, sizeof(message), "%s", s ? s : "syntax error");
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, exc);

    if (line <= 0) {
        /* an import: the position of its specifier */
        const char  *q = strstr(message, "import of \"");

        if (q) {
            char         spec[260];
            const char  *found, *e;

            q += sizeof("import of \"") - 1;
            e = strchr(q, '"');

            if (e && e - q < 250) {
                snprintf(spec, sizeof(spec), "'%.*s'", (int) (e - q), q);
                found = strstr(copy, spec);

                if (found == NULL) {
                    spec[0] = '"';
                    spec[e - q + 1] = '"';
                    found = strstr(copy, spec);
                }

                if (found) {
                    const char  *p;

                    line = 1;
                    column = 1;

                    for (p = copy; p < found; p++) {
                        if (*p == '\n') {
                            line++;
                            column = 1;

                        } else if (((unsigned char) *p & 0xc0) != 0x80) {
                            column++;
                        }
                    }
                }
            }
        }
    }

    free(copy);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);

    if (sm && line > 0
        && collab_sourcemap_lookup(sm, line, column, &src_line, &src_col)
           == 0)
    {
        line = src_line;
        column = src_col;
    }

    collab_utf8_fix(message, strlen(message));
    collab_compile_fail(id, message, line, column);
}


static void
collab_compile_fail(json_t *id, const char *message, int line, int column)
{
    collab_json_t  j;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "compiled");
    collab_json_key(&j, "id");
    collab_json_value(&j, id);
    collab_json_key(&j, "ok");
    collab_json_bool(&j, 0);
    collab_json_key(&j, "message");
    collab_json_cstr(&j, message);
    collab_json_key(&j, "line");

    if (line > 0) {
        collab_json_int(&j, line);

    } else {
        collab_json_null(&j);
    }

    collab_json_key(&j, "column");

    if (line > 0) {
        collab_json_int(&j, column > 0 ? column : 1);

    } else {
        collab_json_null(&j);
    }

    collab_json_obj_close(&j);
    collab_runner_send(&j);
}


/* ---------------------------------------------------------------------- */
/* the compile helper process                                              */

static int
collab_helper_read(int fd, collab_buf_t *in, const unsigned char **payload,
    size_t *len)
{
    int      rc;
    ssize_t  n;

    for ( ;; ) {
        rc = collab_frame_next(in, COLLAB_FRAME_MAX, payload, len);

        if (rc != 0) {
            return rc;
        }

        if (collab_buf_reserve(in, 65536) != 0) {
            return -1;
        }

        n = read(fd, in->data + in->end, 65536);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        in->end += (size_t) n;
    }
}


static int
collab_helper_write(int fd, const unsigned char *p, size_t len)
{
    ssize_t  n;

    while (len > 0) {
        n = write(fd, p, len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        p += n;
        len -= (size_t) n;
    }

    return 0;
}


/* esbuild's output as a JSON string (UTF-8, whatever it wrote) */
static void
collab_helper_text(collab_json_t *j, collab_buf_t *b)
{
    if (b->data == NULL) {
        collab_json_cstr(j, "");
        return;
    }

    collab_utf8_fix((char *) b->data + b->start, collab_buf_len(b));
    collab_json_str(j, b->data + b->start, collab_buf_len(b));
}


static void
collab_helper_main(int fd)
{
    int                   status;
    json_t               *msg, *code;
    size_t                len;
    collab_buf_t          in, frame, out, err;
    collab_json_t         j;
    unsigned char        *data;
    const unsigned char  *payload;

    /* the helper dies with the runner */
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    if (getppid() == 1) {
        _exit(0);
    }

    /* esbuild gains no privilege either, and leaves no core file */
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    {
        struct rlimit  rl = { 0, 0 };

        setrlimit(RLIMIT_CORE, &rl);
    }

    signal(SIGPIPE, SIG_IGN);

    collab_buf_init(&in);

    for ( ;; ) {
        if (collab_helper_read(fd, &in, &payload, &len) != 1) {
            _exit(0);
        }

        msg = json_loadb((const char *) payload, len, 0, NULL);
        collab_buf_consume(&in, COLLAB_FRAME_HEADER + len);

        code = json_object_get(msg, "code");

        collab_buf_init(&out);
        collab_buf_init(&err);

        status = json_is_string(code)
                 ? collab_helper_esbuild(json_string_value(code),
                                         json_string_length(code),
                                         &out, &err)
                 : -1;

        collab_json_init(&j);
        collab_json_obj_open(&j);
        collab_json_key(&j, "seq");
        collab_json_value(&j, json_object_get(msg, "seq"));
        collab_json_key(&j, "status");
        collab_json_int(&j, status);
        collab_json_key(&j, "stdout");
        collab_helper_text(&j, &out);
        collab_json_key(&j, "stderr");
        collab_helper_text(&j, &err);
        collab_json_obj_close(&j);

        json_decref(msg);
        collab_buf_free(&out);
        collab_buf_free(&err);

        data = collab_json_detach(&j, &len);
        collab_buf_init(&frame);

        if (data == NULL || collab_frame_write(&frame, data, len) != 0
            || collab_helper_write(fd, frame.data + frame.start,
                                   collab_buf_len(&frame)) != 0)
        {
            _exit(1);
        }

        free(data);
        collab_buf_free(&frame);
    }
}


/*
 * Runs esbuild on code: its exit status, -2 when it took too long, -1
 * when it could not start; its output and errors into out and err.
 */
static int
collab_helper_esbuild(const char *code, size_t len, collab_buf_t *out,
    collab_buf_t *err)
{
    int             in_fd[2], out_fd[2], err_fd[2], status, n, i, timeout;
    pid_t           pid;
    size_t          written;
    ssize_t         r;
    int64_t         deadline;
    struct pollfd   pfd[3];
    collab_buf_t   *bufs[3];
    char           *argv[] = {
        (char *) collab_runner.esbuild,
        (char *) "--loader=ts",
        (char *) "--format=esm",
        (char *) "--sourcemap=inline",
        (char *) "--sourcefile=" COLLAB_TS_FILE,
        (char *) "--log-level=error",
        (char *) "--log-limit=1",
        (char *) "--color=false",
        NULL
    };
    char           *envp[] = { NULL };

    if (pipe2(in_fd, O_CLOEXEC) != 0) {
        return -1;
    }

    if (pipe2(out_fd, O_CLOEXEC) != 0) {
        close(in_fd[0]);
        close(in_fd[1]);
        return -1;
    }

    if (pipe2(err_fd, O_CLOEXEC) != 0) {
        close(in_fd[0]);
        close(in_fd[1]);
        close(out_fd[0]);
        close(out_fd[1]);
        return -1;
    }

    pid = fork();

    if (pid == 0) {
        dup2(in_fd[0], 0);
        dup2(out_fd[1], 1);
        dup2(err_fd[1], 2);
        execve(argv[0], argv, envp);
        _exit(127);
    }

    close(in_fd[0]);
    close(out_fd[1]);
    close(err_fd[1]);

    if (pid == -1) {
        close(in_fd[1]);
        close(out_fd[0]);
        close(err_fd[0]);
        return -1;
    }

    fcntl(in_fd[1], F_SETFL, O_NONBLOCK);

    bufs[1] = out;
    bufs[2] = err;
    pfd[0].fd = len ? in_fd[1] : -1;
    pfd[0].events = POLLOUT;
    pfd[1].fd = out_fd[0];
    pfd[1].events = POLLIN;
    pfd[2].fd = err_fd[0];
    pfd[2].events = POLLIN;

    if (len == 0) {
        close(in_fd[1]);
    }

    written = 0;
    deadline = collab_clock() + COLLAB_ESBUILD_TIMEOUT;
    status = -1;

    while (pfd[0].fd != -1 || pfd[1].fd != -1 || pfd[2].fd != -1) {
        timeout = (int) (deadline - collab_clock());

        if (timeout <= 0) {
            kill(pid, SIGKILL);
            status = -2;
            break;
        }

        n = poll(pfd, 3, timeout);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            continue;
        }

        if (pfd[0].fd != -1 && pfd[0].revents) {
            r = write(in_fd[1], code + written, len - written);

            if (r > 0) {
                written += (size_t) r;
            }

            if ((r == -1 && errno != EAGAIN && errno != EINTR)
                || written == len)
            {
                close(in_fd[1]);
                pfd[0].fd = -1;
            }
        }

        for (i = 1; i < 3; i++) {
            if (pfd[i].fd == -1 || pfd[i].revents == 0) {
                continue;
            }

            if (collab_buf_reserve(bufs[i], 65536) != 0
                || collab_buf_len(bufs[i]) > COLLAB_ESBUILD_OUTPUT)
            {
                kill(pid, SIGKILL);
                status = -2;
                goto done;
            }

            r = read(pfd[i].fd, bufs[i]->data + bufs[i]->end, 65536);

            if (r > 0) {
                bufs[i]->end += (size_t) r;

            } else if (r == 0 || errno != EINTR) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
            }
        }
    }

done:

    for (i = 0; i < 3; i++) {
        if (pfd[i].fd != -1) {
            close(pfd[i].fd);
        }
    }

    if (waitpid(pid, &n, 0) == pid && status == -1) {
        status = WIFEXITED(n) ? WEXITSTATUS(n) : -1;
    }

    return status;
}
