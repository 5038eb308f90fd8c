/*
 * Copyright (C) collab
 *
 * The outbox.  It records events and fans each one out to its consumers
 * (a pending delivery per matching webhook, a pending execution per
 * matching workflow) in
 * the transaction of the change that causes it; it claims due deliveries
 * with a lease, hands them to the sender, writes their outcomes and
 * schedules their retries; and it wakes the consumers after a commit.
 *
 * Every write runs as a work of the store (ngx_collab_store.h): events
 * and their fan-out inside the work of the change, claims and outcomes in
 * works of their own, one per batch (outcomes written by sequence number,
 * set-based, and the next claim in the same transaction).
 */

#ifndef _NGX_COLLAB_OUTBOX_H_INCLUDED_
#define _NGX_COLLAB_OUTBOX_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_sign.h"
#include "ngx_collab_batch.h"


/*
 * A wake bit of the outbox's own: a commit that recorded deliveries
 * already leased to this worker (see "express" in ngx_collab_outbox.c).
 */
#define COLLAB_WAKE_EXPRESS        0x100


/* an event as its consumers' fan-outs see it, inside its transaction */
typedef struct {
    ngx_str_t                 *account;
    ngx_str_t                 *room;        /* NULL: no room */
    ngx_uint_t                 type;        /* ngx_collab_event_e */
    const char                *name;
    ngx_str_t                  id;
    ngx_str_t                  payload;     /* the envelope */
    int64_t                    at;
} ngx_collab_event_t;


/*
 * A consumer of events: its fan-out writes one row per matching
 * subscriber (in a storage thread, inside the event's transaction) and
 * returns SQLITE_OK or the SQLite error; a commit that wrote any row
 * wakes the consumers of its wake bit.  The consumers are a table in
 * ngx_collab_outbox.c: an executions consumer is one more line there.
 */
typedef struct {
    const char                *name;
    ngx_uint_t                 wake;        /* COLLAB_WAKE_* */
    int                      (*fanout)(ngx_collab_event_t *ev);
} ngx_collab_consumer_t;


/*
 * Where one webhook's deliveries go, kept per worker and read again when
 * the webhook changes: the URL parsed once, the signing keys made ready
 * once, the sender's keepalive pool.  A target that a change replaced
 * lives on until its last attempt in flight is over.
 */
typedef struct {
    ngx_queue_t                queue;
    ngx_str_t                  webhook;
    int64_t                    updated_at;
    ngx_str_t                  url;
    collab_url_t               u;
    const char                *invalid;     /* why no attempt can start */
    collab_signer_t           *hex;         /* X-Webhook-Signature */
    collab_signer_t           *v1;          /* webhook-signature */
    collab_signer_t           *previous;    /* the rotated-out secret */
    int64_t                    previous_until;
    struct sockaddr           *sockaddr;    /* of a literal host */
    socklen_t                  socklen;
    void                      *endpoint;    /* the sender's */
    ngx_queue_t                waiting;     /* the sender's */
    ngx_uint_t                 sending;     /* the sender's */
    ngx_uint_t                 inflight;    /* handed to the sender */
    unsigned                   stale:1;
} ngx_collab_target_t;


/*
 * The outbox claims up to twice collab_webhook_concurrency per
 * webhook, so that the sender never waits for a claim: it sends as many
 * at once as the directive says and keeps the others waiting their turn.
 */
#define COLLAB_CLAIM_AHEAD         2


/*
 * A claimed delivery, as the sender gets it.  What it points to lives
 * until the send function returns, except the target, which lives until
 * ngx_collab_outbox_sent() is called for it: the sender keeps a copy.
 */
typedef struct {
    int64_t                    seq;
    ngx_str_t                  id;          /* dlv_..., the webhook-id */
    ngx_str_t                  payload;
    ngx_uint_t                 attempt;     /* 1 for the first */
    ngx_collab_target_t       *target;
} ngx_collab_delivery_t;


/* how an attempt ended, as the sender reports it */
typedef struct {
    ngx_int_t                  status;      /* -1: no valid answer */
    const char                *error;       /* NULL: the endpoint answered */
    int64_t                    at;          /* when it started, unix ms */
    ngx_msec_t                 duration;
    time_t                     retry_after; /* seconds, -1: none */
    ngx_str_t                  response;    /* first 1 KiB, valid UTF-8 */
    unsigned                   timed_out:1;
} ngx_collab_outcome_t;


/* starts the attempt of a claimed delivery */
typedef void (*ngx_collab_send_pt)(ngx_collab_delivery_t *d);

/* a consumer's wake-up after a commit (on the event loop) */
typedef void (*ngx_collab_wake_pt)(void);


