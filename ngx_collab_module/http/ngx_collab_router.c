/*
 * Copyright (C) collab
 *
 * Routing: walks the table of routes that the layer above registers at
 * configuration (ngx_collab_router_set(); the API's is in
 * api/ngx_collab_routes.c).  Paths are matched segment by segment on the
 * raw request target, each segment percent-decoded on its own, starting
 * after the "v1" segment (so that the API can sit under any location
 * prefix); a trailing "*" takes the rest of the path as it was sent.
 */

#include "ngx_collab.h"
#include "ngx_collab_http.h"


#define COLLAB_MAX_SEGMENTS  12


typedef struct {
    ngx_str_t   raw;                /* as sent */
    ngx_str_t   value;              /* percent-decoded; NULL if it cannot be */
} ngx_collab_seg_t;


/* the table registered; static data that outlives every cycle */
static const ngx_collab_route_table_t  *ngx_collab_table;


static const char *
ngx_collab_method_name(ngx_uint_t method)
{
    switch (method & COLLAB_METHOD_MASK) {
    case NGX_HTTP_GET:
        return "GET";
    case NGX_HTTP_POST:
        return "POST";
    case NGX_HTTP_PUT:
        return "PUT";
    case NGX_HTTP_PATCH:
        return "PATCH";
    default:
        return "DELETE";
    }
}


/* is the segment "." or "..", in any spelling ("%2e", "%2E.")? */
static ngx_uint_t
ngx_collab_dot_segment(u_char *p, u_char *last)
{
    ngx_uint_t  dots;

    for (dots = 0; p < last; dots++) {

        if (*p == '.') {
            p++;

        } else if (last - p >= 3 && p[0] == '%' && p[1] == '2'
                   && (p[2] == 'e' || p[2] == 'E'))
        {
            p += 3;

        } else {
            return 0;
        }
    }

    return dots == 1 || dots == 2;
}


/*
 * Splits the path after "v1" into segments and percent-decodes each one;
 * a segment that does not decode (a bad escape, NUL) gets no value.  Past
 * COLLAB_MAX_SEGMENTS segments *more is set: only a "*" route can match.
 * *dot is the first "." or ".." segment anywhere in the path, or NULL:
 * nginx resolves those for location matching, the API takes them for
 * nothing.  NGX_DECLINED if it is not an API path.
 */
static ngx_int_t
ngx_collab_split(ngx_http_request_t *r, ngx_collab_seg_t *seg,
    ngx_uint_t *nseg, ngx_uint_t *more, u_char **end, u_char **dot)
{
    u_char     *p, *last, *start, *dst, c;
    ngx_str_t   path;
    ngx_uint_t  n, found;

    if (r->valid_unparsed_uri && !r->internal) {
        path = r->unparsed_uri;

        p = ngx_strlchr(path.data, path.data + path.len, '?');
        if (p) {
            path.len = p - path.data;
        }

    } else {
        path = r->uri;
    }

    p = path.data;
    last = path.data + path.len;
    n = 0;
    found = 0;
    *more = 0;
    *end = last;
    *dot = NULL;

    if (p == last || *p != '/') {
        return NGX_DECLINED;
    }

    while (p < last) {
        start = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        if (*dot == NULL && ngx_collab_dot_segment(start, p)) {
            *dot = start;
        }

        if (!found) {
            found = (p - start == 2 && start[0] == 'v' && start[1] == '1');
            continue;
        }

        if (n == COLLAB_MAX_SEGMENTS) {
            *more = 1;
            continue;
        }

        seg[n].raw.data = start;
        seg[n].raw.len = p - start;

        dst = ngx_pnalloc(r->pool, p - start + 1);
        if (dst == NULL) {
            return NGX_ERROR;
        }

        seg[n].value.data = dst;

        while (start < p) {
            c = *start++;

            if (c == '%') {
                if (p - start < 2 || !isxdigit(start[0])
                    || !isxdigit(start[1]))
                {
                    seg[n].value.data = NULL;
                    break;
                }

                c = (u_char) ((ngx_hextoi(start, 1) << 4)
                              | ngx_hextoi(start + 1, 1));
                start += 2;

                if (c == '\0') {
                    seg[n].value.data = NULL;
                    break;
                }
            }

            *dst++ = c;
        }

        seg[n].value.len = seg[n].value.data ? dst - seg[n].value.data : 0;

        n++;
    }

    *nseg = n;

    return found && n > 0 ? NGX_OK : NGX_DECLINED;
}


/* the route and its parameters, in the debug log */
static void
ngx_collab_route_log(ngx_http_request_t *r, ngx_collab_req_t *cr)
{
#if (NGX_DEBUG)
    ngx_uint_t  i;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab route: %V \"%s\", %ui params",
                   &r->method_name, cr->route->pattern, cr->nparams);

    for (i = 0; i < cr->nparams; i++) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab route: param %ui: \"%V\"", i, &cr->params[i]);
    }
#endif
}


/* does the pattern end with "*", the rest of the path? */
static ngx_uint_t
ngx_collab_takes_rest(const ngx_collab_route_t *rt)
{
    size_t  len;

    len = ngx_strlen(rt->pattern);

    return len > 0 && rt->pattern[len - 1] == '*';
}


