/*
 * escalation.c - the escalation plan of a due alert (escalation.h). Pure.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/duration.h"
#include "core/escalation.h"

void escalation_plan(enum alert_state state, int64_t occurred_at, const struct alert_sla *sla,
                     int64_t paused_until, int64_t now, struct escalation_plan *out)
{
	enum alert_state due[3], from = state;
	int k;

	memset(out, 0, sizeof(*out));
	if (paused_until != TIME_NULL) {
		/* a silence pauses its escalation: look again later */
		out->kind = ESCALATION_PAUSE;
		out->next_at = paused_until > now ? paused_until : now + ESCALATION_RETRY_MS;
		return;
	}
	k = alert_escalations_due(state, occurred_at, sla, now, due);
	for (int j = 0; j < k && alert_transition_allowed(from, due[j]); j++) {
		struct escalation_step *s = &out->levels[out->n++];
		s->from = from;
		s->to = due[j];
		s->next_at = alert_next_escalation_at(due[j], occurred_at, sla);
		from = due[j];
	}
	if (out->n) {
		out->kind = ESCALATION_ESCALATE;
		return;
	}
	/* due by a stale next_escalation_at (the SLA grew on reload): re-arm it */
	out->kind = ESCALATION_REARM;
	out->next_at = alert_next_escalation_at(state, occurred_at, sla);
	if (out->next_at != TIME_NULL && out->next_at <= now)
		out->next_at = now + ESCALATION_RETRY_MS;
}

static int64_t level_ms(const struct alert_sla *sla, enum alert_state s)
{
	return s == ALERT_P2 ? sla->p2_ms : s == ALERT_P1 ? sla->p1_ms : sla->p0_ms;
}

const char *escalation_reason(enum alert_state to, const struct alert_sla *sla, char *buf, size_t n)
{
	char d[32];
	const char *level = alert_level_name(to);
	snprintf(buf, n, "sla %s %s passed", level ? level : alert_state_name(to),
	         duration_format(level_ms(sla, to), d, sizeof(d)));
	return buf;
}