/* init_process and exit_process */
ngx_int_t ngx_collab_outbox_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
void ngx_collab_outbox_exit(void);

/* the sender hands over its send function; deliveries start flowing */
void ngx_collab_outbox_deliver(ngx_collab_send_pt send);

/* the outcome of an attempt started by the send function */
void ngx_collab_outbox_sent(ngx_collab_delivery_t *d,
    ngx_collab_outcome_t *o);

/* another consumer's wake-up, for the commits that wake its bit */
ngx_int_t ngx_collab_outbox_on_wake(ngx_uint_t wake,
    ngx_collab_wake_pt handler);

/*
 * Inside a work: a pending delivery of one event to one webhook (the
 * fan-out, and a webhook's test event); id (COLLAB_ID_MAX bytes) gets the
 * new delivery's id.
 */
int ngx_collab_outbox_delivery_add(ngx_str_t *webhook, ngx_str_t *event_id,
    const char *event, ngx_str_t *payload, int64_t now, ngx_str_t *id);


/*
 * Workflow executions (ngx_collab_executions.c): one pending execution
 * per matching enabled workflow is written with the event; executions
 * are claimed with a lease (status "running" until next_at) and handed to
 * the dispatcher's run function; their outcomes come back through
 * ngx_collab_executions_finished() and are written set-based, in the
 * batch work that also makes the next claim.
 */

/* a claimed execution; what it points to lives until run() returns */
typedef struct {
    int64_t                    seq;
    ngx_str_t                  id;          /* exe_... */
    ngx_str_t                  workflow;
    ngx_str_t                  account;
    ngx_str_t                  room;        /* data NULL: no room */
    ngx_str_t                  payload;     /* the envelope */
    ngx_str_t                  js;
    ngx_str_t                  source_map;  /* data NULL: none */
    ngx_uint_t                 attempt;     /* 1 for the first */
} ngx_collab_execution_t;


/* how an execution ended; the texts are JSON, copied by the outbox */
typedef struct {
    const char                *status;      /* a literal: success, error,
                                               timeout */
    ngx_str_t                  result;      /* data NULL: null */
    ngx_str_t                  error;       /* {message, stack}; or null */
    ngx_str_t                  logs;        /* an array; data NULL: [] */
    ngx_str_t                  fetches;     /* an array; data NULL: [] */
    int64_t                    started_at;  /* unix ms; 0: none */
    int64_t                    finished_at;
    int64_t                    duration;    /* ms; -1: none */
    ngx_uint_t                 attempt;     /* the start that ended; 0: */
} ngx_collab_exec_outcome_t;


/* someone waiting for an outcome to be written (the test of a workflow) */
typedef struct ngx_collab_exec_watch_s  ngx_collab_exec_watch_t;

struct ngx_collab_exec_watch_s {
    ngx_queue_t                queue;
    int64_t                    seq;
    void                     (*handler)(ngx_collab_exec_watch_t *w,
                                        ngx_int_t rc);
    void                      *data;
};


/* starts a claimed execution */
typedef void (*ngx_collab_exec_run_pt)(ngx_collab_execution_t *e);

/* how many more executions the dispatcher can take now */
typedef ngx_uint_t (*ngx_collab_exec_room_pt)(void);


/* init_process and exit_process */
ngx_int_t ngx_collab_executions_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
void ngx_collab_executions_exit(void);

/* the dispatcher hands over its functions; executions start flowing */
void ngx_collab_executions_consume(ngx_collab_exec_run_pt run,
    ngx_collab_exec_room_pt room);

/* the dispatcher has room again (a runner became ready, one finished) */
void ngx_collab_executions_kick(void);

/* the outcome of an execution started by run() */
void ngx_collab_executions_finished(int64_t seq,
    ngx_collab_exec_outcome_t *o);

/* calls w->handler once the outcome of execution w->seq is written */
void ngx_collab_executions_watch(ngx_collab_exec_watch_t *w);

/* how long a claim lasts, in ms */
ngx_msec_t ngx_collab_executions_lease(void);

/* the executions consumer of events (in a storage thread) */
int ngx_collab_executions_fanout(ngx_collab_event_t *ev);

/*
 * Inside a work: an execution of one event by one workflow, already
 * claimed by this worker ("running", with a lease) when claimed is set;
 * id (COLLAB_ID_MAX bytes) gets its id, *seq its sequence number.
 */
int ngx_collab_execution_add(ngx_str_t *workflow, ngx_str_t *account,
    ngx_str_t *room, ngx_str_t *event_id, const char *event,
    ngx_str_t *payload, int64_t now, ngx_uint_t claimed, ngx_str_t *id,
    int64_t *seq);


#endif /* _NGX_COLLAB_OUTBOX_H_INCLUDED_ */
