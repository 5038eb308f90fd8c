/*
 * Copyright (C) collab
 *
 * This worker's presence settings, read by the streams, the routes and
 * the worker's clock (the collab_presence_* directives), and the alarm
 * that a deadline decided here arms: the worker sets both at its start
 * (ngx_collab_presence_worker.c), and the alarm's event is its clock's.
 */

#include "ngx_collab.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"


static struct {
    ngx_http_collab_presence_main_conf_t  *conf;
    ngx_event_t                           *alarm;   /* NULL: not running */
} ngx_collab_presence_settings;


void
ngx_collab_presence_configure(ngx_http_collab_presence_main_conf_t *pmcf)
{
    ngx_collab_presence_settings.conf = pmcf;
}


ngx_http_collab_presence_main_conf_t *
ngx_collab_presence_conf(void)
{
    return ngx_collab_presence_settings.conf;
}


/* the event that deadlines arm, once presence runs; NULL once it stops */
void
ngx_collab_presence_alarm(ngx_event_t *ev)
{
    ngx_collab_presence_settings.alarm = ev;
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

    ev = ngx_collab_presence_settings.alarm;

    if (ev == NULL || at <= 0) {
        return;
    }

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
