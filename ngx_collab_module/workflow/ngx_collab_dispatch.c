/*
 * Copyright (C) collab
 *
 * The dispatcher: executions claimed by the outbox (and the test runs of
 * the API) go to the runner with the fewest in flight, as "run" frames;
 * their "result" frames go back to the outbox as outcomes.  An execution
 * whose runner dies is sent again to the next runner that is ready (at
 * least once); after COLLAB_FLIGHT_ATTEMPTS starts it ends as an error.
 * A runner that keeps an execution well past its timeout is ended.
 */

#include "ngx_collab_workflow.h"
#include "ngx_collab_presence.h"


#define COLLAB_FLIGHT_ATTEMPTS    3
#define COLLAB_WATCHDOG_GRACE     5000
#define COLLAB_DISPATCH_HOLD      100


typedef struct {
    ngx_str_node_t             node;        /* by execution id */
    ngx_queue_t                queue;       /* a runner's, or waiting */
    int64_t                    seq;
    ngx_str_t                  workflow;
    ngx_uint_t                 attempt;
    ngx_collab_runner_t       *runner;
    ngx_event_t                watchdog;
    size_t                     len;
    u_char                    *frame;       /* "run", kept to send again */
    u_char                     id[COLLAB_ID_MAX];
    u_char                     wf[COLLAB_ID_MAX];
} ngx_collab_flight_t;


static struct {
    ngx_log_t                    *log;
    ngx_collab_workflow_conf_t   *conf;
    ngx_rbtree_t                  tree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   waiting;     /* for a ready runner */
    ngx_uint_t                    nwaiting;
    ngx_uint_t                    nflights;
    ngx_event_t                   hold;
    ngx_connection_t              ident;
    unsigned                      ready:1;
} ngx_collab_dispatch;


static void ngx_collab_dispatch_ready(ngx_collab_runner_t *rn);
static void ngx_collab_dispatch_frame(ngx_collab_runner_t *rn, json_t *msg);
static void ngx_collab_dispatch_lost(ngx_collab_runner_t *rn);
static ngx_uint_t ngx_collab_dispatch_room(void);
static void ngx_collab_dispatch_waiting(void);
static void ngx_collab_dispatch_watchdog(ngx_event_t *ev);
static void ngx_collab_dispatch_hold(ngx_event_t *ev);
static void ngx_collab_flight_free(ngx_collab_flight_t *f);
static void ngx_collab_flight_fail(ngx_collab_flight_t *f,
    const char *message);


ngx_int_t
ngx_collab_dispatch_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf)
{
    ngx_collab_runner_handlers_t  h;

    ngx_collab_dispatch.log = cycle->log;
    ngx_collab_dispatch.conf = &cmcf->workflow;

    ngx_rbtree_init(&ngx_collab_dispatch.tree, &ngx_collab_dispatch.sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&ngx_collab_dispatch.waiting);

    ngx_collab_dispatch.ident.fd = (ngx_socket_t) -1;
    ngx_collab_dispatch.hold.handler = ngx_collab_dispatch_hold;
    ngx_collab_dispatch.hold.log = cycle->log;
    ngx_collab_dispatch.hold.data = &ngx_collab_dispatch.ident;

    ngx_collab_dispatch.ready = 1;

    h.ready = ngx_collab_dispatch_ready;
    h.frame = ngx_collab_dispatch_frame;
    h.lost = ngx_collab_dispatch_lost;

    if (ngx_collab_runners_init(cycle, cmcf, &h) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "collab: the workflow runners cannot be started");
        return NGX_ERROR;
    }

    ngx_collab_executions_consume(ngx_collab_dispatch_run,
                                  ngx_collab_dispatch_room);

    return NGX_OK;
}


