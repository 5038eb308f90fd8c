/*
 * Copyright (C) collab
 *
 * The workflow runner's benchmark (bench/workflows-runner.sh runs it):
 *
 *   workflows_runner baseline N
 *       a bare loop: N times a fresh QuickJS runtime and context, the
 *       workflow module compiled and evaluated, its default export called
 *       with the event, the promise settled, the result written as JSON;
 *       prints executions/s
 *   workflows_runner runner RUNNER DATABASE N DEPTH
 *       the same workflow N times through collab-runner, DEPTH frames in
 *       flight; prints executions/s
 *   workflows_runner memory RUNNER DATABASE K
 *       K executions awaiting a timer at once; prints the runner's
 *       resident memory idle and with them in flight, and the difference
 *       per execution
 *   workflows_runner fetch RUNNER DATABASE K
 *       K executions, each awaiting a fetch of a server (in this process)
 *       that answers every request after one second; prints the time
 *       until the K-th result, and how many succeeded
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <quickjs.h>


static const char  bench_workflow[] =
    "export default async function (event) {\n"
    "    const user = event.data.userId;\n"
    "    const words = [user, event.event, event.timestamp];\n"
    "    return { ok: true, length: words.join(' ').length };\n"
    "}\n";

static const char  bench_event[] =
    "{\"event\":\"participant.joined\",\"data\":{\"userId\":\"user-001\","
    "\"roomId\":\"c3003c93-60cf-4184-b85f-20be14d26dac\"},"
    "\"timestamp\":\"2026-05-29T10:06:00.000Z\"}";


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
bench_baseline_one(void)
{
    int          ok;
    JSValue      module, promise, ns, fn, event, ret, json;
    JSRuntime   *rt;
    JSContext   *ctx, *c1;
    JSModuleDef *m;

    rt = JS_NewRuntime();
    JS_SetMemoryLimit(rt, 128 * 1024 * 1024);
    ctx = JS_NewContext(rt);

    ok = 0;

    module = JS_Eval(ctx, bench_workflow, sizeof(bench_workflow) - 1,
                     "workflow.js",
                     JS_EVAL_TYPE_MODULE|JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(module)) {
        goto done;
    }

    m = JS_VALUE_GET_PTR(module);
    promise = JS_EvalFunction(ctx, module);

    while (JS_IsJobPending(rt)) {
        JS_ExecutePendingJob(rt, &c1);
    }

    JS_FreeValue(ctx, promise);

    ns = JS_GetModuleNamespace(ctx, m);
    fn = JS_GetPropertyStr(ctx, ns, "default");
    JS_FreeValue(ctx, ns);

    event = JS_ParseJSON(ctx, bench_event, sizeof(bench_event) - 1, "event");
    ret = JS_Call(ctx, fn, JS_UNDEFINED, 1, &event);

    while (JS_IsJobPending(rt)) {
        JS_ExecutePendingJob(rt, &c1);
    }

    if (JS_PromiseState(ctx, ret) == JS_PROMISE_FULFILLED) {
        JSValue  v = JS_PromiseResult(ctx, ret);

        json = JS_JSONStringify(ctx, v, JS_UNDEFINED, JS_UNDEFINED);
        ok = JS_IsString(json);
        JS_FreeValue(ctx, json);
        JS_FreeValue(ctx, v);
    }

    JS_FreeValue(ctx, ret);
    JS_FreeValue(ctx, event);
    JS_FreeValue(ctx, fn);

done:

    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);

    return ok;
}


static int
bench_baseline(long n)
{
    long    i, ok;
    double  t0, t;

    ok = 0;
    t0 = bench_now();

    for (i = 0; i < n; i++) {
        ok += bench_baseline_one();
    }

    t = bench_now() - t0;

    printf("baseline: %ld executions (%ld ok) in %.2f s: %.0f/s\n", n, ok, t,
           n / t);

    return ok == n ? 0 : 1;
}


/* the runner on a socket pair, as the module starts it */

