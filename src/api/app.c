/*
 * app.c - per-worker store connections and the config snapshot for handlers.
 */
#include "util/common.h"
#include "util/log.h"
#include "api/app.h"

void *api_worker_init(void *app, unsigned index)
{
	(void)app;
	(void)index;
	return xcalloc(1, sizeof(struct api_worker));
}

void api_worker_fini(void *app, void *worker)
{
	struct api_worker *w = worker;
	(void)app;
	if (w && w->st)
		store_close(w->st);
	free(w);
}

struct store *api_store(struct api_req *req, struct api_resp *resp)
{
	struct api_app *app = req->app;
	struct api_worker *w = req->worker;
	struct sw_err err = {""};
	if (!w) {
		api_error(resp, 500, "route has no worker context");
		return NULL;
	}
	/* no ping per request: a broken PostgreSQL connection is re-established by the
	 * backend at its next statement, and a failure answers 503 through the handler */
	if (!w->st && store_open(app->store_url, &w->st, &err) < 0) {
		w->st = NULL;
		log_warn("store unavailable", "error=%s", err.msg);
		api_error(resp, 503, "store unavailable");
		return NULL;
	}
	return w->st;
}

const struct sw_config *api_config_get(struct api_req *req)
{
	const struct api_app *app = req->app;
	return app->config_get(app->host);
}

void api_config_put(struct api_req *req, const struct sw_config *cfg)
{
	const struct api_app *app = req->app;
	app->config_put(app->host, cfg);
}

int64_t api_now(const struct api_req *req)
{
	return clock_now(((struct api_app *)req->app)->clock);
}
