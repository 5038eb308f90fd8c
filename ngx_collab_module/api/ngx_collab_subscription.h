/*
 * Copyright (C) collab
 *
 * A subscription to events, what webhooks and workflows have in common:
 * the events it takes, the room it is limited to, whether it is enabled,
 * and its entry in the registry of the collab zone, by which every worker
 * matches an event to it.  Each resource keeps its table, its own fields
 * and its answers; ngx_collab_sub_kind_t says which.
 */

#ifndef _NGX_COLLAB_SUBSCRIPTION_H_INCLUDED_
#define _NGX_COLLAB_SUBSCRIPTION_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_http.h"


#define COLLAB_EVENTS_ALL        0xffffffffu

/* where a row of a subscription's get statement has them */
#define COLLAB_SUB_COL_EVENTS    3
#define COLLAB_SUB_COL_ROOM      4
#define COLLAB_SUB_COL_ENABLED   6


/* what a create or an update asks of the subscription */
typedef struct {
    ngx_str_t                 events;      /* JSON text of the array */
    uint32_t                  mask;
    ngx_str_t                 room;        /* data NULL: every room */
    ngx_uint_t                enabled;
    unsigned                  has_events:1;
    unsigned                  has_room:1;
    unsigned                  has_enabled:1;
} ngx_collab_sub_t;


/* a resource that subscribes: its registry kind, names and statements */
typedef struct {
    ngx_uint_t                kind;        /* COLLAB_SUB_WEBHOOK ... */
    const char               *name;        /* "webhook" */
    const char               *plural;      /* "webhooks": pages, cursors */
    const char               *sql_count;   /* account ?1 */
    const char               *sql_list;    /* account ?1, seq < ?2, ?3 */
    const char               *sql_get;     /* account ?1, id ?2 */
    const char               *sql_delete;  /* account ?1, id ?2 */
    int                       mask_col;    /* in a row of sql_get */
    ngx_uint_t                wake;        /* what an enabled one lets go */
    ngx_collab_row_pt         row;         /* a row of sql_list */
    ngx_collab_handler_pt     resync;      /* ngx_collab_sub_resync() */

    /* its log: what was done for each event (deliveries, executions) */
    const char               *log_name;    /* "delivery" */
    const char               *log_plural;  /* "deliveries" */
    const char               *sql_log_list; /* of ?1, seq < ?2, status ?3
                                               (NULL: any), ?4 */
    const char               *sql_log_get;  /* of ?1, id ?2 */
    ngx_collab_row_pt         log_row;     /* a row of sql_log_list */
} ngx_collab_sub_kind_t;


ngx_int_t ngx_collab_sub_events(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_uint_t create,
    ngx_collab_sub_t *sub);
ngx_int_t ngx_collab_sub_room(ngx_collab_req_t *cr, ngx_collab_sub_t *sub);
ngx_int_t ngx_collab_sub_enabled(ngx_collab_req_t *cr,
    ngx_collab_sub_t *sub);
ngx_int_t ngx_collab_sub_keep(ngx_pool_t *pool, sqlite3_stmt *st,
    const ngx_collab_sub_kind_t *kind, ngx_collab_sub_t *sub);
void ngx_collab_sub_bind(sqlite3_stmt *st, int i, ngx_collab_sub_t *sub);
void ngx_collab_sub_json(collab_json_t *j, sqlite3_stmt *st);

ngx_int_t ngx_collab_sub_count(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_uint_t max);
ngx_int_t ngx_collab_sub_list(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind);
ngx_int_t ngx_collab_sub_find(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, sqlite3_stmt **stp);

ngx_int_t ngx_collab_sub_register(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_str_t *id, ngx_collab_sub_t *sub);
void ngx_collab_sub_update(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_collab_sub_t *sub);
ngx_int_t ngx_collab_sub_delete(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind);
ngx_int_t ngx_collab_sub_unregister(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind);
ngx_int_t ngx_collab_sub_resync(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind);

ngx_int_t ngx_collab_sub_log_list(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, ngx_uint_t limit, int64_t before,
    ngx_str_t *status);
ngx_int_t ngx_collab_sub_log_get(ngx_collab_req_t *cr,
    const ngx_collab_sub_kind_t *kind, sqlite3_stmt **stp);


#endif /* _NGX_COLLAB_SUBSCRIPTION_H_INCLUDED_ */
