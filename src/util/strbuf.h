/*
 * strbuf.h - growable NUL-terminated byte buffer (after git's strbuf.h).
 *
 * Lifecycle: strbuf_init() or STRBUF_INIT; strbuf_reset() empties it and keeps the memory;
 * strbuf_release() frees the memory and leaves an empty, reusable buffer;
 * strbuf_detach() hands the string to the caller (who free()s it).
 */
#ifndef SW_STRBUF_H
#define SW_STRBUF_H

#include "util/common.h"

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf; /* always NUL-terminated, never NULL */
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT                  \
	{                            \
		0, 0, strbuf_slopbuf \
	}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) SW_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Append s as a JSON string literal, quotes included. */
void strbuf_add_json_str(struct strbuf *sb, const char *s);

#endif
