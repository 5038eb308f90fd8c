/*
 * Copyright (C) collab
 *
 * collab-runner's main: the options, the order of start-up (everything
 * that opens a file or forks comes before the sandbox closes), the
 * socket to the module and the event loop.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngx_collab_runner.h"


#define COLLAB_READ_CHUNK  65536


collab_runner_conf_t  collab_runner;


static struct {
    collab_io_t         io;
    collab_buf_t        in;
    collab_buf_t        out;
    unsigned            eof:1;      /* the module sends no more */
    unsigned            broken:1;   /* nothing can be sent any more */
} collab_link;


static void collab_usage(void);
static int collab_options(int argc, char **argv);
static void collab_link_handler(collab_io_t *io, uint32_t events);
static void collab_link_read(void);
static int collab_link_flush(void);
static int collab_link_update(void);
static void collab_dispatch(const unsigned char *payload, size_t len);
static void collab_send_error(const char *id, const char *message);


static void
collab_usage(void)
{
    fprintf(stderr,
        "usage: collab-runner --database PATH [--resolver HOST:PORT]...\n"
        "                     [--trusted-certificate FILE] "
        "[--allow-private]\n"
        "                     [--allow-address ADDRESS[/BITS]]...\n"
        "                     [--esbuild PATH] [--selftest-sandbox]\n"
        "The module starts it with a connected socket as fd 3.\n");
}


static int
collab_options(int argc, char **argv)
{
    int          i;
    const char  *opt;

    collab_runner.esbuild = "/usr/bin/esbuild";
    collab_runner.seccomp = 1;

    for (i = 1; i < argc; i++) {
        opt = argv[i];

        if (strcmp(opt, "--allow-private") == 0) {
            collab_runner.allow_private = 1;
            continue;
        }

        if (strcmp(opt, "--selftest-sandbox") == 0) {
            collab_runner.selftest = 1;
            continue;
        }

#if defined(__SANITIZE_ADDRESS__)
        /*
         * AddressSanitizer builds only: LeakSanitizer needs clone(),
         * ptrace() and /proc at exit, which the filter refuses.
         */
        if (strcmp(opt, "--no-seccomp") == 0) {
            collab_runner.seccomp = 0;
            continue;
        }
#endif

        if (i + 1 == argc) {
            fprintf(stderr, "collab-runner: \"%s\" needs a value\n", opt);
            return -1;
        }

        if (strcmp(opt, "--database") == 0) {
            collab_runner.database = argv[++i];

        } else if (strcmp(opt, "--trusted-certificate") == 0) {
            collab_runner.trusted_certificate = argv[++i];

        } else if (strcmp(opt, "--esbuild") == 0) {
            collab_runner.esbuild = argv[++i];

        } else if (strcmp(opt, "--allow-address") == 0) {
            if (collab_runner.nallowed == COLLAB_MAX_ALLOWED) {
                fprintf(stderr, "collab-runner: at most %d allowed "
                        "addresses\n", COLLAB_MAX_ALLOWED);
                return -1;
            }

            collab_runner.allowed[collab_runner.nallowed++] = argv[++i];

        } else if (strcmp(opt, "--resolver") == 0) {
            if (collab_runner.nresolvers == COLLAB_MAX_RESOLVERS) {
                fprintf(stderr, "collab-runner: at most %d resolvers\n",
                        COLLAB_MAX_RESOLVERS);
                return -1;
            }

            collab_runner.resolvers[collab_runner.nresolvers++] = argv[++i];

        } else {
            fprintf(stderr, "collab-runner: unknown option \"%s\"\n", opt);
            return -1;
        }
    }

    if (collab_runner.database == NULL && !collab_runner.selftest) {
        fprintf(stderr, "collab-runner: --database is required\n");
        return -1;
    }

    return 0;
}


void
collab_runner_error(const char *fmt, ...)
{
    char     buf[1024];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    if ((size_t) n > sizeof(buf) - 2) {
        n = sizeof(buf) - 2;
    }

    buf[n++] = '\n';

    (void) !write(STDERR_FILENO, "collab-runner: ", 15);
    (void) !write(STDERR_FILENO, buf, n);
}