/*
 * Matches one pattern against the segments, filling cr->params: a word
 * and ":" need a non-empty segment that decodes, "*" takes the raw rest.
 * One pass over the pattern: most routes fail on their first segments.
 */
static ngx_uint_t
ngx_collab_match(const char *pat, ngx_collab_seg_t *seg, ngx_uint_t nseg,
    ngx_uint_t more, u_char *end, ngx_collab_req_t *cr)
{
    size_t      i;
    ngx_str_t  *v;
    ngx_uint_t  k, np;

    np = 0;

    for (k = 0; *pat != '\0'; k++) {

        if (k == nseg) {
            return 0;
        }

        if (pat[0] == '*' && pat[1] == '\0') {
            cr->params[np].data = seg[k].raw.data;
            cr->params[np].len = end - seg[k].raw.data;
            cr->nparams = np + 1;
            return 1;
        }

        v = &seg[k].value;

        if (v->len == 0) {
            return 0;
        }

        if (pat[0] == ':' && (pat[1] == '/' || pat[1] == '\0')) {
            cr->params[np++] = *v;
            pat++;

        } else {
            /* a decoded "/" in the segment never matches the pattern's */
            for (i = 0;
                 i < v->len && pat[i] != '/' && pat[i] == (char) v->data[i];
                 i++)
            {
                /* void */
            }

            if (i != v->len || (pat[i] != '/' && pat[i] != '\0')) {
                return 0;
            }

            pat += i;
        }

        if (*pat == '/') {
            pat++;
        }
    }

    if (k != nseg || more) {
        return 0;
    }

    cr->nparams = np;

    return 1;
}


/*
 * Finds the route: NGX_OK with cr->route, cr->method and cr->params set,
 * NGX_HTTP_NOT_FOUND, NGX_HTTP_NOT_ALLOWED with the Allow value, or
 * NGX_HTTP_BAD_REQUEST with cr->err set.  A "." or ".." segment is
 * refused, unless it is in the rest of the path that a "*" takes (a file
 * name), whose check refuses it with the field named.
 */
ngx_int_t
ngx_collab_route(ngx_http_request_t *r, ngx_collab_req_t *cr,
    ngx_str_t *allow)
{
    u_char                          *p, *end, *dot;
    ngx_int_t                        rc;
    ngx_uint_t                       nseg, more, i, k, method;
    ngx_collab_seg_t                 seg[COLLAB_MAX_SEGMENTS];
    const ngx_collab_route_t        *rt;
    const ngx_collab_route_table_t  *tbl;

    rc = ngx_collab_split(r, seg, &nseg, &more, &end, &dot);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED && dot == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab route: not an API path");
        return NGX_HTTP_NOT_FOUND;
    }

    method = (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;
    tbl = ngx_collab_table;

    for (i = 0; rc == NGX_OK && i < tbl->nroutes; i++) {
        rt = &tbl->routes[i];

        if (!ngx_collab_match(rt->pattern, seg, nseg, more, end, cr)) {
            continue;
        }

        if (dot && !(ngx_collab_takes_rest(rt)
                     && dot >= cr->params[cr->nparams - 1].data))
        {
            break;
        }

        cr->route = rt;

        for (k = 0; k < 4 && rt->methods[k].handler; k++) {
            if ((rt->methods[k].method & COLLAB_METHOD_MASK) != method) {
                continue;
            }

            cr->method = &rt->methods[k];
            cr->prepare = NULL;

            for (i = 0; i < tbl->nprepares; i++) {
                if (tbl->prepares[i].handler == cr->method->handler) {
                    cr->prepare = tbl->prepares[i].prepare;
                    break;
                }
            }

            ngx_collab_route_log(r, cr);

            return NGX_OK;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab route: \"%s\" has no method %V",
                       rt->pattern, &r->method_name);

        p = ngx_pnalloc(r->pool, 64);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        allow->data = p;

        for (k = 0; k < 4 && rt->methods[k].handler; k++) {
            p = ngx_sprintf(p, "%s%s", k ? ", " : "",
                            ngx_collab_method_name(rt->methods[k].method));

            if ((rt->methods[k].method & COLLAB_METHOD_MASK) == NGX_HTTP_GET)
            {
                p = ngx_sprintf(p, ", HEAD");
            }
        }

        allow->len = p - allow->data;

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (dot) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab: a dot segment in the path");

        (void) ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, NULL,
                                 "the path must not have a \".\" or \"..\" "
                                 "segment");
        return NGX_HTTP_BAD_REQUEST;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab route: no route matches %ui segments", nseg);

    return NGX_HTTP_NOT_FOUND;
}


/*
 * The table to walk, set once at configuration, before any location is
 * parsed: the router names no handler itself.
 */
void
ngx_collab_router_set(const ngx_collab_route_table_t *table)
{
    ngx_collab_table = table;
}


/* the table, for those who count by route (metrics); NULL before it is set */
const ngx_collab_route_t *
ngx_collab_route_table(ngx_uint_t *n)
{
    if (ngx_collab_table == NULL) {
        *n = 0;
        return NULL;
    }

    *n = ngx_collab_table->nroutes;

    return ngx_collab_table->routes;
}
