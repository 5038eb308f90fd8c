/*
 * Copyright (C) collab
 *
 * The registry in shared memory: what every request needs without touching
 * SQLite: the API keys, by the SHA-256 of their token, and the webhook and
 * workflow subscriptions of each account, in red-black trees in a slab
 * pool.  The
 * master loads it from SQLite when the zone is new; a reload keeps the old
 * zone and its contents.  Every change
 * is written through by the worker that committed it and bumps the
 * generation, so that per-worker caches notice at once.
 */

#include "ngx_collab.h"


typedef struct {
    ngx_rbtree_node_t   node;          /* key: first bytes of the hash */
    u_char              hash[COLLAB_HASH_LEN];
    u_char              key_id[COLLAB_ID_MAX];
    u_char              account[COLLAB_ID_MAX];
    u_char              key_id_len;
    u_char              account_len;
} ngx_collab_shm_key_t;


/* the subscriptions (webhooks and workflows) of one account */
typedef struct {
    ngx_rbtree_node_t   node;          /* key: CRC32 of the account id */
    ngx_queue_t         hooks;
    u_char              account[COLLAB_ID_MAX];
    u_char              account_len;
} ngx_collab_shm_account_t;


typedef struct {
    ngx_queue_t         queue;
    u_char              id[COLLAB_ID_MAX];
    u_char              room[COLLAB_UUID_LEN];
    u_char              id_len;
    u_char              room_len;      /* 0: every room */
    u_char              kind;          /* COLLAB_SUB_* */
    uint32_t            events;        /* a bit per ngx_collab_event_e */
    unsigned            enabled:1;
} ngx_collab_shm_hook_t;


typedef struct {
    ngx_rbtree_t        keys;
    ngx_rbtree_node_t   sentinel;
    ngx_rbtree_t        accounts;
    ngx_rbtree_node_t   accounts_sentinel;
    ngx_atomic_t        generation;
    ngx_atomic_t        executions_done;   /* outcomes written, node-wide */
} ngx_collab_shm_sh_t;


typedef struct {
    ngx_collab_shm_sh_t          *sh;
    ngx_slab_pool_t              *shpool;
    ngx_http_collab_main_conf_t  *cmcf;
    ngx_cycle_t                  *cycle;     /* the cycle being started */
    ngx_uint_t                    fresh;     /* to be filled from SQLite */
} ngx_collab_shm_ctx_t;


static ngx_int_t ngx_collab_shm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_collab_shm_account_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_collab_shm_load_subs(ngx_collab_shm_ctx_t *ctx,
    sqlite3 *db, ngx_shm_zone_t *shm_zone, ngx_uint_t kind);
static ngx_int_t ngx_collab_shm_hook_set_locked(ngx_collab_shm_ctx_t *ctx,
    ngx_uint_t kind, ngx_str_t *account, ngx_str_t *id, ngx_str_t *room,
    uint32_t events, ngx_uint_t enabled);


static ngx_collab_shm_ctx_t  *ngx_collab_shm;


