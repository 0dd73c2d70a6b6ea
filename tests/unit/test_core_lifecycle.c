/*
 * test_core_lifecycle.c - the lifecycle rules in core (lifecycle.h, instance.h,
 * escalation.h, silence.h, incident.h), every branch, time driven by hand. The tables of
 * lifecycle_cases.h are also run through the store (tests/store/test_store_rules.c).
 */
#include "helpers.h"
#include "lifecycle_cases.h"
#include "core/lifecycle.h"
#include "core/instance.h"
#include "core/escalation.h"
#include "core/silence.h"
#include "core/incident.h"

#define T0  LC_NOW
#define MIN LC_MIN

static const struct step_rules rules_default = {{15 * MIN, 60 * MIN, 240 * MIN}, 30 * MIN, 0};

/* ---- the shared tables ------------------------------------------------------------------ */

static void test_supersedes_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_supersede_cases); i++) {
		const struct lc_supersede *c = &lc_supersede_cases[i];
		if (step_record_supersedes(lc_at(c->a_upd), c->a_status, lc_at(c->b_upd),
		                           c->b_status) != c->supersedes)
			fail_msg("supersede case %zu", i);
	}
}

static void test_stuck_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_stuck_cases); i++) {
		const struct lc_stuck *c = &lc_stuck_cases[i];
		struct instance_step s = {0};
		struct step_rules r = rules_default;
		bool opens;
		s.status = c->status;
		s.started_at = lc_at(c->started);
		s.updated_at = lc_at(c->updated);
		r.stuck_after_ms = c->stuck_after * MIN;
		r.abandon_after_ms = c->abandon_after * MIN;
		opens = lifecycle_step_stuck(&s, &r, T0);
		if (opens && c->existing != LC_NO_ALERT)
			opens = !lifecycle_stuck_episode_alerted(
			    c->existing == LC_ALERT_OPEN ? ALERT_INITIATED : ALERT_RESOLVED,
			    lc_at(c->alert_occurred), s.started_at);
		if (opens != c->opens)
			fail_msg("stuck case %zu", i);
	}
}

static void test_recover_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_recover_cases); i++) {
		const struct lc_recover *c = &lc_recover_cases[i];
		struct recovery_view v = {c->step_status, c->max_step};
		if (lifecycle_alert_recovered(c->rule, c->state, c->alert_step, &v) != c->recovered)
			fail_msg("recover case %zu", i);
	}
}

static void test_abandon_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_abandon_cases); i++) {
		const struct lc_abandon *c = &lc_abandon_cases[i];
		if (lifecycle_alert_abandoned(c->state, c->abandon_after * MIN,
		                              lc_at(c->last_progress), lc_at(c->occurred),
		                              T0) != c->abandoned)
			fail_msg("abandon case %zu", i);
	}
}

static void assert_str_eq_null(const char *a, const char *b, size_t i, const char *what)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
		fail_msg("summary case %zu: %s is '%s', want '%s'", i, what, a ? a : "(null)",
		         b ? b : "(null)");
}

static void test_summary_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_summary_cases); i++) {
		const struct lc_summary *c = &lc_summary_cases[i];
		struct instance_summary stored;
		instance_summary_init(&stored, "i1");
		for (size_t b = 0; b < 3 && c->batch[b][0].step >= 0; b++) {
			struct instance_summary batch;
			instance_summary_init(&batch, "i1");
			for (size_t k = 0; k < 3 && c->batch[b][k].step >= 0; k++) {
				const struct lc_rec *x = &c->batch[b][k];
				struct step_record r = {"i1",
				                        x->user,
				                        "s",
				                        x->step,
				                        x->status,
				                        NULL,
				                        lc_at(x->started),
				                        lc_at(x->finished),
				                        lc_at(x->updated),
				                        x->labels};
				instance_summary_add(&batch, &r, 3);
			}
			instance_summary_merge(&stored, &batch);
		}
		assert_str_eq_null(stored.user_id, c->user, i, "user_id");
		assert_str_eq_null(stored.labels_json, c->labels, i, "labels");
		if (stored.started_at != lc_at(c->started) ||
		    stored.last_progress_at != lc_at(c->last_progress) ||
		    stored.max_step_index != c->max_step ||
		    stored.completed_at != lc_at(c->completed))
			fail_msg("summary case %zu: times or step", i);
	}
}

