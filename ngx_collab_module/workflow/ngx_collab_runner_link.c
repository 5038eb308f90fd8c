/*
 * Copyright (C) collab
 *
 * The runner link: each worker starts its collab-runner processes in
 * init_process, speaks to each over a Unix socket pair (the runner's
 * fd 3) as an nginx connection, non-blocking, in frames of a 4-byte
 * big-endian length and one JSON object, and starts a runner again when
 * it dies, after a delay that grows while it keeps dying.
 *
 * The worker takes SIGCHLD over: it is blocked in the worker and read
 * from a signalfd registered as an nginx connection, so that nginx's own
 * handler (which reaps any child and logs it as an "unknown process")
 * never sees a runner.  Children that are not runners are reaped and
 * logged here as nginx would.  Runners are started with posix_spawn(): an
 * empty signal mask, default handlers, stdin and stdout on /dev/null,
 * stderr on a pipe whose lines go to the error log, no other descriptor.
 */

#include "ngx_collab_workflow.h"

#include <dlfcn.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>


#define COLLAB_FRAME_MAX          (64 * 1024 * 1024)
#define COLLAB_READ_CHUNK         65536
#define COLLAB_START_TIMEOUT      10000
#define COLLAB_COMPILE_TIMEOUT    30000
#define COLLAB_BACKOFF_MIN        100
#define COLLAB_BACKOFF_MAX        10000
#define COLLAB_STABLE             10000

/*
 * A runner that ran executions and said nothing for this long is likely
 * inside synchronous code (which it cannot interleave): new work goes to
 * another runner when there is one.
 */
#define COLLAB_QUIET              200


typedef struct {
    ngx_queue_t                queue;
    size_t                     len;
    size_t                     sent;
    u_char                     data[1];
} ngx_collab_frame_t;


static struct {
    ngx_log_t                     *log;
    ngx_collab_runner_handlers_t   handlers;
    ngx_collab_runner_t           *runners;
    ngx_uint_t                     n;
    char                          *path;
    char                         **argv;
    char                         **envp;
    ngx_connection_t              *sigchld;
    ngx_queue_t                    waiting;     /* compiles, no runner yet */
    ngx_uint_t                     compile_id;
    unsigned                       ready:1;
} ngx_collab_link;


