/*
 * test_api_server.c - the API server through real sockets on 127.0.0.1 (libcurl as the
 * client, raw sockets where curl would be too polite): routing errors, tokens and roles,
 * body limits, JSON and query errors, the loopback rule, idle connections, slow handlers,
 * and the edge of the wire: Host (DNS rebinding), Origin, Content-Type, query floods,
 * duplicate and NUL-bearing headers, UTF-8 in error bodies, /readyz detail, bodies written
 * whole before the answer is read, and slow-dripping connections.
 */
#include "helpers.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "api/http.h"
#include "api/query.h"
#include "api/auth.h"
#include "util/utf8.h"
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

static char n1[] = "ops-viewer", n2[] = "ops-bot", n3[] = "root";
static char s1[] = "viewer-secret-1", s2[] = "responder-secret-2", s3[] = "admin-secret-3";
static struct sw_token tokens[] = {
    {n1, NULL, s1, SW_ROLE_VIEWER},
    {n2, NULL, s2, SW_ROLE_RESPONDER},
    {n3, NULL, s3, SW_ROLE_ADMIN},
};
#define VIEWER    "viewer-secret-1"
#define RESPONDER "responder-secret-2"
#define ADMIN     "admin-secret-3"

static struct http_server *srv;
static int port;

struct res {
	long status;
	struct strbuf body;
	char allow[128];
	char www_auth[128];
	json_t *json;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	strbuf_add(&((struct res *)ud)->body, p, size * n);
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct res *r = ud;
	size_t len = size * n;
	char *dst = NULL;
	if (len > 6 && !strncasecmp(p, "Allow:", 6))
		dst = r->allow;
	else if (len > 17 && !strncasecmp(p, "WWW-Authenticate:", 17))
		dst = r->www_auth;
	if (dst) {
		const char *v = (const char *)memchr(p, ':', len) + 1;
		size_t vl = len - (size_t)(v - p);
		while (vl && (*v == ' '))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		snprintf(dst, 128, "%.*s", (int)vl, v);
	}
	return len;
}

