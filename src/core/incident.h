/*
 * incident.h - an incident's level and closing, pure.
 *
 * An incident groups the alerts of one group key (core/grouping.h). Its level is the
 * highest state among its open alerts (INITIATED < P2 < P1 < P0); while none is open it
 * keeps the level it had (the level it closed at). It closes (RESOLVED) when its count of
 * open alerts reaches 0; a closed incident is never reopened: a new alert of its key opens
 * a new incident.
 *
 * The store keeps incidents with set-based UPDATEs (sql_incident_add, sql_incident_delta
 * and their PostgreSQL forms in store/store_alerts.c) that encode incident_level and
 * incident_closes; store_alerts_change counts open_alerts with incident_open_delta.
 * tests/store/test_store_rules.c checks store and core agree on a table of cases.
 */
#ifndef SW_CORE_INCIDENT_H
#define SW_CORE_INCIDENT_H

#include "util/common.h"
#include "core/alert.h"

/* How an alert moving from -> to changes its incident's open_alerts: -1, 0 or +1. */
int64_t incident_open_delta(enum alert_state from, enum alert_state to);

/* The level of an incident whose alerts are in states[0..n): the highest open state; `level`
 * (the current one) when none is open. */
enum alert_state incident_level(const enum alert_state *states, size_t n, enum alert_state level);

/* Whether an incident, open (or not) with open_alerts open alerts, closes when that count
 * moves by delta. */
bool incident_closes(bool open, int64_t open_alerts, int64_t delta);

#endif
