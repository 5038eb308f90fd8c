/*
 * Copyright (C) collab
 *
 * Metrics: the numbers, kept apart from every way of showing them (the
 * Prometheus text is ngx_collab_metrics_prometheus.c's).
 *
 * Counters and histograms live in a shared memory zone of their own
 * (collab_metrics_zone), in slots: every process that counts (a worker,
 * of this configuration or of an older one still finishing its requests)
 * takes a slot when it starts and is the only one to write it, with
 * ngx_atomic_fetch_add() and no lock, so that its storage threads may
 * count too.  A scrape adds the slots up.  A slot outlives its process:
 * what it counted stays in the totals, and the next process to take it
 * counts on from there.
 *
 * Gauges are either one value for the node, set by whoever knows it
 * (ngx_collab_metrics_gauge_set()), or a part per process that the
 * scrape adds up (ngx_collab_metrics_gauge_add(): each worker adds and
 * takes away its own share, which is dropped when the worker dies).
 *
 * This is the lowest layer: it calls nothing of collab's above it but
 * the collectors registered with it, which run at each scrape.
 */

#ifndef _NGX_COLLAB_METRICS_H_INCLUDED_
#define _NGX_COLLAB_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define COLLAB_M_ROUTES           64      /* routes of the API, at most */
#define COLLAB_M_CLASSES          5       /* 1xx ... 5xx */
#define COLLAB_M_EVENT_TYPES      32


/* counters: an id, or the first id of a family and an offset */
enum {
    /* + route * COLLAB_M_CLASSES + class; route 0: no route matched */
    COLLAB_M_HTTP_REQUESTS = 0,

    /* + ngx_collab_event_e: events recorded (committed) */
    COLLAB_M_EVENTS = COLLAB_M_HTTP_REQUESTS
                      + (COLLAB_M_ROUTES + 1) * COLLAB_M_CLASSES,

    /* webhook attempts, by what the endpoint did */
    COLLAB_M_ATTEMPT_SUCCESS = COLLAB_M_EVENTS + COLLAB_M_EVENT_TYPES,
    COLLAB_M_ATTEMPT_HTTP_ERROR,        /* it answered, but not 2xx */
    COLLAB_M_ATTEMPT_TIMEOUT,
    COLLAB_M_ATTEMPT_ERROR,             /* no answer: DNS, connect, TLS */

    /* webhook deliveries that reached their end */
    COLLAB_M_DELIVERY_SUCCESS,
    COLLAB_M_DELIVERY_FAILED,

    /* workflow executions that ended, by status */
    COLLAB_M_EXECUTION_SUCCESS,
    COLLAB_M_EXECUTION_ERROR,
    COLLAB_M_EXECUTION_TIMEOUT,

    COLLAB_M_RUNNER_RESTARTS,

    /* waits for SQLite's lock, and waits that gave up */
    COLLAB_M_BUSY_LOOP,                 /* the event loop's connection */
    COLLAB_M_BUSY_THREAD,               /* a storage thread's */
    COLLAB_M_BUSY_TIMEOUT_LOOP,
    COLLAB_M_BUSY_TIMEOUT_THREAD,

    COLLAB_M_COUNTERS
};


/* histograms of durations, observed in milliseconds */
enum {
    COLLAB_H_ATTEMPT_DURATION = 0,      /* a webhook attempt */
    COLLAB_H_EXECUTION_DURATION,        /* a workflow execution */
    COLLAB_H_COUNT
};

#define COLLAB_H_BUCKETS          13      /* the last one is +Inf */


enum {
    COLLAB_G_DELIVERIES_PENDING = 0,    /* set: at scrape, from SQLite */
    COLLAB_G_EXECUTIONS_PENDING,        /* set: at scrape, from SQLite */
    COLLAB_G_PRESENCE_CONNECTIONS,      /* added: each worker's streams */
    COLLAB_G_PRESENCE_PARTICIPANTS,     /* set: the node's, from the table */
    COLLAB_G_WAL_BYTES,                 /* set: the -wal file's size */
    COLLAB_G_WAL_FRAMES,                /* set: frames not yet reset */
    COLLAB_G_COUNT
};


/* a collector sets gauges at each scrape, in the process that answers */
typedef void (*ngx_collab_metrics_collect_pt)(void);


/* what a scrape adds up */
typedef struct {
    ngx_str_t                   name;
    size_t                      size;
    ngx_uint_t                  pages;
    ngx_uint_t                  free;
} ngx_collab_metrics_zone_t;


typedef struct {
    uint64_t                    counters[COLLAB_M_COUNTERS];
    int64_t                     gauges[COLLAB_G_COUNT];
    uint64_t                    buckets[COLLAB_H_COUNT][COLLAB_H_BUCKETS];
    uint64_t                    sums[COLLAB_H_COUNT];      /* ms */
    ngx_array_t                 zones;  /* ngx_collab_metrics_zone_t */
    ngx_uint_t                  processes;
} ngx_collab_metrics_snapshot_t;


/* counting: any process, any thread, no lock */
void ngx_collab_metrics_inc(ngx_uint_t id, ngx_uint_t n);
void ngx_collab_metrics_observe(ngx_uint_t histogram, ngx_msec_t ms);
void ngx_collab_metrics_gauge_set(ngx_uint_t gauge, int64_t value);
void ngx_collab_metrics_gauge_add(ngx_uint_t gauge, int64_t delta);

/*
 * Counts that follow a storage transaction, for what a work writes: kept
 * in the thread until the group commits, dropped with a work's rolled
 * back savepoint or a group that fails.  The store marks the steps.
 */
void ngx_collab_metrics_txn_inc(ngx_uint_t id, ngx_uint_t n);
void ngx_collab_metrics_txn_begin(void);
void ngx_collab_metrics_txn_savepoint(void);
void ngx_collab_metrics_txn_rollback(void);
void ngx_collab_metrics_txn_end(ngx_uint_t committed);

ngx_int_t ngx_collab_metrics_collector(ngx_collab_metrics_collect_pt handler);

/* the names of the labels of counted families (at configuration) */
void ngx_collab_metrics_name_route(ngx_uint_t route, const char *pattern);
void ngx_collab_metrics_name_event(ngx_uint_t type, const char *name);
const char *ngx_collab_metrics_route(ngx_uint_t route);
const char *ngx_collab_metrics_event(ngx_uint_t type);

/* the zone, and this process's slot */
ngx_shm_zone_t *ngx_collab_metrics_zone_add(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, void *tag);
ngx_int_t ngx_collab_metrics_slot_take(ngx_shm_zone_t *shm_zone,
    ngx_log_t *log);
void ngx_collab_metrics_slot_release(void);

/* histogram bucket bounds, ms: COLLAB_H_BUCKETS - 1 of them */
extern const ngx_msec_t  ngx_collab_metrics_bounds[COLLAB_H_BUCKETS - 1];

/* runs the collectors and adds every slot up */
ngx_int_t ngx_collab_metrics_snapshot(ngx_pool_t *pool,
    ngx_collab_metrics_snapshot_t *snap);

/* the Prometheus text exposition of a snapshot */
ngx_chain_t *ngx_collab_metrics_prometheus(ngx_pool_t *pool,
    ngx_collab_metrics_snapshot_t *snap);


#endif /* _NGX_COLLAB_METRICS_H_INCLUDED_ */