typedef struct {
    pid_t    pid;
    int      fd;
    char    *buf;
    size_t   len;
    size_t   cap;
} bench_runner_t;


static int
bench_runner_start(bench_runner_t *r, const char *bin, const char *db,
    const char *extra)
{
    int    sv[2];
    char  *envp[] = { NULL };

    memset(r, 0, sizeof(bench_runner_t));

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        return -1;
    }

    r->pid = fork();

    if (r->pid == 0) {
        dup2(sv[1], 3);
        execle(bin, bin, "--database", db, extra, (char *) NULL, envp);
        _exit(127);
    }

    close(sv[1]);
    r->fd = sv[0];
    r->cap = 1 << 20;
    r->buf = malloc(r->cap);

    return r->pid > 0 && r->buf ? 0 : -1;
}


static void
bench_runner_stop(bench_runner_t *r)
{
    close(r->fd);
    waitpid(r->pid, NULL, 0);
    free(r->buf);
}


static int
bench_send(bench_runner_t *r, const char *json, size_t len)
{
    unsigned char  h[4];
    ssize_t        n;
    size_t         off;

    h[0] = (unsigned char) (len >> 24);
    h[1] = (unsigned char) (len >> 16);
    h[2] = (unsigned char) (len >> 8);
    h[3] = (unsigned char) len;

    if (write(r->fd, h, 4) != 4) {
        return -1;
    }

    for (off = 0; off < len; off += (size_t) n) {
        n = write(r->fd, json + off, len - off);
        if (n <= 0) {
            return -1;
        }
    }

    return 0;
}


/* the next frame's text (NUL-terminated, until the next call) */
static char *
bench_recv(bench_runner_t *r, int timeout_ms)
{
    size_t         need;
    ssize_t        n;
    struct pollfd  pfd;
    static char   *frame;
    static size_t  frame_cap;

    for ( ;; ) {
        if (r->len >= 4) {
            need = (size_t) (unsigned char) r->buf[0] << 24
                   | (size_t) (unsigned char) r->buf[1] << 16
                   | (size_t) (unsigned char) r->buf[2] << 8
                   | (size_t) (unsigned char) r->buf[3];

            if (r->len >= 4 + need) {
                if (frame_cap < need + 1) {
                    frame_cap = need + 1;
                    frame = realloc(frame, frame_cap);
                }

                memcpy(frame, r->buf + 4, need);
                frame[need] = '\0';
                memmove(r->buf, r->buf + 4 + need, r->len - 4 - need);
                r->len -= 4 + need;

                return frame;
            }

            if (4 + need > r->cap) {
                r->cap = 4 + need;
                r->buf = realloc(r->buf, r->cap);
            }
        }

        pfd.fd = r->fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, timeout_ms) <= 0) {
            return NULL;
        }

        n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n <= 0) {
            return NULL;
        }

        r->len += (size_t) n;
    }
}


static size_t
bench_run_frame(char *out, size_t size, long id, const char *js)
{
    char    escaped[4096];
    size_t  i, o;

    for (i = 0, o = 0; js[i] && o < sizeof(escaped) - 3; i++) {
        if (js[i] == '\n') {
            escaped[o++] = '\\';
            escaped[o++] = 'n';

        } else if (js[i] == '"' || js[i] == '\\') {
            escaped[o++] = '\\';
            escaped[o++] = js[i];

        } else {
            escaped[o++] = js[i];
        }
    }

    escaped[o] = '\0';

    return (size_t) snprintf(out, size,
        "{\"type\":\"run\",\"id\":\"exe_%ld\",\"js\":\"%s\","
        "\"sourceMap\":null,\"event\":%s,\"accountId\":\"acc_1\","
        "\"roomId\":null,\"online\":[],\"limits\":{}}",
        id, escaped, bench_event);
}