static void res_release(struct res *r)
{
	strbuf_release(&r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* One request; the body is parsed into r->json when it is JSON. */
static long req_at(int p, const char *method, const char *path, const char *token, const char *body,
                   struct res *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[2048], auth[256];
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", p, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r->json = json_loadb(r->body.buf, r->body.len, 0, NULL);
	return r->status;
}

static long req(const char *method, const char *path, const char *token, const char *body,
                struct res *r)
{
	return req_at(port, method, path, token, body, r);
}

/* The error object must be {"error":{"code":code,"message":<contains msg>}}. */
static void assert_error(const struct res *r, const char *code, const char *msg)
{
	json_t *e;
	assert_non_null(r->json);
	e = json_object_get(r->json, "error");
	assert_non_null(e);
	assert_int_equal(json_object_size(r->json), 1);
	assert_int_equal(json_object_size(e), 2);
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	if (msg && !strstr(json_string_value(json_object_get(e, "message")), msg))
		fail_msg("message '%s' does not contain '%s'",
		         json_string_value(json_object_get(e, "message")), msg);
}

/* The server of setup() has no app and no store: a request that passes routing, auth and
 * validation reaches its handler, which answers 500 "route has no worker context". The
 * store-backed behaviour is tested against a real serve (tests/integration/api.sh). */
#define NO_STORE 500

static int setup(void **state)
{
	struct http_opts o = {.listen = "127.0.0.1:0", .tokens = tokens, .n_tokens = 3};
	struct sw_err err;
	(void)state;
	curl_global_init(CURL_GLOBAL_ALL);
	if (http_start(&o, &srv, &err))
		fail_msg("%s", err.msg);
	port = http_port(srv);
	assert_true(port > 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	http_stop(srv);
	curl_global_cleanup();
	return 0;
}

static void test_healthz(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("GET", "/healthz", NULL, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
	res_release(&r);
	/* an unknown token on a public route is ignored */
	assert_int_equal(req("GET", "/healthz", "nope", NULL, &r), 200);
	res_release(&r);
}

static void test_not_found(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("GET", "/nope", VIEWER, NULL, &r), 404);
	assert_error(&r, "not_found", "/nope");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts/", VIEWER, NULL, &r), 404);
	assert_error(&r, "not_found", NULL);
	res_release(&r);
	/* an id that is not one: 404, not 400 */
	assert_int_equal(req("GET", "/api/v1/alerts/abc", VIEWER, NULL, &r), 404);
	assert_error(&r, "not_found", "alert 'abc' not found");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/incidents/-1", VIEWER, NULL, &r), 404);
	res_release(&r);
	assert_int_equal(req("DELETE", "/api/v1/silences/99999999999999999999", ADMIN, NULL, &r),
	                 404);
	res_release(&r);
	/* a bad escape in the path */
	assert_int_equal(req("GET", "/api/v1/users/%zz", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", NULL);
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/users/a%00b", VIEWER, NULL, &r), 400);
	res_release(&r);
}

static void test_method_not_allowed(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("DELETE", "/api/v1/alerts", ADMIN, NULL, &r), 405);
	assert_error(&r, "method_not_allowed", "DELETE");
	assert_string_equal(r.allow, "GET");
	res_release(&r);
	assert_int_equal(req("PUT", "/api/v1/silences", ADMIN, NULL, &r), 405);
	assert_string_equal(r.allow, "GET, POST");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts/1/ack", ADMIN, NULL, &r), 405);
	assert_string_equal(r.allow, "POST");
	res_release(&r);
}

static void test_openapi_served(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("GET", "/api/v1/openapi.json", NULL, NULL, &r), 200);
	assert_non_null(r.json);
	assert_string_equal(json_string_value(json_object_get(r.json, "openapi")), "3.0.3");
	assert_non_null(json_object_get(json_object_get(r.json, "paths"), "/api/v1/alerts"));
	res_release(&r);
}

static void test_tokens_and_roles(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("GET", "/api/v1/alerts", NULL, NULL, &r), 401);
	assert_error(&r, "unauthorized", "missing");
	assert_true(!strncmp(r.www_auth, "Bearer", 6));
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts", "wrong-secret", NULL, &r), 401);
	assert_error(&r, "unauthorized", "invalid token");
	assert_non_null(strstr(r.www_auth, "invalid_token"));
	res_release(&r);
	/* a token that is a prefix of a real one is wrong */
	assert_int_equal(req("GET", "/api/v1/alerts", "viewer-secret", NULL, &r), 401);
	res_release(&r);
	/* a viewer reads but may not ack or resolve */
	assert_int_equal(req("GET", "/api/v1/alerts", VIEWER, NULL, &r), NO_STORE);
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/alerts/1/ack", VIEWER, "{}", &r), 403);
	assert_error(&r, "forbidden", "needs responder");
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/alerts/1/resolve", VIEWER, "{}", &r), 403);
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/incidents/1/resolve", VIEWER, "{}", &r), 403);
	res_release(&r);
	/* a responder passes; silences need admin */
	assert_int_equal(req("POST", "/api/v1/alerts/1/ack", RESPONDER, "{\"note\":\"on it\"}", &r),
	                 NO_STORE);
	assert_error(&r, "internal", "no worker context");
	res_release(&r);
	assert_int_equal(req("DELETE", "/api/v1/silences/1", RESPONDER, NULL, &r), 403);
	res_release(&r);
	assert_int_equal(req("DELETE", "/api/v1/silences/1", ADMIN, NULL, &r), NO_STORE);
	res_release(&r);
	/* unauthenticated requests to public routes */
	/* no server behind this test API: no metrics to give */
	assert_int_equal(req("GET", "/metrics", NULL, NULL, &r), 503);
	res_release(&r);
	/* no store behind this test server: not ready */
	assert_int_equal(req("GET", "/readyz", NULL, NULL, &r), 503);
	res_release(&r);
}

/* Headers of a 2 MiB body, and not one byte of it: the 413 must come anyway. */
static void test_body_too_large_declared(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char head[512], buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;
	struct timeval tv = {2, 0};
	int64_t t0;
	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = snprintf(head, sizeof(head),
	             "POST /api/v1/step-records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
	             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
	             RESPONDER, 2 * 1024 * 1024);
	t0 = time_mono_ms();
	assert_int_equal(write(fd, head, (size_t)n), n);
	n = (int)read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(time_mono_ms() - t0 < 1000);
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	assert_non_null(strstr(buf, "payload_too_large"));
	close(fd);
}

struct chunk_src {
	size_t left;
};

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	struct chunk_src *c = ud;
	size_t k = size * n < c->left ? size * n : c->left;
	memset(p, ' ', k);
	c->left -= k;
	return k;
}

static void test_body_too_large_chunked(void **state)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct chunk_src src = {3 * 1024 * 1024 / 2};
	struct res r;
	char url[128];
	(void)state;
	memset(&r, 0, sizeof(r));
	strbuf_init(&r.body, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/step-records", port);
	h = curl_slist_append(h, "Authorization: Bearer " RESPONDER);
	h = curl_slist_append(h, "Transfer-Encoding: chunked");
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &src);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	assert_int_equal(r.status, 413);
	r.json = json_loadb(r.body.buf, r.body.len, 0, NULL);
	assert_error(&r, "payload_too_large", "1048576");
	res_release(&r);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void test_body_errors(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("POST", "/api/v1/alerts/1/ack", RESPONDER, "{\"by\": \"x\",}", &r),
	                 400);
	assert_error(&r, "bad_request", "malformed JSON at offset 12");
	res_release(&r);
	assert_int_equal(
	    req("POST", "/api/v1/alerts/1/ack", RESPONDER, "{\"by\": \"x\", \"bye\": 1}", &r), 422);
	assert_error(&r, "unprocessable", "unknown field 'bye'");
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/alerts/1/resolve", RESPONDER, "{\"by\": 7}", &r),
	                 422);
	assert_error(&r, "unprocessable", "field 'by' must be a string");
	res_release(&r);
	assert_int_equal(
	    req("POST", "/api/v1/alerts/1/ack", RESPONDER, "{\"by\":\"a\",\"by\":\"b\"}", &r), 400);
	assert_error(&r, "bad_request", "duplicate");
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/silences", ADMIN, "{\"workflow\": \"loan\"}", &r),
	                 422);
	assert_error(&r, "unprocessable", "field 'ends_at' is required");
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/silences", ADMIN,
	                     "{\"ends_at\": \"tomorrow\", \"workflow\": \"loan\"}", &r),
	                 422);
	assert_error(&r, "unprocessable", "field 'ends_at' must be an RFC 3339 time string");
	res_release(&r);
	assert_int_equal(req("POST", "/api/v1/step-records", RESPONDER, "{}", &r), 422);
	assert_error(&r, "unprocessable", "expected a JSON array");
	res_release(&r);
	assert_int_equal(
	    req("POST", "/api/v1/step-records", RESPONDER,
	        "[{\"workflow\":\"loan\",\"instance_id\":1,\"user_id\":\"u\",\"step\":"
	        "\"kyc\",\"status\":\"FAILED\",\"started_at\":\"2026-01-01T00:00:00Z\","
	        "\"updated_at\":\"2026-01-01T00:01:00Z\",\"channel\":\"web\"}]",
	        &r),
	    422);
	assert_error(&r, "unprocessable", "item 0: unknown field 'channel'");
	res_release(&r);
	/* a well-formed body gets through to the handler */
	assert_int_equal(req("POST", "/api/v1/silences", ADMIN,
	                     "{\"ends_at\": \"2026-01-01T10:00:00Z\", \"workflow\": \"loan\", "
	                     "\"pause_escalation\": true}",
	                     &r),
	                 NO_STORE);
	res_release(&r);
}

