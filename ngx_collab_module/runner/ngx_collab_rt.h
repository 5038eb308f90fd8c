/*
 * Copyright (C) collab
 *
 * collab-runner: the process that runs workflows.  The module starts it
 * with a socket as fd 3 and speaks length-prefixed JSON frames over it
 * (docs/runner.md).  One event loop runs many executions at once, each in
 * its own QuickJS runtime.  This header holds what every part of the
 * runner shares: its options, the link to the module (frames out, errors
 * to stderr) and the execution that its parts work for.
 */

#ifndef _NGX_COLLAB_RT_H_INCLUDED_
#define _NGX_COLLAB_RT_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <quickjs.h>

#include "ngx_collab_json.h"
#include "ngx_collab_frame.h"
#include "ngx_collab_limits.h"
#include "ngx_collab_loop.h"
#include "ngx_collab_sourcemap.h"
#include "ngx_collab_engine.h"


#define COLLAB_RUNNER_VERSION    "0.1.0"
#define COLLAB_RUNNER_FD         3

#define COLLAB_MAX_RESOLVERS     8
#define COLLAB_MAX_ALLOWED       16


typedef struct {
    const char         *database;
    const char         *trusted_certificate;
    const char         *esbuild;
    const char         *resolvers[COLLAB_MAX_RESOLVERS];
    int                 nresolvers;
    const char         *allowed[COLLAB_MAX_ALLOWED];   /* "addr/bits" */
    int                 nallowed;
    unsigned            allow_private:1;
    unsigned            seccomp:1;
    unsigned            selftest:1;
} collab_runner_conf_t;


extern collab_runner_conf_t  collab_runner;


typedef struct collab_exec_s      collab_exec_t;
typedef struct collab_js_timer_s  collab_js_timer_t;
typedef struct collab_fetch_s     collab_fetch_t;


/*
 * How the parts that work for an execution (its natives, timers and
 * fetches) tell it what happened; ngx_collab_exec.c, which owns the
 * executions, sets it in each.
 */
typedef struct {
    /* runnable again: its jobs run at the next turn */
    void                 (*wake)(collab_exec_t *e);
    /* a limit was passed outside the engine: the execution ends */
    void                 (*fail)(collab_exec_t *e, const char *message);
    /* the engine threw (or was interrupted): the execution ends now */
    void                 (*thrown)(collab_exec_t *e);
} collab_exec_ops_t;


typedef enum {
    COLLAB_EXEC_EVAL = 0,           /* the module's top level runs */
    COLLAB_EXEC_CALL,               /* the default export's promise */
    COLLAB_EXEC_DONE
} collab_exec_phase_e;


struct collab_exec_s {
    collab_exec_t         *next;        /* every execution */
    collab_exec_t         *prev;
    collab_exec_t         *run_next;    /* the queue of runnable ones */

    const collab_exec_ops_t *ops;       /* how its parts report */

    unsigned               listed:1;
    unsigned               queued:1;
    unsigned               timed_out:1;
    unsigned               cancelled:1;
    unsigned               has_sourcemap:1;

    collab_exec_phase_e    phase;

    char                  *id;
    char                  *account_id;
    char                  *room_id;     /* NULL: the event has no room */
    json_t                *online;      /* user ids, an array */

    collab_limits_t        limits;
    collab_usage_t         usage;
    collab_engine_t        engine;

    JSRuntime             *rt;
    JSContext             *ctx;
    JSModuleDef           *module;
    JSValue                promise;
    JSValue                event;
    JSValue                bindings;
    JSValue                describe;

    int64_t                started_at;  /* wall clock */
    int64_t                started;     /* monotonic */
    int64_t                deadline;    /* monotonic */
    collab_timer_t         deadline_timer;

    char                   fatal[COLLAB_LIMIT_MESSAGE]; /* "": none */

    collab_json_t          logs;        /* an open array */
    collab_json_t          fetches;     /* an open array */

    collab_sourcemap_t     sourcemap;

    collab_js_timer_t     *timers;      /* pending setTimeout callbacks */
    uint32_t               timer_ids;
    collab_fetch_t        *fetching;    /* fetches in flight */
};


typedef void (*collab_link_dispatch_pt)(const unsigned char *payload,
    size_t len);


void collab_runner_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
size_t collab_utf8_fix(char *s, size_t len);

/* the link to the module: every frame that it sends goes to dispatch */
int collab_link_open(collab_link_dispatch_pt dispatch);
void collab_link_close(void);
/* nothing can be sent any more */
int collab_link_broken(void);
/* the module sends no more and everything was sent */
int collab_link_finished(void);

void collab_runner_send(collab_json_t *j);
void collab_runner_send_error(const char *id, const char *message);

#endif /* _NGX_COLLAB_RT_H_INCLUDED_ */
