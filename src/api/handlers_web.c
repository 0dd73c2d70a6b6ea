/*
 * handlers_web.c - the dashboard: GET / serves the page, /app.js and /app.css its script and
 * style, all three embedded in the binary (src/web, util/assets.h).
 *
 * DESIGN: the page holds no data; its script calls the API (with the bearer token the user
 * pastes, kept in the tab's sessionStorage), so these routes are public and inline. The
 * Content-Security-Policy allows only same-origin scripts, styles and connections, so a
 * string from the API that slipped into markup could still not run a script.
 */
#include "util/common.h"
#include "util/assets.h"
#include "api/handlers.h"

#define CSP                                                                                \
	"default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " \
	"script-src 'self'; frame-ancestors 'none'"

static int serve_asset(struct api_resp *resp, const char *name, const char *content_type)
{
	const struct sw_asset *a = asset_find(name);
	if (!a)
		return api_error(resp, 500, "'%s' is not built in", name);
	api_raw(resp, 200, content_type, a->data, a->size);
	api_resp_header(resp, "Cache-Control", "no-cache");
	api_resp_header(resp, "X-Content-Type-Options", "nosniff");
	return 0;
}

int api_dashboard(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	if (serve_asset(resp, "web/index.html", "text/html; charset=utf-8") < 0 ||
	    resp->status != 200)
		return 0;
	api_resp_header(resp, "Content-Security-Policy", CSP);
	return 0;
}

int api_web_js(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	return serve_asset(resp, "web/app.js", "application/javascript; charset=utf-8");
}

int api_web_css(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	return serve_asset(resp, "web/app.css", "text/css; charset=utf-8");
}
