/*
 * Copyright (C) collab
 *
 * collab-runner's main: the options, the order of start-up (everything
 * that opens a file or forks comes before the sandbox closes), the
 * module's frames to their parts and the event loop.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngx_collab_rt.h"
#include "ngx_collab_sandbox.h"
#include "ngx_collab_bindings.h"
#include "ngx_collab_fetch.h"
#include "ngx_collab_js.h"
#include "ngx_collab_exec.h"
#include "ngx_collab_compile.h"


static void collab_usage(void);
static int collab_options(int argc, char **argv);
static void collab_dispatch(const unsigned char *payload, size_t len);


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


static void
collab_dispatch(const unsigned char *payload, size_t len)
{
    json_t       *msg, *id;
    const char   *type;
    json_error_t  err;

    msg = json_loadb((const char *) payload, len, JSON_DECODE_INT_AS_REAL,
                     &err);

    if (!json_is_object(msg)) {
        collab_runner_send_error(NULL, "the frame is not a JSON object");
        json_decref(msg);
        return;
    }

    type = json_string_value(json_object_get(msg, "type"));
    id = json_object_get(msg, "id");

    if (type == NULL) {
        collab_runner_send_error(json_string_value(id),
                                 "the frame has no type");

    } else if (strcmp(type, "run") == 0) {
        collab_exec_start(msg);

    } else if (strcmp(type, "compile") == 0) {
        collab_compile(msg);

    } else if (strcmp(type, "cancel") == 0) {
        if (json_is_string(id)) {
            collab_exec_cancel(json_string_value(id));
        }

    } else {
        collab_runner_send_error(json_string_value(id), "unknown frame type");
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

    if (collab_link_open(collab_dispatch) != 0) {
        return 1;
    }

    collab_send_ready();

    /*
     * When the module closes its side, the executions under way finish and
     * their results are sent before the runner exits; when nothing can be
     * sent any more, it exits at once.
     */
    while (!collab_link_broken()
           && !(collab_link_finished() && collab_exec_count() == 0
                && collab_compile_pending() == 0))
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
    collab_link_close();

    return 0;
}
