/*
 * test_notify_policy.c - noise control per incident (core/notify_policy.c), the retry
 * schedule, and the roster hand-over at the rotation instant (oncall/oncall.c), driven by
 * time passed in: no clock, no sleeping.
 */
#include "helpers.h"
#include "core/notify_policy.h"
#include "oncall/oncall.h"
#include "util/timeutil.h"

#define S 1000LL
#define M (60 * S)
#define H (60 * M)

static const struct notify_policy pol = {30 * S, 5 * M, 4 * H, NOTIFY_GROWTH_MIN_USERS,
                                         NOTIFY_GROWTH_PERCENT};

static struct notify_incident incident(enum alert_state level, int64_t users)
{
	struct notify_incident i = {0};
	i.id = 7;
	i.open = true;
	i.level = level;
	i.open_alerts = users;
	i.affected_users = users;
	i.opened_at = 1000 * S;
	i.resolved_at = TIME_NULL;
	return i;
}

/* Decide at now and keep the state, as the notifier does; returns whether a message went. */
static bool step(const struct notify_incident *inc, struct notify_sent *s, bool muted, int64_t now,
                 struct notify_decision *d)
{
	notify_decide(&pol, inc, s, muted, now, d);
	*s = d->next;
	return d->send;
}

static void test_nothing_below_p2(void **state)
{
	struct notify_incident inc = incident(ALERT_INITIATED, 100);
	struct notify_sent s;
	struct notify_decision d;
	(void)state;
	notify_sent_init(&s);
	assert_false(step(&inc, &s, false, inc.opened_at + 10 * M, &d));
	assert_false(d.changed);
	/* resolved before anything was said: silent, and done */
	inc.open = false;
	inc.resolved_at = inc.opened_at + 11 * M;
	assert_false(step(&inc, &s, false, inc.opened_at + 11 * M, &d));
	assert_true(s.done);
	assert_true(d.changed);
}

static void test_group_wait_then_opened(void **state)
{
	struct notify_incident inc = incident(ALERT_P2, 40);
	struct notify_sent s;
	struct notify_decision d;
	(void)state;
	notify_sent_init(&s);
	assert_false(step(&inc, &s, false, inc.opened_at + 29 * S, &d));
	assert_int_equal(d.recheck_at, inc.opened_at + 30 * S);
	assert_true(step(&inc, &s, false, inc.opened_at + 30 * S, &d));
	assert_int_equal(d.event, NP_OPENED);
	assert_int_equal(d.level, ALERT_P2);
	assert_string_equal(d.summary, "40 users affected, 40 open alerts, level P2");
	assert_int_equal(s.seq, 1);
	assert_int_equal(s.users, 40);
	/* nothing changed: nothing more until the reminder */
	assert_false(step(&inc, &s, false, inc.opened_at + 1 * H, &d));
	assert_int_equal(d.recheck_at, inc.opened_at + 30 * S + 4 * H);
}

static void test_growth_threshold_and_group_interval(void **state)
{
	struct notify_incident inc = incident(ALERT_P2, 120);
	struct notify_sent s;
	struct notify_decision d;
	int64_t t0 = inc.opened_at + 30 * S;
	(void)state;
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	/* +20 is below 20% of 120 (24): no message */
	inc.affected_users = 140;
	assert_false(step(&inc, &s, false, t0 + 10 * M, &d));
	/* +40: past the threshold, and group_interval passed */
	inc.affected_users = 160;
	assert_true(step(&inc, &s, false, t0 + 11 * M, &d));
	assert_int_equal(d.event, NP_UPDATED);
	assert_string_equal(d.summary, "+40 users since the last message; 160 affected");
	/* grown again within group_interval: held until it passes */
	inc.affected_users = 300;
	assert_false(step(&inc, &s, false, t0 + 12 * M, &d));
	assert_int_equal(d.recheck_at, t0 + 16 * M);
	assert_true(step(&inc, &s, false, t0 + 16 * M, &d));
	assert_string_equal(d.summary, "+140 users since the last message; 300 affected");
	/* small incidents need at least NOTIFY_GROWTH_MIN_USERS more */
	inc = incident(ALERT_P2, 2);
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	inc.affected_users = 11;
	assert_false(step(&inc, &s, false, t0 + 1 * H, &d));
	inc.affected_users = 12;
	assert_true(step(&inc, &s, false, t0 + 1 * H, &d));
}

