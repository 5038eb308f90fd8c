/*
 * Copyright (C) collab
 *
 * Presence connections: GET .../connect as Server-Sent Events, held open
 * by the module.  The stream starts with "retry: 1000" and an "event:
 * presence" snapshot of the participants, then carries one message per
 * join or leave in the room and a ": heartbeat" comment every
 * collab_presence_heartbeat.  Every write is flushed at once.
 *
 * The head and the snapshot go out as the answer of the request, through
 * nginx's filters (chunked).  Once they are sent, the connection is
 * handed over from the request to the stream, as nginx does for a
 * keepalive connection: the request and its pool are freed (its access
 * log line is written then), and what stays is the connection, its small
 * pool with the stream in it, and a buffer only while bytes wait for the
 * client.  The stream then frames its chunks itself.  So an idle stream
 * costs about a kilobyte instead of the ten of a request.
 *
 * The streams of a worker are indexed by room.  The messages come from
 * the fan-out ring of the presence zone, whoever recorded them: a worker
 * that publishes wakes the others through a datagram to a socket of
 * theirs (an abstract Unix socket per worker slot), and each reads the
 * ring from where it stopped.  A stream skips the transitions its
 * snapshot already showed.
 *
 * A client that goes away is seen at once: a FIN or a reset ends the
 * stream from the read event, bytes that cannot be sent within
 * send_timeout end it too; so does the worker's shutdown (the connection
 * is marked idle, and nginx closes idle connections first).
 */

#include "ngx_collab.h"
#include "ngx_collab_presence.h"
#include "ngx_collab_presence_module.h"

#include <sys/un.h>


#define COLLAB_STREAM_BACKLOG    (64 * 1024)   /* unsent bytes, at most */
#define COLLAB_STREAM_READ       64            /* ring entries at a time */
#define COLLAB_STREAM_CHUNK      (COLLAB_PRESENCE_TEXT_MAX + 32)

#define COLLAB_STREAM_START      "retry: 1000\n\n" \
                                 "event: presence\ndata: {\"participants\":"
#define COLLAB_STREAM_HEARTBEAT  ": heartbeat\n\n"
#define COLLAB_STREAM_LAST       "0\r\n\r\n"


typedef struct {
    ngx_rbtree_node_t           node;       /* key: CRC32 of the room id */
    ngx_queue_t                 streams;
    u_char                      id[COLLAB_UUID_LEN];
} ngx_collab_stream_room_t;


/* in the connection's pool: it lives as long as the connection */
typedef struct {
    ngx_connection_t           *connection;
    ngx_http_request_t         *request;    /* until the handover */
    ngx_queue_t                 queue;      /* in its room */
    ngx_collab_stream_room_t   *room;
    ngx_collab_who_t            who;
    uint64_t                    seq;        /* what its snapshot showed */
    uint64_t                    gen;        /* its user entry */
    ngx_msec_t                  send_timeout;
    ngx_event_t                 heartbeat;
    ngx_event_t                 handover;
    u_char                     *out;        /* bytes waiting, ngx_alloc() */
    size_t                      out_pos;
    size_t                      out_len;
    unsigned                    ended:1;
    unsigned                    left:1;     /* no longer counted */
} ngx_collab_stream_t;


static void ngx_collab_stream_cleanup(void *data);
static void ngx_collab_stream_leave(ngx_collab_stream_t *s);
static void ngx_collab_stream_request_read(ngx_http_request_t *r);
static void ngx_collab_stream_request_write(ngx_http_request_t *r);
static void ngx_collab_stream_hand_over(ngx_event_t *ev);
static void ngx_collab_stream_take(ngx_collab_stream_t *s);
static void ngx_collab_stream_read(ngx_event_t *rev);
static void ngx_collab_stream_write(ngx_event_t *wev);
static ngx_int_t ngx_collab_stream_flush(ngx_collab_stream_t *s);
static ngx_int_t ngx_collab_stream_send(ngx_collab_stream_t *s, u_char *data,
    size_t len);
static void ngx_collab_stream_end(ngx_collab_stream_t *s, ngx_uint_t last);
static void ngx_collab_stream_beat(ngx_event_t *ev);
static void ngx_collab_stream_woken(ngx_event_t *ev);
static void ngx_collab_stream_restart(void);