static void test_incident_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_incident_cases); i++) {
		const struct lc_incident *c = &lc_incident_cases[i];
		enum alert_state st[8];
		enum alert_state level = ALERT_INITIATED;
		int64_t open_alerts = c->n_alerts;
		bool open = true;
		for (int a = 0; a < c->n_alerts; a++)
			st[a] = ALERT_INITIATED;
		level = incident_level(st, (size_t)c->n_alerts, level);
		for (size_t k = 0; k < 6 && c->changes[k].alert >= 0; k++) {
			int a = c->changes[k].alert;
			int64_t d = incident_open_delta(st[a], c->changes[k].to);
			assert_true(alert_transition_allowed(st[a], c->changes[k].to));
			if (incident_closes(open, open_alerts, d))
				open = false;
			open_alerts += d;
			st[a] = c->changes[k].to;
			level = incident_level(st, (size_t)c->n_alerts, level);
		}
		if (level != c->level || open != c->open || open_alerts != c->open_alerts)
			fail_msg("incident case %zu: level %d open %d open_alerts %" PRId64, i,
			         (int)level, (int)open, open_alerts);
	}
}

static void test_silence_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lc_silence_cases); i++) {
		struct silence s = {0};
		s.starts_at = lc_at(lc_silence_cases[i].starts);
		s.ends_at = lc_at(lc_silence_cases[i].ends);
		if (silence_active(&s, T0) != lc_silence_cases[i].active)
			fail_msg("silence case %zu", i);
	}
}

/* ---- what a batch opens ------------------------------------------------------------------ */

static struct step_record rec(const char *inst, int step, enum step_status status, int updated,
                              int finished)
{
	static const char *const names[] = {"a", "b", "c"};
	struct step_record r = {inst, "u",       names[step],     step,           status,
	                        NULL, TIME_NULL, lc_at(finished), lc_at(updated), NULL};
	return r;
}

static void test_failures_to_open(void **state)
{
	struct step_rules rules[3] = {rules_default, rules_default, rules_default};
	struct step_record recs[] = {
	    rec("i2", 1, STEP_FAILED, -5, -6),           /* 0: opens, at finished_at */
	    rec("i1", 0, STEP_FAILED, -9, LC_NONE),      /* 1: superseded in the batch by 2 */
	    rec("i1", 0, STEP_FAILED, -8, LC_NONE),      /* 2: opens, at updated_at */
	    rec("i1", 1, STEP_FAILED, -7, LC_NONE),      /* 3: failed, then succeeded (4) */
	    rec("i1", 1, STEP_SUCCESS, -6, LC_NONE),     /* 4 */
	    rec("i3", 0, STEP_FAILED, -4, LC_NONE),      /* 5: not current (a late record) */
	    rec("i4", 2, STEP_IN_PROGRESS, -3, LC_NONE), /* 6: not a failure */
	    rec("i1", 2, STEP_FAILED, -2, LC_NONE),      /* 7: current, but 8 is later */
	    rec("i1", 2, STEP_FAILED, -1, LC_NONE),      /* 8: not current: 7 stays */
	};
	bool current[] = {true, true, true, true, true, false, true, true, false};
	struct alert_opening out[ARRAY_SIZE(recs)];
	size_t n;
	(void)state;
	rules[2].sla.p2_ms = 0; /* no P2: first escalation at P1 */
	n = lifecycle_failures_to_open(recs, current, ARRAY_SIZE(recs), rules, 3, T0, out);
	assert_int_equal(n, 3);
	/* ordered by (instance, step) */
	assert_int_equal(out[0].rec, 2);
	assert_int_equal(out[0].occurred_at, lc_at(-8));
	assert_int_equal(out[0].next_escalation_at, lc_at(-8) + 15 * MIN);
	assert_int_equal(out[1].rec, 7);
	assert_int_equal(out[1].next_escalation_at, lc_at(-2) + 60 * MIN);
	assert_int_equal(out[2].rec, 0);
	assert_int_equal(out[2].occurred_at, lc_at(-6));
	assert_int_equal(lifecycle_failures_to_open(recs, current, 0, rules, 3, T0, out), 0);
}

