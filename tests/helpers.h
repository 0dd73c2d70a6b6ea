/*
 * helpers.h - shared by the cmocka tests: cmocka's includes in the right order, temp dirs,
 * and the throwaway PostgreSQL that scripts/test-services starts (STEPWATCH_TEST_PG).
 */
#ifndef SW_TEST_HELPERS_H
#define SW_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "util/common.h"

/* A fresh empty directory under $TMPDIR, removed by test_rmtree(). Returns malloc'd path. */
char *test_tmpdir(void);
void test_rmtree(const char *dir);
/* Write text to dir/name; returns malloc'd path. */
char *test_write_file(const char *dir, const char *name, const char *text);
/* libpq URL of a superuser on the test PostgreSQL, or NULL when not set (tests skip). */
const char *test_pg_url(void);
/* Create a fresh database on the test server and return its URL (malloc'd); NULL if no server. */
char *test_pg_create_db(const char *prefix);
/* Run SQL on a PostgreSQL URL; fails the test on error. */
void test_pg_exec(const char *url, const char *sql);

#endif
