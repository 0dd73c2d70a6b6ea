/*
 * test_source_guard.c - the SQL guard (libpg_query for PostgreSQL, lexical + in-memory
 * prepare for SQLite) and the ":name" -> "$n" parameter rewrite. No servers needed.
 */
#include "helpers.h"
#include "source/source.h"

static const char steps_query[] =
    "SELECT application_id AS instance_id, user_id, step, status,\n"
    "       error_code AS error, started_at, finished_at, updated_at,\n"
    "       channel, partner\n"
    "  FROM loan_steps\n"
    " WHERE updated_at > :since\n"
    " ORDER BY updated_at\n";

static const char detect_query[] =
    "SELECT d.application_id AS instance_id, d.user_id, d.sent_at AS occurred_at,\n"
    "       'NOT_CREDITED' AS error\n"
    "  FROM disbursements d\n"
    " WHERE d.status = 'SENT' AND d.sent_at < now() - interval '10 minutes'\n";

static const char resolve_query[] =
    "SELECT 1 FROM disbursements WHERE application_id = :instance_id AND status = "
    "'CREDITED'";

static void ok_pg(const char *sql)
{
	struct sw_err err = {{0}};
	if (source_guard(SW_DB_POSTGRES, sql, &err))
		fail_msg("refused %s: %s", sql, err.msg);
}

static void ok_sqlite(const char *sql)
{
	struct sw_err err = {{0}};
	if (source_guard(SW_DB_SQLITE, sql, &err))
		fail_msg("sqlite refused %s: %s", sql, err.msg);
}

static void refused(enum sw_db_kind kind, const char *sql, const char *reason)
{
	struct sw_err err = {{0}};
	if (!source_guard(kind, sql, &err))
		fail_msg("accepted %s", sql);
	if (strcmp(err.msg, reason))
		fail_msg("%s: reason '%s', expected '%s'", sql, err.msg, reason);
}

static void refused_prefix(enum sw_db_kind kind, const char *sql, const char *prefix)
{
	struct sw_err err = {{0}};
	if (!source_guard(kind, sql, &err))
		fail_msg("accepted %s", sql);
	if (strncmp(err.msg, prefix, strlen(prefix)))
		fail_msg("%s: reason '%s', expected '%s...'", sql, err.msg, prefix);
}

static void test_pg_accepts(void **state)
{
	(void)state;
	ok_pg("SELECT 1");
	ok_pg("select * from t where a = 'x; DELETE FROM t'");
	ok_pg("WITH x AS (SELECT 1 AS a) SELECT a FROM x");
	ok_pg("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
	      "SELECT n FROM r");
	ok_pg("SELECT * FROM t WHERE updated_at > :since AND id = :instance_id");
	ok_pg("SELECT :since::timestamptz, $$:not_a_param$$, 'it''s :x' -- :y\n");
	ok_pg("SELECT 1;"); /* a trailing semicolon is still one statement */
	ok_pg("VALUES (1), (2)");
	ok_pg("SELECT pg_sleep(0)");
	ok_pg("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 5");
	ok_pg(steps_query);
	ok_pg(detect_query);
	ok_pg(resolve_query);
}

