/*
 * node.h - one stepwatch node in a process, without its HTTP API: the store schema, the
 * tasks of a config on the runtime (scheduler + worker pool), the notifier's delivery lanes,
 * the store probe and, when the config names a broker, distributed mode (the lease, jobs
 * that only enqueue, and the consumer pool of dist_pool.h). cli/server.c puts the API on top
 * of it for `serve` and `demo`.
 *
 * A config generation (the config and the tasks built from it) is immutable; a reload
 * builds a new generation, swaps the runtime's job set, and frees the old generation once
 * its last run, and its last reader (node_config_get), has finished.
 *
 * Start is in two steps so that whoever puts an API on the node can start it in between:
 * node_open makes the config, health and statistics readable with nothing running yet;
 * node_start runs the tasks.
 */
#ifndef SW_NODE_H
#define SW_NODE_H

#include "util/common.h"
#include "util/timeutil.h"
#include "util/health.h"
#include "config/config.h"

struct node;
struct notifier;
struct rt_job_stats;

struct node_opts {
	const struct sw_clock *clock; /* NULL: the system clock */
	unsigned threads;             /* workers; 0: auto (runtime.h) */
};

/* Migrate the store, start the runtime with no jobs, build the tasks of cfg. Nothing runs
 * yet; cfg stays the caller's until node_start succeeds. */
int node_open(struct sw_config *cfg, const struct node_opts *opts, struct node **out,
              struct sw_err *err);
/* Start distributed mode (cfg->broker_url), the store probe, the jobs and the delivery
 * lanes; cfg is the node's from now on. On failure what it started is stopped again and the
 * node is to be closed with node_stop (cfg still the caller's). */
int node_start(struct node *n, struct sw_err *err);
/* Swap in a new config (the node's on success; on failure the old one stays and newcfg is
 * the caller's). A new store or broker is refused: they apply at the next start. */
int node_reload(struct node *n, struct sw_config *newcfg, struct sw_err *err);
/* Drain running tasks (up to timeout_ms), free everything (the config too, once started).
 * Whoever reads the node's config (an API) must have stopped first. NULL ok. */
int node_stop(struct node *n, int64_t timeout_ms);

struct health *node_health(struct node *n);
/* The outbox delivery lanes of this node (tasks/notifier.h). */
struct notifier *node_notifier(struct node *n);
/* The config in force (valid until the next reload; for the main thread). */
const struct sw_config *node_config(struct node *n);
/* The config in force for another thread: held until node_config_put, across reloads. */
const struct sw_config *node_config_get(struct node *n);
void node_config_put(struct node *n, const struct sw_config *cfg);
/* A snapshot of the runtime's per-task statistics; free with rt_stats_free (runtime.h). */
size_t node_job_stats(struct node *n, struct rt_job_stats **out);

#endif