static struct {
    ngx_rbtree_t                rooms;
    ngx_rbtree_node_t           sentinel;
    ngx_uint_t                  count;
    uint64_t                    gen;        /* of the ring, read up to */
    ngx_connection_t           *wake;
    ngx_log_t                  *log;
    ngx_collab_ring_entry_t    *entries;
    ngx_uint_t                  ready;
    ngx_collab_recorded_pt      recorded;
} ngx_collab_streams;


/* the address of a worker slot's wake-up socket */
static socklen_t
ngx_collab_stream_addr(ngx_uint_t slot, struct sockaddr_un *sun)
{
    u_char  *p;

    ngx_memzero(sun, sizeof(struct sockaddr_un));
    sun->sun_family = AF_UNIX;

    /* sun_path[0] == '\0': the abstract namespace, no file */
    p = ngx_snprintf((u_char *) sun->sun_path + 1, sizeof(sun->sun_path) - 1,
                     "collab-presence-%016xL-%ui",
                     ngx_collab_presence_zone_id(), slot);

    return (socklen_t) (p - (u_char *) sun);
}


ngx_int_t
ngx_collab_stream_init(ngx_cycle_t *cycle)
{
    ngx_socket_t         s;
    ngx_connection_t    *c;
    socklen_t            len;
    struct sockaddr_un   sun;

    ngx_collab_streams.log = cycle->log;
    ngx_rbtree_init(&ngx_collab_streams.rooms, &ngx_collab_streams.sentinel,
                    ngx_rbtree_insert_value);

    ngx_collab_streams.entries = ngx_palloc(cycle->pool,
                                            COLLAB_STREAM_READ
                                            * sizeof(ngx_collab_ring_entry_t));
    if (ngx_collab_streams.entries == NULL) {
        return NGX_ERROR;
    }

    ngx_collab_streams.gen = ngx_collab_presence_ring_gen();

    s = socket(AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      "collab: socket() for presence wake-ups failed");
        return NGX_ERROR;
    }

    len = ngx_collab_stream_addr(ngx_collab_presence_slot(), &sun);

    if (bind(s, (struct sockaddr *) &sun, len) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      "collab: bind() of the presence wake-up socket "
                      "\"@%s\" failed", sun.sun_path + 1);
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    c = ngx_get_connection(s, cycle->log);
    if (c == NULL) {
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    c->read->handler = ngx_collab_stream_woken;
    c->read->log = cycle->log;
    c->data = &ngx_collab_streams;

    if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    ngx_collab_streams.wake = c;
    ngx_collab_streams.ready = 1;

    return NGX_OK;
}


void
ngx_collab_stream_exit(void)
{
    ngx_collab_streams.ready = 0;

    if (ngx_collab_streams.wake) {
        ngx_close_connection(ngx_collab_streams.wake);
        ngx_collab_streams.wake = NULL;
    }
}


/* the ring has news: this worker's streams, and every other worker's */
void
ngx_collab_stream_notify(void)
{
    ngx_int_t           self;
    ngx_uint_t          i;
    socklen_t           len;
    struct sockaddr_un  sun;

    if (!ngx_collab_streams.ready) {
        return;
    }

    self = ngx_collab_presence_slot();

    for (i = 0; i < COLLAB_PRESENCE_SLOTS; i++) {
        if ((ngx_int_t) i == self || ngx_collab_presence_slot_pid(i) == 0) {
            continue;
        }

        len = ngx_collab_stream_addr(i, &sun);

        /* a full queue already holds a wake-up: nothing is lost */
        (void) sendto(ngx_collab_streams.wake->fd, "w", 1, MSG_DONTWAIT,
                      (struct sockaddr *) &sun, len);
    }

    ngx_collab_stream_fanout();
}


static void
ngx_collab_stream_woken(ngx_event_t *ev)
{
    u_char             buf[16];
    ngx_connection_t  *c;

    c = ev->data;

    while (recv(c->fd, buf, sizeof(buf), 0) > 0) {
        /* void */
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "collab presence: woken");

    ngx_collab_stream_fanout();
}