static ngx_int_t ngx_collab_runner_args(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
static ngx_int_t ngx_collab_runners_sigchld_init(ngx_cycle_t *cycle);
static void ngx_collab_runners_sigchld(ngx_event_t *rev);
static void ngx_collab_runner_start(ngx_collab_runner_t *rn);
static void ngx_collab_runner_respawn(ngx_event_t *ev);
static void ngx_collab_runner_start_timeout(ngx_event_t *ev);
static void ngx_collab_runner_exited(ngx_collab_runner_t *rn, int status);
static void ngx_collab_runner_read(ngx_event_t *rev);
static void ngx_collab_runner_write(ngx_event_t *wev);
static void ngx_collab_runner_stderr(ngx_event_t *rev);
static void ngx_collab_runner_frame(ngx_collab_runner_t *rn, u_char *p,
    size_t len);
static void ngx_collab_runner_close(ngx_collab_runner_t *rn);
static ngx_int_t ngx_collab_compile_send(ngx_collab_runner_t *rn,
    ngx_collab_compile_t *c);
static void ngx_collab_compile_timeout(ngx_event_t *ev);
static void ngx_collab_compiles_flush(void);


/* --- configuration -------------------------------------------------------- */

/*
 * The default runner: collab-runner next to the shared object that holds
 * self, a symbol of the module (or next to nginx, for a module built
 * in).  NGX_CONF_OK with path set, or with path empty when there is none
 * (workflows then answer 503).
 */
char *
ngx_collab_runner_path(ngx_conf_t *cf, ngx_str_t *path, void *self)
{
    u_char   *p, *slash;
    size_t    dir;
    Dl_info   info;

    if (path->len) {
        if (ngx_conf_full_name(cf->cycle, path, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (access((char *) path->data, X_OK) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "collab_workflow_runner: \"%V\" is not an "
                               "executable file", path);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (dladdr(self, &info) == 0
        || info.dli_fname == NULL)
    {
        return NGX_CONF_OK;
    }

    slash = (u_char *) strrchr(info.dli_fname, '/');
    dir = slash ? (size_t) (slash - (u_char *) info.dli_fname) + 1 : 0;

    path->len = dir + sizeof(COLLAB_RUNNER_NAME) - 1;
    path->data = ngx_pnalloc(cf->pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(path->data, info.dli_fname, dir);
    ngx_memcpy(p, COLLAB_RUNNER_NAME, sizeof(COLLAB_RUNNER_NAME));

    if (access((char *) path->data, X_OK) != 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "collab: no workflow runner at \"%V\": workflows "
                           "cannot run; build it or set "
                           "collab_workflow_runner", path);
        path->len = 0;
        path->data = NULL;
    }

    return NGX_CONF_OK;
}


/* --- start and end (init_process, exit_process) --------------------------- */

ngx_int_t
ngx_collab_runners_init(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf,
    ngx_collab_runner_handlers_t *h)
{
    ngx_uint_t            i;
    ngx_collab_runner_t  *rn;

    ngx_collab_link.log = cycle->log;
    ngx_collab_link.handlers = *h;
    ngx_queue_init(&ngx_collab_link.waiting);

    if (cmcf->workflow.runner.len == 0) {
        return NGX_OK;
    }

    if (ngx_collab_runner_args(cycle, cmcf) != NGX_OK
        || ngx_collab_runners_sigchld_init(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_collab_link.n = cmcf->workflow.runners;
    ngx_collab_link.runners = ngx_pcalloc(cycle->pool,
                                          ngx_collab_link.n
                                          * sizeof(ngx_collab_runner_t));
    if (ngx_collab_link.runners == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_link.ready = 1;

    for (i = 0; i < ngx_collab_link.n; i++) {
        rn = &ngx_collab_link.runners[i];

        rn->index = i;
        rn->pid = -1;
        rn->log = *cycle->log;
        rn->log.action = "talking to the workflow runner";

        ngx_queue_init(&rn->out);
        ngx_queue_init(&rn->compiles);
        ngx_queue_init(&rn->flights);

        rn->respawn.handler = ngx_collab_runner_respawn;
        rn->respawn.data = rn;
        rn->respawn.log = cycle->log;
        rn->respawn.cancelable = 1;

        rn->start.handler = ngx_collab_runner_start_timeout;
        rn->start.data = rn;
        rn->start.log = cycle->log;
        rn->start.cancelable = 1;

        ngx_collab_runner_start(rn);
    }

    return NGX_OK;
}


/* each runner is ended by its pid, and reaped */
void
ngx_collab_runners_exit(void)
{
    int                   status;
    ngx_uint_t            i;
    ngx_collab_runner_t  *rn;

    if (!ngx_collab_link.ready) {
        return;
    }

    for (i = 0; i < ngx_collab_link.n; i++) {
        rn = &ngx_collab_link.runners[i];

        ngx_collab_runner_close(rn);

        if (rn->pid > 0) {
            kill(rn->pid, SIGKILL);

            while (waitpid(rn->pid, &status, 0) == -1 && errno == EINTR) {
                /* void */
            }

            rn->pid = -1;
        }
    }

    if (ngx_collab_link.sigchld) {
        ngx_close_connection(ngx_collab_link.sigchld);
        ngx_collab_link.sigchld = NULL;
    }

    ngx_collab_link.ready = 0;
}


ngx_uint_t
ngx_collab_runners_count(void)
{
    return ngx_collab_link.n;
}


ngx_collab_runner_t *
ngx_collab_runner(ngx_uint_t i)
{
    return &ngx_collab_link.runners[i];
}


/*
 * The runner for new work: a ready one, one that was heard from lately
 * (or has nothing to do) first, then the one with the fewest executions.
 */
ngx_collab_runner_t *
ngx_collab_runner_pick(void)
{
    ngx_uint_t            i, quiet, best_quiet;
    ngx_collab_runner_t  *rn, *best;

    best = NULL;
    best_quiet = 0;

    for (i = 0; i < ngx_collab_link.n; i++) {
        rn = &ngx_collab_link.runners[i];

        if (!rn->ready) {
            continue;
        }

        quiet = (rn->inflight && ngx_current_msec - rn->heard > COLLAB_QUIET);

        if (best == NULL || quiet < best_quiet
            || (quiet == best_quiet && rn->inflight < best->inflight))
        {
            best = rn;
            best_quiet = quiet;
        }
    }

    return best;
}


/*
 * Whether a runner is up or on its way: a compile may wait for one.  Not
 * when none is configured, or every one failed its last start.
 */
ngx_uint_t
ngx_collab_runners_usable(void)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_collab_link.n; i++) {
        if (ngx_collab_link.runners[i].ready
            || ngx_collab_link.runners[i].failures == 0)
        {
            return 1;
        }
    }

    return 0;
}


static char *
ngx_collab_runner_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return p;
}


/* the runner's command line and environment, made once per worker */
static ngx_int_t
ngx_collab_runner_args(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf)
{
    char                       **argv, **envp;
    ngx_str_t                   *a;
    ngx_uint_t                   n, i, k;
    ngx_resolver_t              *r;
    ngx_resolver_connection_t   *rec;

    ngx_collab_link.path = ngx_collab_runner_cstr(cycle->pool,
                                                  &cmcf->workflow.runner);
    if (ngx_collab_link.path == NULL) {
        return NGX_ERROR;
    }

    r = cmcf->webhook.resolver;
    n = (r && r->connections.nelts) ? r->connections.nelts : 0;
    k = cmcf->workflow.allow_addresses
        ? cmcf->workflow.allow_addresses->nelts : 0;

    argv = ngx_pcalloc(cycle->pool, (10 + 2 * n + 2 * k) * sizeof(char *));
    if (argv == NULL) {
        return NGX_ERROR;
    }

    i = 0;
    argv[i++] = ngx_collab_link.path;
    argv[i++] = "--database";
    argv[i++] = ngx_collab_runner_cstr(cycle->pool, &cmcf->database);

    if (n) {
        rec = r->connections.elts;

        for (n = 0; n < r->connections.nelts && n < 8; n++) {
            argv[i++] = "--resolver";
            argv[i++] = ngx_collab_runner_cstr(cycle->pool, &rec[n].server);
        }
    }

    if (cmcf->workflow.trusted_certificate.len) {
        argv[i++] = "--trusted-certificate";
        argv[i++] = ngx_collab_runner_cstr(cycle->pool,
                                      &cmcf->workflow.trusted_certificate);
    }

    if (cmcf->workflow.allow_private) {
        argv[i++] = "--allow-private";
    }

    if (k) {
        a = cmcf->workflow.allow_addresses->elts;

        for (n = 0; n < k; n++) {
            argv[i++] = "--allow-address";
            argv[i++] = ngx_collab_runner_cstr(cycle->pool, &a[n]);
        }
    }

#if defined(__SANITIZE_ADDRESS__)
    /* its LeakSanitizer needs what the system call filter refuses */
    argv[i++] = "--no-seccomp";
#endif

    argv[i] = NULL;

    while (i--) {
        if (argv[i] == NULL) {
            return NGX_ERROR;
        }
    }

    /* an empty environment; a sanitizer build passes its options on */
    envp = ngx_pcalloc(cycle->pool, 4 * sizeof(char *));
    if (envp == NULL) {
        return NGX_ERROR;
    }

#if defined(__SANITIZE_ADDRESS__)
    {
    char        *v;
    ngx_uint_t   k;
    static char *names[] = { "ASAN_OPTIONS", "LSAN_OPTIONS",
                             "UBSAN_OPTIONS" };

    for (i = 0, k = 0; k < 3; k++) {
        v = getenv(names[k]);

        if (v) {
            envp[i] = ngx_pnalloc(cycle->pool,
                                  ngx_strlen(names[k]) + ngx_strlen(v) + 2);
            if (envp[i] == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf((u_char *) envp[i], "%s=%s%Z", names[k], v);
            i++;
        }
    }
    }
#endif

    ngx_collab_link.argv = argv;
    ngx_collab_link.envp = envp;

    return NGX_OK;
}


/* SIGCHLD is blocked in the worker and read from a signalfd */
static ngx_int_t
ngx_collab_runners_sigchld_init(ngx_cycle_t *cycle)
{
    int                fd;
    sigset_t           set;
    ngx_connection_t  *c;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "collab: sigprocmask(SIGCHLD) failed");
        return NGX_ERROR;
    }

    fd = signalfd(-1, &set, SFD_NONBLOCK|SFD_CLOEXEC);

    if (fd == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "collab: signalfd() failed");
        goto failed;
    }

    c = ngx_get_connection(fd, cycle->log);

    if (c == NULL) {
        close(fd);
        goto failed;
    }

    c->read->handler = ngx_collab_runners_sigchld;
    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->data = NULL;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        goto failed;
    }

    ngx_collab_link.sigchld = c;

    return NGX_OK;

failed:

    sigprocmask(SIG_UNBLOCK, &set, NULL);
    return NGX_ERROR;
}


static void
ngx_collab_runners_sigchld(ngx_event_t *rev)
{
    int                       status;
    ssize_t                   n;
    ngx_pid_t                 pid;
    ngx_uint_t                i;
    ngx_connection_t         *c;
    ngx_collab_runner_t      *rn;
    struct signalfd_siginfo   si;

    c = rev->data;

    do {
        n = read(c->fd, &si, sizeof(si));
    } while (n == (ssize_t) sizeof(si) || (n == -1 && ngx_errno == EINTR));

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            break;
        }

        if (pid == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            break;
        }

        rn = NULL;

        for (i = 0; i < ngx_collab_link.n; i++) {
            if (ngx_collab_link.runners[i].pid == pid) {
                rn = &ngx_collab_link.runners[i];
                break;
            }
        }

        if (rn) {
            ngx_collab_runner_exited(rn, status);
            continue;
        }

        /* another child of this worker: what nginx would have said */
        if (WIFSIGNALED(status)) {
            ngx_log_error(NGX_LOG_ALERT, ngx_collab_link.log, 0,
                          "unknown process %P exited on signal %d",
                          pid, WTERMSIG(status));

        } else {
            ngx_log_error(NGX_LOG_NOTICE, ngx_collab_link.log, 0,
                          "unknown process %P exited with code %d",
                          pid, WEXITSTATUS(status));
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ngx_collab_link.log, 0,
                      "collab: the SIGCHLD descriptor cannot be watched");
    }
}


