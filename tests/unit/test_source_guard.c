/*
 * test_source_guard.c - the SQL guard (libpg_query for PostgreSQL, lexical + in-memory
 * prepare for SQLite) and the ":name" -> "$n" parameter rewrite. No servers needed.
 */
#include "helpers.h"
#include "source/source.h"
#include "source/source-int.h"

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
	        "query must not call dblink(): it runs SQL on another connection");
	refused(SW_DB_POSTGRES, "", "query is empty");
	refused(SW_DB_POSTGRES, " ; -- nothing", "query is empty");
	refused(SW_DB_POSTGRES, "SELECT '\xff'", "query is not valid UTF-8 (byte 8)");
}

/* The hostile corpus that needs no catalog: refused by the guard alone (and so by `check`
 * even with the source down), in every place a function can hide. */
static void test_pg_hostile(void **state)
{
	static const struct {
		const char *sql, *why;
	} hostile[] = {
	    {"SELECT 1 AS instance_id, (query_to_xml('select pg_advisory_lock(2)', true, false, "
	     "''))::text AS error",
	     "query must not call query_to_xml(): it runs SQL given as text"},
	    {"SELECT * FROM ts_stat('select to_tsvector(''x'')')",
	     "query must not call ts_stat(): it runs SQL given as text"},
	    {"SELECT ts_rewrite('a'::tsquery, 'SELECT pg_advisory_lock(1)')",
	     "query must not call ts_rewrite(): it runs SQL given as text"},
	    {"SELECT query_to_xml_and_xmlschema('select 1', true, false, '')",
	     "query must not call query_to_xml_and_xmlschema(): it runs SQL given as text"},
	    {"SELECT cursor_to_xml('c', 1, true, false, '')",
	     "query must not call cursor_to_xml(): it reads an open cursor"},
	    {"SELECT table_to_xml('t', true, false, '')",
	     "query must not call table_to_xml(): it runs a query it builds"},
	    {"SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
	     "query must not call pg_terminate_backend(): it has side effects"},
	    {"SELECT set_config('statement_timeout', '0', false)",
	     "query must not call set_config(): it has side effects"},
	    {"SELECT lo_create(0)", "query must not call lo_create(): it has side effects"},
	    {"SELECT lo_export(lo_create(0), '/tmp/x')",
	     "query must not call lo_export(): it has side effects"},
	    {"SELECT dblink_exec('dbname=x', 'COPY (SELECT 1) TO PROGRAM ''id''')",
	     "query must not call dblink_exec(): it runs SQL on another connection"},
	    {"SELECT txid_current()", "query must not call txid_current(): it has side effects"},
	    {"SELECT pg_current_xact_id()",
	     "query must not call pg_current_xact_id(): it has side effects"},
	    {"SELECT pg_stat_reset()", "query must not call pg_stat_reset(): it has side effects"},
	    {"SELECT pg_read_file('/etc/passwd') AS error",
	     "query must not call pg_read_file(): it reads server files"},
	    {"SELECT pg_backup_start('x')",
	     "query must not call pg_backup_start(): it has side effects"},
	    {"SELECT nextval('s')", "query must not call nextval(): it has side effects"},
	    {"SELECT pg_catalog.pg_advisory_lock(1)",
	     "query must not call pg_advisory_lock(): it has side effects"},
	    /* hidden: in a cast, a subquery, a CTE, a FROM function, a CASE, an ORDER BY */
	    {"SELECT CAST(txid_current() AS text) AS x",
	     "query must not call txid_current(): it has side effects"},
	    {"SELECT a FROM t WHERE a IN (SELECT pg_terminate_backend(1)::int)",
	     "query must not call pg_terminate_backend(): it has side effects"},
	    {"WITH x AS (SELECT set_config('a.b', 'c', false) AS v) SELECT v FROM x",
	     "query must not call set_config(): it has side effects"},
	    {"SELECT * FROM generate_series(1, 2), LATERAL pg_ls_dir('.') d",
	     "query must not call pg_ls_dir(): it reads server files"},
	    {"SELECT CASE WHEN false THEN lo_import('/etc/passwd') END",
	     "query must not call lo_import(): it has side effects"},
	    {"SELECT 1 ORDER BY pg_notify('c', 'x')",
	     "query must not call pg_notify(): it has side effects"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hostile); i++)
		refused(SW_DB_POSTGRES, hostile[i].sql, hostile[i].why);
}