static void test_escalation_at_once_and_resolve(void **state)
{
	struct notify_incident inc = incident(ALERT_P2, 100);
	struct notify_sent s;
	struct notify_decision d;
	int64_t t0 = inc.opened_at + 30 * S;
	(void)state;
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	/* a level raise goes out within group_interval: a new team must hear */
	inc.level = ALERT_P1;
	inc.affected_users = 140;
	assert_true(step(&inc, &s, false, t0 + 1 * S, &d));
	assert_int_equal(d.event, NP_ESCALATED);
	assert_int_equal(d.level, ALERT_P1);
	assert_string_equal(d.summary, "escalated to P1 (was P2); 140 users affected; +40 users "
	                               "since the last message");
	/* the level falling back (P1 alerts closed) is no news; rising to P1 again neither */
	inc.level = ALERT_P2;
	assert_false(step(&inc, &s, false, t0 + 2 * S, &d));
	inc.level = ALERT_P1;
	assert_false(step(&inc, &s, false, t0 + 3 * S, &d));
	inc.level = ALERT_P0;
	assert_true(step(&inc, &s, false, t0 + 4 * S, &d));
	assert_int_equal(d.level, ALERT_P0);
	/* resolution goes to everyone told so far, once */
	inc.open = false;
	inc.level = ALERT_P0;
	inc.resolved_at = inc.opened_at + 42 * M;
	assert_true(step(&inc, &s, false, t0 + 5 * S, &d));
	assert_int_equal(d.event, NP_RESOLVED);
	assert_int_equal(d.level, ALERT_P0);
	assert_string_equal(d.summary, "resolved after 42m; 140 users affected");
	assert_true(s.done);
	assert_int_equal(s.seq, 4);
	assert_false(step(&inc, &s, false, t0 + 6 * S, &d));
	assert_false(d.changed);
}

static void test_held_while_recovering(void **state)
{
	struct notify_incident inc = incident(ALERT_P2, 3);
	struct notify_sent s;
	struct notify_decision d;
	int64_t t0 = inc.opened_at + 30 * S;
	(void)state;
	notify_sent_init(&s);
	inc.recovering = true;
	assert_false(step(&inc, &s, false, t0, &d));
	assert_false(step(&inc, &s, false, t0 + 10 * M, &d));
	/* the retries healed it: resolved before anyone was paged */
	inc.open = false;
	inc.resolved_at = t0 + 11 * M;
	assert_false(step(&inc, &s, false, t0 + 11 * M, &d));
	assert_true(s.done);
	/* the retries did not heal it: the first message once recovery is over */
	inc = incident(ALERT_P2, 3);
	notify_sent_init(&s);
	inc.recovering = true;
	assert_false(step(&inc, &s, false, t0, &d));
	inc.recovering = false;
	assert_true(step(&inc, &s, false, t0 + 5 * M, &d));
	assert_int_equal(d.event, NP_OPENED);
	/* later messages are not held */
	inc.recovering = true;
	inc.level = ALERT_P1;
	assert_true(step(&inc, &s, false, t0 + 6 * M, &d));
	assert_int_equal(d.event, NP_ESCALATED);
}

static void test_late_detection_one_message(void **state)
{
	/* several levels passed before the first look: one opened message at the top level */
	struct notify_incident inc = incident(ALERT_P0, 10);
	struct notify_sent s;
	struct notify_decision d;
	(void)state;
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, inc.opened_at + 5 * H, &d));
	assert_int_equal(d.event, NP_OPENED);
	assert_int_equal(d.level, ALERT_P0);
	assert_false(step(&inc, &s, false, inc.opened_at + 5 * H + 1, &d));
}

static void test_reminders_stop_when_acked(void **state)
{
	struct notify_incident inc = incident(ALERT_P2, 5);
	struct notify_sent s;
	struct notify_decision d;
	int64_t t0 = inc.opened_at + 30 * S;
	(void)state;
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	assert_false(step(&inc, &s, false, t0 + 4 * H - 1, &d));
	assert_true(step(&inc, &s, false, t0 + 4 * H, &d));
	assert_int_equal(d.event, NP_REMINDER);
	assert_true(step(&inc, &s, false, t0 + 8 * H, &d));
	assert_int_equal(d.event, NP_REMINDER);
	inc.acked = true;
	inc.acked_by = "asha";
	assert_true(step(&inc, &s, false, t0 + 8 * H + 1, &d));
	assert_int_equal(d.event, NP_ACKNOWLEDGED);
	assert_string_equal(d.summary, "acknowledged by asha; 5 users affected");
	for (int64_t t = t0 + 9 * H; t < t0 + 100 * H; t += H)
		assert_false(step(&inc, &s, false, t, &d));
	/* but escalation still speaks */
	inc.level = ALERT_P1;
	assert_true(step(&inc, &s, false, t0 + 101 * H, &d));
	assert_int_equal(d.event, NP_ESCALATED);
	/* acknowledged before the first message: no separate acknowledgement */
	inc = incident(ALERT_P2, 5);
	inc.acked = true;
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	assert_int_equal(d.event, NP_OPENED);
	assert_false(step(&inc, &s, false, t0 + 1 * S, &d));
}

