/*
 * Copyright (C) collab
 *
 * The QuickJS runtimes of the runner (an execution's, the compile
 * check's, the one that compiles the runtime scripts at start): their
 * allocator counts the bytes and tells a refusal at the limit apart from
 * an error the code throws; no module can be imported.
 */

#ifndef _NGX_COLLAB_ENGINE_H_INCLUDED_
#define _NGX_COLLAB_ENGINE_H_INCLUDED_

#include <stddef.h>
#include <quickjs.h>


/* the names the engine gives the workflow's code and the runtime's own */
#define COLLAB_WORKFLOW_FILE     "workflow.js"
#define COLLAB_RUNTIME_FILE      "collab:runtime"

#define COLLAB_STACK_SIZE        (1024 * 1024)


typedef struct {
    size_t              used;       /* bytes the engine holds */
    unsigned            exceeded;   /* an allocation was refused */
} collab_engine_t;


JSRuntime *collab_engine_new(collab_engine_t *eng, void *opaque,
    size_t memory);

#endif /* _NGX_COLLAB_ENGINE_H_INCLUDED_ */
