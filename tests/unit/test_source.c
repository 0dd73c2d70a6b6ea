/*
 * test_source.c - the source runners against a real PostgreSQL (STEPWATCH_TEST_PG) and real
 * SQLite files: binding :since, NULLs, column names, describe, the guard and the read-only
 * session as two separate walls, statement_timeout, unreachable servers and backoff,
 * reconnection, result caps.
 */
#include "helpers.h"
#include "source/source.h"
#include "source/source-int.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

static char *pg_db(void)
{
	char *url = test_pg_create_db("sw_source");
	if (!url) {
		if (!getenv("CI"))
			skip();
		fail_msg("STEPWATCH_TEST_PG is not set");
	}
	return url;
}

/*
 * A least-privilege source role for the database at url (a superuser's URL): LOGIN, SELECT
 * on the tables of public, now and later. Returns the URL connecting as that role.
 */
static char *pg_reader(const char *url, const char *role)
{
	const char *at = strchr(url, '@');
	char *sql = xasprintf("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
	                      "'%s') THEN CREATE ROLE %s LOGIN; END IF; END $$;"
	                      "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s;"
	                      "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES "
	                      "TO %s",
	                      role, role, role, role);
	assert_non_null(at);
	test_pg_exec(url, sql);
	free(sql);
	return xasprintf("postgresql://%s%s", role, at);
}

static struct source *open_src_opt(const char *name, const char *url, enum sw_db_kind kind,
                                   int64_t timeout_ms, bool allow_unsafe_role)
{
	struct sw_source cfg = {0};
	struct source *src = NULL;
	struct sw_err err = {{0}};

	cfg.name = (char *)(uintptr_t)name;
	cfg.url = (char *)(uintptr_t)url;
	cfg.kind = kind;
	cfg.statement_timeout_ms = timeout_ms;
	cfg.allow_unsafe_role = allow_unsafe_role;
	if (source_open(&cfg, &src, &err))
		fail_msg("source_open: %s", err.msg);
	return src;
}

/* PostgreSQL sources open as a least-privilege role; SQLite ones as they are. */
static struct source *open_src(const char *name, const char *url, enum sw_db_kind kind,
                               int64_t timeout_ms)
{
	struct source *src;
	char *ro;

	if (kind != SW_DB_POSTGRES || strncmp(url, "postgresql://postgres@", 22))
		return open_src_opt(name, url, kind, timeout_ms, false);
	ro = pg_reader(url, "sw_test_reader");
	src = open_src_opt(name, ro, kind, timeout_ms, false);
	free(ro);
	return src;
}

static void query_ok(struct source *src, const char *sql, const struct source_param *params,
                     size_t n, struct source_rows *rows)
{
	struct sw_err err = {{0}};
	if (source_query(src, sql, params, n, rows, &err))
		fail_msg("%s: %s", sql, err.msg);
}

static void query_fails(struct source *src, const char *sql, const char *needle)
{
	struct source_rows rows;
	struct sw_err err = {{0}};
	if (!source_query(src, sql, NULL, 0, &rows, &err)) {
		source_rows_release(&rows);
		fail_msg("%s: succeeded", sql);
	}
	if (!strstr(err.msg, needle))
		fail_msg("%s: error '%s' lacks '%s'", sql, err.msg, needle);
	assert_null(rows.cells);
}

static int64_t cell_time(const struct source_rows *rs, size_t r, const char *col)
{
	int c = source_rows_col(rs, col);
	int64_t ms;
	assert_true(c >= 0);
	assert_non_null(source_cell(rs, r, (size_t)c));
	if (time_parse(source_cell(rs, r, (size_t)c), &ms))
		fail_msg("cannot parse time '%s'", source_cell(rs, r, (size_t)c));
	return ms;
}

static void test_pg_query(void **state)
{
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;
	struct source_param p[] = {{"since", "2026-01-01 12:00:00.000+00", false},
	                           {"instance_id", NULL, false}};
	int64_t want;

	(void)state;
	test_pg_exec(url, "CREATE TABLE t (id int, name text, ts timestamptz, pts timestamp);"
	                  "INSERT INTO t VALUES"
	                  " (1, 'old', '2026-01-01 11:00:00+00', '2026-01-01 11:00:00'),"
	                  " (2, 'new', '2026-01-01 13:00:00+00', '2026-01-01 13:00:00'),"
	                  " (3, NULL, '2026-01-01 12:00:00.5+00', '2026-01-01 12:00:00.5')");
	src = open_src("app", url, SW_DB_POSTGRES, 5000);

	query_ok(src, "SELECT id, name AS \"Name\", ts FROM t WHERE ts > :since ORDER BY id", p, 2,
	         &rows);
	assert_int_equal(rows.ncols, 3);
	assert_string_equal(rows.cols[0], "id");
	assert_string_equal(rows.cols[1], "Name");
	assert_int_equal(source_rows_col(&rows, "ts"), 2);
	assert_int_equal(source_rows_col(&rows, "name"), -1);
	assert_int_equal(rows.nrows, 2);
	assert_string_equal(source_cell(&rows, 0, 0), "2");
	assert_string_equal(source_cell(&rows, 0, 1), "new");
	assert_string_equal(source_cell(&rows, 0, 2), "2026-01-01 13:00:00+00"); /* UTC, ISO */
	assert_string_equal(source_cell(&rows, 1, 0), "3");
	assert_null(source_cell(&rows, 1, 1));
	assert_string_equal(source_cell(&rows, 1, 2), "2026-01-01 12:00:00.5+00");
	assert_int_equal(time_parse("2026-01-01T12:00:00.5Z", &want), 0);
	assert_true(cell_time(&rows, 1, "ts") == want);
	source_rows_release(&rows);

	/* a plain timestamp column compares with the same text, read as UTC */
	query_ok(src, "SELECT id, pts FROM t WHERE pts > :since ORDER BY id", p, 1, &rows);
	assert_int_equal(rows.nrows, 2);
	assert_string_equal(source_cell(&rows, 0, 1), "2026-01-01 13:00:00");
	assert_true(cell_time(&rows, 1, "pts") == want);
	source_rows_release(&rows);

	/* parameters used twice, a NULL value, casts and colons in strings */
	query_ok(src,
	         "SELECT count(*) AS n, ':since' AS lit, :instance_id::int IS NULL AS isnull "
	         "FROM t WHERE ts > :since OR pts > :since::timestamp",
	         p, 2, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "2");
	assert_string_equal(source_cell(&rows, 0, 1), ":since");
	assert_string_equal(source_cell(&rows, 0, 2), "t");
	source_rows_release(&rows);

	/* no rows still has the columns */
	query_ok(src, "SELECT id FROM t WHERE false", NULL, 0, &rows);
	assert_int_equal(rows.ncols, 1);
	assert_int_equal(rows.nrows, 0);
	source_rows_release(&rows);

	/* an unknown parameter is an error, naming the source */
	{
		struct sw_err err = {{0}};
		assert_int_equal(source_query(src, "SELECT :nope", p, 2, &rows, &err), -1);
		assert_string_equal(err.msg, "source 'app': unknown parameter ':nope'");
	}
	/* server-side errors carry the source name and PostgreSQL's message */
	query_fails(src, "SELECT nocol FROM t", "source 'app': column \"nocol\" does not exist");
	/* and the session is still usable */
	{
		struct sw_err err = {{0}};
		assert_int_equal(source_ping(src, &err), 0);
	}
	source_close(src);
	free(url);
}

