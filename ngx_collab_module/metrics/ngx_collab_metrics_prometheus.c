/*
 * Copyright (C) collab
 *
 * The Prometheus text exposition (format 0.0.4) of a metrics snapshot:
 * names, help, types and labels.  It only shows what
 * ngx_collab_metrics.c added up.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_collab_metrics.h"


#define COLLAB_PROM_BUF    8192
#define COLLAB_PROM_LINE   1024


typedef struct {
    ngx_pool_t                     *pool;
    ngx_chain_t                    *out;
    ngx_chain_t                   **last;
    ngx_buf_t                      *b;
    ngx_uint_t                      failed;
    ngx_collab_metrics_snapshot_t  *snap;
} ngx_collab_prom_t;


/* one sample of a family with one label */
typedef struct {
    const char                     *value;
    ngx_uint_t                      id;
} ngx_collab_prom_sample_t;


static const ngx_collab_prom_sample_t  ngx_collab_prom_attempts[] = {
    { "success", COLLAB_M_ATTEMPT_SUCCESS },
    { "http_error", COLLAB_M_ATTEMPT_HTTP_ERROR },
    { "timeout", COLLAB_M_ATTEMPT_TIMEOUT },
    { "error", COLLAB_M_ATTEMPT_ERROR },
    { NULL, 0 }
};

static const ngx_collab_prom_sample_t  ngx_collab_prom_deliveries[] = {
    { "success", COLLAB_M_DELIVERY_SUCCESS },
    { "failed", COLLAB_M_DELIVERY_FAILED },
    { NULL, 0 }
};

static const ngx_collab_prom_sample_t  ngx_collab_prom_executions[] = {
    { "success", COLLAB_M_EXECUTION_SUCCESS },
    { "error", COLLAB_M_EXECUTION_ERROR },
    { "timeout", COLLAB_M_EXECUTION_TIMEOUT },
    { NULL, 0 }
};

static const ngx_collab_prom_sample_t  ngx_collab_prom_busy[] = {
    { "loop", COLLAB_M_BUSY_LOOP },
    { "thread", COLLAB_M_BUSY_THREAD },
    { NULL, 0 }
};

static const ngx_collab_prom_sample_t  ngx_collab_prom_busy_timeouts[] = {
    { "loop", COLLAB_M_BUSY_TIMEOUT_LOOP },
    { "thread", COLLAB_M_BUSY_TIMEOUT_THREAD },
    { NULL, 0 }
};


static void
ngx_collab_prom_printf(ngx_collab_prom_t *w, const char *fmt, ...)
{
    va_list       args;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (w->failed) {
        return;
    }

    b = w->b;

    if (b == NULL || (size_t) (b->end - b->last) < COLLAB_PROM_LINE) {
        b = ngx_create_temp_buf(w->pool, COLLAB_PROM_BUF);
        cl = ngx_alloc_chain_link(w->pool);

        if (b == NULL || cl == NULL) {
            w->failed = 1;
            return;
        }

        cl->buf = b;
        cl->next = NULL;
        *w->last = cl;
        w->last = &cl->next;
        w->b = b;
    }

    va_start(args, fmt);
    b->last = ngx_vslprintf(b->last, b->end, fmt, args);
    va_end(args);
}


/* a label value as the format wants it: \, " and newline escaped */
static ngx_str_t *
ngx_collab_prom_escape(ngx_collab_prom_t *w, u_char *s, size_t len)
{
    u_char     *p, *last;
    ngx_str_t  *e;

    static ngx_str_t  empty = ngx_null_string;

    e = ngx_palloc(w->pool, sizeof(ngx_str_t));
    p = ngx_pnalloc(w->pool, 2 * len + 1);

    if (e == NULL || p == NULL) {
        w->failed = 1;
        return &empty;
    }

    e->data = p;

    for (last = s + len; s < last; s++) {
        if (*s == '\\' || *s == '"') {
            *p++ = '\\';
            *p++ = *s;

        } else if (*s == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = *s;
        }
    }

    e->len = p - e->data;

    return e;
}


static ngx_str_t *
ngx_collab_prom_cescape(ngx_collab_prom_t *w, const char *s)
{
    return ngx_collab_prom_escape(w, (u_char *) s, ngx_strlen(s));
}


static void
ngx_collab_prom_head(ngx_collab_prom_t *w, const char *name,
    const char *type, const char *help)
{
    ngx_collab_prom_printf(w, "# HELP %s %s\n# TYPE %s %s\n",
                           name, help, name, type);
}


