/*
 * common.h - included first by every stepwatch .c file: the C library headers we use
 * everywhere, allocation helpers that abort on OOM, and banned.h last.
 */
#ifndef SW_COMMON_H
#define SW_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define SW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SW_NORETURN     __attribute__((noreturn))
#define SW_UNUSED       __attribute__((unused))
#else
#define SW_PRINTF(f, a)
#define SW_NORETURN
#define SW_UNUSED
#endif

/* Programmer errors: print and abort. Not for bad input. */
#define BUG(...) sw_bug(__FILE__, __LINE__, __VA_ARGS__)
SW_NORETURN void sw_bug(const char *file, int line, const char *fmt, ...) SW_PRINTF(3, 4);

/* Allocation that aborts on out-of-memory (tmux xmalloc.c), so callers need no NULL checks. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* NULL-safe strdup: NULL in, NULL out. */
char *xstrdup_or_null(const char *s);
char *xasprintf(const char *fmt, ...) SW_PRINTF(1, 2);

/* Grow *arr (of *alloc elements of size elem) to hold at least n; doubles. */
#define ALLOC_GROW(arr, n, alloc)                                                 \
	do {                                                                      \
		if ((n) > (alloc)) {                                              \
			size_t alloc_new_ = (alloc) ? (alloc)*2 : 8;              \
			while (alloc_new_ < (n))                                  \
				alloc_new_ *= 2;                                  \
			(arr) = xreallocarray((arr), alloc_new_, sizeof(*(arr))); \
			(alloc) = alloc_new_;                                     \
		}                                                                 \
	} while (0)

/* Error detail for callers: a fixed buffer filled by the callee (libuv/git style).
 * Functions return 0 on success and a negative value on failure, with err filled. */
struct sw_err {
	char msg[1024];
};
int sw_err_set(struct sw_err *err, const char *fmt, ...) SW_PRINTF(2, 3);

/* The value of hexadecimal digit c (either case), or -1. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#include "util/banned.h"

#endif