static void test_pg_describe(void **state)
{
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;
	struct sw_err err = {{0}};

	(void)state;
	test_pg_exec(url, "CREATE TABLE t (id int, updated_at timestamptz);"
	                  "INSERT INTO t VALUES (1, now())");
	src = open_src("app", url, SW_DB_POSTGRES, 5000);
	if (source_describe(src,
	                    "SELECT id AS instance_id, updated_at FROM t "
	                    "WHERE updated_at > :since AND id::text = :instance_id",
	                    &rows, &err))
		fail_msg("describe: %s", err.msg);
	assert_int_equal(rows.ncols, 2);
	assert_string_equal(rows.cols[0], "instance_id");
	assert_string_equal(rows.cols[1], "updated_at");
	assert_int_equal(rows.nrows, 0);
	source_rows_release(&rows);
	assert_int_equal(source_describe(src, "SELECT nocol FROM t", &rows, &err), -1);
	assert_non_null(strstr(err.msg, "column \"nocol\" does not exist"));
	assert_int_equal(source_describe(src, "DELETE FROM t", &rows, &err), -1);
	assert_string_equal(err.msg, "source 'app': query must be a single SELECT: found DELETE");
	source_close(src);
	free(url);
}

static void test_pg_read_only(void **state)
{
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;

	(void)state;
	test_pg_exec(url, "CREATE TABLE t (a int);"
	                  "CREATE FUNCTION f() RETURNS int AS $$ INSERT INTO t VALUES (1); "
	                  "SELECT 1 $$ LANGUAGE sql;"
	                  /* mis-marked by its owner: the catalog says STABLE, it calls f() */
	                  "CREATE FUNCTION g() RETURNS int AS $$ SELECT f() $$ LANGUAGE sql "
	                  "STABLE;"
	                  "CREATE SEQUENCE s");
	src = open_src_opt("app", url, SW_DB_POSTGRES, 5000, true);
	/* the guard stops plain writes */
	query_fails(src, "INSERT INTO t VALUES (1)", "query must be a single SELECT: found INSERT");
	query_fails(src, "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
	            "query must be read-only");
	query_fails(src, "SELECT 1; DELETE FROM t", "query must be a single statement: found 2");
	query_fails(src, "SELECT * FROM t FOR UPDATE", "query must not lock rows");
	query_fails(src, "SELECT nextval('s')", "query must not call nextval()");
	/* a write in a volatile function: the catalog policy refuses it */
	query_fails(src, "SELECT f()",
	            "query must not call f(): the source's catalog marks it VOLATILE");
	/* a write hidden behind a function marked STABLE passes the guard; the read-only
	 * transaction stops it */
	query_fails(src, "SELECT g()", "cannot execute INSERT in a read-only transaction");
	query_fails(src, "SELECT set_config('transaction_read_only', 'off', true), g()",
	            "query must not call set_config()");
	query_ok(src, "SELECT count(*) FROM t", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "0");
	source_rows_release(&rows);
	/* every query runs READ ONLY with the settings local to its transaction */
	query_ok(src,
	         "SELECT current_setting('transaction_read_only') AS ro, "
	         "current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds",
	         NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "on");
	assert_string_equal(source_cell(&rows, 0, 1), "UTC");
	assert_string_equal(source_cell(&rows, 0, 2), "ISO, MDY");
	source_rows_release(&rows);
	source_close(src);
	free(url);
}

static void test_pg_statement_timeout(void **state)
{
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;
	int64_t t0, took;

	(void)state;
	/* pg_sleep() is volatile, so a query cannot call it; a view can */
	test_pg_exec(url, "CREATE VIEW slow AS SELECT 1 AS s FROM pg_sleep(2)");
	src = open_src("app", url, SW_DB_POSTGRES, 200);
	query_fails(src, "SELECT pg_sleep(2)", "the source's catalog marks it VOLATILE");
	t0 = time_mono_ms();
	query_fails(src, "SELECT * FROM slow", "canceling statement due to statement timeout");
	took = time_mono_ms() - t0;
	assert_true(took < 1500);
	/* the connection survives a timeout */
	query_ok(src, "SELECT current_setting('statement_timeout') AS st", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "200ms");
	source_rows_release(&rows);
	source_close(src);
	free(url);
}

