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
 * What to do with each due alert (pause, escalate one level or several, re-arm) is
 * core/escalation.c's escalation_plan; a silence with pause_escalation that matches the
 * alert (core/silence.c, silence_pause_until) pauses it.
 */
#include "util/common.h"
#include "util/log.h"
#include "core/escalation.h"
#include "core/silence.h"
#include "tasks/tasks-int.h"
#include "store/store_alerts.h"
#include "store/store_silences.h"

static const struct alert_sla default_sla = {15 * 60000, 60 * 60000, 4 * 3600000};

int task__validate(struct task *t, int64_t now, struct sw_err *err)
{
	struct alert_due *due = NULL;
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
			struct escalation_plan plan;
			escalation_plan(due[i].state, due[i].occurred_at, sla,
			                silence_pause_until(sil, nsil, due[i].workflow, due[i].step,
			                                    due[i].error, now),
			                now, &plan);
			if (plan.kind != ESCALATION_ESCALATE) {
				/* paused by a silence, or due by a stale time: no state change,
				 * only the next look */
				struct alert_change *c = &ch[nch++];
				c->alert_id = due[i].id;
				c->from = c->to = due[i].state;
				c->event = NULL;
				c->next_escalation_at = plan.next_at;
				continue;
			}
			for (int j = 0; j < plan.n; j++) {
				struct alert_change *c = &ch[nch];
				c->alert_id = due[i].id;
				c->from = plan.levels[j].from;
				c->to = plan.levels[j].to;
				c->event = ALERT_EVENT_ESCALATED;
				c->actor = "validator";
				c->reason = escalation_reason(plan.levels[j].to, sla, reasons[nch],
				                              sizeof(reasons[nch]));
				c->next_escalation_at = plan.levels[j].next_at;
				nch++;
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
		alert_dues_free(due, n);
		due = NULL;
		if (n < limit)
			break;
	}
	rc = 0;
out:
	free(ch);
	free(reasons);
	alert_dues_free(due, n);
	silences_free(sil, nsil);
	return rc;
}
