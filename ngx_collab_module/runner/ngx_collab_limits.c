/*
 * Copyright (C) collab
 *
 * Execution limits: defaults, parsing and the messages that name the
 * directive behind each limit.
 */

#include <stdio.h>
#include <string.h>

#include "ngx_collab_limits.h"


#define COLLAB_URL_SHOWN  200


typedef struct {
    const char  *name;
    size_t       offset;
    unsigned     is_size:1;
} collab_limit_field_t;


static const collab_limit_field_t  collab_limit_fields[] = {
    { "timeoutMs", offsetof(collab_limits_t, timeout_ms), 0 },
    { "memory", offsetof(collab_limits_t, memory), 1 },
    { "maxFetches", offsetof(collab_limits_t, max_fetches), 0 },
    { "fetchTimeoutMs", offsetof(collab_limits_t, fetch_timeout_ms), 0 },
    { "fetchMaxSize", offsetof(collab_limits_t, fetch_max_size), 1 },
    { "maxLogs", offsetof(collab_limits_t, max_logs), 1 },
    { "maxResult", offsetof(collab_limits_t, max_result), 1 },
    { NULL, 0, 0 }
};


void
collab_limits_default(collab_limits_t *l)
{
    l->timeout_ms = 30000;
    l->memory = 128 * 1024 * 1024;
    l->max_fetches = 50;
    l->fetch_timeout_ms = 10000;
    l->fetch_max_size = 1024 * 1024;
    l->max_logs = 64 * 1024;
    l->max_result = 64 * 1024;
}


int
collab_limits_parse(collab_limits_t *l, const json_t *obj, const char **err)
{
    double                       d;
    json_t                      *v;
    const collab_limit_field_t  *f;

    collab_limits_default(l);

    if (obj == NULL || json_is_null(obj)) {
        return 0;
    }

    if (!json_is_object(obj)) {
        *err = "limits";
        return -1;
    }

    for (f = collab_limit_fields; f->name; f++) {
        v = json_object_get(obj, f->name);

        if (v == NULL) {
            continue;
        }

        if (!json_is_number(v)) {
            *err = f->name;
            return -1;
        }

        d = json_number_value(v);

        /* whole numbers from 0 to 2^53 */
        if (!(d >= 0 && d <= 9007199254740992.0) || d != (double) (int64_t) d)
        {
            *err = f->name;
            return -1;
        }

        if (f->is_size) {
            *(size_t *) ((char *) l + f->offset) = (size_t) d;

        } else {
            *(int64_t *) ((char *) l + f->offset) = (int64_t) d;
        }
    }

    return 0;
}


void
collab_limits_size(char *buf, size_t size, size_t v)
{
    if (v >= 1024 * 1024 * 1024 && v % (1024 * 1024 * 1024) == 0) {
        snprintf(buf, size, "%zug", v / (1024 * 1024 * 1024));

    } else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0) {
        snprintf(buf, size, "%zum", v / (1024 * 1024));

    } else if (v >= 1024 && v % 1024 == 0) {
        snprintf(buf, size, "%zuk", v / 1024);

    } else {
        snprintf(buf, size, "%zu", v);
    }
}


void
collab_limits_time(char *buf, size_t size, int64_t ms)
{
    if (ms >= 3600000 && ms % 3600000 == 0) {
        snprintf(buf, size, "%lldh", (long long) (ms / 3600000));

    } else if (ms >= 60000 && ms % 60000 == 0) {
        snprintf(buf, size, "%lldm", (long long) (ms / 60000));

    } else if (ms >= 1000 && ms % 1000 == 0) {
        snprintf(buf, size, "%llds", (long long) (ms / 1000));

    } else {
        snprintf(buf, size, "%lldms", (long long) ms);
    }
}


int
collab_limits_fetch(const collab_limits_t *l, collab_usage_t *u, char *msg)
{
    if (u->fetches >= l->max_fetches) {
        snprintf(msg, COLLAB_LIMIT_MESSAGE,
                 "collab_workflow_max_fetches: the workflow started more "
                 "than %lld fetches", (long long) l->max_fetches);
        return -1;
    }

    u->fetches++;

    return 0;
}


int
collab_limits_log(const collab_limits_t *l, collab_usage_t *u, size_t bytes,
    char *msg)
{
    char  size[32];

    if (bytes > l->max_logs || u->logs > l->max_logs - bytes) {
        collab_limits_size(size, sizeof(size), l->max_logs);
        snprintf(msg, COLLAB_LIMIT_MESSAGE,
                 "collab_workflow_max_logs: the workflow logged more than "
                 "%s of messages", size);
        return -1;
    }

    u->logs += bytes;

    return 0;
}


int
collab_limits_result(const collab_limits_t *l, size_t bytes, char *msg)
{
    char  size[32];

    if (bytes <= l->max_result) {
        return 0;
    }

    collab_limits_size(size, sizeof(size), l->max_result);
    snprintf(msg, COLLAB_LIMIT_MESSAGE,
             "collab_workflow_max_result: the result is larger than %s "
             "of JSON", size);

    return -1;
}


int
collab_limits_fetch_size(const collab_limits_t *l, size_t bytes,
    const char *url, char *msg)
{
    char  size[32];

    if (bytes <= l->fetch_max_size) {
        return 0;
    }

    collab_limits_size(size, sizeof(size), l->fetch_max_size);
    snprintf(msg, COLLAB_LIMIT_MESSAGE,
             "collab_workflow_fetch_max_size: the answer of %.*s is larger "
             "than %s", COLLAB_URL_SHOWN, url, size);

    return -1;
}


void
collab_limits_timeout_message(const collab_limits_t *l, char *msg)
{
    char  time[32];

    collab_limits_time(time, sizeof(time), l->timeout_ms);
    snprintf(msg, COLLAB_LIMIT_MESSAGE,
             "collab_workflow_timeout: the execution ran longer than %s",
             time);
}


void
collab_limits_memory_message(const collab_limits_t *l, char *msg)
{
    char  size[32];

    collab_limits_size(size, sizeof(size), l->memory);
    snprintf(msg, COLLAB_LIMIT_MESSAGE,
             "collab_workflow_memory: the execution needed more than %s "
             "of memory", size);
}


void
collab_limits_fetch_timeout_message(const collab_limits_t *l,
    const char *url, char *msg)
{
    char  time[32];

    collab_limits_time(time, sizeof(time), l->fetch_timeout_ms);
    snprintf(msg, COLLAB_LIMIT_MESSAGE,
             "collab_workflow_fetch_timeout: no complete answer from %.*s "
             "within %s", COLLAB_URL_SHOWN, url, time);
}