static void test_pg_refuses(void **state)
{
	(void)state;
	refused(SW_DB_POSTGRES, "DELETE FROM t", "query must be a single SELECT: found DELETE");
	refused(SW_DB_POSTGRES, "UPDATE t SET a = 1 WHERE b = :since RETURNING *",
	        "query must be a single SELECT: found UPDATE");
	refused(SW_DB_POSTGRES, "INSERT INTO t VALUES (1)",
	        "query must be a single SELECT: found INSERT");
	refused(SW_DB_POSTGRES, "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x",
	        "query must be read-only: found INSERT in a WITH clause");
	refused(SW_DB_POSTGRES,
	        "WITH a AS (SELECT 1), b AS (DELETE FROM t RETURNING id) SELECT * FROM a, b",
	        "query must be read-only: found DELETE in a WITH clause");
	refused(SW_DB_POSTGRES,
	        "SELECT * FROM (WITH u AS (UPDATE t SET a = 1 RETURNING a) SELECT a FROM u) s",
	        "query must be read-only: found UPDATE in a WITH clause");
	refused(SW_DB_POSTGRES, "SELECT 1; DROP TABLE x",
	        "query must be a single statement: found 2");
	refused(SW_DB_POSTGRES, "SELECT 1; SELECT 2", "query must be a single statement: found 2");
	refused(SW_DB_POSTGRES, "SELECT * FROM t FOR UPDATE",
	        "query must not lock rows: found FOR UPDATE");
	refused(SW_DB_POSTGRES, "SELECT * FROM t FOR SHARE",
	        "query must not lock rows: found FOR SHARE");
	refused(SW_DB_POSTGRES, "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED",
	        "query must not lock rows: found FOR NO KEY UPDATE");
	refused(SW_DB_POSTGRES, "SELECT * FROM (SELECT * FROM t FOR KEY SHARE) s",
	        "query must not lock rows: found FOR KEY SHARE");
	refused(SW_DB_POSTGRES, "SELECT 1 INTO t2",
	        "query must be a single SELECT: found SELECT INTO");
	refused(SW_DB_POSTGRES, "SELECT * INTO TEMP t2 FROM t",
	        "query must be a single SELECT: found SELECT INTO");
	refused(SW_DB_POSTGRES, "CREATE TABLE x AS SELECT 1",
	        "query must be a single SELECT: found CREATE TABLE AS");
	refused(SW_DB_POSTGRES, "COPY t TO STDOUT", "query must be a single SELECT: found COPY");
	refused(SW_DB_POSTGRES, "COPY (SELECT 1) TO '/tmp/x'",
	        "query must be a single SELECT: found COPY");
	refused(SW_DB_POSTGRES, "TRUNCATE t", "query must be a single SELECT: found TRUNCATE");
	refused(SW_DB_POSTGRES, "DROP TABLE t", "query must be a single SELECT: found DROP");
	refused(SW_DB_POSTGRES, "EXPLAIN ANALYZE DELETE FROM t",
	        "query must be a single SELECT: found EXPLAIN");
	refused(SW_DB_POSTGRES, "SET statement_timeout = 0",
	        "query must be a single SELECT: found SET");
	refused(SW_DB_POSTGRES, "BEGIN",
	        "query must be a single SELECT: found a transaction command");
	refused(SW_DB_POSTGRES, "SELECT nextval('s')",
	        "query must not call nextval(): it has side effects");
	refused(SW_DB_POSTGRES, "SELECT a FROM t WHERE pg_catalog.setval('s', 1) > 0",
	        "query must not call setval(): it has side effects");
	refused(SW_DB_POSTGRES, "SELECT pg_advisory_lock(1)",
	        "query must not call pg_advisory_lock(): it has side effects");
	refused(SW_DB_POSTGRES, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
	        "query must not call pg_terminate_backend(): it has side effects");
	refused(SW_DB_POSTGRES, "SELECT lo_import('/etc/passwd')",
	        "query must not call lo_import(): it has side effects");
	refused(SW_DB_POSTGRES, "SELECT * FROM dblink('x', 'DELETE FROM t') AS r(a int)",
	        "query must not call dblink(): it has side effects");
	refused(SW_DB_POSTGRES, "", "query is empty");
	refused(SW_DB_POSTGRES, " ; -- nothing", "query is empty");
	refused(SW_DB_POSTGRES, "SELECT '\xff'", "query is not valid UTF-8 (byte 8)");
}

static void test_pg_syntax_errors(void **state)
{
	(void)state;
	refused(SW_DB_POSTGRES, "SELEC 1", "syntax error at or near \"SELEC\" at line 1, column 1");
	refused(SW_DB_POSTGRES, "SELECT a\n  FROM t WHERE updated_at > :since AND AND x",
	        "syntax error at or near \"AND\" at line 2, column 40");
	refused_prefix(SW_DB_POSTGRES, "SELECT 'unterminated", "unterminated quoted string");
	refused_prefix(SW_DB_POSTGRES, "SELECT (1", "syntax error at end of input");
}

static void test_sqlite_guard(void **state)
{
	(void)state;
	ok_sqlite("SELECT 1");
	ok_sqlite("  -- leading comment\n/* and another */ select * from t where x > :since;  ");
	ok_sqlite("WITH x(a) AS (SELECT 1) SELECT a FROM x");
	ok_sqlite("WITH \"select\" AS MATERIALIZED (SELECT 1 AS a) SELECT a FROM \"select\"");
	ok_sqlite("SELECT 'a;b', [x;y], `z;w` FROM t;;");
	ok_sqlite(steps_query);
	ok_sqlite(resolve_query);
	refused(SW_DB_SQLITE, "DELETE FROM t", "query must be a single SELECT: found DELETE");
	refused(SW_DB_SQLITE, "update t set a = 1", "query must be a single SELECT: found UPDATE");
	refused(SW_DB_SQLITE, "INSERT INTO t VALUES (1)",
	        "query must be a single SELECT: found INSERT");
	refused(SW_DB_SQLITE, "WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)",
	        "query must be a single SELECT: found DELETE");
	refused(SW_DB_SQLITE, "SELECT 1; DROP TABLE x", "query must be a single statement");
	refused(SW_DB_SQLITE, "SELECT 1; SELECT 2", "query must be a single statement");
	refused(SW_DB_SQLITE, "ATTACH 'x.db' AS y", "query must be a single SELECT: found ATTACH");
	refused(SW_DB_SQLITE, "PRAGMA journal_mode = delete",
	        "query must be a single SELECT: found PRAGMA");
	refused(SW_DB_SQLITE, "CREATE TABLE x AS SELECT 1",
	        "query must be a single SELECT: found CREATE");
	refused(SW_DB_SQLITE, "", "query is empty");
	refused(SW_DB_SQLITE, " ;; /* */", "query is empty");
	refused(SW_DB_SQLITE, "(SELECT 1)", "query must be a single SELECT");
	refused_prefix(SW_DB_SQLITE, "SELECT FROM WHERE", "near \"FROM\": syntax error");
	refused_prefix(SW_DB_SQLITE, "SELECT 'x", "unrecognized token");
}

