/*
 * Copyright (C) collab
 *
 * The JSON writer: buffer and separator handling, string escaping,
 * number formatting as JavaScript's Number#toString, ISO 8601 times and
 * serialisation of jansson values in JSON.stringify() order.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_collab_json.h"
#include "ngx_collab_utf8.h"


#define COLLAB_JSON_MIN_CAP    256
#define COLLAB_JSON_NUM_LEN    40

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define COLLAB_TIME_MIN        (-62167219200000LL)
#define COLLAB_TIME_MAX        253402300799999LL


typedef struct {
    uint32_t     index;
    const char  *key;
    size_t       key_len;
    json_t      *value;
} collab_json_member_t;


static int collab_json_reserve(collab_json_t *j, size_t n);
static void collab_json_append(collab_json_t *j, const void *p, size_t n);
static void collab_json_sep(collab_json_t *j);
static void collab_json_open(collab_json_t *j, unsigned char c);
static void collab_json_close(collab_json_t *j, unsigned char c);
static void collab_json_escape(collab_json_t *j, const unsigned char *s,
    size_t len);
static void collab_json_keyn(collab_json_t *j, const char *key, size_t len);
static size_t collab_json_dtoa(double v, char *buf);
static int collab_json_try(double v, int p, char *buf);
static int collab_json_try_up(double v, int p, char *buf);
static int collab_json_digits(double v, char *digits, int *exp);
static int collab_json_array_index(const char *key, size_t len,
    uint32_t *index);
static int collab_json_member_cmp(const void *a, const void *b);
static void collab_json_object(collab_json_t *j, json_t *obj);
static int64_t collab_days_before_year(int64_t y);
static void collab_put_digits(char *p, int64_t v, int n);


static const char  collab_hex[] = "0123456789abcdef";

/* U+FFFD REPLACEMENT CHARACTER */
static const unsigned char  collab_replacement[] = { 0xef, 0xbf, 0xbd };


void
collab_json_init(collab_json_t *j)
{
    memset(j, 0, sizeof(collab_json_t));
}


void
collab_json_free(collab_json_t *j)
{
    free(j->data);
    collab_json_init(j);
}


unsigned char *
collab_json_detach(collab_json_t *j, size_t *len)
{
    unsigned char  *p;

    if (j->failed || collab_json_reserve(j, 0) != 0) {
        collab_json_free(j);

        if (len) {
            *len = 0;
        }

        return NULL;
    }

    p = j->data;
    p[j->len] = '\0';

    if (len) {
        *len = j->len;
    }

    collab_json_init(j);

    return p;
}


/* room for n more bytes plus a terminating NUL */

static int
collab_json_reserve(collab_json_t *j, size_t n)
{
    size_t          need, cap;
    unsigned char  *p;

    if (j->failed) {
        return -1;
    }

    if (n > (size_t) -1 - j->len - 1) {
        j->failed = 1;
        return -1;
    }

    need = j->len + n + 1;

    if (need <= j->cap) {
        return 0;
    }

    cap = j->cap ? j->cap : COLLAB_JSON_MIN_CAP;

    while (cap < need) {
        if (cap > (size_t) -1 / 2) {
            cap = need;
            break;
        }

        cap *= 2;
    }

    p = realloc(j->data, cap);
    if (p == NULL) {
        j->failed = 1;
        return -1;
    }

    j->data = p;
    j->cap = cap;

    return 0;
}


static void
collab_json_append(collab_json_t *j, const void *p, size_t n)
{
    if (collab_json_reserve(j, n) != 0) {
        return;
    }

    if (n) {
        memcpy(j->data + j->len, p, n);
        j->len += n;
    }
}


/* the separator a value needs at the current position */

static void
collab_json_sep(collab_json_t *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }

    if (j->depth == 0) {
        return;
    }

    if (j->first[j->depth - 1]) {
        j->first[j->depth - 1] = 0;
        return;
    }

    collab_json_append(j, ",", 1);
}