static void test_failures_abandoned_users(void **state)
{
	struct step_rules rules[3] = {rules_default, rules_default, rules_default};
	struct step_record recs[] = {
	    rec("old", 0, STEP_FAILED, -120, LC_NONE),  /* gone 2h: nobody to page */
	    rec("back", 0, STEP_FAILED, -120, LC_NONE), /* ...but this one came back: */
	    rec("back", 1, STEP_IN_PROGRESS, -30, LC_NONE),
	    rec("edge", 0, STEP_FAILED, -60, LC_NONE), /* exactly abandon_after */
	};
	bool current[] = {true, true, true, true};
	struct alert_opening out[4];
	size_t n;
	(void)state;
	for (size_t s = 0; s < 3; s++)
		rules[s].abandon_after_ms = 60 * MIN;
	n = lifecycle_failures_to_open(recs, current, 4, rules, 3, T0, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].rec, 1); /* the instance's last progress is -30 */
	/* abandonment off: every current failure opens */
	for (size_t s = 0; s < 3; s++)
		rules[s].abandon_after_ms = 0;
	assert_int_equal(lifecycle_failures_to_open(recs, current, 4, rules, 3, T0, out), 3);
}

static void test_openings(void **state)
{
	struct step_record r = rec("i", 0, STEP_FAILED, -3, LC_NONE);
	struct instance_step s = {0};
	struct step_rules none = {{0, 0, 0}, 30 * MIN, 0};
	struct alert_opening o;
	(void)state;
	assert_int_equal(lifecycle_failure_occurred_at(&r), lc_at(-3));
	r.finished_at = lc_at(-4);
	assert_int_equal(lifecycle_failure_occurred_at(&r), lc_at(-4));
	o = lifecycle_opening(T0, &rules_default);
	assert_int_equal(o.occurred_at, T0);
	assert_int_equal(o.next_escalation_at, T0 + 15 * MIN);
	o = lifecycle_opening(T0, &none); /* every level disabled: never escalates */
	assert_int_equal(o.next_escalation_at, TIME_NULL);
	s.started_at = lc_at(-40);
	s.updated_at = lc_at(-35);
	assert_int_equal(lifecycle_stuck_occurred_at(&s, &rules_default), lc_at(-10));
	s.started_at = TIME_NULL;
	assert_int_equal(lifecycle_stuck_occurred_at(&s, &rules_default), lc_at(-5));
}

static void test_episode(void **state)
{
	(void)state;
	for (int st = 0; st < ALERT_STATE_COUNT; st++) {
		bool open = alert_state_open((enum alert_state)st);
		assert_int_equal(lifecycle_stuck_episode_alerted((enum alert_state)st, T0, T0),
		                 true);
		assert_int_equal(lifecycle_stuck_episode_alerted((enum alert_state)st, T0 - 1, T0),
		                 open);
		/* an unknown start matches only an open alert */
		assert_int_equal(
		    lifecycle_stuck_episode_alerted((enum alert_state)st, T0, TIME_NULL), open);
	}
}

static void test_recovered_null_rule(void **state)
{
	struct recovery_view v = {STEP_SUCCESS, 2};
	(void)state;
	assert_false(lifecycle_alert_recovered(NULL, ALERT_INITIATED, 0, &v));
}

/* ---- the instance summary ---------------------------------------------------------------- */

