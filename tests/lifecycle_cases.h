/*
 * lifecycle_cases.h - tables of lifecycle cases with their expected answers, run through the
 * pure core functions (tests/unit/test_core_lifecycle.c) and through the store statements
 * that encode or pre-filter the same rules (tests/store/test_store_rules.c): the two must
 * give the expected answer on every row, so core and SQL cannot drift apart.
 *
 * Times are offsets in minutes from LC_NOW; LC_NONE is an absent time.
 */
#ifndef SW_TEST_LIFECYCLE_CASES_H
#define SW_TEST_LIFECYCLE_CASES_H

#include "util/common.h"
#include "util/timeutil.h"
#include "core/alert.h"
#include "core/step.h"
#include "core/silence.h"

#define LC_NOW  1764500000000LL
#define LC_MIN  60000LL
#define LC_NONE INT32_MIN

static inline int64_t lc_at(int min)
{
	return min == LC_NONE ? TIME_NULL : LC_NOW + (int64_t)min * LC_MIN;
}

/* step_record_supersedes: record a arrives after b, for the same (instance, step). */
static const struct lc_supersede {
	int a_upd;
	enum step_status a_status;
	int b_upd;
	enum step_status b_status;
	bool supersedes;
} lc_supersede_cases[] = {
    {-1, STEP_IN_PROGRESS, -2, STEP_FAILED, true},  /* later wins, whatever the status */
    {-2, STEP_FAILED, -1, STEP_IN_PROGRESS, false}, /* earlier loses, whatever the status */
    {-1, STEP_SUCCESS, -1, STEP_IN_PROGRESS, true}, /* tie: further status wins */
    {-1, STEP_FAILED, -1, STEP_SUCCESS, true},
    {-1, STEP_FAILED, -1, STEP_IN_PROGRESS, true},
    {-1, STEP_IN_PROGRESS, -1, STEP_SUCCESS, false},
    {-1, STEP_SUCCESS, -1, STEP_FAILED, false},
    {-1, STEP_IN_PROGRESS, -1, STEP_FAILED, false},
    {-1, STEP_SUCCESS, -1, STEP_SUCCESS, false}, /* the same record: nothing changes */
};

/* lifecycle_step_stuck and lifecycle_stuck_episode_alerted: a step's stored state, its
 * policy, and an existing "stuck" alert of it (none, open, or closed, occurred at). */
enum lc_existing {
	LC_NO_ALERT,
	LC_ALERT_OPEN,
	LC_ALERT_CLOSED
};
static const struct lc_stuck {
	enum step_status status;
	int started, updated;           /* minutes from now; started may be LC_NONE */
	int stuck_after, abandon_after; /* minutes; 0: off */
	enum lc_existing existing;
	int alert_occurred; /* minutes from now */
	bool opens;         /* a stuck alert is opened now */
} lc_stuck_cases[] = {
    {STEP_IN_PROGRESS, -40, -40, 30, 0, LC_NO_ALERT, 0, true},
    {STEP_IN_PROGRESS, -30, -30, 30, 0, LC_NO_ALERT, 0, true}, /* exactly stuck_after */
    {STEP_IN_PROGRESS, -29, -29, 30, 0, LC_NO_ALERT, 0, false},
    {STEP_SUCCESS, -40, -40, 30, 0, LC_NO_ALERT, 0, false},
    {STEP_FAILED, -40, -40, 30, 0, LC_NO_ALERT, 0, false},
    {STEP_IN_PROGRESS, LC_NONE, -40, 30, 0, LC_NO_ALERT, 0, false}, /* no start: never */
    {STEP_IN_PROGRESS, -40, -40, 0, 0, LC_NO_ALERT, 0, false},      /* detection off */
    {STEP_IN_PROGRESS, -100, -100, 30, 100, LC_NO_ALERT, 0, false}, /* gone: abandoned */
    {STEP_IN_PROGRESS, -100, -99, 30, 100, LC_NO_ALERT, 0, true},
    {STEP_IN_PROGRESS, -100, -100, 30, 0, LC_NO_ALERT, 0, true}, /* abandonment off */
    {STEP_IN_PROGRESS, -40, -40, 30, 0, LC_ALERT_OPEN, -10, false},
    {STEP_IN_PROGRESS, -40, -40, 30, 0, LC_ALERT_CLOSED, -10, false}, /* same episode */
    {STEP_IN_PROGRESS, -40, -40, 30, 0, LC_ALERT_CLOSED, -40, false}, /* at its start */
    {STEP_IN_PROGRESS, -40, -40, 30, 0, LC_ALERT_CLOSED, -41, true},  /* an earlier one */
};

