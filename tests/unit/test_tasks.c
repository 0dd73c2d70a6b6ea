/*
 * test_tasks.c - the lifecycle tasks driven by hand with explicit times, against a real
 * SQLite source file and a real SQLite store: watermark and overlap (equal timestamps, a
 * late-committing transaction), opening, escalation (late detection), recovery, later-step
 * recovery, abandonment, reopen, stuck steps, custom watchers, unhealthy sources.
 */
#include "helpers.h"
#include "config/config.h"
#include "store/store_watermarks.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_silences.h"
#include "store/store_stats.h"
#include "core/step.h"
#include "tasks/tasks.h"
#include <sqlite3.h>
#include <fcntl.h>
#include <unistd.h>

#define MIN (60 * 1000LL)
#define T0  1767225600000LL /* 2026-01-01T00:00:00Z */

struct fx {
	char *dir, *src_path, *cfg_text;
	struct sw_config *cfg;
	struct health *health;
	struct task_env env;
	struct task *watch, *validate, *resolve, *expire, *detect;
	struct store *st;
	sqlite3 *src;
};

static const char cfg_fmt[] =
    "store: sqlite://%s/store.db\n"
    "sources:\n"
    "  app: { url: 'sqlite://%s' }\n"
    "workflows:\n"
    "  loan:\n"
    "    source: app\n"
    "    poll: 1s\n"
    "    overlap: 10s\n"
    "    page_size: 10\n"
    "    steps_query: |\n"
    "      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,\n"
    "             started_at, finished_at, updated_at, channel\n"
    "        FROM loan_steps WHERE updated_at > :since ORDER BY updated_at\n"
    "    steps: [kyc, bureau_pull, bank_statement]\n"
    "    segments: [channel]\n"
    "    defaults:\n"
    "      sla: { p2: 5m, p1: 30m, p0: 2h }\n"
    "      stuck_after: 20m\n"
    "      abandon_after: 1d\n"
    "      group_by: [error]\n"
    "  pushed:\n"
    "    steps: [a, b]\n"
    "    defaults: { stuck_after: 20m, abandon_after: 1d }\n"
    "watchers:\n"
    "  - name: not_credited\n"
    "    workflow: loan\n"
    "    step: bank_statement\n"
    "    every: 30s\n"
    "    detect: |\n"
    "      SELECT application_id AS instance_id, user_id, sent_at AS occurred_at,\n"
    "             'NOT_CREDITED' AS error, bank FROM payouts WHERE status = 'SENT'\n"
    "    resolve: |\n"
    "      SELECT 1 FROM payouts WHERE application_id = :instance_id AND status = 'CREDITED'\n";

