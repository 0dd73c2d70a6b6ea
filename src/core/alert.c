/*
 * alert.c - alert states and SLA escalation math.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/alert.h"
#include <strings.h>

static const char *const state_names[ALERT_STATE_COUNT] = {
    "INITIATED", "ESCALATION_P2", "ESCALATION_P1", "ESCALATION_P0", "RESOLVED", "ABANDONED",
};

const char *alert_state_name(enum alert_state s)
{
	if ((unsigned)s >= ALERT_STATE_COUNT)
		return "UNKNOWN";
	return state_names[s];
}

int alert_state_parse(const char *name)
{
	for (int i = 0; i < ALERT_STATE_COUNT; i++)
		if (!strcasecmp(name, state_names[i]))
			return i;
	return -1;
}

const char *alert_level_name(enum alert_state s)
{
	switch (s) {
	case ALERT_P2: return "P2";
	case ALERT_P1: return "P1";
	case ALERT_P0: return "P0";
	default: return NULL;
	}
}

static int64_t threshold(enum alert_state target, const struct alert_sla *sla)
{
	switch (target) {
	case ALERT_P2: return sla->p2_ms;
	case ALERT_P1: return sla->p1_ms;
	case ALERT_P0: return sla->p0_ms;
	default: return 0;
	}
}

int64_t alert_next_escalation_at(enum alert_state from, int64_t occurred_at,
                                 const struct alert_sla *sla)
{
	for (int t = (int)from + 1; t <= ALERT_P0; t++) {
		int64_t th = threshold((enum alert_state)t, sla);
		if (th > 0)
			return occurred_at + th;
	}
	return TIME_NULL;
}

int alert_escalations_due(enum alert_state cur, int64_t occurred_at, const struct alert_sla *sla,
                          int64_t now, enum alert_state steps[3])
{
	int n = 0, last_due = -1;
	if (!alert_state_open(cur))
		return 0;
	/* the highest enabled level whose threshold has passed */
	for (int t = (int)cur + 1; t <= ALERT_P0; t++) {
		int64_t th = threshold((enum alert_state)t, sla);
		if (th > 0 && occurred_at + th <= now)
			last_due = t;
	}
	for (int t = (int)cur + 1; t <= last_due; t++)
		steps[n++] = (enum alert_state)t;
	return n;
}

bool alert_transition_allowed(enum alert_state from, enum alert_state to)
{
	if (!alert_state_open(from))
		return false;
	if (to == ALERT_RESOLVED || to == ALERT_ABANDONED)
		return true;
	return to > from && to <= ALERT_P0;
}
