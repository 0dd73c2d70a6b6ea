/*
 * app.h - what the API handlers reach through req->app and req->worker: the node they serve,
 * through the small interface below (filled by whoever starts the API, cli/server.c), and,
 * per HTTP worker thread, a store connection. The API knows no more of the node than this.
 */
#ifndef SW_API_APP_H
#define SW_API_APP_H

#include "api/api.h"
#include "store/store.h"
#include "config/config.h"
#include "util/health.h"

struct notifier;
struct rt_job_stats;

struct api_app {
	/* the config in force: config_get holds it (across reloads) until config_put */
	const struct sw_config *(*config_get)(void *host);
	void (*config_put)(void *host, const struct sw_config *cfg);
	/* a snapshot of the runtime's per-task statistics for /metrics; free with
	 * rt_stats_free (runtime/runtime.h) */
	size_t (*job_stats)(void *host, struct rt_job_stats **out);
	void *host;                   /* the first argument of the callbacks */
	struct health *health;        /* the node's health registry (/readyz, /metrics) */
	struct notifier *notifier;    /* this process's delivery lanes (/metrics) */
	const struct sw_clock *clock; /* the node's clock (api_now) */
	char *store_url;              /* each HTTP worker opens its own connection */
};

struct api_worker {
	struct store *st; /* opened lazily; the backend reconnects a broken connection */
};

/* The worker's store connection, or NULL after answering 503 "store unavailable". */
struct store *api_store(struct api_req *req, struct api_resp *resp);
/* The configuration in force, held until api_config_put (a reload may swap it meanwhile). */
const struct sw_config *api_config_get(struct api_req *req);
void api_config_put(struct api_req *req, const struct sw_config *cfg);
int64_t api_now(const struct api_req *req);

void *api_worker_init(void *app, unsigned index);
void api_worker_fini(void *app, void *worker);

#endif
