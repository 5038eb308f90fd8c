/*
 * Copyright (C) collab
 *
 * Executions: "run" and "cancel" frames, the turns of the runnable
 * executions, and their results.
 */

#ifndef _NGX_COLLAB_EXEC_H_INCLUDED_
#define _NGX_COLLAB_EXEC_H_INCLUDED_

#include "ngx_collab_rt.h"


void collab_exec_start(json_t *msg);
void collab_exec_cancel(const char *id);
int collab_exec_busy(void);
void collab_exec_run(void);
size_t collab_exec_count(void);
void collab_exec_shutdown(void);

#endif /* _NGX_COLLAB_EXEC_H_INCLUDED_ */