static void test_silence_mutes_and_releases(void **state)
{
	struct notify_incident inc = incident(ALERT_P2, 50);
	struct notify_sent s;
	struct notify_decision d;
	int64_t t0 = inc.opened_at + 30 * S;
	(void)state;
	/* muted from the start: nothing, until the silence ends; then the first message */
	notify_sent_init(&s);
	assert_false(step(&inc, &s, true, t0, &d));
	assert_true(s.muted);
	inc.level = ALERT_P1;
	assert_false(step(&inc, &s, true, t0 + 1 * H, &d));
	assert_true(step(&inc, &s, false, t0 + 2 * H, &d));
	assert_int_equal(d.event, NP_OPENED);
	assert_int_equal(d.level, ALERT_P1);
	assert_false(s.muted);

	/* muted after the first message, nothing changes: its end says it is still open */
	inc = incident(ALERT_P2, 50);
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	inc.affected_users = 500;
	assert_false(step(&inc, &s, true, t0 + 1 * H, &d));
	assert_false(step(&inc, &s, true, t0 + 5 * H, &d)); /* no reminder while muted */
	assert_true(step(&inc, &s, false, t0 + 6 * H, &d));
	assert_int_equal(d.event, NP_UPDATED);
	assert_string_equal(d.summary, "silence ended; still open, 500 users affected; +450 users "
	                               "since the last message");
	assert_false(step(&inc, &s, false, t0 + 6 * H + 1, &d));

	/* resolved while muted: the receivers told of it hear of the resolution */
	inc = incident(ALERT_P2, 50);
	notify_sent_init(&s);
	assert_true(step(&inc, &s, false, t0, &d));
	assert_false(step(&inc, &s, true, t0 + 1 * M, &d));
	inc.open = false;
	inc.resolved_at = t0 + 2 * M;
	assert_true(step(&inc, &s, true, t0 + 2 * M, &d));
	assert_int_equal(d.event, NP_RESOLVED);

	/* muted and resolved, never announced: nothing at all */
	inc = incident(ALERT_P2, 50);
	notify_sent_init(&s);
	assert_false(step(&inc, &s, true, t0, &d));
	inc.open = false;
	inc.resolved_at = t0 + 1;
	assert_false(step(&inc, &s, true, t0 + 1, &d));
	assert_true(s.done);
}

/* A 5,000-user outage at one step, growing over 20 minutes, climbing P2 -> P1 -> P0, then
 * resolving: a handful of messages, each for a change. */
static void test_outage_handful(void **state)
{
	struct notify_incident inc = incident(ALERT_INITIATED, 0);
	struct notify_sent s;
	struct notify_decision d;
	int n[6] = {0}, total = 0;
	(void)state;
	notify_sent_init(&s);
	for (int64_t t = inc.opened_at; t <= inc.opened_at + 3 * H; t += S) {
		int64_t el = t - inc.opened_at;
		inc.affected_users = el >= 20 * M ? 5000 : 1 + el * 4999 / (20 * M);
		inc.open_alerts = inc.affected_users;
		inc.level = el >= 2 * H   ? ALERT_P0
		            : el >= 1 * H ? ALERT_P1
		            : el >= 5 * M ? ALERT_P2
		                          : ALERT_INITIATED;
		if (t == inc.opened_at + 3 * H) {
			inc.open = false;
			inc.resolved_at = t;
		}
		if (step(&inc, &s, false, t, &d)) {
			n[d.event]++;
			total++;
		}
	}
	assert_int_equal(n[NP_OPENED], 1);
	assert_int_equal(n[NP_ESCALATED], 2);
	assert_int_equal(n[NP_RESOLVED], 1);
	/* growth from minute 5 to 20, one update per group_interval at most */
	assert_in_range(n[NP_UPDATED], 1, 3);
	assert_int_equal(n[NP_REMINDER], 0);
	assert_in_range(total, 5, 7);
	assert_int_equal(s.seq, total);
}

static void test_keys(void **state)
{
	char k[96];
	(void)state;
	notify_key(12, 3, "tech", k, sizeof(k));
	assert_string_equal(k, "sw-12-3-tech");
	notify_dedup_key(12, k, sizeof(k));
	assert_string_equal(k, "stepwatch-incident-12");
	assert_string_equal(np_event_name(NP_RESOLVED), "resolved");
}

