/*
 * Copyright (C) collab
 *
 * The API layer: a handler per route, the table of routes that the module
 * hands to the router, and what the module files start.  Included by the
 * files of api/ and by the module files alone: no layer below names a
 * function of this one.
 */

#ifndef _NGX_COLLAB_API_H_INCLUDED_
#define _NGX_COLLAB_API_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_http.h"


/* ngx_collab_routes.c: every route, for ngx_collab_router_set() */
extern const ngx_collab_route_table_t  ngx_collab_api_routes;

/* ngx_collab_accounts.c */
ngx_int_t ngx_collab_account_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_account_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_key_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_key_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_key_revoke(ngx_collab_req_t *cr);

/* ngx_collab_rooms.c */
ngx_int_t ngx_collab_room_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_room_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_room_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_room_update(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_room_delete(ngx_collab_req_t *cr);

/* ngx_collab_users.c */
ngx_int_t ngx_collab_user_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_user_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_user_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_user_update(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_user_delete(ngx_collab_req_t *cr);

/* ngx_collab_stores.c */
ngx_int_t ngx_collab_store_check(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_store_put(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_store_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_store_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_store_delete_key(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_store_delete(ngx_collab_req_t *cr);

/* ngx_collab_files.c */
ngx_int_t ngx_collab_file_check(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_file_put(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_file_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_file_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_file_delete(ngx_collab_req_t *cr);
void ngx_collab_files_drop_room(ngx_collab_req_t *cr, ngx_str_t *room);
ngx_int_t ngx_collab_files_prepare(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf, ngx_uint_t repair, ngx_log_t *log);

/* ngx_collab_webhooks.c */
ngx_int_t ngx_collab_webhook_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_update(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_delete(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_rotate(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_test(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_webhook_recover(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_delivery_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_delivery_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_delivery_retry(ngx_collab_req_t *cr);

/* ngx_collab_workflows.c */
ngx_int_t ngx_collab_workflow_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_create_prepare(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_update(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_update_prepare(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_delete(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_test(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_workflow_test_prepare(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_execution_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_execution_get(ngx_collab_req_t *cr);

#define COLLAB_EXECUTION_COLUMNS                                              \
    "seq, id, workflow_id, event, event_id, status, duration_ms, result,"   \
    " error, logs, fetches, started_at, finished_at, created_at, payload,"  \
    " attempts"

void ngx_collab_execution_json(collab_json_t *j, sqlite3_stmt *st,
    ngx_uint_t payload);

/* ngx_collab_tail.c */
ngx_int_t ngx_collab_workflow_tail(ngx_collab_req_t *cr);

/* ngx_collab_events.c */
ngx_int_t ngx_collab_event_list(ngx_collab_req_t *cr);

/* ngx_collab_presence_api.c: the presence routes */
void ngx_collab_presence_api_init(void);
ngx_int_t ngx_collab_token_create(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_stream_connect(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_presence_get(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_presence_put(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_presence_delete(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_session_list(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_presence_user_deleted(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_presence_room_deleted(ngx_collab_req_t *cr);


#endif /* _NGX_COLLAB_API_H_INCLUDED_ */
