/*
 * Copyright (C) collab
 *
 * The frames of the module <-> runner socket: a 4-byte big-endian length,
 * then that many bytes of one JSON object in UTF-8.  Byte buffers that
 * collect what was read and hold what is still to be written.  Plain C:
 * unit-tested alone.
 */

#ifndef _NGX_COLLAB_FRAME_H_INCLUDED_
#define _NGX_COLLAB_FRAME_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#define COLLAB_FRAME_HEADER    4
#define COLLAB_FRAME_MAX       (64 * 1024 * 1024)


typedef struct {
    unsigned char  *data;
    size_t          start;      /* first byte not consumed yet */
    size_t          end;        /* one past the last byte held */
    size_t          cap;
} collab_buf_t;


void collab_buf_init(collab_buf_t *b);
void collab_buf_free(collab_buf_t *b);
/* room for n more bytes at data + end; 0 or -1 */
int collab_buf_reserve(collab_buf_t *b, size_t n);
int collab_buf_append(collab_buf_t *b, const void *p, size_t n);
void collab_buf_consume(collab_buf_t *b, size_t n);

static inline size_t
collab_buf_len(const collab_buf_t *b)
{
    return b->end - b->start;
}

/* appends a frame: the length header, then the payload; 0 or -1 */
int collab_frame_write(collab_buf_t *b, const unsigned char *payload,
    size_t len);

/*
 * The next complete frame in b: 1 with *payload and *len set (the caller
 * consumes COLLAB_FRAME_HEADER + *len bytes when done with it), 0 when more
 * bytes are needed, -1 when the header announces more than max bytes.
 */
int collab_frame_next(collab_buf_t *b, size_t max,
    const unsigned char **payload, size_t *len);

#endif /* _NGX_COLLAB_FRAME_H_INCLUDED_ */