/* The hostile corpus of issue 9 and more: each refused, naming the function. */
static void test_pg_catalog_policy(void **state)
{
	static const struct {
		const char *sql, *why;
	} hostile[] = {
	    {"SELECT (query_to_xml('select pg_advisory_lock(2)', true, false, ''))::text AS error",
	     "query must not call query_to_xml(): it runs SQL given as text"},
	    {"SELECT * FROM ts_stat('select to_tsvector(''x'')')",
	     "query must not call ts_stat(): it runs SQL given as text"},
	    {"SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
	     "query must not call pg_terminate_backend()"},
	    {"SELECT set_config('statement_timeout', '0', false)",
	     "query must not call set_config()"},
	    {"SELECT lo_create(0)", "query must not call lo_create()"},
	    {"SELECT lo_export(1, '/tmp/x')", "query must not call lo_export()"},
	    {"SELECT dblink_exec('dbname=x', 'DELETE FROM t')",
	     "query must not call dblink_exec()"},
	    {"SELECT txid_current()", "query must not call txid_current()"},
	    {"SELECT pg_stat_reset()", "query must not call pg_stat_reset()"},
	    {"SELECT pg_read_file('/etc/hostname')", "query must not call pg_read_file()"},
	    {"SELECT pg_backup_start('x')", "query must not call pg_backup_start()"},
	    {"SELECT nextval('s')", "query must not call nextval()"},
	    /* refused by the catalog, not by any list */
	    {"SELECT random()", "query must not call random(): the source's catalog marks it "
	                        "VOLATILE"},
	    {"SELECT a FROM t WHERE a > (SELECT max(x) FROM (SELECT clock_timestamp() x) s)",
	     "query must not call clock_timestamp(): the source's catalog marks it VOLATILE"},
	    {"WITH c AS (SELECT gen_random_uuid() AS u) SELECT u FROM c",
	     "query must not call gen_random_uuid()"},
	    {"SELECT CAST(timeofday() AS text)", "query must not call timeofday()"},
	    {"SELECT * FROM pg_catalog.pg_sleep(0)", "query must not call pg_catalog.pg_sleep()"},
	    {"SELECT pg_current_xact_id_if_assigned()",
	     "query must not call pg_current_xact_id_if_assigned()"},
	    {"SELECT current_schema()", "query must not call current_schema(): the source's "
	                                "catalog marks it PARALLEL UNSAFE"},
	    {"SELECT bump()", "query must not call bump(): the source's catalog marks it VOLATILE"},
	    {"SELECT other.peek()", "query must not call other.peek(): the source's catalog marks "
	                            "it VOLATILE"},
	    {"SELECT 1 === 2", "query must not call operator ===: the source's catalog marks its "
	                       "function VOLATILE"},
	    {"SELECT no_such_fn(1)", "query must not call no_such_fn(): the source has no such "
	                             "function"},
	    {"SELECT peek()", "query must not call peek(): the source has no such function"},
	};
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;
	size_t i;

	(void)state;
	test_pg_exec(url, "CREATE TABLE t (a int);"
	                  "CREATE SEQUENCE s;"
	                  "CREATE FUNCTION bump() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;"
	                  "CREATE SCHEMA other;"
	                  "CREATE FUNCTION other.peek() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;"
	                  "CREATE FUNCTION calm(int) RETURNS int AS $$ SELECT $1 $$ LANGUAGE sql "
	                  "STABLE;"
	                  "CREATE FUNCTION vol_eq(int, int) RETURNS bool AS $$ SELECT $1 = $2 $$ "
	                  "LANGUAGE sql;"
	                  "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = vol_eq);"
	                  "GRANT USAGE ON SCHEMA other TO PUBLIC");
	src = open_src("app", url, SW_DB_POSTGRES, 5000);
	for (i = 0; i < ARRAY_SIZE(hostile); i++)
		query_fails(src, hostile[i].sql, hostile[i].why);
	/* stable and immutable functions, aggregates, operators and special forms pass; a
	 * user's STABLE function too (its PARALLEL UNSAFE default matters only for built-ins) */
	query_ok(
	    src,
	    "SELECT count(*) AS n, now() - interval '1 hour' > now() - interval '2 hours' AS a,"
	    " date_trunc('day', now()) AS d, extract(epoch FROM now()) > 0 AS e,"
	    " coalesce(max(a), 0) + calm(1) AS m, 'x' LIKE 'x%' AS l, 1 IN (1, 2) AS i,"
	    " to_char(now() AT TIME ZONE 'UTC', 'YYYY') AS y, current_setting('TimeZone') AS z,"
	    " string_agg(a::text, ',') AS s FROM t WHERE a BETWEEN 1 AND 2",
	    NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "0");
	assert_string_equal(source_cell(&rows, 0, 1), "t");
	assert_string_equal(source_cell(&rows, 0, 8), "UTC");
	source_rows_release(&rows);
	/* describe (what `check` runs) applies the same policy */
	{
		struct sw_err err = {{0}};
		assert_int_equal(source_describe(src, "SELECT random() AS r", &rows, &err), -1);
		assert_non_null(strstr(err.msg, "query must not call random()"));
	}
	/* and the session is still usable after the refusals */
	query_ok(src, "SELECT calm(7) AS c", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "7");
	source_rows_release(&rows);
	source_close(src);
	free(url);
}

