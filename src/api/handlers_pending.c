/*
 * handlers_pending.c - the routes whose handlers are not written yet (the
 * dashboard). Each one already checks its input the way the real handler
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

int api_dashboard(struct api_req *req, struct api_resp *resp)
{
	return pending(resp, req);
}