static void src_exec(struct fx *f, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(f->src, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("source: %s: %s", sql, msg);
}

static char *iso(int64_t ms)
{
	static char buf[8][40];
	static int k;
	char *b = buf[k++ % 8];
	struct time_style st = {0};
	st.t_sep = 1;
	st.zulu = 1;
	st.frac = 3;
	return time_format_style(ms, &st, b, 40);
}

/* upsert one step row */
static void step(struct fx *f, int app, const char *stp, const char *status, const char *err,
                 int64_t started, int64_t finished, int64_t updated)
{
	char *sql = sqlite3_mprintf(
	    "INSERT OR REPLACE INTO loan_steps VALUES (%d, 'u%d', %Q, %Q, %Q, %Q, %Q, %Q, 'web')",
	    app, app, stp, status, err, iso(started), finished ? iso(finished) : NULL,
	    iso(updated));
	src_exec(f, sql);
	sqlite3_free(sql);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct strbuf errs = STRBUF_INIT;
	struct sw_err err = {""};
	f->dir = test_tmpdir();
	f->src_path = xasprintf("%s/app.db", f->dir);
	if (sqlite3_open(f->src_path, &f->src) != SQLITE_OK)
		fail_msg("cannot create source");
	src_exec(f, "PRAGMA journal_mode=WAL;"
	            "CREATE TABLE loan_steps (application_id INTEGER, user_id TEXT, step TEXT,"
	            " status TEXT, error_code TEXT, started_at TEXT, finished_at TEXT,"
	            " updated_at TEXT, channel TEXT, PRIMARY KEY (application_id, step));"
	            "CREATE TABLE payouts (application_id INTEGER PRIMARY KEY, user_id TEXT,"
	            " sent_at TEXT, status TEXT, bank TEXT);");
	f->cfg_text = xasprintf(cfg_fmt, f->dir, f->src_path);
	if (config_load_buffer("test.yaml", f->cfg_text, strlen(f->cfg_text), &f->cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	strbuf_release(&errs);
	if (store_open(f->cfg->store_url, &f->st, &err) < 0 || store_migrate(f->st, NULL, &err) < 0)
		fail_msg("store: %s", err.msg);
	f->health = health_new();
	f->env.cfg = f->cfg;
	f->env.health = f->health;
	f->watch = task_new(TASK_WATCH_STEPS, &f->env, &f->cfg->workflows[0]);
	f->detect = task_new(TASK_WATCH_CUSTOM, &f->env, &f->cfg->watchers[0]);
	f->validate = task_new(TASK_VALIDATE, &f->env, NULL);
	f->resolve = task_new(TASK_RESOLVE, &f->env, NULL);
	f->expire = task_new(TASK_EXPIRE, &f->env, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	task_free(f->watch);
	task_free(f->detect);
	task_free(f->validate);
	task_free(f->resolve);
	task_free(f->expire);
	store_close(f->st);
	sqlite3_close(f->src);
	health_free(f->health);
	config_free(f->cfg);
	test_rmtree(f->dir);
	free(f->dir);
	free(f->src_path);
	free(f->cfg_text);
	free(f);
	return 0;
}

/* all alerts, oldest first */
static size_t alerts(struct fx *f, struct alert **out)
{
	struct alert_filter flt = {.state = -1, .limit = 1000};
	struct sw_err err = {""};
	size_t n = 0;
	if (store_alerts_list(f->st, &flt, out, &n, &err) < 0)
		fail_msg("list: %s", err.msg);
	for (size_t i = 0; i < n / 2; i++) {
		struct alert t = (*out)[i];
		(*out)[i] = (*out)[n - 1 - i];
		(*out)[n - 1 - i] = t;
	}
	return n;
}

static size_t count_state(struct fx *f, int state)
{
	struct alert *v;
	size_t n = alerts(f, &v), c = 0;
	for (size_t i = 0; i < n; i++)
		c += state < 0 || (int)v[i].state == state;
	alerts_free(v, n);
	return c;
}

static void run(struct task *t, int64_t now)
{
	assert_int_equal(task_run(t, now), 0);
}

static void test_open_escalate_resolve(void **state)
{
	struct fx *f = *state;
	struct alert *v, one;
	struct alert_event *h;
	size_t n, nh;
	struct sw_err err = {""};

	step(f, 1, "kyc", "SUCCESS", NULL, T0, T0 + MIN, T0 + MIN);
	step(f, 1, "bureau_pull", "FAILED", "BUREAU_TIMEOUT", T0 + MIN, T0 + 2 * MIN, T0 + 2 * MIN);
	step(f, 2, "bureau_pull", "FAILED", "BUREAU_TIMEOUT", T0 + MIN, T0 + 2 * MIN, T0 + 2 * MIN);
	run(f->watch, T0 + 3 * MIN);
	run(f->watch, T0 + 3 * MIN); /* re-read of the overlap: no duplicates */
	assert_int_equal(count_state(f, ALERT_INITIATED), 2);

	/* escalation at exactly p2 after occurred_at (finished_at), not before */
	run(f->validate, T0 + 7 * MIN - 1);
	assert_int_equal(count_state(f, ALERT_P2), 0);
	run(f->validate, T0 + 7 * MIN);
	assert_int_equal(count_state(f, ALERT_P2), 2);
	run(f->validate, T0 + 7 * MIN); /* idempotent */

	/* one incident for both */
	n = alerts(f, &v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].incident_id, v[1].incident_id);
	assert_string_equal(v[0].rule, "failed");
	assert_string_equal(v[0].error, "BUREAU_TIMEOUT");
	assert_int_equal(v[0].occurred_at, T0 + 2 * MIN);
	assert_non_null(strstr(v[0].labels_json, "\"channel\""));
	alerts_free(v, n);

	/* instance 1 recovers, instance 2 reaches a later step */
	step(f, 1, "bureau_pull", "SUCCESS", NULL, T0 + 10 * MIN, T0 + 11 * MIN, T0 + 11 * MIN);
	step(f, 2, "bank_statement", "IN_PROGRESS", NULL, T0 + 11 * MIN, 0, T0 + 11 * MIN);
	run(f->watch, T0 + 12 * MIN);
	run(f->resolve, T0 + 12 * MIN);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 2);

	n = alerts(f, &v);
	assert_string_equal(v[0].resolved_by, "resolver");
	assert_int_equal(store_alert_get(f->st, v[0].id, &one, &h, &nh, &err), 0);
	alert_release(&one);
	/* opened, escalated, resolved */
	assert_int_equal(nh, 3);
	assert_string_equal(h[0].event, "opened");
	assert_string_equal(h[1].event, "escalated");
	assert_int_equal(h[1].from_state, ALERT_INITIATED);
	assert_int_equal(h[1].to_state, ALERT_P2);
	assert_string_equal(h[2].event, "resolved");
	alert_events_free(h, nh);
	alerts_free(v, n);
}

/* The resolver checks only instances changed since its last run; a change that bypasses
 * ingest is caught by the full sweep at most 5 minutes later. */
static void test_resolver_incremental(void **state)
{
	struct fx *f = *state;
	char *path = xasprintf("%s/store.db", f->dir), *msg = NULL;
	sqlite3 *db;

	step(f, 1, "bureau_pull", "FAILED", "BUREAU_TIMEOUT", T0, T0 + MIN, T0 + MIN);
	step(f, 2, "bureau_pull", "FAILED", "BUREAU_TIMEOUT", T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 2 * MIN);
	run(f->resolve, T0 + 2 * MIN); /* the first run checks everything: nothing recovered */
	assert_int_equal(count_state(f, ALERT_RESOLVED), 0);
	run(f->resolve, T0 + 2 * MIN + 100); /* nothing changed */
	assert_int_equal(count_state(f, ALERT_RESOLVED), 0);

	/* recovery through ingest: seen by the next run */
	step(f, 1, "bureau_pull", "SUCCESS", NULL, T0, T0 + 3 * MIN, T0 + 3 * MIN);
	run(f->watch, T0 + 3 * MIN);
	run(f->resolve, T0 + 3 * MIN);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 1);

	/* a change written behind the store's back: not seen incrementally... */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db,
	                 "UPDATE instance_steps SET status = 1 WHERE instance_id = '2'"
	                 " AND step = 'bureau_pull'",
	                 NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("store: %s", msg);
	sqlite3_close(db);
	run(f->resolve, T0 + 4 * MIN);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 1);
	/* ...but by the full sweep, 5 minutes after the last one */
	run(f->resolve, T0 + 2 * MIN + 5 * MIN);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 2);
	free(path);
}

static void test_late_detection(void **state)
{
	struct fx *f = *state;
	struct alert *v;
	struct alert_event *h;
	struct alert one;
	size_t n, nh, esc = 0;
	struct sw_err err = {""};
	struct incident inc;
	char wf[] = "loan", st[] = "kyc", by[] = "ops";
	struct silence pause = {.workflow = wf,
	                        .step = st,
	                        .starts_at = T0,
	                        .ends_at = T0 + 5 * 60 * MIN,
	                        .pause_escalation = true,
	                        .created_by = by};
	int64_t sid;
	/* failed three hours before stepwatch first looks: past p0 (2h). The alert opens at
	 * P0, each level passed its own row by the opener, and the validator has nothing left */
	step(f, 7, "bureau_pull", "FAILED", "PARTNER_DOWN", T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 3 * 60 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].state, ALERT_P0);
	assert_true(v[0].next_escalation_at == TIME_NULL);
	assert_int_equal(store_alert_get(f->st, v[0].id, &one, &h, &nh, &err), 0);
	assert_int_equal(nh, 4);
	for (size_t i = 0; i < nh; i++)
		esc += !strcmp(h[i].event, "escalated");
	assert_int_equal(esc, 3);
	assert_string_equal(h[0].event, "opened");
	for (int l = 1; l <= 3; l++) {
		assert_int_equal(h[l].from_state, l - 1);
		assert_int_equal(h[l].to_state, l);
		assert_string_equal(h[l].actor, "watcher");
		assert_non_null(strstr(h[l].reason, "sla"));
	}
	alert_events_free(h, nh);
	alert_release(&one);
	/* its incident is at P0 at once */
	assert_int_equal(store_incident_get(f->st, v[0].incident_id, &inc, &err), 0);
	assert_int_equal(inc.level, ALERT_P0);
	incident_release(&inc);
	run(f->validate, T0 + 3 * 60 * MIN);
	assert_int_equal(store_alert_get(f->st, v[0].id, &one, &h, &nh, &err), 0);
	assert_int_equal(nh, 4); /* nothing left for the validator */
	alert_events_free(h, nh);
	alert_release(&one);
	alerts_free(v, n);

	/* a late failure of a step under a pause_escalation silence opens INITIATED; the
	 * validator takes it up once the silence ends */
	assert_int_equal(store_silence_create(f->st, T0, &pause, &sid, &err), 0);
	step(f, 8, "kyc", "FAILED", "KYC_MISMATCH", T0, T0 + MIN, T0 + 2 * MIN);
	run(f->watch, T0 + 3 * 60 * MIN + 1000);
	n = alerts(f, &v);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].step, "kyc"))
			assert_int_equal(v[i].state, ALERT_INITIATED);
	alerts_free(v, n);
	run(f->validate, T0 + 5 * 60 * MIN + 2000);
	assert_int_equal(count_state(f, ALERT_P0), 2);
}