static int
bench_runner(const char *bin, const char *db, long n, long depth)
{
    long            sent, done, ok;
    char           *f, frame[8192];
    size_t          len;
    double          t0, t;
    bench_runner_t  r;

    if (bench_runner_start(&r, bin, db, NULL) != 0
        || bench_recv(&r, 10000) == NULL)
    {
        fprintf(stderr, "bench: the runner does not start\n");
        return 1;
    }

    sent = 0;
    done = 0;
    ok = 0;
    t0 = bench_now();

    while (done < n) {
        while (sent < n && sent - done < depth) {
            len = bench_run_frame(frame, sizeof(frame), sent, bench_workflow);
            if (bench_send(&r, frame, len) != 0) {
                return 1;
            }

            sent++;
        }

        f = bench_recv(&r, 30000);
        if (f == NULL) {
            break;
        }

        done++;
        ok += strstr(f, "\"status\":\"success\"") != NULL;
    }

    t = bench_now() - t0;

    printf("runner: %ld executions (%ld ok, %ld in flight at most) in %.2f s:"
           " %.0f/s\n", done, ok, depth, t, done / t);

    bench_runner_stop(&r);

    return ok == n ? 0 : 1;
}


static long
bench_rss_kib(pid_t pid)
{
    long   kib;
    char   path[64], line[256];
    FILE  *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);

    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    kib = -1;

    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
            break;
        }
    }

    fclose(f);

    return kib;
}


static int
bench_memory(const char *bin, const char *db, long k)
{
    long            i, idle, busy, done;
    char            frame[8192];
    size_t          len;
    bench_runner_t  r;
    static const char  waiting[] =
        "export default async function (event) {\n"
        "    await new Promise((r) => setTimeout(r, 3000));\n"
        "    return { ok: true };\n"
        "}\n";

    if (bench_runner_start(&r, bin, db, NULL) != 0
        || bench_recv(&r, 10000) == NULL)
    {
        fprintf(stderr, "bench: the runner does not start\n");
        return 1;
    }

    /* one execution first, so that the allocator is warm */
    len = bench_run_frame(frame, sizeof(frame), 0, bench_workflow);
    bench_send(&r, frame, len);
    bench_recv(&r, 30000);

    idle = bench_rss_kib(r.pid);
    busy = 0;

    for (i = 1; i <= k; i++) {
        len = bench_run_frame(frame, sizeof(frame), i, waiting);
        bench_send(&r, frame, len);
    }

    /* every frame read by the runner: a quick one answered after them */
    len = bench_run_frame(frame, sizeof(frame), k + 1, bench_workflow);
    bench_send(&r, frame, len);

    for (done = 0; done < k + 1; done++) {
        char  *f = bench_recv(&r, 30000);

        if (f == NULL) {
            break;
        }

        /* the quick one answers first, the others still waiting */
        if (done == 0) {
            busy = bench_rss_kib(r.pid);
        }
    }

    printf("memory: runner RSS %ld KiB idle, %ld KiB with %ld executions in "
           "flight: %.1f KiB per execution\n", idle, busy, k,
           (double) (busy - idle) / k);

    bench_runner_stop(&r);

    return 0;
}


/* a server that answers every request one second after it came */

typedef struct {
    int      fd;
    double   at;        /* when to answer; 0: the request is not complete */
    size_t   got;
    char     req[2048];
} bench_conn_t;


