/*
 * Copyright (C) collab
 *
 * The presence table in its shared memory zone (see ngx_collab_presence.h).
 *
 * A room has its users in order of arrival; a user has a count of
 * connections per worker slot, a heartbeat ("online until") and, once it
 * has neither, a deadline in a tree of deadlines: the end of its grace.
 * A user entry exists exactly while the user is a participant.  Joining
 * allocates everything the user's leave (and the session's close) will
 * need, so that a leave never fails for want of memory.
 */

#include "ngx_collab.h"
#include "ngx_collab_presence.h"


typedef struct {
    ngx_pid_t                   pid;
    ngx_uint_t                  used;
} ngx_collab_presence_slot_t;


typedef struct ngx_collab_presence_room_s  ngx_collab_presence_room_t;


typedef struct {
    ngx_queue_t                 queue;
    ngx_uint_t                  slot;
    ngx_uint_t                  count;
} ngx_collab_presence_conn_t;


typedef struct {
    ngx_rbtree_node_t           node;       /* key: CRC32 of room + user */
    ngx_rbtree_node_t           deadline;   /* key: end of the grace, ms */
    ngx_queue_t                 queue;      /* in the room's users */
    ngx_queue_t                 conns;
    ngx_collab_presence_room_t *room;
    ngx_collab_presence_rec_t  *leave;      /* reserved for the leave */
    uint64_t                    gen;
    int64_t                     since;
    int64_t                     heartbeat;  /* online until, ms; 0: none */
    ngx_uint_t                  connections;
    unsigned                    waiting:1;  /* in the deadline tree */
    u_char                      len;
    u_char                      name[1];
} ngx_collab_presence_user_t;


struct ngx_collab_presence_room_s {
    ngx_rbtree_node_t           node;       /* key: CRC32 of the room id */
    ngx_queue_t                 list;       /* every room */
    ngx_queue_t                 users;
    ngx_uint_t                  participants;
    ngx_uint_t                  peak;
    int64_t                     started;
    ngx_collab_presence_rec_t  *close;      /* reserved for session.closed */
    u_char                      session[COLLAB_PRESENCE_SESSION_ID];
    u_char                      account_len;
    u_char                      account[COLLAB_ID_MAX];
    u_char                      id[COLLAB_UUID_LEN];
};


typedef struct {
    ngx_rbtree_node_t           node;       /* key: CRC32 of room [+ user] */
    int64_t                     at;
    u_char                      room[COLLAB_UUID_LEN];
    u_char                      len;
    u_char                      user[1];
} ngx_collab_presence_revoked_t;


typedef struct {
    ngx_rbtree_t                rooms;
    ngx_rbtree_node_t           rooms_sentinel;
    ngx_queue_t                 room_list;
    ngx_rbtree_t                users;
    ngx_rbtree_node_t           users_sentinel;
    ngx_rbtree_t                deadlines;
    ngx_rbtree_node_t           deadlines_sentinel;
    ngx_rbtree_t                revoked;
    ngx_rbtree_node_t           revoked_sentinel;

    ngx_queue_t                 pending;    /* transitions, in order */
    ngx_uint_t                  npending;
    uint64_t                    seq;        /* the last one decided */
    uint64_t                    recorded;   /* the last one recorded */
    uint64_t                    user_gen;
    ngx_pid_t                   recorder;   /* recording now; 0: nobody */
    ngx_uint_t                  reconcile;  /* start-up work is due */
    ngx_uint_t                  revocations_loaded;
    uint64_t                    id;

    ngx_collab_presence_slot_t  slots[COLLAB_PRESENCE_SLOTS];

    uint64_t                    ring_gen;
    ngx_collab_ring_entry_t    *ring;
} ngx_collab_presence_sh_t;


typedef struct {
    ngx_collab_presence_sh_t   *sh;
    ngx_slab_pool_t            *shpool;
} ngx_collab_presence_ctx_t;


static ngx_int_t ngx_collab_presence_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_collab_presence_leave(ngx_collab_presence_user_t *u,
    int64_t now);
static void ngx_collab_presence_publish(ngx_collab_presence_rec_t *rec);
static ngx_uint_t ngx_collab_presence_revoked_locked(ngx_str_t *room,
    ngx_str_t *user, int64_t issued_at);
static ngx_int_t ngx_collab_presence_revoke_locked(ngx_str_t *room,
    ngx_str_t *user, int64_t at);
static void ngx_collab_presence_publish_end_locked(ngx_str_t *room,
    ngx_str_t *user);


static ngx_collab_presence_ctx_t  *ngx_collab_presence;
static ngx_int_t                    ngx_collab_presence_my_slot = -1;


#define ngx_collab_presence_lock()                                            \
    ngx_shmtx_lock(&ngx_collab_presence->shpool->mutex)
#define ngx_collab_presence_unlock()                                          \
    ngx_shmtx_unlock(&ngx_collab_presence->shpool->mutex)

#define ngx_collab_presence_user_of(n)                                        \
    ((ngx_collab_presence_user_t *)                                           \
     ((u_char *) (n) - offsetof(ngx_collab_presence_user_t, deadline)))


/* the zone */

ngx_shm_zone_t *
ngx_collab_presence_zone_add(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t             *shm_zone;
    ngx_collab_presence_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_collab_presence_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    shm_zone = ngx_shared_memory_add(cf, name, size,
                                     &ngx_http_collab_presence_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_presence_zone \"%V\" is already defined",
                           name);
        return NULL;
    }

    shm_zone->init = ngx_collab_presence_init_zone;
    shm_zone->data = ctx;

    return shm_zone;
}


