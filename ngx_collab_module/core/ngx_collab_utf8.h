/*
 * Copyright (C) collab
 *
 * The one UTF-8 validator: request bodies, path segments, query arguments
 * and the JSON writer use it.  Strict, as Unicode's table of well-formed
 * byte sequences: every continuation byte is checked, and overlong forms,
 * surrogates, code points above U+10FFFF and truncated sequences are all
 * ill-formed.
 *
 * Plain C: no nginx headers, so it is unit-tested alone.
 */

#ifndef _NGX_COLLAB_UTF8_H_INCLUDED_
#define _NGX_COLLAB_UTF8_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#define COLLAB_UTF8_INVALID  0xffffffff

/*
 * Decodes the sequence that starts at p (len >= 1).  Returns its code
 * point with *n its length, or COLLAB_UTF8_INVALID with *n the length of
 * its maximal ill-formed subpart (at least 1): the bytes that one U+FFFD
 * stands for when a decoder substitutes, as JavaScript's TextDecoder does.
 */
uint32_t collab_utf8_decode(const unsigned char *p, size_t len, size_t *n);

/* the offset of the first ill-formed sequence, or len if there is none */
size_t collab_utf8_check(const unsigned char *p, size_t len);

/* 1 if p[0..len) is well-formed UTF-8, 0 if not */
int collab_utf8_valid(const unsigned char *p, size_t len);

#endif /* _NGX_COLLAB_UTF8_H_INCLUDED_ */