static void
bench_slow_server(int lfd, double seconds)
{
    int                  ep, n, i, fd;
    long                 nconns;
    double               now, until;
    bench_conn_t        *c, **conns;
    struct epoll_event   ev, evs[256];
    static const char    answer[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
        "Content-Length: 5\r\nConnection: close\r\n\r\nslow!";

    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    conns = calloc(65536, sizeof(bench_conn_t *));
    nconns = 0;
    until = bench_now() + seconds;

    while ((now = bench_now()) < until) {
        n = epoll_wait(ep, evs, 256, 10);

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;

            if (c == NULL) {
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (fd >= 65536) {
                        close(fd);
                        continue;
                    }

                    c = calloc(1, sizeof(bench_conn_t));
                    c->fd = fd;
                    conns[fd] = c;
                    nconns++;
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }

                continue;
            }

            ssize_t r = read(c->fd, c->req + c->got,
                             sizeof(c->req) - 1 - c->got);

            if (r <= 0) {
                conns[c->fd] = NULL;
                close(c->fd);
                free(c);
                continue;
            }

            c->got += (size_t) r;
            c->req[c->got] = '\0';

            if (c->at == 0 && strstr(c->req, "\r\n\r\n")) {
                c->at = now + 1.0;
            }
        }

        for (fd = 0; fd < 65536; fd++) {
            c = conns[fd];

            if (c && c->at > 0 && c->at <= now) {
                (void) !write(c->fd, answer, sizeof(answer) - 1);
                conns[fd] = NULL;
                close(c->fd);
                free(c);
            }
        }
    }

    _exit(0);
}


static int
bench_fetch(const char *bin, const char *db, long k)
{
    int                 lfd, one;
    long                i, done, ok;
    pid_t               server;
    char               *f, frame[8192], js[512];
    size_t              len;
    double              t0, t;
    socklen_t           slen;
    bench_runner_t      r;
    struct sockaddr_in  sin;

    lfd = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0);
    one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(lfd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(lfd, 4096) != 0)
    {
        fprintf(stderr, "bench: cannot listen: %s\n", strerror(errno));
        return 1;
    }

    slen = sizeof(sin);
    getsockname(lfd, (struct sockaddr *) &sin, &slen);

    server = fork();
    if (server == 0) {
        bench_slow_server(lfd, 60);
    }

    close(lfd);

    snprintf(js, sizeof(js),
             "export default async function () {\n"
             "    const r = await fetch('http://127.0.0.1:%d/');\n"
             "    return await r.text();\n"
             "}\n", ntohs(sin.sin_port));

    if (bench_runner_start(&r, bin, db, "--allow-private") != 0
        || bench_recv(&r, 10000) == NULL)
    {
        fprintf(stderr, "bench: the runner does not start\n");
        kill(server, SIGKILL);
        return 1;
    }

    t0 = bench_now();

    for (i = 0; i < k; i++) {
        len = bench_run_frame(frame, sizeof(frame), i, js);
        bench_send(&r, frame, len);
    }

    ok = 0;

    for (done = 0; done < k; done++) {
        f = bench_recv(&r, 60000);
        if (f == NULL) {
            break;
        }

        ok += strstr(f, "\"result\":\"slow!\"") != NULL;
    }

    t = bench_now() - t0;

    printf("fetch: %ld executions awaiting a fetch answered after 1 s: "
           "%ld succeeded, the last result after %.2f s\n", k, ok, t);

    bench_runner_stop(&r);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);

    return ok == k ? 0 : 1;
}


int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);

    if (argc >= 3 && strcmp(argv[1], "baseline") == 0) {
        return bench_baseline(atol(argv[2]));
    }

    if (argc >= 6 && strcmp(argv[1], "runner") == 0) {
        return bench_runner(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
    }

    if (argc >= 5 && strcmp(argv[1], "memory") == 0) {
        return bench_memory(argv[2], argv[3], atol(argv[4]));
    }

    if (argc >= 5 && strcmp(argv[1], "fetch") == 0) {
        return bench_fetch(argv[2], argv[3], atol(argv[4]));
    }

    fprintf(stderr, "usage: workflows_runner baseline N\n"
                    "       workflows_runner runner RUNNER DB N DEPTH\n"
                    "       workflows_runner memory RUNNER DB K\n"
                    "       workflows_runner fetch RUNNER DB K\n");

    return 2;
}
