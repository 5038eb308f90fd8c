/*
 * Copyright (C) collab
 *
 * Metrics data (see ngx_collab_metrics.h): the zone and its slots, the
 * counting calls, the counts that wait for a commit, and the snapshot a
 * scrape adds up.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_collab_metrics.h"


#define COLLAB_METRICS_TXN         1024
#define COLLAB_METRICS_COLLECTORS  8
#define COLLAB_METRICS_SLOTS_MIN   4


typedef struct {
    ngx_atomic_t                pid;            /* 0: free */
    ngx_atomic_t                counters[COLLAB_M_COUNTERS];
    ngx_atomic_t                gauges[COLLAB_G_COUNT];
    ngx_atomic_t                buckets[COLLAB_H_COUNT][COLLAB_H_BUCKETS];
    ngx_atomic_t                sums[COLLAB_H_COUNT];
} ngx_collab_metrics_slot_t;


typedef struct {
    size_t                      slot_size;      /* tells builds apart */
    ngx_uint_t                  nslots;
    ngx_atomic_t                gauges[COLLAB_G_COUNT];
    u_char                     *slots;
} ngx_collab_metrics_sh_t;


typedef struct {
    ngx_collab_metrics_sh_t    *sh;
    ngx_slab_pool_t            *shpool;
} ngx_collab_metrics_ctx_t;


typedef struct {
    uint32_t                    id;
    uint32_t                    n;
} ngx_collab_metrics_held_t;


/* slots are cache-line aligned: no two processes write one line */
#define COLLAB_METRICS_SLOT_SIZE                                              \
    ngx_align(sizeof(ngx_collab_metrics_slot_t), 128)

#define ngx_collab_metrics_slot_at(sh, i)                                     \
    ((ngx_collab_metrics_slot_t *) ((sh)->slots                               \
                                    + (i) * COLLAB_METRICS_SLOT_SIZE))


static ngx_int_t ngx_collab_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


const ngx_msec_t  ngx_collab_metrics_bounds[COLLAB_H_BUCKETS - 1] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
};


static struct {
    ngx_collab_metrics_sh_t        *sh;
    ngx_slab_pool_t                *shpool;
    ngx_collab_metrics_slot_t      *slot;       /* this process's */

    ngx_collab_metrics_collect_pt   collectors[COLLAB_METRICS_COLLECTORS];
    ngx_uint_t                      ncollectors;

    const char                     *routes[COLLAB_M_ROUTES + 1];
    const char                     *events[COLLAB_M_EVENT_TYPES];

    pthread_t                       loop;       /* the event loop's thread */
} ngx_collab_metrics;


/*
 * The counts held for the group of works in a storage thread.  No
 * thread-local storage (nginx unloads the module before a process ends,
 * with its thread-local blocks): a worker runs one group at a time, so
 * these belong to the storage thread between its begin and its end, and
 * the event loop never touches them.
 */
static ngx_collab_metrics_held_t  ngx_collab_metrics_held[COLLAB_METRICS_TXN];
static ngx_uint_t                 ngx_collab_metrics_nheld;
static ngx_uint_t                 ngx_collab_metrics_mark;
static ngx_uint_t                 ngx_collab_metrics_in_txn;


/* --- counting ------------------------------------------------------------ */

void
ngx_collab_metrics_inc(ngx_uint_t id, ngx_uint_t n)
{
    ngx_collab_metrics_slot_t  *s;

    s = ngx_collab_metrics.slot;

    if (s == NULL || id >= COLLAB_M_COUNTERS) {
        return;
    }

    (void) ngx_atomic_fetch_add(&s->counters[id], n);
}


