/*
 * expirer.c - the expire task: ABANDONED for open alerts whose instance made no progress
 * for abandon_after (the user did not come back). Not counted as a resolution.
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
		size_t n = 0;
		int rc;
		if (store_alerts_abandonable(t->store, now, limit, &v, &n, err) < 0)
			return -1;
		ch = xcalloc(n + 1, sizeof(*ch));
		reasons = xcalloc(n + 1, sizeof(*reasons));
		applied = xcalloc(n + 1, sizeof(*applied));
		for (size_t i = 0; i < n; i++) {
			char d[32];
			snprintf(reasons[i], sizeof(reasons[i]), "no progress for %s",
			         duration_format(v[i].abandon_after_ms, d, sizeof(d)));
			ch[i].alert_id = v[i].id;
			ch[i].from = v[i].state;
			ch[i].to = ALERT_ABANDONED;
			ch[i].event = "abandoned";
			ch[i].actor = "expirer";
			ch[i].reason = reasons[i];
			ch[i].next_escalation_at = TIME_NULL;
		}
		rc = n ? store_alerts_change(t->store, now, ch, n, applied, err) : 0;
		for (size_t i = 0; rc == 0 && i < n; i++)
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
