/*
 * app.h - what the API handlers reach through req->app and req->worker: the running
 * server (config in force, health) and, per HTTP worker thread, a store connection.
 */
#ifndef SW_API_APP_H
#define SW_API_APP_H

#include "api/api.h"
#include "cli/server.h"
#include "store/store.h"

struct api_app {
	struct server *srv;
	const struct sw_clock *clock;
	char *store_url;
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