void
ngx_collab_dispatch_exit(void)
{
    ngx_rbtree_node_t    *node;
    ngx_collab_flight_t  *f;

    ngx_collab_runners_exit();

    if (!ngx_collab_dispatch.ready) {
        return;
    }

    /* what is still in flight runs again once its lease ends */
    while (ngx_collab_dispatch.tree.root != &ngx_collab_dispatch.sentinel) {
        node = ngx_rbtree_min(ngx_collab_dispatch.tree.root,
                              &ngx_collab_dispatch.sentinel);
        f = (ngx_collab_flight_t *) node;
        ngx_collab_flight_free(f);
    }

    ngx_collab_dispatch.ready = 0;
}


/* whether workflows can run (a compile, a test run may wait for it) */
ngx_uint_t
ngx_collab_dispatch_available(void)
{
    return ngx_collab_dispatch.ready && ngx_collab_runners_usable();
}


/* how many more executions the ready runners can take */
static ngx_uint_t
ngx_collab_dispatch_room(void)
{
    ngx_uint_t            i, room;
    ngx_collab_runner_t  *rn;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return 0;
    }

    room = 0;

    for (i = 0; i < ngx_collab_runners_count(); i++) {
        rn = ngx_collab_runner(i);

        if (rn->ready && rn->inflight < ngx_collab_dispatch.conf->concurrency)
        {
            room += ngx_collab_dispatch.conf->concurrency - rn->inflight;
        }
    }

    return room > ngx_collab_dispatch.nwaiting
           ? room - ngx_collab_dispatch.nwaiting : 0;
}


static void
ngx_collab_flight_send(ngx_collab_flight_t *f, ngx_collab_runner_t *rn)
{
    if (rn == NULL
        || ngx_collab_runner_send(rn, f->frame, f->len) != NGX_OK)
    {
        f->runner = NULL;
        ngx_queue_insert_tail(&ngx_collab_dispatch.waiting, &f->queue);
        ngx_collab_dispatch.nwaiting++;
        return;
    }

    if (rn->inflight == 0) {
        /* idle until now: its quiet time counts from here */
        rn->heard = ngx_current_msec;
    }

    f->runner = rn;
    ngx_queue_insert_tail(&rn->flights, &f->queue);
    rn->inflight++;

    ngx_add_timer(&f->watchdog, ngx_collab_dispatch.conf->timeout
                                + COLLAB_WATCHDOG_GRACE);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_collab_dispatch.log, 0,
                   "collab dispatch: %s to runner %P, attempt %ui, "
                   "%ui in flight", f->id, rn->pid, f->attempt,
                   rn->inflight);
}


/* the run frame of an execution: everything the runner needs */
static u_char *
ngx_collab_dispatch_frame_make(ngx_collab_execution_t *e, size_t *len)
{
    collab_json_t                 j;
    ngx_collab_workflow_conf_t   *wc;

    wc = ngx_collab_dispatch.conf;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "run");
    collab_json_key(&j, "id");
    collab_json_str(&j, e->id.data, e->id.len);
    collab_json_key(&j, "js");
    collab_json_str(&j, e->js.data, e->js.len);
    collab_json_key(&j, "sourceMap");

    if (e->source_map.data) {
        collab_json_str(&j, e->source_map.data, e->source_map.len);

    } else {
        collab_json_null(&j);
    }

    collab_json_key(&j, "event");
    collab_json_raw(&j, e->payload.data, e->payload.len);
    collab_json_key(&j, "accountId");
    collab_json_str(&j, e->account.data, e->account.len);
    collab_json_key(&j, "roomId");

    if (e->room.data) {
        collab_json_str(&j, e->room.data, e->room.len);

    } else {
        collab_json_null(&j);
    }

    /* who is online in the room now, from the presence table */
    collab_json_key(&j, "online");

    if (e->room.data && ngx_collab_presence_ready()) {
        (void) ngx_collab_presence_ids(&e->room, &j);

    } else {
        collab_json_arr_open(&j);
        collab_json_arr_close(&j);
    }

    collab_json_key(&j, "limits");
    collab_json_obj_open(&j);
    collab_json_key(&j, "timeoutMs");
    collab_json_int(&j, wc->timeout);
    collab_json_key(&j, "memory");
    collab_json_int(&j, wc->memory);
    collab_json_key(&j, "maxFetches");
    collab_json_int(&j, wc->max_fetches);
    collab_json_key(&j, "fetchTimeoutMs");
    collab_json_int(&j, wc->fetch_timeout);
    collab_json_key(&j, "fetchMaxSize");
    collab_json_int(&j, wc->fetch_max_size);
    collab_json_key(&j, "maxLogs");
    collab_json_int(&j, wc->max_logs);
    collab_json_key(&j, "maxResult");
    collab_json_int(&j, wc->max_result);
    collab_json_obj_close(&j);

    collab_json_obj_close(&j);

    return collab_json_detach(&j, len);
}