/* a descriptor of ours that the spawn's file actions cannot clash with */
static int
ngx_collab_runner_fd_above(int fd)
{
    int  moved;

    if (fd > 3) {
        return fd;
    }

    moved = fcntl(fd, F_DUPFD_CLOEXEC, 4);
    close(fd);

    return moved;
}


static ngx_connection_t *
ngx_collab_runner_conn(ngx_collab_runner_t *rn, int fd, ngx_event_handler_pt
    read)
{
    ngx_connection_t  *c;

    if (ngx_nonblocking(fd) == -1) {
        close(fd);
        return NULL;
    }

    c = ngx_get_connection(fd, &rn->log);
    if (c == NULL) {
        close(fd);
        return NULL;
    }

    c->data = rn;
    c->log = &rn->log;
    c->read->log = &rn->log;
    c->write->log = &rn->log;
    c->read->handler = read;
    c->write->handler = ngx_collab_runner_write;
    c->recv = ngx_recv;
    c->send = ngx_send;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NULL;
    }

    return c;
}


static void
ngx_collab_runner_start(ngx_collab_runner_t *rn)
{
    int                          sv[2], ep[2], rc;
    sigset_t                     set;
    ngx_pid_t                    pid;
    posix_spawnattr_t            attr;
    posix_spawn_file_actions_t   fa;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    rn->ready = 0;
    rn->ending = 0;
    rn->eof = 0;
    rn->in_len = 0;
    rn->line_len = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, sv) == -1) {
        ngx_log_error(NGX_LOG_ALERT, &rn->log, ngx_errno,
                      "collab: socketpair() for the workflow runner failed");
        goto failed;
    }

    if (pipe2(ep, O_CLOEXEC) == -1) {
        ngx_log_error(NGX_LOG_ALERT, &rn->log, ngx_errno,
                      "collab: pipe() for the workflow runner failed");
        close(sv[0]);
        close(sv[1]);
        goto failed;
    }

    sv[1] = ngx_collab_runner_fd_above(sv[1]);
    ep[1] = ngx_collab_runner_fd_above(ep[1]);

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);

    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);