static void test_equal_timestamps_and_late_commit(void **state)
{
	struct fx *f = *state;
	int64_t t = T0 + 5 * MIN;
	char *wm_raw = NULL;
	int64_t wm;
	struct sw_err err = {""};
	/* three failures with the same updated_at */
	for (int i = 10; i < 13; i++)
		step(f, i, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t, t);
	run(f->watch, t + 1000);
	assert_int_equal(count_state(f, -1), 3);
	/* a fourth with the same updated_at commits after the read */
	step(f, 13, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t, t);
	/* and a transaction that commits late with an older updated_at, inside the overlap */
	step(f, 14, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t - 5000, t - 5000);
	run(f->watch, t + 2000);
	assert_int_equal(count_state(f, -1), 5);
	run(f->watch, t + 3000);
	assert_int_equal(count_state(f, -1), 5);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, &wm_raw, &err), 0);
	assert_int_equal(wm, t);
	assert_string_equal(wm_raw, iso(t));
	free(wm_raw);
}

static void test_superseded_failure_opens_nothing(void **state)
{
	struct fx *f = *state;
	/* failed, then retried and succeeded before stepwatch looked */
	step(f, 20, "kyc", "FAILED", "KYC_MISMATCH", T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 2 * MIN);
	assert_int_equal(count_state(f, -1), 1);
	step(f, 21, "kyc", "SUCCESS", NULL, T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 3 * MIN);
	assert_int_equal(count_state(f, -1), 1);
}

static void test_abandon_and_reopen(void **state)
{
	struct fx *f = *state;
	struct alert *v;
	size_t n;
	int64_t flaps = 0;
	struct sw_err err = {""};
	step(f, 30, "kyc", "FAILED", "KYC_MISMATCH", T0, T0 + MIN, T0 + MIN);
	step(f, 31, "kyc", "FAILED", "KYC_MISMATCH", T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 2 * MIN);
	/* 31 recovers */
	step(f, 31, "kyc", "SUCCESS", NULL, T0 + 3 * MIN, T0 + 4 * MIN, T0 + 4 * MIN);
	run(f->watch, T0 + 5 * MIN);
	run(f->resolve, T0 + 5 * MIN);
	/* a day without progress: 30 is abandoned, not resolved */
	run(f->expire, T0 + MIN + 24 * 60 * MIN - 1);
	assert_int_equal(count_state(f, ALERT_ABANDONED), 0);
	run(f->expire, T0 + MIN + 24 * 60 * MIN);
	assert_int_equal(count_state(f, ALERT_ABANDONED), 1);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 1);
	/* 31 fails again: a new alert linked to the resolved one */
	step(f, 31, "kyc", "FAILED", "KYC_MISMATCH", T0 + 30 * MIN, T0 + 31 * MIN, T0 + 31 * MIN);
	run(f->watch, T0 + 32 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 3);
	assert_int_equal(v[2].state, ALERT_INITIATED);
	assert_int_equal(v[2].reopen_of, v[1].id);
	assert_string_equal(v[2].instance_id, "31");
	alerts_free(v, n);
	assert_int_equal(store_rule_flaps(f->st, "loan", "failed", &flaps, &err), 0);
	assert_int_equal(flaps, 1);
}

static void test_stuck(void **state)
{
	struct fx *f = *state;
	struct alert *v;
	size_t n;
	step(f, 40, "bank_statement", "IN_PROGRESS", NULL, T0, 0, T0);
	run(f->watch, T0 + 19 * MIN);
	assert_int_equal(count_state(f, -1), 0);
	run(f->watch, T0 + 20 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].rule, "stuck");
	assert_int_equal(v[0].occurred_at, T0 + 20 * MIN);
	alerts_free(v, n);
	run(f->watch, T0 + 21 * MIN); /* still one */
	assert_int_equal(count_state(f, -1), 1);
	step(f, 40, "bank_statement", "SUCCESS", NULL, T0, T0 + 25 * MIN, T0 + 25 * MIN);
	run(f->watch, T0 + 26 * MIN);
	run(f->resolve, T0 + 26 * MIN);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 1);
}

static void test_custom_watcher(void **state)
{
	struct fx *f = *state;
	struct alert *v;
	size_t n;
	char *sql = sqlite3_mprintf("INSERT INTO payouts VALUES (50, 'u50', %Q, 'SENT', 'hdfc'),"
	                            " (51, 'u51', %Q, 'SENT', 'icici')",
	                            iso(T0), iso(T0));
	src_exec(f, sql);
	sqlite3_free(sql);
	run(f->detect, T0 + MIN);
	run(f->detect, T0 + 2 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].rule, "not_credited");
	assert_string_equal(v[0].step, "bank_statement");
	assert_non_null(strstr(v[0].labels_json, "hdfc"));
	alerts_free(v, n);
	src_exec(f, "UPDATE payouts SET status = 'CREDITED' WHERE application_id = 50");
	run(f->resolve, T0 + 3 * MIN);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 1);
}

/* tasks_for_config gives each custom watcher's resolve query a task of its own: with that
 * watcher's query failing, the main resolver still resolves recovered workflows, and only
 * resolve:not_credited fails (and is reported). */