/* a claimed execution (or a test run) goes to a runner */
void
ngx_collab_dispatch_run(ngx_collab_execution_t *e)
{
    size_t                len;
    u_char               *frame;
    uint32_t              hash;
    ngx_str_t             id;
    ngx_collab_flight_t  *f;

    if (e->id.len >= COLLAB_ID_MAX || e->workflow.len >= COLLAB_ID_MAX) {
        return;
    }

    hash = ngx_crc32_short(e->id.data, e->id.len);

    if (ngx_str_rbtree_lookup(&ngx_collab_dispatch.tree, &e->id, hash)) {
        /* claimed again while it still runs here (a lease ran out) */
        return;
    }

    frame = ngx_collab_dispatch_frame_make(e, &len);
    if (frame == NULL) {
        /* the lease runs out and it is claimed again */
        return;
    }

    f = ngx_calloc(sizeof(ngx_collab_flight_t), ngx_collab_dispatch.log);
    if (f == NULL) {
        free(frame);
        return;
    }

    f->frame = frame;
    f->len = len;
    f->seq = e->seq;
    f->attempt = e->attempt;

    ngx_memcpy(f->id, e->id.data, e->id.len);
    ngx_memcpy(f->wf, e->workflow.data, e->workflow.len);
    f->workflow.data = f->wf;
    f->workflow.len = e->workflow.len;

    id.data = f->id;
    id.len = e->id.len;

    f->node.str = id;
    f->node.node.key = hash;
    ngx_rbtree_insert(&ngx_collab_dispatch.tree, &f->node.node);
    ngx_collab_dispatch.nflights++;

    f->watchdog.handler = ngx_collab_dispatch_watchdog;
    f->watchdog.data = f;
    f->watchdog.log = ngx_collab_dispatch.log;
    f->watchdog.cancelable = 1;

    ngx_collab_flight_send(f, ngx_collab_runner_pick());

    if (!ngx_collab_dispatch.hold.timer_set) {
        ngx_add_timer(&ngx_collab_dispatch.hold, COLLAB_DISPATCH_HOLD);
    }
}


static void
ngx_collab_flight_free(ngx_collab_flight_t *f)
{
    if (f->watchdog.timer_set) {
        ngx_del_timer(&f->watchdog);
    }

    if (f->runner) {
        f->runner->inflight--;
        ngx_queue_remove(&f->queue);

    } else {
        ngx_queue_remove(&f->queue);
        ngx_collab_dispatch.nwaiting--;
    }

    ngx_rbtree_delete(&ngx_collab_dispatch.tree, &f->node.node);
    ngx_collab_dispatch.nflights--;

    free(f->frame);
    ngx_free(f);
}


static void
ngx_collab_dispatch_ready(ngx_collab_runner_t *rn)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_collab_dispatch.log, 0,
                   "collab dispatch: runner %P ready", rn->pid);

    ngx_collab_dispatch_waiting();
    ngx_collab_executions_kick();
}