static void
ngx_collab_shm_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t     **p;
    ngx_collab_shm_key_t   *n, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            n = (ngx_collab_shm_key_t *) node;
            t = (ngx_collab_shm_key_t *) temp;

            p = (ngx_memcmp(n->hash, t->hash, COLLAB_HASH_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_rbtree_key_t
ngx_collab_shm_hash_key(const u_char *hash)
{
    return ((ngx_rbtree_key_t) hash[0] << 24) | (hash[1] << 16)
           | (hash[2] << 8) | hash[3];
}


static ngx_collab_shm_key_t *
ngx_collab_shm_lookup(ngx_collab_shm_sh_t *sh, const u_char *hash)
{
    ngx_int_t           rc;
    ngx_rbtree_key_t    key;
    ngx_rbtree_node_t  *node, *sentinel;

    key = ngx_collab_shm_hash_key(hash);
    node = sh->keys.root;
    sentinel = sh->keys.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        rc = ngx_memcmp(hash, ((ngx_collab_shm_key_t *) node)->hash,
                        COLLAB_HASH_LEN);

        if (rc == 0) {
            return (ngx_collab_shm_key_t *) node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static ngx_collab_shm_key_t *
ngx_collab_shm_key_new(ngx_slab_pool_t *shpool, const u_char *hash,
    ngx_str_t *key_id, ngx_str_t *account)
{
    ngx_collab_shm_key_t  *k;

    if (key_id->len >= COLLAB_ID_MAX || account->len >= COLLAB_ID_MAX) {
        return NULL;
    }

    k = ngx_slab_calloc_locked(shpool, sizeof(ngx_collab_shm_key_t));
    if (k == NULL) {
        return NULL;
    }

    ngx_memcpy(k->hash, hash, COLLAB_HASH_LEN);
    k->node.key = ngx_collab_shm_hash_key(hash);
    ngx_memcpy(k->key_id, key_id->data, key_id->len);
    k->key_id_len = (u_char) key_id->len;
    ngx_memcpy(k->account, account->data, account->len);
    k->account_len = (u_char) account->len;

    return k;
}


/* every active key is loaded by the master when the zone is new */
static ngx_int_t
ngx_collab_shm_load_key(ngx_collab_shm_ctx_t *ctx, const u_char *hash,
    ngx_str_t *key_id, ngx_str_t *account)
{
    ngx_collab_shm_key_t  *k;

    if (ngx_collab_shm_lookup(ctx->sh, hash)) {
        return NGX_OK;
    }

    k = ngx_collab_shm_key_new(ctx->shpool, hash, key_id, account);
    if (k == NULL) {
        return NGX_ERROR;
    }

    ngx_rbtree_insert(&ctx->sh->keys, &k->node);

    return NGX_OK;
}


ngx_shm_zone_t *
ngx_collab_shm_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    ngx_http_collab_main_conf_t *cmcf)
{
    ngx_shm_zone_t        *shm_zone;
    ngx_collab_shm_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_collab_shm_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->cmcf = cmcf;
    ctx->cycle = cf->cycle;

    shm_zone = ngx_shared_memory_add(cf, name, size, &ngx_http_collab_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_zone \"%V\" is already defined", name);
        return NULL;
    }

    shm_zone->init = ngx_collab_shm_init_zone;
    shm_zone->data = ctx;

    return shm_zone;
}


/*
 * Lays the zone out, or takes over the old zone's contents on a reload.
 * Nothing else happens here: the cycle may still fail after its zones
 * are set up (a listen socket that cannot be bound, say), and then the
 * old cycle, and its zone, go on.  The database and the registry's
 * contents are the business of ngx_collab_shm_start(), run by the
 * module's init once the cycle is certain.
 */
static ngx_int_t
ngx_collab_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_collab_shm_ctx_t  *octx = data;

    size_t                 len;
    ngx_collab_shm_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* reload: the registry in the old zone stays valid */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_collab_shm_sh_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->keys, &ctx->sh->sentinel,
                    ngx_collab_shm_insert);
    ngx_rbtree_init(&ctx->sh->accounts, &ctx->sh->accounts_sentinel,
                    ngx_collab_shm_account_insert);

    len = sizeof(" in collab zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in collab zone \"%V\"%Z",
                &shm_zone->shm.name);

    ctx->fresh = 1;

    return NGX_OK;
}


/*
 * In the master, once the cycle is certain: the zone becomes the one this
 * process (and the workers it forks) uses, and a new zone is filled from
 * the database.
 */
