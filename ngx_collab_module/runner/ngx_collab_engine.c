/*
 * Copyright (C) collab
 *
 * The runner's QuickJS runtimes: an allocator that counts and remembers
 * what it refused, the stack limit and a module loader that loads
 * nothing.
 */

#include <malloc.h>
#include <stdlib.h>

#include "ngx_collab_engine.h"


static void *collab_engine_malloc(JSMallocState *s, size_t size);
static void collab_engine_free(JSMallocState *s, void *ptr);
static void *collab_engine_realloc(JSMallocState *s, void *ptr, size_t size);
static size_t collab_engine_usable_size(const void *ptr);
static JSModuleDef *collab_engine_loader(JSContext *ctx,
    const char *module_name, void *opaque);


static const JSMallocFunctions  collab_engine_malloc_functions = {
    collab_engine_malloc,
    collab_engine_free,
    collab_engine_realloc,
    collab_engine_usable_size
};


/*
 * The engine's allocator: like QuickJS's own, but what it refuses at the
 * limit is remembered, so that "out of memory" is told apart from an
 * error the workflow throws, and the bytes are counted where the
 * execution can see them.
 */

static void *
collab_engine_malloc(JSMallocState *s, size_t size)
{
    void             *p;
    collab_engine_t  *eng = s->opaque;

    if (s->malloc_size + size > s->malloc_limit) {
        eng->exceeded = 1;
        return NULL;
    }

    p = malloc(size);
    if (p == NULL) {
        eng->exceeded = 1;
        return NULL;
    }

    s->malloc_count++;
    s->malloc_size += malloc_usable_size(p);
    eng->used = s->malloc_size;

    return p;
}


static void
collab_engine_free(JSMallocState *s, void *ptr)
{
    collab_engine_t  *eng = s->opaque;

    if (ptr == NULL) {
        return;
    }

    s->malloc_count--;
    s->malloc_size -= malloc_usable_size(ptr);
    eng->used = s->malloc_size;

    free(ptr);
}


static void *
collab_engine_realloc(JSMallocState *s, void *ptr, size_t size)
{
    void             *p;
    size_t            old;
    collab_engine_t  *eng = s->opaque;

    if (ptr == NULL) {
        return size ? collab_engine_malloc(s, size) : NULL;
    }

    old = malloc_usable_size(ptr);

    if (size == 0) {
        collab_engine_free(s, ptr);
        return NULL;
    }

    if (size > old && s->malloc_size + (size - old) > s->malloc_limit) {
        eng->exceeded = 1;
        return NULL;
    }

    p = realloc(ptr, size);
    if (p == NULL) {
        eng->exceeded = 1;
        return NULL;
    }

    s->malloc_size += malloc_usable_size(p) - old;
    eng->used = s->malloc_size;

    return p;
}


static size_t
collab_engine_usable_size(const void *ptr)
{
    return malloc_usable_size((void *) ptr);
}


/*
 * A runtime whose allocations are counted in eng->used and whose refusals
 * (at the limit, or by malloc) set eng->exceeded.
 */
JSRuntime *
collab_engine_new(collab_engine_t *eng, void *opaque, size_t memory)
{
    JSRuntime  *rt;

    eng->used = 0;
    eng->exceeded = 0;

    rt = JS_NewRuntime2(&collab_engine_malloc_functions, eng);
    if (rt == NULL) {
        return NULL;
    }

    JS_SetMemoryLimit(rt, memory);
    JS_SetMaxStackSize(rt, COLLAB_STACK_SIZE);
    JS_SetRuntimeOpaque(rt, opaque);
    JS_SetModuleLoaderFunc(rt, NULL, collab_engine_loader, NULL);

    return rt;
}


/* workflows import nothing: there is no module to import */
static JSModuleDef *
collab_engine_loader(JSContext *ctx, const char *module_name, void *opaque)
{
    JS_ThrowReferenceError(ctx, "import of \"%s\": workflows cannot import "
                           "modules", module_name);
    return NULL;
}