static void
collab_json_open(collab_json_t *j, unsigned char c)
{
    if (j->failed) {
        return;
    }

    collab_json_sep(j);

    if (j->depth >= COLLAB_JSON_MAX_DEPTH) {
        j->failed = 1;
        return;
    }

    j->first[j->depth++] = 1;
    collab_json_append(j, &c, 1);
}


static void
collab_json_close(collab_json_t *j, unsigned char c)
{
    if (j->failed) {
        return;
    }

    if (j->depth == 0 || j->after_key) {
        j->failed = 1;
        return;
    }

    j->depth--;
    collab_json_append(j, &c, 1);
}


void
collab_json_obj_open(collab_json_t *j)
{
    collab_json_open(j, '{');
}


void
collab_json_obj_close(collab_json_t *j)
{
    collab_json_close(j, '}');
}


void
collab_json_arr_open(collab_json_t *j)
{
    collab_json_open(j, '[');
}


void
collab_json_arr_close(collab_json_t *j)
{
    collab_json_close(j, ']');
}


/*
 * A string literal.  Every ill-formed UTF-8 subpart becomes U+FFFD, as a
 * receiver's decoder would read it, so that the output is always valid
 * UTF-8 and JSON.stringify(JSON.parse()) gives the same bytes back.
 */
static void
collab_json_escape(collab_json_t *j, const unsigned char *s, size_t len)
{
    size_t          i, n, run;
    unsigned char   c, esc[6];

    collab_json_append(j, "\"", 1);

    run = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c >= 0x80) {
            if (collab_utf8_decode(s + i, len - i, &n) != COLLAB_UTF8_INVALID) {
                i += n - 1;
                continue;
            }

            collab_json_append(j, s + run, i - run);
            collab_json_append(j, collab_replacement, 3);
            i += n - 1;
            run = i + 1;
            continue;
        }

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        collab_json_append(j, s + run, i - run);
        run = i + 1;

        esc[0] = '\\';

        switch (c) {
        case '"':
        case '\\':
            esc[1] = c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = collab_hex[c >> 4];
            esc[5] = collab_hex[c & 0xf];
            collab_json_append(j, esc, 6);
            continue;
        }

        collab_json_append(j, esc, 2);
    }

    collab_json_append(j, s + run, len - run);
    collab_json_append(j, "\"", 1);
}


static void
collab_json_keyn(collab_json_t *j, const char *key, size_t len)
{
    if (j->failed) {
        return;
    }

    if (j->depth == 0 || j->after_key) {
        j->failed = 1;
        return;
    }

    if (j->first[j->depth - 1]) {
        j->first[j->depth - 1] = 0;

    } else {
        collab_json_append(j, ",", 1);
    }

    collab_json_escape(j, (const unsigned char *) key, len);
    collab_json_append(j, ":", 1);

    j->after_key = 1;
}


void
collab_json_key(collab_json_t *j, const char *key)
{
    collab_json_keyn(j, key, strlen(key));
}


void
collab_json_str(collab_json_t *j, const unsigned char *s, size_t len)
{
    if (j->failed) {
        return;
    }

    if (s == NULL) {
        s = (const unsigned char *) "";
        len = 0;
    }

    collab_json_sep(j);
    collab_json_escape(j, s, len);
}


void
collab_json_cstr(collab_json_t *j, const char *s)
{
    if (s == NULL) {
        collab_json_null(j);
        return;
    }

    collab_json_str(j, (const unsigned char *) s, strlen(s));
}


void
collab_json_null(collab_json_t *j)
{
    collab_json_raw(j, (const unsigned char *) "null", 4);
}


void
collab_json_bool(collab_json_t *j, int v)
{
    if (v) {
        collab_json_raw(j, (const unsigned char *) "true", 4);

    } else {
        collab_json_raw(j, (const unsigned char *) "false", 5);
    }
}


void
collab_json_int(collab_json_t *j, int64_t v)
{
    char      buf[24], *p;
    uint64_t  u;

    p = buf + sizeof(buf);
    u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        *--p = '-';
    }

    collab_json_raw(j, (unsigned char *) p, buf + sizeof(buf) - p);
}