static char *rewrite(const char *sql, const char *const *names, size_t n, int *order,
                     size_t *norder, struct sw_err *err)
{
	return source_rewrite_params(sql, names, n, order, norder, err);
}

static void expect_rewrite(const char *sql, const char *want, size_t want_n)
{
	static const char *const names[] = {"since", "instance_id", "x"};
	int order[3] = {-1, -1, -1};
	size_t norder = 99;
	struct sw_err err = {{0}};
	char *got = rewrite(sql, names, 3, order, &norder, &err);

	if (!got)
		fail_msg("rewrite of %s failed: %s", sql, err.msg);
	if (strcmp(got, want))
		fail_msg("rewrite of %s: got '%s', want '%s'", sql, got, want);
	assert_int_equal(norder, want_n);
	free(got);
}

static void test_rewrite_params(void **state)
{
	static const char *const names[] = {"since", "instance_id"};
	int order[2];
	size_t norder = 0;
	struct sw_err err = {{0}};
	char *got;

	(void)state;
	expect_rewrite("SELECT 1", "SELECT 1", 0);
	expect_rewrite("SELECT * FROM t WHERE a > :since", "SELECT * FROM t WHERE a > $1", 1);
	expect_rewrite("SELECT ':since', E'\\':x', \"a:x\", :since",
	               "SELECT ':since', E'\\':x', \"a:x\", $1", 1);
	expect_rewrite("SELECT 'it''s :x' || :x", "SELECT 'it''s :x' || $1", 1);
	expect_rewrite("SELECT 1 -- :x\n, :x /* :since /* nested :x */ :since */ + 1",
	               "SELECT 1 -- :x\n, $1 /* :since /* nested :x */ :since */ + 1", 1);
	expect_rewrite("SELECT :since::timestamptz, a::text FROM t",
	               "SELECT $1::timestamptz, a::text FROM t", 1);
	expect_rewrite("SELECT $$ :x $$, $tag$ :x $$ :x $tag$, :x",
	               "SELECT $$ :x $$, $tag$ :x $$ :x $tag$, $1", 1);
	expect_rewrite("SELECT a$b, $1, :instance_id", "SELECT a$b, $1, $1", 1);
	expect_rewrite("SELECT :x, :since, :x, :instance_id, :since", "SELECT $1, $2, $1, $3, $2",
	               3);
	expect_rewrite("SELECT 'unterminated :x", "SELECT 'unterminated :x", 0);
	expect_rewrite("SELECT /* unterminated :x", "SELECT /* unterminated :x", 0);
	expect_rewrite("SELECT $q$ unterminated :x", "SELECT $q$ unterminated :x", 0);
	expect_rewrite("SELECT :", "SELECT :", 0);
	expect_rewrite("SELECT :1", "SELECT :1", 0);

	got = rewrite("SELECT :x, :since, :x", names, 2, order, &norder, &err);
	assert_null(got);
	assert_string_equal(err.msg, "unknown parameter ':x'");

	got = rewrite("SELECT :instance_id, :since", names, 2, order, &norder, &err);
	assert_non_null(got);
	assert_string_equal(got, "SELECT $1, $2");
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	free(got);

	got = rewrite("SELECT :Since", names, 2, order, &norder, &err);
	assert_null(got);
	assert_string_equal(err.msg, "unknown parameter ':Since'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pg_accepts),       cmocka_unit_test(test_pg_refuses),
	    cmocka_unit_test(test_pg_syntax_errors), cmocka_unit_test(test_sqlite_guard),
	    cmocka_unit_test(test_rewrite_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