static ngx_int_t
ngx_collab_presence_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_collab_presence_ctx_t  *octx = data;

    size_t                      len;
    ngx_collab_presence_sh_t   *sh;
    ngx_collab_presence_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /*
         * A reload keeps the zone, and with it who is online: the old
         * workers end their streams, whose users wait out their grace
         * while the clients connect again to the new workers.
         */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_collab_presence_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->ring = ngx_slab_calloc(ctx->shpool, COLLAB_PRESENCE_RING
                                            * sizeof(ngx_collab_ring_entry_t));
    if (sh->ring == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "collab_presence_zone \"%V\" is too small",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    ngx_rbtree_init(&sh->rooms, &sh->rooms_sentinel,
                    ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->users, &sh->users_sentinel,
                    ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->deadlines, &sh->deadlines_sentinel,
                    ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->revoked, &sh->revoked_sentinel,
                    ngx_rbtree_insert_value);
    ngx_queue_init(&sh->room_list);
    ngx_queue_init(&sh->pending);

    /*
     * A new zone knows nobody: whatever the database still holds as open
     * (nginx was killed, or stopped while people were online) is closed
     * before anything new is recorded.
     */
    sh->reconcile = 1;

    if (collab_random((u_char *) &sh->id, sizeof(sh->id)) != 0) {
        return NGX_ERROR;
    }

    ctx->sh = sh;
    ctx->shpool->data = sh;

    len = sizeof(" in collab presence zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in collab presence zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


/*
 * A worker uses the zone of its own cycle: not the one the master set up
 * last, which may belong to a reload that failed after its zones were
 * made (a listen socket that cannot be bound, say).
 */
void
ngx_collab_presence_use(ngx_shm_zone_t *shm_zone)
{
    ngx_collab_presence = shm_zone->data;
}


ngx_int_t
ngx_collab_presence_ready(void)
{
    return ngx_collab_presence && ngx_collab_presence->sh
           && ngx_collab_presence_my_slot >= 0;
}


uint64_t
ngx_collab_presence_zone_id(void)
{
    return ngx_collab_presence->sh->id;
}


/* worker slots */

static ngx_uint_t
ngx_collab_presence_alive(ngx_pid_t pid)
{
    return kill(pid, 0) == 0 || ngx_errno != NGX_ESRCH;
}


ngx_int_t
ngx_collab_presence_slot_take(ngx_log_t *log)
{
    ngx_uint_t                   i;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_slot_t  *s;

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    for (i = 0; i < COLLAB_PRESENCE_SLOTS; i++) {
        s = &sh->slots[i];

        if (!s->used) {
            s->used = 1;
            s->pid = ngx_pid;
            ngx_collab_presence_my_slot = i;
            break;
        }
    }

    ngx_collab_presence_unlock();

    if (ngx_collab_presence_my_slot < 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "collab: no presence slot is free (%d workers of "
                      "every generation at most)", COLLAB_PRESENCE_SLOTS);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_collab_presence_slot(void)
{
    return ngx_collab_presence_my_slot;
}


ngx_pid_t
ngx_collab_presence_slot_pid(ngx_uint_t slot)
{
    ngx_collab_presence_slot_t  *s;

    s = &ngx_collab_presence->sh->slots[slot];

    return s->used ? s->pid : 0;
}


/* names */

static uint32_t
ngx_collab_presence_key(ngx_str_t *room, ngx_str_t *user)
{
    uint32_t  crc;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, room->data, room->len);

    if (user) {
        ngx_crc32_update(&crc, (u_char *) "/", 1);
        ngx_crc32_update(&crc, user->data, user->len);
    }

    ngx_crc32_final(crc);

    return crc;
}


static ngx_collab_presence_room_t *
ngx_collab_presence_room(ngx_str_t *room)
{
    uint32_t                     key;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_collab_presence_room_t  *r;

    if (room->len != COLLAB_UUID_LEN) {
        return NULL;
    }

    key = ngx_collab_presence_key(room, NULL);
    node = ngx_collab_presence->sh->rooms.root;
    sentinel = ngx_collab_presence->sh->rooms.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        r = (ngx_collab_presence_room_t *) node;

        if (ngx_memcmp(r->id, room->data, COLLAB_UUID_LEN) == 0) {
            return r;
        }

        /* equal keys go right (ngx_rbtree_insert_value) */
        node = node->right;
    }

    return NULL;
}


static ngx_collab_presence_user_t *
ngx_collab_presence_user(ngx_str_t *room, ngx_str_t *user)
{
    uint32_t                     key;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_collab_presence_user_t  *u;

    key = ngx_collab_presence_key(room, user);
    node = ngx_collab_presence->sh->users.root;
    sentinel = ngx_collab_presence->sh->users.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        u = (ngx_collab_presence_user_t *) node;

        if (u->len == user->len
            && ngx_memcmp(u->name, user->data, user->len) == 0
            && ngx_memcmp(u->room->id, room->data, COLLAB_UUID_LEN) == 0)
        {
            return u;
        }

        node = node->right;
    }

    return NULL;
}


static ngx_collab_presence_room_t *
ngx_collab_presence_room_new(ngx_collab_who_t *who)
{
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_room_t  *r;

    if (who->room.len != COLLAB_UUID_LEN || who->account.len >= COLLAB_ID_MAX)
    {
        return NULL;
    }

    sh = ngx_collab_presence->sh;

    r = ngx_slab_calloc_locked(ngx_collab_presence->shpool,
                               sizeof(ngx_collab_presence_room_t));
    if (r == NULL) {
        return NULL;
    }

    ngx_memcpy(r->id, who->room.data, COLLAB_UUID_LEN);
    ngx_memcpy(r->account, who->account.data, who->account.len);
    r->account_len = (u_char) who->account.len;
    ngx_queue_init(&r->users);

    r->node.key = ngx_collab_presence_key(&who->room, NULL);
    ngx_rbtree_insert(&sh->rooms, &r->node);
    ngx_queue_insert_tail(&sh->room_list, &r->list);

    return r;
}


static void
ngx_collab_presence_room_free(ngx_collab_presence_room_t *r)
{
    if (!ngx_queue_empty(&r->users)) {
        return;
    }

    ngx_rbtree_delete(&ngx_collab_presence->sh->rooms, &r->node);
    ngx_queue_remove(&r->list);

    if (r->close) {
        ngx_slab_free_locked(ngx_collab_presence->shpool, r->close);
    }

    ngx_slab_free_locked(ngx_collab_presence->shpool, r);
}


/* transitions */

/* a record with room for a user name of len bytes */
static ngx_collab_presence_rec_t *
ngx_collab_presence_rec_alloc(size_t len)
{
    return ngx_slab_alloc_locked(ngx_collab_presence->shpool,
                                 sizeof(ngx_collab_presence_rec_t) + len);
}