static void test_query_errors(void **state)
{
	struct res r;
	char path[128];
	struct arena a = ARENA_INIT;
	char *cur = query_cursor_encode(&a, 42);
	(void)state;
	assert_int_equal(req("GET", "/api/v1/alerts?limit=0", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", "limit must be 1..1000");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?limit=1001", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", "limit must be 1..1000");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?limit=10x", VIEWER, NULL, &r), 400);
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?limit=1000", VIEWER, NULL, &r), NO_STORE);
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?cursor=%21%21", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", "invalid cursor");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/incidents?cursor=MDA", VIEWER, NULL, &r), 400);
	res_release(&r);
	snprintf(path, sizeof(path), "/api/v1/alerts?limit=5&cursor=%s", cur);
	assert_int_equal(req("GET", path, VIEWER, NULL, &r), NO_STORE);
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?colour=red", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", "unknown query parameter 'colour'");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?state=a&state=b", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", "given twice");
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?open=maybe", VIEWER, NULL, &r), 400);
	assert_error(&r, "bad_request", "open must be true or false");
	res_release(&r);
	assert_int_equal(
	    req("GET", "/api/v1/stats/funnel?workflow=loan&from=yesterday", VIEWER, NULL, &r), 400);
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/healthz?x=%zz", VIEWER, NULL, &r), 404);
	res_release(&r);
	assert_int_equal(req("GET", "/api/v1/alerts?x=%zz", VIEWER, NULL, &r), 400);
	res_release(&r);
	arena_release(&a);
}

static void test_refuses_open_non_loopback(void **state)
{
	struct http_opts o = {.listen = "0.0.0.0:0"};
	struct http_server *s = NULL;
	struct sw_err err;
	(void)state;
	assert_int_equal(http_start(&o, &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, "refusing to listen on '0.0.0.0:0' without http.tokens"));
	o.listen = "[::]:0";
	assert_int_equal(http_start(&o, &s, &err), -1);
	/* with tokens it may */
	o.listen = "0.0.0.0:0";
	o.tokens = tokens;
	o.n_tokens = 1;
	assert_int_equal(http_start(&o, &s, &err), 0);
	http_stop(s);
	/* bad addresses */
	o.listen = "127.0.0.1";
	assert_int_equal(http_start(&o, &s, &err), -1);
	o.listen = "127.0.0.1:99999";
	assert_int_equal(http_start(&o, &s, &err), -1);
	/* a port in use */
	{
		char addr[64];
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		o.listen = addr;
		assert_int_equal(http_start(&o, &s, &err), -1);
		assert_non_null(strstr(err.msg, "cannot listen on"));
	}
}

/* Without tokens on loopback: open, every caller admin, actor "anonymous"; IPv6 too. */
static int whoami(struct api_req *req, struct api_resp *resp)
{
	return api_json(resp, 200,
	                json_pack("{s:s,s:i,s:b}", "actor", req->actor, "role", (int)req->role,
	                          "worker", req->worker != NULL));
}

static int slow(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	usleep(1500 * 1000);
	return api_json(resp, 200, json_pack("{s:s}", "slow", "done"));
}

static int failing(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	(void)resp;
	return -1;
}

static int healthz(struct api_req *req, struct api_resp *resp)
{
	(void)req;
	return api_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static const struct api_route test_routes[] = {
    {"GET", "/whoami", whoami, API_VIEWER, 0, NULL},
    {"GET", "/slow", slow, API_VIEWER, 0, NULL},
    {"GET", "/fail", failing, API_VIEWER, 0, NULL},
    {"GET", "/healthz", healthz, API_PUBLIC, API_R_INLINE, NULL},
};

static void *worker_init(void *app, unsigned index)
{
	int *n = app;
	__atomic_fetch_add(n, 1, __ATOMIC_SEQ_CST);
	return xasprintf("worker-%u", index);
}

static void worker_fini(void *app, void *w)
{
	int *n = app;
	__atomic_fetch_sub(n, 1, __ATOMIC_SEQ_CST);
	free(w);
}

static void test_open_loopback_and_workers(void **state)
{
	int live = 0;
	struct http_opts o = {.listen = "127.0.0.1:0",
	                      .routes = test_routes,
	                      .n_routes = ARRAY_SIZE(test_routes),
	                      .app = &live,
	                      .worker_init = worker_init,
	                      .worker_fini = worker_fini,
	                      .workers = 3};
	struct http_server *s;
	struct sw_err err;
	struct res r;
	(void)state;
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(req_at(http_port(s), "GET", "/whoami", NULL, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "actor")), "anonymous");
	assert_int_equal(json_integer_value(json_object_get(r.json, "role")), SW_ROLE_ADMIN);
	assert_true(json_is_true(json_object_get(r.json, "worker")));
	res_release(&r);
	assert_int_equal(req_at(http_port(s), "GET", "/fail", NULL, NULL, &r), 500);
	assert_error(&r, "internal", NULL);
	res_release(&r);
	assert_int_equal(live, 3);
	http_stop(s);
	assert_int_equal(live, 0);

	o.listen = "[::1]:0";
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	{
		CURL *c = curl_easy_init();
		char url[64];
		long st = 0;
		snprintf(url, sizeof(url), "http://[::1]:%d/healthz", http_port(s));
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		memset(&r, 0, sizeof(r));
		strbuf_init(&r.body, 0);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
		assert_int_equal(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		assert_int_equal(st, 200);
		curl_easy_cleanup(c);
		res_release(&r);
	}
	http_stop(s);
}

/* The actor a token's request runs as is the token's name. */
static void test_actor_is_token_name(void **state)
{
	struct http_opts o = {.listen = "127.0.0.1:0",
	                      .tokens = tokens,
	                      .n_tokens = 3,
	                      .routes = test_routes,
	                      .n_routes = ARRAY_SIZE(test_routes)};
	struct http_server *s;
	struct sw_err err;
	struct res r;
	(void)state;
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(req_at(http_port(s), "GET", "/whoami", RESPONDER, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "actor")), "ops-bot");
	assert_int_equal(json_integer_value(json_object_get(r.json, "role")), SW_ROLE_RESPONDER);
	res_release(&r);
	http_stop(s);
}

