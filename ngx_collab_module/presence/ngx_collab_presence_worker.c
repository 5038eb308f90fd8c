/*
 * Copyright (C) collab
 *
 * A worker's part in presence: its slot in the zone, taken at start and
 * given back at exit; the key that signs client tokens; and its clock,
 * which ends grace periods on time (a heartbeat lapses with no request to
 * notice it), finds workers that died, reads the fan-out ring should a
 * wake-up be lost, and starts the recorder when transitions wait.
 */

#include "ngx_collab.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_PRESENCE_TICK           1000      /* ms */
#define COLLAB_PRESENCE_PRUNE          60        /* ticks */


static void ngx_collab_presence_tick(ngx_event_t *ev);
static void ngx_collab_presence_metrics(void);


static struct {
    ngx_http_collab_presence_main_conf_t  *conf;
    ngx_event_t                            tick;
    ngx_event_t                            deadline;
    ngx_uint_t                             ticks;
    ngx_uint_t                             running;
    ngx_uint_t                             keyed;
    u_char                                 key[COLLAB_CTOKEN_KEY_LEN];
} ngx_collab_presence_worker;


ngx_http_collab_presence_main_conf_t *
ngx_collab_presence_conf(void)
{
    return ngx_collab_presence_worker.conf;
}


/* the key of client tokens, or NULL where presence is not running */
const u_char *
ngx_collab_presence_token_key(void)
{
    return ngx_collab_presence_worker.keyed ? ngx_collab_presence_worker.key
                                            : NULL;
}


static ngx_int_t
ngx_collab_presence_key_load(sqlite3 *db, ngx_log_t *log)
{
    int            rc;
    sqlite3_stmt  *st;

    rc = sqlite3_prepare_v2(db, "SELECT value FROM meta"
                                " WHERE name = 'client_token_key'", -1, &st,
                            NULL);

    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW
        || sqlite3_column_bytes(st, 0) != COLLAB_CTOKEN_KEY_LEN)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "collab: the database has no client token key");
        sqlite3_finalize(st);
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_collab_presence_worker.key, sqlite3_column_blob(st, 0),
               COLLAB_CTOKEN_KEY_LEN);
    sqlite3_finalize(st);

    ngx_collab_presence_worker.keyed = 1;

    return NGX_OK;
}


/* init_process, the database open: NGX_ERROR leaves presence off here */
ngx_int_t
ngx_collab_presence_worker_init(ngx_cycle_t *cycle,
    ngx_http_collab_presence_main_conf_t *pmcf)
{
    int64_t       now;
    sqlite3      *db;
    ngx_event_t  *ev;

    db = ngx_collab_db_handle();

    ngx_collab_presence_worker.conf = pmcf;
    ngx_collab_presence_use(pmcf->zone);

    if (ngx_collab_presence_slot_take(cycle->log) != NGX_OK) {
        return NGX_ERROR;
    }

    now = collab_now_ms();

    /* a predecessor killed with its connections: they end now */
    (void) ngx_collab_presence_sweep(now, pmcf->grace, cycle->log);

    if (ngx_collab_presence_revocations_load(db, now, cycle->log) != NGX_OK
        || ngx_collab_presence_key_load(db, cycle->log) != NGX_OK
        || ngx_collab_presence_record_init(cycle) != NGX_OK
        || ngx_collab_stream_init(cycle) != NGX_OK)
    {
        ngx_collab_presence_worker.keyed = 0;
        ngx_collab_presence_slot_release(now, pmcf->grace);
        return NGX_ERROR;
    }

    ev = &ngx_collab_presence_worker.tick;
    ev->handler = ngx_collab_presence_tick;
    ev->log = cycle->log;
    ev->data = cycle;
    ev->cancelable = 1;

    ev = &ngx_collab_presence_worker.deadline;
    ev->handler = ngx_collab_presence_tick;
    ev->log = cycle->log;
    ev->data = cycle;
    ev->cancelable = 1;

    (void) ngx_collab_metrics_collector(ngx_collab_presence_metrics);

    ngx_collab_presence_worker.running = 1;

    /* the start-up reconciliation, and what a dead recorder left */
    ngx_add_timer(&ngx_collab_presence_worker.tick, 10);

    return NGX_OK;
}


void
ngx_collab_presence_worker_exit(void)
{
    ngx_http_collab_presence_main_conf_t  *pmcf;

    if (!ngx_collab_presence_worker.running) {
        return;
    }

    ngx_collab_presence_worker.running = 0;
    pmcf = ngx_collab_presence_worker.conf;

    ngx_collab_stream_exit();
    ngx_collab_presence_record_exit();
    ngx_collab_presence_slot_release(collab_now_ms(), pmcf->grace);

    ngx_explicit_memzero(ngx_collab_presence_worker.key,
                         COLLAB_CTOKEN_KEY_LEN);
    ngx_collab_presence_worker.keyed = 0;
}


/*
 * Arms this worker's clock for a deadline it decided (the end of a grace
 * or of a heartbeat plus grace), so that the leave is decided on time;
 * the other workers' clocks run every second in any case.
 */
void
ngx_collab_presence_deadline(int64_t at)
{
    int64_t       now;
    ngx_msec_t    delay;
    ngx_event_t  *ev;

    if (!ngx_collab_presence_worker.running || at <= 0) {
        return;
    }

    ev = &ngx_collab_presence_worker.deadline;
    now = collab_now_ms();
    delay = (at > now) ? (ngx_msec_t) (at - now) : 0;

    if (ev->timer_set) {
        if ((int64_t) (ev->timer.key - ngx_current_msec) <= (int64_t) delay) {
            return;
        }

        ngx_del_timer(ev);
    }

    ngx_add_timer(ev, delay);
}


static void
ngx_collab_presence_tick(ngx_event_t *ev)
{
    int64_t                                now, next;
    ngx_http_collab_presence_main_conf_t  *pmcf;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    pmcf = ngx_collab_presence_worker.conf;
    now = collab_now_ms();

    ngx_collab_presence_expire(now, pmcf->grace);

    if (ev == &ngx_collab_presence_worker.tick) {
        (void) ngx_collab_presence_sweep(now, pmcf->grace, ev->log);

        if (++ngx_collab_presence_worker.ticks % COLLAB_PRESENCE_PRUNE == 0) {
            ngx_collab_presence_revocations_prune(now);
        }

        /* messages whose wake-up was lost, should one ever be */
        ngx_collab_stream_fanout();

        ngx_add_timer(ev, COLLAB_PRESENCE_TICK);
    }

    next = ngx_collab_presence_next();

    if (next && next - now < COLLAB_PRESENCE_TICK) {
        ngx_collab_presence_deadline(next);
    }

    ngx_collab_presence_record();
}


/* the "online" of a user object (also called in storage threads) */
ngx_uint_t
ngx_collab_presence_user_online(ngx_str_t *room, ngx_str_t *user)
{
    if (ngx_collab_presence_worker.conf == NULL) {
        return 0;
    }

    return ngx_collab_presence_online(room, user);
}


/*
 * At a scrape: the participants of the node, from the table.  (The open
 * streams are counted by each worker as they open and close.)
 */
static void
ngx_collab_presence_metrics(void)
{
    if (!ngx_collab_presence_worker.running) {
        return;
    }

    ngx_collab_metrics_gauge_set(COLLAB_G_PRESENCE_PARTICIPANTS,
                                 (int64_t) ngx_collab_presence_participants());
}