#if (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 4);
#endif

    /* no signal blocked (the worker blocks SIGCHLD), every one default */
    sigemptyset(&set);
    posix_spawnattr_setsigmask(&attr, &set);
    sigfillset(&set);
    sigdelset(&set, SIGKILL);
    sigdelset(&set, SIGSTOP);
    posix_spawnattr_setsigdefault(&attr, &set);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK
                                    |POSIX_SPAWN_SETSIGDEF);

    rc = (sv[1] == -1 || ep[1] == -1)
         ? EMFILE
         : posix_spawn(&pid, ngx_collab_link.path, &fa, &attr,
                       ngx_collab_link.argv, ngx_collab_link.envp);

    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);

    if (sv[1] != -1) {
        close(sv[1]);
    }

    if (ep[1] != -1) {
        close(ep[1]);
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ERR, &rn->log, rc,
                      "collab: cannot start the workflow runner \"%s\"",
                      ngx_collab_link.path);
        close(sv[0]);
        close(ep[0]);
        goto failed;
    }

    rn->pid = pid;
    rn->started = ngx_current_msec;

    /* one that replaces a runner that ended is a restart */
    if (rn->spawned) {
        ngx_collab_metrics_inc(COLLAB_M_RUNNER_RESTARTS, 1);
    }

    rn->spawned = 1;

    rn->conn = ngx_collab_runner_conn(rn, sv[0], ngx_collab_runner_read);
    rn->err = ngx_collab_runner_conn(rn, ep[0], ngx_collab_runner_stderr);

    if (rn->conn == NULL || rn->err == NULL) {
        ngx_collab_runner_end(rn, "no connection");
        return;
    }

    ngx_add_timer(&rn->start, COLLAB_START_TIMEOUT);

    ngx_log_error(NGX_LOG_NOTICE, &rn->log, 0,
                  "collab: workflow runner %P started", pid);

    return;

