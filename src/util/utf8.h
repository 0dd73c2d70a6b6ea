/*
 * utf8.h - UTF-8 validation, and the lossy copy that stands U+FFFD in for every byte that
 * is not part of a valid sequence (sources may hold any bytes; PostgreSQL, jansson and JSON
 * clients refuse them).
 */
#ifndef SW_UTF8_H
#define SW_UTF8_H

#include "util/common.h"
#include "util/strbuf.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes, n > 0), 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t utf8_len(const unsigned char *p, size_t n);
/* Append s[0..len) to sb with each invalid byte written as U+FFFD. */
void strbuf_add_utf8_lossy(struct strbuf *sb, const char *s, size_t len);

#endif
