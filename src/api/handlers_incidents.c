/*
 * handlers_incidents.c - GET /api/v1/incidents (workflow, open, cursor pages),
 * GET /api/v1/incidents/{id} (with the ids of its first 1000 alerts, newest first), and
 * POST .../ack (acks every open alert and the incident) and .../resolve (resolves every
 * open alert with resolved_by "incident"; the incident closes with its last open alert).
 */
#include "util/common.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/forms.h"
#include "api/json.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"

int api_incidents_list(struct api_req *req, struct api_resp *resp)
{
	struct incident_filter f;
	struct incident *v = NULL, *probe = NULL;
	struct sw_err err = {""};
	struct store *st;
	size_t n = 0, np = 0;
	int64_t cursor = 0;
	bool open = false;
	json_t *items;
	int rc;

	memset(&f, 0, sizeof(f));
	if (api_query_page(req, resp, &f.limit, &cursor) ||
	    api_query_bool(req, resp, "open", &open))
		return -1;
	f.open_only = open;
	f.workflow = api_query(req, "workflow");
	f.before_id = cursor;
	if (!(st = api_store(req, resp)))
		return -1;
	rc = store_incidents_list(st, &f, &v, &n, &err);
	if (!rc && n == f.limit) {
		struct incident_filter g = f;
		g.before_id = v[n - 1].id;
		g.limit = 1;
		rc = store_incidents_list(st, &g, &probe, &np, &err);
	}
	if (rc) {
		incidents_free(v, n);
		return api_store_fail(resp, rc, &err);
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, api_incident_json(&v[i]));
	api_list(resp, items, api_next_cursor(req, n, f.limit, n ? v[n - 1].id : 0, np > 0));
	incidents_free(v, n);
	incidents_free(probe, np);
	return 0;
}

/* Answer 200 with the incident and the ids of its (first 1000) alerts. */
static int incident_answer(struct api_resp *resp, struct store *st, int64_t id)
{
	struct incident inc;
	struct alert_filter f;
	struct alert *v = NULL;
	size_t n = 0;
	struct sw_err err = {""};
	json_t *o, *ids;
	int rc = store_incident_get(st, id, &inc, &err);
	if (rc)
		return api_store_fail(resp, rc, &err);
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.incident_id = id;
	f.limit = 1000;
	rc = store_alerts_list(st, &f, &v, &n, &err);
	if (rc) {
		incident_release(&inc);
		return api_store_fail(resp, rc, &err);
	}
	o = api_incident_json(&inc);
	ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_integer(v[i].id));
	json_object_set_new(o, "alert_ids", ids);
	incident_release(&inc);
	alerts_free(v, n);
	return api_json(resp, 200, o);
}

int api_incidents_get(struct api_req *req, struct api_resp *resp)
{
	struct store *st;
	int64_t id;
	if (api_param_id(req, resp, "id", "incident", &id))
		return -1;
	if (!(st = api_store(req, resp)))
		return -1;
	return incident_answer(resp, st, id);
}

static int incident_change(struct api_req *req, struct api_resp *resp, bool resolve)
{
	struct sw_err err = {""};
	struct store *st;
	json_t *body = NULL;
	const json_t *note;
	int64_t id;
	int rc;
	if (api_param_id(req, resp, "id", "incident", &id) ||
	    api_body_object(req, resp, api_body_ack, api_body_ack_n, &body) ||
	    !(st = api_store(req, resp)))
		return -1;
	note = json_object_get(body, "note");
	if (resolve) {
		rc = store_incident_resolve(
		    st, id, api_now(req), arena_printf(req->arena, "user:%s", req->actor),
		    json_is_string(note) ? json_string_value(note) : NULL, NULL, &err);
	} else {
		rc = store_incident_ack(st, id, api_now(req), req->actor,
		                        json_is_string(note) ? json_string_value(note) : NULL, NULL,
		                        &err);
	}
	if (rc)
		return api_store_fail(resp, rc, &err);
	return incident_answer(resp, st, id);
}

int api_incidents_ack(struct api_req *req, struct api_resp *resp)
{
	return incident_change(req, resp, false);
}

int api_incidents_resolve(struct api_req *req, struct api_resp *resp)
{
	return incident_change(req, resp, true);
}