static void test_custom_resolve_split(void **state)
{
	struct fx *f = *state;
	struct task **v, *res = NULL, *custom = NULL;
	struct health_entry *e;
	size_t n, ne;
	bool unhealthy = false;
	char *sql =
	    sqlite3_mprintf("INSERT INTO payouts VALUES (50, 'u50', %Q, 'SENT', 'hdfc')", iso(T0));
	src_exec(f, sql);
	sqlite3_free(sql);
	step(f, 80, "kyc", "FAILED", "KYC_DOWN", T0, T0 + MIN, T0 + MIN);
	run(f->detect, T0 + MIN);
	run(f->watch, T0 + MIN);
	assert_int_equal(count_state(f, -1), 2);

	v = tasks_for_config(&f->env, &n);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(task_name(v[i]), "resolve"))
			res = v[i];
		else if (!strcmp(task_name(v[i]), "resolve:not_credited"))
			custom = v[i];
	}
	assert_non_null(res);
	assert_non_null(custom);
	assert_int_equal(task_every_ms(custom), task_every_ms(res));

	/* the custom watcher's resolve query fails; the workflow recovers */
	src_exec(f, "ALTER TABLE payouts RENAME TO payouts_gone");
	step(f, 80, "kyc", "SUCCESS", NULL, T0, T0 + 2 * MIN, T0 + 2 * MIN);
	run(f->watch, T0 + 2 * MIN);
	assert_int_equal(task_run(res, T0 + 2 * MIN), 0);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 1);
	assert_int_equal(task_run(custom, T0 + 2 * MIN), -1);
	ne = health_snapshot(f->health, &e);
	for (size_t i = 0; i < ne; i++)
		if (!strcmp(e[i].name, "watcher:not_credited:resolve"))
			unhealthy = !e[i].ok;
	health_entries_free(e, ne);
	assert_true(unhealthy);

	/* back, and credited: the custom task resolves its alert */
	src_exec(f, "ALTER TABLE payouts_gone RENAME TO payouts;"
	            "UPDATE payouts SET status = 'CREDITED' WHERE application_id = 50");
	assert_int_equal(task_run(custom, T0 + 3 * MIN), 0);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 2);
	for (size_t i = 0; i < n; i++)
		task_free(v[i]);
	free(v);
}

static void test_source_error_keeps_watermark(void **state)
{
	struct fx *f = *state;
	struct health_entry *e;
	int64_t wm;
	char *raw = NULL;
	size_t n;
	struct sw_err err = {""};
	step(f, 60, "kyc", "SUCCESS", NULL, T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 2 * MIN);
	src_exec(f, "ALTER TABLE loan_steps RENAME TO loan_steps_gone");
	assert_int_equal(task_run(f->watch, T0 + 3 * MIN), -1);
	n = health_snapshot(f->health, &e);
	assert_true(n >= 1);
	assert_string_equal(e[0].name, "workflow:loan");
	assert_false(e[0].ok);
	assert_non_null(e[0].message);
	health_entries_free(e, n);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, &raw, &err), 0);
	assert_int_equal(wm, T0 + MIN);
	free(raw);
	/* while the source is broken nothing resolves */
	src_exec(f, "ALTER TABLE loan_steps_gone RENAME TO loan_steps");
	step(f, 61, "kyc", "FAILED", "X", T0, T0 + 4 * MIN, T0 + 4 * MIN);
	run(f->watch, T0 + 5 * MIN);
	assert_int_equal(count_state(f, -1), 1);
	n = health_snapshot(f->health, &e);
	assert_true(e[0].ok);
	health_entries_free(e, n);
}

/* Run t with stderr sent to a file; returns the run's rc and the log text in *logs. */
static int run_logged(struct fx *f, struct task *t, int64_t now, char **logs)
{
	char *path = xasprintf("%s/run.log", f->dir);
	int saved, fd, rc;
	FILE *fp;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t k;
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	rc = task_run(t, now);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while ((k = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, k);
	fclose(fp);
	free(path);
	*logs = strbuf_detach(&sb, NULL);
	return rc;
}

/* A run whose transaction rolls back logs the failure, not counts it never committed
 * (a disk-full store used to log opened=N for alerts that did not exist). */
static void test_rolled_back_run_logs_no_counts(void **state)
{
	struct fx *f = *state;
	char *path = xasprintf("%s/store.db", f->dir), *msg = NULL, *logs = NULL;
	struct task_stats ts;
	sqlite3 *db;

	step(f, 70, "kyc", "FAILED", "KYC_DOWN", T0, T0 + MIN, T0 + MIN);
	step(f, 71, "kyc", "FAILED", "KYC_DOWN", T0, T0 + MIN, T0 + MIN);
	/* the watermark write, the last statement before the commit, fails */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db,
	                 "CREATE TRIGGER wm_fail_i BEFORE INSERT ON watermarks BEGIN"
	                 " SELECT RAISE(ABORT, 'injected failure'); END;"
	                 "CREATE TRIGGER wm_fail_u BEFORE UPDATE ON watermarks BEGIN"
	                 " SELECT RAISE(ABORT, 'injected failure'); END;",
	                 NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("store: %s", msg);
	assert_int_equal(run_logged(f, f->watch, T0 + 2 * MIN, &logs), -1);
	assert_non_null(strstr(logs, "msg=\"task failed\" task=watch:loan"));
	assert_non_null(strstr(logs, "injected failure"));
	assert_null(strstr(logs, "opened="));
	free(logs);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.alerts_opened, 0);
	assert_int_equal(count_state(f, -1), 0);

	/* the fault gone, the same records open their alerts, counted once */
	if (sqlite3_exec(db, "DROP TRIGGER wm_fail_i; DROP TRIGGER wm_fail_u", NULL, NULL, &msg) !=
	    SQLITE_OK)
		fail_msg("store: %s", msg);
	sqlite3_close(db);
	assert_int_equal(run_logged(f, f->watch, T0 + 3 * MIN, &logs), 0);
	assert_non_null(strstr(logs, "opened=2"));
	free(logs);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.alerts_opened, 2);
	assert_int_equal(count_state(f, -1), 2);
	free(path);
}

/* n FAILED kyc rows, apps first.., updated_at from upd(i) */
static void failed_rows(struct fx *f, int first, int n, int64_t (*upd)(int))
{
	/* inserted last first: the source's order among equal times is not the ids' */
	src_exec(f, "BEGIN");
	for (int i = n - 1; i >= 0; i--)
		step(f, first + i, "kyc", "FAILED", "KYC_MISMATCH", upd(i) - MIN, upd(i), upd(i));
	src_exec(f, "COMMIT");
}

static int64_t across_boundary(int i)
{
	/* rows 8..12 share one updated_at: the first page (10 rows) ends inside them */
	return T0 + (i < 8 ? i * 1000 : i <= 12 ? 100000 : 200000 + i * 1000);
}