/* fills a record in and appends it to the queue: it is decided */
static void
ngx_collab_presence_decide(ngx_collab_presence_rec_t *rec,
    ngx_collab_presence_room_t *r, ngx_collab_presence_user_t *u,
    ngx_collab_event_e type, int64_t at)
{
    ngx_collab_presence_sh_t  *sh;
    char                       id[COLLAB_ID_MAX];

    sh = ngx_collab_presence->sh;

    ngx_memzero(rec, sizeof(ngx_collab_presence_rec_t));

    rec->seq = ++sh->seq;
    rec->at = at;
    rec->type = (u_char) type;
    rec->started = r->started;
    rec->peak = (uint32_t) r->peak;

    (void) collab_id_new(id, "evt_");
    ngx_memcpy(rec->event_id, id, COLLAB_PRESENCE_EVENT_ID);
    ngx_memcpy(rec->session, r->session, COLLAB_PRESENCE_SESSION_ID);
    ngx_memcpy(rec->account, r->account, r->account_len);
    rec->account_len = r->account_len;
    ngx_memcpy(rec->room, r->id, COLLAB_UUID_LEN);

    if (u) {
        ngx_memcpy(rec->user, u->name, u->len);
        rec->user_len = u->len;
    }

    ngx_queue_insert_tail(&sh->pending, &rec->queue);
    sh->npending++;
}


/*
 * A new participant.  Everything its presence will ever need is
 * allocated first: the user, its join and leave records, and for the
 * room's first participant the session's start and close records.
 */
static ngx_collab_presence_user_t *
ngx_collab_presence_join(ngx_collab_who_t *who, int64_t now)
{
    ngx_uint_t                   first, fresh, raised;
    ngx_slab_pool_t             *shpool;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_rec_t   *join, *leave, *start, *close;
    ngx_collab_presence_user_t  *u;
    ngx_collab_presence_room_t  *r;
    char                         id[COLLAB_ID_MAX];

    if (who->user.len == 0 || who->user.len > COLLAB_PRESENCE_USER_MAX) {
        return NULL;
    }

    sh = ngx_collab_presence->sh;
    shpool = ngx_collab_presence->shpool;

    r = ngx_collab_presence_room(&who->room);
    fresh = (r == NULL);

    if (fresh) {
        r = ngx_collab_presence_room_new(who);
        if (r == NULL) {
            return NULL;
        }
    }

    first = (r->participants == 0);

    u = ngx_slab_calloc_locked(shpool, sizeof(ngx_collab_presence_user_t)
                                       + who->user.len);
    join = ngx_collab_presence_rec_alloc(who->user.len);
    leave = ngx_collab_presence_rec_alloc(who->user.len);
    start = first ? ngx_collab_presence_rec_alloc(who->user.len) : NULL;
    close = first ? ngx_collab_presence_rec_alloc(0) : NULL;

    if (u == NULL || join == NULL || leave == NULL
        || (first && (start == NULL || close == NULL)))
    {
        if (u) {
            ngx_slab_free_locked(shpool, u);
        }

        if (join) {
            ngx_slab_free_locked(shpool, join);
        }

        if (leave) {
            ngx_slab_free_locked(shpool, leave);
        }

        if (start) {
            ngx_slab_free_locked(shpool, start);
        }

        if (close) {
            ngx_slab_free_locked(shpool, close);
        }

        if (fresh) {
            ngx_collab_presence_room_free(r);
        }

        return NULL;
    }

    ngx_memcpy(u->name, who->user.data, who->user.len);
    u->len = (u_char) who->user.len;
    u->room = r;
    u->leave = leave;
    u->gen = ++sh->user_gen;
    u->since = now;
    ngx_queue_init(&u->conns);

    u->node.key = ngx_collab_presence_key(&who->room, &who->user);
    ngx_rbtree_insert(&sh->users, &u->node);
    ngx_queue_insert_tail(&r->users, &u->queue);

    if (first) {
        (void) collab_id_new(id, "ses_");
        ngx_memcpy(r->session, id, COLLAB_PRESENCE_SESSION_ID);
        r->started = now;
        r->peak = 0;
        r->close = close;
    }

    r->participants++;
    raised = (r->participants > r->peak);

    if (raised) {
        r->peak = r->participants;
    }

    if (first) {
        ngx_collab_presence_decide(start, r, u,
                                   COLLAB_EVENT_SESSION_STARTED, now);
    }

    ngx_collab_presence_decide(join, r, u, COLLAB_EVENT_PARTICIPANT_JOINED,
                               now);

    /* the session's row learns its peak only from the joins that raise it */
    if (!raised) {
        join->peak = 0;
    }

    return u;
}


/* the participant is gone: its leave, and the session's close if last */
static void
ngx_collab_presence_leave(ngx_collab_presence_user_t *u, int64_t now)
{
    ngx_queue_t                 *q;
    ngx_slab_pool_t             *shpool;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_rec_t   *close;
    ngx_collab_presence_room_t  *r;

    sh = ngx_collab_presence->sh;
    shpool = ngx_collab_presence->shpool;
    r = u->room;

    if (u->waiting) {
        ngx_rbtree_delete(&sh->deadlines, &u->deadline);
        u->waiting = 0;
    }

    while (!ngx_queue_empty(&u->conns)) {
        q = ngx_queue_head(&u->conns);
        ngx_queue_remove(q);
        ngx_slab_free_locked(shpool, q);
    }

    r->participants--;

    ngx_collab_presence_decide(u->leave, r, u, COLLAB_EVENT_PARTICIPANT_LEFT,
                               now);

    if (r->participants == 0) {
        close = r->close;
        r->close = NULL;
        ngx_collab_presence_decide(close, r, NULL,
                                   COLLAB_EVENT_SESSION_CLOSED, now);
    }

    ngx_rbtree_delete(&sh->users, &u->node);
    ngx_queue_remove(&u->queue);
    ngx_slab_free_locked(shpool, u);

    ngx_collab_presence_room_free(r);
}


/*
 * No connection left: the user is absent from the end of its heartbeat
 * (or now), and leaves once the grace has passed since then.
 */