static void expect_calls(const char *sql, const char *want)
{
	struct source_calls calls = {0};
	struct sw_err err = {{0}};
	char got[1024] = "";
	size_t i;

	if (source__guard_pg(sql, &calls, &err))
		fail_msg("refused %s: %s", sql, err.msg);
	for (i = 0; i < calls.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s%s%s%s", i ? " " : "",
		         calls.v[i].is_op ? "op:" : "", calls.v[i].schema,
		         *calls.v[i].schema ? "." : "", calls.v[i].name);
	source__calls_release(&calls);
	if (strcmp(got, want))
		fail_msg("calls of %s: got '%s', want '%s'", sql, got, want);
}

/* Every function and operator is collected for the catalog, wherever it is. */
static void test_pg_calls(void **state)
{
	(void)state;
	expect_calls("SELECT 1", "");
	expect_calls("SELECT random()", "random");
	expect_calls("SELECT (f(1))::text, g(2)::int, CAST(h(3) AS text)", "f g h");
	expect_calls("SELECT * FROM t WHERE a IN (SELECT s.x(b) FROM u)", "s.x");
	expect_calls("SELECT 1 WHERE 2 === ANY (SELECT 3)", "op:===");
	expect_calls("WITH c AS (SELECT f() AS v) SELECT v FROM c, ts_debug('x') d", "ts_debug f");
	expect_calls("SELECT count(*), max(a) FILTER (WHERE b > 1) OVER () FROM t",
	             "count max op:>");
	expect_calls("SELECT a FROM t WHERE a BETWEEN 1 AND 2 AND b LIKE 'x' AND c IS NOT NULL",
	             "op:~~");
	expect_calls("SELECT 1 OPERATOR(myschema.===) 2, 3 + 4, a = ANY(b)",
	             "op:myschema.=== op:+ op:=");
	expect_calls("SELECT extract(epoch FROM now()), now() AT TIME ZONE 'UTC'",
	             "pg_catalog.extract now pg_catalog.timezone");
	expect_calls("SELECT f(x) FROM t GROUP BY f(x) HAVING f(x) > :since", "f op:>");
	expect_calls("SELECT db.sch.fn()", "sch.fn");
}

#define PROC(s, n, v, p, path)          \
	{                               \
		s, n, v, p, path, false \
	}
#define OP(s, n, v, p, path)           \
	{                              \
		s, n, v, p, path, true \
	}

static int policy(const char *sql, const struct source_proc *procs, size_t n, char *why,
                  size_t whylen)
{
	struct source_calls calls = {0};
	struct sw_err err = {{0}};
	int rc;

	if (source__guard_pg(sql, &calls, &err))
		fail_msg("refused %s: %s", sql, err.msg);
	rc = source__pg_policy(&calls, procs, n, &err);
	snprintf(why, whylen, "%s", rc ? err.msg : "");
	source__calls_release(&calls);
	return rc;
}