static void test_summary_fold(void **state)
{
	struct instance_summary s;
	struct step_record r = rec("i", 0, STEP_IN_PROGRESS, -10, LC_NONE);
	(void)state;
	instance_summary_init(&s, "i");
	assert_int_equal(s.max_step_index, -1);
	assert_int_equal(s.last_progress_at, TIME_NULL);
	r.user_id = NULL;
	instance_summary_add(&s, &r, 3);
	assert_null(s.user_id); /* no user yet */
	assert_int_equal(s.started_at, TIME_NULL);
	r.user_id = "u";
	r.updated_at = lc_at(-10); /* a tie: the later record wins */
	r.started_at = lc_at(-12);
	instance_summary_add(&s, &r, 3);
	assert_string_equal(s.user_id, "u");
	assert_int_equal(s.started_at, lc_at(-12));
	r = rec("i", 2, STEP_SUCCESS, -20, -21); /* older: no user change, completes */
	r.user_id = "older";
	r.started_at = lc_at(-11);
	instance_summary_add(&s, &r, 3);
	assert_string_equal(s.user_id, "u");
	assert_int_equal(s.started_at, lc_at(-12));
	assert_int_equal(s.last_progress_at, lc_at(-10));
	assert_int_equal(s.max_step_index, 2);
	assert_int_equal(s.completed_at, lc_at(-21));
	/* merging an empty stored summary takes the batch whole */
	{
		struct instance_summary st;
		instance_summary_init(&st, "i");
		instance_summary_merge(&st, &s);
		assert_memory_equal(&st, &s, sizeof(s));
	}
}

/* ---- escalation -------------------------------------------------------------------------- */

static void test_escalation_plan(void **state)
{
	const struct alert_sla sla = {15 * MIN, 60 * MIN, 240 * MIN};
	const struct alert_sla no_p1 = {15 * MIN, 0, 240 * MIN};
	struct escalation_plan p;
	(void)state;
	/* paused: look again when the silence ends, or soon when that has come */
	escalation_plan(ALERT_INITIATED, T0 - 300 * MIN, &sla, T0 + 5 * MIN, T0, &p);
	assert_int_equal(p.kind, ESCALATION_PAUSE);
	assert_int_equal(p.next_at, T0 + 5 * MIN);
	escalation_plan(ALERT_INITIATED, T0 - 300 * MIN, &sla, T0, T0, &p);
	assert_int_equal(p.next_at, T0 + ESCALATION_RETRY_MS);
	/* one level */
	escalation_plan(ALERT_INITIATED, T0 - 15 * MIN, &sla, TIME_NULL, T0, &p);
	assert_int_equal(p.kind, ESCALATION_ESCALATE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.levels[0].from, ALERT_INITIATED);
	assert_int_equal(p.levels[0].to, ALERT_P2);
	assert_int_equal(p.levels[0].next_at, T0 + 45 * MIN);
	/* a late detection: three levels, each its own step */
	escalation_plan(ALERT_INITIATED, T0 - 300 * MIN, &sla, TIME_NULL, T0, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.levels[1].from, ALERT_P2);
	assert_int_equal(p.levels[1].to, ALERT_P1);
	assert_int_equal(p.levels[1].next_at, T0 - 60 * MIN);
	assert_int_equal(p.levels[2].to, ALERT_P0);
	assert_int_equal(p.levels[2].next_at, TIME_NULL);
	/* a disabled level is passed over */
	escalation_plan(ALERT_P2, T0 - 250 * MIN, &no_p1, TIME_NULL, T0, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.levels[0].to, ALERT_P1);
	assert_int_equal(p.levels[1].to, ALERT_P0);
	escalation_plan(ALERT_P2, T0 - 100 * MIN, &no_p1, TIME_NULL, T0, &p);
	assert_int_equal(p.kind, ESCALATION_REARM);
	assert_int_equal(p.next_at, T0 + 140 * MIN);
	/* re-arm: due by a stale time, the next level ahead */
	escalation_plan(ALERT_INITIATED, T0 - 5 * MIN, &sla, TIME_NULL, T0, &p);
	assert_int_equal(p.kind, ESCALATION_REARM);
	assert_int_equal(p.next_at, T0 + 10 * MIN);
	/* re-arm at P0: nothing further */
	escalation_plan(ALERT_P0, T0 - 500 * MIN, &sla, TIME_NULL, T0, &p);
	assert_int_equal(p.kind, ESCALATION_REARM);
	assert_int_equal(p.next_at, TIME_NULL);
	/* a closed alert never escalates (no allowed transition) */
	escalation_plan(ALERT_RESOLVED, T0 - 500 * MIN, &sla, TIME_NULL, T0, &p);
	assert_int_equal(p.kind, ESCALATION_REARM);
	assert_int_equal(p.next_at, TIME_NULL);
}

