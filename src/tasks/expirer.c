/*
 * expirer.c - the expire task: ABANDONED for open alerts whose instance made no progress
 * for abandon_after (the user did not come back). Not counted as a resolution. The rule is
 * core/lifecycle.c's lifecycle_alert_abandoned; the store selects by it, in SQL, through an
 * index (store_alerts_abandonable).
 */
#include "util/common.h"
#include "core/duration.h"
#include "tasks/tasks-int.h"
#include "store/store_alerts.h"

int task__expire(struct task *t, int64_t now, struct sw_err *err)
{
	size_t limit = task__batch(t);
	if (task__store(t, now, err) < 0)
		return -1;
	for (int round = 0; round < 1000; round++) {
		struct alert *v = NULL;
		struct alert_change *ch;
		char(*reasons)[64];
		bool *applied;
		size_t n = 0, k = 0;
		int rc;
		if (store_alerts_abandonable(t->store, now, limit, &v, &n, err) < 0)
			return -1;
		ch = xcalloc(n + 1, sizeof(*ch));
		reasons = xcalloc(n + 1, sizeof(*reasons));
		applied = xcalloc(n + 1, sizeof(*applied));
		for (size_t i = 0; i < n; i++) {
			char d[32];
			if (!alert_transition_allowed(v[i].state, ALERT_ABANDONED))
				continue;
			snprintf(reasons[k], sizeof(reasons[k]), "no progress for %s",
			         duration_format(v[i].abandon_after_ms, d, sizeof(d)));
			ch[k].alert_id = v[i].id;
			ch[k].from = v[i].state;
			ch[k].to = ALERT_ABANDONED;
			ch[k].event = "abandoned";
			ch[k].actor = "expirer";
			ch[k].reason = reasons[k];
			ch[k].next_escalation_at = TIME_NULL;
			k++;
		}
		rc = k ? store_alerts_change(t->store, now, ch, k, applied, err) : 0;
		for (size_t i = 0; rc == 0 && i < k; i++)
			t->stats.alerts_changed += applied[i];
		free(ch);
		free(reasons);
		free(applied);
		alerts_free(v, n);
		if (rc < 0)
			return -1;
		if (n < limit)
			break;
	}
	return 0;
}
