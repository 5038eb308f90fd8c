/*
 * Copyright (C) collab
 *
 * Source map decoding and lookup, and stack traces in source positions.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ngx_collab_sourcemap.h"


static int collab_vlq(const char **p, const char *end, int32_t *v);
static int collab_mapping_cmp(const void *a, const void *b);
static int collab_stack_frame(const char *line, size_t len,
    size_t *file_start, size_t *file_len, int *lineno, int *col);
static int collab_append(char **out, size_t *len, size_t *cap,
    const char *s, size_t n);
static int collab_stack_default_name(const char *line, size_t file_start,
    const char *source);


static int
collab_base64_digit(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    if (c == '/') {
        return 63;
    }

    return -1;
}


/* one base64 VLQ value: 5 bits a digit, continuation in bit 6, sign last */
static int
collab_vlq(const char **p, const char *end, int32_t *v)
{
    int       d, shift;
    uint32_t  u;

    u = 0;
    shift = 0;

    for ( ;; ) {
        if (*p == end || shift > 30) {
            return -1;
        }

        d = collab_base64_digit((unsigned char) **p);
        if (d < 0) {
            return -1;
        }

        (*p)++;
        u |= (uint32_t) (d & 0x1f) << shift;
        shift += 5;

        if (!(d & 0x20)) {
            break;
        }
    }

    *v = (u & 1) ? -(int32_t) (u >> 1) : (int32_t) (u >> 1);

    return 0;
}


int
collab_sourcemap_parse(collab_sourcemap_t *sm, const char *json, size_t len)
{
    int32_t            v[5], line, col, src, src_line, src_col;
    size_t             n, cap, i;
    json_t            *root, *mappings, *sources, *first;
    const char        *p, *end;
    collab_mapping_t  *maps, *m;

    memset(sm, 0, sizeof(collab_sourcemap_t));

    root = json_loadb(json, len, 0, NULL);
    if (root == NULL) {
        return -1;
    }

    mappings = json_object_get(root, "mappings");

    if (json_integer_value(json_object_get(root, "version")) != 3
        || !json_is_string(mappings))
    {
        json_decref(root);
        return -1;
    }

    sources = json_object_get(root, "sources");
    first = json_is_array(sources) ? json_array_get(sources, 0) : NULL;

    sm->source = strdup(json_is_string(first) ? json_string_value(first)
                                              : "source");
    if (sm->source == NULL) {
        json_decref(root);
        return -1;
    }

    p = json_string_value(mappings);
    end = p + json_string_length(mappings);

    maps = NULL;
    n = 0;
    cap = 0;
    line = 0;
    col = 0;
    src = 0;
    src_line = 0;
    src_col = 0;

    while (p < end) {
        if (*p == ';') {
            line++;
            col = 0;
            p++;
            continue;
        }

        if (*p == ',') {
            p++;
            continue;
        }

        for (i = 0; i < 5 && p < end && *p != ',' && *p != ';'; i++) {
            if (collab_vlq(&p, end, &v[i]) != 0) {
                goto failed;
            }
        }

        col += v[0];

        /* a segment of one field maps to nothing */
        if (i < 4) {
            continue;
        }

        src += v[1];
        src_line += v[2];
        src_col += v[3];

        /* positions of the first source only: TypeScript has one */
        if (src != 0 || col < 0 || src_line < 0 || src_col < 0) {
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            m = realloc(maps, cap * sizeof(collab_mapping_t));
            if (m == NULL) {
                goto failed;
            }

            maps = m;
        }

        maps[n].gen_line = line;
        maps[n].gen_col = col;
        maps[n].src_line = src_line;
        maps[n].src_col = src_col;
        n++;
    }

    json_decref(root);

    if (n) {
        qsort(maps, n, sizeof(collab_mapping_t), collab_mapping_cmp);
    }

    sm->maps = maps;
    sm->n = n;

    return 0;

failed:

    json_decref(root);
    free(maps);
    free(sm->source);
    sm->source = NULL;

    return -1;
}


static int
collab_mapping_cmp(const void *a, const void *b)
{
    const collab_mapping_t  *x = a, *y = b;

    if (x->gen_line != y->gen_line) {
        return x->gen_line < y->gen_line ? -1 : 1;
    }

    if (x->gen_col != y->gen_col) {
        return x->gen_col < y->gen_col ? -1 : 1;
    }

    return 0;
}


void
collab_sourcemap_free(collab_sourcemap_t *sm)
{
    free(sm->maps);
    free(sm->source);
    memset(sm, 0, sizeof(collab_sourcemap_t));
}


int
collab_sourcemap_lookup(const collab_sourcemap_t *sm, int line, int col,
    int *src_line, int *src_col)
{
    size_t             lo, hi, mid;
    int32_t            gl, gc;
    const collab_mapping_t  *m;

    if (sm == NULL || sm->n == 0 || line < 1) {
        return -1;
    }

    gl = line - 1;
    gc = col > 0 ? col - 1 : 0;

    /* the first mapping after (gl, gc) */
    lo = 0;
    hi = sm->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        m = &sm->maps[mid];

        if (m->gen_line < gl || (m->gen_line == gl && m->gen_col <= gc)) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (lo > 0 && sm->maps[lo - 1].gen_line == gl) {
        m = &sm->maps[lo - 1];

    } else if (lo < sm->n && sm->maps[lo].gen_line == gl) {
        m = &sm->maps[lo];

    } else {
        return -1;
    }

    *src_line = m->src_line + 1;
    *src_col = m->src_col + 1;

    return 0;
}


