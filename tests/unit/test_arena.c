/*
 * test_arena.c - util/arena.c: alignment, chunk boundaries, large allocations, the string
 * helpers, reset and release. Run under ASan+LSan, which also checks that every chunk is
 * freed and that the poisoning of unused bytes is lifted before reuse.
 */
#include "helpers.h"
#include "util/arena.h"
#include <stdalign.h>
#include <stddef.h>

static bool aligned(const void *p)
{
	return (uintptr_t)p % alignof(max_align_t) == 0;
}

static void test_alignment_and_distinct(void **state)
{
	struct arena a = ARENA_INIT;
	unsigned char *prev = NULL;
	(void)state;
	for (size_t n = 0; n < 300; n++) {
		unsigned char *p = arena_alloc(&a, n % 37);
		assert_true(aligned(p));
		assert_true(p != prev);
		memset(p, 0xab, n % 37); /* writable to its end (ASan checks) */
		prev = p;
	}
	/* types that need alignment */
	long double *ld = arena_alloc(&a, sizeof(*ld));
	*ld = 1.5L;
	assert_true(aligned(ld));
	arena_release(&a);
	assert_null(a.head);
}

/* Values survive across many chunks; nothing overlaps. */
static void test_many_chunks(void **state)
{
	struct arena a = ARENA_INIT;
	int64_t *v[2000];
	(void)state;
	for (int i = 0; i < 2000; i++) {
		v[i] = arena_alloc(&a, sizeof(int64_t) * 3);
		v[i][0] = i;
		v[i][2] = -i;
	}
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(v[i][0], i);
		assert_int_equal(v[i][2], -i);
	}
	assert_true(arena_used(&a) >= 2000 * 24);
	arena_release(&a);
}

/* A large allocation gets its own chunk and the head keeps filling. */
static void test_large(void **state)
{
	struct arena a = ARENA_INIT;
	char *small1, *big, *small2, *huge;
	(void)state;
	small1 = arena_alloc(&a, 16);
	big = arena_alloc(&a, ARENA_CHUNK_SIZE * 3);
	memset(big, 'x', ARENA_CHUNK_SIZE * 3);
	small2 = arena_alloc(&a, 16);
	assert_true(aligned(big));
	/* same chunk as small1: the big one did not displace the head */
	assert_true(small2 > small1 && small2 - small1 < 256);
	huge = arena_alloc(&a, 8 * 1024 * 1024);
	assert_true(aligned(huge));
	huge[0] = 1;
	huge[8 * 1024 * 1024 - 1] = 2;
	assert_int_equal(big[ARENA_CHUNK_SIZE * 3 - 1], 'x');
	/* a large allocation as the very first one */
	arena_release(&a);
	big = arena_alloc(&a, 100000);
	big[99999] = 1;
	small1 = arena_alloc(&a, 8);
	small1[7] = 1;
	arena_release(&a);
}

static void test_calloc_and_strings(void **state)
{
	struct arena a = ARENA_INIT;
	int *z;
	char *s, *long_s;
	char buf[5000];
	(void)state;
	z = arena_calloc(&a, 100, sizeof(int));
	for (int i = 0; i < 100; i++)
		assert_int_equal(z[i], 0);
	assert_non_null(arena_calloc(&a, 0, 8));
	assert_string_equal(arena_strdup(&a, "alert"), "alert");
	assert_string_equal(arena_strdup(&a, ""), "");
	assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
	assert_string_equal(arena_strndup(&a, "ab", 10), "ab");
	s = arena_printf(&a, "user:%s #%d", "rob", 42);
	assert_string_equal(s, "user:rob #42");
	/* longer than a chunk */
	memset(buf, 'q', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	long_s = arena_printf(&a, "[%s]", buf);
	assert_int_equal(strlen(long_s), sizeof(buf) + 1);
	assert_int_equal(long_s[0], '[');
	assert_int_equal(long_s[sizeof(buf)], ']');
	assert_string_equal(arena_strdup(&a, buf), buf);
	arena_release(&a);
}

/* Reset keeps one chunk for reuse and frees the rest; the arena works after it. */
static void test_reset_reuses(void **state)
{
	struct arena a = ARENA_INIT;
	void *first;
	(void)state;
	arena_reset(&a); /* empty: harmless */
	first = arena_alloc(&a, 32);
	for (int i = 0; i < 500; i++)
		arena_alloc(&a, 100);
	arena_alloc(&a, 50000);
	arena_reset(&a);
	assert_int_equal(arena_used(&a), 0);
	/* the first chunk again: nothing allocated */
	assert_ptr_equal(arena_alloc(&a, 32), first);
	for (int round = 0; round < 3; round++) {
		char *s = arena_printf(&a, "round %d", round);
		assert_string_equal(s, round == 0 ? "round 0" : round == 1 ? "round 1" : "round 2");
		arena_reset(&a);
	}
	arena_release(&a);
	arena_release(&a); /* twice: harmless */
}

struct trace {
	char seen[8];
	size_t n;
};

struct mark {
	struct trace *t;
	char c;
};

static void note(void *arg)
{
	struct mark *m = arg;
	m->t->seen[m->t->n++] = m->c;
}

static void free_it(void *arg)
{
	free(arg);
}

/* Deferred calls run at reset and release, the last deferred first, before the memory
 * goes (their argument may live in the arena); a malloc'd object handed over is freed
 * (LSan would report a leak otherwise). */
static void test_defer(void **state)
{
	struct arena a = ARENA_INIT;
	struct trace t = {{0}, 0};
	struct mark *m1 = arena_alloc(&a, sizeof(*m1)), *m2 = arena_alloc(&a, sizeof(*m2));
	(void)state;
	*m1 = (struct mark){&t, 'a'};
	*m2 = (struct mark){&t, 'b'};
	arena_defer(&a, note, m1);
	arena_defer(&a, free_it, xstrdup("owned by the arena"));
	arena_defer(&a, note, m2);
	arena_reset(&a);
	assert_int_equal(t.n, 2);
	assert_memory_equal(t.seen, "ba", 2);
	arena_reset(&a); /* nothing left to run */
	assert_int_equal(t.n, 2);
	arena_defer(&a, free_it, xmalloc(100));
	arena_release(&a);
	assert_null(a.defers);
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alignment_and_distinct),
	    cmocka_unit_test(test_many_chunks),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_calloc_and_strings),
	    cmocka_unit_test(test_reset_reuses),
	    cmocka_unit_test(test_defer),
	};
	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
