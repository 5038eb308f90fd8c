/*
 * Copyright (C) collab
 *
 * Types shared by every part of the module: configuration, the per-request
 * context handed to resource handlers, and the prototypes each concern
 * exports.  One file pair per concern lives next to this header.  The API
 * layer's prototypes are in api/ngx_collab_api.h, which only api/ and the
 * module files include.
 */

#ifndef _NGX_COLLAB_H_INCLUDED_
#define _NGX_COLLAB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sqlite3.h>
#include <jansson.h>

#include "ngx_collab_utf8.h"
#include "ngx_collab_json.h"
#include "ngx_collab_id.h"
#include "ngx_collab_clock.h"
#include "ngx_collab_store.h"
#include "ngx_collab_metrics.h"


#define COLLAB_VERSION          "0.1.0"

#define COLLAB_MAX_PARAMS       4
#define COLLAB_NAME_MAX         256
#define COLLAB_METADATA_MAX     8192
#define COLLAB_LIMIT_DEFAULT    20
#define COLLAB_LIMIT_MAX        100
#define COLLAB_FILE_NAME_MAX    1024


typedef struct ngx_collab_req_s  ngx_collab_req_t;

typedef ngx_int_t (*ngx_collab_handler_pt)(ngx_collab_req_t *cr);


/* how webhooks are sent: the collab_webhook_* directives */
typedef struct {
    ngx_msec_t                  timeout;
    ngx_msec_t                  connect_timeout;
    ngx_flag_t                  ssl_verify;
    ngx_str_t                   ssl_trusted_certificate;
    ngx_uint_t                  keepalive;
    ngx_uint_t                  keepalive_requests;
    ngx_msec_t                  keepalive_timeout;
    ngx_uint_t                  concurrency;
    ngx_array_t                *retry_schedule;    /* of ngx_msec_t */
    ngx_flag_t                  allow_private;
    time_t                      delivery_retention;
    void                       *ssl;               /* ngx_ssl_t */
    ngx_resolver_t             *resolver;
    ngx_msec_t                  resolver_timeout;
} ngx_collab_webhook_conf_t;


/* how workflows run: the collab_workflow_* directives */
typedef struct {
    ngx_str_t                   runner;            /* the executable */
    ngx_uint_t                  runners;           /* per worker */
    ngx_uint_t                  concurrency;       /* per runner */
    ngx_msec_t                  timeout;
    size_t                      memory;
    ngx_uint_t                  max_fetches;
    ngx_msec_t                  fetch_timeout;
    size_t                      fetch_max_size;
    size_t                      max_logs;
    size_t                      max_result;
    ngx_flag_t                  allow_private;
    ngx_array_t                *allow_addresses;   /* of ngx_str_t */
    ngx_str_t                   trusted_certificate;
    time_t                      execution_retention;
} ngx_collab_workflow_conf_t;


typedef struct {
    ngx_str_t                   database;
    ngx_str_t                   thread_pool;
    ngx_shm_zone_t             *shm_zone;
    ngx_str_t                   admin_token_file;
    u_char                      admin_hash[32];
    ngx_flag_t                  admin_set;
    ngx_flag_t                  used;       /* a collab_api location */
    ngx_collab_webhook_conf_t   webhook;
    ngx_collab_workflow_conf_t  workflow;
    ngx_str_t                   files_path;
    ngx_uint_t                  files_max_per_room;
    off_t                       files_quota;
    size_t                      store_max_value;
} ngx_http_collab_main_conf_t;


typedef struct {
    ngx_flag_t                  api;
} ngx_http_collab_loc_conf_t;


/* who made the request */
typedef struct {
    unsigned                    admin:1;
    u_char                      account[COLLAB_ID_MAX];
    size_t                      account_len;
    ngx_str_t                   user;       /* of a client token */
    int64_t                     issued_at;  /* of a client token */
} ngx_collab_auth_t;


/* a validation failure is data: the field and what is wrong with it */
typedef struct {
    ngx_uint_t                  status;
    const char                 *code;
    const char                 *field;
    ngx_uint_t                  line;       /* in the field's text; 0: none */
    ngx_uint_t                  column;
    u_char                      message[256];
} ngx_collab_err_t;


typedef enum {
    COLLAB_ROUTE_PUBLIC = 0,
    COLLAB_ROUTE_ADMIN,             /* admin token only */
    COLLAB_ROUTE_ACCOUNT,           /* admin or a key of {accountId} */
    COLLAB_ROUTE_ROOM,              /* as ACCOUNT, and {roomId} must be a
                                       room of {accountId}: 404 if not */
    COLLAB_ROUTE_CLIENT             /* a client token of the room's user */
} ngx_collab_route_auth_e;


