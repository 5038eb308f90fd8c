/*
 * Copyright (C) collab
 *
 * Presence: who is online in which room, for the whole node.
 *
 * The table lives in a shared memory zone of its own (collab_presence_zone)
 * and every change to it is decided under the zone's lock: rooms, their
 * users, each user's connections counted per worker slot, its heartbeat
 * and its grace deadline.  A change that makes a user or a room go from
 * none to some (or back) is a transition; transitions become records in
 * one queue, each with a number taken under the same lock, so that two
 * workers never both decide "first" or "last", and the records are
 * written to the database in the order they were decided (see
 * ngx_collab_presence_record.c).
 *
 * The zone also holds the fan-out ring: the stream messages of recorded
 * transitions, and orders to end the streams of a deleted user or room,
 * which every worker reads (see ngx_collab_stream.c); and the revocations
 * that make the client tokens of a deleted user or room useless.
 */

#ifndef _NGX_COLLAB_PRESENCE_H_INCLUDED_
#define _NGX_COLLAB_PRESENCE_H_INCLUDED_


#include "ngx_collab.h"
#include "ngx_collab_ctoken.h"


#define COLLAB_PRESENCE_SLOTS      64
#define COLLAB_PRESENCE_USER_MAX   128
#define COLLAB_PRESENCE_EVENT_ID   26      /* "evt_" + 22 */
#define COLLAB_PRESENCE_SESSION_ID 26      /* "ses_" + 22 */

/* one message of the fan-out ring, ready to be written to a stream */
#define COLLAB_PRESENCE_TEXT_MAX   640

#define COLLAB_PRESENCE_RING       2048    /* entries */

/* what a ring entry asks of the streams */
#define COLLAB_RING_MESSAGE        1       /* write text to the room */
#define COLLAB_RING_END_USER       2       /* end the user's streams */
#define COLLAB_RING_END_ROOM       3       /* end the room's streams */

/* the longest a client token may live, and so a revocation */
#define COLLAB_PRESENCE_TOKEN_TTL_MAX  86400


typedef struct {
    ngx_str_t                   account;
    ngx_str_t                   room;
    ngx_str_t                   user;
} ngx_collab_who_t;


/* a transition, as it waits in the queue to be recorded */
typedef struct {
    ngx_queue_t                 queue;
    uint64_t                    seq;        /* of the node, in order */
    int64_t                     at;         /* ms */
    int64_t                     started;    /* the session's start, ms */
    uint32_t                    peak;       /* of a join: 0 if not new */
    u_char                      type;       /* ngx_collab_event_e */
    u_char                      claims;     /* by recorders, so far */
    u_char                      account_len;
    u_char                      user_len;
    u_char                      event_id[COLLAB_PRESENCE_EVENT_ID];
    u_char                      session[COLLAB_PRESENCE_SESSION_ID];
    u_char                      account[COLLAB_ID_MAX];
    u_char                      room[COLLAB_UUID_LEN];
    u_char                      user[1];
} ngx_collab_presence_rec_t;

/* room for the longest record */
#define COLLAB_PRESENCE_REC_SIZE                                              \
    (sizeof(ngx_collab_presence_rec_t) + COLLAB_PRESENCE_USER_MAX)


typedef struct {
    uint64_t                    gen;        /* its place in the ring */
    uint64_t                    seq;        /* the transition's */
    u_char                      kind;       /* COLLAB_RING_* */
    u_char                      user_len;
    uint16_t                    len;
    u_char                      room[COLLAB_UUID_LEN];
    u_char                      user[COLLAB_PRESENCE_USER_MAX];
    u_char                      text[COLLAB_PRESENCE_TEXT_MAX];
} ngx_collab_ring_entry_t;


/* what a new connection learns */
typedef struct {
    collab_json_t               json;       /* [{userId, since, ...}, ...] */
    uint64_t                    seq;        /* transitions it includes */
    uint64_t                    gen;        /* the user entry's */
} ngx_collab_snapshot_t;


extern ngx_module_t  ngx_http_collab_presence_module;