static ngx_collab_stream_room_t *
ngx_collab_stream_room(u_char *id, ngx_uint_t create)
{
    uint32_t                   key;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_collab_stream_room_t  *room;

    key = ngx_crc32_short(id, COLLAB_UUID_LEN);
    node = ngx_collab_streams.rooms.root;
    sentinel = ngx_collab_streams.rooms.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        room = (ngx_collab_stream_room_t *) node;

        if (ngx_memcmp(room->id, id, COLLAB_UUID_LEN) == 0) {
            return room;
        }

        node = node->right;
    }

    if (!create) {
        return NULL;
    }

    room = ngx_alloc(sizeof(ngx_collab_stream_room_t), ngx_cycle->log);
    if (room == NULL) {
        return NULL;
    }

    ngx_memcpy(room->id, id, COLLAB_UUID_LEN);
    ngx_queue_init(&room->streams);
    room->node.key = key;
    ngx_rbtree_insert(&ngx_collab_streams.rooms, &room->node);

    return room;
}


static ngx_int_t
ngx_collab_stream_header(ngx_http_request_t *r, const char *name,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


static ngx_int_t
ngx_collab_stream_copy(ngx_pool_t *pool, ngx_str_t *dst, ngx_str_t *src)
{
    dst->data = ngx_pstrdup(pool, src);
    dst->len = src->len;

    return dst->data ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_collab_stream_head(ngx_http_request_t *r)
{
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_collab_stream_header(r, "Cache-Control", "no-cache") != NGX_OK
        || ngx_collab_stream_header(r, "X-Accel-Buffering", "no") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_send_header(r);
}


/*
 * The connect route, once the client token is checked: the connection
 * counts in the table, the answer starts with its snapshot, and the
 * connection is handed over to the stream once that is sent.
 */
ngx_int_t
ngx_collab_stream_start(ngx_http_request_t *r, ngx_collab_who_t *who,
    int64_t issued_at)
{
    u_char                                *p;
    size_t                                 len;
    int64_t                                now;
    uint64_t                               recorded;
    ngx_int_t                              rc;
    ngx_buf_t                             *b;
    ngx_chain_t                            out;
    ngx_connection_t                      *c;
    ngx_pool_cleanup_t                    *cln;
    ngx_collab_stream_t                   *s;
    ngx_collab_snapshot_t                  snap;
    ngx_http_core_loc_conf_t              *clcf;
    ngx_http_collab_presence_main_conf_t  *pmcf;

    c = r->connection;
    pmcf = ngx_collab_presence_conf();

    if (!ngx_collab_streams.ready || !ngx_collab_presence_ready()) {
        return NGX_ABORT;
    }

    if (r->method == NGX_HTTP_HEAD) {
        /* the head alone: nobody connects */
        rc = ngx_collab_stream_head(r);
        return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
    }

    /* the stream ends with the connection: no next request on it */
    r->keepalive = 0;

    s = ngx_pcalloc(c->pool, sizeof(ngx_collab_stream_t));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_collab_stream_copy(c->pool, &s->who.account, &who->account)
           != NGX_OK
        || ngx_collab_stream_copy(c->pool, &s->who.room, &who->room) != NGX_OK
        || ngx_collab_stream_copy(c->pool, &s->who.user, &who->user)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->room = ngx_collab_stream_room(s->who.room.data, 1);
    if (s->room == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    collab_json_init(&snap.json);

    now = collab_now_ms();
    rc = ngx_collab_presence_connect(&s->who, issued_at, now, &snap,
                                     &recorded);

    if (rc != NGX_OK || snap.json.failed) {
        collab_json_free(&snap.json);

        if (ngx_queue_empty(&s->room->streams)) {
            ngx_rbtree_delete(&ngx_collab_streams.rooms, &s->room->node);
            ngx_free(s->room);
        }

        if (rc == NGX_OK) {
            /* counted, but no snapshot: the connection ends */
            ngx_collab_presence_disconnect(&s->who, snap.gen, now,
                                           pmcf->grace);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_DECLINED) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "collab: the presence zone is full");

        return NGX_BUSY;
    }

    /* from here on, the connection counts until it closes */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    s->connection = c;
    s->request = r;
    s->seq = snap.seq;
    s->gen = snap.gen;
    s->send_timeout = clcf->send_timeout;
    ngx_queue_insert_tail(&s->room->streams, &s->queue);
    ngx_collab_streams.count++;
    ngx_collab_metrics_gauge_add(COLLAB_G_PRESENCE_CONNECTIONS, 1);

    cln->handler = ngx_collab_stream_cleanup;
    cln->data = s;

    s->heartbeat.handler = ngx_collab_stream_beat;
    s->heartbeat.data = c;
    s->heartbeat.log = c->log;
    s->heartbeat.cancelable = 1;

    s->handover.handler = ngx_collab_stream_hand_over;
    s->handover.data = c;
    s->handover.log = c->log;

    if (recorded) {
        ngx_collab_presence_record();
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "collab stream: \"%V\" in room \"%V\", %ui streams",
                   &s->who.user, &s->who.room, ngx_collab_streams.count);

    /* the answer: the head, then the snapshot */

    len = sizeof(COLLAB_STREAM_START) - 1 + snap.json.len + sizeof("}\n\n");

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        collab_json_free(&snap.json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->pos, COLLAB_STREAM_START,
                   sizeof(COLLAB_STREAM_START) - 1);
    p = ngx_cpymem(p, snap.json.data, snap.json.len);
    p = ngx_cpymem(p, "}\n\n", 3);
    b->last = p;
    b->flush = 1;

    collab_json_free(&snap.json);

    rc = ngx_collab_stream_head(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_output_filter(r, &out);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_set_ctx(r, s, ngx_http_collab_presence_module);

    r->main->count++;
    r->read_event_handler = ngx_collab_stream_request_read;
    r->write_event_handler = ngx_collab_stream_request_write;

    /* closed first when the worker shuts down: clients go to the new ones */
    c->idle = 1;

    ngx_add_timer(&s->heartbeat, pmcf->heartbeat);

    if (rc == NGX_AGAIN || c->buffered || r->buffered || r->postponed) {
        /* the snapshot waits for the socket: handed over once it is out */
        if (ngx_handle_write_event(c->write, clcf->send_lowat) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_add_timer(c->write, clcf->send_timeout);

    } else {
        /* handed over once this handler has returned */
        ngx_post_event(&s->handover, &ngx_posted_events);
    }

    return NGX_DONE;
}


/* when the connection closes, however: it no longer counts */
static void
ngx_collab_stream_cleanup(void *data)
{
    ngx_collab_stream_t *s = data;

    if (s->heartbeat.timer_set) {
        ngx_del_timer(&s->heartbeat);
    }

    if (s->handover.posted) {
        ngx_delete_posted_event(&s->handover);
    }

    if (s->out) {
        ngx_free(s->out);
        s->out = NULL;
    }

    ngx_queue_remove(&s->queue);
    ngx_collab_streams.count--;
    ngx_collab_metrics_gauge_add(COLLAB_G_PRESENCE_CONNECTIONS, -1);

    if (ngx_queue_empty(&s->room->streams)) {
        ngx_rbtree_delete(&ngx_collab_streams.rooms, &s->room->node);
        ngx_free(s->room);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, s->heartbeat.log, 0,
                   "collab stream: \"%V\" left room \"%V\", %ui streams",
                   &s->who.user, &s->who.room, ngx_collab_streams.count);

    ngx_collab_stream_leave(s);
}


/*
 * The connection no longer counts in the presence table: before its socket
 * closes when the server ends it, so that a client that reconnects at once
 * never finds its old connection still counted; else when it closes.
 */
static void
ngx_collab_stream_leave(ngx_collab_stream_t *s)
{
    int64_t                                now;
    ngx_http_collab_presence_main_conf_t  *pmcf;

    if (s->left || !ngx_collab_presence_ready()) {
        return;
    }

    s->left = 1;
    pmcf = ngx_collab_presence_conf();
    now = collab_now_ms();

    ngx_collab_presence_disconnect(&s->who, s->gen, now, pmcf->grace);

    if (pmcf->grace) {
        ngx_collab_presence_deadline(now + pmcf->grace);
    }

    ngx_collab_presence_record();
}


/*
 * Reads and drops what a client sends: the end of its input (FIN) or an
 * error (RST) is the end of the stream.  NGX_AGAIN: nothing more to read;
 * NGX_DONE: the client is gone.
 */
static ngx_int_t
ngx_collab_stream_drain(ngx_connection_t *c)
{
    int        n;
    ngx_err_t  err;
    u_char     buf[64];

    for ( ;; ) {
        n = recv(c->fd, buf, sizeof(buf), 0);

        if (n > 0) {
            continue;
        }

        if (n == 0) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                           "collab stream: the client closed");
            c->read->eof = 1;
            return NGX_DONE;
        }

        err = ngx_socket_errno;

        if (err == NGX_EAGAIN) {
            return ngx_handle_read_event(c->read, 0) == NGX_OK ? NGX_AGAIN
                                                               : NGX_DONE;
        }

        if (err == NGX_EINTR) {
            continue;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, err,
                       "collab stream: the connection failed: %d", err);
        c->read->eof = 1;
        c->read->error = 1;
        return NGX_DONE;
    }
}


/* before the handover: the request's read event */
static void
ngx_collab_stream_request_read(ngx_http_request_t *r)
{
    if (ngx_collab_stream_drain(r->connection) == NGX_AGAIN) {
        return;
    }

    r->connection->error = 1;
    ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
}


/* before the handover: the snapshot goes out, then the hand-over */
static void
ngx_collab_stream_request_write(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_collab_stream_t       *s;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out");
        c->timedout = 1;
        c->error = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = ngx_http_output_filter(r, NULL);

    if (rc == NGX_ERROR) {
        c->error = 1;
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (c->buffered || r->buffered || r->postponed) {
        if (!wev->delayed) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            c->error = 1;
            ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        }

        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    s = ngx_http_get_module_ctx(r, ngx_http_collab_presence_module);

    /*
     * Called from the request's write event: nginx runs the request's
     * posted requests after it, which a handed-over connection (marked
     * destroyed, as a keepalive one is) skips.
     */
    ngx_collab_stream_take(s);
}


static void
ngx_collab_stream_hand_over(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_collab_stream_t  *s;

    c = ev->data;
    s = (ngx_collab_stream_t *)
        ((u_char *) ev - offsetof(ngx_collab_stream_t, handover));

    if (c->buffered || s->request->buffered || s->request->postponed) {
        ngx_collab_stream_request_write(s->request);

        /* not from the request's event: its posted requests run here */
        ngx_http_run_posted_requests(c);
        return;
    }

    ngx_collab_stream_take(s);
}


/*
 * The hand-over: the request is done (its access log line is written)
 * and freed with its pool; its header buffers go too.  The connection
 * stays, with the stream in its pool.
 */
static void
ngx_collab_stream_take(ngx_collab_stream_t *s)
{
    ngx_buf_t              *b;
    ngx_chain_t            *cl, *ln;
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_connection_t  *hc;

    r = s->request;
    c = s->connection;
    hc = r->http_connection;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    s->request = NULL;
    ngx_http_free_request(r, 0);

    c->data = s;
    c->log->action = "sending presence";

    /* as nginx's keepalive: the header buffers are not needed any more */

    b = c->buffer;

    if (b && b->start && ngx_pfree(c->pool, b->start) == NGX_OK) {
        b->pos = NULL;
    }

    for (cl = hc->free; cl; /* void */) {
        ln = cl;
        cl = cl->next;
        ngx_pfree(c->pool, ln->buf->start);
        ngx_free_chain(c->pool, ln);
    }

    hc->free = NULL;

    for (cl = hc->busy; cl; /* void */) {
        ln = cl;
        cl = cl->next;
        ngx_pfree(c->pool, ln->buf->start);
        ngx_free_chain(c->pool, ln);
    }

    hc->busy = NULL;
    hc->nbusy = 0;

    c->read->handler = ngx_collab_stream_read;
    c->write->handler = ngx_collab_stream_write;

    /* closed first when the worker shuts down: clients go to the new ones */
    c->idle = 1;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "collab stream: handed over");

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_collab_stream_end(s, 0);
        return;
    }

    /* what came while the request answered, and any message meanwhile */
    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }

    if (s->out_len > s->out_pos && ngx_collab_stream_flush(s) != NGX_OK) {
        ngx_collab_stream_end(s, 0);
    }
}


