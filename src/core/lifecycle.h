/*
 * lifecycle.h - the step-record lifecycle rules, pure: which record is a step's current
 * state, what a batch of records opens (and with which occurred_at), which steps are stuck
 * and that one stuck episode is one alert, when an alert's workflow recovered, when its
 * user is gone for good (abandonment). No I/O: the tasks and the store feed these functions
 * and act on their answers; docs/internals/lifecycle-rules.md lists each rule, its function
 * here and the SQL that pre-filters (or, for set-based updates, encodes) it.
 *
 * Where a store statement must encode one of these rules for speed, its comment names the
 * function here, and tests/store/test_store_rules.c runs a table of cases through both.
 */
#ifndef SW_CORE_LIFECYCLE_H
#define SW_CORE_LIFECYCLE_H

#include "util/common.h"
#include "core/alert.h"
#include "core/step.h"

/* The rule names of the step-record watchers (custom watchers are named by config). */
#define LIFECYCLE_RULE_FAILED "failed"
#define LIFECYCLE_RULE_STUCK  "stuck"

/* What the lifecycle needs of a step's policy (config's sw_step_policy carries it). */
struct step_rules {
	struct alert_sla sla;
	int64_t stuck_after_ms;   /* <= 0: no stuck detection */
	int64_t abandon_after_ms; /* <= 0: never abandoned */
};

/*
 * Whether record a replaces record b as the current state of their (instance, step): the
 * latest updated_at wins; on a tie the further status (FAILED > SUCCESS > IN_PROGRESS), so
 * the outcome does not depend on arrival order. A record never supersedes an equal one.
 * (SQL: the WHERE of the instance_steps upserts in store/store.c.)
 */
bool step_record_supersedes(int64_t a_updated_at, enum step_status a_status, int64_t b_updated_at,
                            enum step_status b_status);

/* An alert a lifecycle rule decided to open: the record (or row) it comes from, when the
 * problem occurred and when it first escalates (TIME_NULL: never). */
struct alert_opening {
	size_t rec;
	int64_t occurred_at;
	int64_t next_escalation_at;
};

/* When a failed record's problem occurred: its finished_at, else its updated_at. */
int64_t lifecycle_failure_occurred_at(const struct step_record *r);

/* The opening of an alert that occurred at occurred_at under rules r (rec left 0). */
struct alert_opening lifecycle_opening(int64_t occurred_at, const struct step_rules *r);

/*
 * What a batch of step records opens ("failed" alerts). recs[0..n) is the batch in the
 * order the store applied it (by updated_at, stable); current[i] is true when record i
 * became its step's current state (store_steps_ingest's current[i]). rules[step_index]
 * (n_rules entries) is each step's policy.
 *
 * A FAILED record opens an alert when it is the current state of its step and the last
 * such record of its (instance, step) in the batch (a failure that recovered before we saw
 * it is no problem to ticket; one superseded by a newer record is history), unless the
 * instance's last progress in this batch (its latest updated_at) is abandon_after or more
 * before now: a user gone that long is nobody to page about (a first start or a catch-up
 * reading old history).
 *
 * Fills out[] (n entries) ordered by (instance_id, step) and returns how many.
 */
size_t lifecycle_failures_to_open(const struct step_record *recs, const bool *current, size_t n,
                                  const struct step_rules *rules, size_t n_rules, int64_t now,
                                  struct alert_opening *out);

/*
 * Whether a step's stored state is stuck at now: IN_PROGRESS, stuck detection on, started
 * (started_at known) stuck_after or more ago, and, when abandonment is on, updated less
 * than abandon_after ago (a user gone that long is abandoned, not stuck).
 * (SQL pre-filter: store_steps_stuck.)
 */
bool lifecycle_step_stuck(const struct instance_step *s, const struct step_rules *r, int64_t now);

/* When a stuck step's problem occurred: stuck_after past its start (its updated_at when
 * the start is unknown). */
int64_t lifecycle_stuck_occurred_at(const struct instance_step *s, const struct step_rules *r);

/*
 * One stuck episode is one alert: whether an existing "stuck" alert of the same (instance,
 * step), in state `state` and occurred at alert_occurred_at, already covers the attempt
 * that started at step_started_at: it is open, or it occurred during this attempt (however
 * it was closed). A new attempt, with a later started_at, may open another.
 * (SQL: the NOT EXISTS of store_steps_stuck.)
 */
bool lifecycle_stuck_episode_alerted(enum alert_state state, int64_t alert_occurred_at,
                                     int64_t step_started_at);

/* What the store knows of an alert's instance, for the recovery rule. */
struct recovery_view {
	int step_status;    /* the alert's step's current status; -1: no state stored */
	int max_step_index; /* the instance's furthest step; -1: instance unknown */
};

/*
 * Whether an open alert of rule `rule` at step_index recovered: only the step-record rules
 * ("failed", "stuck") recover from stored step states: the alert's step is now SUCCESS
 * (for "stuck": no longer IN_PROGRESS), or the instance reached a later step. Custom
 * watchers recover through their resolve query. A closed alert recovers no more.
 * (SQL: RECOVERED_COND and store_alerts_recovered* in store/store_alerts.c.)
 */
bool lifecycle_alert_recovered(const char *rule, enum alert_state state, int step_index,
                               const struct recovery_view *v);

/*
 * Whether an open alert is abandoned at now: abandonment is on for it (abandon_after_ms >
 * 0) and its instance made no progress for abandon_after: its last progress (the
 * instance's latest updated_at; the alert's occurred_at when the instance is unknown,
 * TIME_NULL) is abandon_after or more before now.
 * (SQL: store_alerts_abandonable.)
 */
bool lifecycle_alert_abandoned(enum alert_state state, int64_t abandon_after_ms,
                               int64_t last_progress_at, int64_t occurred_at, int64_t now);

#endif