/*
 * JavaScript strings may hold lone surrogates, which QuickJS writes as
 * three-byte sequences (ED A0..BF xx) that are not UTF-8; each becomes
 * U+FFFD (EF BF BD), of the same length, so that every frame is UTF-8.
 */
size_t
collab_utf8_fix(char *s, size_t len)
{
    size_t          i;
    unsigned char  *p;

    p = (unsigned char *) s;

    for (i = 0; i + 2 < len; i++) {
        if (p[i] == 0xed && p[i + 1] >= 0xa0 && p[i + 1] <= 0xbf) {
            p[i] = 0xef;
            p[i + 1] = 0xbf;
            p[i + 2] = 0xbd;
            i += 2;
        }
    }

    return len;
}


/* frames the JSON text of j, queues it for the module and frees j */
void
collab_runner_send(collab_json_t *j)
{
    size_t          len;
    unsigned char  *data;

    data = collab_json_detach(j, &len);

    if (data == NULL) {
        collab_runner_error("out of memory for an answer");
        return;
    }

    if (collab_frame_write(&collab_link.out, data, len) != 0) {
        collab_runner_error("an answer of %zu bytes cannot be sent", len);
    }

    free(data);

    if (collab_link_flush() != 0) {
        collab_link.broken = 1;
    }
}


static int
collab_link_update(void)
{
    uint32_t  events;

    events = collab_link.eof ? 0 : EPOLLIN;

    if (collab_buf_len(&collab_link.out) > 0) {
        events |= EPOLLOUT;
    }

    return collab_io_set(&collab_link.io, events);
}


static int
collab_link_flush(void)
{
    ssize_t  n;

    while (collab_buf_len(&collab_link.out) > 0) {
        n = write(COLLAB_RUNNER_FD,
                  collab_link.out.data + collab_link.out.start,
                  collab_buf_len(&collab_link.out));

        if (n > 0) {
            collab_buf_consume(&collab_link.out, (size_t) n);
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        return -1;
    }

    return collab_link_update();
}


static void
collab_link_handler(collab_io_t *io, uint32_t events)
{
    if (!collab_link.eof && (events & (EPOLLIN|EPOLLHUP|EPOLLERR))) {
        collab_link_read();
    }

    if (events & (EPOLLOUT|EPOLLERR)) {
        if (collab_link_flush() != 0) {
            collab_link.broken = 1;
        }
    }
}


static void
collab_link_read(void)
{
    int                   rc;
    size_t                len;
    ssize_t               n;
    const unsigned char  *payload;

    for ( ;; ) {
        if (collab_buf_reserve(&collab_link.in, COLLAB_READ_CHUNK) != 0) {
            collab_runner_error("out of memory reading a frame");
            exit(1);
        }

        n = read(COLLAB_RUNNER_FD, collab_link.in.data + collab_link.in.end,
                 COLLAB_READ_CHUNK);

        if (n == 0) {
            collab_link.eof = 1;
            collab_link_update();
            break;
        }

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }

            collab_link.eof = 1;
            collab_link.broken = 1;
            collab_link_update();
            break;
        }

        collab_link.in.end += (size_t) n;

        for ( ;; ) {
            rc = collab_frame_next(&collab_link.in, COLLAB_FRAME_MAX,
                                   &payload, &len);

            if (rc == 0) {
                break;
            }

            if (rc < 0) {
                collab_runner_error("a frame larger than %d bytes: the "
                                    "stream cannot go on",
                                    COLLAB_FRAME_MAX);
                exit(1);
            }

            collab_dispatch(payload, len);
            collab_buf_consume(&collab_link.in, COLLAB_FRAME_HEADER + len);
        }
    }
}


static void
collab_send_error(const char *id, const char *message)
{
    collab_json_t  j;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "error");
    collab_json_key(&j, "id");
    collab_json_cstr(&j, id);
    collab_json_key(&j, "message");
    collab_json_cstr(&j, message);
    collab_json_obj_close(&j);

    collab_runner_send(&j);
}


