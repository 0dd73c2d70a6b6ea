/*
 * test_store_api.c - conformance of the store functions the API added (store_api.c):
 * silences, incident ack and resolve, a user's instances, known step records, and the
 * validator pausing escalation under a silence. Run unchanged against SQLite (a file in a
 * temp dir) and PostgreSQL (a fresh database); each test gets a freshly migrated store.
 */
#include "helpers.h"
#include "storetest.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_silences.h"
#include "core/step.h"
#include "tasks/tasks.h"

/* the shared fixture (storetest.c) */
#define teardown     storetest_teardown
#define setup_sqlite storetest_setup_sqlite
#define setup_pg     storetest_setup_pg

#define T0  1763719025000LL
#define MIN 60000LL

/* Open one "failed" alert of loan/bureau_pull for instance iid in group key. */
static int64_t open_alert(struct store *st, const char *iid, const char *user, const char *key,
                          const char *error, int64_t next_esc)
{
	struct alert_new a = {.rule = "failed",
	                      .workflow = "loan",
	                      .step = "bureau_pull",
	                      .step_index = 1,
	                      .instance_id = iid,
	                      .user_id = user,
	                      .error = error,
	                      .group_key = key,
	                      .occurred_at = T0,
	                      .next_escalation_at = next_esc};
	struct alert_opened o;
	OK(store_alerts_open(st, T0, &a, 1, &o, &E));
	return o.alert_id;
}

