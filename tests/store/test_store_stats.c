/*
 * test_store_stats.c - conformance of the stats aggregates (store_stats.c): the funnel,
 * durations, segment counts and alert figures, over data made by store_steps_ingest and the
 * alert functions. Run unchanged against SQLite (a file in a temp dir) and PostgreSQL (a
 * fresh database); each test gets a freshly migrated store.
 */
#include "helpers.h"
#include "storetest.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "store/store_stats.h"
#include "core/step.h"

/* the shared fixture (storetest.c) */
#define teardown     storetest_teardown
#define setup_sqlite storetest_setup_sqlite
#define setup_pg     storetest_setup_pg

#define T0  1763719025000LL
#define MIN 60000LL

static const char *const STEPS[3] = {"kyc", "bureau_pull", "underwriting"};

/* One record of workflow loan; times in minutes after T0 (finished -1: none). */
static void put(struct store *st, const char *iid, int step, enum step_status status, int started,
                int finished, const char *labels)
{
	struct step_record r = {.instance_id = iid,
	                        .user_id = "u",
	                        .step = STEPS[step],
	                        .step_index = step,
	                        .status = status,
	                        .error = status == STEP_FAILED ? "E" : NULL,
	                        .started_at = T0 + started * MIN,
	                        .finished_at = finished < 0 ? TIME_NULL : T0 + finished * MIN,
	                        .updated_at = T0 + (finished < 0 ? started : finished) * MIN,
	                        .labels_json = labels};
	OK(store_steps_ingest(st, "loan", 3, &r, 1, NULL, &E));
}

static int64_t open_alert(struct store *st, const char *iid, int step, int64_t at)
{
	struct alert_new a = {.rule = "failed",
	                      .workflow = "loan",
	                      .step = STEPS[step],
	                      .step_index = step,
	                      .instance_id = iid,
	                      .user_id = "u",
	                      .group_key = "k",
	                      .occurred_at = at,
	                      .next_escalation_at = TIME_NULL};
	struct alert_opened o;
	OK(store_alerts_open(st, at, &a, 1, &o, &E));
	return o.alert_id;
}

static void change(struct store *st, int64_t id, enum alert_state from, enum alert_state to,
                   const char *event, const char *by, int64_t at)
{
	struct alert_change c = {.alert_id = id,
	                         .from = from,
	                         .to = to,
	                         .event = event,
	                         .actor = "test",
	                         .next_escalation_at = TIME_NULL,
	                         .resolved_by = by};
	bool applied = false;
	OK(store_alerts_change(st, at, &c, 1, &applied, &E));
	assert_true(applied);
}

