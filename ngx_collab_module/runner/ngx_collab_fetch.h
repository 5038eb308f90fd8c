/*
 * Copyright (C) collab
 *
 * fetch(): the transfers of every execution on one libcurl multi handle
 * and one c-ares channel, within the address rules.
 */

#ifndef _NGX_COLLAB_FETCH_H_INCLUDED_
#define _NGX_COLLAB_FETCH_H_INCLUDED_

#include "ngx_collab_rt.h"


int collab_fetch_init(void);
void collab_fetch_done(void);
JSValue collab_fetch_start(collab_exec_t *e, const char *url,
    const char *method, JSValueConst headers, JSValueConst body);
void collab_fetch_cancel(collab_exec_t *e);
void collab_fetch_turn_end(void);

#endif /* _NGX_COLLAB_FETCH_H_INCLUDED_ */