static void test_paging_equal_across_boundary(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	int64_t wm;
	struct sw_err err = {""};
	failed_rows(f, 100, 25, across_boundary);
	run(f->watch, T0 + 10 * MIN);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 25); /* each row read once */
	assert_int_equal(ts.alerts_opened, 25);
	assert_int_equal(count_state(f, -1), 25);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, NULL, &err), 0);
	assert_int_equal(wm, across_boundary(24));
	run(f->watch, T0 + 11 * MIN);
	assert_int_equal(count_state(f, -1), 25);
}

static int64_t big_tie(int i)
{
	/* 3 rows, then 35 with one updated_at (3.5 pages), then 4 */
	return T0 + (i < 3 ? i * 1000 : i < 38 ? 50000 : 60000 + i * 1000);
}

static int64_t exact_tie(int i)
{
	(void)i;
	return T0 + 7000; /* 30 rows, exactly 3 pages, all one updated_at */
}

static void test_paging_tie_larger_than_page(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	int64_t wm;
	struct sw_err err = {""};
	failed_rows(f, 200, 42, big_tie);
	run(f->watch, T0 + 10 * MIN);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 42);
	/* the newest row (asked once after a start), pages of 3 + 7, then 10 of the tie,
	 * then the last 4; the tie (35 rows, 4 pages) is read in one streamed query, not one
	 * query per page */
	assert_int_equal(ts.source_reads, 1 + 4);
	assert_int_equal(count_state(f, -1), 42);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, NULL, &err), 0);
	assert_int_equal(wm, big_tie(41));
	/* the next run reads the window again (the last 4 rows: the newest was seen at the
	 * first run, so everything 10 s older was visible then) and skips them before the
	 * store: the last run read them */
	assert_int_equal(ts.rows_skipped, 0);
	run(f->watch, T0 + 10 * MIN + 1000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 42 + 4);
	assert_int_equal(ts.rows_skipped, 4);
	assert_int_equal(count_state(f, -1), 42);
	/* a later run reads the overlap again and adds nothing */
	failed_rows(f, 300, 30, exact_tie);
	run(f->watch, T0 + 11 * MIN);
	assert_int_equal(count_state(f, -1), 42); /* older than the watermark: not read */
	run(f->watch, T0 + 12 * MIN);
	assert_int_equal(count_state(f, -1), 42);
}

/* A tie read that fails part way keeps the pages it committed, leaves the watermark before
 * the tie, and the next run goes on after the last committed page. */
static void test_paging_tie_resumes_after_failure(void **state)
{
	struct fx *f = *state;
	char *path = xasprintf("%s/store.db", f->dir), *msg = NULL, *logs = NULL;
	struct task_stats ts, ts2;
	struct sw_err err = {""};
	int64_t wm;
	sqlite3 *db;

	failed_rows(f, 200, 42, big_tie); /* the tie: apps 203..237, pages 203-212, 213-222, ... */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db,
	                 "CREATE TRIGGER rec_fail BEFORE INSERT ON instance_steps"
	                 " WHEN NEW.instance_id = '225' BEGIN"
	                 " SELECT RAISE(ABORT, 'injected failure'); END;",
	                 NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("store: %s", msg);
	assert_int_equal(run_logged(f, f->watch, T0 + 10 * MIN, &logs), -1);
	assert_non_null(strstr(logs, "injected failure"));
	free(logs);
	/* 3 rows before the tie and its first two pages; none of the failed page */
	assert_int_equal(count_state(f, -1), 23);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, NULL, &err), 0);
	assert_int_equal(wm, big_tie(2));
	if (sqlite3_exec(db, "DROP TRIGGER rec_fail", NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("store: %s", msg);
	sqlite3_close(db);
	task_stats(f->watch, &ts);
	run(f->watch, T0 + 10 * MIN + 1000);
	task_stats(f->watch, &ts2);
	assert_int_equal(count_state(f, -1), 42);
	/* the 15 after the tie's last committed page and the last 4 (a restart of the tie
	 * would read all 35); not the 3 rows before the tie: the first run's page proved them
	 * read (they were visible when it asked), so the read goes on from there. Two pages
	 * (the first all of the tie) and one tie query */
	assert_int_equal(ts2.rows_read - ts.rows_read, 15 + 4);
	assert_int_equal(ts2.source_reads - ts.source_reads, 3);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, NULL, &err), 0);
	assert_int_equal(wm, big_tie(41));
	free(path);
}

static void test_paging_exact_tie_first_start(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	int64_t wm;
	struct sw_err err = {""};
	failed_rows(f, 300, 30, exact_tie);
	run(f->watch, T0 + 10 * MIN);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 30);
	assert_int_equal(count_state(f, -1), 30);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, NULL, &err), 0);
	assert_int_equal(wm, exact_tie(0));
}

static int64_t tie_at_50s(int i)
{
	(void)i;
	return T0 + 50000; /* 35 rows, 3.5 pages, one updated_at */
}

static int64_t after_tie(int i)
{
	return T0 + 51000 + i * 100; /* within the overlap (10 s) of the tie */
}

/* A run that spends its time budget ends and the next one goes on where it stopped: with
 * a tie larger than a page inside the overlap window, restarting from the watermark minus
 * overlap read the tie again, spent the budget again and never reached the later rows. */
static void test_paging_budget_resumes(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	int64_t wm;
	struct sw_err err = {""};
	f->env.run_budget_ms = 1; /* every run ends after its first page (or tie) */
	failed_rows(f, 200, 35, tie_at_50s);
	failed_rows(f, 300, 5, after_tie);
	for (int i = 0; i < 6; i++)
		run(f->watch, T0 + 10 * MIN + i * 1000);
	assert_int_equal(count_state(f, -1), 40);
	assert_int_equal(store_watermark_get(f->st, "workflow:loan", &wm, NULL, &err), 0);
	assert_int_equal(wm, after_tie(4));
	/* more rows behind the tie, still inside the overlap: found by the next runs (the
	 * window a slice at a time, a batch of the tie or a page each, with a read past the
	 * watermark between two) */
	failed_rows(f, 400, 3, after_tie);
	for (int i = 0; i < 12; i++)
		run(f->watch, T0 + 11 * MIN + i * 1000);
	task_stats(f->watch, &ts);
	assert_int_equal(count_state(f, -1), 43);
	assert_int_equal(ts.alerts_opened, 43);
}

