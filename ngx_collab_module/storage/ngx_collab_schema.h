/*
 * Copyright (C) collab
 *
 * The schema migrations (ngx_collab_schema.c), run in order by
 * ngx_collab_db_prepare() and by bench/sqlite_baseline.c.  Plain C.
 */

#ifndef _NGX_COLLAB_SCHEMA_H_INCLUDED_
#define _NGX_COLLAB_SCHEMA_H_INCLUDED_

#include <stddef.h>


extern const char  *const ngx_collab_migrations[];
extern const size_t  ngx_collab_nmigrations;


#endif /* _NGX_COLLAB_SCHEMA_H_INCLUDED_ */
