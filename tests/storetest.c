/*
 * storetest.c - the fixture of the store suites (storetest.h).
 */
#include "helpers.h"
#include "storetest.h"

struct sw_err E;

int storetest_setup_sqlite(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	f->dir = test_tmpdir();
	f->url = xasprintf("sqlite://%s/store.db", f->dir); /* dir is absolute: sqlite:///... */
	OK(store_open(f->url, &f->st, &E));
	OK(store_migrate(f->st, NULL, &E));
	*state = f;
	return 0;
}

int storetest_setup_pg(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	f->pg = true;
	*state = f;
	f->url = test_pg_create_db("swstore");
	if (!f->url) {
		if (getenv("CI"))
			fail_msg("STEPWATCH_TEST_PG is not set (CI requires PostgreSQL)");
		return 0; /* the test skips */
	}
	OK(store_open(f->url, &f->st, &E));
	OK(store_migrate(f->st, NULL, &E));
	return 0;
}

int storetest_teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->st);
	if (f->dir) {
		test_rmtree(f->dir);
		free(f->dir);
	}
	free(f->url);
	free(f);
	return 0;
}