void
ngx_collab_metrics_observe(ngx_uint_t histogram, ngx_msec_t ms)
{
    ngx_uint_t                  i;
    ngx_collab_metrics_slot_t  *s;

    s = ngx_collab_metrics.slot;

    if (s == NULL || histogram >= COLLAB_H_COUNT) {
        return;
    }

    for (i = 0; i < COLLAB_H_BUCKETS - 1; i++) {
        if (ms <= ngx_collab_metrics_bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&s->buckets[histogram][i], 1);
    (void) ngx_atomic_fetch_add(&s->sums[histogram], ms);
}


void
ngx_collab_metrics_gauge_set(ngx_uint_t gauge, int64_t value)
{
    if (ngx_collab_metrics.sh == NULL || gauge >= COLLAB_G_COUNT) {
        return;
    }

    ngx_collab_metrics.sh->gauges[gauge] = (ngx_atomic_uint_t) value;
}


void
ngx_collab_metrics_gauge_add(ngx_uint_t gauge, int64_t delta)
{
    ngx_collab_metrics_slot_t  *s;

    s = ngx_collab_metrics.slot;

    if (s == NULL || gauge >= COLLAB_G_COUNT) {
        return;
    }

    (void) ngx_atomic_fetch_add(&s->gauges[gauge], (ngx_atomic_int_t) delta);
}


/* --- counts that wait for a commit (storage threads) --------------------- */

void
ngx_collab_metrics_txn_inc(ngx_uint_t id, ngx_uint_t n)
{
    ngx_uint_t                  i;
    ngx_collab_metrics_held_t  *h;

    if (pthread_equal(pthread_self(), ngx_collab_metrics.loop)
        || !ngx_collab_metrics_in_txn)
    {
        ngx_collab_metrics_inc(id, n);
        return;
    }

    h = ngx_collab_metrics_held;

    for (i = ngx_collab_metrics_nheld; i > ngx_collab_metrics_mark; i--) {
        if (h[i - 1].id == id) {
            h[i - 1].n += n;
            return;
        }
    }

    if (ngx_collab_metrics_nheld == COLLAB_METRICS_TXN) {
        /* a group this large is counted as it goes */
        ngx_collab_metrics_inc(id, n);
        return;
    }

    h[ngx_collab_metrics_nheld].id = (uint32_t) id;
    h[ngx_collab_metrics_nheld].n = (uint32_t) n;
    ngx_collab_metrics_nheld++;
}


void
ngx_collab_metrics_txn_begin(void)
{
    ngx_collab_metrics_nheld = 0;
    ngx_collab_metrics_mark = 0;
    ngx_collab_metrics_in_txn = 1;
}


void
ngx_collab_metrics_txn_savepoint(void)
{
    ngx_collab_metrics_mark = ngx_collab_metrics_nheld;
}


void
ngx_collab_metrics_txn_rollback(void)
{
    ngx_collab_metrics_nheld = ngx_collab_metrics_mark;
}


void
ngx_collab_metrics_txn_end(ngx_uint_t committed)
{
    ngx_uint_t  i;

    ngx_collab_metrics_in_txn = 0;

    for (i = 0; committed && i < ngx_collab_metrics_nheld; i++) {
        ngx_collab_metrics_inc(ngx_collab_metrics_held[i].id,
                               ngx_collab_metrics_held[i].n);
    }

    ngx_collab_metrics_nheld = 0;
    ngx_collab_metrics_mark = 0;
}


/* --- names and collectors ------------------------------------------------ */

ngx_int_t
ngx_collab_metrics_collector(ngx_collab_metrics_collect_pt handler)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_collab_metrics.ncollectors; i++) {
        if (ngx_collab_metrics.collectors[i] == handler) {
            return NGX_OK;
        }
    }

    if (ngx_collab_metrics.ncollectors == COLLAB_METRICS_COLLECTORS) {
        return NGX_ERROR;
    }

    ngx_collab_metrics.collectors[ngx_collab_metrics.ncollectors++] = handler;

    return NGX_OK;
}


void
ngx_collab_metrics_name_route(ngx_uint_t route, const char *pattern)
{
    if (route <= COLLAB_M_ROUTES) {
        ngx_collab_metrics.routes[route] = pattern;
    }
}


void
ngx_collab_metrics_name_event(ngx_uint_t type, const char *name)
{
    if (type < COLLAB_M_EVENT_TYPES) {
        ngx_collab_metrics.events[type] = name;
    }
}


const char *
ngx_collab_metrics_route(ngx_uint_t route)
{
    return route <= COLLAB_M_ROUTES ? ngx_collab_metrics.routes[route] : NULL;
}


const char *
ngx_collab_metrics_event(ngx_uint_t type)
{
    return type < COLLAB_M_EVENT_TYPES ? ngx_collab_metrics.events[type]
                                       : NULL;
}


/* --- the zone and the slots ---------------------------------------------- */

ngx_shm_zone_t *
ngx_collab_metrics_zone_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    void *tag)
{
    ngx_shm_zone_t            *shm_zone;
    ngx_collab_metrics_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_collab_metrics_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    shm_zone = ngx_shared_memory_add(cf, name, size, tag);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "collab_metrics_zone \"%V\" is already defined",
                           name);
        return NULL;
    }

    shm_zone->init = ngx_collab_metrics_init_zone;
    shm_zone->data = ctx;

    return shm_zone;
}