/* lifecycle_alert_recovered: an alert of rule at step alert_step (of 3 steps), in state,
 * and the stored step states of its instance: the status of the alert's step (-1: none)
 * and the furthest step reached (-1: the instance is unknown). */
static const struct lc_recover {
	const char *rule;
	enum alert_state state;
	int alert_step;
	int step_status;
	int max_step;
	bool recovered;
} lc_recover_cases[] = {
    {"failed", ALERT_INITIATED, 1, STEP_FAILED, 1, false},
    {"failed", ALERT_P1, 1, STEP_SUCCESS, 1, true},
    {"failed", ALERT_INITIATED, 1, STEP_IN_PROGRESS, 1, false}, /* retried, not yet done */
    {"failed", ALERT_INITIATED, 1, STEP_FAILED, 2, true},       /* a later step reached */
    {"failed", ALERT_INITIATED, 1, -1, 2, true},
    {"failed", ALERT_INITIATED, 1, -1, -1, false}, /* nothing known */
    {"stuck", ALERT_INITIATED, 1, STEP_IN_PROGRESS, 1, false},
    {"stuck", ALERT_P2, 1, STEP_FAILED, 1, true}, /* left IN_PROGRESS */
    {"stuck", ALERT_INITIATED, 1, STEP_SUCCESS, 1, true},
    {"stuck", ALERT_INITIATED, 0, STEP_IN_PROGRESS, 2, true},
    {"stuck", ALERT_INITIATED, 1, -1, -1, false},                 /* nothing known */
    {"custom_check", ALERT_INITIATED, 1, STEP_SUCCESS, 2, false}, /* its resolve query */
    {"failed", ALERT_RESOLVED, 1, STEP_SUCCESS, 2, false},        /* closed already */
    {"stuck", ALERT_ABANDONED, 1, STEP_SUCCESS, 2, false},
};

/* lifecycle_alert_abandoned: an alert's state, abandon_after (minutes, 0: off), its
 * occurred_at, and its instance's last progress (LC_NONE: unknown instance). */
static const struct lc_abandon {
	enum alert_state state;
	int abandon_after;
	int occurred;
	int last_progress;
	bool abandoned;
} lc_abandon_cases[] = {
    {ALERT_INITIATED, 60, -90, -60, true}, /* exactly abandon_after */
    {ALERT_P2, 60, -90, -59, false},
    {ALERT_P0, 60, -90, -61, true},
    {ALERT_INITIATED, 0, -900, -900, false},   /* abandonment off */
    {ALERT_INITIATED, 60, -60, LC_NONE, true}, /* unknown instance: from occurred_at */
    {ALERT_INITIATED, 60, -59, LC_NONE, false},
    {ALERT_RESOLVED, 60, -90, -90, false}, /* closed */
};

/* instance_summary_add / instance_summary_merge: up to three batches of up to three records
 * of one instance (workflow of 3 steps), then the stored summary. */
struct lc_rec {
	int step; /* -1: end of the batch */
	enum step_status status;
	int started, finished, updated;
	const char *user, *labels;
};
#define LC_END                                            \
	{                                                 \
		-1, STEP_IN_PROGRESS, 0, 0, 0, NULL, NULL \
	}
