/*
 * resp.c - the helpers of api.h that handlers use to read a request and fill a response:
 * the one error shape {"error":{"code","message"}}, JSON bodies, the list envelope, and
 * path and query parameters with their 400/404 answers.
 */
#include "util/common.h"
#include "api/api.h"
#include "api/json.h"
#include "util/utf8.h"

void api_resp_init(struct api_resp *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
}

void api_resp_release(struct api_resp *r)
{
	strbuf_release(&r->body);
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->n_headers = 0;
}

void api_resp_header(struct api_resp *r, const char *name, const char *value)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcmp(r->headers[i].name, name)) {
			free(r->headers[i].value);
			r->headers[i].value = xstrdup(value);
			return;
		}
	if (r->n_headers == API_MAX_HEADERS)
		BUG("more than %d response headers", API_MAX_HEADERS);
	r->headers[r->n_headers].name = xstrdup(name);
	r->headers[r->n_headers].value = xstrdup(value);
	r->n_headers++;
}

const char *api_status_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 408: return "request_timeout";
	case 409: return "conflict";
	case 413: return "payload_too_large";
	case 415: return "unsupported_media_type";
	case 421: return "misdirected_request";
	case 422: return "unprocessable";
	case 501: return "not_implemented";
	case 503: return "unavailable";
	}
	return "internal";
}

size_t api_clip(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, max + 1);
	if (n <= max)
		return n;
	n = max;
	/* back off over continuation bytes to the start of the cut character, and drop it */
	while (n > 0 && (p[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static int verror(struct api_resp *r, int status, const char *code, const char *fmt, va_list ap)
{
	struct strbuf msg = STRBUF_INIT, clean = STRBUF_INIT;
	strbuf_vaddf(&msg, fmt, ap);
	/* messages quote client input (paths, names, values): never echo invalid bytes */
	strbuf_add_utf8_lossy(&clean, msg.buf, msg.len);
	strbuf_reset(&r->body);
	strbuf_addstr(&r->body, "{\"error\":{\"code\":");
	strbuf_add_json_str(&r->body, code);
	strbuf_addstr(&r->body, ",\"message\":");
	strbuf_add_json_str(&r->body, clean.buf);
	strbuf_addstr(&r->body, "}}");
	strbuf_release(&msg);
	strbuf_release(&clean);
	r->status = status;
	r->content_type = NULL;
	return 0;
}

int api_error(struct api_resp *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(r, status, api_status_code(status), fmt, ap);
	va_end(ap);
	return 0;
}

int api_json(struct api_resp *r, int status, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	if (!s)
		return api_error(r, 500, "cannot encode the response");
	strbuf_reset(&r->body);
	strbuf_addstr(&r->body, s);
	free(s);
	r->status = status;
	r->content_type = NULL;
	return 0;
}

int api_list(struct api_resp *r, json_t *items, const char *next_cursor)
{
	json_t *o = json_object();
	json_object_set_new(o, "items", items);
	json_object_set_new(o, "next_cursor", next_cursor ? json_string(next_cursor) : json_null());
	return api_json(r, 200, o);
}

int api_raw(struct api_resp *r, int status, const char *content_type, const void *data, size_t len)
{
	strbuf_reset(&r->body);
	strbuf_add(&r->body, data, len);
	r->status = status;
	r->content_type = content_type;
	return 0;
}

const char *api_param(const struct api_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_params; i++)
		if (req->param_names[i] && !strcmp(req->param_names[i], name))
			return req->params[i];
	return NULL;
}

int api_param_id(const struct api_req *req, struct api_resp *resp, const char *name,
                 const char *what, int64_t *id)
{
	const char *s = api_param(req, name);
	if (!s)
		BUG("route has no parameter '%s'", name);
	if (query_parse_int64(s, 1, INT64_MAX, id)) {
		api_error(resp, 404, "%s '%.*s' not found", what, (int)api_clip(s, 64), s);
		return -1;
	}
	return 0;
}

const char *api_query(const struct api_req *req, const char *name)
{
	return query_get(&req->query, name);
}

static int bad(struct api_resp *resp, const struct sw_err *err)
{
	api_error(resp, 400, "%s", err->msg);
	return -1;
}

int api_query_page(const struct api_req *req, struct api_resp *resp, size_t *limit, int64_t *cursor)
{
	struct sw_err err;
	if (query_limit(&req->query, limit, &err) || query_cursor(&req->query, cursor, &err))
		return bad(resp, &err);
	return 0;
}

int api_query_bool(const struct api_req *req, struct api_resp *resp, const char *name, bool *out)
{
	struct sw_err err;
	return query_bool(&req->query, name, out, &err) ? bad(resp, &err) : 0;
}

int api_query_time(const struct api_req *req, struct api_resp *resp, const char *name, int64_t *out)
{
	struct sw_err err;
	return query_time(&req->query, name, out, &err) ? bad(resp, &err) : 0;
}

int api_query_id(const struct api_req *req, struct api_resp *resp, const char *name, int64_t *out)
{
	struct sw_err err;
	return query_int64(&req->query, name, 1, INT64_MAX, out, &err) ? bad(resp, &err) : 0;
}

const char *api_next_cursor(const struct api_req *req, size_t n, size_t limit, int64_t last_id,
                            bool more)
{
	return n == limit && n > 0 && more ? query_cursor_encode(req->arena, last_id) : NULL;
}

static void body_free(void *body)
{
	json_decref(body);
}

static int body_failed(struct api_resp *resp, int rc, const struct sw_err *err)
{
	api_error(resp, rc == API_JSON_MALFORMED ? 400 : 422, "%s", err->msg);
	return -1;
}

int api_body_object(const struct api_req *req, struct api_resp *resp, const struct api_field *spec,
                    size_t n, json_t **out)
{
	struct sw_err err;
	int rc = api_json_decode(req->body, req->body_len, spec, n, out, &err);
	if (rc)
		return body_failed(resp, rc, &err);
	arena_defer(req->arena, body_free, *out);
	return 0;
}

int api_body_array(const struct api_req *req, struct api_resp *resp, const struct api_field *spec,
                   size_t n, size_t max_items, json_t **out)
{
	struct sw_err err;
	int rc = api_json_decode_array(req->body, req->body_len, spec, n, max_items, out, &err);
	if (rc)
		return body_failed(resp, rc, &err);
	arena_defer(req->arena, body_free, *out);
	return 0;
}
