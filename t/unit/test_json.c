/*
 * Copyright (C) collab
 *
 * Unit tests of the JSON writer (ngx_collab_json.c): escaping, separators,
 * number formatting, key order, times and canonical(); prints TAP.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_collab_json.h"


#include "tap.h"


/* compares got[0..len) with the C string want */

static void
is_bytes(const unsigned char *got, size_t len, const char *want,
    const char *name)
{
    char    *diag;
    size_t   n;
    int      ok;

    ok = got != NULL && want != NULL && len == strlen(want)
         && memcmp(got, want, len) == 0;

    if (got == NULL && want == NULL) {
        ok = 1;
    }

    diag = NULL;

    if (!ok) {
        n = len + (want ? strlen(want) : 0) + 64;
        diag = malloc(n);
        if (diag == NULL) {
            abort();
        }

        snprintf(diag, n, "#   got:      %.*s\n#   expected: %s",
                 got ? (int) len : 6, got ? (const char *) got : "(null)",
                 want ? want : "(null)");
    }

    tap(ok, diag, "%s", name);
    free(diag);
}


static void
is_writer(collab_json_t *j, const char *want, const char *name)
{
    size_t          len;
    unsigned char  *p;

    p = collab_json_detach(j, &len);
    is_bytes(p, len, want, name);
    free(p);
}


static void
is_canon(const char *text, const char *want)
{
    char    *p;
    size_t   len;

    p = collab_json_canonical(text, strlen(text), &len);
    is_bytes((unsigned char *) p, len, want, text);
    free(p);
}


static void
is_canon_null(const char *text, size_t len, const char *name)
{
    char    *p;
    size_t   n;

    n = 12345;
    p = collab_json_canonical(text, len, &n);
    tap(p == NULL, NULL, "%s", name);
    free(p);
}


static void
is_str(const char *s, size_t len, const char *want, const char *name)
{
    collab_json_t  j;

    collab_json_init(&j);
    collab_json_str(&j, (const unsigned char *) s, len);
    is_writer(&j, want, name);
}


static void
is_number(double v, const char *want, const char *name)
{
    char           label[128];
    collab_json_t  j;

    collab_json_init(&j);
    collab_json_number(&j, v);
    snprintf(label, sizeof(label), "number %s", name);
    is_writer(&j, want, label);
}


