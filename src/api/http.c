/*
 * http.c - the API server around libmicrohttpd.
 *
 * DESIGN: threads. libmicrohttpd runs its own I/O threads (MHD_USE_EPOLL_INTERNAL_THREAD
 * with a pool of one thread per CPU); they parse requests, route, check tokens and read
 * bodies, and never run slow code. A request for a route without API_R_INLINE is handed to
 * a fixed pool of worker threads: its connection is suspended (MHD_suspend_connection),
 * the worker runs the handler, stores the response and resumes the connection; the I/O
 * thread then sends it. A slow store query therefore ties up one worker, never the
 * network, and idle or slow clients tie up nothing but a file descriptor. A bounded queue
 * in front of the workers turns overload into 503 instead of unbounded memory.
 *
 * Request life: the URI callback allocates a struct http_req (it sees the raw URI, before
 * libmicrohttpd decodes anything, so path and query are decoded once, by router.c and
 * query.c); the access callback walks it through RS_NEW (route, auth, query, Content-Length:
 * everything that can be refused before the body is read) -> RS_BODY (accumulate up to
 * max_body) -> RS_QUEUED (on a worker) -> RS_ANSWERED; the completion callback logs one
 * logfmt line and frees it.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "api/http.h"
#include "api/router.h"
#include "api/auth.h"
#include <microhttpd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

enum req_state {
	RS_NEW,
	RS_BODY,
	RS_QUEUED,
	RS_ANSWERED
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	char *uri;  /* raw request target */
	char *path; /* raw path: uri up to '?' */
	int64_t t0_us;
	enum req_state state;
	char method[16];
	struct route_match m;
	struct api_req req;
	struct api_resp resp;
	struct strbuf body;
	size_t discarded; /* body bytes thrown away after the limit was passed */
	bool too_large;
	int status;
	size_t bytes;
	struct http_req *next; /* worker queue */
};

struct worker {
	struct http_server *srv;
	unsigned index;
	pthread_t thread;
	bool started;
};

struct http_server {
	struct MHD_Daemon *d;
	int fd;
	int port;
	struct auth auth;
	const struct api_route *routes;
	size_t n_routes;
	void *app;
	void *(*worker_init)(void *app, unsigned index);
	void (*worker_fini)(void *app, void *worker);
	size_t max_body;
	bool quiet;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct http_req *head, *tail;
	unsigned queued, queue_limit;
	unsigned ready; /* workers past worker_init */
	bool stopping;
	struct worker *workers;
	unsigned n_workers;
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static unsigned ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *h = xcalloc(1, sizeof(*h));
	const char *q;
	h->srv = cls;
	h->conn = conn;
	h->uri = xstrdup(uri ? uri : "");
	q = strchr(h->uri, '?');
	h->path = xstrndup(h->uri, q ? (size_t)(q - h->uri) : strlen(h->uri));
	h->t0_us = mono_us();
	strbuf_init(&h->body, 0);
	api_resp_init(&h->resp);
	return h;
}

static void req_free(struct http_req *h)
{
	route_match_release(&h->m);
	query_release(&h->req.query);
	api_resp_release(&h->resp);
	strbuf_release(&h->body);
	free(h->path);
	free(h->uri);
	free(h);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *h = *con_cls;
	(void)conn;
	if (!h)
		return;
	if (!s->quiet) {
		char path[257];
		double ms = (double)(mono_us() - h->t0_us) / 1000.0;
		snprintf(path, sizeof(path), "%s", h->path);
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			log_info("http request",
			         "method=%s path=%s status=%d bytes=%zu duration_ms=%.1f actor=%s",
			         h->method, path, h->status, h->bytes, ms,
			         h->req.actor ? h->req.actor : "-");
		else
			log_info("http request aborted",
			         "method=%s path=%s status=%d bytes=%zu duration_ms=%.1f actor=%s "
			         "reason=%d",
			         h->method, path, h->status, h->bytes, ms,
			         h->req.actor ? h->req.actor : "-", (int)toe);
	}
	req_free(h);
	*con_cls = NULL;
}

static enum MHD_Result send_resp(struct http_req *h)
{
	struct api_resp *r = &h->resp;
	struct MHD_Response *mr;
	enum MHD_Result ret;
	size_t len;
	char *buf;
	int status = r->status ? r->status : 500;

