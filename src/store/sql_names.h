/*
 * sql_names.h - the domain's constants as the store's SQL spells them.
 *
 * Alert states and step statuses are stored as the numbers of their C enums, incident
 * states and rule names as text. Every statement writes them through these macros, never as
 * a literal, and the static assertions below fail the build when an enum and its SQL
 * spelling part. The migrations (store/migrations/) keep literals in their CHECKs and
 * partial indexes; a comment there names the constant. A query meant to use a partial index
 * must spell its predicate as the index does (SQLite matches the terms literally), which
 * these macros keep: "state < " SQL_ALERT_RESOLVED is "state < 4", as in alerts_open_key_idx.
 */
#ifndef SW_STORE_SQL_NAMES_H
#define SW_STORE_SQL_NAMES_H

#include "core/alert.h"
#include "core/step.h"

/* enum alert_state (core/alert.h): alerts.state, alert_history.from_state/to_state,
 * incidents.level. */
#define SQL_ALERT_INITIATED "0"
#define SQL_ALERT_P0        "3"
#define SQL_ALERT_RESOLVED  "4"
#define SQL_ALERT_ABANDONED "5"
_Static_assert(ALERT_INITIATED == 0 && ALERT_P0 == 3 && ALERT_RESOLVED == 4 && ALERT_ABANDONED == 5,
               "SQL_ALERT_* spell enum alert_state");

/* An open alert (alert_state_open) is one whose state is below RESOLVED: statements write
 * "state < " SQL_ALERT_RESOLVED; an open alert with a level still above it, below P0. */
_Static_assert(ALERT_P0 + 1 == ALERT_RESOLVED && ALERT_ABANDONED > ALERT_RESOLVED,
               "the open states are exactly those below RESOLVED");

/* A closed alert (RESOLVED or ABANDONED) is one whose state is RESOLVED or above: statements
 * write "state >= " SQL_ALERT_RESOLVED, the predicate of alerts_closed_state_idx,
 * alerts_closed_user_idx and alerts_closed_key_idx. */

/* Every state, for "state IN (...)": a lookup by (incident_id, user_id) whatever the state
 * probes alerts_incident_idx (incident_id, state, user_id) once per state, each an exact
 * key (the CHECK of alerts.state admits no other value). */
#define SQL_ALERT_EVERY_STATE "0, 1, 2, 3, 4, 5"
_Static_assert(ALERT_STATE_COUNT == 6 && ALERT_INITIATED == 0,
               "SQL_ALERT_EVERY_STATE lists every enum alert_state");

/* enum step_status (core/step.h): instance_steps.status. */
#define SQL_STEP_IN_PROGRESS "0"
#define SQL_STEP_SUCCESS     "1"
#define SQL_STEP_FAILED      "2"
_Static_assert(STEP_IN_PROGRESS == 0 && STEP_SUCCESS == 1 && STEP_FAILED == 2,
               "SQL_STEP_* spell enum step_status");

/* incidents.state (struct incident.open: OPEN is true). */
#define SQL_INCIDENT_OPEN     "'OPEN'"
#define SQL_INCIDENT_RESOLVED "'RESOLVED'"

/* The rules of step records (ALERT_RULE_* of core/alert.h), as SQL text. */
#define SQL_RULE_FAILED "'" ALERT_RULE_FAILED "'"
#define SQL_RULE_STUCK  "'" ALERT_RULE_STUCK "'"

/* alert_history.event and the resolver's name (ALERT_EVENT_*, ALERT_ACTOR_RESOLVER). */
#define SQL_EVENT_OPENED    "'" ALERT_EVENT_OPENED "'"
#define SQL_EVENT_REOPENED  "'" ALERT_EVENT_REOPENED "'"
#define SQL_EVENT_ESCALATED "'" ALERT_EVENT_ESCALATED "'"
#define SQL_ACTOR_RESOLVER  "'" ALERT_ACTOR_RESOLVER "'"

/* outbox.status of a message still to send. */
#define SQL_OUTBOX_PENDING "'pending'"

#endif
