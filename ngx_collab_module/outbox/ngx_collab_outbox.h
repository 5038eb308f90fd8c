/*
 * Copyright (C) collab
 *
 * The outbox.  It records events and fans each one out to its consumers
 * (a pending delivery per matching webhook; workflow executions next) in
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
    ngx_uint_t                 inflight;
    unsigned                   stale:1;
} ngx_collab_target_t;


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


#endif /* _NGX_COLLAB_OUTBOX_H_INCLUDED_ */