	buf = strbuf_detach(&r->body, &len);
	mr = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!mr) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        r->content_type ? r->content_type : "application/json");
	if (!r->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; i < r->n_headers; i++)
		MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
	ret = MHD_queue_response(h->conn, (unsigned)status, mr);
	MHD_destroy_response(mr);
	h->status = status;
	h->bytes = len;
	h->state = RS_ANSWERED;
	return ret;
}

static void run_handler(struct http_req *h, void *worker)
{
	int rc;
	h->req.worker = worker;
	rc = h->m.route->handler(&h->req, &h->resp);
	if (h->resp.status)
		return;
	if (rc < 0)
		log_error("handler failed", "method=%s path=%s", h->method, h->path);
	else
		log_error("handler gave no response", "method=%s path=%s", h->method, h->path);
	api_error(&h->resp, 500, "internal error");
}

/* Everything that can be refused before reading the body. Returns 1 when h->resp holds the
 * answer, 0 to go on. */
static int req_begin(struct http_server *s, struct http_req *h)
{
	const struct api_route *route;
	const struct auth_token *who = NULL;
	const char *q = strchr(h->uri, '?'), *hdr;
	struct sw_err err;
	int rc;

	rc = router_match(s->routes, s->n_routes, h->method, h->path, strlen(h->path), &h->m);
	if (rc == ROUTE_NOT_FOUND)
		return api_error(&h->resp, 404, "no such path '%.200s'", h->path), 1;
	if (rc == ROUTE_BAD_PATH)
		return api_error(&h->resp, 400, "malformed path '%.200s'", h->path), 1;
	if (rc == ROUTE_BAD_METHOD) {
		api_error(&h->resp, 405, "method %s is not allowed on '%.200s'", h->method,
		          h->path);
		api_resp_header(&h->resp, MHD_HTTP_HEADER_ALLOW, h->m.allow);
		return 1;
	}
	route = h->m.route;
	h->req.route = route;
	h->req.method = h->method;
	h->req.path = h->path;
	h->req.app = s->app;
	h->req.n_params = h->m.n_params;
	for (size_t i = 0; i < h->m.n_params; i++) {
		h->req.params[i] = h->m.params[i];
		h->req.param_names[i] = h->m.names[i];
	}

	/* access */
	if (!auth_enabled(&s->auth)) {
		h->req.actor = "anonymous";
		h->req.role = SW_ROLE_ADMIN;
	} else {
		hdr = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND,
		                                  MHD_HTTP_HEADER_AUTHORIZATION);
		rc = auth_check(&s->auth, hdr, &who);
		if (rc == AUTH_OK) {
			h->req.actor = who->name;
			h->req.role = who->role;
		} else if (route->access != API_PUBLIC) {
			api_error(&h->resp, 401, "%s",
			          rc == AUTH_MISSING ? "missing bearer token" : "invalid token");
			api_resp_header(
			    &h->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    rc == AUTH_MISSING
			        ? "Bearer realm=\"stepwatch\""
			        : "Bearer realm=\"stepwatch\", error=\"invalid_token\"");
			return 1;
		} else {
			h->req.actor = "-";
			h->req.role = SW_ROLE_VIEWER;
		}
		if (route->access != API_PUBLIC && (int)h->req.role < route->access)
			return api_error(&h->resp, 403,
			                 "token '%s' (%s) may not %s %s; it needs %s", h->req.actor,
			                 auth_role_name(h->req.role), route->method, route->pattern,
			                 auth_role_name((enum sw_role)route->access)),
			       1;
	}

	/* query */
	if (q && query_parse(&h->req.query, q + 1, strlen(q + 1), &err))
		return api_error(&h->resp, 400, "%s", err.msg), 1;
	if (query_check_allowed(&h->req.query, route->query, &err))
		return api_error(&h->resp, 400, "%s", err.msg), 1;

	/* a declared body over the limit is refused before a byte of it is read */
	hdr = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (hdr) {
		char *end;
		unsigned long long cl;
		errno = 0;
		cl = strtoull(hdr, &end, 10);
		if (errno || *end || cl > s->max_body)
			return api_error(&h->resp, 413, "request body larger than %zu bytes",
			                 s->max_body),
			       1;
	}
	return 0;
}

