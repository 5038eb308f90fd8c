/*
 * Copyright (C) collab
 *
 * The presence module: the collab_presence_* directives and the zone;
 * its init_process starts the presence layer of the worker (presence/)
 * and the routes' part of it (api/ngx_collab_presence_api.c).
 *
 * It is a module of its own, in the same shared object as
 * ngx_http_collab_module, after it: the database is open when its
 * init_process runs.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"


#define COLLAB_PRESENCE_ZONE_DEFAULT   (32 * 1024 * 1024)
#define COLLAB_PRESENCE_ZONE_MIN       (4 * 1024 * 1024)


static void *ngx_http_collab_presence_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_collab_presence_init_main_conf(ngx_conf_t *cf,
    void *conf);
static char *ngx_http_collab_presence_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_collab_presence_init_process(ngx_cycle_t *cycle);
static void ngx_http_collab_presence_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_collab_presence_commands[] = {

    { ngx_string("collab_presence_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_collab_presence_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_presence_grace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_presence_main_conf_t, grace),
      NULL },

    { ngx_string("collab_presence_heartbeat"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_collab_presence_main_conf_t, heartbeat),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_collab_presence_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_collab_presence_create_main_conf,
                                           /* create main configuration */
    ngx_http_collab_presence_init_main_conf,
                                           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_collab_presence_module = {
    NGX_MODULE_V1,
    &ngx_http_collab_presence_module_ctx,  /* module context */
    ngx_http_collab_presence_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_collab_presence_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_collab_presence_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_collab_presence_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_collab_presence_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_collab_presence_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->zone = NULL;
     */

    pmcf->grace = NGX_CONF_UNSET_MSEC;
    pmcf->heartbeat = NGX_CONF_UNSET_MSEC;

    return pmcf;
}


static char *
ngx_http_collab_presence_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_collab_presence_main_conf_t *pmcf = conf;

    ngx_str_t                     name;
    ngx_http_collab_main_conf_t  *cmcf;

    ngx_conf_init_msec_value(pmcf->grace, 5000);
    ngx_conf_init_msec_value(pmcf->heartbeat, 15000);

    if (pmcf->heartbeat < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_presence_heartbeat must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (pmcf->grace > 3600000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_presence_grace must be at most 1h");
        return NGX_CONF_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_collab_module);

    if (!cmcf->used || pmcf->zone) {
        return NGX_CONF_OK;
    }

    ngx_str_set(&name, "collab_presence");

    pmcf->zone = ngx_collab_presence_zone_add(cf, &name,
                                              COLLAB_PRESENCE_ZONE_DEFAULT);

    return pmcf->zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/* collab_presence_zone name size; */
static char *
ngx_http_collab_presence_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_presence_main_conf_t *pmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (pmcf->zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_presence_zone: invalid zone name \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_presence_zone: invalid size \"%V\"",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < COLLAB_PRESENCE_ZONE_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_presence_zone: zone \"%V\" of size \"%V\" "
                           "is too small, at least %uzm", &value[1],
                           &value[2],
                           (size_t) COLLAB_PRESENCE_ZONE_MIN / 1024 / 1024);
        return NGX_CONF_ERROR;
    }

    pmcf->zone = ngx_collab_presence_zone_add(cf, &value[1], size);
    if (pmcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_collab_presence_init_process(ngx_cycle_t *cycle)
{
    ngx_http_collab_main_conf_t           *cmcf;
    ngx_http_collab_presence_main_conf_t  *pmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_collab_module);
    pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_collab_presence_module);

    /* a worker without its database or presence still serves the rest */
    if (cmcf == NULL || !cmcf->used || pmcf->zone == NULL
        || ngx_collab_db_handle() == NULL
        || ngx_collab_presence_worker_init(cycle, pmcf) != NGX_OK)
    {
        return NGX_OK;
    }

    ngx_collab_presence_api_init();

    return NGX_OK;
}


static void
ngx_http_collab_presence_exit_process(ngx_cycle_t *cycle)
{
    ngx_collab_presence_worker_exit();
}
