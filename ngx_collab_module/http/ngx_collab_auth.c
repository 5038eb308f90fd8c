/*
 * Copyright (C) collab
 *
 * Who is calling and what they may touch.  "Authorization: Bearer <token>"
 * is either the admin token (compared by hash, in constant time) or an
 * account key, looked up by its SHA-256 in the shm registry.  A small
 * per-worker cache, keyed by the registry's generation, saves the zone's
 * lock on the hot path; any change in any worker empties it at once.
 *
 * Both checks answer NGX_OK, or NGX_ERROR with cr->err saying why; a
 * route under an account or a room also needs that account (room) to
 * exist.
 */

#include "ngx_collab.h"

#include <openssl/crypto.h>


#define COLLAB_AUTH_CACHE  64


static const char  ngx_collab_sql_account_exists[] =
    "SELECT 1 FROM accounts WHERE id = ?1";

static const char  ngx_collab_sql_room_exists[] =
    "SELECT 1 FROM rooms WHERE account_id = ?1 AND id = ?2";


typedef struct {
    u_char              hash[COLLAB_HASH_LEN];
    ngx_collab_auth_t   auth;
    ngx_atomic_uint_t   generation;
    ngx_uint_t          valid;
} ngx_collab_auth_cache_t;


static ngx_collab_auth_cache_t  ngx_collab_auth_cache[COLLAB_AUTH_CACHE];


static ngx_int_t
ngx_collab_key_lookup(const u_char *hash, ngx_collab_auth_t *auth)
{
    ngx_atomic_uint_t         gen;
    ngx_collab_auth_cache_t  *c;

    c = &ngx_collab_auth_cache[hash[0] % COLLAB_AUTH_CACHE];

    /* read before the lookup: a change after it makes the entry stale */
    gen = ngx_collab_shm_generation();

    if (c->valid && c->generation == gen
        && ngx_memcmp(c->hash, hash, COLLAB_HASH_LEN) == 0)
    {
        *auth = c->auth;
        return NGX_OK;
    }

    if (ngx_collab_shm_key_find(hash, auth) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_memcpy(c->hash, hash, COLLAB_HASH_LEN);
    c->auth = *auth;
    c->generation = gen;
    c->valid = 1;

    return NGX_OK;
}


ngx_int_t
ngx_collab_authenticate(ngx_collab_req_t *cr)
{
    u_char                       *p, *last;
    ngx_str_t                     token;
    ngx_table_elt_t              *h;
    ngx_http_request_t           *r;
    ngx_http_collab_main_conf_t  *cmcf;
    u_char                        hash[COLLAB_HASH_LEN];

    r = cr->request;
    h = r->headers_in.authorization;

    if (h == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "an Authorization: Bearer token is required");
    }

    p = h->value.data;
    last = p + h->value.len;

    if (h->value.len < 7 || ngx_strncasecmp(p, (u_char *) "Bearer ", 7) != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "the Authorization header must be "
                                 "\"Bearer <token>\"");
    }

    for (p += 7; p < last && *p == ' '; p++) { /* void */ }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    token.data = p;
    token.len = last - p;

    for ( /* void */ ; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            break;
        }
    }

    if (token.len == 0 || p != last) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "the Authorization header must be "
                                 "\"Bearer <token>\"");
    }

    collab_sha256(token.data, token.len, hash);

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_collab_module);

    if (cmcf->admin_set
        && CRYPTO_memcmp(hash, cmcf->admin_hash, COLLAB_HASH_LEN) == 0)
    {
        cr->auth.admin = 1;
        return NGX_OK;
    }

    if (ngx_collab_key_lookup(hash, &cr->auth) == NGX_OK) {
        return NGX_OK;
    }

    return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                             "the token is unknown or has been revoked");
}


/*
 * The route's rule applied to the caller, before any check of the route
 * and before the body is read: who may call it, and that the account and
 * the room of the path exist.
 */
ngx_int_t
ngx_collab_authorize(ngx_collab_req_t *cr)
{
    ngx_int_t   rc;
    ngx_str_t  *account;

    switch (cr->route->auth) {

    case COLLAB_ROUTE_ADMIN:
        if (!cr->auth.admin) {
            return ngx_collab_refuse(cr, NGX_HTTP_FORBIDDEN, NULL,
                                     "this route needs the admin token");
        }

        break;

    case COLLAB_ROUTE_ACCOUNT:
    case COLLAB_ROUTE_ROOM:
        if (cr->auth.admin) {
            break;
        }

        account = &cr->params[0];

        if (account->len != cr->auth.account_len
            || ngx_memcmp(account->data, cr->auth.account, account->len)
               != 0)
        {
            return ngx_collab_refuse(cr, NGX_HTTP_FORBIDDEN, NULL,
                                     "this key belongs to another account");
        }

        break;

    default:
        break;
    }

    /* a live key implies its account: only the admin can name any */
    if (cr->auth.admin && cr->nparams > 0) {
        rc = ngx_collab_account_exists(cr, &cr->params[0]);

        if (rc == NGX_DECLINED) {
            return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND, NULL,
                                     "account not found");
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (cr->route->auth != COLLAB_ROUTE_ROOM) {
        return NGX_OK;
    }

    rc = ngx_collab_room_exists(cr, &cr->params[0], &cr->params[1]);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cr->request->connection->log, 0,
                   "collab: room \"%V\": %i", &cr->params[1], rc);

    if (rc == NGX_DECLINED) {
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND, NULL,
                                 "room not found");
    }

    return rc;
}


/*
 * The lookups of the authorization rules, used by resources too: NGX_OK,
 * NGX_DECLINED when there is no such account (room), or NGX_ERROR with
 * the refusal recorded.
 */
ngx_int_t
ngx_collab_account_exists(ngx_collab_req_t *cr, ngx_str_t *account)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_account_exists);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "account lookup");
    }

    ngx_collab_db_bind_str(st, 1, account);

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        return NGX_OK;
    }

    if (rc == SQLITE_DONE) {
        return NGX_DECLINED;
    }

    return ngx_collab_refuse_db(cr, rc, "account lookup");
}


/*
 * Is room one of the account's rooms?  NGX_OK, NGX_DECLINED if not, or
 * NGX_ERROR with cr->err set.
 */
ngx_int_t
ngx_collab_room_exists(ngx_collab_req_t *cr, ngx_str_t *account,
    ngx_str_t *room)
{
    int            rc;
    sqlite3_stmt  *st;

    st = ngx_collab_db_stmt(ngx_collab_sql_room_exists);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "room lookup");
    }

    ngx_collab_db_bind_str(st, 1, account);
    ngx_collab_db_bind_str(st, 2, room);

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        return NGX_OK;
    }

    if (rc == SQLITE_DONE) {
        return NGX_DECLINED;
    }

    return ngx_collab_refuse_db(cr, rc, "room lookup");
}
