/*
 * test_store_notify.c - conformance of the notification store (store_notify.c) and the
 * planner task on it (tasks/notifier.c), driven by time passed in: the candidates and their
 * notification state, the outbox's unique key, claims as leases (a crashed sender's message
 * comes due again), retries, give-up, "notified" history rows, the list and the counts; the
 * planner's messages per level with group_wait, a silence and a resolution. Run unchanged
 * against SQLite and PostgreSQL.
 */
#include "helpers.h"
#include "storetest.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "store/store_alerts.h"
#include "store/store_silences.h"
#include "store/store_recovery.h"
#include "store/store_notify.h"
#include "tasks/tasks.h"

#define teardown     storetest_teardown
#define setup_sqlite storetest_setup_sqlite
#define setup_pg     storetest_setup_pg

#define T0  1763719025000LL
#define SEC 1000LL
#define MIN 60000LL

static int64_t open_alert(struct store *st, const char *iid, const char *user, const char *key,
                          int64_t *incident)
{
	struct alert_new a = {.rule = "failed",
	                      .workflow = "loan",
	                      .step = "bureau_pull",
	                      .step_index = 1,
	                      .instance_id = iid,
	                      .user_id = user,
	                      .error = "DOWN",
	                      .group_key = key,
	                      .incident_labels_json = "{\"error\":\"DOWN\"}",
	                      .occurred_at = T0,
	                      .next_escalation_at = T0 + 15 * MIN};
	struct alert_opened o;
	OK(store_alerts_open(st, T0, &a, 1, &o, &E));
	if (incident)
		*incident = o.incident_id;
	return o.alert_id;
}

static void escalate(struct store *st, int64_t id, enum alert_state from, enum alert_state to,
                     int64_t now)
{
	struct alert_change c = {id, from, to, "escalated", "validator", NULL, TIME_NULL, NULL};
	OK(store_alerts_change(st, now, &c, 1, NULL, &E));
}

static size_t notified_rows(struct store *st, int64_t alert_id)
{
	struct alert a;
	struct alert_event *h = NULL;
	size_t nh = 0, k = 0;
	OK(store_alert_get(st, alert_id, &a, &h, &nh, &E));
	for (size_t i = 0; i < nh; i++)
		k += !strcmp(h[i].event, "notified");
	alert_release(&a);
	alert_events_free(h, nh);
	return k;
}

