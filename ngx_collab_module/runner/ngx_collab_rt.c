/*
 * Copyright (C) collab
 *
 * What every part of the runner uses: its options, errors to stderr
 * (which the module logs), UTF-8 that a frame may carry, and the link to
 * the module: the frames it sends are read and handed to the dispatcher,
 * the answers queued and written as the socket takes them.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngx_collab_rt.h"


#define COLLAB_READ_CHUNK  65536


collab_runner_conf_t  collab_runner;


static struct {
    collab_io_t              io;
    collab_buf_t             in;
    collab_buf_t             out;
    collab_link_dispatch_pt  dispatch;
    unsigned                 eof:1;      /* the module sends no more */
    unsigned                 broken:1;   /* nothing can be sent any more */
} collab_link;


static void collab_link_handler(collab_io_t *io, uint32_t events);
static void collab_link_read(void);
static int collab_link_flush(void);
static int collab_link_update(void);


void
collab_runner_error(const char *fmt, ...)
{
    char     buf[1024];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    if ((size_t) n > sizeof(buf) - 2) {
        n = sizeof(buf) - 2;
    }

    buf[n++] = '\n';

    (void) !write(STDERR_FILENO, "collab-runner: ", 15);
    (void) !write(STDERR_FILENO, buf, n);
}


/*
 * JavaScript strings may hold lone surrogates, which QuickJS writes as
 * three-byte sequences (ED A0..BF xx) that are not UTF-8; each becomes
 * U+FFFD (EF BF BD), of the same length, so that every frame is UTF-8.
 */
size_t
collab_utf8_fix(char *s, size_t len)
{
    size_t          i;
    unsigned char  *p;

    p = (unsigned char *) s;

    for (i = 0; i + 2 < len; i++) {
        if (p[i] == 0xed && p[i + 1] >= 0xa0 && p[i + 1] <= 0xbf) {
            p[i] = 0xef;
            p[i + 1] = 0xbf;
            p[i + 2] = 0xbd;
            i += 2;
        }
    }

    return len;
}


/* fd 3, non-blocking already, is read from now on */
int
collab_link_open(collab_link_dispatch_pt dispatch)
{
    collab_link.io.fd = COLLAB_RUNNER_FD;
    collab_link.io.handler = collab_link_handler;
    collab_link.dispatch = dispatch;

    if (collab_io_set(&collab_link.io, EPOLLIN) != 0) {
        collab_runner_error("epoll_ctl(%d) failed: %s", COLLAB_RUNNER_FD,
                            strerror(errno));
        return -1;
    }

    return 0;
}


void
collab_link_close(void)
{
    collab_buf_free(&collab_link.in);
    collab_buf_free(&collab_link.out);
}


int
collab_link_broken(void)
{
    return collab_link.broken;
}


int
collab_link_finished(void)
{
    return collab_link.eof && collab_buf_len(&collab_link.out) == 0;
}


/* frames the JSON text of j, queues it for the module and frees j */
void
collab_runner_send(collab_json_t *j)
{
    size_t          len;
    unsigned char  *data;

    data = collab_json_detach(j, &len);

    if (data == NULL) {
        collab_runner_error("out of memory for an answer");
        return;
    }

    if (collab_frame_write(&collab_link.out, data, len) != 0) {
        collab_runner_error("an answer of %zu bytes cannot be sent", len);
    }

    free(data);

    if (collab_link_flush() != 0) {
        collab_link.broken = 1;
    }
}


static int
collab_link_update(void)
{
    uint32_t  events;

    events = collab_link.eof ? 0 : EPOLLIN;

    if (collab_buf_len(&collab_link.out) > 0) {
        events |= EPOLLOUT;
    }

    return collab_io_set(&collab_link.io, events);
}


static int
collab_link_flush(void)
{
    ssize_t  n;

    while (collab_buf_len(&collab_link.out) > 0) {
        n = write(COLLAB_RUNNER_FD,
                  collab_link.out.data + collab_link.out.start,
                  collab_buf_len(&collab_link.out));

        if (n > 0) {
            collab_buf_consume(&collab_link.out, (size_t) n);
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        return -1;
    }

    return collab_link_update();
}


static void
collab_link_handler(collab_io_t *io, uint32_t events)
{
    if (!collab_link.eof && (events & (EPOLLIN|EPOLLHUP|EPOLLERR))) {
        collab_link_read();
    }

    if (events & (EPOLLOUT|EPOLLERR)) {
        if (collab_link_flush() != 0) {
            collab_link.broken = 1;
        }
    }
}


static void
collab_link_read(void)
{
    int                   rc;
    size_t                len;
    ssize_t               n;
    const unsigned char  *payload;

    for ( ;; ) {
        if (collab_buf_reserve(&collab_link.in, COLLAB_READ_CHUNK) != 0) {
            collab_runner_error("out of memory reading a frame");
            exit(1);
        }

        n = read(COLLAB_RUNNER_FD, collab_link.in.data + collab_link.in.end,
                 COLLAB_READ_CHUNK);

        if (n == 0) {
            collab_link.eof = 1;
            collab_link_update();
            break;
        }

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }

            collab_link.eof = 1;
            collab_link.broken = 1;
            collab_link_update();
            break;
        }

        collab_link.in.end += (size_t) n;

        for ( ;; ) {
            rc = collab_frame_next(&collab_link.in, COLLAB_FRAME_MAX,
                                   &payload, &len);

            if (rc == 0) {
                break;
            }

            if (rc < 0) {
                collab_runner_error("a frame larger than %d bytes: the "
                                    "stream cannot go on",
                                    COLLAB_FRAME_MAX);
                exit(1);
            }

            collab_link.dispatch(payload, len);
            collab_buf_consume(&collab_link.in, COLLAB_FRAME_HEADER + len);
        }
    }
}


void
collab_runner_send_error(const char *id, const char *message)
{
    collab_json_t  j;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "type");
    collab_json_cstr(&j, "error");
    collab_json_key(&j, "id");
    collab_json_cstr(&j, id);
    collab_json_key(&j, "message");
    collab_json_cstr(&j, message);
    collab_json_obj_close(&j);

    collab_runner_send(&j);
}