/*
 * A reload with the same zone name and size keeps the zone: the counts go
 * on, and the workers of the old configuration keep their slots while
 * they finish, next to the new workers' (the zone is not re-laid out, so
 * a process of either generation never sees its slot move).  A new name
 * or size is a new zone whose counts start from zero; the old workers'
 * last counts go to the old one and are lost.
 */
static ngx_int_t
ngx_collab_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_collab_metrics_ctx_t  *octx = data;

    size_t                     len, avail;
    ngx_uint_t                 n;
    ngx_slab_pool_t           *shpool;
    ngx_collab_metrics_sh_t   *sh;
    ngx_collab_metrics_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        if (octx->sh->slot_size != COLLAB_METRICS_SLOT_SIZE) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "collab_metrics_zone \"%V\" was laid out by "
                          "another build of the module; give it another "
                          "name or size", &shm_zone->shm.name);
            return NGX_ERROR;
        }

        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    ctx->shpool = shpool;

    if (shm_zone->shm.exists) {
        ctx->sh = shpool->data;
        return NGX_OK;
    }

    len = sizeof(" in collab metrics zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in collab metrics zone \"%V\"%Z",
                &shm_zone->shm.name);

    sh = ngx_slab_calloc(shpool, sizeof(ngx_collab_metrics_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    /* as many slots as the free pages hold, less one for the slab's use */
    avail = (shpool->pfree > 1) ? (shpool->pfree - 1) * ngx_pagesize : 0;
    n = avail / COLLAB_METRICS_SLOT_SIZE;

    if (n < COLLAB_METRICS_SLOTS_MIN) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "collab_metrics_zone \"%V\" is too small for %d "
                      "processes", &shm_zone->shm.name,
                      COLLAB_METRICS_SLOTS_MIN);
        return NGX_ERROR;
    }

    sh->slots = ngx_slab_calloc(shpool, n * COLLAB_METRICS_SLOT_SIZE);
    if (sh->slots == NULL) {
        return NGX_ERROR;
    }

    sh->nslots = n;
    sh->slot_size = COLLAB_METRICS_SLOT_SIZE;

    ctx->sh = sh;
    shpool->data = sh;

    return NGX_OK;
}


static ngx_uint_t
ngx_collab_metrics_alive(ngx_pid_t pid)
{
    return kill(pid, 0) == 0 || ngx_errno != NGX_ESRCH;
}


static void
ngx_collab_metrics_clear_gauges(ngx_collab_metrics_slot_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < COLLAB_G_COUNT; i++) {
        s->gauges[i] = 0;
    }
}


/*
 * In init_process: a free slot, or else one whose process died (its
 * counts stay in the totals; its gauges go with it).
 */
ngx_int_t
ngx_collab_metrics_slot_take(ngx_shm_zone_t *shm_zone, ngx_log_t *log)
{
    ngx_uint_t                  i;
    ngx_collab_metrics_sh_t    *sh;
    ngx_collab_metrics_ctx_t   *ctx;
    ngx_collab_metrics_slot_t  *s, *free, *dead;

    ctx = shm_zone->data;
    sh = ctx->sh;

    ngx_collab_metrics.sh = sh;
    ngx_collab_metrics.shpool = ctx->shpool;
    ngx_collab_metrics.loop = pthread_self();

    free = NULL;
    dead = NULL;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < sh->nslots; i++) {
        s = ngx_collab_metrics_slot_at(sh, i);

        if (s->pid == 0) {
            free = s;
            break;
        }

        if (dead == NULL && !ngx_collab_metrics_alive((ngx_pid_t) s->pid)) {
            dead = s;
        }
    }

    s = free ? free : dead;

    if (s) {
        ngx_collab_metrics_clear_gauges(s);
        s->pid = (ngx_atomic_uint_t) ngx_pid;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (s == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "collab_metrics_zone \"%V\" has no free slot (%ui "
                      "processes): what this worker counts is not shown",
                      &shm_zone->shm.name, sh->nslots);
        return NGX_DECLINED;
    }

    ngx_collab_metrics.slot = s;

    ngx_log_debug2(NGX_LOG_DEBUG_CORE, log, 0,
                   "collab metrics: slot %ui of %ui",
                   (ngx_uint_t) (((u_char *) s - sh->slots)
                                 / COLLAB_METRICS_SLOT_SIZE), sh->nslots);

    return NGX_OK;
}


