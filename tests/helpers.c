/*
 * helpers.c - test helpers (see helpers.h).
 */
#include "helpers.h"
#include <ftw.h>
#include <unistd.h>
#include <libpq-fe.h>

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/swtest.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp failed: %s", strerror(errno));
	return tmpl;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void test_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write '%s'", path);
	fputs(text, f);
	fclose(f);
	return path;
}

const char *test_pg_url(void)
{
	const char *u = getenv("STEPWATCH_TEST_PG");
	return u && *u ? u : NULL;
}

void test_pg_exec(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to '%s': %s", url, PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("'%s' failed: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

char *test_pg_create_db(const char *prefix)
{
	static int seq;
	const char *base = test_pg_url();
	char *name, *sql, *url;
	const char *q;
	if (!base)
		return NULL;
	name = xasprintf("%s_%d_%d", prefix, (int)getpid(), ++seq);
	sql = xasprintf("DROP DATABASE IF EXISTS %s", name);
	test_pg_exec(base, sql);
	free(sql);
	sql = xasprintf("CREATE DATABASE %s", name);
	test_pg_exec(base, sql);
	free(sql);
	/* base is postgresql://user@host:port/dbname?params: swap the database name */
	q = strchr(base + strlen("postgresql://"), '/');
	if (!q)
		fail_msg("STEPWATCH_TEST_PG has no database part: %s", base);
	{
		const char *params = strchr(q, '?');
		url = xasprintf("%.*s/%s%s", (int)(q - base), base, name, params ? params : "");
	}
	free(name);
	return url;
}