/* Nothing a query does outlives it: not an advisory lock, not a setting. */
static void test_pg_no_session_state(void **state)
{
	char *url = pg_db(), *sql;
	struct source *src;
	struct source_rows rows;
	char pid[32];

	(void)state;
	/* mis-marked STABLE by the database's owner: the guard cannot know better */
	test_pg_exec(url, "CREATE FUNCTION sneaky() RETURNS int AS $$ BEGIN "
	                  "PERFORM pg_advisory_lock(4242);"
	                  "PERFORM set_config('statement_timeout', '0', false);"
	                  "PERFORM set_config('sw.leak', 'yes', false);"
	                  "RETURN 1; END $$ LANGUAGE plpgsql STABLE");
	src = open_src("app", url, SW_DB_POSTGRES, 3000);
	query_ok(src, "SELECT pg_backend_pid() AS pid", NULL, 0, &rows);
	snprintf(pid, sizeof(pid), "%s", source_cell(&rows, 0, 0));
	source_rows_release(&rows);
	query_ok(src, "SELECT sneaky() AS s, pg_backend_pid() AS pid", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 1), pid); /* the same session */
	source_rows_release(&rows);
	/* no advisory lock held by that session, seen from another */
	{
		char *dbname = strrchr(url, '/') + 1;
		sql = xasprintf("DO $$ BEGIN IF (SELECT count(*) FROM pg_locks WHERE locktype = "
		                "'advisory' AND pid = %s) > 0 THEN RAISE EXCEPTION 'advisory lock "
		                "left in %s'; END IF; END $$",
		                pid, dbname);
		test_pg_exec(url, sql);
		free(sql);
	}
	/* and its settings are the configured ones again */
	query_ok(src,
	         "SELECT current_setting('statement_timeout') AS st,"
	         " coalesce(current_setting('sw.leak', true), '') AS leak, pg_backend_pid() AS pid",
	         NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "3s");
	assert_string_equal(source_cell(&rows, 0, 1), "");
	assert_string_equal(source_cell(&rows, 0, 2), pid);
	source_rows_release(&rows);
	source_close(src);
	free(url);
}