static void
collab_dispatch(const unsigned char *payload, size_t len)
{
    json_t       *msg, *id;
    const char   *type;
    json_error_t  err;

    msg = json_loadb((const char *) payload, len, JSON_DECODE_INT_AS_REAL,
                     &err);

    if (!json_is_object(msg)) {
        collab_send_error(NULL, "the frame is not a JSON object");
        json_decref(msg);
        return;
    }

    type = json_string_value(json_object_get(msg, "type"));
    id = json_object_get(msg, "id");

    if (type == NULL) {
        collab_send_error(json_string_value(id), "the frame has no type");

    } else if (strcmp(type, "run") == 0) {
        collab_exec_start(msg);

    } else if (strcmp(type, "compile") == 0) {
        collab_compile(msg);

    } else if (strcmp(type, "cancel") == 0) {
        if (json_is_string(id)) {
            collab_exec_cancel(json_string_value(id));
        }

    } else {
        collab_send_error(json_string_value(id), "unknown frame type");
    }

    json_decref(msg);
}


static void
collab_send_ready(void)
{
    collab_json_t  j;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "ready");
    collab_json_key(&j, "version");
    collab_json_cstr(&j, COLLAB_RUNNER_VERSION);
    collab_json_obj_close(&j);

    collab_runner_send(&j);
}


int
main(int argc, char **argv)
{
    int  flags;

    if (collab_options(argc, argv) != 0) {
        collab_usage();
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);

    if (collab_runner.selftest) {
        return collab_sandbox_selftest();
    }

    flags = fcntl(COLLAB_RUNNER_FD, F_GETFL);

    if (flags == -1) {
        collab_runner_error("fd %d is not open: the runner is started by "
                            "the collab module with its socket there",
                            COLLAB_RUNNER_FD);
        return 2;
    }

    if (fcntl(COLLAB_RUNNER_FD, F_SETFL, flags | O_NONBLOCK) == -1
        || fcntl(COLLAB_RUNNER_FD, F_SETFD, FD_CLOEXEC) == -1)
    {
        collab_runner_error("fcntl(%d) failed: %s", COLLAB_RUNNER_FD,
                            strerror(errno));
        return 1;
    }

    /*
     * Start-up order: first the inherited descriptors and the environment
     * go, then the compile helper forks (it alone may start esbuild), then
     * everything that reads a file opens it, and only then do the limits
     * and the system call filter close the process.
     */
    if (collab_sandbox_fds() != 0
        || collab_compile_init() != 0
        || collab_bindings_open(collab_runner.database) != 0
        || collab_loop_init() != 0
        || collab_fetch_init() != 0
        || collab_js_init() != 0
        || collab_sandbox_limits() != 0
        || (collab_runner.seccomp && collab_sandbox_seccomp() != 0))
    {
        return 1;
    }

    collab_link.io.fd = COLLAB_RUNNER_FD;
    collab_link.io.handler = collab_link_handler;

    if (collab_io_set(&collab_link.io, EPOLLIN) != 0) {
        collab_runner_error("epoll_ctl(%d) failed: %s", COLLAB_RUNNER_FD,
                            strerror(errno));
        return 1;
    }

    collab_send_ready();

    /*
     * When the module closes its side, the executions under way finish and
     * their results are sent before the runner exits; when nothing can be
     * sent any more, it exits at once.
     */
    while (!collab_link.broken
           && !(collab_link.eof && collab_exec_count() == 0
                && collab_compile_pending() == 0
                && collab_buf_len(&collab_link.out) == 0))
    {
        if (collab_loop_turn(collab_exec_busy()) != 0) {
            collab_runner_error("epoll_wait() failed: %s", strerror(errno));
            return 1;
        }

        collab_exec_run();
        collab_fetch_turn_end();
    }

    collab_exec_shutdown();
    collab_compile_done();
    collab_js_done();
    collab_fetch_done();
    collab_bindings_close();
    collab_loop_done();
    collab_buf_free(&collab_link.in);
    collab_buf_free(&collab_link.out);

    return 0;
}