/* Hand h to a worker, or answer 503 when the queue is full or the server stopping. */
static enum MHD_Result req_dispatch(struct http_server *s, struct http_req *h)
{
	h->req.body = h->body.buf;
	h->req.body_len = h->body.len;
	if (h->m.route->flags & API_R_INLINE) {
		run_handler(h, NULL);
		return send_resp(h);
	}
	pthread_mutex_lock(&s->mu);
	if (s->stopping || s->queued >= s->queue_limit) {
		pthread_mutex_unlock(&s->mu);
		api_error(&h->resp, 503, "%s",
		          s->stopping ? "server is stopping" : "server busy, retry later");
		api_resp_header(&h->resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		return send_resp(h);
	}
	h->state = RS_QUEUED;
	MHD_suspend_connection(h->conn);
	h->next = NULL;
	if (s->tail)
		s->tail->next = h;
	else
		s->head = h;
	s->tail = h;
	s->queued++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *h = *con_cls;
	(void)url;
	(void)version;
	if (!h)
		return MHD_NO; /* on_uri always runs first */
	switch (h->state) {
	case RS_NEW:
		h->conn = conn;
		snprintf(h->method, sizeof(h->method), "%s", method);
		if (req_begin(s, h))
			return send_resp(h);
		h->state = RS_BODY;
		return MHD_YES;
	case RS_BODY:
		if (*upload_data_size) {
			size_t n = *upload_data_size;
			*upload_data_size = 0;
			if (!h->too_large && h->body.len + n <= s->max_body) {
				strbuf_add(&h->body, upload_data, n);
				return MHD_YES;
			}
			if (!h->too_large) {
				h->too_large = true;
				strbuf_release(&h->body);
			}
			/* read on (without keeping it) to answer 413 at the end; a client
			 * that sends far more than that is cut off */
			h->discarded += n;
			return h->discarded > 16 * s->max_body ? MHD_NO : MHD_YES;
		}
		if (h->too_large) {
			api_error(&h->resp, 413, "request body larger than %zu bytes", s->max_body);
			return send_resp(h);
		}
		return req_dispatch(s, h);
	case RS_QUEUED: return send_resp(h);
	case RS_ANSWERED: *upload_data_size = 0; return MHD_YES;
	}
	return MHD_NO;
}

/* ---- workers ------------------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct http_server *s = w->srv;
	void *ctx = s->worker_init ? s->worker_init(s->app, w->index) : NULL;

	pthread_mutex_lock(&s->mu);
	s->ready++;
	pthread_cond_broadcast(&s->cv);
	for (;;) {
		struct http_req *h;
		struct MHD_Connection *conn;
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->head)
			break; /* stopping, and the queue is drained */
		h = s->head;
		s->head = h->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		pthread_mutex_unlock(&s->mu);

		run_handler(h, ctx);
		conn = h->conn;
		/* h belongs to the I/O thread again from here on */
		MHD_resume_connection(conn);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	if (s->worker_fini)
		s->worker_fini(s->app, ctx);
	return NULL;
}

/* ---- listening ---------------------------------------------------------------------------- */

int http_split_listen(const char *listen, char **host, char **port, struct sw_err *err)
{
	const char *colon, *hs, *he;
	*host = *port = NULL;
	if (!listen || !*listen)
		return sw_err_set(err, "empty listen address");
	if (listen[0] == '[') {
		hs = listen + 1;
		he = strchr(hs, ']');
		if (!he || he[1] != ':')
			return sw_err_set(err, "bad listen address '%s': expected [addr]:port",
			                  listen);
		colon = he + 1;
	} else {
		hs = listen;
		colon = strrchr(listen, ':');
		if (!colon)
			return sw_err_set(err, "bad listen address '%s': expected host:port",
			                  listen);
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)))
			return sw_err_set(err,
			                  "bad listen address '%s': write IPv6 addresses as "
			                  "[addr]:port",
			                  listen);
	}
	if (he == hs)
		return sw_err_set(err, "bad listen address '%s': missing host", listen);
	{
		int64_t p;
		if (query_parse_int64(colon + 1, 0, 65535, &p) || colon[1] == '-')
			return sw_err_set(err, "bad listen address '%s': port must be 0..65535",
			                  listen);
	}
	*host = xstrndup(hs, (size_t)(he - hs));
	*port = xstrdup(colon + 1);
	return 0;
}

static bool addr_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return !memcmp(b, mapped, 12) && b[12] == 127;
	}
	return false;
}