static void test_state_and_candidates(void **state)
{
	FX();
	struct notify_row *v = NULL;
	struct notify_sent s;
	size_t n = 0;
	int64_t inc1, inc2, a2;
	open_alert(st, "i1", "u1", "k1", &inc1);
	a2 = open_alert(st, "i2", "u2", "k2", &inc2);
	OK(store_notify_candidates(st, 0, 100, &v, &n, &E));
	assert_int_equal(n, 2);
	assert_int_equal(v[0].inc.id, inc1);
	assert_int_equal(v[0].sent.seq, 0);
	assert_int_equal(v[0].sent.last_at, TIME_NULL);
	notify_rows_free(v, n);
	/* paging by id */
	OK(store_notify_candidates(st, inc1, 100, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].inc.id, inc2);
	notify_rows_free(v, n);

	notify_sent_init(&s);
	s.seq = 3;
	s.level = ALERT_P1;
	s.users = 42;
	s.last_at = T0 + 5;
	s.acked = true;
	OK(store_notify_state_put(st, inc2, &s, T0, &E));
	s.muted = true; /* replaced, not added */
	OK(store_notify_state_put(st, inc2, &s, T0 + 1, &E));
	/* inc2 resolves: still a candidate while its state is not done */
	{
		struct alert_change c = {a2,         ALERT_INITIATED, ALERT_RESOLVED,
		                         "resolved", "resolver",      NULL,
		                         TIME_NULL,  "resolver"};
		OK(store_alerts_change(st, T0 + 2, &c, 1, NULL, &E));
	}
	OK(store_notify_candidates(st, inc1, 100, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_false(v[0].inc.open);
	assert_int_equal(v[0].sent.seq, 3);
	assert_int_equal(v[0].sent.level, ALERT_P1);
	assert_int_equal(v[0].sent.users, 42);
	assert_int_equal(v[0].sent.last_at, T0 + 5);
	assert_true(v[0].sent.acked);
	assert_true(v[0].sent.muted);
	assert_false(v[0].sent.done);
	notify_rows_free(v, n);
	s.done = true;
	OK(store_notify_state_put(st, inc2, &s, T0 + 3, &E));
	OK(store_notify_candidates(st, 0, 100, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].inc.id, inc1);
	notify_rows_free(v, n);
}

/*
 * One incident's messages reach a receiver in order: a later message (a resolution planned
 * while the receiver was down) is not claimed while an earlier one of the same incident is
 * still pending (in its retry backoff, or leased), so a receiver never hears "resolved"
 * before "opened". Other incidents are not held up, and a failed message holds up nothing.
 */
static void test_outbox_claim_in_incident_order(void **state)
{
	FX();
	int64_t inc1, inc2;
	struct outbox_row r;
	bool got;
	open_alert(st, "i1", "u1", "k1", &inc1);
	open_alert(st, "i2", "u2", "k2", &inc2);
	{
		struct outbox_new o[] = {{"sw-1-1-a", "a", inc1, "opened", "{}", T0}};
		OK(store_outbox_add(st, T0, o, 1, NULL, &E));
	}
	/* the receiver is down: the first message backs off for 40 s */
	OK(store_outbox_claim(st, "a", T0, 15 * SEC, &r, &got, &E));
	assert_true(got);
	OK(store_outbox_done(st, r.id, T0 + 1, OUTBOX_RETRY, T0 + 40 * SEC, 0, "refused", NULL,
	                     &E));
	outbox_row_release(&r);
	{
		struct outbox_new o[] = {{"sw-1-2-a", "a", inc1, "resolved", "{}", T0 + 10 * SEC},
		                         {"sw-2-1-a", "a", inc2, "opened", "{}", T0 + 10 * SEC}};
		OK(store_outbox_add(st, T0 + 10 * SEC, o, 2, NULL, &E));
	}
	/* due: the resolution of incident 1 and incident 2's message; only the latter goes */
	OK(store_outbox_claim(st, "a", T0 + 11 * SEC, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_string_equal(r.idem_key, "sw-2-1-a");
	OK(store_outbox_done(st, r.id, T0 + 11 * SEC, OUTBOX_SENT, r.next_attempt_at, 200, NULL,
	                     "sent", &E));
	outbox_row_release(&r);
	OK(store_outbox_claim(st, "a", T0 + 12 * SEC, 15 * SEC, &r, &got, &E));
	assert_false(got);
	/* the first message's retry comes due: it goes first; while it is leased, the
	   resolution still waits */
	OK(store_outbox_claim(st, "a", T0 + 40 * SEC, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_string_equal(r.idem_key, "sw-1-1-a");
	{
		struct outbox_row r2;
		OK(store_outbox_claim(st, "a", T0 + 41 * SEC, 15 * SEC, &r2, &got, &E));
		assert_false(got);
	}
	OK(store_outbox_done(st, r.id, T0 + 41 * SEC, OUTBOX_SENT, r.next_attempt_at, 200, NULL,
	                     "sent", &E));
	outbox_row_release(&r);
	OK(store_outbox_claim(st, "a", T0 + 41 * SEC, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_string_equal(r.idem_key, "sw-1-2-a");
	/* given up on: it holds up nothing after it */
	OK(store_outbox_done(st, r.id, T0 + 42 * SEC, OUTBOX_FAILED, r.next_attempt_at, 400,
	                     "HTTP 400", NULL, &E));
	outbox_row_release(&r);
	{
		struct outbox_new o[] = {{"sw-1-3-a", "a", inc1, "updated", "{}", T0 + 50 * SEC}};
		OK(store_outbox_add(st, T0 + 50 * SEC, o, 1, NULL, &E));
	}
	OK(store_outbox_claim(st, "a", T0 + 50 * SEC, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_string_equal(r.idem_key, "sw-1-3-a");
	outbox_row_release(&r);
}

static void test_outbox_claim_retry_sent(void **state)
{
	FX();
	int64_t inc, a1 = open_alert(st, "i1", "u1", "k1", &inc);
	int64_t a3;
	struct outbox_new o[3] = {
	    {"sw-1-1-a", "a", inc, "opened", "{\"n\":1}", T0},
	    {"sw-1-1-b", "b", inc, "opened", "{\"n\":2}", T0},
	    {"sw-1-1-a", "a", inc, "opened", "{\"n\":3}", T0}, /* the same key again */
	};
	struct outbox_row r, *v = NULL;
	struct outbox_count *c = NULL;
	struct outbox_filter flt = {.limit = 10};
	size_t added = 0, n = 0;
	bool got;
	open_alert(st, "i2", "u2", "k1", NULL);
	a3 = open_alert(st, "i3", "u3", "k1", NULL);
	{
		struct alert_change ch = {a3,         ALERT_INITIATED, ALERT_RESOLVED,
		                          "resolved", "resolver",      NULL,
		                          TIME_NULL,  "resolver"};
		OK(store_alerts_change(st, T0, &ch, 1, NULL, &E));
	}
	OK(store_outbox_add(st, T0, o, 3, &added, &E));
	assert_int_equal(added, 2);
	OK(store_outbox_add(st, T0, o, 1, &added, &E));
	assert_int_equal(added, 0);

	/* a claim is a lease: nobody else gets it until it runs out */
	OK(store_outbox_claim(st, "a", T0, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_string_equal(r.idem_key, "sw-1-1-a");
	assert_string_equal(r.payload, "{\"n\":1}");
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.next_attempt_at, T0 + 15 * SEC);
	outbox_row_release(&r);
	OK(store_outbox_claim(st, "a", T0 + 1, 15 * SEC, &r, &got, &E));
	assert_false(got);
	/* the sender died: after the lease it is due again, with the same key */
	OK(store_outbox_claim(st, "a", T0 + 15 * SEC, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_string_equal(r.idem_key, "sw-1-1-a");
	assert_int_equal(r.attempts, 2);
	OK(store_outbox_done(st, r.id, T0 + 16 * SEC, OUTBOX_SENT, r.next_attempt_at, 200, NULL,
	                     "sent 'opened' to a", &E));
	/* recording twice changes nothing */
	OK(store_outbox_done(st, r.id, T0 + 17 * SEC, OUTBOX_SENT, r.next_attempt_at, 200, NULL,
	                     "sent 'opened' to a", &E));
	outbox_row_release(&r);
	assert_int_equal(notified_rows(st, a1), 1);
	assert_int_equal(notified_rows(st, a3), 0); /* closed before: not told */
	OK(store_outbox_claim(st, "a", T0 + 60 * SEC, 15 * SEC, &r, &got, &E));
	assert_false(got);

	/* b: a retry at a time, then given up */
	OK(store_outbox_claim(st, "b", T0, 15 * SEC, &r, &got, &E));
	assert_true(got);
	OK(store_outbox_done(st, r.id, T0 + 1 * SEC, OUTBOX_RETRY, T0 + 6 * SEC, 503, "HTTP 503",
	                     NULL, &E));
	outbox_row_release(&r);
	OK(store_outbox_claim(st, "b", T0 + 6 * SEC - 1, 15 * SEC, &r, &got, &E));
	assert_false(got);
	OK(store_outbox_claim(st, "b", T0 + 6 * SEC, 15 * SEC, &r, &got, &E));
	assert_true(got);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.last_status, 503);
	assert_string_equal(r.last_error, "HTTP 503");
	OK(store_outbox_done(st, r.id, T0 + 7 * SEC, OUTBOX_FAILED, r.next_attempt_at, 400,
	                     "HTTP 400: bad", NULL, &E));
	outbox_row_release(&r);
	OK(store_outbox_claim(st, "b", T0 + 600 * SEC, 15 * SEC, &r, &got, &E));
	assert_false(got);

	OK(store_outbox_list(st, &flt, &v, &n, &E));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].receiver, "b"); /* newest first */
	assert_string_equal(v[0].status, "failed");
	assert_string_equal(v[0].last_error, "HTTP 400: bad");
	assert_int_equal(v[0].last_status, 400);
	assert_int_equal(v[0].attempts, 2);
	assert_string_equal(v[1].status, "sent");
	assert_int_equal(v[1].delivered_at, T0 + 16 * SEC);
	outbox_rows_free(v, n);
	flt.receiver = "a";
	flt.status = "sent";
	flt.incident_id = inc;
	OK(store_outbox_list(st, &flt, &v, &n, &E));
	assert_int_equal(n, 1);
	outbox_rows_free(v, n);
	flt.status = "failed";
	OK(store_outbox_list(st, &flt, &v, &n, &E));
	assert_int_equal(n, 0);
	outbox_rows_free(v, n);

	OK(store_outbox_counts(st, &c, &n, &E));
	assert_int_equal(n, 2);
	assert_string_equal(c[0].receiver, "a");
	assert_int_equal(c[0].sent, 1);
	assert_int_equal(c[1].failed, 1);
	assert_int_equal(c[1].pending, 0);
	outbox_counts_free(c, n);
}

/* Outbox rows of receiver, oldest first, as "event" strings joined by ','. */
static void events_of(struct store *st, const char *receiver, struct strbuf *out)
{
	struct outbox_filter flt = {.receiver = receiver, .limit = 100};
	struct outbox_row *v = NULL;
	size_t n = 0;
	strbuf_reset(out);
	OK(store_outbox_list(st, &flt, &v, &n, &E));
	for (size_t i = n; i-- > 0;)
		strbuf_addf(out, "%s%s", out->len ? "," : "", v[i].event);
	outbox_rows_free(v, n);
}

static void test_planner(void **state)
{
	FX();
	struct sw_config *cfg = NULL;
	struct strbuf y = STRBUF_INIT, errs = STRBUF_INIT, ev = STRBUF_INIT;
	struct task_env env = {0};
	struct task *t;
	struct silence s = {0};
	int64_t inc, sid, a1 = open_alert(st, "i1", "u1", "k1", &inc);
	int64_t a2 = open_alert(st, "i2", "u2", "k1", NULL);

	strbuf_addf(&y,
	            "store: \"%s\"\nworkflows:\n  loan:\n    steps: [kyc, bureau_pull]\n"
	            "levels:\n  P2: { notify: [sup] }\n  P1: { notify: [tech, sup] }\n"
	            "receivers:\n  sup: { webhook: { url: \"http://127.0.0.1:9/a\" } }\n"
	            "  tech: { webhook: { url: \"http://127.0.0.1:9/b\" } }\n"
	            "notify: { group_wait: 30s, group_interval: 5m, repeat_interval: 4h }\n",
	            f->url);
	if (config_load_buffer("t.yaml", y.buf, y.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	env.cfg = cfg;
	env.health = health_new();
	t = task_new(TASK_NOTIFY, &env, NULL);
	assert_string_equal(task_name(t), "notify");

	/* INITIATED: nobody's level */
	assert_int_equal(task_run(t, T0 + 1 * MIN), 0);
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "");
	/* P2 (the incident opened at T0, group_wait passed): opened to sup, once */
	escalate(st, a1, ALERT_INITIATED, ALERT_P2, T0 + 2 * MIN);
	assert_int_equal(task_run(t, T0 + 2 * MIN), 0);
	assert_int_equal(task_run(t, T0 + 2 * MIN + 1), 0);
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "opened");
	events_of(st, "tech", &ev);
	assert_string_equal(ev.buf, "");
	/* a silence on the step mutes the level raise ... */
	s.workflow = (char *)(uintptr_t) "loan";
	s.error = (char *)(uintptr_t) "DOWN";
	s.starts_at = T0 + 3 * MIN;
	s.ends_at = T0 + 10 * MIN;
	s.created_by = (char *)(uintptr_t) "alice";
	OK(store_silence_create(st, T0, &s, &sid, &E));
	escalate(st, a2, ALERT_INITIATED, ALERT_P1, T0 + 4 * MIN);
	assert_int_equal(task_run(t, T0 + 4 * MIN), 0);
	events_of(st, "tech", &ev);
	assert_string_equal(ev.buf, "");
	/* ... until it ends: P1's receivers, and sup (P1 lists it too) once */
	assert_int_equal(task_run(t, T0 + 10 * MIN), 0);
	events_of(st, "tech", &ev);
	assert_string_equal(ev.buf, "escalated");
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "opened,escalated");
	/* resolution: everyone told */
	{
		struct alert_change c[2] = {{a1, ALERT_P2, ALERT_RESOLVED, "resolved", "resolver",
		                             NULL, TIME_NULL, "resolver"},
		                            {a2, ALERT_P1, ALERT_RESOLVED, "resolved", "resolver",
		                             NULL, TIME_NULL, "resolver"}};
		OK(store_alerts_change(st, T0 + 11 * MIN, c, 2, NULL, &E));
	}
	assert_int_equal(task_run(t, T0 + 11 * MIN), 0);
	assert_int_equal(task_run(t, T0 + 12 * MIN), 0);
	events_of(st, "tech", &ev);
	assert_string_equal(ev.buf, "escalated,resolved");
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "opened,escalated,resolved");
	{
		struct notify_row *v = NULL;
		size_t n = 0;
		OK(store_notify_candidates(st, 0, 10, &v, &n, &E));
		assert_int_equal(n, 0); /* done */
		notify_rows_free(v, n);
	}
	(void)inc;
	task_free(t);
	health_free(env.health);
	config_free(cfg);
	strbuf_release(&y);
	strbuf_release(&errs);
	strbuf_release(&ev);
}

/* notify_after_recovery: the first message waits while self-recovery is under way. */
static void test_planner_holds_for_recovery(void **state)
{
	FX();
	struct sw_config *cfg = NULL;
	struct strbuf y = STRBUF_INIT, errs = STRBUF_INIT, ev = STRBUF_INIT;
	struct task_env env = {0};
	struct task *t;
	int64_t a1 = open_alert(st, "i1", "u1", "k1", NULL);

	strbuf_addf(
	    &y,
	    "store: \"%s\"\nworkflows:\n  loan:\n    steps: [kyc, bureau_pull]\n"
	    "    step_overrides:\n      bureau_pull:\n        notify_after_recovery: true\n"
	    "        recover: { webhook: { url: \"http://127.0.0.1:9/r\" }, max_attempts: 2,"
	    " backoff: 1m }\n"
	    "levels:\n  P2: { notify: [sup] }\n"
	    "receivers:\n  sup: { webhook: { url: \"http://127.0.0.1:9/a\" } }\n"
	    "notify: { group_wait: 0s }\n",
	    f->url);
	if (config_load_buffer("t.yaml", y.buf, y.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	env.cfg = cfg;
	env.health = health_new();
	t = task_new(TASK_NOTIFY, &env, NULL);
	escalate(st, a1, ALERT_INITIATED, ALERT_P2, T0 + 1 * MIN);
	/* no attempt yet, then one with another to come: held */
	assert_int_equal(task_run(t, T0 + 1 * MIN), 0);
	OK(store_recovery_record(st, a1, 1, 1, T0 + 3 * MIN, T0 + 2 * MIN, "attempt 1/2", NULL,
	                         &E));
	assert_int_equal(task_run(t, T0 + 2 * MIN), 0);
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "");
	/* the last attempt made, and its delay passed without recovery: page */
	OK(store_recovery_record(st, a1, 2, 2, T0 + 4 * MIN, T0 + 3 * MIN, "attempt 2/2", NULL,
	                         &E));
	assert_int_equal(task_run(t, T0 + 3 * MIN + 1), 0);
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "");
	assert_int_equal(task_run(t, T0 + 5 * MIN), 0);
	events_of(st, "sup", &ev);
	assert_string_equal(ev.buf, "opened");
	task_free(t);
	health_free(env.health);
	config_free(cfg);
	strbuf_release(&y);
	strbuf_release(&errs);
	strbuf_release(&ev);
}

#define TESTS(setup)                                                                               \
	cmocka_unit_test_setup_teardown(test_state_and_candidates, setup, teardown),               \
	    cmocka_unit_test_setup_teardown(test_outbox_claim_retry_sent, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(test_outbox_claim_in_incident_order, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_planner, setup, teardown),                        \
	    cmocka_unit_test_setup_teardown(test_planner_holds_for_recovery, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed = cmocka_run_group_tests_name("store_notify/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("store_notify/postgres", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