/* what a method reads as its request body */
typedef enum {
    COLLAB_BODY_NONE = 0,
    COLLAB_BODY_OBJECT,             /* a JSON object; empty means {} */
    COLLAB_BODY_VALUE,              /* any one JSON value */
    COLLAB_BODY_FILE                /* raw bytes, into a temp file */
} ngx_collab_body_e;


/*
 * Or'ed into a method of the table: its handler changes no row (or only
 * through works of its own), so it runs on the event loop, not as a work
 * of the store.
 */
#define COLLAB_METHOD_LOOP      0x40000000
#define COLLAB_METHOD_MASK      (~(ngx_uint_t) COLLAB_METHOD_LOOP)

typedef struct {
    ngx_uint_t                  method;     /* NGX_HTTP_GET ... */
    ngx_collab_handler_pt       handler;
    ngx_collab_body_e           body;
} ngx_collab_method_t;


/*
 * A method that writes may have a prepare step (the table's prepares): it
 * runs on the event loop once the body is read, before the handler is
 * handed to the store, and may wait for something (a compile by the
 * workflow runner): NGX_OK goes on, NGX_ERROR answers cr->err, NGX_AGAIN
 * waits for ngx_collab_resume().
 */
typedef struct {
    ngx_collab_handler_pt       handler;
    ngx_collab_handler_pt       prepare;
} ngx_collab_prepare_t;


/*
 * A pattern is matched segment by segment: a word matches itself, ":" one
 * percent-decoded segment, and "*" (last only) the rest of the path, raw,
 * which the route's check decodes.  The check runs after authorization
 * and before any body is read: NGX_OK, or NGX_ERROR with cr->err set.
 */
typedef struct {
    const char                 *pattern;    /* "accounts/:/rooms/:" */
    ngx_collab_route_auth_e     auth;
    ngx_collab_method_t         methods[4];
    ngx_collab_handler_pt       check;
} ngx_collab_route_t;


/*
 * What the router walks: the routes, in the order they are tried, and the
 * handlers that have a prepare step.  The layer above owns it and hands
 * it to ngx_collab_router_set() at configuration.
 */
typedef struct {
    const ngx_collab_route_t   *routes;
    ngx_uint_t                  nroutes;
    const ngx_collab_prepare_t *prepares;
    ngx_uint_t                  nprepares;
} ngx_collab_route_table_t;


struct ngx_collab_req_s {
    ngx_http_request_t         *request;
    const ngx_collab_route_t   *route;
    const ngx_collab_method_t  *method;
    ngx_collab_handler_pt       prepare;    /* the method's, if any */
    ngx_str_t                   params[COLLAB_MAX_PARAMS];
    ngx_uint_t                  nparams;
    ngx_collab_auth_t           auth;
    json_t                     *body;       /* the request's JSON body */
    collab_json_t               out;        /* the answer being written */
    ngx_collab_err_t            err;        /* what a validator refused */
    ngx_collab_work_t           work;       /* a method that writes */
    ngx_collab_handler_pt       undo;       /* when its commit fails */
    ngx_collab_handler_pt       committed;  /* after its commit, if set;
                                               NGX_DONE: it answers later
                                               by itself */
    void                       *ctx;        /* the resource's own state */
    ngx_str_t                   subject;    /* the id undo is about */
    ngx_int_t                   handler_rc;
    ngx_uint_t                  reply_status;   /* the answer, waiting */
    unsigned                    reply_empty:1;
    unsigned                    deferred:1; /* the handler runs in the store */
    unsigned                    prepared:1;
    unsigned                    sending:1;  /* our own answer is on the way */
    unsigned                    replace:1;  /* rewrite nginx's error page */
    ngx_buf_t                  *error_page; /* the replacement */
};


extern ngx_module_t  ngx_http_collab_module;


/* ngx_http_collab_module.c */
ngx_int_t ngx_collab_admin_token_load(ngx_http_collab_main_conf_t *cmcf,
    ngx_log_t *log);
ngx_int_t ngx_collab_data_check(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf, ngx_log_t *log);

/* ngx_collab_handler.c */
ngx_int_t ngx_http_collab_handler(ngx_http_request_t *r);
void ngx_collab_resume(ngx_collab_req_t *cr, ngx_int_t rc);
ngx_int_t ngx_http_collab_filter_init(ngx_conf_t *cf);

/* ngx_collab_db.c */
typedef struct ngx_collab_conn_s  ngx_collab_conn_t;

ngx_collab_conn_t *ngx_collab_db_connect(ngx_cycle_t *cycle, ngx_str_t *path,
    ngx_collab_conn_t *conn);
