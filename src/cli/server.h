/*
 * server.h - one stepwatch node in a process: the store schema, the tasks of a config on
 * the runtime (scheduler + worker pool), and the HTTP API. Used by `serve` and `demo`.
 *
 * A config generation (the config and the tasks built from it) is immutable; a reload
 * builds a new generation, swaps the runtime's job set, and frees the old generation once
 * its last run has finished.
 */
#ifndef SW_SERVER_H
#define SW_SERVER_H

#include "util/common.h"
#include "util/timeutil.h"
#include "config/config.h"
#include "util/health.h"

struct server;

struct server_opts {
	const struct sw_clock *clock; /* NULL: the system clock */
	unsigned threads;             /* workers; 0: cores */
	bool no_http;                 /* do not start the API (tests of the tasks alone) */
};

/* Migrate the store, build the tasks of cfg (ownership passes to the server on success),
 * start the runtime and the API. */
int server_start(struct sw_config *cfg, const struct server_opts *opts, struct server **out,
                 struct sw_err *err);
/* Swap in a new config (owned by the server on success; on failure the old one stays and
 * newcfg is the caller's). */
int server_reload(struct server *s, struct sw_config *newcfg, struct sw_err *err);
/* Drain running tasks (up to timeout_ms), stop the API, free everything. */
int server_stop(struct server *s, int64_t timeout_ms);
struct health *server_health(struct server *s);
/* The outbox delivery lanes of this node (tasks/notifier.h). */
struct notifier *server_notifier(struct server *s);
/* The config in force (valid until the next reload; for the main thread). */
const struct sw_config *server_config(struct server *s);
/* The config in force for another thread: held until server_config_put, across reloads. */
const struct sw_config *server_config_get(struct server *s);
void server_config_put(struct server *s, const struct sw_config *cfg);
struct rt_job_stats;
/* A snapshot of the runtime's per-task statistics; free with rt_stats_free (runtime.h). */
size_t server_job_stats(struct server *s, struct rt_job_stats **out);
/* The HTTP port actually bound (when http.listen asked for port 0), or 0. */
int server_http_port(struct server *s);

#endif
