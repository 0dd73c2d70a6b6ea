/*
 * test_store_recovery.c - self-recovery in the store (store_recovery.c, migration 0006) and
 * the recover task end to end against a local HTTP receiver (tests/tools/recv_http.py),
 * with time driven by hand: attempts retried with backoff, stopped at max_attempts, stopped
 * when the alert closes, stopped by a refusal; each attempt one "recovery_attempt" history
 * row; the Idempotency-Key stable per alert and attempt. Runs on SQLite and PostgreSQL.
 */
#include "helpers.h"
#include "storetest.h"
#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "store/store_alerts.h"
#include "store/store_recovery.h"
#include "tasks/tasks.h"

#define setup_sqlite storetest_setup_sqlite
#define setup_pg     storetest_setup_pg

#define T0  1763719025000LL
#define MIN 60000LL

static int64_t open_alert(struct store *st, const char *step, const char *iid, const char *key)
{
	struct alert_new a = {.rule = "failed",
	                      .workflow = "loan",
	                      .step = step,
	                      .step_index = 1,
	                      .instance_id = iid,
	                      .user_id = "u1",
	                      .error = "DOWN",
	                      .group_key = key,
	                      .occurred_at = T0,
	                      .next_escalation_at = T0 + 15 * MIN};
	struct alert_opened o;
	OK(store_alerts_open(st, T0, &a, 1, &o, &E));
	return o.alert_id;
}

static size_t count_events(struct store *st, int64_t id, const char *event)
{
	struct alert a;
	struct alert_event *h = NULL;
	size_t n = 0, k = 0;
	OK(store_alert_get(st, id, &a, &h, &n, &E));
	for (size_t i = 0; i < n; i++)
		k += !strcmp(h[i].event, event);
	alert_release(&a);
	alert_events_free(h, n);
	return k;
}

static void test_recovery_store(void **state)
{
	FX();
	int64_t id = open_alert(st, "kyc", "i1", "k1"), next;
	struct recovery_row *v = NULL;
	size_t n = 0;
	bool applied, open, pending;
	int attempts;
	struct alert a;

	OK(store_recovery_due(st, "loan", "kyc", 3, T0, 0, 10, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].alert_id, id);
	assert_int_equal(v[0].attempts, 0);
	assert_int_equal(v[0].next_at, TIME_NULL);
	assert_string_equal(v[0].instance_id, "i1");
	assert_string_equal(v[0].error, "DOWN");
	recovery_rows_free(v, n);
	OK(store_recovery_due(st, "loan", "bureau_pull", 3, T0, 0, 10, &v, &n, &E));
	assert_int_equal(n, 0);
	recovery_rows_free(v, n);

	OK(store_incident_recovery_pending(st, 1, 3, T0, &pending, &E));
	assert_true(pending);

	OK(store_recovery_record(st, id, 1, 1, T0 + MIN, T0, "attempt 1/3: failed", &applied, &E));
	assert_true(applied);
	/* the same attempt again (a replayed run): nothing written */
	OK(store_recovery_record(st, id, 1, 1, T0 + MIN, T0, "attempt 1/3: failed", &applied, &E));
	assert_false(applied);
	assert_int_equal(count_events(st, id, "recovery_attempt"), 1);
	assert_int_equal(store_recovery_record(st, 999999, 1, 1, T0, T0, "x", &applied, &E),
	                 STORE_ENOTFOUND);

	/* not due before next_recovery_at, due at it */
	OK(store_recovery_due(st, "loan", "kyc", 3, T0 + MIN - 1, 0, 10, &v, &n, &E));
	assert_int_equal(n, 0);
	recovery_rows_free(v, n);
	OK(store_recovery_due(st, "loan", "kyc", 3, T0 + MIN, 0, 10, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].attempts, 1);
	assert_int_equal(v[0].next_at, T0 + MIN);
	recovery_rows_free(v, n);
	OK(store_recovery_get(st, id, &open, &attempts, &next, &E));
	assert_true(open);
	assert_int_equal(attempts, 1);
	assert_int_equal(next, T0 + MIN);

	/* the last attempt: not due any more, still pending until next_recovery_at */
	OK(store_recovery_record(st, id, 2, 3, T0 + 5 * MIN, T0 + MIN, "attempt 2/3: refused",
	                         &applied, &E));
	OK(store_recovery_due(st, "loan", "kyc", 3, T0 + 100 * MIN, 0, 10, &v, &n, &E));
	assert_int_equal(n, 0);
	recovery_rows_free(v, n);
	OK(store_alert_get(st, id, &a, NULL, NULL, &E));
	OK(store_incident_recovery_pending(st, a.incident_id, 3, T0 + 5 * MIN - 1, &pending, &E));
	assert_true(pending);
	OK(store_incident_recovery_pending(st, a.incident_id, 3, T0 + 5 * MIN, &pending, &E));
	assert_false(pending);
	alert_release(&a);
}

