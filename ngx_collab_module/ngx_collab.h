/*
 * Copyright (C) collab
 *
 * What every layer of the module shares: its configuration and the
 * module itself, who made a request as the key registry knows it, and the
 * prototypes of the layers below http/ that have no header of their own
 * (storage/'s connections and registry, the starts of the sender, the
 * outbox and the checkpoints, the events).  It names nothing above them:
 * the request layer's types and prototypes are in http/ngx_collab_http.h,
 * the API layer's in api/ngx_collab_api.h, and the store's interface is
 * storage/ngx_collab_store.h.
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
#include "ngx_collab_metrics.h"


#define COLLAB_VERSION          "0.1.0"


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


/* who made the request (ngx_collab_shm_key_find() fills in a key's account) */
typedef struct {
    unsigned                    admin:1;
    u_char                      account[COLLAB_ID_MAX];
    size_t                      account_len;
    ngx_str_t                   user;       /* of a client token */
    int64_t                     issued_at;  /* of a client token */
} ngx_collab_auth_t;


extern ngx_module_t  ngx_http_collab_module;


/* ngx_http_collab_module.c */
ngx_int_t ngx_collab_admin_token_load(ngx_http_collab_main_conf_t *cmcf,
    ngx_log_t *log);
ngx_int_t ngx_collab_data_check(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf, ngx_log_t *log);

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