ngx_int_t
ngx_collab_shm_start(ngx_shm_zone_t *shm_zone)
{
    int                           rc;
    sqlite3                      *db;
    ngx_str_t                     key_id, account;
    sqlite3_stmt                 *st;
    ngx_collab_shm_ctx_t         *ctx;
    ngx_http_collab_main_conf_t  *cmcf;

    ctx = shm_zone->data;
    cmcf = ctx->cmcf;

    ngx_collab_shm = ctx;

    if (!ctx->fresh) {
        return NGX_OK;
    }

    ctx->fresh = 0;

    db = ngx_collab_db_open_master(&cmcf->database, shm_zone->shm.log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    rc = sqlite3_prepare_v2(db, "SELECT hash, id, account_id FROM api_keys"
                                " WHERE revoked_at IS NULL", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != COLLAB_HASH_LEN) {
            continue;
        }

        ngx_collab_db_col(st, 1, &key_id);
        ngx_collab_db_col(st, 2, &account);

        if (ngx_collab_shm_load_key(ctx, sqlite3_column_blob(st, 0),
                                    &key_id, &account)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "collab: zone \"%V\" is too small for the keys",
                          &shm_zone->shm.name);
            sqlite3_finalize(st);
            sqlite3_close(db);
            return NGX_ERROR;
        }
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        goto failed;
    }

    if (ngx_collab_shm_load_subs(ctx, db, shm_zone, COLLAB_SUB_WEBHOOK)
        != NGX_OK
        || ngx_collab_shm_load_subs(ctx, db, shm_zone, COLLAB_SUB_WORKFLOW)
           != NGX_OK)
    {
        sqlite3_close(db);
        return NGX_ERROR;
    }

    sqlite3_close(db);

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "collab: loading keys failed: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return NGX_ERROR;
}