static void
ngx_collab_presence_absent(ngx_collab_presence_user_t *u, int64_t now,
    ngx_msec_t grace)
{
    int64_t                    from;
    ngx_collab_presence_sh_t  *sh;

    sh = ngx_collab_presence->sh;

    if (u->waiting) {
        ngx_rbtree_delete(&sh->deadlines, &u->deadline);
        u->waiting = 0;
    }

    from = ngx_max(now, u->heartbeat);

    if (from + (int64_t) grace <= now) {
        ngx_collab_presence_leave(u, now);
        return;
    }

    u->deadline.key = (ngx_rbtree_key_t) (from + grace);
    ngx_rbtree_insert(&sh->deadlines, &u->deadline);
    u->waiting = 1;
}


/* present again within the grace: nothing happened */
static void
ngx_collab_presence_present(ngx_collab_presence_user_t *u)
{
    if (u->waiting) {
        ngx_rbtree_delete(&ngx_collab_presence->sh->deadlines, &u->deadline);
        u->waiting = 0;
    }
}


static void
ngx_collab_presence_participant(collab_json_t *j,
    ngx_collab_presence_user_t *u, int64_t now)
{
    collab_json_obj_open(j);
    collab_json_key(j, "userId");
    collab_json_str(j, u->name, u->len);
    collab_json_key(j, "since");
    collab_json_time(j, u->since);
    collab_json_key(j, "connections");
    collab_json_int(j, u->connections);
    collab_json_key(j, "heartbeatUntil");

    if (u->heartbeat > now) {
        collab_json_time(j, u->heartbeat);

    } else {
        collab_json_null(j);
    }

    collab_json_obj_close(j);
}


static void
ngx_collab_presence_list_locked(ngx_collab_presence_room_t *r,
    collab_json_t *j, int64_t now)
{
    ngx_queue_t                 *q;
    ngx_collab_presence_user_t  *u;

    collab_json_arr_open(j);

    if (r) {
        for (q = ngx_queue_head(&r->users);
             q != ngx_queue_sentinel(&r->users);
             q = ngx_queue_next(q))
        {
            u = ngx_queue_data(q, ngx_collab_presence_user_t, queue);
            ngx_collab_presence_participant(j, u, now);
        }
    }

    collab_json_arr_close(j);
}


/* the changes */

/*
 * A connection of this worker.  Checked against the revocations under the
 * same lock as a deletion, so that a token of a user deleted meanwhile is
 * refused (NGX_DECLINED) or its connection is ended with the others.
 */
ngx_int_t
ngx_collab_presence_connect(ngx_collab_who_t *who, int64_t issued_at,
    int64_t now, ngx_collab_snapshot_t *snap, uint64_t *recorded)
{
    uint64_t                     seq;
    ngx_int_t                    rc;
    ngx_uint_t                   slot;
    ngx_queue_t                 *q;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_conn_t  *c;
    ngx_collab_presence_user_t  *u;

    sh = ngx_collab_presence->sh;
    slot = (ngx_uint_t) ngx_collab_presence_my_slot;
    rc = NGX_OK;

    ngx_collab_presence_lock();

    seq = sh->seq;

    if (ngx_collab_presence_revoked_locked(&who->room, &who->user,
                                           issued_at))
    {
        rc = NGX_DECLINED;
        goto done;
    }

    u = ngx_collab_presence_user(&who->room, &who->user);

    if (u == NULL) {
        u = ngx_collab_presence_join(who, now);
        if (u == NULL) {
            rc = NGX_ERROR;
            goto done;
        }
    }

    for (q = ngx_queue_head(&u->conns);
         q != ngx_queue_sentinel(&u->conns);
         q = ngx_queue_next(q))
    {
        c = ngx_queue_data(q, ngx_collab_presence_conn_t, queue);

        if (c->slot == slot) {
            goto found;
        }
    }

    c = ngx_slab_alloc_locked(ngx_collab_presence->shpool,
                              sizeof(ngx_collab_presence_conn_t));
    if (c == NULL) {
        if (u->connections == 0 && u->heartbeat <= now && !u->waiting) {
            /* joined just now: it leaves at once, with its events */
            ngx_collab_presence_leave(u, now);
        }

        rc = NGX_ERROR;
        goto done;
    }

    c->slot = slot;
    c->count = 0;
    ngx_queue_insert_tail(&u->conns, &c->queue);

found:

    c->count++;
    u->connections++;

    ngx_collab_presence_present(u);

    snap->gen = u->gen;
    snap->seq = sh->seq;
    ngx_collab_presence_list_locked(u->room, &snap->json, now);

done:

    *recorded = (sh->seq != seq) ? sh->seq : 0;

    ngx_collab_presence_unlock();

    return rc;
}


void
ngx_collab_presence_disconnect(ngx_collab_who_t *who, uint64_t gen,
    int64_t now, ngx_msec_t grace)
{
    ngx_uint_t                   slot;
    ngx_queue_t                 *q;
    ngx_collab_presence_conn_t  *c;
    ngx_collab_presence_user_t  *u;

    slot = (ngx_uint_t) ngx_collab_presence_my_slot;

    ngx_collab_presence_lock();

    u = ngx_collab_presence_user(&who->room, &who->user);

    /* a user removed meanwhile (deleted, or even created again) */
    if (u == NULL || u->gen != gen) {
        goto done;
    }

    for (q = ngx_queue_head(&u->conns);
         q != ngx_queue_sentinel(&u->conns);
         q = ngx_queue_next(q))
    {
        c = ngx_queue_data(q, ngx_collab_presence_conn_t, queue);

        if (c->slot != slot) {
            continue;
        }

        if (--c->count == 0) {
            ngx_queue_remove(&c->queue);
            ngx_slab_free_locked(ngx_collab_presence->shpool, c);
        }

        if (--u->connections == 0) {
            ngx_collab_presence_absent(u, now, grace);
        }

        break;
    }

done:

    ngx_collab_presence_unlock();
}


/*
 * A heartbeat; checked_at is when the user was found in the database: a
 * deletion since then makes it NGX_DECLINED.
 */