static void
test_strings(void)
{
    int   c;
    char  s[1], want[16], name[64];
    char  all[32];

    static const char  *short_esc[32] = {
        ['\b'] = "\"\\b\"", ['\t'] = "\"\\t\"", ['\n'] = "\"\\n\"",
        ['\f'] = "\"\\f\"", ['\r'] = "\"\\r\""
    };

    for (c = 0; c < 32; c++) {
        s[0] = (char) c;

        if (short_esc[c]) {
            snprintf(want, sizeof(want), "%s", short_esc[c]);

        } else {
            snprintf(want, sizeof(want), "\"\\u00%02x\"", c);
        }

        snprintf(name, sizeof(name), "control char 0x%02x", c);
        is_str(s, 1, want, name);
        all[c] = (char) c;
    }

    is_str(all, 32,
           "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
           "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012"
           "\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a"
           "\\u001b\\u001c\\u001d\\u001e\\u001f\"",
           "all control chars in one string");

    is_str("\"", 1, "\"\\\"\"", "double quote");
    is_str("\\", 1, "\"\\\\\"", "backslash");
    is_str("a/b</script>", 12, "\"a/b</script>\"", "slash not escaped");
    is_str("'", 1, "\"'\"", "single quote raw");
    is_str("\x7f", 1, "\"\x7f\"", "DEL raw");
    is_str("a\0b", 3, "\"a\\u0000b\"", "NUL inside string");
    is_str("\0", 1, "\"\\u0000\"", "lone NUL");
    is_str("", 0, "\"\"", "empty string");
    is_str("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"", "2-byte UTF-8 raw");
    is_str("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"", "4-byte UTF-8 raw");
    is_str("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\xe2\x80\xa8\xe2\x80\xa9\"",
           "U+2028 U+2029 raw");
    is_str("x\"\\\n\x01y", 6, "\"x\\\"\\\\\\n\\u0001y\"", "mixed escapes");

    is_canon("\"\\u00e9\\u00C9\"", "\"\xc3\xa9\xc3\x89\"");
    is_canon("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
    is_canon("\"\xf0\x9f\x98\x80\"", "\"\xf0\x9f\x98\x80\"");
    is_canon("\"\\/\"", "\"/\"");
    is_canon("\"\\u001F\\u007f\"", "\"\\u001f\x7f\"");
    is_canon("\"a\\u0000b\"", "\"a\\u0000b\"");
    is_canon("\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\b\\f\\n\\r\\t\\\"\\\\\"");
    is_canon("{\"k\\n\\u0001\":\"v\"}", "{\"k\\n\\u0001\":\"v\"}");
}


static void
test_numbers(void)
{
    char           *p, name[64];
    double          v, r;
    size_t          i, len;
    collab_json_t   j;

    static const struct {
        const char  *text;
        const char  *want;
    } canon[] = {
        { "0", "0" },
        { "-0", "0" },
        { "1", "1" },
        { "-1", "-1" },
        { "0.1", "0.1" },
        { "1.5", "1.5" },
        { "100", "100" },
        { "1e21", "1e+21" },
        { "1e+21", "1e+21" },
        { "1E2", "100" },
        { "100e-2", "1" },
        { "1e20", "100000000000000000000" },
        { "999999999999999999999", "1e+21" },
        { "1e-7", "1e-7" },
        { "1.5e-7", "1.5e-7" },
        { "-1.5e-7", "-1.5e-7" },
        { "0.000001", "0.000001" },
        { "1.1e-6", "0.0000011" },
        { "0.0000012345", "0.0000012345" },
        { "123e-20", "1.23e-18" },
        { "-2.5e-10", "-2.5e-10" },
        { "4.35", "4.35" },
        { "0.3", "0.3" },
        { "2432232314", "2432232314" },
        { "9007199254740993", "9007199254740992" },
        { "1.7976931348623157e308", "1.7976931348623157e+308" },
        { "2.2250738585072014e-308", "2.2250738585072014e-308" },
        { "5e-324", "5e-324" },
        { "-5e-324", "-5e-324" },
        { "1e-400", "0" },
        { "1e100", "1e+100" },
        { "12345678901234567890", "12345678901234567000" },
        { "123456789012345678901", "123456789012345680000" },
        { "1.2345678901234568e20", "123456789012345680000" },
        { "[1,-0,0.5,1e300]", "[1,0,0.5,1e+300]" },
    };

    for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
        is_canon(canon[i].text, canon[i].want);
    }

    is_number(0.0, "0", "0");
    is_number(-0.0, "0", "-0");
    is_number(NAN, "null", "NaN");
    is_number(INFINITY, "null", "Infinity");
    is_number(-INFINITY, "null", "-Infinity");
    is_number(0.1 + 0.2, "0.30000000000000004", "0.1+0.2");
    is_number(1e21, "1e+21", "1e21");
    is_number(1e-7, "1e-7", "1e-7");
    is_number(123456.789, "123456.789", "123456.789");
    is_number(-1234.5e-12, "-1.2345e-9", "-1.2345e-9");

    /* a power of two where the nearest 16-digit candidate misses */
    is_number(ldexp(1.0, -1017), "7.120236347223045e-307", "2^-1017");
    is_number(ldexp(1.0, -1074), "5e-324", "2^-1074");
    is_number(ldexp(1.0, 1023), "8.98846567431158e+307", "2^1023");
    is_number(ldexp(1.0, 53), "9007199254740992", "2^53");

    for (i = 0; i < 2098; i++) {
        v = ldexp(1.0, (int) i - 1074);

        collab_json_init(&j);
        collab_json_number(&j, v);
        p = (char *) collab_json_detach(&j, &len);
        r = p ? strtod(p, NULL) : 0;

        if (r != v) {
            snprintf(name, sizeof(name), "2^%d reads back", (int) i - 1074);
            tap(0, NULL, "%s", name);
            free(p);
            break;
        }

        free(p);
    }

    if (i == 2098) {
        tap(1, NULL, "every power of two reads back");
    }

    collab_json_init(&j);
    collab_json_arr_open(&j);
    collab_json_int(&j, 0);
    collab_json_int(&j, -1);
    collab_json_int(&j, 1780049160000LL);
    collab_json_int(&j, INT64_MAX);
    collab_json_int(&j, INT64_MIN);
    collab_json_arr_close(&j);
    is_writer(&j, "[0,-1,1780049160000,9223372036854775807,"
              "-9223372036854775808]", "int64 values exact");
}


static void
test_writer(void)
{
    int             i;
    size_t          len;
    json_t         *v;
    unsigned char  *p;
    collab_json_t   j;

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_obj_close(&j);
    is_writer(&j, "{}", "empty object");

    collab_json_init(&j);
    collab_json_arr_open(&j);
    collab_json_arr_close(&j);
    is_writer(&j, "[]", "empty array");

    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "a");
    collab_json_arr_open(&j);
    collab_json_int(&j, 1);
    collab_json_obj_open(&j);
    collab_json_key(&j, "b");
    collab_json_null(&j);
    collab_json_key(&j, "c");
    collab_json_bool(&j, 1);
    collab_json_key(&j, "d");
    collab_json_bool(&j, 0);
    collab_json_obj_close(&j);
    collab_json_arr_open(&j);
    collab_json_arr_close(&j);
    collab_json_obj_open(&j);
    collab_json_obj_close(&j);
    collab_json_cstr(&j, "s");
    collab_json_arr_close(&j);
    collab_json_key(&j, "e");
    collab_json_obj_open(&j);
    collab_json_obj_close(&j);
    collab_json_key(&j, "f\"");
    collab_json_cstr(&j, NULL);
    collab_json_key(&j, "t");
    collab_json_time(&j, 1780049160000LL);
    collab_json_obj_close(&j);
    is_writer(&j, "{\"a\":[1,{\"b\":null,\"c\":true,\"d\":false},[],{},\"s\"],"
              "\"e\":{},\"f\\\"\":null,\"t\":\"2026-05-29T10:06:00.000Z\"}",
              "nesting and separators");

    collab_json_init(&j);
    collab_json_arr_open(&j);
    collab_json_raw(&j, (const unsigned char *) "{\"x\":1}", 7);
    collab_json_raw(&j, (const unsigned char *) "[2]", 3);
    collab_json_obj_open(&j);
    collab_json_key(&j, "r");
    collab_json_raw(&j, (const unsigned char *) "\"q\"", 3);
    collab_json_key(&j, "n");
    collab_json_number(&j, 2.5);
    collab_json_obj_close(&j);
    collab_json_arr_close(&j);
    is_writer(&j, "[{\"x\":1},[2],{\"r\":\"q\",\"n\":2.5}]", "raw values");

    collab_json_init(&j);
    for (i = 0; i < COLLAB_JSON_MAX_DEPTH; i++) {
        collab_json_arr_open(&j);
    }
    for (i = 0; i < COLLAB_JSON_MAX_DEPTH; i++) {
        collab_json_arr_close(&j);
    }
    p = collab_json_detach(&j, &len);
    tap(p != NULL && len == 2 * COLLAB_JSON_MAX_DEPTH && p[0] == '['
        && p[len - 1] == ']' && p[len] == '\0', NULL,
        "depth %d accepted", COLLAB_JSON_MAX_DEPTH);
    free(p);

    collab_json_init(&j);
    for (i = 0; i <= COLLAB_JSON_MAX_DEPTH; i++) {
        collab_json_obj_open(&j);
        collab_json_key(&j, "k");
    }
    tap(j.failed, NULL, "depth %d fails", COLLAB_JSON_MAX_DEPTH + 1);
    p = collab_json_detach(&j, &len);
    tap(p == NULL && len == 0, NULL, "detach of a failed writer is NULL");
    tap(j.data == NULL && j.len == 0 && j.depth == 0 && !j.failed, NULL,
        "failed writer is reset by detach");

    collab_json_init(&j);
    collab_json_arr_close(&j);
    tap(j.failed, NULL, "unbalanced close fails");
    collab_json_free(&j);

    collab_json_init(&j);
    collab_json_cstr(&j, "x");
    p = collab_json_detach(&j, &len);
    tap(p != NULL && len == 3 && memcmp(p, "\"x\"", 4) == 0
        && j.data == NULL && j.len == 0 && j.cap == 0, NULL,
        "detach is NUL-terminated and resets");
    free(p);
    collab_json_cstr(&j, "y");
    is_writer(&j, "\"y\"", "writer reusable after detach");

    collab_json_init(&j);
    p = collab_json_detach(&j, &len);
    tap(p != NULL && len == 0 && p[0] == '\0', NULL, "detach of empty writer");
    free(p);

    {
        char    *big;
        size_t   n = 100000;

        big = malloc(n);
        if (big == NULL) {
            abort();
        }

        memset(big, 'a', n);
        big[n / 2] = '\n';

        collab_json_init(&j);
        collab_json_arr_open(&j);
        collab_json_str(&j, (unsigned char *) big, n);
        collab_json_str(&j, (unsigned char *) big, n);
        collab_json_arr_close(&j);
        p = collab_json_detach(&j, &len);
        tap(p != NULL && len == 2 * (n + 3) + 3 && p[len] == '\0'
            && p[1 + 1 + n / 2] == '\\' && p[1 + 1 + n / 2 + 1] == 'n',
            NULL, "buffer growth");
        free(p);
        free(big);
    }

    v = json_pack("{s:I,s:f,s:[s,b,n]}", "i", (json_int_t) 9007199254740993LL,
                  "r", 0.5, "a", "x", 1);
    collab_json_init(&j);
    collab_json_value(&j, v);
    is_writer(&j, "{\"i\":9007199254740992,\"r\":0.5,\"a\":[\"x\",true,null]}",
              "value() of built jansson object");
    json_decref(v);

    v = json_stringn("a\0b", 3);
    collab_json_init(&j);
    collab_json_value(&j, v);
    is_writer(&j, "\"a\\u0000b\"", "value() of string holding NUL");
    json_decref(v);

    v = json_object();
    json_object_set_new(v, "z", json_integer(1));
    json_object_set_new(v, "10", json_integer(2));
    json_object_set_new(v, "a", json_integer(3));
    json_object_set_new(v, "9", json_integer(4));
    json_object_set_new(v, "z", json_integer(5));
    collab_json_init(&j);
    collab_json_obj_open(&j);
    collab_json_key(&j, "v");
    collab_json_value(&j, v);
    collab_json_key(&j, "w");
    collab_json_int(&j, 0);
    collab_json_obj_close(&j);
    is_writer(&j, "{\"v\":{\"9\":4,\"10\":2,\"z\":5,\"a\":3},\"w\":0}",
              "value() inside object, insertion and index order");
    json_decref(v);
}


static void
test_objects(void)
{
    is_canon("{}", "{}");
    is_canon("[]", "[]");
    is_canon(" { } ", "{}");
    is_canon("[ [ ] , { } ]", "[[],{}]");
    is_canon("{\"b\":1,\"2\":1,\"1\":1,\"01\":1,\"4294967295\":1}",
             "{\"1\":1,\"2\":1,\"b\":1,\"01\":1,\"4294967295\":1}");
    is_canon("{\"4294967294\":1,\"a\":1,\"0\":1,\"-1\":1,\"1.0\":1,\" 1\":1}",
             "{\"0\":1,\"4294967294\":1,\"a\":1,\"-1\":1,\"1.0\":1,\" 1\":1}");
    is_canon("{\"z\":{\"3\":[{\"y\":1,\"x\":2,\"10\":3,\"9\":4}]},\"a\":true}",
             "{\"z\":{\"3\":[{\"9\":4,\"10\":3,\"y\":1,\"x\":2}]},\"a\":true}");
    is_canon("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");
    is_canon("{\"1\":1,\"b\":2,\"1\":3,\"0\":0}", "{\"0\":0,\"1\":3,\"b\":2}");
    is_canon("{\"__proto__\":1,\"constructor\":2}",
             "{\"__proto__\":1,\"constructor\":2}");
    is_canon(" true ", "true");
    is_canon("false", "false");
    is_canon("null", "null");
    is_canon("\"x\"", "\"x\"");
    is_canon("[1,\"a\",null,true,{\"k\":[false]}]",
             "[1,\"a\",null,true,{\"k\":[false]}]");
}


static void
test_invalid(void)
{
    char    *deep;
    size_t   i, n;

    is_canon_null("", 0, "canonical: empty input");
    is_canon_null("{", 1, "canonical: unterminated object");
    is_canon_null("[1,]", 4, "canonical: trailing comma");
    is_canon_null("01", 2, "canonical: leading zero");
    is_canon_null("{'a':1}", 7, "canonical: single quotes");
    is_canon_null("1 2", 3, "canonical: trailing garbage");
    is_canon_null("NaN", 3, "canonical: NaN");
    is_canon_null("\"a\nb\"", 5, "canonical: raw newline in string");
    is_canon_null("[1]\0", 4, "canonical: NUL byte after value");
    is_canon_null("\xef\xbb\xbf{}", 5, "canonical: byte order mark");
    is_canon_null("\"\xff\"", 3, "canonical: invalid UTF-8 byte");
    is_canon_null("\"\xc0\xaf\"", 4, "canonical: overlong UTF-8");
    is_canon_null("\"\xe2\x82\"", 4, "canonical: truncated UTF-8");
    is_canon_null("\"\xed\xa0\x80\"", 5, "canonical: UTF-8 surrogate");
    is_canon_null("{\"\xfe\":1}", 6, "canonical: invalid UTF-8 in key");
    is_canon_null("\"\\ud800\"", 8, "canonical: lone surrogate escape");
    is_canon_null("1e400", 5, "canonical: number overflow");

    n = COLLAB_JSON_MAX_DEPTH + 1;
    deep = malloc(2 * n + 1);
    if (deep == NULL) {
        abort();
    }

    for (i = 0; i < n; i++) {
        deep[i] = '[';
        deep[n + i] = ']';
    }

    is_canon_null(deep, 2 * n, "canonical: nesting deeper than the limit");

    deep[2 * n - 1] = '\0';
    is_canon(deep + 1, deep + 1);

    free(deep);
}


static void
test_time(void)
{
    size_t  i;
    char    buf[32];

    static const struct {
        int64_t      ms;
        const char  *want;
    } t[] = {
        { 0, "1970-01-01T00:00:00.000Z" },
        { 1780049160000LL, "2026-05-29T10:06:00.000Z" },
        { -1, "1969-12-31T23:59:59.999Z" },
        { 1709164800000LL, "2024-02-29T00:00:00.000Z" },
        { 951782400000LL, "2000-02-29T00:00:00.000Z" },
        { 1000000000123LL, "2001-09-09T01:46:40.123Z" },
        { -62167219200000LL, "0000-01-01T00:00:00.000Z" },
        { 253402300799999LL, "9999-12-31T23:59:59.999Z" },
        { INT64_MIN, "0000-01-01T00:00:00.000Z" },
        { INT64_MAX, "9999-12-31T23:59:59.999Z" },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(buf, 'x', sizeof(buf));
        collab_iso8601(buf, t[i].ms);
        tap(memcmp(buf, t[i].want, 25) == 0, NULL, "iso8601 %lld %s",
            (long long) t[i].ms, t[i].want);
    }
}


int
main(void)
{
    test_strings();
    test_numbers();
    test_objects();
    test_writer();
    test_invalid();
    test_time();

    return tap_done();
}
