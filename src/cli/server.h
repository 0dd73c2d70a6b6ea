/*
 * server.h - one stepwatch node (runtime/node.h) with the HTTP API on top: what `serve` and
 * `demo` run. A reload swaps the node's config generation; the API's tokens and listen
 * address stay those of the start.
 */
#ifndef SW_SERVER_H
#define SW_SERVER_H

#include "util/common.h"
#include "util/timeutil.h"
#include "config/config.h"

struct server;

struct server_opts {
	const struct sw_clock *clock; /* NULL: the system clock */
	unsigned threads;             /* workers; 0: cores */
	bool no_http;                 /* do not start the API (tests of the tasks alone) */
};

/* Migrate the store, build the tasks of cfg (ownership passes to the server on success),
 * start the API and then the tasks. */
int server_start(struct sw_config *cfg, const struct server_opts *opts, struct server **out,
                 struct sw_err *err);
/* Swap in a new config (owned by the server on success; on failure the old one stays and
 * newcfg is the caller's). */
int server_reload(struct server *s, struct sw_config *newcfg, struct sw_err *err);
/* Stop the API, drain running tasks (up to timeout_ms), free everything. */
int server_stop(struct server *s, int64_t timeout_ms);
/* The config in force (valid until the next reload; for the main thread). */
const struct sw_config *server_config(struct server *s);
/* The HTTP port actually bound (when http.listen asked for port 0), or 0. */
int server_http_port(struct server *s);

#endif
