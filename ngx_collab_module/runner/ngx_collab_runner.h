/*
 * Copyright (C) collab
 *
 * collab-runner: the process that runs workflows.  The module starts it
 * with a socket as fd 3 and speaks length-prefixed JSON frames over it
 * (docs/runner.md).  One event loop runs many executions at once, each in
 * its own QuickJS runtime; this header holds what the runner's files
 * share.
 */

#ifndef _NGX_COLLAB_RUNNER_H_INCLUDED_
#define _NGX_COLLAB_RUNNER_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <quickjs.h>

#include "ngx_collab_json.h"
#include "ngx_collab_frame.h"
#include "ngx_collab_limits.h"
#include "ngx_collab_loop.h"
#include "ngx_collab_sourcemap.h"


#define COLLAB_RUNNER_VERSION    "0.1.0"
#define COLLAB_RUNNER_FD         3

/* the names the engine gives the workflow's code and the runtime's own */
#define COLLAB_WORKFLOW_FILE     "workflow.js"
#define COLLAB_RUNTIME_FILE      "collab:runtime"

#define COLLAB_STACK_SIZE        (1024 * 1024)
#define COLLAB_MAX_RESOLVERS     8
#define COLLAB_MAX_ALLOWED       16

/* the time one execution may run jobs before the others get a turn */
#define COLLAB_SLICE_MS          5


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


typedef struct {
    size_t              used;       /* bytes the engine holds */
    unsigned            exceeded;   /* an allocation was refused */
} collab_engine_t;


typedef struct collab_exec_s      collab_exec_t;
typedef struct collab_js_timer_s  collab_js_timer_t;
typedef struct collab_fetch_s     collab_fetch_t;


typedef enum {
    COLLAB_EXEC_EVAL = 0,           /* the module's top level runs */
    COLLAB_EXEC_CALL,               /* the default export's promise */
    COLLAB_EXEC_DONE
} collab_exec_phase_e;


struct collab_exec_s {
    collab_exec_t         *next;        /* every execution */
    collab_exec_t         *prev;
    collab_exec_t         *run_next;    /* the queue of runnable ones */

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


/* ngx_collab_runner.c */
void collab_runner_send(collab_json_t *j);
void collab_runner_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
size_t collab_utf8_fix(char *s, size_t len);

/* ngx_collab_exec.c */
void collab_exec_start(json_t *msg);
void collab_exec_cancel(const char *id);
int collab_exec_busy(void);
void collab_exec_run(void);
size_t collab_exec_count(void);
void collab_exec_wake(collab_exec_t *e);
void collab_exec_fail(collab_exec_t *e, const char *message);
void collab_exec_throw(collab_exec_t *e);
void collab_exec_shutdown(void);
JSRuntime *collab_engine_new(collab_engine_t *eng, void *opaque,
    size_t memory);

/* ngx_collab_js.c */
int collab_js_init(void);
void collab_js_done(void);
int collab_js_install(collab_exec_t *e);
void collab_js_timers_cancel(collab_exec_t *e);
int collab_js_has_timers(collab_exec_t *e);
void collab_js_log(collab_exec_t *e, const char *level, const char *msg,
    size_t len);

/* ngx_collab_bindings.c */
int collab_bindings_open(const char *path);
void collab_bindings_close(void);
int collab_bindings_room(collab_exec_t *e, collab_json_t *out);
int collab_bindings_users(collab_exec_t *e, collab_json_t *out);
int collab_bindings_store_get(collab_exec_t *e, const char *store,
    size_t store_len, const char *key, size_t key_len, collab_json_t *out);
int collab_bindings_store_all(collab_exec_t *e, const char *store,
    size_t store_len, collab_json_t *out);
int collab_bindings_files(collab_exec_t *e, collab_json_t *out);

/* ngx_collab_fetch.c */
int collab_fetch_init(void);
void collab_fetch_done(void);
JSValue collab_fetch_start(collab_exec_t *e, const char *url,
    const char *method, JSValueConst headers, JSValueConst body);
void collab_fetch_cancel(collab_exec_t *e);
void collab_fetch_turn_end(void);

/* ngx_collab_compile.c */
int collab_compile_init(void);
void collab_compile_done(void);
void collab_compile(json_t *msg);
size_t collab_compile_pending(void);

/* ngx_collab_sandbox.c */
int collab_sandbox_fds(void);
int collab_sandbox_limits(void);
int collab_sandbox_seccomp(void);
int collab_sandbox_selftest(void);

#endif /* _NGX_COLLAB_RUNNER_H_INCLUDED_ */
