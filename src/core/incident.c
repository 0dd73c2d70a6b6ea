/*
 * incident.c - an incident's level and closing (incident.h). Pure.
 */
#include "util/common.h"
#include "core/incident.h"

int64_t incident_open_delta(enum alert_state from, enum alert_state to)
{
	return (int64_t)alert_state_open(to) - (int64_t)alert_state_open(from);
}

enum alert_state incident_level(const enum alert_state *states, size_t n, enum alert_state level)
{
	bool any = false;
	enum alert_state top = ALERT_INITIATED;
	for (size_t i = 0; i < n; i++) {
		if (!alert_state_open(states[i]))
			continue;
		if (!any || states[i] > top)
			top = states[i];
		any = true;
	}
	return any ? top : level;
}

bool incident_closes(bool open, int64_t open_alerts, int64_t delta)
{
	return open && open_alerts + delta == 0;
}
