/*
 * test_sim.c - the demo's simulated lending business (src/demo/sim.c), checked by reading
 * the SQLite file it writes directly, as stepwatch would.
 */
#include "helpers.h"
#include <math.h>
#include <sqlite3.h>
#include "demo/sim.h"
#include "util/timeutil.h"

#define MIN (60 * 1000LL)

static int64_t t0(void)
{
	int64_t ms;
	assert_int_equal(time_parse("2026-11-21T10:00:00Z", &ms), 0);
	return ms;
}

struct fixture {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->dir = test_tmpdir();
	f->path = xasprintf("%s/lending.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	test_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static struct sim *open_sim(const char *path, void (*tweak)(struct sim_opts *))
{
	struct sim_opts o;
	struct sim *s = NULL;
	struct sw_err err = {{0}};
	sim_opts_init(&o);
	o.db_path = path;
	if (tweak)
		tweak(&o);
	if (sim_open(&o, t0(), &s, &err))
		fail_msg("sim_open: %s", err.msg);
	return s;
}

static void advance(struct sim *s, int64_t ms)
{
	struct sw_err err = {{0}};
	if (sim_advance(s, ms, &err))
		fail_msg("sim_advance: %s", err.msg);
}

/* A read-only connection, the way stepwatch opens a source. */
static sqlite3 *open_ro(const char *path)
{
	sqlite3 *db = NULL;
	char *uri = xasprintf("file:%s?mode=ro", path);
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
		fail_msg("cannot open '%s': %s", uri, sqlite3_errmsg(db));
	free(uri);
	return db;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("'%s': %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("'%s' returned no row: %s", sql, sqlite3_errmsg(db));
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("'%s': %s", sql, msg);
}

/* Every row, in a fixed order, as one string: equal dumps mean equal tables. */
static char *dump(const char *path)
{
	sqlite3 *db = open_ro(path);
	sqlite3_stmt *st = NULL;
	char *out;
	const char *sql = "SELECT group_concat(r, char(10)) FROM (SELECT application_id || '|' "
	                  "|| user_id || '|' || step || '|' || status || '|' || "
	                  "coalesce(error_code, '-') || '|' || started_at || '|' || "
	                  "coalesce(finished_at, '-') || '|' || updated_at || '|' || channel || "
	                  "'|' || partner AS r FROM loan_steps ORDER BY application_id, step)";
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	out = xstrdup_or_null((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out ? out : xstrdup("");
}

/* Every row is well formed: known status and step, error set exactly when FAILED,
 * timestamps that time_parse() reads, in order, inside [from, to]. */
static void check_rows(sqlite3 *db, int64_t from, int64_t to)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	const char *sql = "SELECT step, status, error_code, started_at, finished_at, updated_at,"
	                  " channel, partner, application_id, user_id FROM loan_steps";
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *step = (const char *)sqlite3_column_text(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 1);
		const char *error = (const char *)sqlite3_column_text(st, 2);
		const char *fin = (const char *)sqlite3_column_text(st, 4);
		int64_t started, finished = TIME_NULL, updated;
		bool known = false;
		for (size_t i = 0; i < SIM_NSTEPS; i++)
			known |= strcmp(step, sim_steps[i]) == 0;
		assert_true(known);
		assert_true(strcmp(status, "IN_PROGRESS") == 0 || strcmp(status, "SUCCESS") == 0 ||
		            strcmp(status, "FAILED") == 0);
		assert_int_equal(error != NULL, strcmp(status, "FAILED") == 0);
		assert_int_equal(fin != NULL, strcmp(status, "IN_PROGRESS") != 0);
		assert_int_equal(time_parse((const char *)sqlite3_column_text(st, 3), &started), 0);
		assert_int_equal(time_parse((const char *)sqlite3_column_text(st, 5), &updated), 0);
		/* three fraction digits and 'Z' always: text order is time order */
		assert_int_equal(strlen((const char *)sqlite3_column_text(st, 5)), 24);
		if (fin) {
			assert_int_equal(time_parse(fin, &finished), 0);
			assert_true(finished > started);
			assert_true(updated == finished);
		} else {
			assert_true(updated == started);
		}
		assert_true(started >= from && updated <= to);
		assert_non_null(sqlite3_column_text(st, 6));
		assert_non_null(sqlite3_column_text(st, 7));
		assert_non_null(sqlite3_column_text(st, 8));
		assert_non_null(sqlite3_column_text(st, 9));
		n++;
	}
	sqlite3_finalize(st);
	assert_true(n > 0);
}

/*
 * The whole default story, advanced in 7-second slices as the demo would: steady traffic,
 * the outage from 20m to 80m, recovery, and two hours more.
 */
static void test_story(void **state)
{
	struct fixture *f = *state;
	struct sim *s = open_sim(f->path, NULL);
	struct sim_stats st;
	int64_t start = t0(), end = start + 200 * MIN, t;
	int64_t out_from = start + 20 * MIN, out_to = start + 80 * MIN;
	sqlite3 *mem = NULL;
	char *attach = xasprintf("ATTACH 'file:%s?mode=ro' AS src", f->path);
	int64_t victims_mid, victims_end;
	bool snapped = false;

	/* An in-memory book of each row's last updated_at, to catch one moving backwards. */
	assert_int_equal(
	    sqlite3_open_v2(":memory:", &mem,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL),
	    SQLITE_OK);
	exec(mem, attach);
	exec(mem, "CREATE TABLE seen (application_id TEXT, step TEXT, updated_at TEXT,"
	          " PRIMARY KEY (application_id, step))");
	exec(mem, "CREATE TABLE victims (application_id TEXT PRIMARY KEY)");

	for (t = start; t <= end; t += 7000) {
		advance(s, t);
		if ((t - start) % (5 * MIN) < 7000) {
			assert_int_equal(q_int(mem,
			                       "SELECT count(*) FROM src.loan_steps l JOIN seen"
			                       " USING (application_id, step)"
			                       " WHERE l.updated_at < seen.updated_at"),
			                 0);
			exec(mem, "INSERT OR REPLACE INTO seen SELECT application_id, step,"
			          " updated_at FROM src.loan_steps");
		}
		sim_stats(s, &st);
		assert_int_equal(st.in_outage, t >= out_from && t < out_to);
		if (!snapped && t >= start + 75 * MIN) {
			snapped = true;
			/* Late in the outage: the bureau step is failing for everybody. */
			exec(mem, "INSERT INTO victims SELECT application_id FROM src.loan_steps"
			          " WHERE step = 'bureau_pull' AND status = 'FAILED'"
			          " AND error_code = 'BUREAU_TIMEOUT'");
			assert_int_equal(q_int(mem,
			                       "SELECT count(*) FROM src.loan_steps WHERE"
			                       " step = 'bureau_pull' AND status = 'SUCCESS'"
			                       " AND finished_at >= '2026-11-21T10:20:00.000Z'"),
			                 0);
		}
	}
	victims_mid = q_int(mem, "SELECT count(*) FROM victims");
	/* ~5 arrivals a minute for ~50 minutes of outage reach the bureau. */
	assert_true(victims_mid > 150);

	/* After the outage: the application retried the held pulls and most succeeded. */
	victims_end = q_int(mem, "SELECT count(*) FROM victims JOIN src.loan_steps l"
	                         " USING (application_id) WHERE l.step = 'bureau_pull'"
	                         " AND l.status = 'SUCCESS'");
	assert_true(victims_end > victims_mid * 3 / 4);
	assert_true(victims_end < victims_mid); /* a few gave up */
	/* Those who gave up all failed early, so that with abandon_after 30m their alerts are
	 * closed before the others recover and the incident can resolve. */
	assert_int_equal(q_int(mem, "SELECT count(*) FROM src.loan_steps WHERE"
	                            " error_code = 'BUREAU_TIMEOUT' AND finished_at >="
	                            " '2026-11-21T10:50:00.000Z'"),
	                 0);
	assert_true(q_int(mem, "SELECT count(*) FROM src.loan_steps WHERE"
	                       " error_code = 'BUREAU_TIMEOUT'") > 0);
	/* No bureau timeouts outside the window. */
	assert_int_equal(q_int(mem, "SELECT count(*) FROM src.loan_steps WHERE"
	                            " error_code = 'BUREAU_TIMEOUT' AND (finished_at <"
	                            " '2026-11-21T10:20:00.000Z' OR finished_at >="
	                            " '2026-11-21T11:20:00.000Z')"),
	                 0);
	/* Held pulls were retried only once the bureau was back, within the drain. */
	assert_int_equal(
	    q_int(mem, "SELECT count(*) FROM victims JOIN src.loan_steps l"
	               " USING (application_id) WHERE l.step = 'bureau_pull' AND"
	               " l.status = 'SUCCESS' AND l.started_at < '2026-11-21T11:20:00.000Z'"),
	    0);
	/* ... and all succeeded by 5 minutes (drain) + 1 minute (a pull) after the outage,
	 * except those who gave up, so the outage's alerts resolve promptly. */
	assert_int_equal(
	    q_int(mem, "SELECT count(*) FROM victims JOIN src.loan_steps l"
	               " USING (application_id) WHERE l.step = 'bureau_pull' AND"
	               " l.status = 'SUCCESS' AND l.finished_at <= '2026-11-21T11:26:00.000Z'"),
	    victims_end);
	assert_int_equal(q_int(mem, "SELECT count(*) FROM victims JOIN src.loan_steps l"
	                            " USING (application_id) WHERE l.step = 'bureau_pull' AND"
	                            " l.status = 'FAILED' AND l.error_code = 'BUREAU_TIMEOUT'"),
	                 victims_mid - victims_end);

	sim_stats(s, &st);
	assert_true(st.completed > 100);
	assert_int_equal((int64_t)st.completed,
	                 q_int(mem, "SELECT count(*) FROM src.loan_steps WHERE"
	                            " step = 'disbursement' AND status = 'SUCCESS'"));
	assert_true(st.abandoned > 10);
	assert_true((int64_t)st.retries > victims_end);
	assert_true(st.failed_steps > st.outage_failures);
	assert_true(st.hangs > 0);
	assert_int_equal(st.started, st.completed + st.abandoned + st.active);
	assert_int_equal((int64_t)st.started,
	                 q_int(mem, "SELECT count(DISTINCT application_id) FROM src.loan_steps"));
	assert_true(st.started > 800 && st.started < 1200); /* 5/min for 200 min */
	/* Background failures of other steps, some retried to success by their users. */
	assert_true(q_int(mem, "SELECT count(DISTINCT error_code) FROM src.loan_steps") >= 5);
	/* Users who walked away half-way: rows IN_PROGRESS for hours. */
	assert_true(q_int(mem, "SELECT count(*) FROM src.loan_steps WHERE status ="
	                       " 'IN_PROGRESS' AND started_at < '2026-11-21T12:00:00.000Z'") > 0);
	/* A step that hung far beyond its normal time and then completed. */
	assert_true(q_int(mem,
	                  "SELECT count(*) FROM src.loan_steps WHERE status = 'SUCCESS'"
	                  " AND (julianday(finished_at) - julianday(started_at)) * 1440 > 45") > 0);
	/* Every segment value shows up. */
	assert_int_equal(q_int(mem, "SELECT count(DISTINCT channel) FROM src.loan_steps"), 3);
	assert_int_equal(q_int(mem, "SELECT count(DISTINCT partner) FROM src.loan_steps"), 4);

	check_rows(mem, start, end);
	sqlite3_close(mem);
	free(attach);
	sim_close(s);
}

/* Advancing to the time already reached writes nothing; going back is refused. */
static void test_advance_idempotent(void **state)
{
	struct fixture *f = *state;
	struct sim *s = open_sim(f->path, NULL);
	struct sim_stats a, b;
	struct sw_err err = {{0}};
	sqlite3 *ro = open_ro(f->path);
	int64_t v1, v2;
	char *d1, *d2;

	advance(s, t0() + 45 * MIN);
	sim_stats(s, &a);
	d1 = dump(f->path);
	v1 = q_int(ro, "PRAGMA data_version");
	advance(s, t0() + 45 * MIN);
	advance(s, t0() + 45 * MIN);
	v2 = q_int(ro, "PRAGMA data_version");
	d2 = dump(f->path);
	sim_stats(s, &b);
	assert_int_equal(v1, v2); /* no commit at all */
	assert_string_equal(d1, d2);
	assert_int_equal(a.events, b.events);
	assert_int_equal(a.rows_written, b.rows_written);
	assert_true(a.rows_written > 0);

	assert_int_equal(sim_advance(s, t0() + 44 * MIN, &err), -1);
	assert_non_null(strstr(err.msg, "backwards"));
	/* still usable afterwards */
	advance(s, t0() + 46 * MIN);
	sim_stats(s, &b);
	assert_true(b.events > a.events);

	free(d1);
	free(d2);
	sqlite3_close(ro);
	sim_close(s);
}

static void seed_7(struct sim_opts *o)
{
	o->seed = 7;
}

/* Same seed: same rows, however time is sliced. Another seed: other rows. */
static void test_deterministic(void **state)
{
	struct fixture *f = *state;
	char *p2 = xasprintf("%s/b.db", f->dir), *p3 = xasprintf("%s/c.db", f->dir);
	struct sim *a = open_sim(f->path, NULL), *b = open_sim(p2, NULL);
	struct sim *c = open_sim(p3, seed_7);
	int64_t end = t0() + 120 * MIN;
	char *da, *db, *dc;

	advance(a, end);
	for (int64_t t = t0(); t < end; t += 1234)
		advance(b, t);
	advance(b, end);
	advance(c, end);
	da = dump(f->path);
	db = dump(p2);
	dc = dump(p3);
	assert_true(strlen(da) > 1000);
	assert_string_equal(da, db);
	assert_string_not_equal(da, dc);

	free(da);
	free(db);
	free(dc);
	sim_close(a);
	sim_close(b);
	sim_close(c);
	free(p2);
	free(p3);
}

/* A read-only reader holding a snapshot does not block the writer (WAL). */
static void test_wal_reader(void **state)
{
	struct fixture *f = *state;
	struct sim *s = open_sim(f->path, NULL);
	sqlite3 *ro;
	int64_t n1, n2;

	advance(s, t0() + 10 * MIN);
	ro = open_ro(f->path);
	exec(ro, "BEGIN");
	n1 = q_int(ro, "SELECT count(*) FROM loan_steps");
	assert_true(n1 > 0);
	advance(s, t0() + 30 * MIN);
	assert_int_equal(q_int(ro, "SELECT count(*) FROM loan_steps"), n1); /* snapshot */
	exec(ro, "COMMIT");
	n2 = q_int(ro, "SELECT count(*) FROM loan_steps");
	assert_true(n2 > n1);
	/* and the reader really cannot write */
	assert_int_not_equal(sqlite3_exec(ro, "DELETE FROM loan_steps", NULL, NULL, NULL),
	                     SQLITE_OK);
	sqlite3_close(ro);
	sim_close(s);
}

/* The demo config's steps_query runs against the schema and returns SPEC 3.1's columns. */
static void test_steps_query(void **state)
{
	static const char *const cols[] = {"instance_id", "user_id",    "step",        "status",
	                                   "error",       "started_at", "finished_at", "updated_at",
	                                   "channel",     "partner"};
	struct fixture *f = *state;
	struct sim *s = open_sim(f->path, NULL);
	sqlite3 *ro;
	sqlite3_stmt *st = NULL;
	int idx, rows = 0;
	char prev[64] = "";

	advance(s, t0() + 30 * MIN);
	ro = open_ro(f->path);
	assert_int_equal(sqlite3_prepare_v2(ro, sim_steps_query(), -1, &st, NULL), SQLITE_OK);
	assert_true(sqlite3_stmt_readonly(st));
	assert_int_equal(sqlite3_column_count(st), ARRAY_SIZE(cols));
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		assert_string_equal(sqlite3_column_name(st, (int)i), cols[i]);
	idx = sqlite3_bind_parameter_index(st, ":since");
	assert_true(idx > 0);
	sqlite3_bind_text(st, idx, "2026-11-21T10:10:00.000Z", -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 7);
		assert_true(strcmp(u, "2026-11-21T10:10:00.000Z") > 0);
		assert_true(strcmp(u, prev) >= 0);
		snprintf(prev, sizeof(prev), "%s", u);
		rows++;
	}
	assert_true(rows > 10);
	sqlite3_finalize(st);
	sqlite3_close(ro);
	sim_close(s);
}

static void calm(struct sim_opts *o)
{
	o->outage_len_ms = 0;
	o->fail_scale = 0;
	o->arrivals_per_min = 20;
}

/* The knobs: no outage and no background trouble means nothing fails and nobody leaves. */
static void test_calm_day(void **state)
{
	struct fixture *f = *state;
	struct sim *s = open_sim(f->path, calm);
	struct sim_stats st;
	sqlite3 *ro;

	advance(s, t0() + 180 * MIN);
	sim_stats(s, &st);
	assert_false(st.in_outage);
	assert_int_equal(st.failed_steps, 0);
	assert_int_equal(st.abandoned, 0);
	assert_int_equal(st.hangs, 0);
	assert_true(st.started > 3000); /* 20/min */
	assert_true(st.completed > st.started / 2);
	ro = open_ro(f->path);
	assert_int_equal(q_int(ro, "SELECT count(*) FROM loan_steps WHERE status = 'FAILED'"), 0);
	check_rows(ro, t0(), t0() + 180 * MIN);
	sqlite3_close(ro);
	sim_close(s);
}

static void test_bad_options(void **state)
{
	struct fixture *f = *state;
	struct sim_opts o;
	struct sim *s = (struct sim *)&o;
	struct sw_err err = {{0}};
	char *bad = xasprintf("%s/no/such/dir/x.db", f->dir);
	char *junk;

	sim_opts_init(&o);
	o.db_path = bad;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, "cannot open '"));
	assert_non_null(strstr(err.msg, bad));