ngx_int_t
ngx_collab_shm_key_add(const u_char *hash, ngx_str_t *key_id,
    ngx_str_t *account)
{
    ngx_int_t              rc;
    ngx_collab_shm_key_t  *k;

    ngx_shmtx_lock(&ngx_collab_shm->shpool->mutex);

    rc = NGX_OK;

    if (ngx_collab_shm_lookup(ngx_collab_shm->sh, hash) == NULL) {
        k = ngx_collab_shm_key_new(ngx_collab_shm->shpool, hash, key_id,
                                   account);
        if (k == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_rbtree_insert(&ngx_collab_shm->sh->keys, &k->node);
            ngx_atomic_fetch_add(&ngx_collab_shm->sh->generation, 1);
        }
    }

    ngx_shmtx_unlock(&ngx_collab_shm->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_collab_shm_key_remove(const u_char *hash)
{
    ngx_collab_shm_key_t  *k;

    ngx_shmtx_lock(&ngx_collab_shm->shpool->mutex);

    k = ngx_collab_shm_lookup(ngx_collab_shm->sh, hash);

    if (k) {
        ngx_rbtree_delete(&ngx_collab_shm->sh->keys, &k->node);
        ngx_slab_free_locked(ngx_collab_shm->shpool, k);
        ngx_atomic_fetch_add(&ngx_collab_shm->sh->generation, 1);
    }

    ngx_shmtx_unlock(&ngx_collab_shm->shpool->mutex);

    return k ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_collab_shm_key_find(const u_char *hash, ngx_collab_auth_t *a)
{
    ngx_collab_shm_key_t  *k;

    ngx_shmtx_lock(&ngx_collab_shm->shpool->mutex);

    k = ngx_collab_shm_lookup(ngx_collab_shm->sh, hash);

    if (k) {
        a->account_len = k->account_len;
        ngx_memcpy(a->account, k->account, k->account_len);
    }

    ngx_shmtx_unlock(&ngx_collab_shm->shpool->mutex);

    return k ? NGX_OK : NGX_DECLINED;
}


ngx_atomic_uint_t
ngx_collab_shm_generation(void)
{
    return ngx_collab_shm->sh->generation;
}


static void
ngx_collab_shm_account_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_collab_shm_account_t   *n, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            n = (ngx_collab_shm_account_t *) node;
            t = (ngx_collab_shm_account_t *) temp;

            p = (ngx_memn2cmp(n->account, t->account, n->account_len,
                              t->account_len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_collab_shm_account_t *
ngx_collab_shm_account(ngx_collab_shm_sh_t *sh, ngx_str_t *account)
{
    ngx_int_t                  rc;
    uint32_t                   hash;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_collab_shm_account_t  *a;

    hash = ngx_crc32_short(account->data, account->len);
    node = sh->accounts.root;
    sentinel = sh->accounts.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        a = (ngx_collab_shm_account_t *) node;
        rc = ngx_memn2cmp(account->data, a->account, account->len,
                          a->account_len);

        if (rc == 0) {
            return a;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* ids of webhooks and workflows differ by their prefix */
static ngx_collab_shm_hook_t *
ngx_collab_shm_hook(ngx_collab_shm_account_t *a, ngx_str_t *id)
{
    ngx_queue_t            *q;
    ngx_collab_shm_hook_t  *h;

    for (q = ngx_queue_head(&a->hooks);
         q != ngx_queue_sentinel(&a->hooks);
         q = ngx_queue_next(q))
    {
        h = ngx_queue_data(q, ngx_collab_shm_hook_t, queue);

        if (h->id_len == id->len && ngx_memcmp(h->id, id->data, id->len) == 0)
        {
            return h;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_collab_shm_hook_set_locked(ngx_collab_shm_ctx_t *ctx, ngx_uint_t kind,
    ngx_str_t *account, ngx_str_t *id, ngx_str_t *room, uint32_t events,
    ngx_uint_t enabled)
{
    ngx_collab_shm_hook_t     *h;
    ngx_collab_shm_account_t  *a;

    if (account->len >= COLLAB_ID_MAX || id->len >= COLLAB_ID_MAX
        || (room && room->len > COLLAB_UUID_LEN))
    {
        return NGX_ERROR;
    }

    a = ngx_collab_shm_account(ctx->sh, account);

    if (a == NULL) {
        a = ngx_slab_calloc_locked(ctx->shpool,
                                   sizeof(ngx_collab_shm_account_t));
        if (a == NULL) {
            return NGX_ERROR;
        }

        a->node.key = ngx_crc32_short(account->data, account->len);
        ngx_memcpy(a->account, account->data, account->len);
        a->account_len = (u_char) account->len;
        ngx_queue_init(&a->hooks);
        ngx_rbtree_insert(&ctx->sh->accounts, &a->node);
    }

    h = ngx_collab_shm_hook(a, id);

    if (h == NULL) {
        h = ngx_slab_calloc_locked(ctx->shpool,
                                   sizeof(ngx_collab_shm_hook_t));
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(h->id, id->data, id->len);
        h->id_len = (u_char) id->len;
        ngx_queue_insert_tail(&a->hooks, &h->queue);
    }

    h->room_len = room ? (u_char) room->len : 0;

    if (room) {
        ngx_memcpy(h->room, room->data, room->len);
    }

    h->kind = (u_char) kind;
    h->events = events;
    h->enabled = enabled ? 1 : 0;

    return NGX_OK;
}


static ngx_int_t
ngx_collab_shm_load_subs(ngx_collab_shm_ctx_t *ctx, sqlite3 *db,
    ngx_shm_zone_t *shm_zone, ngx_uint_t kind)
{
    int            rc;
    ngx_str_t      account, id, room;
    const char    *what;
    sqlite3_stmt  *st;

    what = (kind == COLLAB_SUB_WEBHOOK) ? "webhooks" : "workflows";

    rc = sqlite3_prepare_v2(db, (kind == COLLAB_SUB_WEBHOOK)
                                ? "SELECT account_id, id, room_id,"
                                  " event_mask, enabled FROM webhooks"
                                : "SELECT account_id, id, room_id,"
                                  " event_mask, enabled FROM workflows",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "collab: loading %s failed: %s", what,
                      sqlite3_errmsg(db));
        return NGX_ERROR;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ngx_collab_db_col(st, 0, &account);
        ngx_collab_db_col(st, 1, &id);
        ngx_collab_db_col(st, 2, &room);

        if (ngx_collab_shm_hook_set_locked(ctx, kind, &account, &id,
                                           room.data ? &room : NULL,
                                           (uint32_t) sqlite3_column_int64(
                                                                    st, 3),
                                           sqlite3_column_int(st, 4))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "collab: zone \"%V\" is too small for the %s",
                          &shm_zone->shm.name, what);
            sqlite3_finalize(st);
            return NGX_ERROR;
        }
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "collab: loading %s failed: %s", what,
                      sqlite3_errmsg(db));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* adds or changes the subscription of a webhook or a workflow */
ngx_int_t
ngx_collab_shm_sub_set(ngx_uint_t kind, ngx_str_t *account, ngx_str_t *id,
    ngx_str_t *room, uint32_t events, ngx_uint_t enabled)
{
    ngx_int_t  rc;

    ngx_shmtx_lock(&ngx_collab_shm->shpool->mutex);

    rc = ngx_collab_shm_hook_set_locked(ngx_collab_shm, kind, account, id,
                                        room, events, enabled);
    ngx_atomic_fetch_add(&ngx_collab_shm->sh->generation, 1);

    ngx_shmtx_unlock(&ngx_collab_shm->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_collab_shm_hook_set(ngx_str_t *account, ngx_str_t *id, ngx_str_t *room,
    uint32_t events, ngx_uint_t enabled)
{
    return ngx_collab_shm_sub_set(COLLAB_SUB_WEBHOOK, account, id, room,
                                  events, enabled);
}


void
ngx_collab_shm_sub_remove(ngx_str_t *account, ngx_str_t *id)
{
    ngx_collab_shm_hook_t     *h;
    ngx_collab_shm_account_t  *a;

    ngx_shmtx_lock(&ngx_collab_shm->shpool->mutex);

    a = ngx_collab_shm_account(ngx_collab_shm->sh, account);
    h = a ? ngx_collab_shm_hook(a, id) : NULL;

    if (h) {
        ngx_queue_remove(&h->queue);
        ngx_slab_free_locked(ngx_collab_shm->shpool, h);

        if (ngx_queue_empty(&a->hooks)) {
            ngx_rbtree_delete(&ngx_collab_shm->sh->accounts, &a->node);
            ngx_slab_free_locked(ngx_collab_shm->shpool, a);
        }

        ngx_atomic_fetch_add(&ngx_collab_shm->sh->generation, 1);
    }

    ngx_shmtx_unlock(&ngx_collab_shm->shpool->mutex);
}


/*
 * The enabled webhooks or workflows of the account that take this event
 * in this room: their ids are copied into ids[] (each COLLAB_ID_MAX
 * bytes, NUL-ended).
 */
ngx_uint_t
ngx_collab_shm_subs_match(ngx_uint_t kind, ngx_str_t *account,
    ngx_str_t *room, ngx_uint_t type, u_char (*ids)[COLLAB_ID_MAX],
    ngx_uint_t max)
{
    ngx_uint_t                 n;
    ngx_queue_t               *q;
    ngx_collab_shm_hook_t     *h;
    ngx_collab_shm_account_t  *a;

    n = 0;

    ngx_shmtx_lock(&ngx_collab_shm->shpool->mutex);

    a = ngx_collab_shm_account(ngx_collab_shm->sh, account);

    if (a) {
        for (q = ngx_queue_head(&a->hooks);
             q != ngx_queue_sentinel(&a->hooks) && n < max;
             q = ngx_queue_next(q))
        {
            h = ngx_queue_data(q, ngx_collab_shm_hook_t, queue);

            if (h->kind != kind || !h->enabled
                || !(h->events & (1u << type)))
            {
                continue;
            }

            if (h->room_len
                && (room == NULL || room->len != h->room_len
                    || ngx_memcmp(room->data, h->room, h->room_len) != 0))
            {
                continue;
            }

            ngx_memcpy(ids[n], h->id, h->id_len);
            ids[n][h->id_len] = '\0';
            n++;
        }
    }

    ngx_shmtx_unlock(&ngx_collab_shm->shpool->mutex);

    return n;
}


ngx_uint_t
ngx_collab_shm_hooks_match(ngx_str_t *account, ngx_str_t *room,
    ngx_uint_t type, u_char (*ids)[COLLAB_ID_MAX], ngx_uint_t max)
{
    return ngx_collab_shm_subs_match(COLLAB_SUB_WEBHOOK, account, room, type,
                                     ids, max);
}


/*
 * A count of the execution outcomes written on this node: a tail in any
 * worker reads the database only when it moved.
 */
void
ngx_collab_shm_executions_done(void)
{
    ngx_atomic_fetch_add(&ngx_collab_shm->sh->executions_done, 1);
}


ngx_atomic_uint_t
ngx_collab_shm_executions_seen(void)
{
    return ngx_collab_shm->sh->executions_done;
}
