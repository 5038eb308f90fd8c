/*
 * Copyright (C) collab
 *
 * Length-prefixed frames and the byte buffers that carry them.
 */

#include <stdlib.h>
#include <string.h>

#include "ngx_collab_frame.h"


#define COLLAB_BUF_MIN  4096


void
collab_buf_init(collab_buf_t *b)
{
    memset(b, 0, sizeof(collab_buf_t));
}


void
collab_buf_free(collab_buf_t *b)
{
    free(b->data);
    collab_buf_init(b);
}


int
collab_buf_reserve(collab_buf_t *b, size_t n)
{
    size_t          len, cap;
    unsigned char  *p;

    if (b->cap - b->end >= n) {
        return 0;
    }

    len = b->end - b->start;

    /* consumed bytes at the front make room first */
    if (b->start > 0 && b->cap - len >= n) {
        memmove(b->data, b->data + b->start, len);
        b->start = 0;
        b->end = len;
        return 0;
    }

    if (n > (size_t) -1 / 2 - len) {
        return -1;
    }

    cap = b->cap ? b->cap : COLLAB_BUF_MIN;

    while (cap < len + n) {
        cap *= 2;
    }

    p = malloc(cap);
    if (p == NULL) {
        return -1;
    }

    if (len) {
        memcpy(p, b->data + b->start, len);
    }

    free(b->data);
    b->data = p;
    b->start = 0;
    b->end = len;
    b->cap = cap;

    return 0;
}


int
collab_buf_append(collab_buf_t *b, const void *p, size_t n)
{
    if (collab_buf_reserve(b, n) != 0) {
        return -1;
    }

    if (n) {
        memcpy(b->data + b->end, p, n);
        b->end += n;
    }

    return 0;
}


void
collab_buf_consume(collab_buf_t *b, size_t n)
{
    b->start += n;

    if (b->start >= b->end) {
        b->start = 0;
        b->end = 0;
    }
}


int
collab_frame_write(collab_buf_t *b, const unsigned char *payload, size_t len)
{
    unsigned char  header[COLLAB_FRAME_HEADER];

    if (len > COLLAB_FRAME_MAX
        || collab_buf_reserve(b, COLLAB_FRAME_HEADER + len) != 0)
    {
        return -1;
    }

    header[0] = (unsigned char) (len >> 24);
    header[1] = (unsigned char) (len >> 16);
    header[2] = (unsigned char) (len >> 8);
    header[3] = (unsigned char) len;

    memcpy(b->data + b->end, header, COLLAB_FRAME_HEADER);
    memcpy(b->data + b->end + COLLAB_FRAME_HEADER, payload, len);
    b->end += COLLAB_FRAME_HEADER + len;

    return 0;
}


int
collab_frame_next(collab_buf_t *b, size_t max, const unsigned char **payload,
    size_t *len)
{
    size_t          n;
    unsigned char  *p;

    if (b->end - b->start < COLLAB_FRAME_HEADER) {
        return 0;
    }

    p = b->data + b->start;
    n = (size_t) p[0] << 24 | (size_t) p[1] << 16 | (size_t) p[2] << 8
        | (size_t) p[3];

    if (n > max) {
        return -1;
    }

    if (b->end - b->start - COLLAB_FRAME_HEADER < n) {
        return 0;
    }

    *payload = p + COLLAB_FRAME_HEADER;
    *len = n;

    return 1;
}