/* after the hand-over: a FIN, a reset, or the worker's shutdown */
static void
ngx_collab_stream_read(ngx_event_t *rev)
{
    ngx_connection_t     *c;
    ngx_collab_stream_t  *s;

    c = rev->data;
    s = c->data;

    if (c->close) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "collab stream: the worker is shutting down");
        ngx_collab_stream_end(s, 0);
        return;
    }

    if (ngx_collab_stream_drain(c) != NGX_AGAIN) {
        ngx_collab_stream_end(s, 0);
    }
}


/* after the hand-over: the socket takes more, or the client is too slow */
static void
ngx_collab_stream_write(ngx_event_t *wev)
{
    ngx_connection_t     *c;
    ngx_collab_stream_t  *s;

    c = wev->data;
    s = c->data;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "collab stream: the client timed out");
        c->timedout = 1;
        ngx_collab_stream_end(s, 0);
        return;
    }

    if (ngx_collab_stream_flush(s) != NGX_OK) {
        ngx_collab_stream_end(s, 0);
    }
}


/*
 * Sends what waits.  NGX_OK: sent, or the rest waits for the socket (with
 * send_timeout); NGX_ERROR: the stream must end.
 */
static ngx_int_t
ngx_collab_stream_flush(ngx_collab_stream_t *s)
{
    ssize_t            n;
    ngx_event_t       *wev;
    ngx_connection_t  *c;

    c = s->connection;
    wev = c->write;

    while (s->out_pos < s->out_len) {
        n = c->send(c, s->out + s->out_pos, s->out_len - s->out_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            if (!wev->timer_set) {
                ngx_add_timer(wev, s->send_timeout);
            }

            return ngx_handle_write_event(wev, 0);
        }

        s->out_pos += n;
    }

    /* all out: the buffer goes, an idle stream holds none */
    ngx_free(s->out);
    s->out = NULL;
    s->out_pos = 0;
    s->out_len = 0;

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    return NGX_OK;
}