ngx_int_t
ngx_collab_presence_heartbeat(ngx_collab_who_t *who, int64_t checked_at,
    int64_t now, int64_t until, ngx_msec_t grace, collab_json_t *participant,
    uint64_t *recorded)
{
    uint64_t                     seq;
    ngx_int_t                    rc;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_user_t  *u;

    sh = ngx_collab_presence->sh;
    rc = NGX_OK;

    ngx_collab_presence_lock();

    seq = sh->seq;

    if (ngx_collab_presence_revoked_locked(&who->room, &who->user,
                                           checked_at))
    {
        rc = NGX_DECLINED;
        goto done;
    }

    u = ngx_collab_presence_user(&who->room, &who->user);

    if (u == NULL) {
        u = ngx_collab_presence_join(who, now);
        if (u == NULL) {
            rc = NGX_ERROR;
            goto done;
        }
    }

    u->heartbeat = until;

    if (u->connections == 0) {
        /* the grace is counted from the end of the heartbeat */
        ngx_collab_presence_absent(u, now, grace);
    }

    ngx_collab_presence_participant(participant, u, now);

done:

    *recorded = (sh->seq != seq) ? sh->seq : 0;

    ngx_collab_presence_unlock();

    return rc;
}


/* an explicit end: no grace, the user leaves now if it has no connection */
ngx_int_t
ngx_collab_presence_heartbeat_end(ngx_collab_who_t *who, int64_t now,
    uint64_t *recorded)
{
    uint64_t                     seq;
    ngx_int_t                    rc;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_user_t  *u;

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    seq = sh->seq;

    u = ngx_collab_presence_user(&who->room, &who->user);

    if (u == NULL) {
        rc = NGX_DECLINED;

    } else {
        rc = NGX_OK;
        u->heartbeat = 0;

        if (u->connections == 0) {
            ngx_collab_presence_leave(u, now);
        }
    }

    *recorded = (sh->seq != seq) ? sh->seq : 0;

    ngx_collab_presence_unlock();

    return rc;
}


/*
 * A deleted user (who->user set) or room: its tokens are revoked, it
 * leaves at once, connections and all, and its streams are ended by an
 * order in the ring, all under one lock.
 */
ngx_int_t
ngx_collab_presence_remove(ngx_collab_who_t *who, int64_t now,
    uint64_t *recorded)
{
    ngx_int_t                    rc;
    uint64_t                     seq;
    ngx_queue_t                 *q;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_user_t  *u;
    ngx_collab_presence_room_t  *r;

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    seq = sh->seq;

    rc = ngx_collab_presence_revoke_locked(&who->room,
                                           who->user.len ? &who->user : NULL,
                                           now);

    if (who->user.len) {
        u = ngx_collab_presence_user(&who->room, &who->user);

        if (u) {
            ngx_collab_presence_leave(u, now);
        }

    } else {
        r = ngx_collab_presence_room(&who->room);

        /* each leave may free the room with its last user */
        while (r && !ngx_queue_empty(&r->users)) {
            q = ngx_queue_head(&r->users);
            u = ngx_queue_data(q, ngx_collab_presence_user_t, queue);

            if (ngx_queue_next(q) == ngx_queue_sentinel(&r->users)) {
                ngx_collab_presence_leave(u, now);
                break;
            }

            ngx_collab_presence_leave(u, now);
        }
    }

    ngx_collab_presence_publish_end_locked(&who->room,
                                           who->user.len ? &who->user : NULL);

    *recorded = (sh->seq != seq) ? sh->seq : 0;

    ngx_collab_presence_unlock();

    return rc;
}


ngx_int_t
ngx_collab_presence_list(ngx_str_t *room, int64_t now, collab_json_t *json)
{
    ngx_collab_presence_lock();

    ngx_collab_presence_list_locked(ngx_collab_presence_room(room), json,
                                    now);

    ngx_collab_presence_unlock();

    return json->failed ? NGX_ERROR : NGX_OK;
}


/* the ids of the room's participants, as a JSON array (for workflows) */
ngx_int_t
ngx_collab_presence_ids(ngx_str_t *room, collab_json_t *j)
{
    ngx_queue_t                 *q;
    ngx_collab_presence_room_t  *r;
    ngx_collab_presence_user_t  *u;

    collab_json_arr_open(j);

    ngx_collab_presence_lock();

    r = ngx_collab_presence_room(room);

    if (r) {
        for (q = ngx_queue_head(&r->users);
             q != ngx_queue_sentinel(&r->users);
             q = ngx_queue_next(q))
        {
            u = ngx_queue_data(q, ngx_collab_presence_user_t, queue);
            collab_json_str(j, u->name, u->len);
        }
    }

    ngx_collab_presence_unlock();

    collab_json_arr_close(j);

    return j->failed ? NGX_ERROR : NGX_OK;
}


/* the participants of every room (for the metrics, at a scrape) */
ngx_uint_t
ngx_collab_presence_participants(void)
{
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_room_t  *r;

    sh = ngx_collab_presence->sh;
    n = 0;

    ngx_collab_presence_lock();

    for (q = ngx_queue_head(&sh->room_list);
         q != ngx_queue_sentinel(&sh->room_list);
         q = ngx_queue_next(q))
    {
        r = ngx_queue_data(q, ngx_collab_presence_room_t, list);
        n += r->participants;
    }

    ngx_collab_presence_unlock();

    return n;
}


ngx_uint_t
ngx_collab_presence_online(ngx_str_t *room, ngx_str_t *user)
{
    ngx_uint_t  online;

    ngx_collab_presence_lock();

    online = (ngx_collab_presence_user(room, user) != NULL);

    ngx_collab_presence_unlock();

    return online;
}


/* deadlines and dead workers */

void
ngx_collab_presence_expire(int64_t now, ngx_msec_t grace)
{
    ngx_rbtree_t                *tree;
    ngx_rbtree_node_t           *node;
    ngx_collab_presence_user_t  *u;

    tree = &ngx_collab_presence->sh->deadlines;

    ngx_collab_presence_lock();

    while (tree->root != tree->sentinel) {
        node = ngx_rbtree_min(tree->root, tree->sentinel);

        if ((int64_t) node->key > now) {
            break;
        }

        u = ngx_collab_presence_user_of(node);

        ngx_rbtree_delete(tree, node);
        u->waiting = 0;

        if (u->connections) {
            continue;
        }

        if (u->heartbeat + (int64_t) grace > now) {
            /* a heartbeat came meanwhile and set a later deadline */
            u->deadline.key = (ngx_rbtree_key_t) (u->heartbeat + grace);
            ngx_rbtree_insert(tree, &u->deadline);
            u->waiting = 1;
            continue;
        }

        ngx_collab_presence_leave(u, now);
    }

    ngx_collab_presence_unlock();
}