/* Resolve, check and bind o->listen. Returns the listening socket or -1 with err. */
static int open_listener(const struct http_opts *o, bool open_api, int *family, struct sw_err *err)
{
	struct addrinfo hints, *res = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc;

	if (http_split_listen(o->listen, &host, &port, err))
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		sw_err_set(err, "cannot resolve '%s': %s", o->listen, gai_strerror(rc));
		goto out;
	}
	if (open_api && !addr_loopback(res->ai_addr)) {
		sw_err_set(err,
		           "refusing to listen on '%s' without http.tokens: the API would be "
		           "open to the network; configure tokens or listen on 127.0.0.1",
		           o->listen);
		goto out;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	            res->ai_protocol);
	if (fd < 0) {
		sw_err_set(err, "cannot listen on '%s': %s", o->listen, strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, SOMAXCONN)) {
		sw_err_set(err, "cannot listen on '%s': %s", o->listen, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
	*family = res->ai_family;
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return fd;
}

/* libmicrohttpd's own messages, as log lines */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;
	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* clients hanging up mid-request are routine, not warnings */
	if (strstr(buf, "closed by remote") || strstr(buf, "incomplete request"))
		log_debug("http server", "detail=%s", buf);
	else
		log_warn("http server", "detail=%s", buf);
}
#pragma GCC diagnostic pop

/* ---- lifecycle ----------------------------------------------------------------------------- */

int http_start(const struct http_opts *o, struct http_server **out, struct sw_err *err)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned io = o->io_threads ? o->io_threads : ncpu();
	unsigned flags =
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	int family = AF_INET;
	struct MHD_OptionItem pool[2];

	*out = NULL;
	s->fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->routes = o->routes ? o->routes : api_routes;
	s->n_routes = o->routes ? o->n_routes : api_n_routes;
	s->app = o->app;
	s->worker_init = o->worker_init;
	s->worker_fini = o->worker_fini;
	s->max_body = o->max_body ? o->max_body : API_MAX_BODY;
	s->queue_limit = o->queue_limit ? o->queue_limit : 1024;
	s->quiet = o->quiet;
	if (auth_init(&s->auth, o->tokens, o->n_tokens, err))
		goto fail;
	s->fd = open_listener(o, !auth_enabled(&s->auth), &family, err);
	if (s->fd < 0)
		goto fail;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                         : ((struct sockaddr_in *)&ss)->sin_port);

	s->n_workers = o->workers ? o->workers : (2 * ncpu() < 4 ? 4 : 2 * ncpu());
	s->workers = xcalloc(s->n_workers, sizeof(*s->workers));
	for (unsigned i = 0; i < s->n_workers; i++) {
		s->workers[i].srv = s;
		s->workers[i].index = i;
		int perr = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
		if (perr) { /* pthread_create returns the error; errno is not set */
			sw_err_set(err, "cannot start worker thread: %s", strerror(perr));
			goto fail;
		}
		s->workers[i].started = true;
	}
	/* handlers may count on every worker context existing once we serve */
	pthread_mutex_lock(&s->mu);
	while (s->ready < s->n_workers)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* a pool of one is refused with a warning: pass the option only for two or more */
	pool[0].option = io > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END;
	pool[0].value = (intptr_t)io;
	pool[0].ptr_value = NULL;
	pool[1].option = MHD_OPTION_END;
	pool[1].value = 0;
	pool[1].ptr_value = NULL;
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd, MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 10000u,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s ? o->idle_timeout_s : 30u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_URI_LOG_CALLBACK,
	    on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->d) {
		sw_err_set(err, "cannot start the HTTP server on '%s'", o->listen);
		goto fail;
	}
	log_info("http listening", "listen=%s port=%d io_threads=%u workers=%u tokens=%zu",
	         o->listen, s->port, io, s->n_workers, s->auth.n);
	*out = s;
	return 0;
fail:
	http_stop(s);
	return -1;
}

int http_port(const struct http_server *s)
{
	return s->port;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->d) {
		/* stop accepting; the listen socket is ours from here, but it is closed only
		 * after MHD_stop_daemon: each pool thread removes it from its own epoll set when
		 * it sees the quiesce, and a closed fd there is a fatal error in MHD 0.9.75 */
		MHD_socket fd = MHD_quiesce_daemon(s->d);
		s->fd = fd != MHD_INVALID_SOCKET ? fd : -1;
	}
	/* drain: workers finish every queued request, then exit; later arrivals get 503 */
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->n_workers; i++)
		if (s->workers[i].started)
			pthread_join(s->workers[i].thread, NULL);
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->fd >= 0)
		close(s->fd);
	free(s->workers);
	auth_release(&s->auth);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
