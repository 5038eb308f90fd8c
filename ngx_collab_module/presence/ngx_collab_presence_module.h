/*
 * Copyright (C) collab
 *
 * The presence layer as a worker runs it (presence/, below http/ and
 * api/, above outbox/): the configuration of the collab_presence_*
 * directives, its start and exit, the recorder, the streams, the
 * callback through which the layer above learns that transitions were
 * recorded, and what authentication, users and rooms ask of the layer.
 *
 * Its files call downwards only: the worker (start, exit, the clock) calls
 * the streams and the recorder; the streams call the recorder; both call
 * the settings and the table (ngx_collab_presence.c).  The recorder tells
 * the streams of a committed batch through the callback the worker gives
 * it at start.
 */

#ifndef _NGX_COLLAB_PRESENCE_MODULE_H_INCLUDED_
#define _NGX_COLLAB_PRESENCE_MODULE_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_presence.h"


typedef struct {
    ngx_shm_zone_t             *zone;
    ngx_msec_t                  grace;
    ngx_msec_t                  heartbeat;
} ngx_http_collab_presence_main_conf_t;


/*
 * transitions were recorded: the streams may carry their messages (the
 * recorder's callback), the layer above may answer what waited (the
 * streams')
 */
typedef void (*ngx_collab_recorded_pt)(void);


/* ngx_collab_presence_worker.c */
ngx_int_t ngx_collab_presence_worker_init(ngx_cycle_t *cycle,
    ngx_http_collab_presence_main_conf_t *pmcf);
void ngx_collab_presence_worker_exit(void);
/* what authentication, users and rooms ask of the layer */
const u_char *ngx_collab_presence_token_key(void);
ngx_uint_t ngx_collab_presence_user_online(ngx_str_t *room, ngx_str_t *user);

/* ngx_collab_presence_conf.c */
void ngx_collab_presence_configure(ngx_http_collab_presence_main_conf_t *pmcf);
ngx_http_collab_presence_main_conf_t *ngx_collab_presence_conf(void);
void ngx_collab_presence_alarm(ngx_event_t *ev);
void ngx_collab_presence_deadline(int64_t at);

/* ngx_collab_presence_record.c */
ngx_int_t ngx_collab_presence_record_init(ngx_cycle_t *cycle,
    ngx_collab_recorded_pt published);
void ngx_collab_presence_record_exit(void);
void ngx_collab_presence_record(void);
int ngx_collab_presence_revoke_row(ngx_str_t *room, ngx_str_t *user,
    int64_t now);

/*
 * ngx_collab_stream.c.  ngx_collab_stream_start() answers the connect
 * request: NGX_DONE, the stream is on; NGX_OK, a HEAD was answered;
 * NGX_DECLINED, the token was revoked; NGX_BUSY, the zone is full;
 * NGX_ABORT, presence does not run in this worker; or an error status.
 */
ngx_int_t ngx_collab_stream_init(ngx_cycle_t *cycle);
void ngx_collab_stream_exit(void);
void ngx_collab_stream_notify(void);
void ngx_collab_stream_fanout(void);
ngx_int_t ngx_collab_stream_start(ngx_http_request_t *r,
    ngx_collab_who_t *who, int64_t issued_at);
void ngx_collab_stream_on_recorded(ngx_collab_recorded_pt handler);


#endif /* _NGX_COLLAB_PRESENCE_MODULE_H_INCLUDED_ */
