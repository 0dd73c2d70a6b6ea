/*
 * handlers_pending.c - the routes whose store-backed handlers are not written yet. Each
 * one already checks its input the way the real handler must (path ids, query values,
 * the strict body decoders), so clients and tests see real 400/404/422 answers, and then
 * answers 501 not_implemented. Replace a function here by its real version (in a
 * handlers_<area>.c) and delete it from this file; keep the validation calls.
 */
#include "util/common.h"
#include "api/handlers.h"
#include "api/json.h"
#include "util/timeutil.h"

static int pending(struct api_resp *resp, const struct api_req *req)
{
	return api_error_code(resp, 501, "not_implemented", "%s %s is not implemented yet",
	                      req->route->method, req->route->pattern);
}

/* A list route: limit and cursor, and the given typed filters. */
static int pending_list(struct api_req *req, struct api_resp *resp)
{
	size_t limit;
	int64_t cursor, id;
	bool b;
	if (api_query_page(req, resp, &limit, &cursor) || api_query_bool(req, resp, "open", &b) ||
	    api_query_bool(req, resp, "active", &b) || api_query_id(req, resp, "incident", &id))
		return -1;
	return pending(resp, req);
}

static int pending_id(struct api_req *req, struct api_resp *resp, const char *what)
{
	int64_t id;
	if (api_param_id(req, resp, "id", what, &id))
		return -1;
	return pending(resp, req);
}

static int pending_ack(struct api_req *req, struct api_resp *resp, const char *what)
{
	int64_t id;
	json_t *body = NULL;
	if (api_param_id(req, resp, "id", what, &id) ||
	    api_body_object(req, resp, api_body_ack, api_body_ack_n, &body))
		return -1;
	json_decref(body);
	return pending(resp, req);
}

static int pending_range(struct api_req *req, struct api_resp *resp)
{
	int64_t from = TIME_NULL, to = TIME_NULL;
	if (api_query_time(req, resp, "from", &from) || api_query_time(req, resp, "to", &to))
		return -1;
	return pending(resp, req);
}

int api_metrics(struct api_req *req, struct api_resp *resp)
{
	return pending(resp, req);
}

int api_dashboard(struct api_req *req, struct api_resp *resp)
{
	return pending(resp, req);
}

int api_alerts_list(struct api_req *req, struct api_resp *resp)
{
	return pending_list(req, resp);
}

int api_alerts_get(struct api_req *req, struct api_resp *resp)
{
	return pending_id(req, resp, "alert");
}

int api_alerts_ack(struct api_req *req, struct api_resp *resp)
{
	return pending_ack(req, resp, "alert");
}

int api_alerts_resolve(struct api_req *req, struct api_resp *resp)
{
	return pending_ack(req, resp, "alert");
}

int api_incidents_list(struct api_req *req, struct api_resp *resp)
{
	return pending_list(req, resp);
}

int api_incidents_get(struct api_req *req, struct api_resp *resp)
{
	return pending_id(req, resp, "incident");
}

int api_incidents_ack(struct api_req *req, struct api_resp *resp)
{
	return pending_ack(req, resp, "incident");
}

int api_incidents_resolve(struct api_req *req, struct api_resp *resp)
{
	return pending_ack(req, resp, "incident");
}

int api_silences_list(struct api_req *req, struct api_resp *resp)
{
	return pending_list(req, resp);
}

int api_silences_create(struct api_req *req, struct api_resp *resp)
{
	json_t *body = NULL;
	if (api_body_object(req, resp, api_body_silence, api_body_silence_n, &body))
		return -1;
	json_decref(body);
	return pending(resp, req);
}

int api_silences_delete(struct api_req *req, struct api_resp *resp)
{
	return pending_id(req, resp, "silence");
}

int api_instances_get(struct api_req *req, struct api_resp *resp)
{
	return pending(resp, req);
}

int api_users_get(struct api_req *req, struct api_resp *resp)
{
	return pending(resp, req);
}

int api_stats_funnel(struct api_req *req, struct api_resp *resp)
{
	return pending_range(req, resp);
}

int api_stats_tat(struct api_req *req, struct api_resp *resp)
{
	return pending_range(req, resp);
}

int api_stats_segments(struct api_req *req, struct api_resp *resp)
{
	return pending_range(req, resp);
}

int api_stats_alerts(struct api_req *req, struct api_resp *resp)
{
	return pending_range(req, resp);
}

int api_oncall(struct api_req *req, struct api_resp *resp)
{
	return pending(resp, req);
}

int api_step_records_push(struct api_req *req, struct api_resp *resp)
{
	json_t *body = NULL;
	if (api_body_array(req, resp, api_body_step_record, api_body_step_record_n,
	                   API_STEP_RECORDS_MAX, &body))
		return -1;
	json_decref(body);
	return pending(resp, req);
}