static void test_silences(void **state)
{
	FX();
	struct silence s = {0}, got, *v = NULL;
	size_t n = 0;
	int64_t id1, id2, id3;
	struct silence_filter flt = {.limit = 10};
	s.workflow = (char *)(uintptr_t) "loan";
	s.error = (char *)(uintptr_t) "x'; DROP TABLE silences;--";
	s.starts_at = T0;
	s.ends_at = T0 + 60 * MIN;
	s.created_by = (char *)(uintptr_t) "alice";
	s.comment = (char *)(uintptr_t) "maintenance \"quoted\"";
	s.pause_escalation = true;
	OK(store_silence_create(st, T0, &s, &id1, &E));
	/* one in the future, one without pause */
	s.error = NULL;
	s.step = (char *)(uintptr_t) "kyc";
	s.starts_at = T0 + 30 * MIN;
	s.ends_at = T0 + 120 * MIN;
	s.pause_escalation = false;
	s.comment = NULL;
	OK(store_silence_create(st, T0, &s, &id2, &E));
	s.starts_at = T0;
	s.ends_at = T0 + 5 * MIN;
	OK(store_silence_create(st, T0, &s, &id3, &E));
	assert_true(id1 < id2 && id2 < id3);

	OK(store_silence_get(st, id1, &got, &E));
	assert_string_equal(got.workflow, "loan");
	assert_null(got.step);
	assert_string_equal(got.error, "x'; DROP TABLE silences;--");
	assert_string_equal(got.comment, "maintenance \"quoted\"");
	assert_string_equal(got.created_by, "alice");
	assert_true(got.pause_escalation);
	assert_int_equal(got.created_at, T0);
	assert_true(silence_matches(&got, "loan", "any", "x'; DROP TABLE silences;--"));
	assert_false(silence_matches(&got, "loan", "any", "other"));
	assert_false(silence_matches(&got, "loan", "any", NULL));
	assert_false(silence_matches(&got, "other", "any", "x'; DROP TABLE silences;--"));
	assert_true(silence_active(&got, T0));
	assert_false(silence_active(&got, T0 + 60 * MIN));
	silence_release(&got);

	/* active-ness follows time */
	OK(store_silences_active(st, T0 + MIN, &v, &n, &E));
	assert_int_equal(n, 2); /* id1, id3 */
	assert_int_equal(v[0].id, id1);
	assert_int_equal(v[1].id, id3);
	silences_free(v, n);
	OK(store_silences_active(st, T0 + 31 * MIN, &v, &n, &E));
	assert_int_equal(n, 2); /* id1, id2; id3 expired by itself */
	silences_free(v, n);
	flt.active_only = true;
	flt.now = T0 + 61 * MIN;
	OK(store_silences_list(st, &flt, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id2);
	silences_free(v, n);

	/* list pages newest first */
	flt.active_only = false;
	flt.limit = 2;
	OK(store_silences_list(st, &flt, &v, &n, &E));
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, id3);
	flt.before_id = v[1].id;
	silences_free(v, n);
	OK(store_silences_list(st, &flt, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id1);
	silences_free(v, n);

	/* expire: a future one ends now and starts no later */
	OK(store_silence_expire(st, id2, T0 + 10 * MIN, &E));
	OK(store_silence_get(st, id2, &got, &E));
	assert_int_equal(got.ends_at, T0 + 10 * MIN);
	assert_int_equal(got.starts_at, T0 + 10 * MIN);
	assert_false(silence_active(&got, T0 + 10 * MIN));
	silence_release(&got);
	/* an ended one stays as it was */
	OK(store_silence_expire(st, id3, T0 + 20 * MIN, &E));
	OK(store_silence_get(st, id3, &got, &E));
	assert_int_equal(got.ends_at, T0 + 5 * MIN);
	silence_release(&got);
	assert_int_equal(store_silence_expire(st, 9999, T0, &E), STORE_ENOTFOUND);
	assert_int_equal(store_silence_get(st, 9999, &got, &E), STORE_ENOTFOUND);

	/* bad silences */
	memset(&s, 0, sizeof(s));
	s.starts_at = T0;
	s.ends_at = T0 + MIN;
	s.created_by = (char *)(uintptr_t) "a";
	assert_int_equal(store_silence_create(st, T0, &s, &id1, &E), STORE_ERROR);
	s.step = (char *)(uintptr_t) "kyc";
	s.ends_at = T0;
	assert_int_equal(store_silence_create(st, T0, &s, &id1, &E), STORE_ERROR);
}

static void test_incident_ack_resolve(void **state)
{
	FX();
	int64_t a1 = open_alert(st, "1", "u1", "k", "E", TIME_NULL);
	int64_t a2 = open_alert(st, "2", "u2", "k", "E", TIME_NULL);
	int64_t a3 = open_alert(st, "3", "u3", "k", "E", TIME_NULL);
	struct alert a;
	struct alert_event *h = NULL;
	struct incident inc;
	size_t nh = 0, k = 0;
	OK(store_alert_get(st, a1, &a, NULL, NULL, &E));
	int64_t iid = a.incident_id;
	alert_release(&a);
	OK(store_alert_ack(st, a2, T0 + MIN, "bob", NULL, &E));
	OK(store_incident_ack(st, iid, T0 + 2 * MIN, "rob", "on it", &k, &E));
	assert_int_equal(k, 2); /* a2 was acked already */
	OK(store_incident_get(st, iid, &inc, &E));
	assert_string_equal(inc.acked_by, "rob");
	assert_int_equal(inc.acked_at, T0 + 2 * MIN);
	incident_release(&inc);
	OK(store_alert_get(st, a2, &a, NULL, NULL, &E));
	assert_string_equal(a.acked_by, "bob");
	alert_release(&a);
	assert_int_equal(store_incident_ack(st, iid, T0, "rob", NULL, &k, &E), STORE_ECONFLICT);
	assert_int_equal(store_incident_ack(st, 999, T0, "rob", NULL, &k, &E), STORE_ENOTFOUND);

	/* resolve one by hand first; the incident resolves the other two */
	{
		struct alert_change c = {.alert_id = a3,
		                         .from = ALERT_INITIATED,
		                         .to = ALERT_RESOLVED,
		                         .event = "resolved",
		                         .actor = "user:x",
		                         .next_escalation_at = TIME_NULL,
		                         .resolved_by = "user:x"};
		OK(store_alerts_change(st, T0 + 3 * MIN, &c, 1, NULL, &E));
	}
	OK(store_incident_resolve(st, iid, T0 + 4 * MIN, "user:rob", "fixed", &k, &E));
	assert_int_equal(k, 2);
	OK(store_incident_get(st, iid, &inc, &E));
	assert_false(inc.open);
	assert_int_equal(inc.open_alerts, 0);
	assert_int_equal(inc.resolved_at, T0 + 4 * MIN);
	incident_release(&inc);
	OK(store_alert_get(st, a1, &a, &h, &nh, &E));
	assert_int_equal(a.state, ALERT_RESOLVED);
	assert_string_equal(a.resolved_by, "incident");
	assert_string_equal(h[nh - 1].actor, "user:rob");
	assert_string_equal(h[nh - 1].reason, "fixed");
	alert_release(&a);
	alert_events_free(h, nh);
	OK(store_alert_get(st, a3, &a, NULL, NULL, &E));
	assert_string_equal(a.resolved_by, "user:x");
	alert_release(&a);
	/* again: conflict, no new history */
	assert_int_equal(store_incident_resolve(st, iid, T0, "user:rob", NULL, &k, &E),
	                 STORE_ECONFLICT);
	assert_int_equal(store_incident_ack(st, iid, T0, "rob", NULL, &k, &E), STORE_ECONFLICT);
	assert_int_equal(store_incident_resolve(st, 999, T0, "user:rob", NULL, &k, &E),
	                 STORE_ENOTFOUND);
	OK(store_alert_get(st, a1, &a, &h, &nh, &E));
	assert_int_equal(nh, 3); /* opened, acked, resolved */
	alert_release(&a);
	alert_events_free(h, nh);
}

static void test_users_and_known(void **state)
{
	FX();
	struct step_record r[3] = {
	    {.instance_id = "i1",
	     .user_id = "u'1",
	     .step = "kyc",
	     .status = STEP_SUCCESS,
	     .started_at = T0,
	     .finished_at = T0,
	     .updated_at = T0},
	    {.instance_id = "i2",
	     .user_id = "u'1",
	     .step = "kyc",
	     .status = STEP_FAILED,
	     .started_at = T0,
	     .finished_at = TIME_NULL,
	     .updated_at = T0 + MIN},
	    {.instance_id = "i3",
	     .user_id = "other",
	     .step = "kyc",
	     .status = STEP_SUCCESS,
	     .started_at = T0,
	     .finished_at = TIME_NULL,
	     .updated_at = T0},
	};
	struct instance_info *v = NULL;
	size_t n = 0;
	bool cur[3] = {false, false, false};
	OK(store_steps_ingest(st, "loan", 3, r, 2, cur, &E));
	assert_true(cur[0] && cur[1]);
	/* read again, the first two change nothing; the third is new */
	OK(store_steps_ingest(st, "loan", 3, r, 3, cur, &E));
	assert_false(cur[0] || cur[1]);
	assert_true(cur[2]);
	OK(store_user_instances(st, "u'1", 10, &v, &n, &E));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].instance_id, "i2"); /* most recent progress first */
	assert_string_equal(v[1].instance_id, "i1");
	instance_infos_free(v, n);
	OK(store_user_instances(st, "%", 10, &v, &n, &E));
	assert_int_equal(n, 0);
	instance_infos_free(v, n);
	/* the same records of another workflow are its own */
	OK(store_steps_ingest(st, "other_wf", 3, r, 3, cur, &E));
	assert_true(cur[0] && cur[1] && cur[2]);
}

