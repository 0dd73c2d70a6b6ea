/*
 * handlers_core.c - handlers that need no store: liveness and the OpenAPI document.
 */
#include "util/common.h"
#include "util/assets.h"
#include "api/handlers.h"

int api_healthz(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	return api_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

int api_openapi(struct api_req *req, struct api_resp *resp)
{
	const struct sw_asset *a = asset_find("api/openapi.json");
	(void)req;
	if (!a)
		return api_error(resp, 500, "the OpenAPI document is not built in");
	return api_raw(resp, 200, "application/json", a->data, a->size);
}