static int64_t burst_at(int i)
{
	return T0 + 5 * MIN + i * 10; /* 35 rows (3.5 pages) in 0.35 s */
}

/* A read of the window that is re-reading what it read before when its slice is spent lets
 * the rows past the watermark in before it goes on. 35 failures at upd(i) (t + upd(0) at
 * most), read whole at t + 1 s; a failure committed after them; from t + 2 s with a budget
 * of 1 ms (the slice spent at every page or batch): the window's first run re-reads
 * first_skipped of them, the next run reads the new failure, the window goes on where it
 * stopped and reads every row once more, none parsed again. */
static void window_slice_case(struct fx *f, int64_t (*upd)(int), int64_t t, int first_skipped)
{
	struct task_stats ts;
	failed_rows(f, 500, 35, upd);
	run(f->watch, t + 1000);
	assert_int_equal(count_state(f, -1), 35);
	f->env.run_budget_ms = 1;
	step(f, 600, "kyc", "FAILED", "KYC_MISMATCH", t, t + 1500, t + 1500);
	run(f->watch, t + 2000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_skipped, first_skipped);
	assert_int_equal(count_state(f, -1), 35);
	run(f->watch, t + 2100); /* past the watermark: the new failure */
	assert_int_equal(count_state(f, -1), 36);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_skipped, first_skipped);
	for (int i = 0; i < 12; i++) /* a page or a batch a slice, a fresh read between */
		run(f->watch, t + 2200 + i * 100);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_skipped, 35 + 1);
	assert_int_equal(ts.alerts_opened, 36);
	assert_int_equal(count_state(f, -1), 36);
}

/* A burst of 3.5 pages: the window stops after its first page (9 rows: the last row of a
 * full page is left to the next, which may hold more of its time), not after the whole
 * burst was read again. */
static void test_window_slice_lets_new_rows_in(void **state)
{
	window_slice_case(*state, burst_at, T0 + 5 * MIN, 9);
}

/* A tie of 3.5 pages (35 rows at one updated_at): the window's first page is all the tie, read
 * again as a tie; it stops after one batch of it and goes on in the tie after that batch,
 * not from its start. */
static void test_window_slice_in_a_tie(void **state)
{
	window_slice_case(*state, tie_at_50s, T0 + 50000, 10);
}

/* Three failures at t, read by the watcher's first run at t + 1 s. */
static void three_read_at(struct fx *f, int64_t t)
{
	for (int i = 10; i < 13; i++)
		step(f, i, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t, t);
	run(f->watch, t + 1000);
}

/* The overlap window is re-read until a read of it starts `overlap` (10 s) after its
 * watermark was first seen; after that it is final and not read again (a burst at one
 * timestamp was re-read on every poll for as long as the source stayed quiet). */
static void test_overlap_window_final(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	int64_t t = T0 + 5 * MIN;
	three_read_at(f, t);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 3);
	/* a late commit inside the overlap: read */
	step(f, 13, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t - 5000, t - 5000);
	run(f->watch, t + 2000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 7);
	assert_int_equal(count_state(f, -1), 4);
	/* the first read 10 s after the watermark was seen reads the window once more */
	run(f->watch, t + 12000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 11);
	/* then it is final: nothing is read while the source is quiet */
	run(f->watch, t + 13000);
	run(f->watch, t + 14000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 11);
	/* new rows move the watermark; a late commit behind the new watermark (within
	 * overlap of its updated_at) is still read, the final part is not read again */
	step(f, 14, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t + 8000, t + 8000);
	run(f->watch, t + 15000);
	step(f, 15, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t + 6000, t + 6000);
	run(f->watch, t + 16000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 11 + 1 + 2);
	assert_int_equal(count_state(f, -1), 6);
}

/* Reads past the watermark at every poll, and reads the window behind it again every
 * overlap / 4 (2.5 s) from fin, not at every poll: a late commit behind the watermark is
 * read by the next read of the window, and the runs between read only the new rows. */
static void test_window_read_every_quarter_overlap(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	int64_t t = T0 + 5 * MIN;
	three_read_at(f, t);     /* the first read */
	run(f->watch, t + 2000); /* the first read of the window: skips the 3 rows */
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 6);
	assert_int_equal(ts.rows_skipped, 3);
	step(f, 20, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t + 2500, t + 2500);
	run(f->watch, t + 3000); /* 1 s after the window read: the new row only */
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 7);
	step(f, 21, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t + 3500, t + 3500);
	/* a transaction that commits late, 2.5 s after its updated_at, behind the watermark */
	step(f, 22, "kyc", "FAILED", "KYC_MISMATCH", t - MIN, t + 1000, t + 1000);
	run(f->watch, t + 4000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 8);
	assert_int_equal(count_state(f, -1), 5);
	/* 3 s after the last read of the window: read again, from fin; the late row is in */
	run(f->watch, t + 5000);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 8 + 6);
	assert_int_equal(ts.rows_skipped, 3 + 5);
	assert_int_equal(count_state(f, -1), 6);
}

/* A restart after an outage reads the catch-up once: its pages are older than the newest
 * row by more than overlap, so they were visible when asked for and fin follows them; the
 * next read of the window goes back to fin only (the last 10 s of rows), and a late commit
 * there is still read. fin is stored with the pages. */
static void test_restart_catch_up_read_once(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	struct sw_err err = {""};
	int64_t t = T0 + 5 * MIN, fin;
	three_read_at(f, t);
	assert_int_equal(store_watermark_get(f->st, "final:workflow:loan", &fin, NULL, &err), 0);
	assert_true(fin >= t - 10000 && fin < t - 9000); /* newest seen 1 s late, minus 10 s */
	/* stopped; 25 rows come in over 24 s, a minute later; started again */
	task_free(f->watch);
	f->watch = task_new(TASK_WATCH_STEPS, &f->env, &f->cfg->workflows[0]);
	for (int i = 0; i < 25; i++)
		step(f, 100 + i, "kyc", "FAILED", "KYC_MISMATCH", t, t + MIN + i * 1000,
		     t + MIN + i * 1000);
	run(f->watch, t + 2 * MIN);
	task_stats(f->watch, &ts);
	/* from the stored fin: the 3 rows at t again (the store's dedupe drops them), the 25 */
	assert_int_equal(ts.rows_read, 3 + 25);
	assert_int_equal(count_state(f, -1), 28);
	assert_int_equal(store_watermark_get(f->st, "final:workflow:loan", &fin, NULL, &err), 0);
	/* the newest row (t + 84 s) was asked for at t + 120 s: everything up to t + 74 s was
	 * visible then, and the pages read it */
	assert_true(fin >= t + 74000 && fin < t + 75000);
	/* a late commit within overlap of its time, behind the watermark */
	step(f, 200, "kyc", "FAILED", "KYC_MISMATCH", t, t + 80000, t + 80000);
	run(f->watch, t + 2 * MIN + 3000);
	task_stats(f->watch, &ts);
	/* the window from fin: the 10 rows after t + 74 s (skipped) and the late one */
	assert_int_equal(ts.rows_read, 28 + 11);
	assert_int_equal(ts.rows_skipped, 10);
	assert_int_equal(count_state(f, -1), 29);
}

