/*
 * Copyright (C) collab
 *
 * The runner's one event loop: epoll over its sockets (the module's
 * socket, fetch connections, DNS queries, the compile helper) and a heap of
 * timers (execution deadlines, setTimeout, libcurl's and c-ares' timers).
 */

#ifndef _NGX_COLLAB_LOOP_H_INCLUDED_
#define _NGX_COLLAB_LOOP_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>


typedef struct collab_timer_s  collab_timer_t;
typedef struct collab_io_s     collab_io_t;

typedef void (*collab_timer_handler_pt)(collab_timer_t *t);
typedef void (*collab_io_handler_pt)(collab_io_t *io, uint32_t events);


struct collab_timer_s {
    int64_t                  when;       /* monotonic milliseconds */
    uint64_t                 seq;        /* equal deadlines: first set first */
    size_t                   index;      /* in the heap + 1; 0: not set */
    collab_timer_handler_pt  handler;
    void                    *data;
};


struct collab_io_s {
    int                      fd;
    uint32_t                 events;     /* registered: EPOLLIN|EPOLLOUT */
    collab_io_handler_pt     handler;
    void                    *data;
};


int collab_loop_init(void);
void collab_loop_done(void);

/* the monotonic clock in milliseconds, read at the last loop turn */
int64_t collab_now(void);
/* the monotonic clock now */
int64_t collab_clock(void);
/* the wall clock in milliseconds since the epoch */
int64_t collab_wall_clock(void);
void collab_time_update(void);

/* registers, changes or (events 0) removes io; 0 or -1 */
int collab_io_set(collab_io_t *io, uint32_t events);

void collab_timer_set(collab_timer_t *t, int64_t delay_ms);
void collab_timer_del(collab_timer_t *t);

static inline int
collab_timer_is_set(const collab_timer_t *t)
{
    return t->index != 0;
}

/*
 * One turn: waits for sockets at most until the next timer (not at all
 * when busy), calls the handlers of ready sockets, then those of expired
 * timers.  0, or -1 when epoll fails.
 */
int collab_loop_turn(int busy);

#endif /* _NGX_COLLAB_LOOP_H_INCLUDED_ */
