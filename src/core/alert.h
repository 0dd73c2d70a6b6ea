/*
 * alert.h - the alert (ticket) state machine and SLA escalation policy. Pure: no I/O,
 * time comes in as arguments.
 *
 *   INITIATED --p2--> ESCALATION_P2 --p1--> ESCALATION_P1 --p0--> ESCALATION_P0
 *   any open state --> RESOLVED (resolver, user:<name>, incident)
 *   any open state --> ABANDONED (no progress for abandon_after)
 *
 * The enum order is the severity order (open states ascending) and is stored in the
 * database as these integers: never renumber.
 */
#ifndef SW_ALERT_H
#define SW_ALERT_H

#include "util/common.h"

enum alert_state {
	ALERT_INITIATED = 0,
	ALERT_P2 = 1,
	ALERT_P1 = 2,
	ALERT_P0 = 3,
	ALERT_RESOLVED = 4,
	ALERT_ABANDONED = 5,
};
#define ALERT_STATE_COUNT 6

/* The rules of step records (struct alert.rule; custom watchers have their own names). */
#define ALERT_RULE_FAILED "failed"
#define ALERT_RULE_STUCK  "stuck"

/* History events (alert_history.event) and the resolver's name (actor, resolved_by) that
 * the store's statements read or write. */
#define ALERT_EVENT_OPENED    "opened"
#define ALERT_EVENT_REOPENED  "reopened"
#define ALERT_EVENT_ESCALATED "escalated"
#define ALERT_ACTOR_RESOLVER  "resolver"

/* Contract names: "INITIATED", "ESCALATION_P2", ..., "RESOLVED", "ABANDONED". */
const char *alert_state_name(enum alert_state s);
/* Name -> state; -1 if unknown. Accepts the contract names, case-insensitive. */
int alert_state_parse(const char *name);
/* Level names used in config and incidents: "P2", "P1", "P0"; NULL for other states. */
const char *alert_level_name(enum alert_state s);
static inline bool alert_state_open(enum alert_state s)
{
	return s <= ALERT_P0;
}

/* SLA thresholds, measured from occurred_at. A value <= 0 means "level disabled". */
struct alert_sla {
	int64_t p2_ms, p1_ms, p0_ms;
};

/* Threshold (absolute time) at which an alert in state `from` moves one level up;
 * TIME_NULL when there is no further level (P0, closed) or the level is disabled. */
int64_t alert_next_escalation_at(enum alert_state from, int64_t occurred_at,
                                 const struct alert_sla *sla);

/*
 * The escalations due at `now` for an alert in state `cur`: fills steps[] (up to 3) with
 * the successive target states, in order, and returns how many. A late detection may pass
 * several levels at once; each is its own step (its own history row). Disabled levels are
 * skipped over, as if passed.
 */
int alert_escalations_due(enum alert_state cur, int64_t occurred_at, const struct alert_sla *sla,
                          int64_t now, enum alert_state steps[3]);

/* Whether a manual or automatic transition from -> to is allowed by the lifecycle: from an
 * open state to a higher open state, RESOLVED or ABANDONED. POST /api/v1/alerts/{id}/resolve
 * asks it before resolving by hand. */
bool alert_transition_allowed(enum alert_state from, enum alert_state to);

#endif