struct slow_call {
	int port;
	long status;
};

static void *call_slow(void *arg)
{
	struct slow_call *sc = arg;
	struct res r;
	sc->status = req_at(sc->port, "GET", "/slow", NULL, NULL, &r);
	res_release(&r);
	return NULL;
}

/* Slow handlers occupy workers, never the I/O threads. */
static void test_slow_handler_does_not_block(void **state)
{
	struct http_opts o = {.listen = "127.0.0.1:0",
	                      .routes = test_routes,
	                      .n_routes = ARRAY_SIZE(test_routes),
	                      .io_threads = 1,
	                      .workers = 4};
	struct http_server *s;
	struct sw_err err;
	struct slow_call sc[3];
	pthread_t t[3];
	struct res r;
	int64_t t0;
	(void)state;
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	for (int i = 0; i < 3; i++) {
		sc[i].port = http_port(s);
		pthread_create(&t[i], NULL, call_slow, &sc[i]);
	}
	usleep(200 * 1000);
	t0 = time_mono_ms();
	assert_int_equal(req_at(http_port(s), "GET", "/healthz", NULL, NULL, &r), 200);
	res_release(&r);
	assert_int_equal(req_at(http_port(s), "GET", "/whoami", NULL, NULL, &r), 200);
	res_release(&r);
	assert_true(time_mono_ms() - t0 < 500);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(sc[i].status, 200);
	}
	http_stop(s);
}

static void test_idle_connections(void **state)
{
	enum {
		N = 2000
	};
	struct rlimit rl;
	int *fds = xcalloc(N, sizeof(int));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct res r;
	int64_t t0, took;
	(void)state;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 3 * N) {
		rl.rlim_cur = rl.rlim_max < 3 * N ? rl.rlim_max : 3 * N;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	assert_true(rl.rlim_cur >= 2 * N + 100);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	/* half of them send a partial request line and stall */
	for (int i = 0; i < N; i += 2)
		assert_int_equal(write(fds[i], "GET /heal", 9), 9);
	usleep(300 * 1000);
	t0 = time_mono_ms();
	assert_int_equal(req("GET", "/healthz", NULL, NULL, &r), 200);
	took = time_mono_ms() - t0;
	res_release(&r);
	print_message("healthz with %d idle connections: %" PRId64 " ms\n", N, took);
	assert_true(took < 1000);
	assert_int_equal(req("GET", "/api/v1/alerts", VIEWER, NULL, &r), NO_STORE);
	res_release(&r);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	free(fds);
}

/* ---- the edge of the wire ------------------------------------------------------------------ */

static int tcp_connect(int p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read an answer until the server closes or timeout_ms pass; appends to out. Returns the
 * milliseconds it took. */
static int64_t read_answer(int fd, struct strbuf *out, int timeout_ms)
{
	int64_t t0 = time_mono_ms();
	char buf[4096];
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = timeout_ms - (time_mono_ms() - t0);
		ssize_t n;
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		strbuf_add(out, buf, (size_t)n);
		/* one answer is enough for keep-alive connections */
		if (strstr(out->buf, "\r\n\r\n")) {
			const char *cl = strcasestr(out->buf, "\r\nContent-Length: ");
			const char *bs = strstr(out->buf, "\r\n\r\n") + 4;
			if (cl && (size_t)(out->buf + out->len - bs) >= strtoul(cl + 18, NULL, 10))
				break;
		}
	}
	return time_mono_ms() - t0;
}

/* Send len bytes of a raw request and read the answer (status, body as JSON in r). */
static long raw_at(int p, const char *data, size_t len, struct res *r)
{
	int fd = tcp_connect(p);
	struct strbuf out = STRBUF_INIT;
	const char *body;
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
	assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	assert_true(read_answer(fd, &out, 5000) < 5000);
	close(fd);
	if (out.len < 12 || strncmp(out.buf, "HTTP/1.1 ", 9))
		fail_msg("no answer: '%s'", out.buf);
	r->status = strtol(out.buf + 9, NULL, 10);
	body = strstr(out.buf, "\r\n\r\n");
	if (body)
		strbuf_addstr(&r->body, body + 4);
	r->json = json_loadb(r->body.buf, r->body.len, 0, NULL);
	strbuf_release(&out);
	return r->status;
}

static long raw(const char *data, struct res *r)
{
	return raw_at(port, data, strlen(data), r);
}