failed:

    rn->failures++;
    rn->backoff = rn->backoff ? ngx_min(rn->backoff * 2, COLLAB_BACKOFF_MAX)
                              : COLLAB_BACKOFF_MIN;

    ngx_add_timer(&rn->respawn, rn->backoff);

    /* compiles waiting for a runner that cannot start are answered */
    if (!ngx_collab_runners_usable()) {
        ngx_collab_compiles_flush();
    }
}


static void
ngx_collab_runner_respawn(ngx_event_t *ev)
{
    ngx_collab_runner_t  *rn;

    rn = ev->data;

    if (rn->pid == -1) {
        ngx_collab_runner_start(rn);
    }
}


static void
ngx_collab_runner_start_timeout(ngx_event_t *ev)
{
    ngx_collab_runner_t  *rn;

    rn = ev->data;

    if (!rn->ready) {
        ngx_collab_runner_end(rn, "it did not say it was ready in time");
    }
}


/*
 * Ends a runner by its pid; what follows (its executions lost, a new
 * runner) happens once it is reaped.
 */
void
ngx_collab_runner_end(ngx_collab_runner_t *rn, const char *why)
{
    if (rn->pid <= 0 || rn->ending) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, &rn->log, 0,
                  "collab: ending workflow runner %P: %s", rn->pid, why);

    rn->ending = 1;
    rn->ready = 0;

    kill(rn->pid, SIGKILL);
}


static void
ngx_collab_runner_close(ngx_collab_runner_t *rn)
{
    ngx_queue_t         *q;
    ngx_collab_frame_t  *f;

    if (rn->conn) {
        ngx_close_connection(rn->conn);
        rn->conn = NULL;
    }

    if (rn->err) {
        ngx_close_connection(rn->err);
        rn->err = NULL;
    }

    while (!ngx_queue_empty(&rn->out)) {
        q = ngx_queue_head(&rn->out);
        ngx_queue_remove(q);
        f = ngx_queue_data(q, ngx_collab_frame_t, queue);
        ngx_free(f);
    }

    if (rn->in) {
        ngx_free(rn->in);
        rn->in = NULL;
        rn->in_len = 0;
        rn->in_size = 0;
    }

    if (rn->start.timer_set) {
        ngx_del_timer(&rn->start);
    }
}


