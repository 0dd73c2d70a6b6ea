/*
 * worker.h - the tasks of a `stepwatch worker` process (distributed mode, SPEC section 6): the
 * consumer pool of dist_pool.h over the task set of the worker's own config, with no
 * scheduler (the leader `serve` enqueues) and no API. Configs are reference counted: one
 * reference for the one in force, one per consumer task set built from it, so a reload
 * never frees a config a running task reads.
 */
#ifndef SW_WORKER_H
#define SW_WORKER_H

#include "util/common.h"
#include "config/config.h"

struct worker;

/* Start the consumers of cfg->broker_url (set; a malformed URL was refused by the caller,
 * an unreachable broker is retried by the threads). cfg is the worker's on success. *threads
 * (may be NULL): how many consumer threads run. */
int worker_start(struct sw_config *cfg, struct worker **out, unsigned *threads, struct sw_err *err);
/* Make cfg the config in force (the worker's on success). Refused, cfg staying the
 * caller's, when it has no broker, or names another store or broker than the one in force
 * (those apply at the next start). */
int worker_reload(struct worker *w, struct sw_config *cfg, struct sw_err *err);
/* Each consumer finishes the task it runs; join them; free everything. NULL ok. */
void worker_stop(struct worker *w);

#endif