void
collab_json_number(collab_json_t *j, double v)
{
    char    buf[32];
    size_t  n;

    n = collab_json_dtoa(v, buf);
    collab_json_raw(j, (unsigned char *) buf, n);
}


void
collab_json_time(collab_json_t *j, int64_t ms)
{
    char  buf[25];

    collab_iso8601(buf, ms);
    collab_json_str(j, (unsigned char *) buf, 24);
}


/*
 * JSON text as it is.  Outside strings JSON is ASCII, so an ill-formed
 * UTF-8 subpart can only be inside a string, where U+FFFD replaces it.
 */
void
collab_json_raw(collab_json_t *j, const unsigned char *s, size_t len)
{
    size_t  i, n, run;

    if (j->failed) {
        return;
    }

    collab_json_sep(j);

    run = 0;
    i = collab_utf8_check(s, len);

    while (i < len) {
        collab_json_append(j, s + run, i - run);
        collab_json_append(j, collab_replacement, 3);

        (void) collab_utf8_decode(s + i, len - i, &n);

        run = i + n;
        i = run + collab_utf8_check(s + run, len - run);
    }

    collab_json_append(j, s + run, len - run);
}


void
collab_json_value(collab_json_t *j, const json_t *v)
{
    size_t   i, n;
    json_t  *val;

    if (j->failed) {
        return;
    }

    if (v == NULL) {
        collab_json_null(j);
        return;
    }

    val = (json_t *) v;

    switch (json_typeof(val)) {

    case JSON_OBJECT:
        collab_json_object(j, val);
        break;

    case JSON_ARRAY:
        collab_json_arr_open(j);

        n = json_array_size(val);

        for (i = 0; i < n && !j->failed; i++) {
            collab_json_value(j, json_array_get(val, i));
        }

        collab_json_arr_close(j);
        break;

    case JSON_STRING:
        collab_json_str(j, (const unsigned char *) json_string_value(val),
                        json_string_length(val));
        break;

    case JSON_INTEGER:
        collab_json_number(j, (double) json_integer_value(val));
        break;

    case JSON_REAL:
        collab_json_number(j, json_real_value(val));
        break;

    case JSON_TRUE:
        collab_json_bool(j, 1);
        break;

    case JSON_FALSE:
        collab_json_bool(j, 0);
        break;

    default:
        collab_json_null(j);
        break;
    }
}


/*
 * Own property order of an ordinary JavaScript object: keys that are
 * array indices first, ascending, then the rest in insertion order.
 */

static void
collab_json_object(collab_json_t *j, json_t *obj)
{
    void                  *it;
    size_t                 i, n, len;
    uint32_t               index;
    const char            *key;
    collab_json_member_t  *m;

    collab_json_obj_open(j);

    n = 0;

    for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
    {
        if (collab_json_array_index(json_object_iter_key(it),
                                    json_object_iter_key_len(it), &index))
        {
            n++;
        }
    }

    if (n) {
        m = malloc(n * sizeof(collab_json_member_t));
        if (m == NULL) {
            j->failed = 1;
            return;
        }

        i = 0;

        for (it = json_object_iter(obj);
             it;
             it = json_object_iter_next(obj, it))
        {
            key = json_object_iter_key(it);
            len = json_object_iter_key_len(it);

            if (collab_json_array_index(key, len, &index)) {
                m[i].index = index;
                m[i].key = key;
                m[i].key_len = len;
                m[i].value = json_object_iter_value(it);
                i++;
            }
        }

        qsort(m, n, sizeof(collab_json_member_t), collab_json_member_cmp);

        for (i = 0; i < n && !j->failed; i++) {
            collab_json_keyn(j, m[i].key, m[i].key_len);
            collab_json_value(j, m[i].value);
        }

        free(m);
    }

    for (it = json_object_iter(obj);
         it && !j->failed;
         it = json_object_iter_next(obj, it))
    {
        key = json_object_iter_key(it);
        len = json_object_iter_key_len(it);

        if (n && collab_json_array_index(key, len, &index)) {
            continue;
        }

        collab_json_keyn(j, key, len);
        collab_json_value(j, json_object_iter_value(it));
    }

    collab_json_obj_close(j);
}