/* the zone, and this worker's slot in it */
ngx_shm_zone_t *ngx_collab_presence_zone_add(ngx_conf_t *cf, ngx_str_t *name,
    size_t size);
void ngx_collab_presence_use(ngx_shm_zone_t *shm_zone);
ngx_int_t ngx_collab_presence_ready(void);
uint64_t ngx_collab_presence_zone_id(void);
ngx_int_t ngx_collab_presence_slot_take(ngx_log_t *log);
void ngx_collab_presence_slot_release(int64_t now, ngx_msec_t grace);
ngx_int_t ngx_collab_presence_slot(void);
ngx_pid_t ngx_collab_presence_slot_pid(ngx_uint_t slot);

/*
 * Changes.  *recorded is the number of the last transition the change
 * queued, 0 for none.  NGX_ERROR: the zone is full.
 */
ngx_int_t ngx_collab_presence_connect(ngx_collab_who_t *who,
    int64_t issued_at, int64_t now, ngx_collab_snapshot_t *snap,
    uint64_t *recorded);
void ngx_collab_presence_disconnect(ngx_collab_who_t *who, uint64_t gen,
    int64_t now, ngx_msec_t grace);
ngx_int_t ngx_collab_presence_heartbeat(ngx_collab_who_t *who,
    int64_t checked_at, int64_t now, int64_t until, ngx_msec_t grace,
    collab_json_t *participant, uint64_t *recorded);
ngx_int_t ngx_collab_presence_heartbeat_end(ngx_collab_who_t *who,
    int64_t now, uint64_t *recorded);
ngx_int_t ngx_collab_presence_remove(ngx_collab_who_t *who, int64_t now,
    uint64_t *recorded);

ngx_int_t ngx_collab_presence_list(ngx_str_t *room, int64_t now,
    collab_json_t *json);
ngx_uint_t ngx_collab_presence_online(ngx_str_t *room, ngx_str_t *user);
ngx_uint_t ngx_collab_presence_participants(void);
ngx_int_t ngx_collab_presence_ids(ngx_str_t *room, collab_json_t *j);

/*
 * Grace periods that ended, and workers that are gone: both may decide
 * leaves.  ngx_collab_presence_next() is the next deadline (ms), or 0.
 */
void ngx_collab_presence_expire(int64_t now, ngx_msec_t grace);
int64_t ngx_collab_presence_next(void);
ngx_uint_t ngx_collab_presence_sweep(int64_t now, ngx_msec_t grace,
    ngx_log_t *log);

/*
 * Revocations of client tokens (made by ngx_collab_presence_remove()):
 * the old ones go, a new zone loads them from the database.
 */
void ngx_collab_presence_revocations_prune(int64_t now);
ngx_int_t ngx_collab_presence_revocations_load(sqlite3 *db, int64_t now,
    ngx_log_t *log);

/*
 * The queue, for the one worker that records at a time: claim() copies
 * up to max records from its head (COLLAB_PRESENCE_REC_SIZE bytes each)
 * and says whether the start-up reconciliation is due; NGX_DECLINED when
 * there is nothing to record or another worker is at it.  claimed() drops
 * the records up to a number, once they are committed, and publishes the
 * joins and leaves among them in the ring; unclaim() gives up.
 */
ngx_int_t ngx_collab_presence_claim(u_char *recs, ngx_uint_t max,
    ngx_uint_t *n, ngx_uint_t *reconcile);
void ngx_collab_presence_claimed(uint64_t upto, ngx_uint_t reconciled);
void ngx_collab_presence_unclaim(void);
uint64_t ngx_collab_presence_recorded(void);
void ngx_collab_presence_event_data(collab_json_t *j,
    ngx_collab_presence_rec_t *rec);

/* the ring */
uint64_t ngx_collab_presence_ring_gen(void);
ngx_int_t ngx_collab_presence_ring_read(uint64_t *gen,
    ngx_collab_ring_entry_t *out, ngx_uint_t max, ngx_uint_t *n);


#endif /* _NGX_COLLAB_PRESENCE_H_INCLUDED_ */