static void test_backoff(void **state)
{
	(void)state;
	/* first retry within a few seconds, doubling, capped, jittered +-20% */
	assert_in_range(notify_backoff_ms(1, 10 * M, 0, 0), 4000, 6000);
	assert_in_range(notify_backoff_ms(1, 10 * M, 0, 399), 4000, 6000);
	assert_int_equal(notify_backoff_ms(1, 10 * M, 0, 200), 5000);
	assert_int_equal(notify_backoff_ms(2, 10 * M, 0, 200), 10000);
	assert_int_equal(notify_backoff_ms(3, 10 * M, 0, 200), 20000);
	assert_int_equal(notify_backoff_ms(30, 10 * M, 0, 200), 10 * M);
	assert_int_equal(notify_backoff_ms(1000, 10 * M, 0, 200), 10 * M);
	/* Retry-After replaces it, clamped */
	assert_int_equal(notify_backoff_ms(1, 10 * M, 30 * S, 7), 30 * S);
	assert_int_equal(notify_backoff_ms(1, 10 * M, 10, 7), 1 * S);
	assert_int_equal(notify_backoff_ms(1, 10 * M, 50 * H, 7), 1 * H);
}

static void test_roster_handover(void **state)
{
	/* three members, 1w turns from a start: the hand-over is at the exact instant */
	int64_t start = 1767603600000LL, w = 7 * 24 * H; /* 2026-01-05T09:00:00Z */
	(void)state;
	assert_int_equal(oncall_index(3, w, start, start - 1), 0);
	assert_int_equal(oncall_index(3, w, start, start), 0);
	assert_int_equal(oncall_index(3, w, start, start + w - 1), 0);
	assert_int_equal(oncall_index(3, w, start, start + w), 1);
	assert_int_equal(oncall_index(3, w, start, start + 2 * w), 2);
	assert_int_equal(oncall_index(3, w, start, start + 3 * w), 0);
	assert_int_equal(oncall_next_handover(w, start, start + w - 1), start + w);
	assert_int_equal(oncall_next_handover(w, start, start + w), start + 2 * w);
}

static void test_roster_overrides(void **state)
{
	char a[] = "asha", b[] = "ben", c[] = "chen", d[] = "dana", e[] = "eve";
	char *members[] = {a, b, c};
	int64_t start = 1767603600000LL, w = 7 * 24 * H, until;
	struct sw_roster_override ov[2] = {{d, start + w + H, start + w + 3 * H},
	                                   {e, start + w + 2 * H, start + w + 4 * H}};
	struct sw_roster r = {0};
	bool over;
	(void)state;
	r.members = members;
	r.n_members = 3;
	r.rotation_ms = w;
	r.start_ms = start;
	r.overrides = ov;
	r.n_overrides = 2;
	/* the rotation, until the first override starts */
	assert_string_equal(oncall_who(&r, start + w, &until, &over), "ben");
	assert_false(over);
	assert_int_equal(until, start + w + H);
	/* dana at the instant her override starts, until eve's (listed later) takes over */
	assert_string_equal(oncall_who(&r, start + w + H, &until, &over), "dana");
	assert_true(over);
	assert_int_equal(until, start + w + 2 * H);
	assert_string_equal(oncall_who(&r, start + w + 2 * H, &until, &over), "eve");
	assert_int_equal(until, start + w + 4 * H);
	/* back to the rotation at the instant the last override ends */
	assert_string_equal(oncall_who(&r, start + w + 4 * H, &until, &over), "ben");
	assert_false(over);
	assert_int_equal(until, start + 2 * w);
	assert_string_equal(oncall_who(&r, start + 2 * w, NULL, NULL), "chen");
	(void)c;
	/* nobody: no members, no override */
	r.n_members = 0;
	r.n_overrides = 0;
	assert_null(oncall_who(&r, start, &until, NULL));
	assert_int_equal(until, INT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_below_p2),
	    cmocka_unit_test(test_group_wait_then_opened),
	    cmocka_unit_test(test_growth_threshold_and_group_interval),
	    cmocka_unit_test(test_escalation_at_once_and_resolve),
	    cmocka_unit_test(test_late_detection_one_message),
	    cmocka_unit_test(test_held_while_recovering),
	    cmocka_unit_test(test_reminders_stop_when_acked),
	    cmocka_unit_test(test_silence_mutes_and_releases),
	    cmocka_unit_test(test_outage_handful),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_roster_handover),
	    cmocka_unit_test(test_roster_overrides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
