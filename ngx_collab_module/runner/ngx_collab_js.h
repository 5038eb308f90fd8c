/*
 * Copyright (C) collab
 *
 * A workflow's globals: the runtime script and the natives behind it.
 */

#ifndef _NGX_COLLAB_JS_H_INCLUDED_
#define _NGX_COLLAB_JS_H_INCLUDED_

#include "ngx_collab_rt.h"


int collab_js_init(void);
void collab_js_done(void);
int collab_js_install(collab_exec_t *e);
void collab_js_timers_cancel(collab_exec_t *e);
int collab_js_has_timers(collab_exec_t *e);

#endif /* _NGX_COLLAB_JS_H_INCLUDED_ */