/* reaped: what it wrote before it died is read, then it is replaced */
static void
ngx_collab_runner_exited(ngx_collab_runner_t *rn, int status)
{
    ngx_uint_t             lived;
    ngx_queue_t           *q;
    ngx_collab_compile_t  *c;

    if (rn->conn && !rn->eof) {
        ngx_collab_runner_read(rn->conn->read);
    }

    if (rn->err) {
        ngx_collab_runner_stderr(rn->err->read);
    }

    if (rn->ending || ngx_exiting || ngx_terminate || ngx_quit) {
        ngx_log_error(NGX_LOG_NOTICE, &rn->log, 0,
                      "collab: workflow runner %P ended", rn->pid);

    } else if (WIFSIGNALED(status)) {
        ngx_log_error(NGX_LOG_ERR, &rn->log, 0,
                      "collab: workflow runner %P exited on signal %d",
                      rn->pid, WTERMSIG(status));

    } else {
        ngx_log_error(NGX_LOG_ERR, &rn->log, 0,
                      "collab: workflow runner %P exited with code %d",
                      rn->pid, WEXITSTATUS(status));
    }

    lived = ngx_current_msec - rn->started;

    if (rn->ready) {
        rn->failures = 0;

    } else {
        rn->failures++;
    }

    rn->pid = -1;
    rn->ready = 0;

    ngx_collab_runner_close(rn);

    /* its compiles go to another runner, or wait for the next one */
    while (!ngx_queue_empty(&rn->compiles)) {
        q = ngx_queue_head(&rn->compiles);
        ngx_queue_remove(q);
        c = ngx_queue_data(q, ngx_collab_compile_t, queue);
        c->runner = NULL;
        ngx_queue_insert_tail(&ngx_collab_link.waiting, q);
    }

    ngx_collab_link.handlers.lost(rn);

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    /* one that lived a while starts again at once */
    if (lived >= COLLAB_STABLE && rn->failures == 0) {
        rn->backoff = 0;

    } else {
        rn->backoff = rn->backoff
                      ? ngx_min(rn->backoff * 2, COLLAB_BACKOFF_MAX)
                      : COLLAB_BACKOFF_MIN;
    }

    if (rn->backoff == 0) {
        ngx_collab_runner_start(rn);

    } else {
        ngx_add_timer(&rn->respawn, rn->backoff);
    }

    ngx_collab_compiles_flush();
}


/* --- frames --------------------------------------------------------------- */

static void
ngx_collab_runner_read(ngx_event_t *rev)
{
    u_char               *p;
    size_t                len, at;
    ssize_t               n;
    ngx_connection_t     *c;
    ngx_collab_runner_t  *rn;

    c = rev->data;
    rn = c->data;

    for ( ;; ) {
        if (rn->in_size - rn->in_len < COLLAB_READ_CHUNK) {
            len = ngx_max(rn->in_size * 2, rn->in_len + COLLAB_READ_CHUNK);

            p = ngx_alloc(len, &rn->log);
            if (p == NULL) {
                ngx_collab_runner_end(rn, "out of memory");
                return;
            }

            if (rn->in) {
                ngx_memcpy(p, rn->in, rn->in_len);
                ngx_free(rn->in);
            }

            rn->in = p;
            rn->in_size = len;
        }

        n = c->recv(c, rn->in + rn->in_len, rn->in_size - rn->in_len);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            rn->eof = 1;
            break;
        }

        rn->in_len += n;

        /* every complete frame, in order */
        at = 0;

        while (rn->in_len - at >= 4) {
            p = rn->in + at;
            len = ((size_t) p[0] << 24) | ((size_t) p[1] << 16)
                  | ((size_t) p[2] << 8) | p[3];

            if (len > COLLAB_FRAME_MAX) {
                ngx_collab_runner_end(rn, "a frame is too large");
                return;
            }

            if (rn->in_len - at - 4 < len) {
                break;
            }

            ngx_collab_runner_frame(rn, p + 4, len);

            if (rn->in == NULL) {
                /* closed meanwhile */
                return;
            }

            at += 4 + len;
        }

        if (at) {
            ngx_memmove(rn->in, rn->in + at, rn->in_len - at);
            rn->in_len -= at;
        }
    }

    if (rn->eof) {
        /* the runner is going: make sure, then wait to reap it */
        if (rn->pid > 0) {
            rn->ready = 0;
            kill(rn->pid, SIGKILL);
        }

        if (rn->conn && rn->conn->read->active) {
            ngx_del_event(rn->conn->read, NGX_READ_EVENT, 0);
        }

        return;
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_collab_runner_end(rn, "its socket cannot be watched");
    }
}