	o.db_path = NULL;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_non_null(strstr(err.msg, "no database path"));
	o.db_path = "";
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);

	o.db_path = f->path;
	o.arrivals_per_min = 0;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_non_null(strstr(err.msg, "arrival rate"));
	o.arrivals_per_min = NAN;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	o.arrivals_per_min = 5;
	o.outage_len_ms = -1;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_non_null(strstr(err.msg, "outage"));
	o.outage_len_ms = 0;
	o.walkaway = 1.5;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	o.walkaway = 0;
	o.fail_scale = -1;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);

	/* Not a database. */
	junk = test_write_file(f->dir, "junk.db",
	                       "this is not an sqlite file, just some text "
	                       "long enough to look like a header..........");
	sim_opts_init(&o);
	o.db_path = junk;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_non_null(strstr(err.msg, junk));
	free(junk);

	/* In-memory databases cannot be read by another connection: refused. */
	o.db_path = ":memory:";
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_non_null(strstr(err.msg, "WAL"));

	/* A file that already holds the business: refused, not overwritten. */
	o.db_path = f->path;
	s = open_sim(f->path, NULL);
	advance(s, t0() + 10 * MIN);
	sim_close(s);
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_non_null(strstr(err.msg, "already holds"));
	free(bad);
}

/* A table of another shape under the same name is reported, not written into. */
static void test_foreign_table(void **state)
{
	struct fixture *f = *state;
	struct sim_opts o;
	struct sim *s = NULL;
	struct sw_err err = {{0}};
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec(db, "CREATE TABLE loan_steps (id INTEGER PRIMARY KEY, note TEXT)");
	sqlite3_close(db);
	sim_opts_init(&o);
	o.db_path = f->path;
	assert_int_equal(sim_open(&o, t0(), &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, f->path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_story, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_advance_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wal_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_steps_query, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_calm_day, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
