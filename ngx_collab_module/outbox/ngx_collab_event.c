/*
 * Copyright (C) collab
 *
 * Events: the one place that knows the event names and writes the
 * envelope {"event", "data", "timestamp"}.  Events are recorded (and
 * fanned out) by the outbox, ngx_collab_outbox.c; the API lists them
 * (api/ngx_collab_events.c).
 */

#include "ngx_collab.h"


static const char  *ngx_collab_event_names[] = {
    "participant.joined",
    "participant.left",
    "session.started",
    "session.closed",
    "user.created",
    "user.updated",
    "user.deleted",
};


const char *
ngx_collab_event_name(ngx_collab_event_e type)
{
    return ngx_collab_event_names[type];
}


/* the event's index, or NGX_ERROR when the name is not an event */
ngx_int_t
ngx_collab_event_lookup(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < COLLAB_EVENT_COUNT; i++) {
        if (name->len == ngx_strlen(ngx_collab_event_names[i])
            && ngx_strncmp(name->data, ngx_collab_event_names[i], name->len)
               == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


/* the envelope, as every receiver of the event sees it */
void
ngx_collab_event_envelope(collab_json_t *j, const char *type,
    ngx_str_t *data, int64_t at)
{
    collab_json_obj_open(j);
    collab_json_key(j, "event");
    collab_json_cstr(j, type);
    collab_json_key(j, "data");
    collab_json_raw(j, data->data, data->len);
    collab_json_key(j, "timestamp");
    collab_json_time(j, at);
    collab_json_obj_close(j);
}