int64_t
ngx_collab_presence_next(void)
{
    int64_t        next;
    ngx_rbtree_t  *tree;

    tree = &ngx_collab_presence->sh->deadlines;

    ngx_collab_presence_lock();

    next = (tree->root == tree->sentinel)
           ? 0 : (int64_t) ngx_rbtree_min(tree->root, tree->sentinel)->key;

    ngx_collab_presence_unlock();

    return next;
}


/* the connections a dead worker held: each user's count loses them */
static void
ngx_collab_presence_reap(ngx_uint_t slot, int64_t now, ngx_msec_t grace)
{
    ngx_queue_t                 *rq, *rnext, *uq, *unext, *cq;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_conn_t  *c;
    ngx_collab_presence_user_t  *u;
    ngx_collab_presence_room_t  *r;

    sh = ngx_collab_presence->sh;

    for (rq = ngx_queue_head(&sh->room_list);
         rq != ngx_queue_sentinel(&sh->room_list);
         rq = rnext)
    {
        rnext = ngx_queue_next(rq);
        r = ngx_queue_data(rq, ngx_collab_presence_room_t, list);

        for (uq = ngx_queue_head(&r->users);
             uq != ngx_queue_sentinel(&r->users);
             uq = unext)
        {
            unext = ngx_queue_next(uq);
            u = ngx_queue_data(uq, ngx_collab_presence_user_t, queue);

            for (cq = ngx_queue_head(&u->conns);
                 cq != ngx_queue_sentinel(&u->conns);
                 cq = ngx_queue_next(cq))
            {
                c = ngx_queue_data(cq, ngx_collab_presence_conn_t, queue);

                if (c->slot != slot) {
                    continue;
                }

                u->connections -= c->count;
                ngx_queue_remove(cq);
                ngx_slab_free_locked(ngx_collab_presence->shpool, c);

                if (u->connections == 0) {
                    /*
                     * the last user of the room may free it: the next
                     * room was taken before, and this one is not read
                     * again
                     */
                    if (unext == ngx_queue_sentinel(&r->users)) {
                        ngx_collab_presence_absent(u, now, grace);
                        goto next_room;
                    }

                    ngx_collab_presence_absent(u, now, grace);
                }

                break;
            }
        }

    next_room:

        continue;
    }
}


/*
 * Finds the slots of workers that are gone (killed, crashed) and takes
 * their connections away; their users leave after the grace.  Returns
 * how many slots were freed.
 */
ngx_uint_t
ngx_collab_presence_sweep(int64_t now, ngx_msec_t grace, ngx_log_t *log)
{
    ngx_uint_t                   i, n;
    ngx_collab_presence_sh_t    *sh;
    ngx_collab_presence_slot_t  *s;

    sh = ngx_collab_presence->sh;
    n = 0;

    ngx_collab_presence_lock();

    for (i = 0; i < COLLAB_PRESENCE_SLOTS; i++) {
        s = &sh->slots[i];

        if (!s->used || s->pid == ngx_pid || ngx_collab_presence_alive(s->pid))
        {
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "collab: worker %P is gone, its presence connections "
                      "end", s->pid);

        if (sh->recorder == s->pid) {
            sh->recorder = 0;
        }

        ngx_collab_presence_reap(i, now, grace);

        s->used = 0;
        s->pid = 0;
        n++;
    }

    ngx_collab_presence_unlock();

    return n;
}


/* at exit: this worker's streams are closed by now; the slot is free */
void
ngx_collab_presence_slot_release(int64_t now, ngx_msec_t grace)
{
    ngx_collab_presence_sh_t  *sh;

    if (ngx_collab_presence_my_slot < 0) {
        return;
    }

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    ngx_collab_presence_reap(ngx_collab_presence_my_slot, now, grace);

    if (sh->recorder == ngx_pid) {
        sh->recorder = 0;
    }

    sh->slots[ngx_collab_presence_my_slot].used = 0;
    sh->slots[ngx_collab_presence_my_slot].pid = 0;

    ngx_collab_presence_unlock();

    ngx_collab_presence_my_slot = -1;
}


/* revocations */

static ngx_collab_presence_revoked_t *
ngx_collab_presence_revocation(ngx_str_t *room, ngx_str_t *user)
{
    uint32_t                        key;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_collab_presence_revoked_t  *v;

    key = ngx_collab_presence_key(room, user);
    node = ngx_collab_presence->sh->revoked.root;
    sentinel = ngx_collab_presence->sh->revoked.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        v = (ngx_collab_presence_revoked_t *) node;

        if (ngx_memcmp(v->room, room->data, COLLAB_UUID_LEN) == 0
            && (user ? (v->len == user->len
                        && ngx_memcmp(v->user, user->data, user->len) == 0)
                     : v->len == 0))
        {
            return v;
        }

        node = node->right;
    }

    return NULL;
}


static ngx_int_t
ngx_collab_presence_revoke_locked(ngx_str_t *room, ngx_str_t *user,
    int64_t at)
{
    size_t                          len;
    ngx_collab_presence_revoked_t  *v;

    if (room->len != COLLAB_UUID_LEN
        || (user && user->len > COLLAB_PRESENCE_USER_MAX))
    {
        return NGX_ERROR;
    }

    v = ngx_collab_presence_revocation(room, user);

    if (v) {
        if (v->at < at) {
            v->at = at;
        }

        return NGX_OK;
    }

    len = user ? user->len : 0;

    v = ngx_slab_calloc_locked(ngx_collab_presence->shpool,
                               sizeof(ngx_collab_presence_revoked_t) + len);
    if (v == NULL) {
        return NGX_ERROR;
    }

    v->at = at;
    ngx_memcpy(v->room, room->data, COLLAB_UUID_LEN);

    if (user) {
        ngx_memcpy(v->user, user->data, len);
        v->len = (u_char) len;
    }

    v->node.key = ngx_collab_presence_key(room, user);
    ngx_rbtree_insert(&ngx_collab_presence->sh->revoked, &v->node);

    return NGX_OK;
}


