/*
 * api.h - what an API handler sees: the request (route, decoded path parameters, query,
 * body, the caller's token name and role, the application context) and the response it
 * fills. Handlers are plain functions listed in the route table (router.c):
 *
 *	static int alerts_get(struct api_req *req, struct api_resp *resp)
 *	{
 *		int64_t id;
 *		if (api_param_id(req, resp, "id", "alert", &id))
 *			return -1;            // resp already holds the 404
 *		...
 *		return api_json(resp, 200, obj);
 *	}
 *
 * Return 0 with resp filled. A negative return with no status set becomes 500 internal
 * (and is logged); a negative return after a helper filled resp keeps that answer.
 *
 * Threads: routes without API_R_INLINE run on a worker thread of the server (never on the
 * thread doing network I/O), so a handler may block on the store; req->worker is that
 * worker's own context (http_opts.worker_init), e.g. its store connection.
 */
#ifndef SW_API_H
#define SW_API_H

#include "util/common.h"
#include "util/strbuf.h"
#include "util/arena.h"
#include "config/config.h"
#include "api/query.h"
#include <jansson.h>

#define API_MAX_BODY   (1024 * 1024)
#define API_MAX_PARAMS 4

struct api_req;
struct api_resp;

typedef int api_handler_fn(struct api_req *req, struct api_resp *resp);

/* Who may call a route: anyone, or a token of at least this role. */
enum api_access {
	API_PUBLIC = -1,
	API_VIEWER = SW_ROLE_VIEWER,
	API_RESPONDER = SW_ROLE_RESPONDER,
	API_ADMIN = SW_ROLE_ADMIN,
};

enum {
	API_R_INLINE = 1 << 0, /* cheap and non-blocking: runs on the I/O thread */
	API_R_BODY = 1 << 1,   /* takes a JSON request body */
};

struct api_route {
	const char *method;  /* "GET", "POST", "DELETE" */
	const char *pattern; /* "/api/v1/alerts/{id}/ack": literal segments and {params} */
	api_handler_fn *handler;
	int access;        /* enum api_access */
	unsigned flags;    /* API_R_* */
	const char *query; /* allowed query parameters, space-separated; NULL: none */
};

struct api_req {
	const struct api_route *route;
	const char *method;
	const char *path; /* raw (still percent-encoded), without the query */
	const char *param_names[API_MAX_PARAMS];
	char *params[API_MAX_PARAMS]; /* decoded path parameters, pattern order */
	size_t n_params;
	struct query query; /* decoded, checked against route->query */
	const char *body;   /* NUL-terminated; "" when none */
	size_t body_len;
	const char *actor; /* token name; "anonymous" without tokens */
	enum sw_role role; /* admin without tokens */
	/* tokens are configured and none valid came (public routes only): show no detail */
	bool unauthenticated;
	void *app;    /* http_opts.app */
	void *worker; /* worker context; NULL on inline routes */
	/* freed when the request ends: what lives only for the request (query values,
	 * cursors, the decoded body, temporary strings) is allocated here, not freed by hand */
	struct arena *arena;
};

#define API_MAX_HEADERS 4

struct api_resp {
	int status;               /* 0 until set */
	const char *content_type; /* NULL: application/json */
	struct strbuf body;
	struct {
		char *name, *value;
	} headers[API_MAX_HEADERS];
	size_t n_headers;
};

void api_resp_init(struct api_resp *r);
void api_resp_release(struct api_resp *r);
/* Add (or replace) a response header; both strings are copied. */
void api_resp_header(struct api_resp *r, const char *name, const char *value);

/* The error code for a status: 400 bad_request, 401 unauthorized, 403 forbidden,
 * 404 not_found, 405 method_not_allowed, 408 request_timeout, 409 conflict,
 * 413 payload_too_large, 415 unsupported_media_type, 421 misdirected_request,
 * 422 unprocessable, 503 unavailable, 501 not_implemented, else internal. */
const char *api_status_code(int status);
/* Fill r with {"error":{"code","message"}} for status (code from api_status_code).
 * The message is made valid UTF-8 (each invalid byte becomes U+FFFD), so client bytes
 * quoted in it never reach the body raw. Returns 0, so handlers can `return api_error(...)`. */
int api_error(struct api_resp *r, int status, const char *fmt, ...) SW_PRINTF(3, 4);
/* How many bytes of s to quote so that at most max bytes are shown and no UTF-8 character
 * is cut: for "%.*s" with (int)api_clip(s, max), s. */
size_t api_clip(const char *s, size_t max);
/* Fill r with v serialized (compact); takes the reference to v. Returns 0. */
int api_json(struct api_resp *r, int status, json_t *v);
/* Fill r with the list envelope {"items": items, "next_cursor": c|null}; takes items. */
int api_list(struct api_resp *r, json_t *items, const char *next_cursor);
/* Fill r with a raw body of the given content type. */
int api_raw(struct api_resp *r, int status, const char *content_type, const void *data, size_t len);

/* ---- request helpers: each returns 0, or -1 with resp filled (400/404/422) ------------- */

/* The next_cursor of a list page: the cursor of last_id when the page is full (n == limit)
 * and more follows, else NULL (the last page). Allocated in req->arena. */
const char *api_next_cursor(const struct api_req *req, size_t n, size_t limit, int64_t last_id,
                            bool more);

/* The decoded path parameter called name, or NULL. */
const char *api_param(const struct api_req *req, const char *name);
/* The path parameter as a positive int64 id; anything else answers 404 "<what> 'x' not
 * found". */
int api_param_id(const struct api_req *req, struct api_resp *resp, const char *name,
                 const char *what, int64_t *id);
/* The query parameter called name, or NULL. */
const char *api_query(const struct api_req *req, const char *name);
/* limit (default 100, 1..1000) and cursor (0 when absent) of a list request. */
int api_query_page(const struct api_req *req, struct api_resp *resp, size_t *limit,
                   int64_t *cursor);
/* Optional typed query values: *out unchanged when absent. */
int api_query_bool(const struct api_req *req, struct api_resp *resp, const char *name, bool *out);
int api_query_time(const struct api_req *req, struct api_resp *resp, const char *name,
                   int64_t *out);
int api_query_id(const struct api_req *req, struct api_resp *resp, const char *name, int64_t *out);

struct api_field;
/* The body decoded strictly against a field table (api/json.h): 400 when it is not JSON
 * (naming the offset), 422 when a field is unknown, missing or of the wrong type. *out
 * belongs to the request (freed with req->arena): do not json_decref() it. */
int api_body_object(const struct api_req *req, struct api_resp *resp, const struct api_field *spec,
                    size_t n, json_t **out);
/* The same for an array of 1..max_items such objects. */
int api_body_array(const struct api_req *req, struct api_resp *resp, const struct api_field *spec,
                   size_t n, size_t max_items, json_t **out);

#endif