/* in exit_process: the counts stay, the slot is free for the next one */
void
ngx_collab_metrics_slot_release(void)
{
    ngx_collab_metrics_slot_t  *s;

    s = ngx_collab_metrics.slot;

    if (s == NULL) {
        return;
    }

    ngx_collab_metrics.slot = NULL;

    ngx_shmtx_lock(&ngx_collab_metrics.shpool->mutex);

    ngx_collab_metrics_clear_gauges(s);
    s->pid = 0;

    ngx_shmtx_unlock(&ngx_collab_metrics.shpool->mutex);
}


/* --- the snapshot -------------------------------------------------------- */

/* zones of collab's modules: their tag is one whose name says so */
static ngx_uint_t
ngx_collab_metrics_is_ours(ngx_cycle_t *cycle, void *tag)
{
    ngx_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if ((void *) cycle->modules[i] == tag) {
            return ngx_strncmp(cycle->modules[i]->name, "ngx_http_collab",
                               15) == 0;
        }
    }

    return 0;
}


static ngx_int_t
ngx_collab_metrics_zones(ngx_pool_t *pool, ngx_array_t *zones)
{
    ngx_uint_t                  i;
    ngx_cycle_t                *cycle;
    ngx_list_part_t            *part;
    ngx_shm_zone_t             *shm_zone;
    ngx_slab_pool_t            *shpool;
    ngx_collab_metrics_zone_t  *z;

    cycle = (ngx_cycle_t *) ngx_cycle;

    if (ngx_array_init(zones, pool, 4, sizeof(ngx_collab_metrics_zone_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &cycle->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (shm_zone[i].shm.addr == NULL
            || !ngx_collab_metrics_is_ours(cycle, shm_zone[i].tag))
        {
            continue;
        }

        z = ngx_array_push(zones);
        if (z == NULL) {
            return NGX_ERROR;
        }

        shpool = (ngx_slab_pool_t *) shm_zone[i].shm.addr;

        z->name = shm_zone[i].shm.name;
        z->size = shm_zone[i].shm.size;

        ngx_shmtx_lock(&shpool->mutex);
        z->pages = shpool->last - shpool->pages;
        z->free = shpool->pfree;
        ngx_shmtx_unlock(&shpool->mutex);
    }

    return NGX_OK;
}


ngx_int_t
ngx_collab_metrics_snapshot(ngx_pool_t *pool,
    ngx_collab_metrics_snapshot_t *snap)
{
    ngx_uint_t                  i, k, h;
    ngx_collab_metrics_sh_t    *sh;
    ngx_collab_metrics_slot_t  *s;

    ngx_memzero(snap, sizeof(ngx_collab_metrics_snapshot_t));

    for (i = 0; i < ngx_collab_metrics.ncollectors; i++) {
        ngx_collab_metrics.collectors[i]();
    }

    if (ngx_collab_metrics_zones(pool, &snap->zones) != NGX_OK) {
        return NGX_ERROR;
    }

    sh = ngx_collab_metrics.sh;

    if (sh == NULL) {
        return NGX_OK;
    }

    for (k = 0; k < COLLAB_G_COUNT; k++) {
        snap->gauges[k] = (int64_t) sh->gauges[k];
    }

    /* the gauges of a process that died went with it */
    ngx_shmtx_lock(&ngx_collab_metrics.shpool->mutex);

    for (i = 0; i < sh->nslots; i++) {
        s = ngx_collab_metrics_slot_at(sh, i);

        if (s->pid && !ngx_collab_metrics_alive((ngx_pid_t) s->pid)) {
            ngx_collab_metrics_clear_gauges(s);
            s->pid = 0;
        }
    }

    ngx_shmtx_unlock(&ngx_collab_metrics.shpool->mutex);

    for (i = 0; i < sh->nslots; i++) {
        s = ngx_collab_metrics_slot_at(sh, i);

        if (s->pid) {
            snap->processes++;
        }

        for (k = 0; k < COLLAB_M_COUNTERS; k++) {
            snap->counters[k] += s->counters[k];
        }

        for (k = 0; k < COLLAB_G_COUNT; k++) {
            snap->gauges[k] += (int64_t) (ngx_atomic_int_t) s->gauges[k];
        }

        for (h = 0; h < COLLAB_H_COUNT; h++) {
            for (k = 0; k < COLLAB_H_BUCKETS; k++) {
                snap->buckets[h][k] += s->buckets[h][k];
            }

            snap->sums[h] += s->sums[h];
        }
    }

    return NGX_OK;
}
