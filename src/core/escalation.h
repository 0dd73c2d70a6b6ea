/*
 * escalation.h - the escalation plan of a due alert, pure: what the validator does with an
 * open alert whose next_escalation_at has come (SPEC section 3).
 *
 *  - paused: a silence with pause_escalation matches it (silence_pause_until): no state
 *    change; look again when the silence ends (at most SILENCE_PAUSE_RECHECK_MS ahead), or
 *    ESCALATION_RETRY_MS from now when that time has come already;
 *  - escalate: every level whose SLA threshold (from occurred_at) has passed, in order, each
 *    its own step (its own history row; a late detection passes several at once; a disabled
 *    level is passed over), each with the next escalation time after it; only transitions
 *    alert_transition_allowed allows;
 *  - re-arm: none passed (the alert is due by a stale time, e.g. the SLA grew on a reload):
 *    no state change, next_escalation_at recomputed from the SLA in force, at least
 *    ESCALATION_RETRY_MS from now when that time has come already.
 */
#ifndef SW_CORE_ESCALATION_H
#define SW_CORE_ESCALATION_H

#include "util/common.h"
#include "core/alert.h"

/* How soon a due alert whose next time has come already is looked at again. */
#define ESCALATION_RETRY_MS 1000

enum escalation_kind {
	ESCALATION_PAUSE,    /* no change; look again at next_at */
	ESCALATION_ESCALATE, /* levels[0..n) */
	ESCALATION_REARM     /* no change; next_escalation_at = next_at */
};

struct escalation_step {
	enum alert_state from, to;
	int64_t next_at; /* next_escalation_at once in `to` (TIME_NULL: no further level) */
};

struct escalation_plan {
	enum escalation_kind kind;
	int n;                            /* ESCALATE: levels passed, 1..3 */
	struct escalation_step levels[3]; /* ESCALATE */
	int64_t next_at;                  /* PAUSE, REARM */
};

/*
 * The plan for an alert in state `state` that occurred at occurred_at, under sla, at now.
 * paused_until: silence_pause_until's answer for the alert (TIME_NULL: not paused).
 */
void escalation_plan(enum alert_state state, int64_t occurred_at, const struct alert_sla *sla,
                     int64_t paused_until, int64_t now, struct escalation_plan *out);

/* The history reason of an escalation to `to`: "sla P1 1h passed". */
const char *escalation_reason(enum alert_state to, const struct alert_sla *sla, char *buf,
                              size_t n);

#endif
