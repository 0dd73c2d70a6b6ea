/*
 * http.h - the API's HTTP server: libmicrohttpd with its own I/O threads (epoll, one per
 * CPU), a pool of worker threads that run the handlers, the router, bearer-token access
 * control, body limits and one logfmt line per request.
 *
 *	struct http_opts o = {.listen = cfg->http.listen, .tokens = cfg->http.tokens,
 *			      .n_tokens = cfg->http.n_tokens, .app = app};
 *	if (http_start(&o, &srv, &err)) ...
 *	...
 *	http_stop(srv);
 *
 * Without tokens the API is open (every caller is admin, actor "anonymous") and
 * http_start() refuses any listen address that is not loopback; requests must then name a
 * loopback host (or the listen host) in Host, against DNS rebinding. Writes from a browser
 * page of another origin (Origin) are refused, and bodies must be application/json, with or
 * without tokens. Each request has a deadline (request_timeout_ms) and a connection that is
 * answered before its body was read is drained before it is closed, so the client reads the
 * answer instead of a reset.
 */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include "util/common.h"
#include "api/api.h"

struct http_opts {
	const char *listen;            /* "host:port" or "[v6]:port"; port 0 picks one */
	const struct sw_token *tokens; /* hashed at start; the secrets are not kept */
	size_t n_tokens;
	const struct api_route *routes; /* NULL: api_routes (router.h) */
	size_t n_routes;
	void *app; /* req->app of every handler */
	/* Per-worker context (e.g. a store connection, one per thread): worker_init runs on
	 * each worker thread at start, worker_fini on it at stop. Both may be NULL. */
	void *(*worker_init)(void *app, unsigned index);
	void (*worker_fini)(void *app, void *worker);
	unsigned io_threads;      /* 0: one per CPU */
	unsigned workers;         /* 0: 2 per CPU, at least 4 */
	unsigned queue_limit;     /* requests waiting for a worker; beyond: 503. 0: 1024 */
	unsigned max_connections; /* 0: 10000 */
	unsigned idle_timeout_s;  /* idle connections are closed after this; 0: 30 */
	/* A request's headers and body must be in within this of its request line, or the
	 * connection gets 408 and is closed (slow clients, slowloris). 0: HTTP_REQUEST_TIMEOUT_MS
	 */
	unsigned request_timeout_ms;
	size_t max_body; /* 0: API_MAX_BODY (1 MiB) */
	bool quiet;      /* no request log lines (benchmarks) */
};

#define HTTP_REQUEST_TIMEOUT_MS 10000

struct http_server;

/* Start serving. Returns 0 with *out, or -1 with err ("cannot listen on '...': ..."). */
int http_start(const struct http_opts *o, struct http_server **out, struct sw_err *err);
/* The bound TCP port (useful after port 0). */
int http_port(const struct http_server *s);
/* Stop accepting, finish queued requests, join every thread, free. NULL is a no-op. */
void http_stop(struct http_server *s);

/* The header checks, pure (fuzzed by tests/fuzz/fuzz_http_headers.c): */
/* Is a Host value (len bytes) "localhost", a loopback address (127/8, [::1],
 * [::ffff:127.x.y.z]) or listen_host (may be NULL), each with an optional ":port"? */
bool http_host_allowed(const char *listen_host, const char *v, size_t len);
/* Is an Origin "http://" or "https://" followed by exactly the Host value ("null" is not)? */
bool http_origin_same(const char *origin, size_t origin_len, const char *host, size_t host_len);
/* Is a Content-Type "application/json" with optional parameters, any charset utf-8? */
bool http_content_type_json(const char *v);

/* Split "host:port" / "[v6]:port"; 0 or -1 with err. host and port are malloc'd. */
int http_split_listen(const char *listen, char **host, char **port, struct sw_err *err);

#endif