/* Without tokens, only loopback names in Host: a rebinding page sends its own name. */
static void test_host_checked_without_tokens(void **state)
{
	struct http_opts o = {
	    .listen = "127.0.0.1:0", .routes = test_routes, .n_routes = ARRAY_SIZE(test_routes)};
	static const char *const good[] = {"localhost", "localhost:8080", "LocalHost:1",
	                                   "127.0.0.1", "127.0.0.1:9",    "127.1.2.3:80",
	                                   "[::1]",     "[::1]:8080",     "[::ffff:127.0.0.1]:80"};
	static const char *const bad[] = {"rebind.attacker.example",
	                                  "rebind.attacker.example:8080",
	                                  "localhost.attacker.example",
	                                  "10.0.0.1",
	                                  "[::2]:80",
	                                  "localhost:http",
	                                  "127.0.0.1:99999x",
	                                  ""};
	struct http_server *s;
	struct sw_err err;
	struct res r;
	char buf[512];
	(void)state;
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		snprintf(buf, sizeof(buf), "GET /whoami HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		if (raw_at(http_port(s), buf, strlen(buf), &r) != 200)
			fail_msg("Host '%s': %ld %s", good[i], r.status, r.body.buf);
		res_release(&r);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(buf, sizeof(buf), "GET /whoami HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		if (raw_at(http_port(s), buf, strlen(buf), &r) != 421)
			fail_msg("Host '%s': %ld %s", bad[i], r.status, r.body.buf);
		assert_error(&r, "misdirected_request", "is not served here");
		res_release(&r);
	}
	/* no Host at all, even in HTTP/1.0, is refused when the API is open */
	assert_int_equal(raw_at(http_port(s), "GET /whoami HTTP/1.0\r\n\r\n", 24, &r), 400);
	assert_error(&r, "bad_request", "missing Host");
	res_release(&r);
	http_stop(s);

	/* the listen host's own name is accepted too */
	o.listen = "localhost:0";
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(req_at(http_port(s), "GET", "/whoami", NULL, NULL, &r), 200);
	res_release(&r);
	http_stop(s);
}

/* With tokens, Host is not restricted (the operator's own names); a token still decides. */
static void test_host_free_with_tokens(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(raw("GET /api/v1/alerts HTTP/1.1\r\nHost: stepwatch.internal:8080\r\n"
	                     "Authorization: Bearer " VIEWER "\r\n\r\n",
	                     &r),
	                 NO_STORE);
	res_release(&r);
	/* HTTP/1.0 may leave Host out; HTTP/1.1 may not */
	assert_int_equal(raw("GET /healthz HTTP/1.0\r\n\r\n", &r), 200);
	res_release(&r);
	assert_int_equal(raw("GET /healthz HTTP/1.1\r\n\r\n", &r), 400);
	assert_error(&r, "bad_request", "missing Host header");
	res_release(&r);
}

static long post_with(int p, const char *path, const char *token, const char *headers,
                      const char *body, struct res *r)
{
	char buf[2048];
	snprintf(buf, sizeof(buf),
	         "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%s%sContent-Length: %zu\r\n\r\n%s",
	         path, p, token ? "Authorization: Bearer " : "", token ? token : "",
	         token ? "\r\n" : "", headers, strlen(body), body);
	return raw_at(p, buf, strlen(buf), r);
}

#define SILENCE "{\"ends_at\": \"2026-01-01T10:00:00Z\", \"workflow\": \"loan\"}"

static void test_cross_origin_and_content_type(void **state)
{
	struct res r;
	char own[64];
	(void)state;
	/* another site's page: refused whatever the token */
	assert_int_equal(post_with(port, "/api/v1/silences", ADMIN,
	                           "Origin: http://evil.example\r\n"
	                           "Content-Type: application/json\r\n",
	                           SILENCE, &r),
	                 403);
	assert_error(&r, "forbidden", "cross-origin");
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/alerts/1/resolve", RESPONDER,
	                           "Origin: null\r\nContent-Type: application/json\r\n", "{}", &r),
	                 403);
	res_release(&r);
	/* the server's own origin, http or https (a TLS proxy in front), passes */
	snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d\r\n", port);
	{
		char hdrs[256];
		snprintf(hdrs, sizeof(hdrs), "%sContent-Type: application/json\r\n", own);
		assert_int_equal(post_with(port, "/api/v1/silences", ADMIN, hdrs, SILENCE, &r),
		                 NO_STORE);
		res_release(&r);
		snprintf(hdrs, sizeof(hdrs),
		         "Origin: https://127.0.0.1:%d\r\nContent-Type: application/json\r\n",
		         port);
		assert_int_equal(post_with(port, "/api/v1/silences", ADMIN, hdrs, SILENCE, &r),
		                 NO_STORE);
		res_release(&r);
	}
	/* reads too (no CORS: its page could not read the answer; it gets none) */
	assert_int_equal(
	    raw("GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n"
	        "Authorization: Bearer " VIEWER "\r\n\r\n",
	        &r),
	    403);
	res_release(&r);
	{
		char q[256];
		snprintf(q, sizeof(q),
		         "GET /healthz HTTP/1.1\r\nHost: localhost:%d\r\nOrigin: "
		         "http://localhost:%d\r\n\r\n",
		         port, port);
		assert_int_equal(raw(q, &r), 200);
		res_release(&r);
	}

	/* bodies must be JSON: what a form or a no-cors fetch can send is not */
	assert_int_equal(
	    post_with(port, "/api/v1/silences", ADMIN, "Content-Type: text/plain\r\n", SILENCE, &r),
	    415);
	assert_error(&r, "unsupported_media_type", "text/plain");
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/silences", ADMIN,
	                           "Content-Type: application/x-www-form-urlencoded\r\n", "a=b",
	                           &r),
	                 415);
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/silences", ADMIN, "", SILENCE, &r), 415);
	assert_error(&r, "unsupported_media_type", "none");
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/silences", ADMIN,
	                           "Content-Type: application/json; charset=latin1\r\n", SILENCE,
	                           &r),
	                 415);
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/silences", ADMIN,
	                           "Content-Type: application/jsonp\r\n", SILENCE, &r),
	                 415);
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/alerts/1/ack", RESPONDER,
	                           "Content-Type: text/plain\r\n", "", &r),
	                 415);
	res_release(&r);
	assert_int_equal(post_with(port, "/api/v1/silences", ADMIN,
	                           "Content-Type: Application/JSON; Charset=\"UTF-8\"\r\n", SILENCE,
	                           &r),
	                 NO_STORE);
	res_release(&r);
	/* an empty body needs no type */
	assert_int_equal(post_with(port, "/api/v1/alerts/1/ack", RESPONDER, "", "", &r), NO_STORE);
	res_release(&r);
}

