/*
 * store_stats.h - figures computed in the store: alert counts (demo, readiness, metrics),
 * flap counts, and the stats API's funnel, durations, segments and alert figures.
 */
#ifndef SW_STORE_STATS_H
#define SW_STORE_STATS_H

#include "store/store.h"
#include "core/alert.h"

struct alert_counts {
	int64_t by_state[ALERT_STATE_COUNT]; /* every alert, by current state */
	int64_t resolved_by_resolver;        /* RESOLVED with resolved_by = "resolver" */
	int64_t open_incidents;
	int64_t affected_users_open; /* distinct users with an open alert */
};
int store_alert_counts(struct store *st, struct alert_counts *out, struct sw_err *err);

/* Flap count of a rule in a workflow (times a closed problem came back). */
int store_rule_flaps(struct store *st, const char *workflow, const char *rule, int64_t *flaps,
                     struct sw_err *err);

/*
 * Ranges: from (inclusive) and to (exclusive) bound an instance's started_at (funnel, TAT,
 * segments) or an alert's opened_at (alert figures); TIME_NULL leaves that side open. An
 * instance without started_at counts as started at 0.
 */
/* One step of the funnel (SPEC section 7). */
struct funnel_step {
	int64_t entered;   /* instances with a record for the step */
	int64_t succeeded; /* ... whose step is SUCCESS now */
	int64_t failed;    /* ... FAILED now */
	int64_t stuck;     /* ... IN_PROGRESS since stuck_before or earlier (0 if disabled) */
	int64_t abandoned; /* ... with an ABANDONED alert at the step */
};
/* The funnel rows of steps[0..n) into out[0..n), in one pass over the range;
 * stuck_before[k] TIME_NULL: stuck detection off for steps[k] (stuck = 0). */
int store_stats_funnel(struct store *st, const char *workflow, const char *const *steps,
                       const int64_t *stuck_before, size_t n, int64_t from, int64_t to,
                       struct funnel_step *out, struct sw_err *err);
/* The funnel row of one step. */
int store_stats_funnel_step(struct store *st, const char *workflow, const char *step, int64_t from,
                            int64_t to, int64_t stuck_before, struct funnel_step *out,
                            struct sw_err *err);
/* Durations in ms, unsorted: with step NULL, completed_at - started_at of the completed
 * instances; else finished_at - started_at of the SUCCESS records of that step (current
 * state). Caller frees *out. */
int store_stats_durations(struct store *st, const char *workflow, const char *step, int64_t from,
                          int64_t to, int64_t **out, size_t *n, struct sw_err *err);
/* Instances started and completed per value of segment `by` (value NULL: no value). */
struct segment_count {
	char *value;
	int64_t started, completed;
};
void segment_counts_free(struct segment_count *v, size_t n);
/* Sorted by value, the NULL value last. */
int store_stats_segments(struct store *st, const char *workflow, const char *by, int64_t from,
                         int64_t to, struct segment_count **out, size_t *n, struct sw_err *err);
/* Alert figures over alerts opened in [from, to). */
struct alert_stats {
	int64_t opened;
	int64_t auto_resolved;     /* RESOLVED by "resolver" */
	int64_t manually_resolved; /* RESOLVED by anyone else (a user, an incident) */
	int64_t abandoned;
	int64_t acked;          /* with acked_at */
	int64_t ack_ms_sum;     /* sum of acked_at - opened_at */
	int64_t resolve_ms_sum; /* sum of resolved_at - opened_at over RESOLVED */
	int64_t escalations[3]; /* history rows "escalated" to P2, P1, P0 */
};
int store_stats_alerts(struct store *st, int64_t from, int64_t to, struct alert_stats *out,
                       struct sw_err *err);

#endif