static void role_refused(const char *url, const char *want)
{
	struct source *src = open_src_opt("app", url, SW_DB_POSTGRES, 5000, false);
	struct sw_err err = {{0}};

	assert_int_equal(source_ping(src, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("%s: '%s' lacks '%s'", url, err.msg, want);
	assert_non_null(strstr(err.msg, "source 'app' refused: role '"));
	assert_true(source_role_refused(src));
	/* within the backoff window, the same refusal, still the file's problem */
	assert_int_equal(source_ping(src, &err), -1);
	assert_non_null(strstr(err.msg, want));
	assert_true(source_role_refused(src));
	source_close(src);
}

/* A superuser or a role that can write is refused unless the source opts out. */
static void test_pg_role_check(void **state)
{
	char *url = pg_db(), *ro, *w;
	const char *at = strchr(url, '@');
	struct source *src;
	struct sw_err err = {{0}};

	(void)state;
	test_pg_exec(url, "CREATE TABLE t (a int); CREATE TABLE u (a int); CREATE SEQUENCE q;"
	                  "CREATE SCHEMA scratch;"
	                  "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
	                  "'sw_test_w') THEN CREATE ROLE sw_test_w LOGIN; END IF; END $$;"
	                  "REVOKE ALL ON t, u, q FROM sw_test_w;"
	                  "REVOKE ALL ON SCHEMA scratch FROM sw_test_w");
	ro = pg_reader(url, "sw_test_reader");
	w = xasprintf("postgresql://sw_test_w%s", at);

	role_refused(url, "role 'postgres' is a superuser");
	/* a superuser that logs in and switches to a reader could switch back */
	{
		char *as_reader = xasprintf("%s?options=-c%%20role%%3Dsw_test_reader", url);
		role_refused(as_reader, "role 'sw_test_reader' logs in as superuser postgres");
		free(as_reader);
	}
	/* opted out: it runs */
	src = open_src_opt("app", url, SW_DB_POSTGRES, 5000, true);
	assert_int_equal(source_ping(src, &err), 0);
	assert_false(source_role_refused(src));
	source_close(src);
	/* SELECT only: fine */
	src = open_src_opt("app", ro, SW_DB_POSTGRES, 5000, false);
	if (source_ping(src, &err))
		fail_msg("reader refused: %s", err.msg);
	source_close(src);
	/* each way of writing is refused */
	test_pg_exec(url, "GRANT SELECT ON t TO sw_test_w; GRANT UPDATE (a) ON u TO sw_test_w");
	role_refused(w, "role 'sw_test_w' can write to u");
	test_pg_exec(url,
	             "REVOKE UPDATE (a) ON u FROM sw_test_w; GRANT TRUNCATE ON t TO sw_test_w");
	role_refused(w, "role 'sw_test_w' can write to t");
	test_pg_exec(url, "REVOKE TRUNCATE ON t FROM sw_test_w; GRANT UPDATE ON q TO sw_test_w");
	role_refused(w, "role 'sw_test_w' can change sequence q");
	test_pg_exec(url, "REVOKE UPDATE ON q FROM sw_test_w; GRANT CREATE ON SCHEMA scratch TO "
	                  "sw_test_w");
	role_refused(w, "role 'sw_test_w' can CREATE in schema scratch");
	test_pg_exec(url, "REVOKE CREATE ON SCHEMA scratch FROM sw_test_w");
	src = open_src_opt("app", w, SW_DB_POSTGRES, 5000, false);
	if (source_ping(src, &err))
		fail_msg("reader refused: %s", err.msg);
	source_close(src);
	free(w);
	free(ro);
	free(url);
}

/* libpq echoes a malformed URL in its error: the password must not come out. */
static void test_pg_secrets_scrubbed(void **state)
{
	static const struct {
		const char *url, *secret;
	} cases[] = {
	    {"postgresql://app:Hunter2%zz@127.0.0.1:1/db", "Hunter2"},
	    {"postgresql://app:Hunter2@[::1/db", "Hunter2"},
	    {"postgresql://app@127.0.0.1:1/db?password=Sekr1t%zz", "Sekr1t"},
	    {"postgresql://app:Hunter2@127.0.0.1:1/db?password=Sekr1t&bogus=1", "Sekr1t"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct source *src = open_src_opt("app", cases[i].url, SW_DB_POSTGRES, 5000, false);
		struct sw_err err = {{0}};
		assert_int_equal(source_ping(src, &err), -1);
		if (strstr(err.msg, cases[i].secret) || strstr(err.msg, "Hunter2"))
			fail_msg("%s: secret in '%s'", cases[i].url, err.msg);
		assert_non_null(strstr(err.msg, "cannot connect to source 'app'"));
		/* and again from inside the backoff window */
		assert_int_equal(source_ping(src, &err), -1);
		assert_null(strstr(err.msg, cases[i].secret));
		source_close(src);
	}
}

static int closed_port(void)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd); /* nothing listens there now */
	return ntohs(sa.sin_port);
}

static void test_pg_unreachable(void **state)
{
	char *url = xasprintf("postgresql://postgres@127.0.0.1:%d/postgres", closed_port());
	struct source *src;
	struct source_rows rows;
	struct sw_err err = {{0}};
	int64_t t0;

	(void)state;
	/* opening does not fail: the first query does */
	src = open_src_opt("down", url, SW_DB_POSTGRES, 5000, false);
	assert_int_equal(source_query(src, "SELECT 1", NULL, 0, &rows, &err), -1);
	assert_non_null(strstr(err.msg, "cannot connect to source 'down' (retrying in 0.5s)"));
	assert_non_null(strstr(err.msg, "Connection refused"));
	assert_null(strstr(err.msg, "postgresql://")); /* the URL may hold a password */
	/* within the backoff window: fails fast without trying */
	t0 = time_mono_ms();
	assert_int_equal(source_ping(src, &err), -1);
	assert_true(time_mono_ms() - t0 < 50);
	assert_non_null(strstr(err.msg, "source 'down' unreachable, retrying in 0."));
	/* after the window, another attempt, and the window doubles */
	usleep(600 * 1000);
	assert_int_equal(source_ping(src, &err), -1);
	assert_non_null(strstr(err.msg, "cannot connect to source 'down' (retrying in 1.0s)"));
	assert_int_equal(source_ping(src, &err), -1);
	assert_non_null(strstr(err.msg, "unreachable, retrying in "));
	/* the window stops growing at 2s: a source that comes back is used within 2s */
	usleep(1100 * 1000);
	assert_int_equal(source_ping(src, &err), -1);
	assert_non_null(strstr(err.msg, "cannot connect to source 'down' (retrying in 2.0s)"));
	usleep(2100 * 1000);
	assert_int_equal(source_ping(src, &err), -1);
	assert_non_null(strstr(err.msg, "cannot connect to source 'down' (retrying in 2.0s)"));
	source_close(src);
	free(url);
}

static void test_pg_reconnect(void **state)
{
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;
	struct sw_err err = {{0}};
	char *kill;

	(void)state;
	src = open_src("app", url, SW_DB_POSTGRES, 5000);
	query_ok(src, "SELECT pg_backend_pid() AS pid", NULL, 0, &rows);
	kill = xasprintf("SELECT pg_terminate_backend(%s)", source_cell(&rows, 0, 0));
	source_rows_release(&rows);
	test_pg_exec(url, kill);
	free(kill);
	/* the broken connection fails this query... */
	assert_int_equal(source_query(src, "SELECT 1", NULL, 0, &rows, &err), -1);
	assert_non_null(strstr(err.msg, "source 'app': "));
	/* ...and the next one reconnects */
	query_ok(src, "SELECT 2 AS two", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "2");
	source_rows_release(&rows);
	source_close(src);
	free(url);
}

static void test_pg_row_cap(void **state)
{
	char *url = pg_db();
	struct source *src;
	struct source_rows rows;

	(void)state;
	src = open_src("app", url, SW_DB_POSTGRES, 60000);
	query_fails(src, "SELECT 1 FROM generate_series(1, 1000001)",
	            "source 'app': result too large: over 1000000 rows");
	/* the cancelled query left the session usable */
	query_ok(src, "SELECT count(*) FROM generate_series(1, 1000)", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "1000");
	source_rows_release(&rows);
	source_close(src);
	free(url);
}

static void test_rows_byte_cap(void **state)
{
	struct source src = {.name = (char *)(uintptr_t) "app"};
	struct source_rows_builder b;
	struct source_rows rows;
	struct sw_err err = {{0}};
	static const char big[4096];

	(void)state;
	source__rows_begin(&b);
	source__rows_add_col(&b, "a");
	assert_int_equal(source__rows_add_cell(&b, &src, big, sizeof(big), &err), 0);
	assert_int_equal(source__rows_end_row(&b, &src, &err), 0);
	/* the size check comes before any read of the cell, so a huge length is safe here */
	assert_int_equal(source__rows_add_cell(&b, &src, big, SOURCE_MAX_BYTES, &err), -1);
	assert_string_equal(err.msg, "source 'app': result too large: over 256 MiB");
	assert_int_equal(source__rows_add_cell(&b, &src, NULL, 0, &err), 0);
	assert_int_equal(source__rows_end_row(&b, &src, &err), 0);
	source__rows_finish(&b, &rows);
	assert_int_equal(rows.nrows, 2);
	assert_int_equal(strlen(source_cell(&rows, 0, 0)), 0);
	assert_null(source_cell(&rows, 1, 0));
	source_rows_release(&rows);
	source__rows_release(&b);
}

/* ---- SQLite ---- */

static void sqlite_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static void test_sqlite_query(void **state)
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/app.db", dir), *url;
	struct source *src;
	struct source_rows rows;
	struct source_param since_text[] = {{"since", "2026-01-01T12:00:00Z", false}};
	struct source_param since_num[] = {{"since", "1767268800", true}}; /* 12:00:00Z */
	struct source_param since_frac[] = {{"since", "1767268800.5", true}};
	struct source_param inst[] = {{"instance_id", NULL, false}};

	(void)state;
	sqlite_exec(path,
	            "CREATE TABLE s (id INTEGER, name TEXT, ts TEXT, epoch INTEGER, r REAL,"
	            " b BLOB);"
	            "INSERT INTO s VALUES (1, 'old', '2026-01-01T11:00:00Z', 1767265200, 1.0,"
	            " x'00ff10');"
	            "INSERT INTO s VALUES (2, 'new', '2026-01-01T13:00:00Z', 1767272400, 0.1,"
	            " NULL);"
	            "INSERT INTO s VALUES (3, NULL, '2026-01-01T12:00:01Z', 1767268801, -2.5e-7,"
	            " NULL)");
	url = xasprintf("sqlite://%s", path); /* sqlite:///abs/path */
	src = open_src("lite", url, SW_DB_SQLITE, 5000);

	query_ok(src, "SELECT id, name, ts FROM s WHERE ts > :since ORDER BY id", since_text, 1,
	         &rows);
	assert_int_equal(rows.ncols, 3);
	assert_string_equal(rows.cols[2], "ts");
	assert_int_equal(rows.nrows, 2);
	assert_string_equal(source_cell(&rows, 0, 0), "2");
	assert_string_equal(source_cell(&rows, 1, 0), "3");
	assert_null(source_cell(&rows, 1, 1));
	assert_true(cell_time(&rows, 1, "ts") == 1767268801000);
	source_rows_release(&rows);

	/* epoch columns compare with a numeric :since */
	query_ok(src, "SELECT id, epoch FROM s WHERE epoch > :since ORDER BY id", since_num, 1,
	         &rows);
	assert_int_equal(rows.nrows, 2);
	assert_string_equal(source_cell(&rows, 0, 1), "1767272400");
	assert_true(cell_time(&rows, 1, "epoch") == 1767268801000);
	source_rows_release(&rows);
	query_ok(src, "SELECT id FROM s WHERE epoch > :since ORDER BY id", since_frac, 1, &rows);
	assert_int_equal(rows.nrows, 2);
	source_rows_release(&rows);

	/* values as text: integral reals, shortest reals, blobs as hex, NULL params */
	query_ok(src,
	         "SELECT r, b, :instance_id IS NULL AS is_null, 1e308 * 10 AS inf "
	         "FROM s ORDER BY id",
	         inst, 1, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "1");
	assert_string_equal(source_cell(&rows, 1, 0), "0.1");
	assert_string_equal(source_cell(&rows, 2, 0), "-2.5e-07");
	assert_string_equal(source_cell(&rows, 0, 1), "\\x00ff10");
	assert_null(source_cell(&rows, 1, 1));
	assert_string_equal(source_cell(&rows, 0, 2), "1");
	assert_string_equal(source_cell(&rows, 0, 3), "inf");
	source_rows_release(&rows);

	/* describe reads no rows */
	{
		struct sw_err err = {{0}};
		if (source_describe(src, "SELECT id AS instance_id, ts FROM s WHERE ts > :since",
		                    &rows, &err))
			fail_msg("describe: %s", err.msg);
		assert_int_equal(rows.ncols, 2);
		assert_string_equal(rows.cols[0], "instance_id");
		assert_int_equal(rows.nrows, 0);
		source_rows_release(&rows);
		/* unknown parameters are errors */
		assert_int_equal(source_query(src, "SELECT :nope", since_text, 1, &rows, &err), -1);
		assert_string_equal(err.msg, "source 'lite': unknown parameter ':nope'");
		query_fails(src, "SELECT nocol FROM s", "source 'lite': no such column: nocol");
	}
	source_close(src);
	free(url);

	/* the relative form: sqlite://rel/path */
	{
		char cwd[4096];
		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(dir), 0);
		src = open_src("rel", "sqlite://app.db", SW_DB_SQLITE, 5000);
		query_ok(src, "SELECT count(*) FROM s", NULL, 0, &rows);
		assert_string_equal(source_cell(&rows, 0, 0), "3");
		source_rows_release(&rows);
		source_close(src);
		assert_int_equal(chdir(cwd), 0);
	}
	test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_sqlite_read_only(void **state)
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/app.db", dir), *url, *other;
	struct source *src;
	struct source_rows rows;
	struct sw_err err = {{0}};
	static const char *const writes[] = {
	    "DELETE FROM s",          "INSERT INTO s VALUES (9)",
	    "CREATE TABLE x (a)",     "PRAGMA user_version = 7",
	    "ATTACH 'other.db' AS o", "WITH c AS (SELECT 1) UPDATE s SET a = 2",
	};
	size_t i;

	(void)state;
	sqlite_exec(path, "CREATE TABLE s (a INTEGER); INSERT INTO s VALUES (1)");
	url = xasprintf("sqlite://%s", path);
	src = open_src("lite", url, SW_DB_SQLITE, 5000);
	/* the guard refuses writes */
	query_fails(src, "DELETE FROM s", "query must be a single SELECT: found DELETE");
	query_fails(src, "SELECT 1; DELETE FROM s", "query must be a single statement");
	/* past the guard, the connection itself cannot write */
	other = xasprintf("ATTACH '%s/other.db' AS o", dir);
	for (i = 0; i <= ARRAY_SIZE(writes); i++) {
		const char *sql = i < ARRAY_SIZE(writes) ? writes[i] : other;
		memset(&rows, 0, sizeof(rows));
		if (!source_backend_sqlite.query(src, sql, NULL, NULL, 0, false, NULL, &rows, &err))
			fail_msg("'%s' ran on a read-only source", sql);
		assert_non_null(strstr(err.msg, "source 'lite': "));
	}
	free(other);
	query_ok(src, "SELECT count(*) FROM s", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "1");
	source_rows_release(&rows);
	/* the tail after the statement must be only comments */
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(source_backend_sqlite.query(src, "SELECT 1; SELECT 2", NULL, NULL, 0,
	                                             false, NULL, &rows, &err),
	                 -1);
	assert_string_equal(err.msg, "source 'lite': query must be a single statement");
	query_ok(src, "SELECT 1; -- done\n /* really */ ;", NULL, 0, &rows);
	source_rows_release(&rows);
	/* only deterministic functions (and aggregates, windows, the statement's time) */
	query_fails(src, "SELECT random()",
	            "source 'lite': query must not call random(): it is not deterministic");
	query_fails(src, "SELECT a FROM s WHERE a > abs(RandomBlob(2))", "call randomblob()");
	query_fails(src, "SELECT load_extension('x')", "call load_extension()");
	query_fails(src, "SELECT (SELECT changes())", "call changes()");
	{
		struct sw_err derr = {{0}};
		assert_int_equal(source_describe(src, "SELECT random() AS r", &rows, &derr), -1);
		assert_non_null(strstr(derr.msg, "query must not call random()"));
	}
	query_ok(src,
	         "SELECT count(*) AS n, max(a) AS m, lower('A') AS l, date('now') IS NOT NULL AS d,"
	         " strftime('%s', 'now') > '0' AS t, current_timestamp IS NOT NULL AS c,"
	         " coalesce(NULL, 1) AS k, json_extract('{\"x\": 2}', '$.x') AS j,"
	         " row_number() OVER () AS rn FROM s",
	         NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "1");
	assert_string_equal(source_cell(&rows, 0, 2), "a");
	assert_string_equal(source_cell(&rows, 0, 7), "2");
	source_rows_release(&rows);
	source_close(src);
	free(url);
	test_rmtree(dir);
	free(path);
	free(dir);
}

