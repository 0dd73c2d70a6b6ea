/*
 * test_wake.c - the tasks report what a run learned (task_run_result) and the runtime
 * decides whom to wake (runtime/wake.c): the report of watcher and validator runs against
 * a real SQLite source and store, and the kicks wake_after makes on a manual runtime.
 */
#include "helpers.h"
#include "config/config.h"
#include "runtime/runtime.h"
#include "runtime/wake.h"
#include "store/store.h"
#include "tasks/tasks.h"
#include <sqlite3.h>

#define MIN  (60 * 1000LL)
#define HOUR (60 * MIN)
#define T0   1767225600000LL /* 2026-01-01T00:00:00Z */

static const char cfg_fmt[] =
    "store: sqlite://%s/store.db\n"
    "sources:\n"
    "  app: { url: 'sqlite://%s/app.db' }\n"
    "workflows:\n"
    "  loan:\n"
    "    source: app\n"
    "    poll: 1s\n"
    "    overlap: 10s\n"
    "    page_size: 10\n"
    "    steps_query: |\n"
    "      SELECT application_id AS instance_id, user_id, step, status, NULL AS error,\n"
    "             started_at, finished_at, updated_at\n"
    "        FROM loan_steps WHERE updated_at > :since ORDER BY updated_at\n"
    "    steps: [kyc, bureau_pull]\n"
    "    defaults:\n"
    "      sla: { p2: 5m, p1: 30m, p0: 2h }\n"
    "      stuck_after: 20m\n"
    "      abandon_after: 1d\n";

static void src_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("source: %s: %s", sql, msg);
}

static char *iso(int64_t ms, char *buf)
{
	struct time_style st = {0};
	st.t_sep = 1;
	st.zulu = 1;
	st.frac = 3;
	return time_format_style(ms, &st, buf, 40);
}

/* one FAILED kyc record of application app at t */
static void failed(sqlite3 *db, int app, int64_t t)
{
	char a[40], b[40];
	char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO loan_steps VALUES "
	                            "(%d, 'u%d', 'kyc', 'FAILED', %Q, %Q, %Q)",
	                            app, app, iso(t - MIN, a), iso(t, b), iso(t, b));
	src_exec(db, sql);
	sqlite3_free(sql);
}

static int run(struct task *t, int64_t now, struct task_result *r)
{
	/* poisoned first: the run must fill every field */
	memset(r, 0x5a, sizeof(*r));
	return task_run_result(t, now, r);
}

static void test_run_reports(void **state)
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/app.db", dir);
	char *text = xasprintf(cfg_fmt, dir, dir);
	struct strbuf errs = STRBUF_INIT;
	struct sw_config *cfg = NULL;
	struct task_env env = {0};
	struct task *watch, *validate;
	struct task_result r;
	struct store *st = NULL;
	struct sw_err err = {""};
	sqlite3 *db;
	int guard = 0;
	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	src_exec(db, "CREATE TABLE loan_steps (application_id INTEGER, user_id TEXT, step TEXT,"
	             " status TEXT, started_at TEXT, finished_at TEXT, updated_at TEXT,"
	             " PRIMARY KEY (application_id, step))");
	if (config_load_buffer("test.yaml", text, strlen(text), &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	if (store_open(cfg->store_url, &st, &err) < 0 || store_migrate(st, NULL, &err) < 0)
		fail_msg("store: %s", err.msg);
	store_close(st);
	env.cfg = cfg;
	env.health = health_new();
	watch = task_new(TASK_WATCH_STEPS, &env, &cfg->workflows[0]);
	validate = task_new(TASK_VALIDATE, &env, NULL);

	/* a failure read and stored: ingested, one alert opened, P2 due at its SLA */
	failed(db, 1, T0);
	assert_int_equal(run(watch, T0 + 1000, &r), 0);
	assert_int_equal(r.rows_read, 1);
	assert_int_equal(r.alerts_opened, 1);
	assert_int_equal(r.alerts_changed, 0);
	assert_true(r.ingested);
	assert_false(r.again);
	assert_int_equal(r.next_escalation_at, T0 + 5 * MIN);

	/* a validate run always reports the next escalation; nothing due yet */
	assert_int_equal(run(validate, T0 + 2000, &r), 0);
	assert_int_equal(r.alerts_opened, 0);
	assert_int_equal(r.alerts_changed, 0);
	assert_false(r.ingested);
	assert_int_equal(r.next_escalation_at, T0 + 5 * MIN);

	/* nothing new (the overlap window is read again, its record known): nothing learned,
	 * and no lookup of the escalation time */
	assert_int_equal(run(watch, T0 + 3000, &r), 0);
	assert_false(r.ingested);
	assert_int_equal(r.alerts_opened, 0);
	assert_int_equal(r.next_escalation_at, TIME_NULL);

	/* P2 passed: one alert changed, the next escalation is P1's */
	assert_int_equal(run(validate, T0 + 6 * MIN, &r), 0);
	assert_int_equal(r.alerts_changed, 1);
	assert_int_equal(r.next_escalation_at, T0 + 30 * MIN);

	/* a backlog under a time budget: runs stop with `again` until it is read */
	env.run_budget_ms = 1;
	src_exec(db, "BEGIN");
	for (int i = 0; i < 25; i++)
		failed(db, 10 + i, T0 + 7 * MIN + i * 1000);
	src_exec(db, "COMMIT");
	assert_int_equal(run(watch, T0 + 8 * MIN, &r), 0);
	assert_true(r.again);
	assert_true(r.ingested);
	do {
		assert_int_equal(run(watch, T0 + 8 * MIN + 1000, &r), 0);
		assert_true(++guard < 10);
	} while (r.again);

	/* a failed run reports nothing to act on */
	src_exec(db, "ALTER TABLE loan_steps RENAME TO gone");
	assert_int_equal(run(watch, T0 + 9 * MIN, &r), -1);
	assert_int_equal(r.rows_read, 0);
	assert_int_equal(r.alerts_opened, 0);
	assert_int_equal(r.alerts_changed, 0);
	assert_false(r.ingested);
	assert_false(r.again);
	assert_int_equal(r.next_escalation_at, TIME_NULL);

	task_free(watch);
	task_free(validate);
	health_free(env.health);
	config_free(cfg);
	sqlite3_close(db);
	strbuf_release(&errs);
	test_rmtree(dir);
	free(text);
	free(path);
	free(dir);
}

/* ---- wake_after on a manual runtime --------------------------------------------------- */

static int noop(void *arg, int64_t now)
{
	(void)arg;
	(void)now;
	return 0;
}

static int64_t due(struct rt *rt, const char *name)
{
	struct rt_job_stats *v;
	size_t n = rt_stats(rt, &v);
	int64_t at = TIME_NULL;
	bool found = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name)) {
			at = v[i].next_due_at;
			found = true;
		}
	rt_stats_free(v, n);
	if (!found)
		fail_msg("no job %s", name);
	return at;
}

