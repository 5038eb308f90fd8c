/*
 * Copyright (C) collab
 *
 * epoll and a binary heap of timers.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ngx_collab_loop.h"


#define COLLAB_EVENTS  256


static struct {
    int               epfd;
    int64_t           now;
    uint64_t          seq;
    collab_timer_t  **heap;
    size_t            n;
    size_t            cap;
} collab_loop;


static int collab_timer_less(collab_timer_t *a, collab_timer_t *b);
static void collab_heap_place(size_t i, collab_timer_t *t);
static void collab_heap_up(size_t i);
static void collab_heap_down(size_t i);


int
collab_loop_init(void)
{
    collab_loop.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (collab_loop.epfd == -1) {
        return -1;
    }

    collab_time_update();

    return 0;
}


void
collab_loop_done(void)
{
    if (collab_loop.epfd != -1) {
        close(collab_loop.epfd);
        collab_loop.epfd = -1;
    }

    free(collab_loop.heap);
    collab_loop.heap = NULL;
    collab_loop.n = 0;
    collab_loop.cap = 0;
}


int64_t
collab_clock(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int64_t
collab_wall_clock(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
collab_time_update(void)
{
    collab_loop.now = collab_clock();
}


int64_t
collab_now(void)
{
    return collab_loop.now;
}


int
collab_io_set(collab_io_t *io, uint32_t events)
{
    int                 op;
    struct epoll_event  ev;

    if (events == io->events) {
        return 0;
    }

    if (events == 0) {
        op = EPOLL_CTL_DEL;

    } else if (io->events == 0) {
        op = EPOLL_CTL_ADD;

    } else {
        op = EPOLL_CTL_MOD;
    }

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = io;

    if (epoll_ctl(collab_loop.epfd, op, io->fd, &ev) == -1
        && !(op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)))
    {
        return -1;
    }

    io->events = events;

    return 0;
}


static int
collab_timer_less(collab_timer_t *a, collab_timer_t *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}


static void
collab_heap_place(size_t i, collab_timer_t *t)
{
    collab_loop.heap[i] = t;
    t->index = i + 1;
}


static void
collab_heap_up(size_t i)
{
    size_t           parent;
    collab_timer_t  *t;

    t = collab_loop.heap[i];

    while (i > 0) {
        parent = (i - 1) / 2;

        if (!collab_timer_less(t, collab_loop.heap[parent])) {
            break;
        }

        collab_heap_place(i, collab_loop.heap[parent]);
        i = parent;
    }

    collab_heap_place(i, t);
}


static void
collab_heap_down(size_t i)
{
    size_t           child;
    collab_timer_t  *t;

    t = collab_loop.heap[i];

    for ( ;; ) {
        child = 2 * i + 1;

        if (child >= collab_loop.n) {
            break;
        }

        if (child + 1 < collab_loop.n
            && collab_timer_less(collab_loop.heap[child + 1],
                                 collab_loop.heap[child]))
        {
            child++;
        }

        if (!collab_timer_less(collab_loop.heap[child], t)) {
            break;
        }

        collab_heap_place(i, collab_loop.heap[child]);
        i = child;
    }

    collab_heap_place(i, t);
}


void
collab_timer_set(collab_timer_t *t, int64_t delay_ms)
{
    size_t            cap;
    collab_timer_t  **heap;

    collab_timer_del(t);

    if (collab_loop.n == collab_loop.cap) {
        cap = collab_loop.cap ? collab_loop.cap * 2 : 64;
        heap = realloc(collab_loop.heap, cap * sizeof(collab_timer_t *));
        if (heap == NULL) {
            /* no memory for the heap: the process cannot go on */
            abort();
        }

        collab_loop.heap = heap;
        collab_loop.cap = cap;
    }

    t->when = collab_loop.now + (delay_ms > 0 ? delay_ms : 0);
    t->seq = collab_loop.seq++;

    collab_heap_place(collab_loop.n++, t);
    collab_heap_up(collab_loop.n - 1);
}


void
collab_timer_del(collab_timer_t *t)
{
    size_t           i;
    collab_timer_t  *last;

    if (t->index == 0) {
        return;
    }

    i = t->index - 1;
    t->index = 0;
    last = collab_loop.heap[--collab_loop.n];

    if (i == collab_loop.n) {
        return;
    }

    collab_heap_place(i, last);

    if (i > 0 && collab_timer_less(last, collab_loop.heap[(i - 1) / 2])) {
        collab_heap_up(i);

    } else {
        collab_heap_down(i);
    }
}


int
collab_loop_turn(int busy)
{
    int                  n, i, timeout;
    int64_t              wait;
    collab_io_t         *io;
    collab_timer_t      *t;
    struct epoll_event   events[COLLAB_EVENTS];

    if (busy) {
        timeout = 0;

    } else if (collab_loop.n == 0) {
        timeout = -1;

    } else {
        wait = collab_loop.heap[0]->when - collab_clock();
        timeout = wait <= 0 ? 0 : wait > 60000 ? 60000 : (int) wait;
    }

    n = epoll_wait(collab_loop.epfd, events, COLLAB_EVENTS, timeout);

    if (n == -1 && errno != EINTR) {
        return -1;
    }

    collab_time_update();

    for (i = 0; i < n; i++) {
        io = events[i].data.ptr;

        /* an earlier handler of this turn may have removed it */
        if (io->events == 0) {
            continue;
        }

        io->handler(io, events[i].events);
    }

    collab_time_update();

    while (collab_loop.n > 0 && collab_loop.heap[0]->when <= collab_loop.now)
    {
        t = collab_loop.heap[0];
        collab_timer_del(t);
        t->handler(t);
    }

    return 0;
}
