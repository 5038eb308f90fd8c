/*
 * Copyright (C) collab
 *
 * The API's routes: every path with its methods, the handler of each, the
 * body each reads and who may call it, and the handlers that have a
 * prepare step.  The module hands this table to the router at
 * configuration; the router walks it in order (ngx_collab_router.c).
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"


static const ngx_collab_route_t  ngx_collab_routes[] = {

    { "accounts", COLLAB_ROUTE_ADMIN,
      { { NGX_HTTP_POST, ngx_collab_account_create, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_account_get, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/keys", COLLAB_ROUTE_ADMIN,
      { { NGX_HTTP_GET, ngx_collab_key_list, COLLAB_BODY_NONE },
        { NGX_HTTP_POST, ngx_collab_key_create, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/keys/:", COLLAB_ROUTE_ADMIN,
      { { NGX_HTTP_DELETE, ngx_collab_key_revoke, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_room_list, COLLAB_BODY_NONE },
        { NGX_HTTP_POST, ngx_collab_room_create, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/rooms/:", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_room_get, COLLAB_BODY_NONE },
        { NGX_HTTP_PATCH, ngx_collab_room_update, COLLAB_BODY_OBJECT },
        { NGX_HTTP_DELETE, ngx_collab_room_delete, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/users", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_user_list, COLLAB_BODY_NONE },
        { NGX_HTTP_POST, ngx_collab_user_create, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/rooms/:/users/:", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_user_get, COLLAB_BODY_NONE },
        { NGX_HTTP_PATCH, ngx_collab_user_update, COLLAB_BODY_OBJECT },
        { NGX_HTTP_DELETE, ngx_collab_user_delete, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/users/:/tokens", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_POST|COLLAB_METHOD_LOOP, ngx_collab_token_create,
          COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/rooms/:/connect", COLLAB_ROUTE_CLIENT,
      { { NGX_HTTP_GET, ngx_collab_stream_connect, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/presence", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_presence_get, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/presence/:", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_PUT|COLLAB_METHOD_LOOP, ngx_collab_presence_put,
          COLLAB_BODY_OBJECT },
        { NGX_HTTP_DELETE|COLLAB_METHOD_LOOP, ngx_collab_presence_delete,
          COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/sessions", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_session_list, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/stores/:", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_store_list, COLLAB_BODY_NONE },
        { NGX_HTTP_DELETE, ngx_collab_store_delete, COLLAB_BODY_NONE } },
      ngx_collab_store_check },

    { "accounts/:/rooms/:/stores/:/:", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_store_get, COLLAB_BODY_NONE },
        { NGX_HTTP_PUT, ngx_collab_store_put, COLLAB_BODY_VALUE },
        { NGX_HTTP_DELETE, ngx_collab_store_delete_key, COLLAB_BODY_NONE } },
      ngx_collab_store_check },

    { "accounts/:/rooms/:/files", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_file_list, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/rooms/:/files/*", COLLAB_ROUTE_ROOM,
      { { NGX_HTTP_GET, ngx_collab_file_get, COLLAB_BODY_NONE },
        { NGX_HTTP_PUT, ngx_collab_file_put, COLLAB_BODY_FILE },
        { NGX_HTTP_DELETE, ngx_collab_file_delete, COLLAB_BODY_NONE } },
      ngx_collab_file_check },

    { "accounts/:/events", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_event_list, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/webhooks", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_webhook_list, COLLAB_BODY_NONE },
        { NGX_HTTP_POST, ngx_collab_webhook_create, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/webhooks/:", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_webhook_get, COLLAB_BODY_NONE },
        { NGX_HTTP_PATCH, ngx_collab_webhook_update, COLLAB_BODY_OBJECT },
        { NGX_HTTP_DELETE, ngx_collab_webhook_delete, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/webhooks/:/rotate-secret", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_POST, ngx_collab_webhook_rotate, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/webhooks/:/test", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_POST, ngx_collab_webhook_test, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/webhooks/:/recover", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_POST, ngx_collab_webhook_recover, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/webhooks/:/deliveries", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_delivery_list, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/webhooks/:/deliveries/:", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_delivery_get, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/webhooks/:/deliveries/:/retry", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_POST, ngx_collab_delivery_retry, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/workflows", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_workflow_list, COLLAB_BODY_NONE },
        { NGX_HTTP_POST, ngx_collab_workflow_create, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/workflows/:", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_workflow_get, COLLAB_BODY_NONE },
        { NGX_HTTP_PATCH, ngx_collab_workflow_update, COLLAB_BODY_OBJECT },
        { NGX_HTTP_DELETE, ngx_collab_workflow_delete, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/workflows/:/test", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_POST, ngx_collab_workflow_test, COLLAB_BODY_OBJECT } },
      NULL },

    { "accounts/:/workflows/:/executions", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_execution_list, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/workflows/:/executions/:", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_execution_get, COLLAB_BODY_NONE } },
      NULL },

    { "accounts/:/workflows/:/tail", COLLAB_ROUTE_ACCOUNT,
      { { NGX_HTTP_GET, ngx_collab_workflow_tail, COLLAB_BODY_NONE } },
      NULL },
};


/* the handlers that have a prepare step on the event loop */
static const ngx_collab_prepare_t  ngx_collab_prepares[] = {
    { ngx_collab_workflow_create, ngx_collab_workflow_create_prepare },
    { ngx_collab_workflow_update, ngx_collab_workflow_update_prepare },
    { ngx_collab_workflow_test, ngx_collab_workflow_test_prepare },
};


const ngx_collab_route_table_t  ngx_collab_api_routes = {
    ngx_collab_routes,
    sizeof(ngx_collab_routes) / sizeof(ngx_collab_routes[0]),
    ngx_collab_prepares,
    sizeof(ngx_collab_prepares) / sizeof(ngx_collab_prepares[0])
};