static struct task_result nothing(void)
{
	struct task_result r = {0};
	r.next_escalation_at = TIME_NULL;
	return r;
}

static void test_wake_after(void **state)
{
	int64_t now = 0;
	struct sw_clock clock = {clock_manual_now, &now};
	struct rt_opts o = {.clock = &clock, .threads = 1, .manual = true};
	struct rt_job jobs[] = {
	    {.name = "watch:loan", .every_ms = HOUR, .run = noop},
	    {.name = TASK_NAME_VALIDATE, .every_ms = HOUR, .run = noop},
	    {.name = TASK_NAME_NOTIFY, .every_ms = HOUR, .run = noop},
	    {.name = TASK_NAME_RESOLVE, .every_ms = HOUR, .run = noop},
	};
	struct task_result r;
	struct sw_err err = {""};
	struct rt *rt;
	(void)state;
	assert_int_equal(rt_start(&o, &rt, &err), 0);
	assert_int_equal(rt_jobs_replace(rt, jobs, 4, &err), 0);
	assert_int_equal(rt_tick(rt), 4); /* all ran at 0: due again in an hour */
	now = 1000;

	/* nothing learned: nobody woken */
	r = nothing();
	wake_after(rt, "watch:loan", &r, now);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(due(rt, jobs[i].name), HOUR);

	/* again: the task itself, now */
	r.again = true;
	wake_after(rt, "watch:loan", &r, now);
	assert_int_equal(due(rt, "watch:loan"), now);
	assert_int_equal(due(rt, TASK_NAME_RESOLVE), HOUR);

	/* the next escalation: validate then, but never sooner than the floor */
	r = nothing();
	r.next_escalation_at = 200000;
	wake_after(rt, "watch:loan", &r, now);
	assert_int_equal(due(rt, TASK_NAME_VALIDATE), 200000);
	r.next_escalation_at = now - 5000; /* overdue */
	wake_after(rt, TASK_NAME_VALIDATE, &r, now);
	assert_int_equal(due(rt, TASK_NAME_VALIDATE), now + WAKE_MIN_GAP_MS);
	assert_int_equal(due(rt, TASK_NAME_NOTIFY), HOUR);

	/* alerts changed: the planner, unless the planner itself reported it */
	r = nothing();
	r.alerts_changed = 1;
	wake_after(rt, TASK_NAME_NOTIFY, &r, now);
	assert_int_equal(due(rt, TASK_NAME_NOTIFY), HOUR);
	r = nothing();
	r.alerts_opened = 2;
	wake_after(rt, "watch:loan", &r, now);
	assert_int_equal(due(rt, TASK_NAME_NOTIFY), now);

	/* new step records: the resolver */
	assert_int_equal(due(rt, TASK_NAME_RESOLVE), HOUR);
	r = nothing();
	r.ingested = true;
	wake_after(rt, "watch:loan", &r, now);
	assert_int_equal(due(rt, TASK_NAME_RESOLVE), now);

	/* a job set without the woken jobs (a task set being replaced): no harm */
	assert_int_equal(rt_jobs_replace(rt, jobs, 1, &err), 0);
	r.again = r.ingested = true;
	r.alerts_changed = 1;
	r.next_escalation_at = now;
	wake_after(rt, "other", &r, now);
	rt_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_reports),
	    cmocka_unit_test(test_wake_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
