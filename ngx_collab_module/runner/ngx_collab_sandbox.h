/*
 * Copyright (C) collab
 *
 * The runner's sandbox: inherited descriptors and the environment go,
 * resource limits, the system call filter, and its self-test.
 */

#ifndef _NGX_COLLAB_SANDBOX_H_INCLUDED_
#define _NGX_COLLAB_SANDBOX_H_INCLUDED_

#include "ngx_collab_rt.h"


int collab_sandbox_fds(void);
int collab_sandbox_limits(void);
int collab_sandbox_seccomp(void);
int collab_sandbox_selftest(void);

#endif /* _NGX_COLLAB_SANDBOX_H_INCLUDED_ */
