/*
 * Copyright (C) collab
 *
 * The wall clock in milliseconds, read afresh at each call (nginx's cached
 * time is of the event loop's last wake-up, and is not for threads).
 * Needs no nginx.
 */

#ifndef _NGX_COLLAB_CLOCK_H_INCLUDED_
#define _NGX_COLLAB_CLOCK_H_INCLUDED_


#include <stdint.h>
#include <time.h>


static inline int64_t
collab_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


#endif /* _NGX_COLLAB_CLOCK_H_INCLUDED_ */
