/*
 * jsonw.h - a small JSON value writer straight into a strbuf, for the API's hot answers (the
 * alert list and detail, whose forms are in forms.h). Its output is byte for byte what jansson's
 * json_dumps(..., JSON_COMPACT) gives for the same values: same escapes ("\b", "\u001F", ...), same
 * number and RFC 3339 time forms, same key order. Strings must be UTF-8; an invalid byte is written
 * as U+FFFD (jansson would refuse the whole string).
 */
#ifndef SW_API_JSONW_H
#define SW_API_JSONW_H

#include "util/common.h"
#include "util/strbuf.h"

/* A JSON string, or null for NULL. */
void jw_str(struct strbuf *sb, const char *s);
/* A copy of s with every invalid UTF-8 byte replaced by U+FFFD, as jw_str writes it. */
char *jw_utf8_dup(const char *s);
/* A JSON integer. */
void jw_int(struct strbuf *sb, int64_t v);
/* An RFC 3339 UTC time string (time_format_rfc3339's form), or null for TIME_NULL. */
void jw_time(struct strbuf *sb, int64_t ms);

#endif