static void test_escalation_rearm_ahead(void **state)
{
	/* due a millisecond early (a stale or rounded time): re-armed to the threshold */
	const struct alert_sla sla = {15 * MIN, 60 * MIN, 240 * MIN};
	struct escalation_plan p;
	(void)state;
	/* INITIATED, occurred exactly now - 15m + 1ms: not due; next in 1ms (future) */
	escalation_plan(ALERT_INITIATED, T0 - 15 * MIN + 1, &sla, TIME_NULL, T0, &p);
	assert_int_equal(p.kind, ESCALATION_REARM);
	assert_int_equal(p.next_at, T0 + 1);
}

static void test_escalation_reason(void **state)
{
	const struct alert_sla sla = {15 * MIN, 60 * MIN, 270 * MIN};
	char buf[64];
	(void)state;
	assert_string_equal(escalation_reason(ALERT_P2, &sla, buf, sizeof(buf)),
	                    "sla P2 15m passed");
	assert_string_equal(escalation_reason(ALERT_P1, &sla, buf, sizeof(buf)),
	                    "sla P1 1h passed");
	assert_string_equal(escalation_reason(ALERT_P0, &sla, buf, sizeof(buf)),
	                    "sla P0 4h30m passed");
}

/* Every pair of states: open -> a higher open level, or to RESOLVED/ABANDONED; nothing from a
 * closed state. */
static void test_transitions_exhaustive(void **state)
{
	(void)state;
	for (int f = 0; f < ALERT_STATE_COUNT; f++)
		for (int t = 0; t < ALERT_STATE_COUNT; t++) {
			bool want = f <= ALERT_P0 && (t >= ALERT_RESOLVED || t > f);
			if (alert_transition_allowed((enum alert_state)f, (enum alert_state)t) !=
			    want)
				fail_msg("transition %d -> %d", f, t);
		}
}

/* ---- silences ---------------------------------------------------------------------------- */

static void test_silence_matching(void **state)
{
	char w[] = "w", sn[] = "s", e[] = "e";
	struct silence s = {0};
	(void)state;
	assert_false(silence_matches(&s, "w", "s", "e")); /* no matcher: nothing */
	s.workflow = w;
	assert_true(silence_matches(&s, "w", "s", NULL));
	assert_false(silence_matches(&s, "W", "s", NULL)); /* case-sensitive */
	assert_false(silence_matches(&s, NULL, "s", NULL));
	s.step = sn;
	assert_true(silence_matches(&s, "w", "s", "e"));
	assert_false(silence_matches(&s, "w", "t", "e"));
	assert_false(silence_matches(&s, "w", NULL, "e"));
	s.error = e;
	assert_true(silence_matches(&s, "w", "s", "e"));
	assert_false(silence_matches(&s, "w", "s", "f"));
	assert_false(silence_matches(&s, "w", "s", NULL));
	s.workflow = s.step = NULL;
	assert_true(silence_matches(&s, "x", "y", "e")); /* error alone */
}