/* ---- streamed queries (both kinds) ---- */

struct seen_rows {
	size_t batches, rows, max_batch;
	size_t fail_at; /* fail when this batch (1-based) arrives; 0: never */
	size_t stop_at; /* stop the stream after this batch (1-based); 0: never */
	long next;      /* the next n expected */
};

static int seen_batch(void *ctx, const struct source_rows *b, struct sw_err *err)
{
	struct seen_rows *s = ctx;
	assert_int_equal(b->ncols, 2);
	assert_string_equal(b->cols[0], "n");
	assert_true(b->nrows > 0);
	if (++s->batches == s->fail_at)
		return sw_err_set(err, "consumer refused batch %zu", s->batches), -1;
	for (size_t r = 0; r < b->nrows; r++)
		assert_int_equal(atol(source_cell(b, r, 0)), s->next++);
	s->rows += b->nrows;
	if (b->nrows > s->max_batch)
		s->max_batch = b->nrows;
	return s->batches == s->stop_at;
}

/* n = 1..30 in order (the recursion's); abs() overflows at n = :bad (a failure while rows are being
 * read) */
static const char stream_sql[] =
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 30)"
    " SELECT n, abs(CASE WHEN n = :bad THEN -9223372036854775807 - 1 ELSE n END) AS v"
    " FROM c"; /* no ORDER BY: a sort would compute every row before the first */