/* The attack: no tokens, a text/plain silence from another page. */
static void test_no_token_csrf(void **state)
{
	struct http_opts o = {.listen = "127.0.0.1:0"};
	struct http_server *s;
	struct sw_err err;
	struct res r;
	char buf[1024];
	(void)state;
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	snprintf(
	    buf, sizeof(buf),
	    "POST /api/v1/silences HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n%s",
	    http_port(s), strlen(SILENCE), SILENCE);
	assert_int_equal(raw_at(http_port(s), buf, strlen(buf), &r), 415);
	res_release(&r);
	snprintf(buf, sizeof(buf),
	         "POST /api/v1/alerts/1/resolve HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	         "Origin: http://evil.example\r\nContent-Length: 0\r\n\r\n",
	         http_port(s));
	assert_int_equal(raw_at(http_port(s), buf, strlen(buf), &r), 403);
	res_release(&r);
	snprintf(buf, sizeof(buf),
	         "GET /api/v1/alerts HTTP/1.1\r\nHost: rebind.attacker.example:%d\r\n\r\n",
	         http_port(s));
	assert_int_equal(raw_at(http_port(s), buf, strlen(buf), &r), 421);
	res_release(&r);
	http_stop(s);
}

static char *repeat(const char *head, const char *piece, const char *sep, int n, const char *tail)
{
	struct strbuf b = STRBUF_INIT;
	strbuf_addstr(&b, head);
	for (int i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(&b, sep);
		strbuf_addstr(&b, piece);
	}
	strbuf_addstr(&b, tail);
	return strbuf_detach(&b, NULL);
}

/* Floods of query arguments: the documented 400 at once, not a hang until the idle timeout. */
static void test_query_floods(void **state)
{
	static const char tail[] =
	    " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " VIEWER "\r\n\r\n";
	struct res r;
	char *s;
	int64_t t0;
	(void)state;
	s = repeat("GET /api/v1/alerts?", "&", "", 5000, tail);
	t0 = time_mono_ms();
	assert_int_equal(raw(s, &r), 400);
	assert_error(&r, "bad_request", "too many query parameters");
	assert_true(time_mono_ms() - t0 < 2000);
	res_release(&r);
	free(s);
	s = repeat("GET /api/v1/alerts?", "limit=1", "&", 1000, tail);
	t0 = time_mono_ms();
	assert_int_equal(raw(s, &r), 400);
	assert_error(&r, "bad_request", "given twice");
	assert_true(time_mono_ms() - t0 < 2000);
	res_release(&r);
	free(s);
	s = repeat("GET /api/v1/alerts?", "a", "&", 3000, tail);
	assert_int_equal(raw(s, &r), 400);
	res_release(&r);
	free(s);
	/* a NUL byte hiding the '?' from the URI callback */
	{
		char *f = repeat("GET /api/v1/alerts", "&", "", 5000, tail);
		size_t len = strlen(f);
		int fd = tcp_connect(port);
		struct strbuf out = STRBUF_INIT;
		f[18] = '\0';
		f[19] = '?';
		assert_int_equal(send(fd, f, len, MSG_NOSIGNAL), (ssize_t)len);
		assert_true(read_answer(fd, &out, 5000) < 2000);
		assert_non_null(strstr(out.buf, "HTTP/1.1 400"));
		assert_non_null(strstr(out.buf, "NUL byte in the request target"));
		strbuf_release(&out);
		close(fd);
		free(f);
	}
	/* a long query string */
	s = repeat("GET /api/v1/alerts?state=", "x", "", 9000, tail);
	assert_int_equal(raw(s, &r), 400);
	assert_error(&r, "bad_request", "longer than");
	res_release(&r);
	free(s);
}

