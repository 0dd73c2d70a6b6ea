/*
 * handlers_pending.c - the routes whose handlers are not written yet (stats,
 * on-call). Each one already checks its input the way the real handler
 * must (query values), so clients and tests see real 400 answers, and then answers 501
 * not_implemented. Replace a function here by its real version (in a
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

static int pending_range(struct api_req *req, struct api_resp *resp)
{
	int64_t from = TIME_NULL, to = TIME_NULL;
	if (api_query_time(req, resp, "from", &from) || api_query_time(req, resp, "to", &to))
		return -1;
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