static void
ngx_collab_dispatch_waiting(void)
{
    ngx_queue_t          *q;
    ngx_collab_runner_t  *rn;
    ngx_collab_flight_t  *f;

    while (!ngx_queue_empty(&ngx_collab_dispatch.waiting)) {
        rn = ngx_collab_runner_pick();

        if (rn == NULL) {
            return;
        }

        q = ngx_queue_head(&ngx_collab_dispatch.waiting);
        ngx_queue_remove(q);
        ngx_collab_dispatch.nwaiting--;

        f = ngx_queue_data(q, ngx_collab_flight_t, queue);

        ngx_collab_flight_send(f, rn);

        if (f->runner == NULL) {
            return;
        }
    }
}


/* "2026-05-29T10:06:00.000Z": unix milliseconds, or 0 */
static int64_t
ngx_collab_dispatch_time(json_t *v)
{
    const u_char  *p;
    ngx_tm_t       tm;

    p = (const u_char *) json_string_value(v);

    if (p == NULL || json_string_length(v) != 24 || p[4] != '-'
        || p[10] != 'T' || p[19] != '.' || p[23] != 'Z')
    {
        return 0;
    }

    ngx_memzero(&tm, sizeof(ngx_tm_t));

    tm.ngx_tm_year = ngx_atoi((u_char *) p, 4) - 1900;
    tm.ngx_tm_mon = ngx_atoi((u_char *) p + 5, 2) - 1;
    tm.ngx_tm_mday = ngx_atoi((u_char *) p + 8, 2);
    tm.ngx_tm_hour = ngx_atoi((u_char *) p + 11, 2);
    tm.ngx_tm_min = ngx_atoi((u_char *) p + 14, 2);
    tm.ngx_tm_sec = ngx_atoi((u_char *) p + 17, 2);

    if (tm.ngx_tm_year < 70 || tm.ngx_tm_mon < 0) {
        return 0;
    }

    return (int64_t) timegm(&tm) * 1000 + ngx_atoi((u_char *) p + 20, 3);
}


/* a member as JSON text into out (freed by the caller), or none */
static void
ngx_collab_dispatch_text(json_t *msg, const char *name, ngx_str_t *out,
    collab_json_t *j)
{
    json_t  *v;

    v = json_object_get(msg, name);

    out->data = NULL;
    out->len = 0;

    if (v == NULL || json_is_null(v)) {
        return;
    }

    collab_json_init(j);
    collab_json_value(j, v);

    if (!j->failed) {
        out->data = j->data;
        out->len = j->len;
    }
}