static const struct lc_summary {
	struct lc_rec batch[3][3];
	const char *user, *labels;
	int started, last_progress, max_step, completed;
} lc_summary_cases[] = {
    /* one batch: earliest start, latest progress, furthest step, completion */
    {{{{0, STEP_SUCCESS, -50, -45, -45, "u1", "{\"a\":\"1\"}"},
       {1, STEP_SUCCESS, -44, -40, -40, "u1", NULL},
       {2, STEP_SUCCESS, -39, LC_NONE, -30, "u2", "{\"a\":\"2\"}"}},
      {LC_END},
      {LC_END}},
     "u2",
     "{\"a\":\"2\"}",
     -50,
     -30,
     2,
     -30},
    /* a late batch (older records) keeps the newer user and labels; start moves earlier */
    {{{{1, STEP_IN_PROGRESS, -20, LC_NONE, -20, "new", "{\"a\":\"new\"}"}, LC_END},
      {{0, STEP_SUCCESS, -60, -50, -50, "old", "{\"a\":\"old\"}"}, LC_END},
      {LC_END}},
     "new",
     "{\"a\":\"new\"}",
     -60,
     -20,
     1,
     LC_NONE},
    /* completion is set once: a later success of the last step does not move it */
    {{{{2, STEP_SUCCESS, -30, -25, -25, "u", NULL}, LC_END},
      {{2, STEP_SUCCESS, -10, -5, -5, NULL, NULL}, LC_END},
      {LC_END}},
     "u",
     NULL,
     -30,
     -5,
     2,
     -25},
    /* no start known; a later record without a user keeps the user; failure of the last
     * step does not complete */
    {{{{0, STEP_IN_PROGRESS, LC_NONE, LC_NONE, -9, "u", NULL}, LC_END},
      {{2, STEP_FAILED, LC_NONE, -3, -3, NULL, "{\"b\":null}"}, LC_END},
      {{1, STEP_SUCCESS, LC_NONE, LC_NONE, -4, "other", NULL}, LC_END}},
     "u",
     "{\"b\":null}",
     LC_NONE,
     -3,
     2,
     LC_NONE},
    /* a later start in a later batch leaves the earliest */
    {{{{0, STEP_IN_PROGRESS, -40, LC_NONE, -40, "u", NULL}, LC_END},
      {{0, STEP_SUCCESS, -10, -8, -8, "u", NULL}, LC_END},
      {LC_END}},
     "u",
     NULL,
     -40,
     -8,
     0,
     LC_NONE},
};

/* incident_level / incident_closes: alerts of one incident opened (INITIATED), then the
 * changes applied one by one (alert index, to); the incident at the end. */
#define LC_CHANGES_END              \
	{                           \
		-1, ALERT_INITIATED \
	}
static const struct lc_incident {
	int n_alerts;
	struct {
		int alert; /* -1: end */
		enum alert_state to;
	} changes[6];
	enum alert_state level;
	bool open;
	int open_alerts;
} lc_incident_cases[] = {
    {2, {LC_CHANGES_END}, ALERT_INITIATED, true, 2},
    {2, {{0, ALERT_P2}, {0, ALERT_P1}, LC_CHANGES_END}, ALERT_P1, true, 2},
    {2,
     {{0, ALERT_P2}, {1, ALERT_P2}, {1, ALERT_P1}, {1, ALERT_RESOLVED}, LC_CHANGES_END},
     ALERT_P2,
     true,
     1},
    /* closes when the last open alert closes, keeping the level it had */
    {2,
     {{0, ALERT_P2}, {0, ALERT_P1}, {0, ALERT_RESOLVED}, {1, ALERT_ABANDONED}, LC_CHANGES_END},
     ALERT_INITIATED,
     false,
     0},
    {1,
     {{0, ALERT_P2}, {0, ALERT_P1}, {0, ALERT_P0}, {0, ALERT_RESOLVED}, LC_CHANGES_END},
     ALERT_P0,
     false,
     0},
    {3, {{2, ALERT_P2}, {1, ALERT_ABANDONED}, LC_CHANGES_END}, ALERT_P2, true, 2},
};

/* silence_active, as store_silences_active pre-filters it: a silence from starts to ends. */
static const struct lc_silence {
	int starts, ends;
	bool active;
} lc_silence_cases[] = {
    {-10, 10, true}, {0, 10, true}, /* starts_at inclusive */
    {-10, 0, false},                /* ends_at exclusive */
    {1, 10, false},  {-20, -10, false},
};

#endif
