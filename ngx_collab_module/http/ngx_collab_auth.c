/*
 * Copyright (C) collab
 *
 * Who is calling and what they may touch.  "Authorization: Bearer <token>"
 * is either the admin token (compared by hash, in constant time) or an
 * account key, looked up by its SHA-256 in the shm registry.  A small
 * per-worker cache, keyed by the registry's generation, saves the zone's
 * lock on the hot path; any change in any worker empties it at once.
 *
 * The connect route of presence takes a client token instead (ct_...),
 * as a Bearer header or, for browsers' EventSource, as ?token=: signed by
 * the server (core/ngx_collab_ctoken.c), checked without a database read,
 * and good for the account and room it names only.
 *
 * Both checks answer NGX_OK, or NGX_ERROR with cr->err saying why; a
 * route under an account or a room also needs that account (room) to
 * exist.
 */

#include "ngx_collab.h"
#include "ngx_collab_http.h"
#include "ngx_collab_ctoken.h"
#include "ngx_collab_presence_module.h"

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


static ngx_int_t ngx_collab_client_authenticate(ngx_collab_req_t *cr);


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

    if (cr->route->auth == COLLAB_ROUTE_CLIENT) {
        return ngx_collab_client_authenticate(cr);
    }

    r = cr->request;
    h = r->headers_in.authorization;

    if (h == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab auth: no token");
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

    if (token.len > 3 && ngx_strncmp(token.data, "ct_", 3) == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                               "a client token only opens a presence "
                               "connection");
    }

    collab_sha256(token.data, token.len, hash);

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_collab_module);

    if (cmcf->admin_set
        && CRYPTO_memcmp(hash, cmcf->admin_hash, COLLAB_HASH_LEN) == 0)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab auth: the admin token");
        cr->auth.admin = 1;
        return NGX_OK;
    }

    if (ngx_collab_key_lookup(hash, &cr->auth) == NGX_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "collab auth: an account key of \"%*s\"",
                       cr->auth.account_len, cr->auth.account);
        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab auth: an unknown or revoked token");

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

    case COLLAB_ROUTE_CLIENT:
        /* the token names its account and room: checked with it */
        return NGX_OK;

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


/* every copy of the token in what nginx may log is overwritten */
static void
ngx_collab_client_scrub(ngx_str_t *where, u_char *token, size_t len)
{
    u_char  *p, *last;

    if (where->data == NULL || where->len < len || len == 0) {
        return;
    }

    last = where->data + where->len - len;

    for (p = where->data; p <= last; p++) {
        if (*p == token[0] && ngx_memcmp(p, token, len) == 0) {
            ngx_memset(p, '*', len);
            p += len - 1;
        }
    }
}


/*
 * The connect route's authentication: a client token, from the
 * Authorization header or the query string; never an account key.  The
 * token must name the account and the room of the path (no database read
 * checks them: the tokens of a deleted room are revoked).  The user and
 * the time the token was issued go to cr->auth.
 */
static ngx_int_t
ngx_collab_client_authenticate(ngx_collab_req_t *cr)
{
    u_char              *p, *last;
    ngx_int_t            rc;
    ngx_str_t            token, raw;
    const u_char        *key;
    ngx_table_elt_t     *h;
    collab_ctoken_t      t;
    ngx_http_request_t  *r;
    u_char               copy[COLLAB_CTOKEN_MAX];
    u_char               scratch[COLLAB_CTOKEN_PAYLOAD_MAX];

    r = cr->request;
    h = r->headers_in.authorization;

    token.len = 0;

    if (ngx_http_arg(r, (u_char *) "token", 5, &raw) == NGX_OK) {
        /* the query form: out of the logs before anything else */
        token.len = ngx_min(raw.len, sizeof(copy));
        token.data = ngx_cpymem(copy, raw.data, token.len) - token.len;

        ngx_collab_client_scrub(&r->request_line, copy, token.len);
        ngx_collab_client_scrub(&r->unparsed_uri, copy, token.len);
        ngx_collab_client_scrub(&r->args, copy, token.len);

        if (h || raw.len > sizeof(copy)) {
            return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                     "the client token is not valid");
        }

    } else if (h) {
        p = h->value.data;
        last = p + h->value.len;

        if (h->value.len < 7
            || ngx_strncasecmp(p, (u_char *) "Bearer ", 7) != 0)
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
    }

    if (token.len == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "a client token is required, as "
                                 "\"Authorization: Bearer <token>\" or "
                                 "?token=");
    }

    if (token.len > 3 && ngx_strncmp(token.data, "ck_", 3) == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "an account key cannot connect; "
                                 "use a client token of the user");
    }

    key = ngx_collab_presence_token_key();

    if (key == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "presence is not available");
    }

    rc = collab_ctoken_verify(token.data, token.len, key,
                              COLLAB_CTOKEN_KEY_LEN, collab_now_ms(), &t,
                              scratch);

    ngx_explicit_memzero(copy, sizeof(copy));

    if (rc == COLLAB_CTOKEN_EXPIRED) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "the client token has expired");
    }

    if (rc != COLLAB_CTOKEN_OK) {
        return ngx_collab_refuse(cr, NGX_HTTP_UNAUTHORIZED, NULL,
                                 "the client token is not valid");
    }

    if (t.account_len != cr->params[0].len
        || ngx_memcmp(t.account, cr->params[0].data, t.account_len) != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_FORBIDDEN, NULL,
                                 "this client token belongs to another "
                                 "account");
    }

    if (t.room_len != cr->params[1].len
        || ngx_memcmp(t.room, cr->params[1].data, t.room_len) != 0)
    {
        return ngx_collab_refuse(cr, NGX_HTTP_FORBIDDEN, NULL,
                                 "this client token is for another room");
    }

    cr->auth.user.data = ngx_pnalloc(r->pool, t.user_len);
    if (cr->auth.user.data == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    ngx_memcpy(cr->auth.user.data, t.user, t.user_len);
    cr->auth.user.len = t.user_len;
    cr->auth.issued_at = t.issued_at;

    ngx_memcpy(cr->auth.account, t.account, t.account_len);
    cr->auth.account_len = t.account_len;

    return NGX_OK;
}