/* The validator does not escalate alerts matched by an active pause_escalation silence. */
static void test_validator_pause(void **state)
{
	FX();
	struct sw_config *cfg = NULL;
	struct strbuf y = STRBUF_INIT, errs = STRBUF_INIT;
	struct task_env env = {0};
	struct task *t;
	struct silence s = {0};
	struct alert a;
	int64_t sid, paused = open_alert(st, "p", "u", "k1", "DOWN", T0 + 15 * MIN);
	int64_t other = open_alert(st, "q", "u", "k2", "OTHER", T0 + 15 * MIN);
	strbuf_addf(&y, "store: \"%s\"\nworkflows:\n  loan:\n    steps: [kyc, bureau_pull]\n",
	            f->url);
	if (config_load_buffer("t.yaml", y.buf, y.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	env.cfg = cfg;
	env.health = health_new();
	t = task_new(TASK_VALIDATE, &env, NULL);
	s.workflow = (char *)(uintptr_t) "loan";
	s.error = (char *)(uintptr_t) "DOWN";
	s.starts_at = T0;
	s.ends_at = T0 + 40 * MIN;
	s.pause_escalation = true;
	s.created_by = (char *)(uintptr_t) "alice";
	OK(store_silence_create(st, T0, &s, &sid, &E));

	assert_int_equal(task_run(t, T0 + 20 * MIN), 0);
	OK(store_alert_get(st, paused, &a, NULL, NULL, &E));
	assert_int_equal(a.state, ALERT_INITIATED);
	assert_int_equal(a.next_escalation_at, T0 + 21 * MIN); /* at most a minute ahead */
	alert_release(&a);
	OK(store_alert_get(st, other, &a, NULL, NULL, &E));
	assert_int_equal(a.state, ALERT_P2);
	alert_release(&a);
	/* near the silence's end: re-armed to its end */
	assert_int_equal(task_run(t, T0 + 39 * MIN + 30000), 0);
	OK(store_alert_get(st, paused, &a, NULL, NULL, &E));
	assert_int_equal(a.state, ALERT_INITIATED);
	assert_int_equal(a.next_escalation_at, T0 + 40 * MIN);
	alert_release(&a);
	/* once the silence ends, escalation resumes by itself */
	assert_int_equal(task_run(t, T0 + 40 * MIN), 0);
	OK(store_alert_get(st, paused, &a, NULL, NULL, &E));
	assert_int_equal(a.state, ALERT_P2);
	alert_release(&a);

	task_free(t);
	health_free(env.health);
	config_free(cfg);
	strbuf_release(&y);
	strbuf_release(&errs);
}

#define TESTS(setup)                                                                     \
	cmocka_unit_test_setup_teardown(test_silences, setup, teardown),                 \
	    cmocka_unit_test_setup_teardown(test_incident_ack_resolve, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_users_and_known, setup, teardown),      \
	    cmocka_unit_test_setup_teardown(test_validator_pause, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed = cmocka_run_group_tests_name("store_api/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("store_api/postgres", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
