/*
 * Copyright (C) collab
 *
 * The one JSON writer: every API answer, every event envelope and every
 * webhook body is written here.  Output is byte-identical to what
 * JavaScript's JSON.stringify() gives for the same value, so that a
 * receiver's JSON.stringify(JSON.parse(body)) reproduces the signed bytes.
 *
 * Plain C (libc + jansson): no nginx headers, so it is unit-tested alone.
 */

#ifndef _NGX_COLLAB_JSON_H_INCLUDED_
#define _NGX_COLLAB_JSON_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define COLLAB_JSON_MAX_DEPTH  64

typedef struct {
    unsigned char  *data;
    size_t          len;
    size_t          cap;
    int             failed;      /* allocation failed or depth exceeded */
    int             depth;
    unsigned char   first[COLLAB_JSON_MAX_DEPTH]; /* no element yet */
    unsigned char   after_key;   /* a key was just written */
} collab_json_t;

void collab_json_init(collab_json_t *j);
void collab_json_free(collab_json_t *j);
/* hands the buffer over (caller frees with free()); j is reset */
unsigned char *collab_json_detach(collab_json_t *j, size_t *len);

void collab_json_obj_open(collab_json_t *j);
void collab_json_obj_close(collab_json_t *j);
void collab_json_arr_open(collab_json_t *j);
void collab_json_arr_close(collab_json_t *j);

void collab_json_key(collab_json_t *j, const char *key);
void collab_json_str(collab_json_t *j, const unsigned char *s, size_t len);
void collab_json_cstr(collab_json_t *j, const char *s);
void collab_json_null(collab_json_t *j);
void collab_json_bool(collab_json_t *j, int v);
void collab_json_int(collab_json_t *j, int64_t v);
void collab_json_number(collab_json_t *j, double v);
void collab_json_time(collab_json_t *j, int64_t ms);
void collab_json_raw(collab_json_t *j, const unsigned char *s, size_t len);
void collab_json_value(collab_json_t *j, const json_t *v);

/* "2026-05-29T10:06:00.000Z" (24 bytes) + NUL into buf[25] */
void collab_iso8601(char *buf, int64_t ms);

/* JSON.stringify(JSON.parse(text)) as a malloc()ed string, or NULL */
char *collab_json_canonical(const char *text, size_t len, size_t *outlen);

/* jansson flags every parse of client input uses */
#define COLLAB_JSON_DECODE  (JSON_DECODE_INT_AS_REAL|JSON_ALLOW_NUL)

#endif /* _NGX_COLLAB_JSON_H_INCLUDED_ */