/* ---- the task against a local receiver ----------------------------------------------- */

static pid_t srv_pid;
static int srv_port;
static char *srv_dir, *srv_log;

static int start_receiver(void)
{
	const char *src = getenv("SW_SOURCE_DIR");
	char *path = xasprintf("%s/tests/tools/recv_http.py", src ? src : ".");
	char *portfile;
	int64_t deadline = time_mono_ms() + 30000;
	int rc = -1;

	srv_dir = test_tmpdir();
	portfile = xasprintf("%s/port", srv_dir);
	srv_log = xasprintf("%s/requests.log", srv_dir);
	srv_pid = fork();
	if (srv_pid == 0) {
		execlp("python3", "python3", path, portfile, srv_log, (char *)NULL);
		_exit(127);
	}
	while (rc && time_mono_ms() < deadline) {
		FILE *fp = fopen(portfile, "r");
		if (fp) {
			rc = fscanf(fp, "%d", &srv_port) == 1 ? 0 : -1;
			fclose(fp);
		}
		if (rc)
			usleep(50 * 1000);
	}
	free(path);
	free(portfile);
	return rc;
}

static void stop_receiver(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
	}
	srv_pid = 0;
	if (srv_dir)
		test_rmtree(srv_dir);
	free(srv_dir);
	free(srv_log);
	srv_dir = srv_log = NULL;
}

/* Requests the receiver logged to path: their Idempotency-Keys, in order, "," joined. */
static char *keys_to(const char *path, json_t **last_body)
{
	FILE *fp = fopen(srv_log, "r");
	char line[1 << 14];
	struct strbuf sb = STRBUF_INIT;

	assert_non_null(fp);
	if (last_body)
		*last_body = NULL;
	while (fgets(line, sizeof(line), fp)) {
		json_t *j = json_loads(line, 0, NULL);
		if (j && !strcmp(json_string_value(json_object_get(j, "path")), path)) {
			json_t *h = json_object_get(j, "headers");
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "",
			            json_string_value(json_object_get(h, "idempotency-key")));
			if (last_body) {
				json_decref(*last_body);
				*last_body = json_loads(
				    json_string_value(json_object_get(j, "body")), 0, NULL);
			}
		}
		json_decref(j);
	}
	fclose(fp);
	return strbuf_detach(&sb, NULL);
}

