/*
 * arena.c - the chunked bump allocator of arena.h.
 *
 * DESIGN: a chunk is one malloc: a header, then its bytes. Allocation rounds the size up to
 * the alignment and bumps chunk->used; when the head chunk has no room a new one is pushed
 * in front. A request larger than a quarter of the chunk size gets a chunk of exactly its
 * size, linked behind the head, so the head keeps filling. Reset frees every chunk but the
 * oldest normal one (the tail of the list, when it is normal size), which becomes the head
 * again: an arena reused per request allocates nothing after its first.
 */
#include "util/common.h"
#include "util/arena.h"
#include <stddef.h>
#include <stdalign.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define REDZONE        16
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define REDZONE        0
#endif

#define ALIGN alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct arena_defer {
	struct arena_defer *next;
	void (*fn)(void *);
	void *arg;
};

static size_t round_up(size_t n)
{
	if (n > SIZE_MAX - ALIGN - REDZONE)
		BUG("arena allocation of %zu bytes", n);
	return (n + REDZONE + ALIGN - 1) & ~(ALIGN - 1);
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c;
	if (size > SIZE_MAX - sizeof(*c))
		BUG("arena chunk of %zu bytes", size);
	c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	POISON(c->data, size);
	return c;
}

static void chunk_free(struct arena_chunk *c)
{
	UNPOISON(c->data, c->size);
	free(c);
}

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->defers = NULL;
	a->chunk_size = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = round_up(n ? n : 1);
	struct arena_chunk *c = a->head;
	void *p;
	if (!a->chunk_size)
		a->chunk_size = ARENA_CHUNK_SIZE;
	if (need > a->chunk_size / 4) {
		/* its own chunk, behind the head so the head keeps filling */
		c = chunk_new(need);
		if (a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			a->head = c;
		}
	} else if (!c || c->size - c->used < need) {
		c = chunk_new(a->chunk_size);
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	UNPOISON(p, n);
	return p;
}

void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	void *p;
	if (size && nmemb > SIZE_MAX / size)
		BUG("arena_calloc(%zu, %zu) overflows", nmemb, size);
	p = arena_alloc(a, nmemb * size);
	memset(p, 0, nmemb * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = arena_alloc(a, len + 1);
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, SIZE_MAX);
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *d;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("arena_printf: bad format '%s'", fmt);
	d = arena_alloc(a, (size_t)n + 1);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	return d;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *d;
	va_start(ap, fmt);
	d = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

void arena_defer(struct arena *a, void (*fn)(void *), void *arg)
{
	struct arena_defer *d = arena_alloc(a, sizeof(*d));
	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
}

/* Run the deferred calls, the last first; one may defer more, which run too. */
static void run_defers(struct arena *a)
{
	while (a->defers) {
		struct arena_defer *d = a->defers;
		a->defers = d->next;
		d->fn(d->arg);
	}
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c, *keep = NULL;
	run_defers(a);
	c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		if (!keep && !next && c->size == a->chunk_size)
			keep = c;
		else
			chunk_free(c);
		c = next;
	}
	if (keep) {
		keep->used = 0;
		POISON(keep->data, keep->size);
	}
	a->head = keep;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c;
	run_defers(a);
	c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		chunk_free(c);
		c = next;
	}
	arena_init(a);
}

size_t arena_used(const struct arena *a)
{
	size_t n = 0;
	for (const struct arena_chunk *c = a->head; c; c = c->next)
		n += c->used;
	return n;
}