void ngx_collab_db_disconnect(ngx_collab_conn_t *conn);
ngx_collab_conn_t *ngx_collab_db_use(ngx_collab_conn_t *conn);
void ngx_collab_db_reset(ngx_collab_conn_t *c);
void ngx_collab_db_batch(ngx_collab_conn_t *c, ngx_uint_t on);
ngx_uint_t ngx_collab_db_rolled(ngx_collab_conn_t *c);
sqlite3 *ngx_collab_db_conn_handle(ngx_collab_conn_t *c);
void ngx_collab_db_wait(ngx_collab_conn_t *c);
size_t ngx_collab_db_conn_size(void);

ngx_int_t ngx_collab_db_prepare(ngx_cycle_t *cycle, ngx_str_t *path,
    ngx_log_t *log);
ngx_int_t ngx_collab_db_open(ngx_cycle_t *cycle, ngx_str_t *path);
void ngx_collab_db_close(void);
void ngx_collab_db_release(void);
sqlite3 *ngx_collab_db_handle(void);
sqlite3_stmt *ngx_collab_db_stmt(const char *sql);
ngx_int_t ngx_collab_db_begin(void);
ngx_int_t ngx_collab_db_commit(void);
void ngx_collab_db_rollback(void);
ngx_int_t ngx_collab_db_status(int rc);
void ngx_collab_db_log(ngx_log_t *log, int rc, const char *what);
const u_char *ngx_collab_db_secret(void);
sqlite3 *ngx_collab_db_open_master(ngx_str_t *path, ngx_log_t *log);
void ngx_collab_db_chown(ngx_cycle_t *cycle, ngx_str_t *path,
    const char *suffix);
ngx_int_t ngx_collab_db_bind_str(sqlite3_stmt *st, int i, ngx_str_t *s);
ngx_int_t ngx_collab_db_bind_cstr(sqlite3_stmt *st, int i, const char *s);
void ngx_collab_db_col(sqlite3_stmt *st, int i, ngx_str_t *s);
ngx_int_t ngx_collab_db_dup(ngx_pool_t *pool, sqlite3_stmt *st, int col,
    ngx_str_t *dst);

/* ngx_collab_shm.c */
ngx_shm_zone_t *ngx_collab_shm_add(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, ngx_http_collab_main_conf_t *cmcf);
ngx_int_t ngx_collab_shm_start(ngx_shm_zone_t *shm_zone);
ngx_int_t ngx_collab_shm_key_add(const u_char *hash, ngx_str_t *key_id,
    ngx_str_t *account);
ngx_int_t ngx_collab_shm_key_remove(const u_char *hash);
ngx_int_t ngx_collab_shm_key_find(const u_char *hash, ngx_collab_auth_t *a);
ngx_atomic_uint_t ngx_collab_shm_generation(void);
ngx_int_t ngx_collab_shm_hook_set(ngx_str_t *account, ngx_str_t *id,
    ngx_str_t *room, uint32_t events, ngx_uint_t enabled);
ngx_uint_t ngx_collab_shm_hooks_match(ngx_str_t *account, ngx_str_t *room,
    ngx_uint_t type, u_char (*ids)[COLLAB_ID_MAX], ngx_uint_t max);

#define COLLAB_SUB_WEBHOOK      0
#define COLLAB_SUB_WORKFLOW     1

ngx_int_t ngx_collab_shm_sub_set(ngx_uint_t kind, ngx_str_t *account,
    ngx_str_t *id, ngx_str_t *room, uint32_t events, ngx_uint_t enabled);
void ngx_collab_shm_sub_remove(ngx_str_t *account, ngx_str_t *id);
ngx_uint_t ngx_collab_shm_subs_match(ngx_uint_t kind, ngx_str_t *account,
    ngx_str_t *room, ngx_uint_t type, u_char (*ids)[COLLAB_ID_MAX],
    ngx_uint_t max);
void ngx_collab_shm_executions_done(void);
ngx_atomic_uint_t ngx_collab_shm_executions_seen(void);

/* ngx_collab_reply.c */
ngx_int_t ngx_collab_reply(ngx_collab_req_t *cr, ngx_uint_t status);
ngx_int_t ngx_collab_reply_empty(ngx_collab_req_t *cr, ngx_uint_t status);
/*
 * The two error verbs: ngx_collab_fail() answers now; ngx_collab_refuse()
 * records the refusal and returns NGX_ERROR, which a handler returns for
 * the runner to answer.  ngx_collab_refuse_db() is ngx_collab_refuse()
 * for a failed SQLite call.
 */
ngx_int_t ngx_collab_fail(ngx_collab_req_t *cr, ngx_uint_t status,
    const char *field, const char *fmt, ...);
ngx_int_t ngx_collab_refuse(ngx_collab_req_t *cr, ngx_uint_t status,
    const char *field, const char *fmt, ...);
ngx_int_t ngx_collab_refuse_db(ngx_collab_req_t *cr, int rc,
    const char *what);
const char *ngx_collab_status_code(ngx_uint_t status);
ngx_buf_t *ngx_collab_error_buf(ngx_http_request_t *r, ngx_uint_t status,
    const char *field, const u_char *msg, size_t len);