static void test_recovery_task(void **state)
{
	FX();
	struct sw_config *cfg = NULL;
	struct strbuf y = STRBUF_INIT, errs = STRBUF_INIT;
	struct task_env env = {0};
	struct task *t = NULL, **all;
	size_t nall;
	bool found = false;
	int64_t down, ok, refused;
	char *k, *want;
	json_t *body;
	bool applied;

	if (start_receiver())
		fail_msg("cannot start tests/tools/recv_http.py");
	strbuf_addf(&y,
	            "store: \"%s\"\n"
	            "workflows:\n"
	            "  loan:\n"
	            "    steps: [kyc, bureau_pull, esign, payout]\n"
	            "    step_overrides:\n"
	            "      kyc:\n"
	            "        recover: { webhook: { url: \"http://127.0.0.1:%d/status/503\" },"
	            " max_attempts: 3, backoff: 1m }\n"
	            "      bureau_pull:\n"
	            "        recover: { webhook: { url: \"http://127.0.0.1:%d/ok\" },"
	            " max_attempts: 3, backoff: 1m }\n"
	            "        notify_after_recovery: true\n"
	            "      esign:\n"
	            "        recover: { webhook: { url: \"http://127.0.0.1:%d/status/404\" },"
	            " max_attempts: 3, backoff: 1m }\n",
	            f->url, srv_port, srv_port, srv_port);
	if (config_load_buffer("t.yaml", y.buf, y.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	assert_true(cfg->workflows[0].steps[1].policy.notify_after_recovery);
	assert_false(cfg->workflows[0].steps[0].policy.notify_after_recovery);
	env.cfg = cfg;
	env.health = health_new();
	all = tasks_for_config(&env, &nall);
	for (size_t i = 0; i < nall; i++) {
		if (!strcmp(task_name(all[i]), "recover")) {
			t = all[i];
			found = true;
		} else {
			task_free(all[i]);
		}
	}
	free(all);
	assert_true(found);

	down = open_alert(st, "kyc", "i1", "k1");
	ok = open_alert(st, "bureau_pull", "i2", "k2");
	refused = open_alert(st, "esign", "i3", "k3");
	open_alert(st, "payout", "i4", "k4"); /* no recover: never called */

	/* T0: the first attempt of each */
	assert_int_equal(task_run(t, T0), 0);
	assert_int_equal(count_events(st, down, "recovery_attempt"), 1);
	assert_int_equal(count_events(st, ok, "recovery_attempt"), 1);
	assert_int_equal(count_events(st, refused, "recovery_attempt"), 1);
	/* the call succeeded, yet the alert stays open: only the resolver closes it */
	{
		struct alert a;
		OK(store_alert_get(st, ok, &a, NULL, NULL, &E));
		assert_true(a.state < ALERT_RESOLVED);
		alert_release(&a);
	}
	k = keys_to("/ok", &body);
	want = xasprintf("stepwatch-recovery-%" PRId64 "-1", ok);
	assert_string_equal(k, want);
	assert_string_equal(json_string_value(json_object_get(body, "instance_id")), "i2");
	assert_string_equal(json_string_value(json_object_get(body, "user_id")), "u1");
	assert_string_equal(json_string_value(json_object_get(body, "workflow")), "loan");
	assert_string_equal(json_string_value(json_object_get(body, "step")), "bureau_pull");
	assert_int_equal(json_integer_value(json_object_get(body, "alert_id")), ok);
	assert_int_equal(json_integer_value(json_object_get(body, "attempt")), 1);
	json_decref(body);
	free(k);
	free(want);

	/* the bureau_pull alert resolves: no more attempts for it */
	{
		struct alert_change ch = {.alert_id = ok,
		                          .from = ALERT_INITIATED,
		                          .to = ALERT_RESOLVED,
		                          .event = "resolved",
		                          .actor = "resolver",
		                          .next_escalation_at = TIME_NULL,
		                          .resolved_by = "resolver"};
		OK(store_alerts_change(st, T0 + 10000, &ch, 1, &applied, &E));
		assert_true(applied);
	}
	/* half a backoff later: nothing is due */
	assert_int_equal(task_run(t, T0 + 30000), 0);
	assert_int_equal(count_events(st, down, "recovery_attempt"), 1);
	/* backoff 1m, then 2m: attempts 2 and 3 */
	assert_int_equal(task_run(t, T0 + MIN + 5000), 0);
	assert_int_equal(count_events(st, down, "recovery_attempt"), 2);
	assert_int_equal(task_run(t, T0 + 2 * MIN + 5000), 0); /* 2m after attempt 2: not yet */
	assert_int_equal(count_events(st, down, "recovery_attempt"), 2);
	assert_int_equal(task_run(t, T0 + 3 * MIN + 10000), 0);
	assert_int_equal(count_events(st, down, "recovery_attempt"), 3);
	/* max_attempts reached; closed; refused: nothing more, however long we wait */
	assert_int_equal(task_run(t, T0 + 600 * MIN), 0);
	assert_int_equal(count_events(st, down, "recovery_attempt"), 3);
	assert_int_equal(count_events(st, ok, "recovery_attempt"), 1);
	assert_int_equal(count_events(st, refused, "recovery_attempt"), 1);

	k = keys_to("/status/503", NULL);
	want = xasprintf("stepwatch-recovery-%" PRId64 "-1,stepwatch-recovery-%" PRId64
	                 "-2,stepwatch-recovery-%" PRId64 "-3",
	                 down, down, down);
	assert_string_equal(k, want);
	free(k);
	free(want);
	k = keys_to("/ok", NULL);
	assert_null(strchr(k, ',')); /* one call */
	free(k);
	k = keys_to("/status/404", NULL);
	assert_null(strchr(k, ','));
	free(k);

	/* the history says what happened */
	{
		struct alert a;
		struct alert_event *h = NULL;
		size_t n = 0;
		const char *last = NULL;
		OK(store_alert_get(st, down, &a, &h, &n, &E));
		for (size_t i = 0; i < n; i++)
			if (!strcmp(h[i].event, "recovery_attempt")) {
				assert_string_equal(h[i].actor, "recovery");
				last = h[i].reason;
				if (!strncmp(last, "attempt 1/3", 11))
					assert_non_null(strstr(last, "failed (HTTP 503"));
			}
		assert_non_null(last);
		assert_non_null(strstr(last, "attempt 3/3"));
		assert_non_null(strstr(last, "no more attempts"));
		alert_release(&a);
		alert_events_free(h, n);
	}

	task_free(t);
	health_free(env.health);
	config_free(cfg);
	strbuf_release(&y);
	strbuf_release(&errs);
	stop_receiver();
}

/* An endpoint that hangs, or drips its answer, costs one timeout per run, not one per alert;
 * the other alerts stay due. */
static void unreachable_case(struct fx *f, struct store *st, const char *path)
{
	struct sw_config *cfg = NULL;
	struct strbuf y = STRBUF_INIT, errs = STRBUF_INIT;
	struct task_env env = {0};
	struct task *t;
	int64_t ids[3], t0, ms;
	size_t total = 0;
	char *k;

	if (start_receiver())
		fail_msg("cannot start tests/tools/recv_http.py");
	strbuf_addf(&y,
	            "store: \"%s\"\n"
	            "workflows:\n"
	            "  loan:\n"
	            "    steps: [kyc, bureau_pull]\n"
	            "    step_overrides:\n"
	            "      kyc:\n"
	            "        recover: { webhook: { url: \"http://127.0.0.1:%d%s\" } }\n",
	            f->url, srv_port, path);
	if (config_load_buffer("t.yaml", y.buf, y.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	env.cfg = cfg;
	env.health = health_new();
	t = task_new(TASK_RECOVER, &env, NULL);
	ids[0] = open_alert(st, "kyc", "h1", "k1");
	ids[1] = open_alert(st, "kyc", "h2", "k1");
	ids[2] = open_alert(st, "kyc", "h3", "k1");
	t0 = time_mono_ms();
	assert_int_equal(task_run(t, T0), 0);
	ms = time_mono_ms() - t0;
	if (ms < 4500 || ms > 12000) /* one 5 s timeout, not three */
		fail_msg("a run against %s took %" PRId64 " ms", path, ms);
	for (int i = 0; i < 3; i++)
		total += count_events(st, ids[i], "recovery_attempt");
	assert_int_equal(total, 1);
	assert_int_equal(count_events(st, ids[0], "recovery_attempt"), 1);
	k = keys_to(path, NULL);
	assert_null(strchr(k, ',')); /* one call */
	free(k);
	{
		struct alert a;
		struct alert_event *h = NULL;
		size_t n = 0;
		OK(store_alert_get(st, ids[0], &a, &h, &n, &E));
		assert_non_null(
		    strstr(h[n - 1].reason, "attempt 1/3: failed (timed out after 5000 ms"));
		alert_release(&a);
		alert_events_free(h, n);
	}
	task_free(t);
	health_free(env.health);
	config_free(cfg);
	strbuf_release(&y);
	strbuf_release(&errs);
	stop_receiver();
}

static void test_recovery_unreachable(void **state)
{
	FX();
	unreachable_case(f, st, "/hang");
}

static void test_recovery_dripping(void **state)
{
	FX();
	unreachable_case(f, st, "/drip");
}

/* The fixture's teardown, after stopping a receiver a failed test left running. */
static int teardown(void **state)
{
	stop_receiver();
	return storetest_teardown(state);
}

#define TESTS(setup)                                                                     \
	cmocka_unit_test_setup_teardown(test_recovery_store, setup, teardown),           \
	    cmocka_unit_test_setup_teardown(test_recovery_task, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(test_recovery_unreachable, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_recovery_dripping, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed = cmocka_run_group_tests_name("store_recovery/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("store_recovery/postgres", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