static void test_silence_mute_and_pause(void **state)
{
	char w[] = "w", sn[] = "s";
	struct silence v[3];
	(void)state;
	memset(v, 0, sizeof(v));
	v[0].workflow = w; /* active, mutes, does not pause */
	v[0].starts_at = T0 - MIN;
	v[0].ends_at = T0 + 10 * MIN;
	v[1].step = sn; /* pauses until +30s */
	v[1].pause_escalation = true;
	v[1].starts_at = T0 - MIN;
	v[1].ends_at = T0 + 30000;
	v[2].step = sn; /* pauses, but not started yet */
	v[2].pause_escalation = true;
	v[2].starts_at = T0 + MIN;
	v[2].ends_at = T0 + 100 * MIN;
	assert_true(silence_mutes(v, 3, "w", "x", NULL, T0));
	assert_true(silence_mutes(v, 3, "other", "s", NULL, T0));
	assert_false(silence_mutes(v, 3, "other", "x", NULL, T0));
	assert_false(silence_mutes(v, 3, "w", "x", NULL, T0 + 10 * MIN)); /* ended */
	assert_false(silence_mutes(v, 0, "w", "x", NULL, T0));
	assert_int_equal(silence_pause_until(v, 3, "w", "x", NULL, T0), TIME_NULL);
	assert_int_equal(silence_pause_until(v, 3, "w", "s", NULL, T0), T0 + 30000);
	/* the latest end wins, capped at a recheck */
	assert_int_equal(silence_pause_until(v, 3, "w", "s", NULL, T0 + 2 * MIN),
	                 T0 + 2 * MIN + SILENCE_PAUSE_RECHECK_MS);
	v[1].ends_at = T0 + 200 * MIN;
	assert_int_equal(silence_pause_until(v, 2, "w", "s", NULL, T0),
	                 T0 + SILENCE_PAUSE_RECHECK_MS);
}

/* ---- incidents --------------------------------------------------------------------------- */

static void test_incident_rules(void **state)
{
	const enum alert_state none[] = {ALERT_RESOLVED, ALERT_ABANDONED};
	const enum alert_state mix[] = {ALERT_P2, ALERT_RESOLVED, ALERT_INITIATED, ALERT_P1};
	(void)state;
	assert_int_equal(incident_open_delta(ALERT_INITIATED, ALERT_P2), 0);
	assert_int_equal(incident_open_delta(ALERT_P0, ALERT_RESOLVED), -1);
	assert_int_equal(incident_open_delta(ALERT_RESOLVED, ALERT_INITIATED), 1);
	assert_int_equal(incident_open_delta(ALERT_RESOLVED, ALERT_ABANDONED), 0);
	assert_int_equal(incident_level(mix, 4, ALERT_INITIATED), ALERT_P1);
	assert_int_equal(incident_level(none, 2, ALERT_P0), ALERT_P0); /* kept */
	assert_int_equal(incident_level(NULL, 0, ALERT_P2), ALERT_P2);
	assert_true(incident_closes(true, 1, -1));
	assert_false(incident_closes(true, 2, -1));
	assert_false(incident_closes(false, 1, -1)); /* closed already */
	assert_false(incident_closes(true, 1, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_supersedes_table),
	    cmocka_unit_test(test_stuck_table),
	    cmocka_unit_test(test_recover_table),
	    cmocka_unit_test(test_abandon_table),
	    cmocka_unit_test(test_summary_table),
	    cmocka_unit_test(test_incident_table),
	    cmocka_unit_test(test_silence_table),
	    cmocka_unit_test(test_failures_to_open),
	    cmocka_unit_test(test_failures_abandoned_users),
	    cmocka_unit_test(test_openings),
	    cmocka_unit_test(test_episode),
	    cmocka_unit_test(test_recovered_null_rule),
	    cmocka_unit_test(test_summary_fold),
	    cmocka_unit_test(test_escalation_plan),
	    cmocka_unit_test(test_escalation_rearm_ahead),
	    cmocka_unit_test(test_escalation_reason),
	    cmocka_unit_test(test_transitions_exhaustive),
	    cmocka_unit_test(test_silence_matching),
	    cmocka_unit_test(test_silence_mute_and_pause),
	    cmocka_unit_test(test_incident_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
