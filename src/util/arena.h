/*
 * arena.h - one lifetime for many small allocations: bump allocation in chunks, everything
 * freed at once (nginx ngx_palloc, h2o h2o_mem_pool). An HTTP request owns one (api.h
 * req->arena), freed when the request ends, so a handler allocates its query values,
 * cursors and temporary strings from it and frees nothing by hand; so does each page the
 * watcher ingests (its records, their labels, the alerts it builds: tasks_ingest), so a
 * page's memory goes at once when the page is committed.
 *
 *	struct arena a = ARENA_INIT;
 *	char *s = arena_printf(&a, "user:%s", name);
 *	...
 *	arena_release(&a);      // s and everything else allocated from a is gone
 *
 * Allocations are aligned for any type (max_align_t) and never fail (out of memory aborts,
 * as xmalloc). Not thread-safe: one arena belongs to one thread at a time. Under
 * AddressSanitizer the unused part of each chunk and a red zone after every allocation are
 * poisoned, so an overflow is caught as it would be with malloc.
 *
 * Things that live in other allocators (a jansson tree, a store result) can share the
 * lifetime through arena_defer: fn(arg) runs at reset or release, the last deferred first.
 */
#ifndef SW_ARENA_H
#define SW_ARENA_H

#include "util/common.h"
#include <stdarg.h>

struct arena_chunk;
struct arena_defer;

struct arena {
	struct arena_chunk *head;   /* the chunk being filled; the older ones follow */
	struct arena_defer *defers; /* the last deferred first */
	size_t chunk_size;          /* size of a normal chunk; 0 until the first allocation */
};

#define ARENA_INIT            \
	{                     \
		NULL, NULL, 0 \
	}

/* Normal chunk size: allocations above a quarter of it get a chunk of their own. */
#define ARENA_CHUNK_SIZE 4096

void arena_init(struct arena *a);
/* n bytes, uninitialised, aligned for any type; n = 0 gives a valid unique pointer. */
void *arena_alloc(struct arena *a, size_t n);
/* nmemb * size zeroed bytes; a product that overflows aborts. */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
char *arena_strdup(struct arena *a, const char *s);
/* The first n bytes of s (fewer if s ends before), NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) SW_PRINTF(2, 3);
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap) SW_PRINTF(2, 0);
/* Run fn(arg) when a is reset or released (before its memory goes: arg may live in a). */
void arena_defer(struct arena *a, void (*fn)(void *), void *arg);
/* Free everything allocated from a but keep its first chunk for reuse. */
void arena_reset(struct arena *a);
/* Free everything; a is empty (ARENA_INIT) again. */
void arena_release(struct arena *a);
/* Bytes handed out since the last reset (red zones and alignment padding included). */
size_t arena_used(const struct arena *a);

#endif