static void
ngx_collab_prom_family(ngx_collab_prom_t *w, const char *name,
    const char *help, const char *label,
    const ngx_collab_prom_sample_t *samples)
{
    ngx_collab_prom_head(w, name, "counter", help);

    for ( /* void */ ; samples->value; samples++) {
        ngx_collab_prom_printf(w, "%s{%s=\"%s\"} %uL\n", name, label,
                               samples->value,
                               w->snap->counters[samples->id]);
    }
}


static void
ngx_collab_prom_counter(ngx_collab_prom_t *w, const char *name,
    const char *help, ngx_uint_t id)
{
    ngx_collab_prom_head(w, name, "counter", help);
    ngx_collab_prom_printf(w, "%s %uL\n", name, w->snap->counters[id]);
}


static void
ngx_collab_prom_gauge(ngx_collab_prom_t *w, const char *name,
    const char *help, ngx_uint_t id)
{
    ngx_collab_prom_head(w, name, "gauge", help);
    ngx_collab_prom_printf(w, "%s %L\n", name, w->snap->gauges[id]);
}


/* milliseconds as seconds, without trailing zeros: 5 -> 0.005, 2500 -> 2.5 */
static u_char *
ngx_collab_prom_seconds(u_char *buf, uint64_t ms)
{
    u_char  *p;

    p = ngx_sprintf(buf, "%uL.%03uL", ms / 1000, ms % 1000);

    while (p[-1] == '0') {
        p--;
    }

    if (p[-1] == '.') {
        p--;
    }

    *p = '\0';

    return buf;
}


static void
ngx_collab_prom_histogram(ngx_collab_prom_t *w, const char *name,
    const char *help, ngx_uint_t h)
{
    uint64_t    n;
    ngx_uint_t  i;
    u_char      le[NGX_INT64_LEN + 8];

    ngx_collab_prom_head(w, name, "histogram", help);

    n = 0;

    for (i = 0; i < COLLAB_H_BUCKETS; i++) {
        n += w->snap->buckets[h][i];

        if (i < COLLAB_H_BUCKETS - 1) {
            ngx_collab_prom_seconds(le, ngx_collab_metrics_bounds[i]);

        } else {
            ngx_cpystrn(le, (u_char *) "+Inf", sizeof("+Inf"));
        }

        ngx_collab_prom_printf(w, "%s_bucket{le=\"%s\"} %uL\n", name, le, n);
    }

    ngx_collab_prom_printf(w, "%s_sum %s\n%s_count %uL\n",
                           name, ngx_collab_prom_seconds(le, w->snap->sums[h]),
                           name, n);
}


/* requests: only the routes and classes that have any */
static void
ngx_collab_prom_requests(ngx_collab_prom_t *w)
{
    uint64_t     n;
    ngx_uint_t   route, class;
    ngx_str_t   *r;
    const char  *pattern;

    ngx_collab_prom_head(w, "collab_http_requests_total", "counter",
                         "Requests answered in collab_api locations, by "
                         "route pattern (\"unmatched\": no route) and "
                         "status class.");

    for (route = 0; route <= COLLAB_M_ROUTES; route++) {
        pattern = route ? ngx_collab_metrics_route(route) : "unmatched";

        if (pattern == NULL) {
            continue;
        }

        r = NULL;

        for (class = 0; class < COLLAB_M_CLASSES; class++) {
            n = w->snap->counters[COLLAB_M_HTTP_REQUESTS
                                  + route * COLLAB_M_CLASSES + class];
            if (n == 0) {
                continue;
            }

            if (r == NULL) {
                r = ngx_collab_prom_cescape(w, pattern);
            }

            ngx_collab_prom_printf(w, "collab_http_requests_total"
                                   "{route=\"%s%V\",class=\"%uixx\"} %uL\n",
                                   route ? "/v1/" : "", r, class + 1, n);
        }
    }
}


static void
ngx_collab_prom_events(ngx_collab_prom_t *w)
{
    ngx_uint_t   type;
    const char  *name;

    ngx_collab_prom_head(w, "collab_events_total", "counter",
                         "Events recorded (committed), by type.");

    for (type = 0; type < COLLAB_M_EVENT_TYPES; type++) {
        name = ngx_collab_metrics_event(type);

        if (name == NULL) {
            continue;
        }

        ngx_collab_prom_printf(w, "collab_events_total{type=\"%V\"} %uL\n",
                               ngx_collab_prom_cescape(w, name),
                               w->snap->counters[COLLAB_M_EVENTS + type]);
    }
}


