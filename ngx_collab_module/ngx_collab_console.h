
/*
 * Copyright (C) collab
 *
 * The console's files, embedded in the module by util/console-embed.sh.
 */

#ifndef _NGX_COLLAB_CONSOLE_H_INCLUDED_
#define _NGX_COLLAB_CONSOLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   type;
    ngx_str_t                   etag;
    const u_char               *data;
    size_t                      len;
} ngx_collab_console_file_t;


/* the last has an empty name */
extern const ngx_collab_console_file_t  ngx_collab_console_files[];


#endif /* _NGX_COLLAB_CONSOLE_H_INCLUDED_ */
