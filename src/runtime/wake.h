/*
 * wake.h - whom a task run wakes. A task reports what its run learned (struct task_result,
 * tasks/tasks.h) and knows nothing of the runtime; the runtime turns the report into kicks
 * of its jobs, so a change is acted on at once rather than at the next cadence of the task
 * that acts on it. Used by the node's jobs (node.c) and by the consumers of distributed
 * mode (dist_pool.c).
 */
#ifndef SW_WAKE_H
#define SW_WAKE_H

#include "util/common.h"

struct rt;
struct task;
struct task_result;

/* Least gap between validate runs woken by escalation times (a floor against a hot loop on
 * an alert that stays due). */
#define WAKE_MIN_GAP_MS 50

/*
 * After a successful run (started at now) of the task named name that reported r, kick
 * the jobs of rt that r concerns:
 *  - r->again (a watcher stopped on its time budget): the task itself, due now;
 *  - r->next_escalation_at: "validate", due then, but not before now + WAKE_MIN_GAP_MS;
 *  - alerts opened or changed, by any task but "notify": "notify", due now (incidents may
 *    owe a message);
 *  - r->ingested (new step records): "resolve", due now (they may show a recovery).
 * A kick of a job that is not in rt's set is ignored.
 */
void wake_after(struct rt *rt, const char *name, const struct task_result *r, int64_t now);

/* Run t at now; when it succeeded and rt is not NULL, wake_after. rt NULL (a worker
 * without a runtime): task_run alone. Returns task_run's result. */
int wake_task_run(struct rt *rt, struct task *t, int64_t now);

#endif