/* was a token issued at that time revoked since, for the user or room? */
static ngx_uint_t
ngx_collab_presence_revoked_locked(ngx_str_t *room, ngx_str_t *user,
    int64_t issued_at)
{
    ngx_collab_presence_revoked_t  *v;

    v = ngx_collab_presence_revocation(room, NULL);

    if (v && issued_at <= v->at) {
        return 1;
    }

    v = ngx_collab_presence_revocation(room, user);

    return v && issued_at <= v->at;
}


/* revocations older than the longest token life mean nothing any more */
void
ngx_collab_presence_revocations_prune(int64_t now)
{
    int64_t                         before;
    ngx_rbtree_t                   *tree;
    ngx_rbtree_node_t              *node, *next;
    ngx_collab_presence_revoked_t  *v;

    before = now - (int64_t) COLLAB_PRESENCE_TOKEN_TTL_MAX * 1000;
    tree = &ngx_collab_presence->sh->revoked;

    ngx_collab_presence_lock();

    if (tree->root != tree->sentinel) {
        for (node = ngx_rbtree_min(tree->root, tree->sentinel);
             node;
             node = next)
        {
            next = ngx_rbtree_next(tree, node);
            v = (ngx_collab_presence_revoked_t *) node;

            if (v->at < before) {
                ngx_rbtree_delete(tree, node);
                ngx_slab_free_locked(ngx_collab_presence->shpool, v);
            }
        }
    }

    ngx_collab_presence_unlock();
}


/*
 * Revocations outlive nginx in the database; the first worker of a new
 * zone loads them, under the lock, so that no worker checks a token
 * before they are in.
 */
ngx_int_t
ngx_collab_presence_revocations_load(sqlite3 *db, int64_t now,
    ngx_log_t *log)
{
    int                        rc;
    ngx_int_t                  ret;
    ngx_str_t                  room, user;
    sqlite3_stmt              *st;
    ngx_collab_presence_sh_t  *sh;

    sh = ngx_collab_presence->sh;
    ret = NGX_OK;

    ngx_collab_presence_lock();

    if (sh->revocations_loaded) {
        goto done;
    }

    rc = sqlite3_prepare_v2(db, "SELECT room_id, user_id, revoked_at"
                                " FROM token_revocations"
                                " WHERE revoked_at >= ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "collab: reading token revocations failed: %s",
                      sqlite3_errmsg(db));
        ret = NGX_ERROR;
        goto done;
    }

    sqlite3_bind_int64(st, 1,
                       now - (int64_t) COLLAB_PRESENCE_TOKEN_TTL_MAX * 1000);

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ngx_collab_db_col(st, 0, &room);
        ngx_collab_db_col(st, 1, &user);

        if (ngx_collab_presence_revoke_locked(&room, user.len ? &user : NULL,
                                              sqlite3_column_int64(st, 2))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "collab: the presence zone is too small for the "
                          "token revocations");
            ret = NGX_ERROR;
            break;
        }
    }

    sqlite3_finalize(st);

    if (ret == NGX_OK && rc != SQLITE_DONE) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "collab: reading token revocations failed: %s",
                      sqlite3_errmsg(db));
        ret = NGX_ERROR;
    }

    if (ret == NGX_OK) {
        sh->revocations_loaded = 1;
    }

done:

    ngx_collab_presence_unlock();

    return ret;
}


/* the queue of transitions */

ngx_int_t
ngx_collab_presence_claim(u_char *recs, ngx_uint_t max, ngx_uint_t *n,
    ngx_uint_t *reconcile)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_queue_t                *q;
    ngx_collab_presence_sh_t   *sh;
    ngx_collab_presence_rec_t  *rec;

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    if (sh->recorder != 0 && sh->recorder != ngx_pid) {
        rc = NGX_DECLINED;
        goto done;
    }

    if (ngx_queue_empty(&sh->pending) && !sh->reconcile) {
        sh->recorder = 0;
        rc = NGX_DECLINED;
        goto done;
    }

    sh->recorder = ngx_pid;
    *reconcile = sh->reconcile;

    i = 0;

    /* the start-up reconciliation goes alone, before anything else */
    if (sh->reconcile) {
        max = 0;
    }

    for (q = ngx_queue_head(&sh->pending);
         q != ngx_queue_sentinel(&sh->pending) && i < max;
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_collab_presence_rec_t, queue);

        /* a second claim means a recorder died with it: maybe recorded */
        if (rec->claims < 255) {
            rec->claims++;
        }

        ngx_memcpy(recs + i * COLLAB_PRESENCE_REC_SIZE, rec,
                   sizeof(ngx_collab_presence_rec_t) + rec->user_len);
        i++;
    }

    *n = i;
    rc = NGX_OK;

done:

    ngx_collab_presence_unlock();

    return rc;
}


/* recorded: the records up to seq leave the queue for the ring */
void
ngx_collab_presence_claimed(uint64_t upto, ngx_uint_t reconciled)
{
    ngx_queue_t                *q;
    ngx_collab_presence_sh_t   *sh;
    ngx_collab_presence_rec_t  *rec;

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    if (reconciled) {
        sh->reconcile = 0;
    }

    while (!ngx_queue_empty(&sh->pending)) {
        q = ngx_queue_head(&sh->pending);
        rec = ngx_queue_data(q, ngx_collab_presence_rec_t, queue);

        if (rec->seq > upto) {
            break;
        }

        ngx_queue_remove(q);
        sh->npending--;

        if (rec->type == COLLAB_EVENT_PARTICIPANT_JOINED
            || rec->type == COLLAB_EVENT_PARTICIPANT_LEFT)
        {
            ngx_collab_presence_publish(rec);
        }

        ngx_slab_free_locked(ngx_collab_presence->shpool, rec);
    }

    if (upto > sh->recorded) {
        sh->recorded = upto;
    }

    if (sh->recorder == ngx_pid) {
        sh->recorder = 0;
    }

    ngx_collab_presence_unlock();
}


