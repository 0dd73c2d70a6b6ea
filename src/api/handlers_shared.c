/*
 * handlers_shared.c - what the store-backed handlers share (handlers-int.h): store errors
 * as HTTP answers.
 */
#include "util/common.h"
#include "util/log.h"
#include "api/handlers-int.h"

int api_store_fail(struct api_resp *resp, int rc, const struct sw_err *err)
{
	if (rc == STORE_ENOTFOUND)
		api_error(resp, 404, "%s", err->msg);
	else if (rc == STORE_ECONFLICT)
		api_error(resp, 409, "%s", err->msg);
	else {
		log_warn("store error", "error=%s", err->msg);
		api_error(resp, 503, "store unavailable");
		api_resp_header(resp, "Retry-After", "1");
	}
	return -1;
}