static void test_header_framing(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(raw("POST /api/v1/alerts/1/ack HTTP/1.1\r\nHost: x\r\n"
	                     "Authorization: Bearer " RESPONDER
	                     "\r\nContent-Type: application/json\r\n"
	                     "Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
	                     &r),
	                 400);
	assert_error(&r, "bad_request", "'Content-Length' given more than once");
	res_release(&r);
	assert_int_equal(
	    raw("POST /api/v1/alerts/1/ack HTTP/1.1\r\nHost: x\r\n"
	        "Authorization: Bearer " RESPONDER "\r\nContent-Type: application/json\r\n"
	        "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	        &r),
	    400);
	res_release(&r);
	assert_int_equal(raw("GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\nHost: y\r\n"
	                     "Authorization: Bearer " VIEWER "\r\n\r\n",
	                     &r),
	                 400);
	res_release(&r);
	assert_int_equal(raw("GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\n"
	                     "Authorization: Bearer wrong\r\nAuthorization: Bearer " VIEWER
	                     "\r\n\r\n",
	                     &r),
	                 400);
	res_release(&r);
	/* a space in the target */
	assert_int_equal(raw("GET /api/v1/users/a b HTTP/1.1\r\nHost: x\r\n"
	                     "Authorization: Bearer " VIEWER "\r\n\r\n",
	                     &r),
	                 400);
	res_release(&r);
	/* "Bearer <token>\0junk" is not the token */
	{
		static const char q[] =
		    "GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " VIEWER
		    "\0junk\r\n\r\n";
		assert_int_equal(raw_at(port, q, sizeof(q) - 1, &r), 400);
		assert_error(&r, "bad_request", "NUL byte or folded line in 'Authorization'");
		res_release(&r);
	}
	{
		static const char q[] =
		    "GET /api/v1/alerts HTTP/1.1\r\nAuthorization: Bearer " VIEWER
		    "\0junk\r\nHost: x\r\n\r\n";
		assert_int_equal(raw_at(port, q, sizeof(q) - 1, &r), 400);
		assert_error(&r, "bad_request", "NUL byte or folded line in 'Authorization'");
		res_release(&r);
	}
	{
		static const char q[] = "GET /healthz HTTP/1.1\nHost: x\nX-A: b\0\0\0c\n\n";
		assert_int_equal(raw_at(port, q, sizeof(q) - 1, &r), 400);
		res_release(&r);
	}
	/* a folded (obsolete) header line */
	assert_int_equal(raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", &r), 400);
	res_release(&r);
	/* line ends of either kind and empty values are fine */
	assert_int_equal(raw("GET /healthz HTTP/1.1\nHost: x\nX-A:\r\nX-B: \n\r\n", &r), 200);
	res_release(&r);
	assert_int_equal(raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\n", &r), 200);
	res_release(&r);
	assert_int_equal(raw("GET /healthz HTTP/1.0\r\n\r\n", &r), 200);
	res_release(&r);
	/* and the token check itself never stops at a NUL */
	{
		struct auth a;
		const struct auth_token *who;
		static const char v[] = "Bearer " VIEWER "\0junk";
		struct sw_err err;
		assert_int_equal(auth_init(&a, tokens, 3, &err), 0);
		assert_int_equal(auth_check_n(&a, v, sizeof(v) - 1, &who), AUTH_INVALID);
		assert_int_equal(auth_check_n(&a, v, sizeof(v) - 6, &who), AUTH_OK);
		auth_release(&a);
	}
}

static bool utf8_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* Error bodies: valid UTF-8, no character cut by the length limit, invalid bytes replaced. */
static void test_error_bodies_utf8(void **state)
{
	struct res r;
	char *q;
	const char *msg;
	(void)state;
	/* 197 bytes, then two 3-byte characters: the first fits the 200-byte limit; with one
	 * byte more, the limit falls inside it and it is left out whole */
	for (int extra = 0; extra < 2; extra++) {
		q = repeat("GET /nope/", "a", "", 191 + extra,
		           "\xe2\x82\xac\xe2\x82\xac HTTP/1.1\r\nHost: x\r\n\r\n");
		assert_int_equal(raw(q, &r), 404);
		assert_true(utf8_ok(r.body.buf, r.body.len));
		assert_non_null(r.json);
		msg =
		    json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
		assert_non_null(strstr(msg, extra ? "aaa'" : "aaa\xe2\x82\xac'"));
		assert_null(strstr(msg, "\xef\xbf\xbd"));
		res_release(&r);
		free(q);
	}
	/* raw invalid bytes are never echoed */
	assert_int_equal(raw("GET /nope/\xff\xfe\xc3 HTTP/1.1\r\nHost: x\r\n\r\n", &r), 400);
	assert_true(utf8_ok(r.body.buf, r.body.len));
	assert_non_null(strstr(r.body.buf, "/nope/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"));
	res_release(&r);
	/* an unknown query name of many 2-byte characters: cut at 64 bytes, on a boundary */
	q = repeat("GET /api/v1/alerts?", "%C3%A9", "", 40,
	           "=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " VIEWER "\r\n\r\n");
	assert_int_equal(raw(q, &r), 400);
	assert_true(utf8_ok(r.body.buf, r.body.len));
	assert_null(strstr(r.body.buf, "\xef\xbf\xbd"));
	res_release(&r);
	free(q);
	/* the helper itself */
	assert_int_equal(api_clip("abc", 2), 2);
	assert_int_equal(api_clip("ab\xe2\x82\xac", 3), 2);
	assert_int_equal(api_clip("ab\xe2\x82\xac", 4), 2);
	assert_int_equal(api_clip("ab\xe2\x82\xac", 5), 5);
	assert_int_equal(api_clip("ab\xe2\x82\xac", 64), 5);
}

/* /readyz: just the status for a caller without a token; the detail for any token. */
static void test_readyz_detail_needs_a_token(void **state)
{
	struct res r;
	(void)state;
	assert_int_equal(req("GET", "/readyz", NULL, NULL, &r), 503);
	assert_int_equal(json_object_size(r.json), 1);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "degraded");
	res_release(&r);
	assert_int_equal(req("GET", "/readyz", "wrong-secret", NULL, &r), 503);
	assert_int_equal(json_object_size(r.json), 1);
	res_release(&r);
	assert_int_equal(req("GET", "/readyz", VIEWER, NULL, &r), 503);
	assert_non_null(json_object_get(r.json, "store"));
	assert_non_null(json_object_get(r.json, "components"));
	res_release(&r);
}

/* A client that writes a large body whole before reading (as Python's urllib does) must
 * read the early answer, not a reset: ten times in a row, 413 and 401. */
static void test_early_answer_reaches_writing_client(void **state)
{
	size_t big = 4 * 1024 * 1024;
	char *body = xmalloc(big);
	(void)state;
	memset(body, ' ', big);
	for (int i = 0; i < 10; i++) {
		const char *token = i % 2 ? "wrong-secret" : RESPONDER;
		const char *want = i % 2 ? "HTTP/1.1 401" : "HTTP/1.1 413";
		char head[512];
		int fd = tcp_connect(port), n;
		size_t off = 0;
		struct strbuf out = STRBUF_INIT;
		n = snprintf(
		    head, sizeof(head),
		    "POST /api/v1/step-records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		    token, big);
		assert_int_equal(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
		while (off < big) {
			ssize_t k = send(fd, body + off, big - off, MSG_NOSIGNAL);
			if (k <= 0)
				fail_msg("try %d: the body write failed after %zu bytes: %s", i,
				         off, strerror(errno));
			off += (size_t)k;
		}
		read_answer(fd, &out, 5000);
		if (!strstr(out.buf, want))
			fail_msg("try %d: want %s, got '%.60s'", i, want, out.buf);
		strbuf_release(&out);
		close(fd);
	}
	free(body);
}

/* Slowloris: connections that drip a byte every 300 ms are closed within the bounds, the
 * ones past their request line with 408; /healthz stays fast meanwhile. */
static void test_dripping_connections_closed(void **state)
{
	enum {
		N = 50
	};
	struct http_opts o = {.listen = "127.0.0.1:0",
	                      .routes = test_routes,
	                      .n_routes = ARRAY_SIZE(test_routes),
	                      .request_timeout_ms = 1500,
	                      .idle_timeout_s = 3};
	struct http_server *s;
	struct sw_err err;
	int fds[N];
	int64_t closed_at[N], t0, worst_health = 0;
	bool got408[N];
	int open = N;
	(void)state;
	if (http_start(&o, &s, &err))
		fail_msg("%s", err.msg);
	t0 = time_mono_ms();
	for (int i = 0; i < N; i++) {
		fds[i] = tcp_connect(http_port(s));
		closed_at[i] = 0;
		got408[i] = false;
		/* even: past the request line, dripping a header; odd: dripping the line */
		if (i % 2 == 0)
			assert_int_equal(send(fds[i],
			                      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: ", 40,
			                      MSG_NOSIGNAL),
			                 40);
		else
			assert_int_equal(send(fds[i], "GET /healthz", 12, MSG_NOSIGNAL), 12);
	}
	while (open > 0 && time_mono_ms() - t0 < 15000) {
		struct res r;
		int64_t h0;
		for (int i = 0; i < N; i++) {
			char buf[512];
			ssize_t k;
			if (closed_at[i])
				continue;
			(void)send(fds[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			while ((k = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
				buf[k] = '\0';
				if (strstr(buf, "HTTP/1.1 408") && strstr(buf, "request_timeout"))
					got408[i] = true;
			}
			if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				closed_at[i] = time_mono_ms() - t0;
				open--;
			}
		}
		h0 = time_mono_ms();
		assert_int_equal(req_at(http_port(s), "GET", "/healthz", NULL, NULL, &r), 200);
		res_release(&r);
		if (time_mono_ms() - h0 > worst_health)
			worst_health = time_mono_ms() - h0;
		usleep(300 * 1000);
	}
	for (int i = 0; i < N; i++) {
		if (!closed_at[i])
			fail_msg("connection %d still open after 15 s", i);
		/* bounds: 1.5 s (request) and 3 s (waiting), plus the reaper's tick and this
		 * loop's 300 ms, with room for a loaded machine */
		if (closed_at[i] > (i % 2 == 0 ? 5000 : 6500))
			fail_msg("connection %d closed after %" PRId64 " ms", i, closed_at[i]);
		if (i % 2 == 0 && closed_at[i] < 1400)
			fail_msg("connection %d closed early, after %" PRId64 " ms", i,
			         closed_at[i]);
		if (i % 2 == 0 && !got408[i])
			fail_msg("connection %d got no 408", i);
		close(fds[i]);
	}
	print_message("%d dripping connections closed; slowest /healthz meanwhile %" PRId64 " ms\n",
	              N, worst_health);
	assert_true(worst_health < 1000);
	/* a keep-alive connection that is not dripping stays usable until the idle timeout */
	http_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthz),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_method_not_allowed),
	    cmocka_unit_test(test_openapi_served),
	    cmocka_unit_test(test_tokens_and_roles),
	    cmocka_unit_test(test_body_too_large_declared),
	    cmocka_unit_test(test_body_too_large_chunked),
	    cmocka_unit_test(test_body_errors),
	    cmocka_unit_test(test_query_errors),
	    cmocka_unit_test(test_refuses_open_non_loopback),
	    cmocka_unit_test(test_open_loopback_and_workers),
	    cmocka_unit_test(test_actor_is_token_name),
	    cmocka_unit_test(test_slow_handler_does_not_block),
	    cmocka_unit_test(test_idle_connections),
	    cmocka_unit_test(test_host_checked_without_tokens),
	    cmocka_unit_test(test_host_free_with_tokens),
	    cmocka_unit_test(test_cross_origin_and_content_type),
	    cmocka_unit_test(test_no_token_csrf),
	    cmocka_unit_test(test_query_floods),
	    cmocka_unit_test(test_header_framing),
	    cmocka_unit_test(test_error_bodies_utf8),
	    cmocka_unit_test(test_readyz_detail_needs_a_token),
	    cmocka_unit_test(test_early_answer_reaches_writing_client),
	    cmocka_unit_test(test_dripping_connections_closed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