/* What `overlap` promises, checked at random: rows whose transactions commit up to 9 s after
 * their updated_at (overlap 10 s; the clock the test advances is the source's), at random
 * times, runs at random times in between: every row is read once the source has been
 * quiet, none twice into an alert, and each row is read a bounded number of times (the
 * window every 2.5 s, not every run). A fixed seed: a failure reproduces. */
static void test_window_random_late_commits(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64 */
	int64_t now = T0 + 10 * MIN;
	int rows = 0;
#define RND(n) (x ^= x << 13, x ^= x >> 7, x ^= x << 17, (int64_t)(x % (uint64_t)(n)))
	for (int i = 0; i < 400; i++) {
		now += RND(600);
		for (int k = RND(4); k > 0; k--, rows++) {
			int64_t u = now - RND(9000); /* committed now, up to 9 s after its time */
			step(f, 1000 + rows, "kyc", "FAILED", "LATE", u - MIN, u, u);
		}
		if (RND(2))
			run(f->watch, now);
	}
#undef RND
	for (int i = 0; i < 14; i++) /* quiet for the overlap and more */
		run(f->watch, now + (i + 1) * 1000);
	task_stats(f->watch, &ts);
	assert_true(rows > 400);
	assert_int_equal(count_state(f, -1), rows);
	assert_int_equal(ts.alerts_opened, rows);
	/* a row is read once past the watermark, then by the reads of the window in the
	 * 10 s (+ 2.5 s) it stays behind fin: about 6 times; every run would be about 30 */
	assert_true(ts.rows_read <= 8 * rows);
}

static void test_first_start_old_history(void **state)
{
	struct fx *f = *state;
	struct instance_info ii;
	struct alert *v;
	size_t n;
	struct sw_err err = {""};
	int64_t now = T0 + 30 * 24 * 60 * MIN;
	/* 30 days old: before the backfill (7d), not read at all */
	step(f, 400, "kyc", "FAILED", "OLD", T0, T0 + MIN, T0 + MIN);
	/* 3 days old: read (stats), but the user is gone (abandon_after 1d): no alert */
	step(f, 401, "kyc", "FAILED", "GONE", now - 3 * 1440 * MIN, now - 3 * 1440 * MIN,
	     now - 3 * 1440 * MIN);
	/* 3 hours old: opens with its real occurred_at and escalates late, to P0 */
	step(f, 402, "kyc", "FAILED", "RECENT", now - 181 * MIN, now - 180 * MIN, now - 180 * MIN);
	run(f->watch, now);
	run(f->validate, now);
	n = alerts(f, &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].instance_id, "402");
	assert_int_equal(v[0].occurred_at, now - 180 * MIN);
	assert_int_equal(v[0].state, ALERT_P0);
	alerts_free(v, n);
	assert_int_equal(store_instance_get(f->st, "loan", "400", &ii, &err), STORE_ENOTFOUND);
	assert_int_equal(store_instance_get(f->st, "loan", "401", &ii, &err), 0);
	instance_info_release(&ii);
}

static void resolve_by_hand(struct fx *f, const struct alert *a, int64_t now)
{
	struct alert_change c = {0};
	bool applied = false;
	struct sw_err err = {""};
	c.alert_id = a->id;
	c.from = a->state;
	c.to = ALERT_RESOLVED;
	c.event = "resolved";
	c.actor = "user:asha";
	c.resolved_by = "user:asha";
	c.next_escalation_at = TIME_NULL;
	assert_int_equal(store_alerts_change(f->st, now, &c, 1, &applied, &err), 0);
	assert_true(applied);
}

static void test_stuck_closed_not_reopened(void **state)
{
	struct fx *f = *state;
	struct alert *v;
	size_t n;
	step(f, 40, "bank_statement", "IN_PROGRESS", NULL, T0, 0, T0);
	step(f, 41, "bank_statement", "IN_PROGRESS", NULL, T0, 0, T0);
	run(f->watch, T0 + 20 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 2);
	/* closed by hand while the step is still IN_PROGRESS: not reopened */
	resolve_by_hand(f, &v[0], T0 + 21 * MIN);
	alerts_free(v, n);
	for (int k = 0; k < 5; k++)
		run(f->watch, T0 + (22 + k) * MIN);
	assert_int_equal(count_state(f, -1), 2);
	/* abandoned by the expirer: not reopened either */
	run(f->expire, T0 + 24 * 60 * MIN);
	assert_int_equal(count_state(f, ALERT_ABANDONED), 1);
	run(f->watch, T0 + 24 * 60 * MIN + MIN);
	assert_int_equal(count_state(f, -1), 2);
	/* a new attempt of the step is a new episode: a new alert, linked to the old one */
	step(f, 40, "bank_statement", "IN_PROGRESS", NULL, T0 + 30 * MIN, 0, T0 + 30 * MIN);
	run(f->watch, T0 + 49 * MIN);
	assert_int_equal(count_state(f, -1), 2);
	run(f->watch, T0 + 50 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 3);
	assert_string_equal(v[2].instance_id, "40");
	assert_int_not_equal(v[2].reopen_of, 0);
	alerts_free(v, n);
}

/* A row the push API would refuse (null started_at, a status that is no status) is refused
 * by the watcher too, through the same step_record_check: counted, no alert; the good row
 * of the same page is read. */