/* a runner's answer about an execution: its outcome goes to the outbox */
static void
ngx_collab_dispatch_frame(ngx_collab_runner_t *rn, json_t *msg)
{
    json_t                     *v;
    int64_t                     seq;
    uint32_t                    hash;
    ngx_str_t                   id;
    const char                 *type, *status;
    collab_json_t               result, error, logs, fetches, refusal;
    ngx_collab_flight_t        *f;
    ngx_collab_exec_outcome_t   o;

    type = json_string_value(json_object_get(msg, "type"));
    id.data = (u_char *) json_string_value(json_object_get(msg, "id"));

    if (type == NULL || id.data == NULL) {
        ngx_log_error(NGX_LOG_WARN, &rn->log, 0,
                      "collab: workflow runner %P sent a frame without "
                      "type or id", rn->pid);
        return;
    }

    id.len = ngx_strlen(id.data);
    hash = ngx_crc32_short(id.data, id.len);

    f = (ngx_collab_flight_t *) ngx_str_rbtree_lookup(
                                          &ngx_collab_dispatch.tree, &id,
                                          hash);

    if (f == NULL || f->runner != rn) {
        /* cancelled, or sent again elsewhere meanwhile */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &rn->log, 0,
                       "collab dispatch: answer about \"%V\" dropped", &id);
        return;
    }

    ngx_memzero(&o, sizeof(ngx_collab_exec_outcome_t));
    ngx_memzero(&result, sizeof(collab_json_t));
    ngx_memzero(&error, sizeof(collab_json_t));
    ngx_memzero(&logs, sizeof(collab_json_t));
    ngx_memzero(&fetches, sizeof(collab_json_t));
    ngx_memzero(&refusal, sizeof(collab_json_t));

    if (ngx_strcmp(type, "result") == 0) {
        /* the outbox keeps the pointer: one of these literals */
        status = json_string_value(json_object_get(msg, "status"));

        if (status && ngx_strcmp(status, "success") == 0) {
            o.status = "success";

        } else if (status && ngx_strcmp(status, "timeout") == 0) {
            o.status = "timeout";

        } else {
            o.status = "error";
        }

        ngx_collab_dispatch_text(msg, "result", &o.result, &result);
        ngx_collab_dispatch_text(msg, "error", &o.error, &error);
        ngx_collab_dispatch_text(msg, "logs", &o.logs, &logs);
        ngx_collab_dispatch_text(msg, "fetches", &o.fetches, &fetches);

        o.started_at = ngx_collab_dispatch_time(
                                      json_object_get(msg, "startedAt"));
        o.finished_at = ngx_collab_dispatch_time(
                                      json_object_get(msg, "finishedAt"));

        v = json_object_get(msg, "durationMs");
        o.duration = json_is_number(v) ? (int64_t) json_number_value(v) : -1;

    } else {
        /* the runner refused the run frame */
        collab_json_init(&refusal);
        collab_json_obj_open(&refusal);
        collab_json_key(&refusal, "message");

        v = json_object_get(msg, "message");

        if (json_is_string(v)) {
            collab_json_str(&refusal, (u_char *) json_string_value(v),
                            json_string_length(v));

        } else {
            collab_json_cstr(&refusal, "the workflow runner refused the "
                                       "execution");
        }

        collab_json_key(&refusal, "stack");
        collab_json_null(&refusal);
        collab_json_obj_close(&refusal);

        o.status = "error";
        o.error.data = refusal.failed ? NULL : refusal.data;
        o.error.len = refusal.len;
        o.finished_at = collab_now_ms();
        o.duration = -1;
    }

    seq = f->seq;
    o.attempt = f->attempt;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, &rn->log, 0,
                   "collab dispatch: %V finished on runner %P: %s",
                   &id, rn->pid, o.status);

    ngx_collab_flight_free(f);

    ngx_collab_executions_finished(seq, &o);

    collab_json_free(&result);
    collab_json_free(&error);
    collab_json_free(&logs);
    collab_json_free(&fetches);
    collab_json_free(&refusal);

    /* room for one more */
    ngx_collab_dispatch_waiting();
    ngx_collab_executions_kick();
}


/* an execution that cannot run: it ends as an error */
static void
ngx_collab_flight_fail(ngx_collab_flight_t *f, const char *message)
{
    int64_t                     seq;
    collab_json_t               j;
    ngx_collab_exec_outcome_t   o;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "message");
    collab_json_cstr(&j, message);
    collab_json_key(&j, "stack");
    collab_json_null(&j);
    collab_json_obj_close(&j);

    ngx_memzero(&o, sizeof(ngx_collab_exec_outcome_t));
    o.status = "error";
    o.error.data = j.failed ? NULL : j.data;
    o.error.len = j.len;
    o.finished_at = collab_now_ms();
    o.duration = -1;
    o.attempt = f->attempt;

    seq = f->seq;
    ngx_collab_flight_free(f);

    ngx_collab_executions_finished(seq, &o);

    collab_json_free(&j);
}


