/*
 * validator.c - the validate task: escalate open alerts whose SLA thresholds passed.
 *
 * DESIGN: driven by due time. Each open alert stores next_escalation_at; this task reads
 * only alerts with next_escalation_at <= now (an index), computes with core/alert.c every
 * level passed since occurred_at (a late detection passes several at once, each its own
 * history row), and applies them as compare-and-set changes in one transaction per batch.
 * The SLA is the alert's step policy in the current config; an alert whose workflow or
 * step left the config keeps the defaults of SPEC section 3. A validator built from a new
 * config (at start or on reload) first makes every open alert due once, so escalation
 * times computed under an older config are recomputed under the new SLAs.
 *
 * Silences with pause_escalation: an alert they match (while active) is not escalated; its
 * next check is re-armed to when the silence ends, but at most PAUSE_RECHECK_MS ahead, so
 * a silence ended early (DELETE) lets escalation resume within that time.
 */
#include "util/common.h"
#include "util/log.h"
#include "core/duration.h"
#include "tasks/tasks-int.h"
#include "store/store_alerts.h"
#include "store/store_silences.h"

static const struct alert_sla default_sla = {15 * 60000, 60 * 60000, 4 * 3600000};

#define PAUSE_RECHECK_MS 60000

/* When to look again at an alert paused by a silence, or TIME_NULL when none pauses it. */
static int64_t paused_until(const struct silence *sil, size_t nsil, const struct alert *a,
                            int64_t now)
{
	int64_t until = TIME_NULL;
	for (size_t i = 0; i < nsil; i++)
		if (sil[i].pause_escalation && silence_active(&sil[i], now) &&
		    silence_matches(&sil[i], a->workflow, a->step, a->error) &&
		    (until == TIME_NULL || sil[i].ends_at > until))
			until = sil[i].ends_at;
	if (until != TIME_NULL && until > now + PAUSE_RECHECK_MS)
		until = now + PAUSE_RECHECK_MS;
	return until;
}

static int64_t level_ms(const struct alert_sla *sla, enum alert_state s)
{
	return s == ALERT_P2 ? sla->p2_ms : s == ALERT_P1 ? sla->p1_ms : sla->p0_ms;
}

int task__validate(struct task *t, int64_t now, struct sw_err *err)
{
	struct alert *due = NULL;
	struct silence *sil = NULL;
	struct alert_change *ch = NULL;
	char(*reasons)[64] = NULL;
	size_t n = 0, nsil = 0, limit = task__batch(t);
	int rc = -1;

	if (task__store(t, now, err) < 0)
		return -1;
	if (!t->armed) {
		/* a new config (start, reload) may have other SLAs than the ones the stored
		 * next_escalation_at times came from: recompute every open alert's */
		int64_t rearmed = 0;
		if (store_alerts_rearm(t->store, now, &rearmed, err) < 0)
			return -1;
		if (rearmed)
			log_info("escalation times re-armed", "alerts=%" PRId64, rearmed);
		t->armed = true;
	}
	if (store_silences_active(t->store, now, &sil, &nsil, err) < 0)
		return -1;
	for (int round = 0; round < 1000; round++) {
		size_t nch = 0, applied_any = 0;
		bool *applied;
		if (store_alerts_due(t->store, now, limit, &due, &n, err) < 0)
			goto out;
		if (!n)
			break;
		ch = xcalloc(n * 3, sizeof(*ch));
		reasons = xcalloc(n * 3, sizeof(*reasons));
		applied = xcalloc(n * 3, sizeof(*applied));
		for (size_t i = 0; i < n; i++) {
			const struct sw_step_policy *pol =
			    task__policy(t->env->cfg, due[i].workflow, due[i].step);
			const struct alert_sla *sla = pol ? &pol->sla : &default_sla;
			enum alert_state steps[3], from = due[i].state;
			int64_t paused = paused_until(sil, nsil, &due[i], now);
			int k = alert_escalations_due(due[i].state, due[i].occurred_at, sla, now,
			                              steps);
			if (paused != TIME_NULL) {
				/* a silence pauses its escalation: look again later */
				struct alert_change *c = &ch[nch++];
				c->alert_id = due[i].id;
				c->from = c->to = due[i].state;
				c->event = NULL;
				c->next_escalation_at = paused > now ? paused : now + 1000;
				continue;
			}
			for (int j = 0; j < k; j++) {
				char d[32];
				struct alert_change *c = &ch[nch];
				c->alert_id = due[i].id;
				c->from = from;
				c->to = steps[j];
				c->event = "escalated";
				c->actor = "validator";
				snprintf(reasons[nch], sizeof(reasons[nch]), "sla %s %s passed",
				         alert_level_name(steps[j]),
				         duration_format(level_ms(sla, steps[j]), d, sizeof(d)));
				c->reason = reasons[nch];
				c->next_escalation_at =
				    alert_next_escalation_at(steps[j], due[i].occurred_at, sla);
				from = steps[j];
				nch++;
			}
			if (!k) {
				/* due by a stale next_escalation_at (the SLA grew on reload):
				 * re-arm it without a state change */
				struct alert_change *c = &ch[nch++];
				c->alert_id = due[i].id;
				c->from = c->to = due[i].state;
				c->event = NULL;
				c->next_escalation_at =
				    alert_next_escalation_at(due[i].state, due[i].occurred_at, sla);
				if (c->next_escalation_at != TIME_NULL &&
				    c->next_escalation_at <= now)
					c->next_escalation_at = now + 1000;
			}
		}
		if (store_alerts_change(t->store, now, ch, nch, applied, err) < 0) {
			free(applied);
			goto out;
		}
		for (size_t i = 0; i < nch; i++)
			if (applied[i] && ch[i].event)
				applied_any++;
		t->stats.alerts_changed += (int64_t)applied_any;
		free(applied);
		free(ch);
		free(reasons);
		ch = NULL;
		reasons = NULL;
		alerts_free(due, n);
		due = NULL;
		if (n < limit)
			break;
	}
	rc = 0;
out:
	free(ch);
	free(reasons);
	alerts_free(due, n);
	silences_free(sil, nsil);
	return rc;
}
