/*
 * handlers_silences.c - GET /api/v1/silences (active=true: only those active now; cursor
 * pages), POST /api/v1/silences (admin; created_by is the token's name) and
 * DELETE /api/v1/silences/{id} (admin; ends the silence now, keeping it for the record).
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/forms.h"
#include "api/json.h"
#include "store/store_silences.h"

int api_silences_list(struct api_req *req, struct api_resp *resp)
{
	struct silence_filter f;
	struct silence *v = NULL, *probe = NULL;
	struct sw_err err = {""};
	struct store *st;
	size_t n = 0, np = 0;
	int64_t cursor = 0;
	bool active = false;
	json_t *items;
	int rc;

	memset(&f, 0, sizeof(f));
	if (api_query_page(req, resp, &f.limit, &cursor) ||
	    api_query_bool(req, resp, "active", &active))
		return -1;
	f.active_only = active;
	f.now = api_now(req);
	f.before_id = cursor;
	if (!(st = api_store(req, resp)))
		return -1;
	rc = store_silences_list(st, &f, &v, &n, &err);
	if (!rc && n == f.limit) {
		struct silence_filter g = f;
		g.before_id = v[n - 1].id;
		g.limit = 1;
		rc = store_silences_list(st, &g, &probe, &np, &err);
	}
	if (rc) {
		silences_free(v, n);
		return api_store_fail(resp, rc, &err);
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, api_silence_json(&v[i]));
	api_list(resp, items, api_next_cursor(req, n, f.limit, n ? v[n - 1].id : 0, np > 0));
	silences_free(v, n);
	silences_free(probe, np);
	return 0;
}

/* A string field of body, NULL when absent, null or empty. */
static const char *body_str(const json_t *body, const char *key)
{
	const json_t *v = json_object_get(body, key);
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

/* A time field (already checked by the decoder), or dflt. */
static int64_t body_time(const json_t *body, const char *key, int64_t dflt)
{
	const char *s = body_str(body, key);
	int64_t ms;
	return s && !time_parse(s, &ms) ? ms : dflt;
}

int api_silences_create(struct api_req *req, struct api_resp *resp)
{
	struct silence s, got;
	struct sw_err err = {""};
	struct store *st;
	json_t *body = NULL;
	int64_t now, id = 0;
	int rc;

	if (api_body_object(req, resp, api_body_silence, api_body_silence_n, &body) ||
	    !(st = api_store(req, resp)))
		return -1;
	now = api_now(req);
	memset(&s, 0, sizeof(s));
	s.workflow = (char *)(uintptr_t)body_str(body, "workflow");
	s.step = (char *)(uintptr_t)body_str(body, "step");
	s.error = (char *)(uintptr_t)body_str(body, "error");
	s.comment = (char *)(uintptr_t)body_str(body, "comment");
	s.created_by = (char *)(uintptr_t)req->actor;
	s.pause_escalation = json_is_true(json_object_get(body, "pause_escalation"));
	s.starts_at = body_time(body, "starts_at", now);
	s.ends_at = body_time(body, "ends_at", TIME_NULL);
	if (!s.workflow && !s.step && !s.error)
		return api_error(resp, 422,
		                 "a silence needs at least one of 'workflow', 'step', "
		                 "'error'"),
		       -1;
	if (s.ends_at <= s.starts_at)
		return api_error(resp, 422, "field 'ends_at' must be after 'starts_at'"), -1;
	rc = store_silence_create(st, now, &s, &id, &err);
	if (!rc)
		rc = store_silence_get(st, id, &got, &err);
	if (rc)
		return api_store_fail(resp, rc, &err);
	api_json(resp, 201, api_silence_json(&got));
	silence_release(&got);
	return 0;
}

int api_silences_delete(struct api_req *req, struct api_resp *resp)
{
	struct silence got;
	struct sw_err err = {""};
	struct store *st;
	int64_t id;
	int rc;
	if (api_param_id(req, resp, "id", "silence", &id))
		return -1;
	if (!(st = api_store(req, resp)))
		return -1;
	rc = store_silence_expire(st, id, api_now(req), &err);
	if (!rc)
		rc = store_silence_get(st, id, &got, &err);
	if (rc)
		return api_store_fail(resp, rc, &err);
	api_json(resp, 200, api_silence_json(&got));
	silence_release(&got);
	return 0;
}
