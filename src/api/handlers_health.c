/*
 * handlers_health.c - GET /readyz: is the store reachable, and is every source, workflow
 * and custom watcher healthy (as their last task runs found them). 200 when all are,
 * 503 otherwise, with the detail either way, the server's clock ("now") and, for each
 * workflow's watcher, how far it has read (rows_read, watermark, lag_seconds, catching_up).
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/app.h"
#include "api/handlers.h"
#include "store/store.h"

int api_readyz(struct api_req *req, struct api_resp *resp)
{
	struct api_app *app = req->app;
	struct api_worker *w = req->worker;
	struct health_entry *e = NULL;
	struct sw_err err = {""};
	size_t n = app ? health_snapshot(app->health, &e) : 0;
	json_t *components = json_array(), *store = json_object();
	bool ok = true;
	char ts[40];
	int64_t now = app ? api_now(req) : time_now_ms();

	if (w && w->st && store_ping(w->st, NULL) < 0) {
		store_close(w->st);
		w->st = NULL;
	}
	if (app && w && !w->st && store_open(app->store_url, &w->st, &err) < 0)
		w->st = NULL;
	if (!w || !w->st || store_ping(w->st, &err) < 0) {
		ok = false;
		json_object_set_new(store, "ok", json_false());
		json_object_set_new(store, "message",
		                    json_string(err.msg[0] ? err.msg : "unavailable"));
	} else {
		json_object_set_new(store, "ok", json_true());
	}
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_pack("{s:s, s:b, s:s}", "name", e[i].name, "ok", e[i].ok, "since",
		                      time_format_rfc3339(e[i].since, ts, sizeof(ts)));
		if (e[i].message)
			json_object_set_new(c, "message", json_string(e[i].message));
		if (e[i].last_ok != TIME_NULL)
			json_object_set_new(
			    c, "last_ok",
			    json_string(time_format_rfc3339(e[i].last_ok, ts, sizeof(ts))));
		if (e[i].has_progress) {
			/* a workflow's watcher: how far it has read */
			json_object_set_new(c, "rows_read", json_integer(e[i].rows_read));
			json_object_set_new(c, "catching_up", json_boolean(e[i].catching_up));
			if (e[i].watermark != TIME_NULL) {
				json_object_set_new(c, "watermark",
				                    json_string(time_format_rfc3339(
				                        e[i].watermark, ts, sizeof(ts))));
				json_object_set_new(
				    c, "lag_seconds",
				    json_real((double)(now - e[i].watermark) / 1000.0));
			}
		}
		json_array_append_new(components, c);
		ok = ok && e[i].ok;
	}
	health_entries_free(e, n);
	if (req->unauthenticated) {
		json_decref(store);
		json_decref(components);
		return api_json(resp, ok ? 200 : 503,
		                json_pack("{s:s}", "status", ok ? "ok" : "degraded"));
	}
	/* now: the server's clock (the demo's runs compressed), so a dashboard can show ages
	 * and "last 24 h" on the clock the data was stamped with */
	time_format_rfc3339(now, ts, sizeof(ts));
	return api_json(resp, ok ? 200 : 503,
	                json_pack("{s:s, s:s, s:o, s:o}", "status", ok ? "ok" : "degraded", "now",
	                          ts, "store", store, "components", components));
}