/* The decision on a catalog's answer (rows as PostgreSQL 15 has them). */
static void test_pg_policy(void **state)
{
	static const struct source_proc cat[] = {
	    PROC("pg_catalog", "now", 's', 's', true),
	    PROC("pg_catalog", "random", 'v', 'r', true),
	    PROC("pg_catalog", "date_trunc", 's', 's', true),
	    PROC("pg_catalog", "date_trunc", 'i', 's', true),
	    PROC("pg_catalog", "txid_current", 's', 'u', true),
	    PROC("pg_catalog", "pg_sleep", 'v', 's', true),
	    PROC("public", "calm", 's', 'u', true), /* a user's STABLE function */
	    PROC("public", "mixed", 'i', 's', true),
	    PROC("public", "mixed", 'v', 'u', true), /* one volatile overload */
	    PROC("hidden", "peek", 'v', 'u', false), /* not on the search path */
	    PROC("hidden", "safe", 'i', 's', false),
	    OP("pg_catalog", "=", 'i', 's', true),
	    OP("public", "===", 'v', 'u', true),
	};
	const size_t n = ARRAY_SIZE(cat);
	char why[1024];

	(void)state;
	assert_int_equal(
	    policy("SELECT now(), date_trunc('day', now()), calm(1)", cat, n, why, sizeof(why)), 0);
	assert_int_equal(policy("SELECT 1 WHERE 1 = 1", cat, n, why, sizeof(why)), 0);
	assert_int_equal(policy("SELECT random()", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call random(): the source's catalog marks it "
	                         "VOLATILE");
	assert_int_equal(policy("SELECT pg_catalog.pg_sleep(1)", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call pg_catalog.pg_sleep(): the source's "
	                         "catalog marks it VOLATILE");
	assert_int_equal(policy("SELECT mixed(1)", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call mixed(): the source's catalog marks it "
	                         "VOLATILE");
	/* unqualified: only the search path counts; qualified: only that schema */
	assert_int_equal(policy("SELECT peek()", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call peek(): the source has no such function");
	assert_int_equal(policy("SELECT hidden.peek()", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call hidden.peek(): the source's catalog marks "
	                         "it VOLATILE");
	assert_int_equal(policy("SELECT hidden.safe()", cat, n, why, sizeof(why)), 0);
	assert_int_equal(policy("SELECT public.now()", cat, n, why, sizeof(why)), -1);
	assert_int_equal(policy("SELECT nothing_like_it()", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call nothing_like_it(): the source has no such "
	                         "function");
	/* operators: by their function; an unknown one is PostgreSQL's to reject */
	assert_int_equal(policy("SELECT 1 === 2", cat, n, why, sizeof(why)), -1);
	assert_string_equal(why, "query must not call operator ===: the source's catalog marks "
	                         "its function VOLATILE");
	assert_int_equal(policy("SELECT 1 <~> 2", cat, n, why, sizeof(why)), 0);
	/* an empty catalog answer: every function is unknown */
	assert_int_equal(policy("SELECT now()", NULL, 0, why, sizeof(why)), -1);
}

/* A built-in marked PARALLEL UNSAFE is refused; a user's function is judged by volatility. */
static void test_pg_policy_parallel(void **state)
{
	static const struct source_proc cat[] = {
	    PROC("pg_catalog", "pg_current_xact_id_if_assigned", 's', 'u', true),
	    PROC("public", "calm", 's', 'u', true),
	};
	struct source_calls calls = {0};
	struct sw_err err = {{0}};

	(void)state;
	/* not on the guard's list: the catalog decides */
	assert_int_equal(source__guard_pg("SELECT calm(1), current_schemas(true)", &calls, &err),
	                 0);
	source__calls_release(&calls);
	assert_int_equal(source__guard_pg("SELECT pg_current_xact_id_if_assigned()", &calls, &err),
	                 -1); /* pg_current_xact_id* is listed */
	source__calls_release(&calls);
	calls.v = xcalloc(1, sizeof(*calls.v));
	calls.v[0].schema = xstrdup("");
	calls.v[0].name = xstrdup("pg_current_xact_id_if_assigned");
	calls.n = calls.alloc = 1;
	assert_int_equal(source__pg_policy(&calls, cat, ARRAY_SIZE(cat), &err), -1);
	assert_string_equal(err.msg, "query must not call pg_current_xact_id_if_assigned(): the "
	                             "source's catalog marks it PARALLEL UNSAFE (it changes "
	                             "transaction or session state)");
	free(calls.v[0].name);
	calls.v[0].name = xstrdup("calm");
	assert_int_equal(source__pg_policy(&calls, cat, ARRAY_SIZE(cat), &err), 0);
	source__calls_release(&calls);
}

/* SQLite: only deterministic functions (and aggregates, windows, the statement's time). */
static void test_sqlite_funcs(void **state)
{
	static char n1[] = "abs", n2[] = "count", n3[] = "date", n4[] = "lower", n5[] = "strftime";
	char *allowed[] = {n1, n2, n3, n4, n5}; /* sorted */
	(void)state;
	assert_true(source__sqlite_func_ok("lower", allowed, ARRAY_SIZE(allowed)));
	assert_true(source__sqlite_func_ok("STRFTIME", allowed, ARRAY_SIZE(allowed)));
	assert_true(source__sqlite_func_ok("current_timestamp", allowed, ARRAY_SIZE(allowed)));
	assert_false(source__sqlite_func_ok("random", allowed, ARRAY_SIZE(allowed)));
	assert_false(source__sqlite_func_ok("load_extension", allowed, ARRAY_SIZE(allowed)));
	assert_false(source__sqlite_func_ok("changes", allowed, ARRAY_SIZE(allowed)));
	/* without the connection's list: everything but the refuse-list */
	assert_true(source__sqlite_func_ok("changes", NULL, 0));
	assert_false(source__sqlite_func_ok("randomblob", NULL, 0));
	assert_false(source__sqlite_func_ok("Load_Extension", NULL, 0));
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
	    cmocka_unit_test(test_pg_accepts),         cmocka_unit_test(test_pg_refuses),
	    cmocka_unit_test(test_pg_syntax_errors),   cmocka_unit_test(test_sqlite_guard),
	    cmocka_unit_test(test_rewrite_params),     cmocka_unit_test(test_pg_hostile),
	    cmocka_unit_test(test_pg_calls),           cmocka_unit_test(test_pg_policy),
	    cmocka_unit_test(test_pg_policy_parallel), cmocka_unit_test(test_sqlite_funcs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