static void check_stream(struct source *src, const char *bad_number)
{
	struct source_param none[] = {{"bad", "0", true}};
	struct source_param bad[] = {{"bad", bad_number, true}};
	struct sw_err err = {{0}};
	struct source_rows rows;
	struct seen_rows s;

	/* every row once, in order, in batches of at most 7 */
	for (int round = 0; round < 2; round++) {
		memset(&s, 0, sizeof(s));
		s.next = 1;
		if (source_query_each(src, stream_sql, none, 1, 7, seen_batch, &s, &err))
			fail_msg("stream: %s", err.msg);
		assert_int_equal(s.rows, 30);
		assert_int_equal(s.batches, 5); /* 7 7 7 7 2 */
		assert_int_equal(s.max_batch, 7);
	}
	/* the consumer fails on the third batch: the query fails with its error, after the
	 * two batches it took, and the session is clean for the next query */
	memset(&s, 0, sizeof(s));
	s.next = 1;
	s.fail_at = 3;
	assert_int_equal(source_query_each(src, stream_sql, none, 1, 7, seen_batch, &s, &err), -1);
	assert_string_equal(err.msg, "consumer refused batch 3");
	assert_int_equal(s.rows, 14);
	/* the consumer stops after the second batch: the query succeeds with the 14 rows it
	 * took, the rest unread, and the session is clean for the next query */
	memset(&s, 0, sizeof(s));
	s.next = 1;
	s.stop_at = 2;
	if (source_query_each(src, stream_sql, none, 1, 7, seen_batch, &s, &err))
		fail_msg("stopped stream: %s", err.msg);
	assert_int_equal(s.batches, 2);
	assert_int_equal(s.rows, 14);
	query_ok(src, "SELECT 2 AS two", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "2");
	source_rows_release(&rows);
	/* the source fails at row 15: reported, and no row of the failed batch was handed on */
	memset(&s, 0, sizeof(s));
	s.next = 1;
	assert_int_equal(source_query_each(src, stream_sql, bad, 1, 7, seen_batch, &s, &err), -1);
	assert_non_null(strstr(err.msg, "source 's': "));
	assert_int_equal(s.rows, 14);
	assert_int_equal(s.batches, 2);
	/* the guard still runs first */
	assert_int_equal(source_query_each(src, "DELETE FROM x", NULL, 0, 7, seen_batch, &s, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "query must be a single SELECT"));
	/* no rows: no call */
	memset(&s, 0, sizeof(s));
	if (source_query_each(src, "SELECT 1 AS n, 2 AS v WHERE 1 = 0", NULL, 0, 7, seen_batch, &s,
	                      &err))
		fail_msg("empty stream: %s", err.msg);
	assert_int_equal(s.batches, 0);
	query_ok(src, "SELECT 1 AS one", NULL, 0, &rows);
	assert_string_equal(source_cell(&rows, 0, 0), "1");
	source_rows_release(&rows);
}