/* recording failed: another try, by whoever comes first */
void
ngx_collab_presence_unclaim(void)
{
    ngx_collab_presence_sh_t  *sh;

    sh = ngx_collab_presence->sh;

    ngx_collab_presence_lock();

    if (sh->recorder == ngx_pid) {
        sh->recorder = 0;
    }

    ngx_collab_presence_unlock();
}


uint64_t
ngx_collab_presence_recorded(void)
{
    return ngx_collab_presence->sh->recorded;
}


/* the event's data, as recorded and as streamed */
void
ngx_collab_presence_event_data(collab_json_t *j, ngx_collab_presence_rec_t *rec)
{
    collab_json_obj_open(j);

    switch (rec->type) {

    case COLLAB_EVENT_SESSION_STARTED:
        collab_json_key(j, "roomId");
        collab_json_str(j, rec->room, COLLAB_UUID_LEN);
        collab_json_key(j, "sessionId");
        collab_json_str(j, rec->session, COLLAB_PRESENCE_SESSION_ID);
        collab_json_key(j, "userId");
        collab_json_str(j, rec->user, rec->user_len);
        break;

    case COLLAB_EVENT_SESSION_CLOSED:
        collab_json_key(j, "roomId");
        collab_json_str(j, rec->room, COLLAB_UUID_LEN);
        collab_json_key(j, "sessionId");
        collab_json_str(j, rec->session, COLLAB_PRESENCE_SESSION_ID);
        collab_json_key(j, "durationMs");
        collab_json_int(j, rec->at - rec->started);
        break;

    default:
        collab_json_key(j, "userId");
        collab_json_str(j, rec->user, rec->user_len);
        collab_json_key(j, "roomId");
        collab_json_str(j, rec->room, COLLAB_UUID_LEN);
        break;
    }

    collab_json_obj_close(j);
}


/* the ring */

static ngx_collab_ring_entry_t *
ngx_collab_presence_ring_next(void)
{
    ngx_collab_presence_sh_t  *sh;
    ngx_collab_ring_entry_t   *e;

    sh = ngx_collab_presence->sh;

    sh->ring_gen++;
    e = &sh->ring[sh->ring_gen % COLLAB_PRESENCE_RING];
    ngx_memzero(e, offsetof(ngx_collab_ring_entry_t, text));
    e->gen = sh->ring_gen;

    return e;
}


/* a recorded join or leave, as the streams of its room write it */
static void
ngx_collab_presence_publish(ngx_collab_presence_rec_t *rec)
{
    u_char                   *p, *last;
    ngx_str_t                 data;
    collab_json_t             j, env;
    ngx_collab_ring_entry_t  *e;

    collab_json_init(&j);
    collab_json_init(&env);

    ngx_collab_presence_event_data(&j, rec);

    data.data = j.data;
    data.len = j.len;
    ngx_collab_event_envelope(&env, ngx_collab_event_name(rec->type), &data,
                              rec->at);

    if (j.failed || env.failed) {
        goto done;
    }

    e = ngx_collab_presence_ring_next();
    e->kind = COLLAB_RING_MESSAGE;
    e->seq = rec->seq;
    ngx_memcpy(e->room, rec->room, COLLAB_UUID_LEN);

    p = e->text;
    last = e->text + COLLAB_PRESENCE_TEXT_MAX;

    p = ngx_slprintf(p, last, "id: %*s\nevent: %s\ndata: ",
                     (size_t) COLLAB_PRESENCE_EVENT_ID, rec->event_id,
                     ngx_collab_event_name(rec->type));

    if ((size_t) (last - p) < env.len + 2) {
        /* cannot happen with names of COLLAB_PRESENCE_USER_MAX bytes */
        e->kind = 0;
        goto done;
    }

    p = ngx_cpymem(p, env.data, env.len);
    *p++ = '\n';
    *p++ = '\n';

    e->len = (uint16_t) (p - e->text);

done:

    collab_json_free(&j);
    collab_json_free(&env);
}


static void
ngx_collab_presence_publish_end_locked(ngx_str_t *room, ngx_str_t *user)
{
    ngx_collab_ring_entry_t  *e;

    if (room->len != COLLAB_UUID_LEN
        || (user && user->len > COLLAB_PRESENCE_USER_MAX))
    {
        return;
    }

    e = ngx_collab_presence_ring_next();
    e->kind = user ? COLLAB_RING_END_USER : COLLAB_RING_END_ROOM;
    e->seq = ngx_collab_presence->sh->seq;
    ngx_memcpy(e->room, room->data, COLLAB_UUID_LEN);

    if (user) {
        ngx_memcpy(e->user, user->data, user->len);
        e->user_len = (u_char) user->len;
    }
}


uint64_t
ngx_collab_presence_ring_gen(void)
{
    return ngx_collab_presence->sh->ring_gen;
}


/*
 * The entries after *gen, at most max of them, copied into out; *gen
 * moves past them.  NGX_DECLINED when entries were overwritten before
 * they could be read: the reader has missed some and must start over
 * (*gen is then the newest).
 */
ngx_int_t
ngx_collab_presence_ring_read(uint64_t *gen, ngx_collab_ring_entry_t *out,
    ngx_uint_t max, ngx_uint_t *n)
{
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_collab_ring_entry_t   *e;
    ngx_collab_presence_sh_t  *sh;

    sh = ngx_collab_presence->sh;
    i = 0;
    rc = NGX_OK;

    ngx_collab_presence_lock();

    if (sh->ring_gen - *gen > COLLAB_PRESENCE_RING) {
        *gen = sh->ring_gen;
        rc = NGX_DECLINED;
        goto done;
    }

    while (*gen < sh->ring_gen && i < max) {
        e = &sh->ring[(*gen + 1) % COLLAB_PRESENCE_RING];
        ngx_memcpy(&out[i], e, offsetof(ngx_collab_ring_entry_t, text)
                               + e->len);
        (*gen)++;
        i++;
    }

done:

    *n = i;

    ngx_collab_presence_unlock();

    return rc;
}
