/*
 * Copyright (C) collab
 *
 * "compile" frames: the check of JavaScript and the compile helper that
 * runs esbuild for TypeScript.
 */

#ifndef _NGX_COLLAB_COMPILE_H_INCLUDED_
#define _NGX_COLLAB_COMPILE_H_INCLUDED_

#include "ngx_collab_rt.h"


int collab_compile_init(void);
void collab_compile_done(void);
void collab_compile(json_t *msg);
size_t collab_compile_pending(void);

#endif /* _NGX_COLLAB_COMPILE_H_INCLUDED_ */
