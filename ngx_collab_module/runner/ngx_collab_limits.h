/*
 * Copyright (C) collab
 *
 * The limits of one workflow execution (the collab_workflow_* directives,
 * handed over in the "limits" object of a run message) and the accounting
 * against them.  Every message that ends an execution for a limit names
 * the directive that sets it.  Plain C + jansson: unit-tested alone.
 */

#ifndef _NGX_COLLAB_LIMITS_H_INCLUDED_
#define _NGX_COLLAB_LIMITS_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define COLLAB_LIMIT_MESSAGE   320


typedef struct {
    int64_t     timeout_ms;          /* collab_workflow_timeout */
    size_t      memory;              /* collab_workflow_memory */
    int64_t     max_fetches;         /* collab_workflow_max_fetches */
    int64_t     fetch_timeout_ms;    /* collab_workflow_fetch_timeout */
    size_t      fetch_max_size;      /* collab_workflow_fetch_max_size */
    size_t      max_logs;            /* collab_workflow_max_logs */
    size_t      max_result;          /* collab_workflow_max_result */
} collab_limits_t;


typedef struct {
    int64_t     fetches;             /* fetches started */
    size_t      logs;                /* bytes of log messages kept */
} collab_usage_t;


/* the defaults of the directives */
void collab_limits_default(collab_limits_t *l);

/*
 * Reads a "limits" object over the defaults: known members must be
 * non-negative integers (timeoutMs, memory, maxFetches, fetchTimeoutMs,
 * fetchMaxSize, maxLogs, maxResult); unknown members are ignored.  Returns
 * 0, or -1 with *err naming the bad member.
 */
int collab_limits_parse(collab_limits_t *l, const json_t *obj,
    const char **err);

/*
 * Each check returns 0 when the use stays within its limit, else -1 with
 * the message that ends the execution written into msg
 * (COLLAB_LIMIT_MESSAGE bytes).
 */
int collab_limits_fetch(const collab_limits_t *l, collab_usage_t *u,
    char *msg);
int collab_limits_log(const collab_limits_t *l, collab_usage_t *u,
    size_t bytes, char *msg);
int collab_limits_result(const collab_limits_t *l, size_t bytes, char *msg);
int collab_limits_fetch_size(const collab_limits_t *l, size_t bytes,
    const char *url, char *msg);

void collab_limits_timeout_message(const collab_limits_t *l, char *msg);
void collab_limits_memory_message(const collab_limits_t *l, char *msg);
void collab_limits_fetch_timeout_message(const collab_limits_t *l,
    const char *url, char *msg);

/* a size as nginx writes it in a directive: "128m", "64k", "1000" */
void collab_limits_size(char *buf, size_t size, size_t v);
/* a time as nginx writes it: "30s", "1500ms", "2m" */
void collab_limits_time(char *buf, size_t size, int64_t ms);

#endif /* _NGX_COLLAB_LIMITS_H_INCLUDED_ */
