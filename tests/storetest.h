/*
 * storetest.h - the fixture of the store suites (tests/store/test_store_*.c): each test gets
 * a freshly migrated store, on SQLite (a file in a temp dir) or on PostgreSQL (a fresh
 * database on the test server), and runs unchanged on both.
 */
#ifndef SW_TEST_STORETEST_H
#define SW_TEST_STORETEST_H

#include "util/common.h"
#include "store/store.h"

struct fx {
	struct store *st; /* NULL when PostgreSQL is not available (outside CI): the test skips */
	char *url;
	char *dir; /* SQLite only */
	bool pg;
};

/* The error detail of the last store call, for messages. */
extern struct sw_err E;

#define OK(call)                                                           \
	do {                                                               \
		int rc_ = (call);                                          \
		if (rc_)                                                   \
			fail_msg("%s failed (%d): %s", #call, rc_, E.msg); \
	} while (0)

#define FX()                      \
	struct fx *f = *state;    \
	if (!f->st)               \
		skip();           \
	struct store *st = f->st; \
	(void)st

/* cmocka setups and teardown: *state becomes a struct fx. */
int storetest_setup_sqlite(void **state);
int storetest_setup_pg(void **state);
int storetest_teardown(void **state);

#endif
