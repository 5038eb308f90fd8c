/*
 * Copyright (C) collab
 *
 * The bindings' reads: each writes its answer as JSON text into out;
 * 0, or -1 when the data cannot be read.
 */

#ifndef _NGX_COLLAB_BINDINGS_H_INCLUDED_
#define _NGX_COLLAB_BINDINGS_H_INCLUDED_

#include "ngx_collab_rt.h"


int collab_bindings_open(const char *path);
void collab_bindings_close(void);
int collab_bindings_room(collab_exec_t *e, collab_json_t *out);
int collab_bindings_users(collab_exec_t *e, collab_json_t *out);
int collab_bindings_store_get(collab_exec_t *e, const char *store,
    size_t store_len, const char *key, size_t key_len, collab_json_t *out);
int collab_bindings_store_all(collab_exec_t *e, const char *store,
    size_t store_len, collab_json_t *out);
int collab_bindings_files(collab_exec_t *e, collab_json_t *out);

#endif /* _NGX_COLLAB_BINDINGS_H_INCLUDED_ */