static void
ngx_collab_runner_frame(ngx_collab_runner_t *rn, u_char *p, size_t len)
{
    json_t                *msg, *id;
    ngx_uint_t             n;
    ngx_queue_t           *q;
    const char            *type, *s;
    json_error_t           err;
    ngx_collab_compile_t  *c;

    msg = json_loadb((char *) p, len, COLLAB_JSON_DECODE, &err);

    if (!json_is_object(msg)) {
        json_decref(msg);
        ngx_collab_runner_end(rn, "it sent a frame that is not a JSON "
                                  "object");
        return;
    }

    type = json_string_value(json_object_get(msg, "type"));
    id = json_object_get(msg, "id");
    s = json_string_value(id);

    rn->heard = ngx_current_msec;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, &rn->log, 0,
                   "collab runner %P: frame \"%s\" of %uz bytes",
                   rn->pid, type ? type : "?", len);

    if (type == NULL) {
        goto done;
    }

    if (ngx_strcmp(type, "ready") == 0) {
        rn->ready = 1;

        if (rn->start.timer_set) {
            ngx_del_timer(&rn->start);
        }

        rn->failures = 0;

        ngx_collab_link.handlers.ready(rn);
        ngx_collab_compiles_flush();
        goto done;
    }

    /* a compile's answer, or the refusal of a compile */
    if (s && s[0] == 'c'
        && (ngx_strcmp(type, "compiled") == 0
            || ngx_strcmp(type, "error") == 0))
    {
        n = ngx_atoi((u_char *) s + 1, ngx_strlen(s + 1));

        for (q = ngx_queue_head(&rn->compiles);
             q != ngx_queue_sentinel(&rn->compiles);
             q = ngx_queue_next(q))
        {
            c = ngx_queue_data(q, ngx_collab_compile_t, queue);

            if (c->id == n) {
                ngx_queue_remove(q);

                if (c->timer.timer_set) {
                    ngx_del_timer(&c->timer);
                }

                c->handler(c, msg);
                break;
            }
        }

        goto done;
    }

    ngx_collab_link.handlers.frame(rn, msg);

done:

    json_decref(msg);
}


/* queues a frame (the 4-byte length is added here) and writes what it can */
ngx_int_t
ngx_collab_runner_send(ngx_collab_runner_t *rn, u_char *data, size_t len)
{
    ngx_uint_t           idle;
    ngx_collab_frame_t  *f;

    if (rn->conn == NULL || rn->eof) {
        return NGX_ERROR;
    }

    f = ngx_alloc(sizeof(ngx_collab_frame_t) + 4 + len, &rn->log);
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->data[0] = (u_char) (len >> 24);
    f->data[1] = (u_char) (len >> 16);
    f->data[2] = (u_char) (len >> 8);
    f->data[3] = (u_char) len;
    ngx_memcpy(f->data + 4, data, len);
    f->len = 4 + len;
    f->sent = 0;

    idle = ngx_queue_empty(&rn->out);
    ngx_queue_insert_tail(&rn->out, &f->queue);

    if (idle) {
        ngx_collab_runner_write(rn->conn->write);
    }

    return NGX_OK;
}


static void
ngx_collab_runner_write(ngx_event_t *wev)
{
    ssize_t               n;
    ngx_queue_t          *q;
    ngx_connection_t     *c;
    ngx_collab_frame_t   *f;
    ngx_collab_runner_t  *rn;

    c = wev->data;
    rn = c->data;

    while (!ngx_queue_empty(&rn->out)) {
        q = ngx_queue_head(&rn->out);
        f = ngx_queue_data(q, ngx_collab_frame_t, queue);

        n = c->send(c, f->data + f->sent, f->len - f->sent);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_collab_runner_end(rn, "its socket cannot be watched");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_collab_runner_end(rn, "its socket cannot be written");
            return;
        }

        f->sent += n;

        if (f->sent == f->len) {
            ngx_queue_remove(q);
            ngx_free(f);
        }
    }
}