/* keeps bytes for later; NGX_ERROR if too many wait already */
static ngx_int_t
ngx_collab_stream_keep(ngx_collab_stream_t *s, u_char *data, size_t len)
{
    u_char  *p;
    size_t   waiting;

    waiting = s->out_len - s->out_pos;

    if (waiting + len > COLLAB_STREAM_BACKLOG) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "collab stream: the client does not read, "
                      "%uz bytes wait", waiting);
        return NGX_ERROR;
    }

    p = ngx_alloc(waiting + len, s->connection->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (waiting) {
        ngx_memcpy(p, s->out + s->out_pos, waiting);
    }

    ngx_memcpy(p + waiting, data, len);

    if (s->out) {
        ngx_free(s->out);
    }

    s->out = p;
    s->out_pos = 0;
    s->out_len = waiting + len;

    return NGX_OK;
}


/*
 * Writes one message as a chunk of the answer, flushed: at once when the
 * connection is the stream's and nothing waits, else after what waits.
 * NGX_ERROR: the stream must end.
 */
static ngx_int_t
ngx_collab_stream_send(ngx_collab_stream_t *s, u_char *data, size_t len)
{
    u_char             *p;
    ssize_t             n;
    ngx_connection_t   *c;
    u_char              chunk[COLLAB_STREAM_CHUNK];

    if (s->ended || len > COLLAB_PRESENCE_TEXT_MAX) {
        return NGX_ERROR;
    }

    c = s->connection;

    p = ngx_sprintf(chunk, "%xz" CRLF, len);
    p = ngx_cpymem(p, data, len);
    *p++ = CR;
    *p++ = LF;

    if (s->request || s->out_len > s->out_pos) {
        return ngx_collab_stream_keep(s, chunk, p - chunk);
    }

    n = c->send(c, chunk, p - chunk);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (n == p - chunk) {
        return NGX_OK;
    }

    if (n == NGX_AGAIN) {
        n = 0;
    }

    if (ngx_collab_stream_keep(s, chunk + n, p - chunk - n) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_collab_stream_flush(s);
}


/*
 * The stream ends: with the answer's last chunk (last: its user or room
 * was deleted, so that the client sees a finished answer), or not (the
 * client is gone or too slow, the worker shuts down).  From a timer, an
 * event or the fan-out.
 */
static void
ngx_collab_stream_end(ngx_collab_stream_t *s, ngx_uint_t last)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (s->ended) {
        return;
    }

    s->ended = 1;
    c = s->connection;
    r = s->request;

    ngx_collab_stream_leave(s);

    if (r) {
        /* still the request's: it ends as a request does */
        if (last) {
            r->keepalive = 0;
            ngx_http_finalize_request(r,
                ngx_http_send_special(r, NGX_HTTP_LAST) == NGX_ERROR
                ? NGX_ERROR : NGX_OK);

        } else {
            c->error = 1;
            ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        }

        ngx_http_run_posted_requests(c);
        return;
    }

    if (last && s->out_len == s->out_pos) {
        (void) c->send(c, (u_char *) COLLAB_STREAM_LAST,
                       sizeof(COLLAB_STREAM_LAST) - 1);
    }

    ngx_http_close_connection(c);
}