/* a canonical decimal in [0, 2^32 - 2] */

static int
collab_json_array_index(const char *key, size_t len, uint32_t *index)
{
    size_t    i;
    uint64_t  v;

    if (len == 0 || len > 10 || (len > 1 && key[0] == '0')) {
        return 0;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (key[i] < '0' || key[i] > '9') {
            return 0;
        }

        v = v * 10 + (uint64_t) (key[i] - '0');
    }

    if (v > 4294967294ULL) {
        return 0;
    }

    *index = (uint32_t) v;

    return 1;
}


static int
collab_json_member_cmp(const void *a, const void *b)
{
    const collab_json_member_t  *ma = a, *mb = b;

    return (ma->index > mb->index) - (ma->index < mb->index);
}


/* the p significant digits nearest to v, in "%e" form, if they read back */

static int
collab_json_try(double v, int p, char *buf)
{
    snprintf(buf, COLLAB_JSON_NUM_LEN, "%.*e", p - 1, v);

    return strtod(buf, NULL) == v;
}


/*
 * At a power of two the gap to the next double below is half the gap
 * above, so the nearest p digits may fall outside the range that reads
 * back as v while the p digits next above still fall inside.
 */

static int
collab_json_try_up(double v, int p, char *buf)
{
    int   i, k, m;
    char  digits[COLLAB_JSON_NUM_LEN], up[COLLAB_JSON_NUM_LEN];

    if (collab_json_try(v, p, buf)) {
        return 1;
    }

    if (strtod(buf, NULL) > v) {
        return 0;
    }

    k = 0;
    for (i = 0; buf[i] != 'e'; i++) {
        if (buf[i] != '.') {
            digits[k++] = buf[i];
        }
    }

    m = (int) strtol(buf + i + 1, NULL, 10);

    for (i = k - 1; i >= 0; i--) {
        if (digits[i] != '9') {
            digits[i]++;
            break;
        }

        digits[i] = '0';
    }

    if (i < 0) {
        digits[0] = '1';
        m++;
    }

    snprintf(up, sizeof(up), "%c.%.*se%d", digits[0], k - 1, digits + 1, m);

    if (strtod(up, NULL) != v) {
        return 0;
    }

    memcpy(buf, up, sizeof(up));

    return 1;
}


/*
 * The shortest decimal digits that read back as v (v finite, > 0), and
 * among several of that length the nearest one.  Returns the number of
 * digits; *exp is the decimal exponent of the first digit.
 */

static int
collab_json_digits(double v, char *digits, int *exp)
{
    int   p, lo, hi, i, k, e;
    char  buf[COLLAB_JSON_NUM_LEN];

    if (frexp(v, &e) == 0.5) {
        for (p = 1; p < 17; p++) {
            if (collab_json_try_up(v, p, buf)) {
                break;
            }
        }

        if (p == 17) {
            collab_json_try(v, p, buf);
        }

    } else {

        /*
         * away from powers of two the nearest p digits reading back as v
         * implies the same for p + 1, so the shortest can be bisected;
         * up to 15 digits always read back, and usually suffice
         */

        lo = 1;
        hi = 17;
        p = 15;

        while (lo < hi) {
            if (collab_json_try(v, p, buf)) {
                hi = p;

            } else {
                lo = p + 1;
            }

            p = (lo + hi) / 2;
        }

        collab_json_try(v, lo, buf);
    }

    k = 0;
    for (i = 0; buf[i] != 'e'; i++) {
        if (buf[i] != '.') {
            digits[k++] = buf[i];
        }
    }

    *exp = (int) strtol(buf + i + 1, NULL, 10);

    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }

    return k;
}


/* Number#toString(): NaN and infinities are written as null */

