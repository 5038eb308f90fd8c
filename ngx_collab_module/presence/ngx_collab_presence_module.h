/*
 * Copyright (C) collab
 *
 * What the files of presence/ share: the module's configuration (the
 * collab_presence_* directives) and the calls between the table's
 * neighbours: the recorder, the streams and the routes.
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


/* ngx_http_collab_presence_module.c */
ngx_http_collab_presence_main_conf_t *ngx_collab_presence_conf(void);
void ngx_collab_presence_deadline(int64_t at);

/* ngx_collab_presence_record.c */
ngx_int_t ngx_collab_presence_record_init(ngx_cycle_t *cycle);
void ngx_collab_presence_record_exit(void);
void ngx_collab_presence_record(void);

/* ngx_collab_stream.c */
ngx_int_t ngx_collab_stream_init(ngx_cycle_t *cycle);
void ngx_collab_stream_exit(void);
void ngx_collab_stream_notify(void);
void ngx_collab_stream_fanout(void);
ngx_int_t ngx_collab_stream_start(ngx_collab_req_t *cr, ngx_collab_who_t *who,
    int64_t issued_at);

/* ngx_collab_presence_api.c */
ngx_int_t ngx_collab_presence_api_init(ngx_cycle_t *cycle);
void ngx_collab_presence_api_recorded(void);


#endif /* _NGX_COLLAB_PRESENCE_MODULE_H_INCLUDED_ */