static void test_pg_query_each(void **state)
{
	char *url = pg_db();
	struct source *src;

	(void)state;
	src = open_src("s", url, SW_DB_POSTGRES, 5000);
	check_stream(src, "15");
	source_close(src);
	free(url);
}

static void test_sqlite_query_each(void **state)
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/app.db", dir), *url;
	struct source *src;

	(void)state;
	sqlite_exec(path, "CREATE TABLE x (a)");
	url = xasprintf("sqlite://%s", path);
	src = open_src("s", url, SW_DB_SQLITE, 5000);
	check_stream(src, "15");
	source_close(src);
	test_rmtree(dir);
	free(url);
	free(path);
	free(dir);
}

static void test_sqlite_timeout_and_missing(void **state)
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/app.db", dir), *url;
	struct source *src;
	struct source_rows rows;
	int64_t t0;

	(void)state;
	url = xasprintf("sqlite://%s", path);
	/* a missing file fails at query time, not at open, and works once it exists */
	src = open_src("lite", url, SW_DB_SQLITE, 200);
	query_fails(src, "SELECT 1", "cannot open source 'lite'");
	sqlite_exec(path, "CREATE TABLE s (a INTEGER)");
	query_ok(src, "SELECT count(*) FROM s", NULL, 0, &rows);
	source_rows_release(&rows);
	/* statement_timeout interrupts a long query */
	t0 = time_mono_ms();
	query_fails(src,
	            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) "
	            "SELECT max(n) FROM c",
	            "source 'lite': canceling statement due to statement timeout (200ms)");
	assert_true(time_mono_ms() - t0 < 1500);
	/* and the next query has its own deadline */
	query_ok(src, "SELECT 1", NULL, 0, &rows);
	source_rows_release(&rows);
	source_close(src);
	free(url);
	test_rmtree(dir);
	free(path);
	free(dir);
}

/* Each source writes a time in its own notation (what the watcher sends as :since); opening
 * connects to nothing, so no database is needed. */
static void test_time_params(void **state)
{
	struct source *pg =
	    open_src_opt("p", "postgresql://nobody@127.0.0.1:1/x", SW_DB_POSTGRES, 1000, false);
	struct source *sq =
	    open_src_opt("s", "sqlite:///nonexistent/x.db", SW_DB_SQLITE, 1000, false);
	const int64_t t = 1767268800500; /* 2026-01-01T12:00:00.500Z */
	struct source_param p;
	char buf[64];
	(void)state;

	assert_false(source_time_needs_probe(pg));
	assert_true(source_time_needs_probe(sq));

	source_time_param(pg, "since", TIME_NULL, NULL, buf, sizeof(buf), &p);
	assert_string_equal(p.name, "since");
	assert_string_equal(p.value, "1970-01-01T00:00:00Z");
	assert_false(p.is_number);
	source_time_param(pg, "since", t, "1767268800", buf, sizeof(buf), &p);
	assert_string_equal(p.value, "2026-01-01T12:00:00.500Z");
	assert_false(p.is_number);

	source_time_param(sq, "since", TIME_NULL, NULL, buf, sizeof(buf), &p);
	assert_string_equal(p.value, "0");
	assert_true(p.is_number);
	source_time_param(sq, "since", t, NULL, buf, sizeof(buf), &p);
	assert_string_equal(p.value, "2026-01-01T12:00:00.500Z");
	assert_false(p.is_number);
	source_time_param(sq, "since", t, "2025-03-04 05:06:07", buf, sizeof(buf), &p);
	assert_string_equal(p.value, "2026-01-01 12:00:00");
	assert_false(p.is_number);
	source_time_param(sq, "since", t, "1741064767", buf, sizeof(buf), &p);
	assert_true(p.is_number);
	assert_int_equal(strtoll(p.value, NULL, 10), 1767268800);

	source_raw_param(sq, "sw_at", "1741064767", &p);
	assert_string_equal(p.name, "sw_at");
	assert_true(p.is_number);
	source_raw_param(sq, "sw_at", "2025-03-04 05:06:07", &p);
	assert_false(p.is_number);
	source_raw_param(pg, "sw_at", "1741064767", &p);
	assert_false(p.is_number);
	assert_string_equal(p.value, "1741064767");

	source_close(pg);
	source_close(sq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_params),
	    cmocka_unit_test(test_pg_query),
	    cmocka_unit_test(test_pg_describe),
	    cmocka_unit_test(test_pg_read_only),
	    cmocka_unit_test(test_pg_catalog_policy),
	    cmocka_unit_test(test_pg_no_session_state),
	    cmocka_unit_test(test_pg_role_check),
	    cmocka_unit_test(test_pg_secrets_scrubbed),
	    cmocka_unit_test(test_pg_statement_timeout),
	    cmocka_unit_test(test_pg_unreachable),
	    cmocka_unit_test(test_pg_reconnect),
	    cmocka_unit_test(test_pg_row_cap),
	    cmocka_unit_test(test_rows_byte_cap),
	    cmocka_unit_test(test_sqlite_query),
	    cmocka_unit_test(test_sqlite_read_only),
	    cmocka_unit_test(test_sqlite_timeout_and_missing),
	    cmocka_unit_test(test_pg_query_each),
	    cmocka_unit_test(test_sqlite_query_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