static size_t
collab_json_dtoa(double v, char *buf)
{
    int       k, n, i, e;
    char      digits[COLLAB_JSON_NUM_LEN], *p;
    uint64_t  u;

    if (isnan(v) || isinf(v)) {
        memcpy(buf, "null", 4);
        return 4;
    }

    if (v == 0) {
        buf[0] = '0';
        return 1;
    }

    p = buf;

    if (v < 0) {
        *p++ = '-';
        v = -v;
    }

    if (v < 9007199254740992.0 && v == floor(v)) {
        u = (uint64_t) v;
        k = 0;

        do {
            digits[k++] = (char) ('0' + u % 10);
            u /= 10;
        } while (u);

        for (i = 0; i < k; i++) {
            *p++ = digits[k - 1 - i];
        }

        return p - buf;
    }

    k = collab_json_digits(v, digits, &e);
    n = e + 1;

    if (k <= n && n <= 21) {
        memcpy(p, digits, k);
        p += k;

        for (i = k; i < n; i++) {
            *p++ = '0';
        }

    } else if (0 < n && n <= 21) {
        memcpy(p, digits, n);
        p += n;
        *p++ = '.';
        memcpy(p, digits + n, k - n);
        p += k - n;

    } else if (-6 < n && n <= 0) {
        *p++ = '0';
        *p++ = '.';

        for (i = n; i < 0; i++) {
            *p++ = '0';
        }

        memcpy(p, digits, k);
        p += k;

    } else {
        *p++ = digits[0];

        if (k > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, k - 1);
            p += k - 1;
        }

        p += sprintf(p, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }

    return p - buf;
}


static void
collab_put_digits(char *p, int64_t v, int n)
{
    while (n--) {
        p[n] = (char) ('0' + v % 10);
        v /= 10;
    }
}


/* days from 0000-01-01 to January 1st of year y (y >= 0) */

static int64_t
collab_days_before_year(int64_t y)
{
    return y * 365 + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}


void
collab_iso8601(char *buf, int64_t ms)
{
    int                leap, mon;
    int64_t            t, days, rem, y, doy;
    static const int   mdays[12] = { 31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31 };

    if (ms < COLLAB_TIME_MIN) {
        ms = COLLAB_TIME_MIN;

    } else if (ms > COLLAB_TIME_MAX) {
        ms = COLLAB_TIME_MAX;
    }

    t = ms - COLLAB_TIME_MIN;
    days = t / 86400000;
    rem = t % 86400000;

    y = days * 400 / 146097;

    while (collab_days_before_year(y + 1) <= days) {
        y++;
    }

    while (collab_days_before_year(y) > days) {
        y--;
    }

    doy = days - collab_days_before_year(y);
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    for (mon = 0; mon < 11; mon++) {
        t = mdays[mon] + (mon == 1 && leap);

        if (doy < t) {
            break;
        }

        doy -= t;
    }

    collab_put_digits(buf, y, 4);
    buf[4] = '-';
    collab_put_digits(buf + 5, mon + 1, 2);
    buf[7] = '-';
    collab_put_digits(buf + 8, doy + 1, 2);
    buf[10] = 'T';
    collab_put_digits(buf + 11, rem / 3600000, 2);
    buf[13] = ':';
    collab_put_digits(buf + 14, rem / 60000 % 60, 2);
    buf[16] = ':';
    collab_put_digits(buf + 17, rem / 1000 % 60, 2);
    buf[19] = '.';
    collab_put_digits(buf + 20, rem % 1000, 3);
    buf[23] = 'Z';
    buf[24] = '\0';
}


char *
collab_json_canonical(const char *text, size_t len, size_t *outlen)
{
    json_t         *v;
    collab_json_t   j;
    json_error_t    err;

    v = json_loadb(text, len, COLLAB_JSON_DECODE|JSON_DECODE_ANY, &err);
    if (v == NULL) {
        return NULL;
    }

    collab_json_init(&j);
    collab_json_value(&j, v);
    json_decref(v);

    return (char *) collab_json_detach(&j, outlen);
}
