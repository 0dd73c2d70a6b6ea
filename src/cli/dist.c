/*
 * dist.c - one consumer step of distributed mode (see dist.h and docs/internals/runtime.md).
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/dist.h"
#include "runtime/broker.h"
#include "tasks/tasks.h"

int dist_consume_one(struct broker *b, const char *consumer, struct task **tasks, size_t n,
                     const struct sw_clock *clock, int block_ms, struct health *h)
{
	struct sw_err err = {""};
	char *id = NULL, *name = NULL;
	struct task *t = NULL;
	int rc = broker_next(b, consumer, block_ms, &id, &name, &err);
	if (rc < 0) {
		log_error("broker unavailable", "error=%s", err.msg);
		health_set(h, "broker", false, err.msg, clock_now(clock));
		return -1;
	}
	if (rc == 0)
		return 0;
	for (size_t i = 0; name && i < n && !t; i++)
		if (!strcmp(task_name(tasks[i]), name))
			t = tasks[i];
	if (!t) {
		log_warn("no task of that name in this configuration: dropped", "id=%s task=%s", id,
		         name ? name : "");
	} else if (task_run(t, clock_now(clock)) < 0) {
		/* not acknowledged: it stays pending and is claimed again after the idle time */
		goto out;
	}
	if (broker_ack(b, id, &err) < 0) {
		log_error("cannot acknowledge a task", "id=%s error=%s", id, err.msg);
		health_set(h, "broker", false, err.msg, clock_now(clock));
		rc = -1;
	}
out:
	free(id);
	free(name);
	return rc;
}
