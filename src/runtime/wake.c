/*
 * wake.c - the runtime's answer to what a task run learned (see wake.h).
 */
#include "util/common.h"
#include "runtime/wake.h"
#include "runtime/runtime.h"
#include "tasks/tasks.h"

void wake_after(struct rt *rt, const char *name, const struct task_result *r, int64_t now)
{
	if (r->again)
		rt_kick(rt, name);
	if (r->next_escalation_at != TIME_NULL)
		rt_kick_at(rt, TASK_NAME_VALIDATE,
		           r->next_escalation_at < now + WAKE_MIN_GAP_MS ? now + WAKE_MIN_GAP_MS
		                                                         : r->next_escalation_at);
	if ((r->alerts_opened || r->alerts_changed) && strcmp(name, TASK_NAME_NOTIFY))
		rt_kick(rt, TASK_NAME_NOTIFY);
	if (r->ingested)
		rt_kick(rt, TASK_NAME_RESOLVE);
}

int wake_task_run(struct rt *rt, struct task *t, int64_t now)
{
	struct task_result r;
	int rc;
	if (!rt)
		return task_run(t, now);
	rc = task_run_result(t, now, &r);
	if (rc >= 0)
		wake_after(rt, task_name(t), &r, now);
	return rc;
}