/* a runner died: what it ran is sent again, up to a point */
static void
ngx_collab_dispatch_lost(ngx_collab_runner_t *rn)
{
    ngx_queue_t          *q;
    ngx_collab_flight_t  *f;
    u_char                msg[200];

    while (!ngx_queue_empty(&rn->flights)) {
        q = ngx_queue_head(&rn->flights);
        f = ngx_queue_data(q, ngx_collab_flight_t, queue);

        if (ngx_exiting || ngx_terminate || ngx_quit) {
            /* its lease brings it back */
            ngx_collab_flight_free(f);
            continue;
        }

        ngx_queue_remove(q);
        rn->inflight--;
        f->runner = NULL;

        if (f->watchdog.timer_set) {
            ngx_del_timer(&f->watchdog);
        }

        f->attempt++;

        if (f->attempt > COLLAB_FLIGHT_ATTEMPTS) {
            ngx_queue_insert_tail(&ngx_collab_dispatch.waiting, q);
            ngx_collab_dispatch.nwaiting++;

            ngx_sprintf(msg, "the workflow runner stopped while this "
                        "execution ran, %d times; it is not run again%Z",
                        COLLAB_FLIGHT_ATTEMPTS);

            ngx_collab_flight_fail(f, (char *) msg);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, ngx_collab_dispatch.log, 0,
                      "collab: execution %s runs again (attempt %ui)",
                      f->id, f->attempt);

        ngx_queue_insert_tail(&ngx_collab_dispatch.waiting, q);
        ngx_collab_dispatch.nwaiting++;
    }

    rn->inflight = 0;

    ngx_collab_dispatch_waiting();
}


static void
ngx_collab_dispatch_watchdog(ngx_event_t *ev)
{
    ngx_collab_flight_t  *f;

    f = ev->data;

    if (f->runner) {
        ngx_log_error(NGX_LOG_ERR, ngx_collab_dispatch.log, 0,
                      "collab: execution %s did not finish within "
                      "collab_workflow_timeout + %d ms", f->id,
                      COLLAB_WATCHDOG_GRACE);

        ngx_collab_runner_end(f->runner, "an execution did not finish");
    }
}


/* a deleted workflow: its executions here stop */
void
ngx_collab_dispatch_cancel(ngx_str_t *workflow)
{
    size_t                len;
    u_char               *data;
    collab_json_t         j;
    ngx_rbtree_node_t    *node, *next;
    ngx_collab_flight_t  *f;

    if (!ngx_collab_dispatch.ready
        || ngx_collab_dispatch.tree.root == &ngx_collab_dispatch.sentinel)
    {
        return;
    }

    node = ngx_rbtree_min(ngx_collab_dispatch.tree.root,
                          &ngx_collab_dispatch.sentinel);

    while (node) {
        next = ngx_rbtree_next(&ngx_collab_dispatch.tree, node);
        f = (ngx_collab_flight_t *) node;

        if (f->workflow.len == workflow->len
            && ngx_memcmp(f->workflow.data, workflow->data, workflow->len)
               == 0)
        {
            if (f->runner) {
                collab_json_init(&j);
                collab_json_obj_open(&j);
                collab_json_key(&j, "type");
                collab_json_cstr(&j, "cancel");
                collab_json_key(&j, "id");
                collab_json_str(&j, f->node.str.data, f->node.str.len);
                collab_json_obj_close(&j);

                data = collab_json_detach(&j, &len);

                if (data) {
                    (void) ngx_collab_runner_send(f->runner, data, len);
                    free(data);
                }
            }

            /*
             * Its row went with the workflow, so this outcome updates
             * nothing; it is written all the same, so that whoever waits
             * for it (a test run) gets an answer.
             */
            ngx_collab_flight_fail(f, "the workflow was deleted");
        }

        node = next;
    }
}


/*
 * A timer that is not cancelable while executions are in flight: an
 * exiting worker waits for their outcomes (each is bounded by its
 * timeout); those waiting for a runner are left to their leases.
 */
static void
ngx_collab_dispatch_hold(ngx_event_t *ev)
{
    ngx_queue_t          *q;
    ngx_collab_flight_t  *f;

    if (ngx_exiting || ngx_quit) {
        while (!ngx_queue_empty(&ngx_collab_dispatch.waiting)) {
            q = ngx_queue_head(&ngx_collab_dispatch.waiting);
            f = ngx_queue_data(q, ngx_collab_flight_t, queue);
            ngx_collab_flight_free(f);
        }
    }

    if (ngx_collab_dispatch.nflights) {
        ngx_add_timer(ev, COLLAB_DISPATCH_HOLD);
    }
}