static void test_funnel(void **state)
{
	FX();
	struct funnel_step fs;
	/* i1 done; i2 failed at bureau_pull; i3 in progress at bureau_pull since 0; i4 at kyc
	 * in progress since 50; i5 started later (t = 100), abandoned at bureau_pull */
	put(st, "i1", 0, STEP_SUCCESS, 0, 1, NULL);
	put(st, "i1", 1, STEP_SUCCESS, 1, 2, NULL);
	put(st, "i1", 2, STEP_SUCCESS, 2, 3, NULL);
	put(st, "i2", 0, STEP_SUCCESS, 0, 1, NULL);
	put(st, "i2", 1, STEP_FAILED, 1, 2, NULL);
	put(st, "i3", 0, STEP_SUCCESS, 0, 1, NULL);
	put(st, "i3", 1, STEP_IN_PROGRESS, 1, -1, NULL);
	put(st, "i4", 0, STEP_IN_PROGRESS, 50, -1, NULL);
	put(st, "i5", 0, STEP_SUCCESS, 100, 101, NULL);
	put(st, "i5", 1, STEP_FAILED, 101, 102, NULL);
	change(st, open_alert(st, "i5", 1, T0 + 102 * MIN), ALERT_INITIATED, ALERT_ABANDONED,
	       "abandoned", NULL, T0 + 200 * MIN);

	OK(store_stats_funnel_step(st, "loan", "kyc", TIME_NULL, TIME_NULL, T0 + 30 * MIN, &fs,
	                           &E));
	assert_int_equal(fs.entered, 5);
	assert_int_equal(fs.succeeded, 4);
	assert_int_equal(fs.failed, 0);
	assert_int_equal(fs.stuck, 0); /* i4 started at 50, after the cutoff */
	assert_int_equal(fs.abandoned, 0);
	OK(store_stats_funnel_step(st, "loan", "kyc", TIME_NULL, TIME_NULL, T0 + 60 * MIN, &fs,
	                           &E));
	assert_int_equal(fs.stuck, 1);
	OK(store_stats_funnel_step(st, "loan", "bureau_pull", TIME_NULL, TIME_NULL, T0 + 30 * MIN,
	                           &fs, &E));
	assert_int_equal(fs.entered, 4);
	assert_int_equal(fs.succeeded, 1);
	assert_int_equal(fs.failed, 2);
	assert_int_equal(fs.stuck, 1);
	assert_int_equal(fs.abandoned, 1);
	/* stuck detection off */
	OK(store_stats_funnel_step(st, "loan", "bureau_pull", TIME_NULL, TIME_NULL, TIME_NULL, &fs,
	                           &E));
	assert_int_equal(fs.stuck, 0);
	/* range on instance start: [0, 100) leaves i5 out, [100, ...) keeps only it */
	OK(store_stats_funnel_step(st, "loan", "bureau_pull", T0, T0 + 100 * MIN, TIME_NULL, &fs,
	                           &E));
	assert_int_equal(fs.entered, 3);
	assert_int_equal(fs.abandoned, 0);
	OK(store_stats_funnel_step(st, "loan", "bureau_pull", T0 + 100 * MIN, TIME_NULL, TIME_NULL,
	                           &fs, &E));
	assert_int_equal(fs.entered, 1);
	assert_int_equal(fs.failed, 1);
	assert_int_equal(fs.abandoned, 1);
	OK(store_stats_funnel_step(st, "loan", "underwriting", TIME_NULL, TIME_NULL, TIME_NULL, &fs,
	                           &E));
	assert_int_equal(fs.entered, 1);
	assert_int_equal(fs.succeeded, 1);
	/* unknown workflow or step: zeros */
	OK(store_stats_funnel_step(st, "nope", "kyc", TIME_NULL, TIME_NULL, TIME_NULL, &fs, &E));
	assert_int_equal(fs.entered, 0);

	/* every step at once, each with its own stuck threshold (and an unknown step, and
	 * one with stuck detection off), over each range: the rows of one step at a time */
	{
		const char *steps[] = {"bureau_pull", "kyc", "nope", "underwriting"};
		const int64_t stuck[] = {T0 + 30 * MIN, T0 + 60 * MIN, T0, TIME_NULL};
		const int64_t ranges[][2] = {{TIME_NULL, TIME_NULL},
		                             {T0, T0 + 100 * MIN},
		                             {T0 + 100 * MIN, TIME_NULL},
		                             {T0 + 500 * MIN, TIME_NULL}};
		struct funnel_step all[4], one;
		for (size_t r = 0; r < 4; r++) {
			OK(store_stats_funnel(st, "loan", steps, stuck, 4, ranges[r][0],
			                      ranges[r][1], all, &E));
			for (size_t k = 0; k < 4; k++) {
				OK(store_stats_funnel_step(st, "loan", steps[k], ranges[r][0],
				                           ranges[r][1], stuck[k], &one, &E));
				assert_memory_equal(&all[k], &one, sizeof(one));
			}
		}
		OK(store_stats_funnel(st, "loan", steps, stuck, 4, TIME_NULL, TIME_NULL, all, &E));
		assert_int_equal(all[0].abandoned, 1);
		assert_int_equal(all[0].stuck, 1);
		assert_int_equal(all[1].stuck, 1);
		assert_int_equal(all[2].entered, 0);
		assert_int_equal(all[3].entered, 1);
		OK(store_stats_funnel(st, "loan", steps, stuck, 0, TIME_NULL, TIME_NULL, all, &E));
	}
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void test_durations(void **state)
{
	FX();
	int64_t *d = NULL;
	size_t n = 0;
	put(st, "a", 0, STEP_SUCCESS, 0, 2, NULL);
	put(st, "a", 1, STEP_SUCCESS, 2, 5, NULL);
	put(st, "a", 2, STEP_SUCCESS, 5, 10, NULL); /* TAT 10 min */
	put(st, "b", 0, STEP_SUCCESS, 20, 27, NULL);
	put(st, "b", 1, STEP_SUCCESS, 27, 28, NULL);
	put(st, "b", 2, STEP_SUCCESS, 28, 50, NULL); /* TAT 30 min */
	put(st, "c", 0, STEP_SUCCESS, 40, 41, NULL);
	put(st, "c", 1, STEP_FAILED, 41, 60, NULL); /* not completed, step failed */
	OK(store_stats_durations(st, "loan", NULL, TIME_NULL, TIME_NULL, &d, &n, &E));
	assert_int_equal(n, 2);
	qsort(d, n, sizeof(*d), cmp);
	assert_int_equal(d[0], 10 * MIN);
	assert_int_equal(d[1], 30 * MIN);
	free(d);
	OK(store_stats_durations(st, "loan", "kyc", TIME_NULL, TIME_NULL, &d, &n, &E));
	assert_int_equal(n, 3);
	qsort(d, n, sizeof(*d), cmp);
	assert_int_equal(d[0], 1 * MIN);
	assert_int_equal(d[1], 2 * MIN);
	assert_int_equal(d[2], 7 * MIN);
	free(d);
	/* FAILED records are not durations */
	OK(store_stats_durations(st, "loan", "bureau_pull", TIME_NULL, TIME_NULL, &d, &n, &E));
	assert_int_equal(n, 2);
	free(d);
	/* range on instance start */
	OK(store_stats_durations(st, "loan", NULL, T0 + 10 * MIN, T0 + 30 * MIN, &d, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(d[0], 30 * MIN);
	free(d);
	OK(store_stats_durations(st, "nope", NULL, TIME_NULL, TIME_NULL, &d, &n, &E));
	assert_int_equal(n, 0);
	free(d);
}

static void test_segments(void **state)
{
	FX();
	struct segment_count *v = NULL;
	size_t n = 0;
	put(st, "w1", 0, STEP_SUCCESS, 0, 1, "{\"channel\":\"web\",\"partner\":\"p1\"}");
	put(st, "w1", 1, STEP_SUCCESS, 1, 2, NULL);
	put(st, "w1", 2, STEP_SUCCESS, 2, 3, NULL);
	put(st, "w2", 0, STEP_SUCCESS, 0, 1, "{\"channel\":\"web\",\"partner\":\"p2\"}");
	put(st, "a1", 0, STEP_FAILED, 0, 1, "{\"channel\":\"app\"}");
	put(st, "a2", 0, STEP_SUCCESS, 5, 6, "{\"channel\":\"app\"}");
	put(st, "a2", 1, STEP_SUCCESS, 6, 7, "{\"channel\":\"app\"}");
	put(st, "a2", 2, STEP_SUCCESS, 7, 8, "{\"channel\":\"app\"}");
	put(st, "x1", 0, STEP_SUCCESS, 0, 1, NULL);
	put(st, "q1", 0, STEP_SUCCESS, 0, 1, "{\"channel\":\"we'b \\\"x\\\"\"}");
	OK(store_stats_segments(st, "loan", "channel", TIME_NULL, TIME_NULL, &v, &n, &E));
	assert_int_equal(n, 4);
	assert_string_equal(v[0].value, "app");
	assert_int_equal(v[0].started, 2);
	assert_int_equal(v[0].completed, 1);
	assert_string_equal(v[1].value, "we'b \"x\""); /* byte order: ' before b */
	assert_string_equal(v[2].value, "web");
	assert_int_equal(v[2].started, 2);
	assert_int_equal(v[2].completed, 1);
	assert_null(v[3].value); /* no label: last */
	assert_int_equal(v[3].started, 1);
	segment_counts_free(v, n);
	OK(store_stats_segments(st, "loan", "partner", TIME_NULL, TIME_NULL, &v, &n, &E));
	assert_int_equal(n, 3);
	assert_string_equal(v[0].value, "p1");
	assert_int_equal(v[0].completed, 1);
	assert_null(v[2].value);
	assert_int_equal(v[2].started, 4);
	segment_counts_free(v, n);
	OK(store_stats_segments(st, "loan", "channel", T0 + 5 * MIN, TIME_NULL, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_string_equal(v[0].value, "app");
	assert_int_equal(v[0].started, 1);
	segment_counts_free(v, n);
	OK(store_stats_segments(st, "nope", "channel", TIME_NULL, TIME_NULL, &v, &n, &E));
	assert_int_equal(n, 0);
	segment_counts_free(v, n);
}

static void test_alert_stats(void **state)
{
	FX();
	struct alert_stats s;
	int64_t a1, a2, a3, a4;
	a1 = open_alert(st, "i1", 1, T0);
	a2 = open_alert(st, "i2", 1, T0 + 1 * MIN);
	a3 = open_alert(st, "i3", 1, T0 + 2 * MIN);
	a4 = open_alert(st, "i4", 1, T0 + 100 * MIN);
	open_alert(st, "i5", 1, T0 + 3 * MIN); /* stays open */
	OK(store_alert_ack(st, a1, T0 + 4 * MIN, "ann", NULL, &E));
	OK(store_alert_ack(st, a2, T0 + 3 * MIN, "bob", NULL, &E));
	change(st, a1, ALERT_INITIATED, ALERT_P2, "escalated", NULL, T0 + 5 * MIN);
	change(st, a1, ALERT_P2, ALERT_P1, "escalated", NULL, T0 + 6 * MIN);
	change(st, a2, ALERT_INITIATED, ALERT_P2, "escalated", NULL, T0 + 6 * MIN);
	change(st, a1, ALERT_P1, ALERT_RESOLVED, "resolved", "resolver", T0 + 10 * MIN);
	change(st, a2, ALERT_P2, ALERT_RESOLVED, "resolved", "user:bob", T0 + 21 * MIN);
	change(st, a3, ALERT_INITIATED, ALERT_ABANDONED, "abandoned", NULL, T0 + 50 * MIN);
	change(st, a4, ALERT_INITIATED, ALERT_P2, "escalated", NULL, T0 + 110 * MIN);
	change(st, a4, ALERT_P2, ALERT_P1, "escalated", NULL, T0 + 111 * MIN);
	change(st, a4, ALERT_P1, ALERT_P0, "escalated", NULL, T0 + 112 * MIN);

	OK(store_stats_alerts(st, T0, T0 + 60 * MIN, &s, &E));
	assert_int_equal(s.opened, 4);
	assert_int_equal(s.auto_resolved, 1);
	assert_int_equal(s.manually_resolved, 1);
	assert_int_equal(s.abandoned, 1);
	assert_int_equal(s.acked, 2);
	assert_int_equal(s.ack_ms_sum, 4 * MIN + 2 * MIN);
	assert_int_equal(s.resolve_ms_sum, 10 * MIN + 20 * MIN);
	assert_int_equal(s.escalations[0], 2);
	assert_int_equal(s.escalations[1], 1);
	assert_int_equal(s.escalations[2], 0);
	OK(store_stats_alerts(st, TIME_NULL, TIME_NULL, &s, &E));
	assert_int_equal(s.opened, 5);
	assert_int_equal(s.escalations[0], 3);
	assert_int_equal(s.escalations[1], 2);
	assert_int_equal(s.escalations[2], 1);
	OK(store_stats_alerts(st, T0 + 1000 * MIN, TIME_NULL, &s, &E));
	assert_int_equal(s.opened, 0);
	assert_int_equal(s.ack_ms_sum, 0);
	assert_int_equal(s.escalations[0], 0);
}

#define TESTS(setup)                                                          \
	cmocka_unit_test_setup_teardown(test_funnel, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(test_durations, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_segments, setup, teardown),  \
	    cmocka_unit_test_setup_teardown(test_alert_stats, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed = cmocka_run_group_tests_name("store_stats/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("store_stats/postgres", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