static void
ngx_collab_prom_zones(ngx_collab_prom_t *w)
{
    ngx_str_t                  *name;
    ngx_uint_t                  i;
    ngx_collab_metrics_zone_t  *z;

    z = w->snap->zones.elts;

    ngx_collab_prom_head(w, "collab_shm_pages", "gauge",
                         "Pages of the slab allocator of each collab shared "
                         "memory zone, used and free.");

    for (i = 0; i < w->snap->zones.nelts; i++) {
        name = ngx_collab_prom_escape(w, z[i].name.data, z[i].name.len);

        ngx_collab_prom_printf(w, "collab_shm_pages{zone=\"%V\","
                               "state=\"used\"} %ui\n"
                               "collab_shm_pages{zone=\"%V\","
                               "state=\"free\"} %ui\n",
                               name, z[i].pages - z[i].free, name,
                               z[i].free);
    }

    ngx_collab_prom_head(w, "collab_shm_size_bytes", "gauge",
                         "Size of each collab shared memory zone.");

    for (i = 0; i < w->snap->zones.nelts; i++) {
        ngx_collab_prom_printf(w, "collab_shm_size_bytes{zone=\"%V\"} %uz\n",
                               ngx_collab_prom_escape(w, z[i].name.data,
                                                      z[i].name.len),
                               z[i].size);
    }
}


ngx_chain_t *
ngx_collab_metrics_prometheus(ngx_pool_t *pool,
    ngx_collab_metrics_snapshot_t *snap)
{
    ngx_collab_prom_t  w;

    ngx_memzero(&w, sizeof(ngx_collab_prom_t));
    w.pool = pool;
    w.last = &w.out;
    w.snap = snap;

    ngx_collab_prom_requests(&w);
    ngx_collab_prom_events(&w);

    ngx_collab_prom_family(&w, "collab_webhook_attempts_total",
                           "Webhook delivery attempts, by result: a 2xx, "
                           "another answer, a timeout, or no answer.",
                           "result", ngx_collab_prom_attempts);

    ngx_collab_prom_family(&w, "collab_webhook_deliveries_total",
                           "Webhook deliveries that ended: delivered, or "
                           "failed for good.",
                           "outcome", ngx_collab_prom_deliveries);

    ngx_collab_prom_histogram(&w, "collab_webhook_attempt_duration_seconds",
                              "How long webhook delivery attempts took.",
                              COLLAB_H_ATTEMPT_DURATION);

    ngx_collab_prom_gauge(&w, "collab_webhook_deliveries_pending",
                          "Webhook deliveries waiting to be sent or "
                          "retried.", COLLAB_G_DELIVERIES_PENDING);

    ngx_collab_prom_family(&w, "collab_workflow_executions_total",
                           "Workflow executions that ended, by status.",
                           "status", ngx_collab_prom_executions);

    ngx_collab_prom_histogram(&w,
                              "collab_workflow_execution_duration_seconds",
                              "How long workflow executions took.",
                              COLLAB_H_EXECUTION_DURATION);

    ngx_collab_prom_gauge(&w, "collab_workflow_executions_pending",
                          "Workflow executions waiting to run or running.",
                          COLLAB_G_EXECUTIONS_PENDING);

    ngx_collab_prom_counter(&w, "collab_workflow_runner_restarts_total",
                            "Workflow runner processes started again after "
                            "they ended.", COLLAB_M_RUNNER_RESTARTS);

    ngx_collab_prom_gauge(&w, "collab_presence_connections",
                          "Open presence streams (Server-Sent Events), over "
                          "every worker.", COLLAB_G_PRESENCE_CONNECTIONS);

    ngx_collab_prom_gauge(&w, "collab_presence_participants",
                          "Users online in a room, over every room.",
                          COLLAB_G_PRESENCE_PARTICIPANTS);

    ngx_collab_prom_family(&w, "collab_sqlite_busy_waits_total",
                           "Waits for SQLite's write lock, by connection: "
                           "the event loop's or a storage thread's.",
                           "connection", ngx_collab_prom_busy);

    ngx_collab_prom_family(&w, "collab_sqlite_busy_timeouts_total",
                           "Waits for SQLite's write lock that gave up, by "
                           "connection.",
                           "connection", ngx_collab_prom_busy_timeouts);

    ngx_collab_prom_gauge(&w, "collab_sqlite_wal_bytes",
                          "Size of the SQLite write-ahead log file, as of "
                          "the last checkpoint.", COLLAB_G_WAL_BYTES);

    ngx_collab_prom_gauge(&w, "collab_sqlite_wal_frames",
                          "Frames in the SQLite write-ahead log after the "
                          "last checkpoint.", COLLAB_G_WAL_FRAMES);

    ngx_collab_prom_zones(&w);

    if (w.failed) {
        return NULL;
    }

    w.b->last_buf = 1;
    w.b->last_in_chain = 1;

    return w.out;
}
