/*
 * Copyright (C) collab
 *
 * Source maps (version 3, as esbuild writes them for TypeScript): the
 * "mappings" decoded into a sorted table, the lookup of a generated
 * position, and the rewriting of QuickJS stack traces into the positions
 * of the workflow's own source.  Plain C + jansson: unit-tested alone.
 *
 * Lines are 1-based and columns 1-based on both sides of the API, as
 * QuickJS reports them; the map itself counts from 0.
 */

#ifndef _NGX_COLLAB_SOURCEMAP_H_INCLUDED_
#define _NGX_COLLAB_SOURCEMAP_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>


typedef struct {
    int32_t     gen_line;
    int32_t     gen_col;
    int32_t     src_line;
    int32_t     src_col;
} collab_mapping_t;


typedef struct {
    collab_mapping_t  *maps;
    size_t             n;
    char              *source;       /* the first name of "sources" */
} collab_sourcemap_t;


/* 0, or -1 for a text that is not a version 3 map */
int collab_sourcemap_parse(collab_sourcemap_t *sm, const char *json,
    size_t len);
void collab_sourcemap_free(collab_sourcemap_t *sm);

/*
 * The source position of a generated one: the mapping at or before the
 * column on that line (or the first one of the line); 0, or -1 when the
 * line has no mapping.
 */
int collab_sourcemap_lookup(const collab_sourcemap_t *sm, int line, int col,
    int *src_line, int *src_col);

/*
 * A stack trace ("    at f (file:line:col)" lines) with the frames in
 * gen_file mapped to the source through sm (when sm is not NULL) and the
 * frames in drop_file left out, with those that have no position at all
 * when drop_file is given.  Returns a malloc()ed NUL-terminated
 * string, or NULL when out of memory.
 */
char *collab_stack_rewrite(const char *stack, size_t len,
    const char *gen_file, const collab_sourcemap_t *sm,
    const char *drop_file);

#endif /* _NGX_COLLAB_SOURCEMAP_H_INCLUDED_ */