static void
ngx_collab_stream_beat(ngx_event_t *ev)
{
    ngx_collab_stream_t  *s;

    s = (ngx_collab_stream_t *)
        ((u_char *) ev - offsetof(ngx_collab_stream_t, heartbeat));

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "collab stream: heartbeat");

    if (ngx_collab_stream_send(s, (u_char *) COLLAB_STREAM_HEARTBEAT,
                               sizeof(COLLAB_STREAM_HEARTBEAT) - 1)
        != NGX_OK)
    {
        ngx_collab_stream_end(s, 0);
        return;
    }

    ngx_add_timer(ev, ngx_collab_presence_conf()->heartbeat);
}


/* one ring entry, to the streams of its room in this worker */
static void
ngx_collab_stream_deliver(ngx_collab_ring_entry_t *e)
{
    ngx_uint_t                 last;
    ngx_queue_t               *q, *next;
    ngx_collab_stream_t       *s;
    ngx_collab_stream_room_t  *room;

    room = ngx_collab_stream_room(e->room, 0);

    if (room == NULL) {
        return;
    }

    /* an ended stream may free the room with its last stream */
    for (q = ngx_queue_head(&room->streams);
         q != ngx_queue_sentinel(&room->streams);
         q = next)
    {
        s = ngx_queue_data(q, ngx_collab_stream_t, queue);
        next = ngx_queue_next(q);

        /* what the stream's snapshot already showed, or came after it */
        if (e->seq <= s->seq) {
            continue;
        }

        switch (e->kind) {

        case COLLAB_RING_MESSAGE:
            if (ngx_collab_stream_send(s, e->text, e->len) == NGX_OK) {
                continue;
            }

            last = 0;
            break;

        case COLLAB_RING_END_USER:
            if (s->who.user.len != e->user_len
                || ngx_memcmp(s->who.user.data, e->user, e->user_len) != 0)
            {
                continue;
            }

            last = 1;
            break;

        default:
            last = 1;
            break;
        }

        if (next == ngx_queue_sentinel(&room->streams)) {
            ngx_collab_stream_end(s, last);
            return;
        }

        ngx_collab_stream_end(s, last);
    }
}


