/*
 * Copyright (C) collab
 *
 * The module itself: its directives, the main and location
 * configuration, the admin token, and process start and stop.  The
 * request handler and the error page filter are in ngx_collab_handler.c.
 */

#include "ngx_collab.h"
#include "ngx_collab_store.h"
#include "ngx_collab_http.h"
#include "ngx_collab_api.h"
#include "ngx_collab_outbox.h"
#include "ngx_collab_workflow.h"
#include "ngx_collab_sign.h"


static void *ngx_http_collab_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_collab_next_to_database(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf, const char *name, ngx_str_t *path);
static char *ngx_http_collab_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_collab_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_collab_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_collab_database(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_admin_token_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_collab_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_files_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_files_max_per_room(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_collab_files_quota(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_store_max_value(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_collab_retry_schedule(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_collab_webhook_conf(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf);
static char *ngx_http_collab_bounded(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_allow_address(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_collab_workflow_conf(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf);
static ngx_err_t ngx_http_collab_write_test(u_char *name);
static ngx_err_t ngx_http_collab_worker_can_write(ngx_cycle_t *cycle,
    ngx_str_t *dir);
static ngx_int_t ngx_http_collab_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_collab_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_collab_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_collab_init_process(ngx_cycle_t *cycle);
static void ngx_http_collab_exit_master(ngx_cycle_t *cycle);
static void ngx_http_collab_exit_process(ngx_cycle_t *cycle);


#define COLLAB_ZONE_DEFAULT  (16 * 1024 * 1024)
#define COLLAB_TOKEN_MIN     16

#define COLLAB_FILES_PER_ROOM_DEFAULT  1000
#define COLLAB_FILES_QUOTA_DEFAULT     ((off_t) 1024 * 1024 * 1024)
#define COLLAB_STORE_VALUE_DEFAULT     (64 * 1024)
#define COLLAB_STORE_VALUE_MAX         (16 * 1024 * 1024)


/* a directive's value: its kind and the range it must be in */
typedef enum {
    COLLAB_CONF_NUMBER = 0,
    COLLAB_CONF_SIZE,
    COLLAB_CONF_MSEC,
    COLLAB_CONF_SEC
} ngx_http_collab_kind_e;

typedef struct {
    ngx_http_collab_kind_e      kind;
    int64_t                     min;
    int64_t                     max;
    const char                 *range;
} ngx_http_collab_bounds_t;


static ngx_http_collab_bounds_t  ngx_http_collab_runners_bounds =
    { COLLAB_CONF_NUMBER, 1, COLLAB_RUNNERS_MAX, "a number from 1 to 64" };

static ngx_http_collab_bounds_t  ngx_http_collab_concurrency_bounds =
    { COLLAB_CONF_NUMBER, 1, 100000, "a number from 1 to 100000" };

static ngx_http_collab_bounds_t  ngx_http_collab_timeout_bounds =
    { COLLAB_CONF_MSEC, 1, 24 * 3600 * 1000LL, "a time from 1ms to 24h" };

static ngx_http_collab_bounds_t  ngx_http_collab_memory_bounds =
    { COLLAB_CONF_SIZE, 1024 * 1024, 16LL * 1024 * 1024 * 1024,
      "a size from 1m to 16g" };

static ngx_http_collab_bounds_t  ngx_http_collab_fetches_bounds =
    { COLLAB_CONF_NUMBER, 0, 100000, "a number from 0 to 100000" };

static ngx_http_collab_bounds_t  ngx_http_collab_fetch_size_bounds =
    { COLLAB_CONF_SIZE, 1, 1024LL * 1024 * 1024, "a size from 1 to 1g" };

static ngx_http_collab_bounds_t  ngx_http_collab_output_bounds =
    { COLLAB_CONF_SIZE, 16, 64LL * 1024 * 1024, "a size from 16 to 64m" };

static ngx_http_collab_bounds_t  ngx_http_collab_retention_bounds =
    { COLLAB_CONF_SEC, 0, 10LL * 365 * 24 * 3600,
      "a time from 0 (kept forever) to 3650d" };


static ngx_command_t  ngx_http_collab_commands[] = {

    { ngx_string("collab_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_database,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, thread_pool),
      NULL },

    { ngx_string("collab_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_collab_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_admin_token_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_admin_token_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_collab_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_webhook_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.timeout),
      NULL },

    { ngx_string("collab_webhook_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.connect_timeout),
      NULL },

    { ngx_string("collab_webhook_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.ssl_verify),
      NULL },

    { ngx_string("collab_webhook_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.ssl_trusted_certificate),
      NULL },

    { ngx_string("collab_webhook_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.keepalive),
      NULL },

    { ngx_string("collab_webhook_keepalive_requests"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.keepalive_requests),
      NULL },

    { ngx_string("collab_webhook_keepalive_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.keepalive_timeout),
      NULL },

    { ngx_string("collab_webhook_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.concurrency),
      NULL },

    { ngx_string("collab_webhook_retry_schedule"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_collab_retry_schedule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_webhook_allow_private"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.allow_private),
      NULL },

    { ngx_string("collab_delivery_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, webhook.delivery_retention),
      NULL },

    { ngx_string("collab_workflow_runner"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.runner),
      NULL },

    { ngx_string("collab_workflow_runners"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.runners),
      &ngx_http_collab_runners_bounds },

    { ngx_string("collab_workflow_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.concurrency),
      &ngx_http_collab_concurrency_bounds },

    { ngx_string("collab_workflow_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.timeout),
      &ngx_http_collab_timeout_bounds },

    { ngx_string("collab_workflow_memory"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.memory),
      &ngx_http_collab_memory_bounds },

    { ngx_string("collab_workflow_max_fetches"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.max_fetches),
      &ngx_http_collab_fetches_bounds },

    { ngx_string("collab_workflow_fetch_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.fetch_timeout),
      &ngx_http_collab_timeout_bounds },

    { ngx_string("collab_workflow_fetch_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.fetch_max_size),
      &ngx_http_collab_fetch_size_bounds },

    { ngx_string("collab_workflow_max_logs"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.max_logs),
      &ngx_http_collab_output_bounds },

    { ngx_string("collab_workflow_max_result"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.max_result),
      &ngx_http_collab_output_bounds },

    { ngx_string("collab_workflow_allow_private"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.allow_private),
      NULL },

    { ngx_string("collab_workflow_allow_address"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_collab_allow_address,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_workflow_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.trusted_certificate),
      NULL },

    { ngx_string("collab_execution_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_bounded,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_main_conf_t, workflow.execution_retention),
      &ngx_http_collab_retention_bounds },

    { ngx_string("collab_files_path"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_files_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_files_max_per_room"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_files_max_per_room,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_files_quota"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_files_quota,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_store_max_value"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_collab_store_max_value,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_collab_module_ctx = {
    ngx_http_collab_preconfiguration,      /* preconfiguration */
    ngx_http_collab_postconfiguration,     /* postconfiguration */

    ngx_http_collab_create_main_conf,      /* create main configuration */
    ngx_http_collab_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_collab_create_loc_conf,       /* create location configuration */
    ngx_http_collab_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_collab_module = {
    NGX_MODULE_V1,
    &ngx_http_collab_module_ctx,           /* module context */
    ngx_http_collab_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_collab_init_module,           /* init module */
    ngx_http_collab_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_collab_exit_process,          /* exit process */
    ngx_http_collab_exit_master,           /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * The router walks the API's routes: handed to it here, before any
 * location is parsed and before the metrics module names its routes.
 */
static ngx_int_t
ngx_http_collab_preconfiguration(ngx_conf_t *cf)
{
    ngx_collab_router_set(&ngx_collab_api_routes);

    return NGX_OK;
}


static void *
ngx_http_collab_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_collab_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->database = { 0, NULL };
     *     cmcf->shm_zone = NULL;
     *     cmcf->admin_token_file = { 0, NULL };
     *     cmcf->used = 0;
     *     cmcf->webhook.ssl_trusted_certificate = { 0, NULL };
     *     cmcf->webhook.retry_schedule = NULL;
     *     cmcf->files_path = { 0, NULL };
     */

    cmcf->webhook.timeout = NGX_CONF_UNSET_MSEC;
    cmcf->webhook.connect_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->webhook.ssl_verify = NGX_CONF_UNSET;
    cmcf->webhook.keepalive = NGX_CONF_UNSET_UINT;
    cmcf->webhook.keepalive_requests = NGX_CONF_UNSET_UINT;
    cmcf->webhook.keepalive_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->webhook.concurrency = NGX_CONF_UNSET_UINT;
    cmcf->webhook.allow_private = NGX_CONF_UNSET;
    cmcf->webhook.delivery_retention = NGX_CONF_UNSET;

    cmcf->workflow.runners = NGX_CONF_UNSET_UINT;
    cmcf->workflow.concurrency = NGX_CONF_UNSET_UINT;
    cmcf->workflow.timeout = NGX_CONF_UNSET_MSEC;
    cmcf->workflow.memory = NGX_CONF_UNSET_SIZE;
    cmcf->workflow.max_fetches = NGX_CONF_UNSET_UINT;
    cmcf->workflow.fetch_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->workflow.fetch_max_size = NGX_CONF_UNSET_SIZE;
    cmcf->workflow.max_logs = NGX_CONF_UNSET_SIZE;
    cmcf->workflow.max_result = NGX_CONF_UNSET_SIZE;
    cmcf->workflow.allow_private = NGX_CONF_UNSET;
    cmcf->workflow.execution_retention = NGX_CONF_UNSET;

    cmcf->files_max_per_room = NGX_CONF_UNSET_UINT;
    cmcf->files_quota = NGX_CONF_UNSET;
    cmcf->store_max_value = NGX_CONF_UNSET_SIZE;

    return cmcf;
}


/* a file in the database's folder, NUL-terminated */
static ngx_int_t
ngx_http_collab_next_to_database(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf, const char *name, ngx_str_t *path)
{
    u_char  *p, *last;

    last = cmcf->database.data + cmcf->database.len;
    p = cmcf->database.data;

    while (ngx_strlchr(p, last, '/')) {
        p = ngx_strlchr(p, last, '/') + 1;
    }

    path->len = (p - cmcf->database.data) + ngx_strlen(name);
    path->data = ngx_pnalloc(cf->pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(path->data, "%*s%s%Z", (size_t) (p - cmcf->database.data),
                cmcf->database.data, name);

    return NGX_OK;
}


static char *
ngx_http_collab_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  name;

    if (!cmcf->used) {
        return NGX_CONF_OK;
    }

    if (ngx_http_collab_webhook_conf(cf, cmcf) != NGX_OK
        || ngx_http_collab_workflow_conf(cf, cmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cmcf->database.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"collab_api\" needs \"collab_database\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    /* the store's works run on this pool; "default" needs no directive */
    if (cmcf->thread_pool.len == 0) {
        ngx_str_set(&cmcf->thread_pool, "default");
    }

    if (ngx_thread_pool_add(cf, ngx_strcmp(cmcf->thread_pool.data, "default")
                                == 0 ? NULL : &cmcf->thread_pool)
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

    if (cmcf->shm_zone == NULL) {
        ngx_str_set(&name, "collab");

        cmcf->shm_zone = ngx_collab_shm_add(cf, &name, COLLAB_ZONE_DEFAULT,
                                            cmcf);
        if (cmcf->shm_zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (cmcf->admin_token_file.len == 0
        && ngx_http_collab_next_to_database(cf, cmcf, "admin.token",
                                            &cmcf->admin_token_file)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cmcf->files_path.len == 0
        && ngx_http_collab_next_to_database(cf, cmcf, "files",
                                            &cmcf->files_path)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(cmcf->files_max_per_room,
                             COLLAB_FILES_PER_ROOM_DEFAULT);
    ngx_conf_init_value(cmcf->files_quota, COLLAB_FILES_QUOTA_DEFAULT);
    ngx_conf_init_size_value(cmcf->store_max_value,
                             COLLAB_STORE_VALUE_DEFAULT);

    return NGX_CONF_OK;
}


/*
 * Reads the admin token, or creates the file with a fresh random token
 * (mode 0600) when it does not exist.  Only the token's hash is kept.
 * Runs in the master when the zone is set up, after the database folder
 * exists, on every start and reload.
 */
ngx_int_t
ngx_collab_admin_token_load(ngx_http_collab_main_conf_t *cmcf, ngx_log_t *log)
{
    u_char      *p, *last;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_str_t    token;
    ngx_file_t   file;
    u_char       buf[512];
    char         fresh[COLLAB_ID_MAX + 8];

    fd = ngx_open_file(cmcf->admin_token_file.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
        fd = ngx_open_file(cmcf->admin_token_file.data, NGX_FILE_WRONLY,
                           NGX_FILE_CREATE_OR_OPEN|O_EXCL, 0600);
        if (fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                               "collab_admin_token_file: cannot create "
                               "\"%V\"", &cmcf->admin_token_file);
            return NGX_ERROR;
        }

        n = collab_id_new(fresh, "cadm_");
        fresh[n++] = '\n';

        if (write(fd, fresh, n) != n) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                               "collab_admin_token_file: cannot write "
                               "\"%V\"", &cmcf->admin_token_file);
            ngx_close_file(fd);
            return NGX_ERROR;
        }

        ngx_close_file(fd);

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                           "collab: admin token written to \"%V\"",
                           &cmcf->admin_token_file);

        fd = ngx_open_file(cmcf->admin_token_file.data, NGX_FILE_RDONLY,
                           NGX_FILE_OPEN, 0);
    }

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                           "collab_admin_token_file: cannot open \"%V\"",
                           &cmcf->admin_token_file);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = cmcf->admin_token_file;
    file.log = log;

    n = ngx_read_file(&file, buf, sizeof(buf), 0);
    ngx_close_file(fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    p = buf;
    last = buf + n;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t'
                        || last[-1] == '\r' || last[-1] == '\n'))
    {
        last--;
    }

    token.data = p;
    token.len = last - p;

    if (token.len < COLLAB_TOKEN_MIN || n == sizeof(buf)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                           "collab_admin_token_file: \"%V\" must hold one "
                           "token of %d to 500 characters",
                           &cmcf->admin_token_file, COLLAB_TOKEN_MIN);
        return NGX_ERROR;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                               "collab_admin_token_file: the token in \"%V\" "
                               "has a character that is not printable ASCII",
                               &cmcf->admin_token_file);
            return NGX_ERROR;
        }
    }

    collab_sha256(token.data, token.len, cmcf->admin_hash);
    cmcf->admin_set = 1;

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


/* creates and removes a file of that name: 0, or the error */
static ngx_err_t
ngx_http_collab_write_test(u_char *name)
{
    ngx_fd_t  fd;

    fd = ngx_open_file(name, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN|O_EXCL,
                       0600);
    if (fd == NGX_INVALID_FILE) {
        return ngx_errno;
    }

    (void) ngx_close_file(fd);

    if (ngx_delete_file(name) == NGX_FILE_ERROR) {
        return ngx_errno;
    }

    return 0;
}


/*
 * Can the worker processes create files in the folder?  Asked of a child
 * process that takes the workers' user and groups, as a worker does,
 * since only the kernel knows (modes, ACLs, read-only mounts, immutable
 * folders); without a user to switch to, this process asks itself.
 */
static ngx_err_t
ngx_http_collab_worker_can_write(ngx_cycle_t *cycle, ngx_str_t *dir)
{
    int               status;
    ngx_pid_t         pid;
    ngx_err_t         err;
    ngx_core_conf_t  *ccf;
    u_char            name[NGX_MAX_PATH];

    if (dir->len + sizeof("/.collab-write-test.") + NGX_INT64_LEN
        > sizeof(name))
    {
        return NGX_ENAMETOOLONG;
    }

    ngx_sprintf(name, "%V/.collab-write-test.%P%Z", dir, ngx_pid);

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || !ccf->master
        || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT)
    {
        return ngx_http_collab_write_test(name);
    }

    pid = fork();

    if (pid == -1) {
        return ngx_errno;
    }

    if (pid == 0) {
        if (setgid(ccf->group) == -1
            || initgroups(ccf->username, ccf->group) == -1
            || setuid(ccf->user) == -1)
        {
            _exit(ngx_errno & 0xff);
        }

        _exit(ngx_http_collab_write_test(name) & 0xff);
    }

    while (waitpid(pid, &status, 0) == -1) {
        err = ngx_errno;

        if (err != NGX_EINTR) {
            return err;
        }
    }

    if (!WIFEXITED(status)) {
        return NGX_EPERM;
    }

    return WEXITSTATUS(status);
}


/*
 * The workers write the database's folder (SQLite's write-ahead log and
 * shared-memory index) and the files folder.  A folder they cannot write
 * would start a server that answers 503 to every write, so the start
 * fails instead; "nginx -t", often run elsewhere or as another user,
 * only warns.  Runs in the master after both folders are prepared.
 */
ngx_int_t
ngx_collab_data_check(ngx_cycle_t *cycle, ngx_http_collab_main_conf_t *cmcf,
    ngx_log_t *log)
{
    u_char      *p;
    ngx_err_t    err;
    ngx_str_t    dirs[2];
    ngx_uint_t   i, level;

    level = ngx_test_config ? NGX_LOG_WARN : NGX_LOG_EMERG;

    dirs[0] = cmcf->database;

    p = dirs[0].data + dirs[0].len;

    while (p > dirs[0].data && p[-1] != '/') {
        p--;
    }

    dirs[0].len = (p > dirs[0].data + 1) ? (size_t) (p - dirs[0].data - 1)
                                         : (size_t) (p - dirs[0].data);

    if (dirs[0].len == 0) {
        ngx_str_set(&dirs[0], ".");
    }

    dirs[1] = cmcf->files_path;

    for (i = 0; i < 2; i++) {
        err = ngx_http_collab_worker_can_write(cycle, &dirs[i]);

        if (err == 0) {
            continue;
        }

        ngx_log_error(level, log, err,
                      "collab: the worker processes cannot write to "
                      "\"%V\", the %s folder", &dirs[i],
                      i == 0 ? "database" : "files");

        if (!ngx_test_config) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void *
ngx_http_collab_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_collab_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_collab_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->api = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_collab_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_collab_loc_conf_t *prev = parent;
    ngx_http_collab_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_database(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  *value;

    if (cmcf->database.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    cmcf->database = value[1];

    if (cmcf->database.len == 0
        || cmcf->database.data[cmcf->database.len - 1] == '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_database: \"%V\" is not a file path",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &cmcf->database, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (cmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone: invalid zone name \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone: invalid size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone: zone \"%V\" of size \"%V\" is too "
                           "small, at least %uzk", &value[1], &value[2],
                           8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    cmcf->shm_zone = ngx_collab_shm_add(cf, &value[1], size, cmcf);
    if (cmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_admin_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  *value;

    if (cmcf->admin_token_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_admin_token_file: \"%V\" is not a file "
                           "path", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->admin_token_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &cmcf->admin_token_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_collab_main_conf_t  *cmcf;

    if (lcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lcf->api = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_collab_handler;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_collab_module);
    cmcf->used = 1;

    return NGX_CONF_OK;
}


/* collab_webhook_retry_schedule 5s 5m 30m 2h 5h 10h 10h; */
static char *
ngx_http_collab_retry_schedule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t   *value;
    ngx_msec_t  *d, t;
    ngx_uint_t   i;

    if (cmcf->webhook.retry_schedule) {
        return "is duplicate";
    }

    value = cf->args->elts;

    cmcf->webhook.retry_schedule = ngx_array_create(cf->pool,
                                                    cf->args->nelts - 1,
                                                    sizeof(ngx_msec_t));
    if (cmcf->webhook.retry_schedule == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        t = ngx_parse_time(&value[i], 0);

        if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "collab_webhook_retry_schedule: invalid "
                               "delay \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        d = ngx_array_push(cmcf->webhook.retry_schedule);
        if (d == NULL) {
            return NGX_CONF_ERROR;
        }

        *d = t;
    }

    return NGX_CONF_OK;
}


/* defaults of the collab_webhook_* directives, the TLS context, resolver */
static ngx_int_t
ngx_http_collab_webhook_conf(ngx_conf_t *cf, ngx_http_collab_main_conf_t *cmcf)
{
    ngx_uint_t                  i;
    ngx_msec_t                 *d;
    ngx_http_conf_ctx_t        *ctx;
    ngx_pool_cleanup_t         *cln;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_collab_webhook_conf_t  *wc;

    /* Svix's schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h */
    static ngx_msec_t  schedule[] = {
        5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000
    };

    wc = &cmcf->webhook;

    ngx_conf_init_msec_value(wc->timeout, 15000);
    ngx_conf_init_msec_value(wc->connect_timeout, 10000);
    ngx_conf_init_value(wc->ssl_verify, 1);
    ngx_conf_init_uint_value(wc->keepalive, 32);
    ngx_conf_init_uint_value(wc->keepalive_requests, 1000);
    ngx_conf_init_msec_value(wc->keepalive_timeout, 60000);
    ngx_conf_init_uint_value(wc->concurrency, 16);
    ngx_conf_init_value(wc->allow_private, 0);
    ngx_conf_init_value(wc->delivery_retention, 30 * 24 * 3600);

    if (wc->concurrency == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_webhook_concurrency must be at least 1");
        return NGX_ERROR;
    }

    if (wc->keepalive_requests == 0) {
        wc->keepalive = 0;
    }

    if (wc->retry_schedule == NULL) {
        wc->retry_schedule = ngx_array_create(cf->pool, 7,
                                              sizeof(ngx_msec_t));
        if (wc->retry_schedule == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < sizeof(schedule) / sizeof(schedule[0]); i++) {
            d = ngx_array_push(wc->retry_schedule);
            if (d == NULL) {
                return NGX_ERROR;
            }

            *d = schedule[i];
        }
    }

    ctx = (ngx_http_conf_ctx_t *) cf->ctx;
    clcf = ctx->loc_conf[ngx_http_core_module.ctx_index];

    wc->resolver = clcf->resolver;
    wc->resolver_timeout = clcf->resolver_timeout;

#if (NGX_SSL)
    {
    ngx_ssl_t  *ssl;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_ERROR;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (wc->ssl_trusted_certificate.len == 0) {
        ngx_str_set(&wc->ssl_trusted_certificate,
                    "/etc/ssl/certs/ca-certificates.crt");

        if (ngx_file_info(wc->ssl_trusted_certificate.data, &(ngx_file_info_t)
                          { 0 })
            == NGX_FILE_ERROR)
        {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "collab: no CA bundle at \"%V\": webhooks "
                               "to https endpoints will fail verification; "
                               "set collab_webhook_ssl_trusted_certificate",
                               &wc->ssl_trusted_certificate);
            wc->ssl_trusted_certificate.len = 0;
        }
    }

    if (wc->ssl_trusted_certificate.len
        && ngx_ssl_trusted_certificate(cf, ssl, &wc->ssl_trusted_certificate,
                                       10)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    wc->ssl = ssl;
    }
#else
    (void) cln;
#endif

    return NGX_OK;
}


/*
 * A number, size or time in a range (cmd->post): a value out of it fails
 * "nginx -t" with the directive and the value named.
 */
static char *
ngx_http_collab_bounded(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    int64_t                    v;
    ngx_str_t                 *value;
    ngx_http_collab_bounds_t  *b;

    b = cmd->post;
    value = cf->args->elts;
    p += cmd->offset;

    switch (b->kind) {

    case COLLAB_CONF_NUMBER:
        if (*(ngx_uint_t *) p != NGX_CONF_UNSET_UINT) {
            return "is duplicate";
        }

        v = ngx_atoi(value[1].data, value[1].len);
        break;

    case COLLAB_CONF_SIZE:
        if (*(size_t *) p != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        v = ngx_parse_offset(&value[1]);
        break;

    case COLLAB_CONF_MSEC:
        if (*(ngx_msec_t *) p != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        {
        ngx_msec_t  ms;

        ms = ngx_parse_time(&value[1], 0);
        v = (ms == (ngx_msec_t) NGX_ERROR) ? -1 : (int64_t) ms;
        }
        break;

    default: /* COLLAB_CONF_SEC */
        if (*(time_t *) p != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        v = ngx_parse_time(&value[1], 1);
        break;
    }

    if (v < 0 || v < b->min || v > b->max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: invalid value \"%V\", must be %s",
                           &cmd->name, &value[1], b->range);
        return NGX_CONF_ERROR;
    }

    switch (b->kind) {

    case COLLAB_CONF_NUMBER:
        *(ngx_uint_t *) p = (ngx_uint_t) v;
        break;

    case COLLAB_CONF_SIZE:
        *(size_t *) p = (size_t) v;
        break;

    case COLLAB_CONF_MSEC:
        *(ngx_msec_t *) p = (ngx_msec_t) v;
        break;

    default:
        *(time_t *) p = (time_t) v;
        break;
    }

    return NGX_CONF_OK;
}


/*
 * collab_workflow_allow_address 127.0.0.1 10.1.0.0/16 ...; addresses that
 * workflows' fetch() may reach even though they are private
 */
static char *
ngx_http_collab_allow_address(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value, *a;
    ngx_uint_t   i;
    ngx_cidr_t   cidr;

    value = cf->args->elts;

    if (cmcf->workflow.allow_addresses == NULL) {
        cmcf->workflow.allow_addresses = ngx_array_create(cf->pool, 4,
                                                          sizeof(ngx_str_t));
        if (cmcf->workflow.allow_addresses == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {
        rc = ngx_ptocidr(&value[i], &cidr);

        if (rc == NGX_ERROR
            || cmcf->workflow.allow_addresses->nelts == 16)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "collab_workflow_allow_address: invalid "
                               "value \"%V\", must be an address or a "
                               "network (address/bits), 16 at most",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        a = ngx_array_push(cmcf->workflow.allow_addresses);
        if (a == NULL) {
            return NGX_CONF_ERROR;
        }

        *a = value[i];
    }

    return NGX_CONF_OK;
}


/* defaults of the collab_workflow_* directives; the runner found */
static ngx_int_t
ngx_http_collab_workflow_conf(ngx_conf_t *cf,
    ngx_http_collab_main_conf_t *cmcf)
{
    ngx_collab_workflow_conf_t  *wc;

    wc = &cmcf->workflow;

    ngx_conf_init_uint_value(wc->runners, 1);
    ngx_conf_init_uint_value(wc->concurrency, 512);
    ngx_conf_init_msec_value(wc->timeout, 30000);
    ngx_conf_init_size_value(wc->memory, 128 * 1024 * 1024);
    ngx_conf_init_uint_value(wc->max_fetches, 50);
    ngx_conf_init_msec_value(wc->fetch_timeout, 10000);
    ngx_conf_init_size_value(wc->fetch_max_size, 1024 * 1024);
    ngx_conf_init_size_value(wc->max_logs, 64 * 1024);
    ngx_conf_init_size_value(wc->max_result, 64 * 1024);
    ngx_conf_init_value(wc->allow_private, 0);
    ngx_conf_init_value(wc->execution_retention,
                        cmcf->webhook.delivery_retention);

    if (ngx_collab_runner_path(cf, &wc->runner, &ngx_http_collab_module)
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    /* the CA file of webhooks, unless workflows have their own */
    if (wc->trusted_certificate.len == 0) {
        wc->trusted_certificate = cmcf->webhook.ssl_trusted_certificate;

    } else {
        if (ngx_conf_full_name(cf->cycle, &wc->trusted_certificate, 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (access((char *) wc->trusted_certificate.data, R_OK) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "collab_workflow_trusted_certificate: "
                               "cannot read \"%V\"",
                               &wc->trusted_certificate);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static char *
ngx_http_collab_files_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_str_t  *value;

    if (cmcf->files_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_files_path: \"%V\" is not a folder path",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->files_path = value[1];

    while (cmcf->files_path.len > 1
           && cmcf->files_path.data[cmcf->files_path.len - 1] == '/')
    {
        cmcf->files_path.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &cmcf->files_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_files_max_per_room(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (cmcf->files_max_per_room != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_files_max_per_room: invalid number \"%V\","
                           " must be 1 or more", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->files_max_per_room = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_files_quota(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    off_t       size;
    ngx_str_t  *value;

    if (cmcf->files_quota != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_offset(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_files_quota: invalid size \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->files_quota = size;

    return NGX_CONF_OK;
}


static char *
ngx_http_collab_store_max_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_collab_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (cmcf->store_max_value != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_size(&value[1]);

    if (size < 1 || size > COLLAB_STORE_VALUE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_store_max_value: invalid size \"%V\", "
                           "must be 1 to 16m", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->store_max_value = size;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_collab_postconfiguration(ngx_conf_t *cf)
{
    return ngx_http_collab_filter_init(cf);
}


/*
 * In the master, once the new cycle is certain (not in "nginx -t"): the
 * database is created or migrated, the files are checked against it on a
 * first start, the admin token is read, and the registry zone is taken
 * into use, filled from the database when it is new.  A first start fails
 * when any of this fails; a reload cannot be undone this late, so it goes
 * on with an alert, and its workers answer 503 in collab locations.
 */
static ngx_int_t
ngx_http_collab_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                    start;
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_collab_module);

    if (cmcf == NULL || !cmcf->used || ngx_test_config) {
        return NGX_OK;
    }

    start = ngx_is_init_cycle(cycle->old_cycle);

    if (ngx_collab_db_prepare(cycle, &cmcf->database, cycle->log) == NGX_OK
        && ngx_collab_files_prepare(cycle, cmcf, start, cycle->log) == NGX_OK
        && ngx_collab_data_check(cycle, cmcf, cycle->log) == NGX_OK
        && ngx_collab_admin_token_load(cmcf, cycle->log) == NGX_OK
        && ngx_collab_shm_start(cmcf->shm_zone) == NGX_OK)
    {
        return NGX_OK;
    }

    if (start) {
        return NGX_ERROR;
    }

    /* the zone of this cycle is the one to use, whatever its contents */
    (void) ngx_collab_shm_start(cmcf->shm_zone);

    ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                  "collab: the database of the new configuration could not "
                  "be set up; collab locations answer 503");

    return NGX_OK;
}


static ngx_int_t
ngx_http_collab_init_process(ngx_cycle_t *cycle)
{
    ngx_http_collab_main_conf_t  *cmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_collab_module);

    if (cmcf == NULL || !cmcf->used) {
        return NGX_OK;
    }

    /*
     * A worker that cannot open the database still serves, answering 503
     * in the API locations, so that the rest of the server is unharmed.
     */
    if (ngx_collab_db_open(cycle, &cmcf->database) == NGX_OK
        && ngx_collab_store_init(cycle, &cmcf->database, &cmcf->thread_pool)
           == NGX_OK)
    {
        (void) ngx_collab_outbox_init(cycle, cmcf);
        (void) ngx_collab_executions_init(cycle, cmcf);
        (void) ngx_collab_sender_init(cycle, cmcf);
        (void) ngx_collab_dispatch_init(cycle, cmcf);
        (void) ngx_collab_wal_init(cycle, cmcf);

    } else {
        ngx_collab_db_close();
    }

    return NGX_OK;
}


static void
ngx_http_collab_exit_process(ngx_cycle_t *cycle)
{
    ngx_collab_sender_exit();
    ngx_collab_dispatch_exit();
    ngx_collab_executions_exit();
    ngx_collab_outbox_exit();
    ngx_collab_wal_exit();
    ngx_collab_store_exit();
    ngx_collab_db_close();
    collab_sign_cleanup();
    collab_id_cleanup();
}


static void
ngx_http_collab_exit_master(ngx_cycle_t *cycle)
{
    collab_sign_cleanup();
    collab_id_cleanup();
}
