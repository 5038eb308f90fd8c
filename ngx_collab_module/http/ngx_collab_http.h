/*
 * Copyright (C) collab
 *
 * The HTTP request layer (http/): the context of a request handed to the
 * resource handlers, the table of routes that the router walks, and the
 * prototypes of http/'s files.  Included by http/, by api/ (through
 * api/ngx_collab_api.h) and by the module files that serve requests; no
 * layer below names anything of it.
 */

#ifndef _NGX_COLLAB_HTTP_H_INCLUDED_
#define _NGX_COLLAB_HTTP_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_store.h"


/* what a request may carry */
#define COLLAB_MAX_PARAMS       4
#define COLLAB_NAME_MAX         256
#define COLLAB_METADATA_MAX     8192
#define COLLAB_LIMIT_DEFAULT    20
#define COLLAB_LIMIT_MAX        100
#define COLLAB_FILE_NAME_MAX    1024


typedef struct ngx_collab_req_s  ngx_collab_req_t;

typedef ngx_int_t (*ngx_collab_handler_pt)(ngx_collab_req_t *cr);


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


/* ngx_collab_handler.c */
ngx_int_t ngx_http_collab_handler(ngx_http_request_t *r);
void ngx_collab_resume(ngx_collab_req_t *cr, ngx_int_t rc);
ngx_int_t ngx_http_collab_filter_init(ngx_conf_t *cf);

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


#endif /* _NGX_COLLAB_HTTP_H_INCLUDED_ */