/* reads the ring from where this worker stopped, and delivers */
void
ngx_collab_stream_fanout(void)
{
    ngx_int_t   rc;
    ngx_uint_t  i, n;

    if (!ngx_collab_streams.ready) {
        return;
    }

    do {
        rc = ngx_collab_presence_ring_read(&ngx_collab_streams.gen,
                                           ngx_collab_streams.entries,
                                           COLLAB_STREAM_READ, &n);

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_WARN, ngx_collab_streams.log, 0,
                          "collab: presence messages came faster than this "
                          "worker read them; its streams end, and their "
                          "clients start over");
            ngx_collab_stream_restart();
            n = COLLAB_STREAM_READ;
            continue;
        }

        for (i = 0; i < n; i++) {
            ngx_collab_stream_deliver(&ngx_collab_streams.entries[i]);
        }

    } while (n == COLLAB_STREAM_READ);

    if (ngx_collab_streams.recorded) {
        ngx_collab_streams.recorded();
    }
}


/* the layer above hears of recorded transitions, as the ring is read */
void
ngx_collab_stream_on_recorded(ngx_collab_recorded_pt handler)
{
    ngx_collab_streams.recorded = handler;
}


/*
 * Messages were lost to this worker: its streams end, and their clients
 * connect again (after "retry: 1000") to start from a new snapshot.  The
 * grace keeps that from firing any event.
 */
static void
ngx_collab_stream_restart(void)
{
    ngx_queue_t               *q;
    ngx_rbtree_node_t         *root, *sentinel;
    ngx_collab_stream_t       *s;
    ngx_collab_stream_room_t  *room;

    sentinel = ngx_collab_streams.rooms.sentinel;

    for ( ;; ) {
        root = ngx_collab_streams.rooms.root;

        if (root == sentinel) {
            return;
        }

        /* each end may free a room: the tree is read afresh every time */
        room = (ngx_collab_stream_room_t *) ngx_rbtree_min(root, sentinel);

        for (q = ngx_queue_head(&room->streams);
             q != ngx_queue_sentinel(&room->streams);
             q = ngx_queue_next(q))
        {
            s = ngx_queue_data(q, ngx_collab_stream_t, queue);

            if (!s->ended) {
                break;
            }
        }

        if (q == ngx_queue_sentinel(&room->streams)) {
            /* only streams on their way out: they leave by themselves */
            return;
        }

        ngx_collab_stream_end(s, 0);
    }
}
