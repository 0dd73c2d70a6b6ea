/*
 * dist_pool.h - the consumer side of distributed mode (the executor over the broker),
 * shared by the node of `serve` (when broker is set, node.h) and by `worker` (worker.h): a pool of
 * consumer threads that take task entries from the broker's stream, run the task of that name from
 * the task set of the config in force, and acknowledge each entry once its task succeeded.
 *
 * Isolation: the threads share one task set (one store and source connection per task, as
 * in single-node mode) and never run one task on two threads at once: an entry for a task
 * that is already running in this process is acknowledged and dropped (the leader enqueues
 * every task again at its next cadence). So a task stuck in a slow source holds one thread,
 * and the others keep running everything else, given more threads than slow tasks.
 */
#ifndef SW_DIST_POOL_H
#define SW_DIST_POOL_H

#include "util/common.h"
#include "util/timeutil.h"
#include "config/config.h"
#include "util/health.h"

struct rt;
struct dist_pool;

/* Where the pool gets the config in force: get() returns a reference to it (held while a
 * task set is built from it), put() drops one. The pool rebuilds its task set when get()
 * returns another config than its set's (after a reload). */
struct dist_pool_ops {
	const struct sw_config *(*get)(void *ctx);
	void (*put)(void *ctx, const struct sw_config *cfg);
	void *ctx;
};

/* Consumer threads for a config of this many tasks: one per task and one more, at least
 * 2, at most DIST_MAX_THREADS. */
#define DIST_MAX_THREADS 64
unsigned dist_threads_for(const struct sw_config *cfg);

/*
 * Start threads consumers on the broker at url (each with its own connection; an
 * unreachable broker is retried every second, recorded as the "broker" component of h).
 * rt (may be NULL): the runtime whose jobs a task run wakes (wake.h); with it a watcher run
 * also has the time budget of the node's runs. -1 with err when a thread
 * cannot start (none is left running).
 */
int dist_pool_start(const char *url, unsigned threads, const struct dist_pool_ops *ops,
                    struct health *h, const struct sw_clock *clock, struct rt *rt,
                    struct dist_pool **out, struct sw_err *err);
/* Stop: each thread finishes the task it runs; join them; release the task set. NULL ok. */
void dist_pool_stop(struct dist_pool *p);

#endif