/*
 * Finds "file:line:col" in "    at name (file:line:col)" or in
 * "    at file:line:col"; 0 or -1.
 */
static int
collab_stack_frame(const char *line, size_t len, size_t *file_start,
    size_t *file_len, int *lineno, int *col)
{
    size_t  start, end, p;
    long    v[2];
    int     i;
    long    mul;

    if (len < 7 || memcmp(line, "    at ", 7) != 0) {
        return -1;
    }

    end = len;
    start = 7;

    if (line[end - 1] == ')') {
        end--;

        for (p = end; p > start && line[p - 1] != '('; p--) {
            /* void */
        }

        if (p == start) {
            return -1;
        }

        start = p;
    }

    /* two numbers from the right, each after a colon */
    p = end;

    for (i = 0; i < 2; i++) {
        v[i] = 0;
        mul = 1;

        if (p == start || line[p - 1] < '0' || line[p - 1] > '9') {
            return -1;
        }

        while (p > start && line[p - 1] >= '0' && line[p - 1] <= '9') {
            if (mul > 100000000) {
                return -1;
            }

            v[i] += (line[p - 1] - '0') * mul;
            mul *= 10;
            p--;
        }

        if (p == start || line[p - 1] != ':') {
            return -1;
        }

        p--;
    }

    *file_start = start;
    *file_len = p - start;
    *lineno = (int) v[1];
    *col = (int) v[0];

    return 0;
}


static int
collab_append(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    char    *p;
    size_t   c;

    if (*len + n + 1 > *cap) {
        c = *cap ? *cap : 256;

        while (c < *len + n + 1) {
            c *= 2;
        }

        p = realloc(*out, c);
        if (p == NULL) {
            return -1;
        }

        *out = p;
        *cap = c;
    }

    memcpy(*out + *len, s, n);
    *len += n;
    (*out)[*len] = '\0';

    return 0;
}


/* is the frame "    at STEM_default (" for a source "STEM.ts"? */
static int
collab_stack_default_name(const char *line, size_t file_start,
    const char *source)
{
    size_t       stem;
    const char  *dot;

    dot = strrchr(source, '.');
    stem = dot ? (size_t) (dot - source) : strlen(source);

    return file_start == 7 + stem + sizeof("_default (") - 1
           && memcmp(line + 7, source, stem) == 0
           && memcmp(line + 7 + stem, "_default (", 10) == 0;
}


char *
collab_stack_rewrite(const char *stack, size_t len, const char *gen_file,
    const collab_sourcemap_t *sm, const char *drop_file)
{
    int          lineno, col, src_line, src_col, n;
    char        *out, pos[64];
    size_t       out_len, cap, line_len, file_start, file_len, i;
    const char  *line, *nl, *end;

    out = NULL;
    out_len = 0;
    cap = 0;

    if (collab_append(&out, &out_len, &cap, "", 0) != 0) {
        return NULL;
    }

    end = stack + len;

    for (line = stack; line < end; line = nl + 1) {
        nl = memchr(line, '\n', end - line);
        if (nl == NULL) {
            nl = end;
        }

        line_len = nl - line;

        if (line_len == 0) {
            continue;
        }

        if (collab_stack_frame(line, line_len, &file_start, &file_len,
                               &lineno, &col) == 0)
        {
            if (drop_file && file_len == strlen(drop_file)
                && memcmp(line + file_start, drop_file, file_len) == 0)
            {
                continue;
            }

            if (sm && gen_file && file_len == strlen(gen_file)
                && memcmp(line + file_start, gen_file, file_len) == 0
                && collab_sourcemap_lookup(sm, lineno, col, &src_line,
                                           &src_col) == 0)
            {
                n = snprintf(pos, sizeof(pos), ":%d:%d", src_line, src_col);

                for (i = file_start + file_len; i < line_len; i++) {
                    if (line[i] == ')') {
                        break;
                    }
                }

                /*
                 * esbuild names an anonymous default export after the
                 * file ("workflow_default"): the frame says "default", as
                 * it does for JavaScript
                 */
                if (collab_stack_default_name(line, file_start, sm->source)) {
                    if (collab_append(&out, &out_len, &cap,
                                      "    at default (", 16) != 0)
                    {
                        free(out);
                        return NULL;
                    }

                } else if (collab_append(&out, &out_len, &cap, line,
                                         file_start) != 0)
                {
                    free(out);
                    return NULL;
                }

                if (collab_append(&out, &out_len, &cap, sm->source,
                                     strlen(sm->source)) != 0
                    || collab_append(&out, &out_len, &cap, pos, n) != 0
                    || collab_append(&out, &out_len, &cap, line + i,
                                     line_len - i) != 0
                    || collab_append(&out, &out_len, &cap, "\n", 1) != 0)
                {
                    free(out);
                    return NULL;
                }

                continue;
            }

        } else if (drop_file && line_len > 7
                   && memcmp(line, "    at ", 7) == 0
                   && line[line_len - 1] != ')')
        {
            /* a frame without a position: the runtime's, compiled
               without debug information */
            continue;
        }

        if (collab_append(&out, &out_len, &cap, line, line_len) != 0
            || collab_append(&out, &out_len, &cap, "\n", 1) != 0)
        {
            free(out);
            return NULL;
        }
    }

    return out;
}
