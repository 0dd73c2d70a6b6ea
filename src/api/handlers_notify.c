/*
 * handlers_notify.c - GET /api/v1/notifications: the outbox's deliveries, newest first,
 * filtered by receiver, status and incident (store_notify.c), with what each message said.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/forms.h"
#include "store/store_notify.h"

static json_t *notification_json(const struct outbox_row *r)
{
	json_t *p = r->payload ? json_loads(r->payload, 0, NULL) : NULL;
	const json_t *summary = json_object_get(p, "summary"), *level = json_object_get(p, "level");
	bool pending = r->status && !strcmp(r->status, "pending");
	json_t *o = json_pack(
	    "{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)r->id, "incident_id", (json_int_t)r->incident_id, "receiver",
	    api_str_json(r->receiver), "event", api_str_json(r->event), "summary",
	    api_str_json(json_is_string(summary) ? json_string_value(summary) : NULL), "level",
	    api_str_json(json_is_string(level) ? json_string_value(level) : NULL), "status",
	    api_str_json(r->status), "attempts", (json_int_t)r->attempts, "last_status",
	    r->last_status ? json_integer(r->last_status) : json_null(), "last_error",
	    api_str_json(r->last_error), "idempotency_key", api_str_json(r->idem_key), "created_at",
	    api_time_json(r->created_at), "next_attempt_at",
	    api_time_json(pending ? r->next_attempt_at : TIME_NULL), "last_attempt_at",
	    api_time_json(r->last_attempt_at), "delivered_at", api_time_json(r->delivered_at));
	json_decref(p);
	return o;
}

int api_notifications_list(struct api_req *req, struct api_resp *resp)
{
	struct outbox_filter f;
	struct outbox_row *v = NULL, *probe = NULL;
	struct sw_err err = {""};
	struct store *st;
	size_t n = 0, np = 0;
	int64_t cursor = 0, incident = 0;
	const char *status = api_query(req, "status");
	json_t *items;
	int rc;

	memset(&f, 0, sizeof(f));
	if (api_query_page(req, resp, &f.limit, &cursor) ||
	    api_query_id(req, resp, "incident", &incident))
		return -1;
	if (status && strcmp(status, "pending") && strcmp(status, "sent") &&
	    strcmp(status, "failed"))
		return api_error(resp, 400, "status must be pending, sent or failed");
	f.receiver = api_query(req, "receiver");
	f.status = status;
	f.incident_id = incident;
	f.before_id = cursor;
	if (!(st = api_store(req, resp)))
		return -1;
	rc = store_outbox_list(st, &f, &v, &n, &err);
	if (!rc && n == f.limit) {
		struct outbox_filter g = f;
		g.before_id = v[n - 1].id;
		g.limit = 1;
		rc = store_outbox_list(st, &g, &probe, &np, &err);
	}
	if (rc) {
		outbox_rows_free(v, n);
		return api_store_fail(resp, rc, &err);
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, notification_json(&v[i]));
	api_list(resp, items, api_next_cursor(req, n, f.limit, n ? v[n - 1].id : 0, np > 0));
	outbox_rows_free(v, n);
	outbox_rows_free(probe, np);
	return 0;
}