typedef void (*ngx_collab_row_pt)(collab_json_t *j, sqlite3_stmt *st);
ngx_int_t ngx_collab_reply_page(ngx_collab_req_t *cr, sqlite3_stmt *st,
    const char *kind, ngx_uint_t limit, ngx_collab_row_pt row,
    const char *what);
ngx_int_t ngx_collab_reply_page_name(ngx_collab_req_t *cr, sqlite3_stmt *st,
    const char *kind, ngx_uint_t limit, ngx_collab_row_pt row,
    const char *what);
void ngx_collab_col_text(collab_json_t *j, sqlite3_stmt *st, int col);
void ngx_collab_col_int(collab_json_t *j, sqlite3_stmt *st, int col);
void ngx_collab_col_time(collab_json_t *j, sqlite3_stmt *st, int col);

/* ngx_collab_input.c */
void ngx_collab_json_cleanup(ngx_http_request_t *r, json_t *json);
ngx_int_t ngx_collab_check_fields(ngx_collab_req_t *cr,
    const char **allowed);
ngx_int_t ngx_collab_get_string(ngx_collab_req_t *cr, const char *field,
    ngx_uint_t required, size_t max, ngx_str_t *out, ngx_uint_t *present);
ngx_int_t ngx_collab_get_metadata(ngx_collab_req_t *cr, ngx_str_t *out,
    ngx_uint_t *present);
ngx_int_t ngx_collab_validate_name(ngx_str_t *s, size_t max);
ngx_uint_t ngx_collab_has_control(const u_char *p, size_t len);
ngx_int_t ngx_collab_arg(ngx_collab_req_t *cr, const char *name,
    ngx_str_t *value);
ngx_int_t ngx_collab_page_args(ngx_collab_req_t *cr, const char *kind,
    ngx_uint_t *limit, int64_t *after);
ngx_int_t ngx_collab_page_name_args(ngx_collab_req_t *cr, const char *kind,
    ngx_uint_t *limit, ngx_str_t *from);

/* ngx_collab_router.c */
void ngx_collab_router_set(const ngx_collab_route_table_t *table);
ngx_int_t ngx_collab_route(ngx_http_request_t *r, ngx_collab_req_t *cr,
    ngx_str_t *allow);
const ngx_collab_route_t *ngx_collab_route_table(ngx_uint_t *n);

/* ngx_collab_auth.c */
ngx_int_t ngx_collab_authenticate(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_authorize(ngx_collab_req_t *cr);
ngx_int_t ngx_collab_account_exists(ngx_collab_req_t *cr, ngx_str_t *account);
ngx_int_t ngx_collab_room_exists(ngx_collab_req_t *cr, ngx_str_t *account,
    ngx_str_t *room);

/* ngx_collab_sender.c */
ngx_int_t ngx_collab_sender_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
void ngx_collab_sender_exit(void);

/* ngx_collab_outbox.c */
ngx_int_t ngx_collab_outbox_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
void ngx_collab_outbox_exit(void);

/* ngx_collab_wal.c */
ngx_int_t ngx_collab_wal_init(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf);
void ngx_collab_wal_exit(void);

/* presence/: what authentication, users and rooms ask of the layer */
const u_char *ngx_collab_presence_token_key(void);
ngx_uint_t ngx_collab_presence_user_online(ngx_str_t *room, ngx_str_t *user);
int ngx_collab_presence_revoke_row(ngx_str_t *room, ngx_str_t *user,
    int64_t now);

/* outbox/ngx_collab_event.c, ngx_collab_outbox.c (recording) */
typedef enum {
    COLLAB_EVENT_PARTICIPANT_JOINED = 0,
    COLLAB_EVENT_PARTICIPANT_LEFT,
    COLLAB_EVENT_SESSION_STARTED,
    COLLAB_EVENT_SESSION_CLOSED,
    COLLAB_EVENT_USER_CREATED,
    COLLAB_EVENT_USER_UPDATED,
    COLLAB_EVENT_USER_DELETED,
    COLLAB_EVENT_COUNT
} ngx_collab_event_e;

const char *ngx_collab_event_name(ngx_collab_event_e type);
ngx_int_t ngx_collab_event_lookup(ngx_str_t *name);
int ngx_collab_event_record(ngx_str_t *account, ngx_str_t *room,
    ngx_collab_event_e type, collab_json_t *data, int64_t now);
int ngx_collab_event_record_id(ngx_str_t *id, ngx_str_t *account,
    ngx_str_t *room, ngx_collab_event_e type, collab_json_t *data,
    int64_t now);
void ngx_collab_event_envelope(collab_json_t *j, const char *type,
    ngx_str_t *data, int64_t at);


#endif /* _NGX_COLLAB_H_INCLUDED_ */