/* the runner's stderr, line by line, into the error log */
static void
ngx_collab_runner_stderr(ngx_event_t *rev)
{
    u_char               *p, *last, *nl;
    ssize_t               n;
    ngx_connection_t     *c;
    ngx_collab_runner_t  *rn;
    u_char                buf[4096];

    c = rev->data;
    rn = c->data;

    for ( ;; ) {
        n = read(c->fd, buf, sizeof(buf));

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        if (n == -1 && ngx_errno == NGX_EAGAIN) {
            rev->ready = 0;
            break;
        }

        if (n <= 0) {
            if (rn->line_len) {
                ngx_log_error(NGX_LOG_WARN, &rn->log, 0,
                              "collab: workflow runner %P: %*s", rn->pid,
                              rn->line_len, rn->line);
                rn->line_len = 0;
            }

            if (c->read->active) {
                ngx_del_event(c->read, NGX_READ_EVENT, 0);
            }

            return;
        }

        p = buf;
        last = buf + n;

        while (p < last) {
            nl = ngx_strlchr(p, last, '\n');

            if (nl == NULL) {
                n = ngx_min((size_t) (last - p),
                            sizeof(rn->line) - rn->line_len);
                rn->line_len += ngx_cpymem(rn->line + rn->line_len, p, n)
                                - (rn->line + rn->line_len);
                break;
            }

            n = ngx_min((size_t) (nl - p), sizeof(rn->line) - rn->line_len);
            ngx_memcpy(rn->line + rn->line_len, p, n);

            ngx_log_error(NGX_LOG_WARN, &rn->log, 0,
                          "collab: workflow runner %P: %*s", rn->pid,
                          rn->line_len + n, rn->line);

            rn->line_len = 0;
            p = nl + 1;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_collab_runner_end(rn, "its stderr cannot be watched");
    }
}


/* --- compiles ------------------------------------------------------------- */

/*
 * Asks a runner to compile the code of a workflow; the answer comes to
 * c->handler.  NGX_DECLINED when no runner can answer.
 */
ngx_int_t
ngx_collab_runner_compile(ngx_collab_compile_t *c)
{
    ngx_collab_runner_t  *best;

    if (!ngx_collab_link.ready || !ngx_collab_runners_usable()) {
        return NGX_DECLINED;
    }

    c->id = ++ngx_collab_link.compile_id;
    c->runner = NULL;

    c->timer.handler = ngx_collab_compile_timeout;
    c->timer.data = c;
    c->timer.log = c->log;

    ngx_add_timer(&c->timer, COLLAB_COMPILE_TIMEOUT);

    best = ngx_collab_runner_pick();

    if (best == NULL) {
        ngx_queue_insert_tail(&ngx_collab_link.waiting, &c->queue);
        return NGX_OK;
    }

    (void) ngx_collab_compile_send(best, c);

    return NGX_OK;
}


static ngx_int_t
ngx_collab_compile_send(ngx_collab_runner_t *rn, ngx_collab_compile_t *c)
{
    size_t          len;
    u_char         *data;
    collab_json_t   j;
    char            id[NGX_INT_T_LEN + 2];

    ngx_sprintf((u_char *) id, "c%ui%Z", c->id);

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "compile");
    collab_json_key(&j, "id");
    collab_json_cstr(&j, id);
    collab_json_key(&j, "code");
    collab_json_str(&j, c->code.data, c->code.len);
    collab_json_key(&j, "language");
    collab_json_cstr(&j, c->language);
    collab_json_obj_close(&j);

    data = collab_json_detach(&j, &len);

    if (data == NULL || ngx_collab_runner_send(rn, data, len) != NGX_OK) {
        /* it waits for the next runner, or its timer */
        free(data);
        c->runner = NULL;
        ngx_queue_insert_tail(&ngx_collab_link.waiting, &c->queue);
        return NGX_ERROR;
    }

    free(data);

    c->runner = rn;
    ngx_queue_insert_tail(&rn->compiles, &c->queue);

    return NGX_OK;
}


void
ngx_collab_runner_compile_cancel(ngx_collab_compile_t *c)
{
    if (c->timer.timer_set) {
        ngx_del_timer(&c->timer);
        ngx_queue_remove(&c->queue);
    }
}


static void
ngx_collab_compile_timeout(ngx_event_t *ev)
{
    ngx_collab_compile_t  *c;

    c = ev->data;

    ngx_queue_remove(&c->queue);

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "collab: no workflow runner compiled the code in time");

    c->handler(c, NULL);
}


/* waiting compiles go to a ready runner, or fail when none can come */
static void
ngx_collab_compiles_flush(void)
{
    ngx_uint_t             usable;
    ngx_queue_t           *q;
    ngx_collab_runner_t   *best;
    ngx_collab_compile_t  *c;

    usable = ngx_collab_runners_usable();

    while (!ngx_queue_empty(&ngx_collab_link.waiting)) {
        best = ngx_collab_runner_pick();

        if (best == NULL && usable) {
            return;
        }

        q = ngx_queue_head(&ngx_collab_link.waiting);
        ngx_queue_remove(q);
        c = ngx_queue_data(q, ngx_collab_compile_t, queue);

        if (best) {
            if (ngx_collab_compile_send(best, c) != NGX_OK) {
                return;
            }

            continue;
        }

        if (c->timer.timer_set) {
            ngx_del_timer(&c->timer);
        }

        c->handler(c, NULL);
    }
}
