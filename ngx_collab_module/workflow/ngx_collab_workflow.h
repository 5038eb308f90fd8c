/*
 * Copyright (C) collab
 *
 * The module's side of workflows: the runner link (ngx_collab_runner_link.c)
 * starts and supervises the collab-runner processes of a worker and speaks
 * their framed socket protocol (docs/runner.md); the dispatcher
 * (ngx_collab_dispatch.c) hands claimed executions to them and their
 * outcomes back to the outbox.
 */

#ifndef _NGX_COLLAB_WORKFLOW_H_INCLUDED_
#define _NGX_COLLAB_WORKFLOW_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_outbox.h"


#define COLLAB_RUNNER_NAME       "collab-runner"
#define COLLAB_RUNNERS_MAX       64


typedef struct ngx_collab_runner_s   ngx_collab_runner_t;
typedef struct ngx_collab_compile_s  ngx_collab_compile_t;


struct ngx_collab_runner_s {
    ngx_uint_t                 index;
    ngx_pid_t                  pid;         /* -1: none */
    ngx_connection_t          *conn;        /* the socket, fd 3 over there */
    ngx_connection_t          *err;         /* its stderr */
    ngx_log_t                  log;

    u_char                    *in;          /* frames read, not yet used */
    size_t                     in_len;
    size_t                     in_size;
    ngx_queue_t                out;         /* frames to write */
    u_char                     line[512];   /* of stderr, not yet ended */
    size_t                     line_len;

    ngx_queue_t                compiles;    /* sent, not answered */

    /* the dispatcher's */
    ngx_queue_t                flights;
    ngx_uint_t                 inflight;

    ngx_event_t                respawn;
    ngx_event_t                start;       /* no "ready" in time */
    ngx_msec_t                 backoff;
    ngx_msec_t                 started;
    ngx_msec_t                 heard;       /* its last frame */
    ngx_uint_t                 failures;    /* starts in a row that failed */

    unsigned                   ready:1;
    unsigned                   ending:1;    /* killed by us */
    unsigned                   eof:1;
    unsigned                   spawned:1;   /* one was started before */
};


/* what the runner link tells the dispatcher */
typedef struct {
    void                     (*ready)(ngx_collab_runner_t *rn);
    void                     (*frame)(ngx_collab_runner_t *rn, json_t *msg);
    void                     (*lost)(ngx_collab_runner_t *rn);
} ngx_collab_runner_handlers_t;


/*
 * A compile request: handler gets the runner's "compiled" (or "error")
 * answer, or NULL when no runner could answer.
 */
typedef void (*ngx_collab_compiled_pt)(ngx_collab_compile_t *c,
    json_t *answer);

struct ngx_collab_compile_s {
    ngx_queue_t                queue;
    ngx_uint_t                 id;
    ngx_str_t                  code;
    const char                *language;
    ngx_collab_compiled_pt     handler;
    void                      *data;
    ngx_log_t                 *log;
    ngx_event_t                timer;
    ngx_collab_runner_t       *runner;      /* NULL: waits for one */
};


/* ngx_collab_runner_link.c */
ngx_int_t ngx_collab_runners_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf, ngx_collab_runner_handlers_t *h);
void ngx_collab_runners_exit(void);
ngx_uint_t ngx_collab_runners_count(void);
ngx_collab_runner_t *ngx_collab_runner(ngx_uint_t i);
ngx_collab_runner_t *ngx_collab_runner_pick(void);
ngx_uint_t ngx_collab_runners_usable(void);
ngx_int_t ngx_collab_runner_send(ngx_collab_runner_t *rn, u_char *data,
    size_t len);
void ngx_collab_runner_end(ngx_collab_runner_t *rn, const char *why);
ngx_int_t ngx_collab_runner_compile(ngx_collab_compile_t *c);
void ngx_collab_runner_compile_cancel(ngx_collab_compile_t *c);
char *ngx_collab_runner_path(ngx_conf_t *cf, ngx_str_t *path, void *self);

/* ngx_collab_dispatch.c */
ngx_int_t ngx_collab_dispatch_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
void ngx_collab_dispatch_exit(void);
void ngx_collab_dispatch_run(ngx_collab_execution_t *e);
void ngx_collab_dispatch_cancel(ngx_str_t *workflow);
ngx_uint_t ngx_collab_dispatch_available(void);


#endif /* _NGX_COLLAB_WORKFLOW_H_INCLUDED_ */
