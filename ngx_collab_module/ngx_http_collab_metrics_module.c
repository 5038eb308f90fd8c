/*
 * Copyright (C) collab
 *
 * The metrics module: the collab_metrics_zone directive and each worker's
 * slot in that zone, the collab_metrics location that answers the
 * Prometheus text, and the log phase handler that counts the requests of
 * collab_api locations by route and status class.  The numbers are
 * metrics/ngx_collab_metrics.c's, their text ngx_collab_metrics_prometheus.c's.
 */

#include "ngx_collab.h"
#include "ngx_collab_http.h"
#include "ngx_collab_metrics.h"


#define COLLAB_METRICS_ZONE_DEFAULT  (1024 * 1024)


typedef struct {
    ngx_shm_zone_t             *shm_zone;
    ngx_flag_t                  used;       /* a collab_metrics location */
} ngx_http_collab_metrics_main_conf_t;


static void *ngx_http_collab_metrics_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_collab_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_collab_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_collab_metrics_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_collab_metrics_init_process(ngx_cycle_t *cycle);
static void ngx_http_collab_metrics_exit_process(ngx_cycle_t *cycle);


static const ngx_collab_route_t  *ngx_http_collab_metrics_routes;
static ngx_uint_t                  ngx_http_collab_metrics_nroutes;


static ngx_command_t  ngx_http_collab_metrics_commands[] = {

    { ngx_string("collab_metrics_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_collab_metrics_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("collab_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_collab_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_collab_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_collab_metrics_init,          /* postconfiguration */

    ngx_http_collab_metrics_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_collab_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_collab_metrics_module_ctx,   /* module context */
    ngx_http_collab_metrics_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_collab_metrics_init_process,  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_collab_metrics_exit_process,  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_collab_metrics_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_collab_metrics_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_collab_metrics_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mmcf->shm_zone = NULL;
     *     mmcf->used = 0;
     */

    return mmcf;
}


/* collab_metrics_zone name size; */
static char *
ngx_http_collab_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_collab_metrics_main_conf_t *mmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (mmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_metrics_zone: invalid zone name \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_metrics_zone: invalid size \"%V\"",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (16 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_metrics_zone: zone \"%V\" of size \"%V\" "
                           "is too small, at least %uzk", &value[1],
                           &value[2], 16 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    mmcf->shm_zone = ngx_collab_metrics_zone_add(cf, &value[1], size,
                                           &ngx_http_collab_metrics_module);
    if (mmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_collab_metrics_handler(ngx_http_request_t *r)
{
    off_t                           len;
    ngx_int_t                       rc;
    ngx_chain_t                    *out, *cl;
    ngx_collab_metrics_snapshot_t  *snap;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    snap = ngx_palloc(r->pool, sizeof(ngx_collab_metrics_snapshot_t));
    if (snap == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_collab_metrics_snapshot(r->pool, snap) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = ngx_collab_metrics_prometheus(r->pool, snap);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = out; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab metrics: %O bytes, %ui processes counted",
                   len, snap->processes);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


static char *
ngx_http_collab_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_collab_metrics_main_conf_t  *mmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_collab_metrics_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_collab_metrics_handler;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_collab_metrics_module);
    mmcf->used = 1;

    return NGX_CONF_OK;
}


/* every request of a collab_api location, by route and status class */
static ngx_int_t
ngx_http_collab_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                   route, status;
    ngx_collab_req_t            *cr;
    ngx_http_collab_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_collab_module);

    if (!lcf->api) {
        return NGX_OK;
    }

    cr = ngx_http_get_module_ctx(r, ngx_http_collab_module);

    route = 0;

    if (cr && cr->route >= ngx_http_collab_metrics_routes
        && cr->route < ngx_http_collab_metrics_routes
                       + ngx_http_collab_metrics_nroutes)
    {
        route = cr->route - ngx_http_collab_metrics_routes + 1;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab metrics: route %ui, status %ui", route, status);

    if (status < 100 || status > 599) {
        return NGX_OK;
    }

    ngx_collab_metrics_inc(COLLAB_M_HTTP_REQUESTS + route * COLLAB_M_CLASSES
                           + status / 100 - 1, 1);

    return NGX_OK;
}


/*
 * The zone (a default one when none is configured), the names of the
 * labels, and the request counter, when collab is used at all.  The names
 * are the routes' and events' own static strings: nothing here may point
 * into a cycle's pool, which a failed reload frees.
 */
static ngx_int_t
ngx_http_collab_metrics_init(ngx_conf_t *cf)
{
    ngx_str_t                             name;
    ngx_uint_t                            i, n;
    ngx_http_handler_pt                  *h;
    ngx_http_core_main_conf_t            *hmcf;
    ngx_http_collab_main_conf_t          *cmcf;
    ngx_http_collab_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_collab_metrics_module);
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_collab_module);

    if (!mmcf->used && !cmcf->used) {
        return NGX_OK;
    }

    ngx_http_collab_metrics_routes = ngx_collab_route_table(&n);

    /* the sizes of the metrics' families, for whoever adds routes or events */
    if (n > COLLAB_M_ROUTES || COLLAB_EVENT_COUNT > COLLAB_M_EVENT_TYPES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab: %ui routes and %d event types, metrics "
                           "count %d and %d at most", n, COLLAB_EVENT_COUNT,
                           COLLAB_M_ROUTES, COLLAB_M_EVENT_TYPES);
        return NGX_ERROR;
    }

    ngx_http_collab_metrics_nroutes = n;

    for (i = 0; i < n; i++) {
        ngx_collab_metrics_name_route(i + 1,
                                      ngx_http_collab_metrics_routes[i]
                                      .pattern);
    }

    for (i = 0; i < COLLAB_EVENT_COUNT; i++) {
        ngx_collab_metrics_name_event(i, ngx_collab_event_name(i));
    }

    if (mmcf->shm_zone == NULL) {
        ngx_str_set(&name, "collab_metrics");

        mmcf->shm_zone = ngx_collab_metrics_zone_add(cf, &name,
                                             COLLAB_METRICS_ZONE_DEFAULT,
                                             &ngx_http_collab_metrics_module);
        if (mmcf->shm_zone == NULL) {
            return NGX_ERROR;
        }
    }

    if (!cmcf->used) {
        return NGX_OK;
    }

    hmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&hmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_collab_metrics_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_collab_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_http_collab_metrics_main_conf_t  *mmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_collab_metrics_module);

    if (mmcf == NULL || mmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    /* a worker without a slot serves all the same, uncounted */
    (void) ngx_collab_metrics_slot_take(mmcf->shm_zone, cycle->log);

    return NGX_OK;
}


static void
ngx_http_collab_metrics_exit_process(ngx_cycle_t *cycle)
{
    ngx_collab_metrics_slot_release();
}
