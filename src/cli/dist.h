/*
 * dist.h - the consumer side of distributed mode, shared by `serve` (when broker is set)
 * and `worker`: take one task entry from the broker's stream, run the task of that name
 * from a task set, acknowledge it once the task succeeded.
 */
#ifndef SW_DIST_H
#define SW_DIST_H

#include "util/common.h"
#include "util/timeutil.h"
#include "tasks/health.h"

struct broker;
struct task;

/*
 * Wait up to block_ms for one entry (or claim a stalled one), run it with tasks[0..n) at
 * the clock's time, XACK it when it returned 0 (or when no task has that name: logged, so
 * an entry no node can run does not circulate). Records the broker's reachability as the
 * "broker" component of h. Returns 1 when an entry was handled, 0 when none came, -1 on a
 * broker error (logged; the caller waits a little and calls again).
 */
int dist_consume_one(struct broker *b, const char *consumer, struct task **tasks, size_t n,
                     const struct sw_clock *clock, int block_ms, struct health *h);

#endif