static void test_watcher_refuses_what_push_refuses(void **state)
{
	struct fx *f = *state;
	struct task_stats ts;
	struct alert *v;
	size_t n;
	src_exec(f, "INSERT INTO loan_steps VALUES (1, 'u1', 'kyc', 'FAILED', 'E', NULL, NULL,"
	            " '2026-01-01T00:01:00Z', 'web')");
	src_exec(f, "INSERT INTO loan_steps VALUES (2, 'u2', 'kyc', 'DONE', 'E',"
	            " '2026-01-01T00:00:00Z', NULL, '2026-01-01T00:01:00Z', 'web')");
	src_exec(f, "INSERT INTO loan_steps VALUES (3, 'u3', 'kyc', 'FAILED', 'E',"
	            " '2026-01-01T00:00:00Z', 'not a time', '2026-01-01T00:01:00Z', 'web')");
	step(f, 4, "kyc", "FAILED", "E", T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 2 * MIN);
	task_stats(f->watch, &ts);
	assert_int_equal(ts.rows_read, 4);
	assert_int_equal(ts.rows_rejected, 3);
	n = alerts(f, &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].instance_id, "4");
	alerts_free(v, n);
}

static void test_push_only_stuck_and_pusher(void **state)
{
	struct fx *f = *state;
	const struct sw_workflow *wf = &f->cfg->workflows[1];
	struct task *push = task_new(TASK_WATCH_STEPS, &f->env, wf);
	struct task **all;
	struct step_record r[2];
	struct alert *v, one;
	struct alert_event *h;
	size_t n, nh, opened = 0, ntasks, found = 0;
	struct sw_err err = {""};
	struct step_record_fields in[2] = {
	    {.instance_id = "p1", .user_id = "u1", .step = "a", .status = "IN_PROGRESS"},
	    {.instance_id = "p2", .user_id = "u2", .step = "a", .status = "FAILED", .error = "E"},
	};
	for (size_t i = 0; i < 2; i++) {
		in[i].step_index = config_step_index(wf, "a");
		in[i].started_at = in[i].updated_at = T0;
		in[i].finished_at = TIME_NULL;
		assert_null(step_record_check(&in[i], &r[i]));
	}
	struct arena a = ARENA_INIT;
	assert_int_equal(tasks_ingest(f->st, &a, wf, r, 2, T0 + MIN, "api:ci", NULL, &opened, &err),
	                 0);
	arena_release(&a);
	assert_int_equal(opened, 1);
	run(push, T0 + 19 * MIN);
	assert_int_equal(count_state(f, -1), 1);
	run(push, T0 + 20 * MIN);
	n = alerts(f, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].rule, "stuck");
	assert_string_equal(v[1].instance_id, "p1");
	/* the pushed failure's history names the pusher */
	assert_int_equal(store_alert_get(f->st, v[0].id, &one, &h, &nh, &err), 0);
	assert_string_equal(h[0].actor, "api:ci");
	alert_events_free(h, nh);
	alert_release(&one);
	alerts_free(v, n);
	task_free(push);
	/* serve runs a task for the push-only workflow too */
	all = tasks_for_config(&f->env, &ntasks);
	for (size_t i = 0; i < ntasks; i++) {
		found += !strcmp(task_name(all[i]), "watch:pushed");
		task_free(all[i]);
	}
	free(all);
	assert_int_equal(found, 1);
}

static void test_watermark_time_is_the_clock(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	sqlite3_stmt *q;
	char *path = xasprintf("%s/store.db", f->dir);
	step(f, 60, "kyc", "SUCCESS", NULL, T0, T0 + MIN, T0 + MIN);
	run(f->watch, T0 + 2 * MIN); /* the injected clock, years from the wall clock */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT updated_at FROM watermarks", -1, &q, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(q, 0), T0 + 2 * MIN);
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(path);
}

static void test_custom_watcher_pages(void **state)
{
	struct fx *f = *state;
	src_exec(f, "BEGIN");
	for (int i = 0; i < 25; i++) {
		char *sql =
		    sqlite3_mprintf("INSERT INTO payouts VALUES (%d, 'u%d', %Q, 'SENT', 'b')",
		                    500 + i, 500 + i, iso(T0));
		src_exec(f, sql);
		sqlite3_free(sql);
	}
	src_exec(f, "COMMIT");
	run(f->detect, T0 + MIN);
	assert_int_equal(count_state(f, -1), 25);
}

static void test_missing_column_at_run_time(void **state)
{
	struct fx *f = *state;
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT, text = STRBUF_INIT;
	struct task_env env = {0};
	struct task *t;
	struct health_entry *e;
	size_t n;
	const char *from = "started_at, finished_at, updated_at, channel\n";
	const char *at = strstr(f->cfg_text, from);
	/* the query runs but returns no updated_at: the paged form cannot, and the message
	 * names the missing column rather than the wrapper's complaint */
	assert_non_null(at);
	strbuf_add(&text, f->cfg_text, (size_t)(at - f->cfg_text));
	strbuf_addstr(&text, "started_at, channel\n");
	strbuf_addstr(&text, at + strlen(from));
	if (config_load_buffer("t.yaml", text.buf, text.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	env.cfg = cfg;
	env.health = f->health;
	t = task_new(TASK_WATCH_STEPS, &env, &cfg->workflows[0]);
	assert_int_equal(task_run(t, T0), -1);
	n = health_snapshot(f->health, &e);
	assert_true(n >= 1);
	assert_string_equal(e[0].name, "workflow:loan");
	assert_string_equal(e[0].message,
	                    "workflow 'loan': steps_query has no column 'updated_at'");
	health_entries_free(e, n);
	task_free(t);
	config_free(cfg);
	strbuf_release(&errs);
	strbuf_release(&text);
}

static void test_wrong_columns(void **state)
{
	struct fx *f = *state;
	struct sw_err err = {""};
	char c0[] = "instance_id", c1[] = "user_id", c2[] = "step", c3[] = "status",
	     c4[] = "started_at";
	char *cols[] = {c0, c1, c2, c3, c4};
	assert_int_equal(tasks_check_steps_columns(&f->cfg->workflows[0], cols, 5, &err), -1);
	assert_string_equal(err.msg, "workflow 'loan': steps_query has no column 'updated_at'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_escalate_resolve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_detection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_equal_timestamps_and_late_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_superseded_failure_opens_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abandon_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolver_incremental, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_custom_watcher, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_custom_resolve_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_source_error_keeps_watermark, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_columns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rolled_back_run_logs_no_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging_equal_across_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging_tie_larger_than_page, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging_exact_tie_first_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging_tie_resumes_after_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging_budget_resumes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_slice_lets_new_rows_in, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_slice_in_a_tie, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlap_window_final, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_read_every_quarter_overlap, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_restart_catch_up_read_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_random_late_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_start_old_history, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stuck_closed_not_reopened, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watcher_refuses_what_push_refuses, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_push_only_stuck_and_pusher, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watermark_time_is_the_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_custom_watcher_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_column_at_run_time, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
