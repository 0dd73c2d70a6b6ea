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
 *
 * Connections: each has a struct conn (libmicrohttpd's socket context) with a deadline, kept
 * in one list that a reaper thread checks every REAPER_TICK_MS. Waiting for a request, the
 * deadline is the idle timeout counted from the connection's start or its previous answer
 * (libmicrohttpd's own idle timeout restarts with every byte, so a client dripping a byte a
 * second would never be closed); from the request line on, it is request_timeout_ms for the
 * headers and body. A lapse answers 408 (mid-request) and shuts the socket down, which
 * libmicrohttpd sees as a hang-up and closes. A connection answered before its body was
 * read (413, 401, ...) is closed by libmicrohttpd right after the answer; closing a socket
 * with unread data makes the kernel send a reset, and a client still writing its body then
 * loses the answer. So the close notification keeps a duplicate of the socket, and the
 * reaper reads and drops what still comes (LINGER_MAX_BYTES, LINGER_MS) before closing it.
 *
 * libmicrohttpd 0.9.75 splits the query string into a list in the connection's 64 KiB
 * memory pool, 56 bytes an argument, and when the pool runs out ("&&&&..." or 1,000
 * "limit=1") it queues a 431 that its state machine then loses: the request hangs until the
 * idle timeout. We never use that list (query.c parses the raw query), so on_uri() ends the
 * string it is about to parse right after the '?' (the request line is in the connection's
 * writable read buffer) and query.c answers the documented 400. A NUL byte before the '?'
 * would hide it from on_uri(): the unescape callback sees any argument libmicrohttpd still
 * parses, and answers 400 and closes at once.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "api/http.h"
#include "api/router.h"
#include "api/auth.h"
#include <microhttpd.h>
#include <pthread.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#define REAPER_TICK_MS     200
#define LINGER_MS          5000              /* drain an answered request's body this long */
#define LINGER_MAX_BYTES   (8 * 1024 * 1024) /* ... and at most this much of it */
#define LINGER_MAX_SOCKETS 256

/* One per connection (libmicrohttpd's socket context); fields under http_server.cmu. */
struct conn {
	struct conn *prev, *next;
	MHD_socket fd;
	int64_t deadline_ms; /* monotonic; 0: none (a request being answered) */
	bool receiving;      /* past the request line: a lapse is answered 408 */
	bool linger;         /* answered before its body was read: drain after the close */
};

/* A closed connection's socket, kept open (a dup) while what the client still sends is
 * read and dropped. Only the reaper reads and frees them. */
struct lingerer {
	struct lingerer *prev, *next;
	int fd;
	int64_t deadline_ms;
	size_t drained;
	bool done;
};

enum req_state {
	RS_NEW,
	RS_BODY,
	RS_QUEUED,
	RS_ANSWERED
};

/* The request headers that matter here: first value and how often each came. */
struct req_headers {
	const char *host, *origin, *content_type, *authorization, *content_length;
	size_t host_len, origin_len, content_type_len, authorization_len;
	unsigned n_host, n_origin, n_content_type, n_authorization, n_content_length,
	    n_transfer_encoding;
	const char *nul;       /* name of a header whose name or value holds a NUL byte */
	const char *prev_end;  /* end of the previous line's text in the read buffer */
	const char *prev_key;  /* its header name, or "request line" */
	const char *block_end; /* end of the header block; NULL: not known, not checked */
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct conn *c; /* its connection's deadline */
	char *uri;      /* raw request target */
	char *path;     /* raw path: uri up to '?' */
	int64_t t0_us;
	enum req_state state;
	char method[16];
	struct route_match m;
	struct api_req req;
	struct api_resp resp;
	struct arena arena; /* req.arena: freed with the request */
	struct strbuf body;
	size_t discarded; /* body bytes thrown away after the limit was passed */
	bool too_large;
	bool has_body;   /* Content-Length above 0, or Transfer-Encoding */
	bool bad_target; /* libmicrohttpd parsed query arguments on_uri() did not see */
	bool http11;
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
	char *listen_host; /* the host of http.listen, a Host value accepted without tokens */
	int64_t idle_ms, request_ms;

	/* connections and lingering sockets, and the reaper thread that times them */
	pthread_mutex_t cmu;
	struct conn *conns;
	struct lingerer *lingerers;
	unsigned n_lingerers;
	int epfd, evfd;
	pthread_t reaper;
	bool reaper_started;

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

static bool addr_loopback(const struct sockaddr *sa);

static int64_t mono_ms(void)
{
	return mono_us() / 1000;
}

static unsigned ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ---- connections: deadlines, the reaper, lingering closes -------------------------------- */

/* Write a complete answer straight to a socket that libmicrohttpd is only reading from (no
 * answer of its own pending), best effort, then shut it down both ways: libmicrohttpd sees
 * the hang-up and closes the connection. */
static void raw_answer_and_shut(MHD_socket fd, int status, const char *reason, const char *msg)
{
	struct strbuf b = STRBUF_INIT, body = STRBUF_INIT;
	strbuf_addstr(&body, "{\"error\":{\"code\":");
	strbuf_add_json_str(&body, api_status_code(status));
	strbuf_addstr(&body, ",\"message\":");
	strbuf_add_json_str(&body, msg);
	strbuf_addstr(&body, "}}");
	strbuf_addf(&b,
	            "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
	            "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n%s",
	            status, reason, body.len, body.buf);
	if (send(fd, b.buf, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("http answer not sent", "status=%d error=\"%s\"", status,
		          strerror(errno));
	shutdown(fd, SHUT_RDWR);
	strbuf_release(&b);
	strbuf_release(&body);
}

/* Keep a duplicate of a closing connection's socket and drain it. Under cmu. */
static void linger_add(struct http_server *s, MHD_socket fd)
{
	struct epoll_event ev;
	struct lingerer *l;
	int dfd;
	if (s->epfd < 0 || fd == MHD_INVALID_SOCKET || s->n_lingerers >= LINGER_MAX_SOCKETS)
		return;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return;
	l = xcalloc(1, sizeof(*l));
	l->fd = dfd;
	l->deadline_ms = mono_ms() + LINGER_MS;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = l;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, dfd, &ev)) {
		close(dfd);
		free(l);
		return;
	}
	l->next = s->lingerers;
	if (s->lingerers)
		s->lingerers->prev = l;
	s->lingerers = l;
	s->n_lingerers++;
}

/* Read and drop what is there; done at EOF, on an error or past LINGER_MAX_BYTES. Reaper
 * only: drained and done are the reaper's alone; fd was set under cmu before l was
 * registered, and is read under it. */
static void linger_drain(struct http_server *s, struct lingerer *l, char *buf, size_t size)
{
	int fd;
	pthread_mutex_lock(&s->cmu);
	fd = l->fd;
	pthread_mutex_unlock(&s->cmu);
	while (!l->done) {
		ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);
		if (n > 0) {
			l->drained += (size_t)n;
			if (l->drained > LINGER_MAX_BYTES)
				l->done = true;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				l->done = true;
			break;
		}
	}
}

static void lingerer_close(struct http_server *s, struct lingerer *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		s->lingerers = l->next;
	if (l->next)
		l->next->prev = l->prev;
	s->n_lingerers--;
	/* explicitly: libmicrohttpd may not have closed its descriptor of the same socket
	 * yet, and a registration outlives our close() while another descriptor is open */
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	free(l);
}

static void *reaper_main(void *arg)
{
	struct http_server *s = arg;
	size_t bufsize = 64 * 1024;
	char *buf = xmalloc(bufsize);
	char msg[96];
	snprintf(msg, sizeof(msg), "request not complete within %.1f s",
	         (double)s->request_ms / 1000.0);
	for (;;) {
		struct epoll_event ev[32];
		int n = epoll_wait(s->epfd, ev, ARRAY_SIZE(ev), REAPER_TICK_MS);
		int64_t now;
		bool stop = false;
		for (int i = 0; i < n; i++) {
			if (!ev[i].data.ptr)
				stop = true;
			else
				linger_drain(s, ev[i].data.ptr, buf, bufsize);
		}
		if (stop)
			break;
		now = mono_ms();
		pthread_mutex_lock(&s->cmu);
		for (struct lingerer *l = s->lingerers, *next; l; l = next) {
			next = l->next;
			if (l->done || now >= l->deadline_ms)
				lingerer_close(s, l);
		}
		for (struct conn *c = s->conns; c; c = c->next) {
			if (!c->deadline_ms || now < c->deadline_ms || c->fd == MHD_INVALID_SOCKET)
				continue;
			/* the connection is still open: cmu is held, and its close notification
			 * takes cmu before libmicrohttpd closes the socket */
			if (c->receiving)
				raw_answer_and_shut(c->fd, 408, "Request Timeout", msg);
			else
				shutdown(c->fd, SHUT_RDWR);
			c->deadline_ms = 0;
		}
		pthread_mutex_unlock(&s->cmu);
	}
	free(buf);
	return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct conn *c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = xcalloc(1, sizeof(*c));
		c->fd = ci ? ci->connect_fd : MHD_INVALID_SOCKET;
		c->deadline_ms = mono_ms() + s->idle_ms;
		pthread_mutex_lock(&s->cmu);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->cmu);
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	/* libmicrohttpd closes the socket after this returns */
	pthread_mutex_lock(&s->cmu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->linger)
		linger_add(s, c->fd);
	pthread_mutex_unlock(&s->cmu);
	free(c);
	*socket_context = NULL;
}

/* Set the deadline of h's connection: 0 for none, else that many ms from now. */
static void conn_deadline(struct http_req *h, int64_t ms, bool receiving)
{
	struct http_server *s = h->srv;
	if (!h->c)
		return;
	pthread_mutex_lock(&s->cmu);
	h->c->deadline_ms = ms ? mono_ms() + ms : 0;
	h->c->receiving = receiving;
	pthread_mutex_unlock(&s->cmu);
}

/* ---- requests ---------------------------------------------------------------------------- */

/* The request whose request line this I/O thread has just seen, until libmicrohttpd
 * unescapes its path (the call after its query arguments, if it parses any). */
static _Thread_local struct http_req *tl_req;
static _Thread_local const char *tl_uri;

static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	if (tl_req && s == tl_uri) {
		tl_req = NULL;
		tl_uri = NULL;
	} else if (tl_req && !tl_req->bad_target) {
		/* a query argument on_uri() did not see: the target has a NUL byte before its
		 * '?'; libmicrohttpd may run out of memory on them and hang, so end it now */
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(tl_req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		tl_req->bad_target = true;
		if (ci)
			raw_answer_and_shut(ci->connect_fd, 400, "Bad Request",
			                    "NUL byte in the request target");
	}
	return MHD_http_unescape(s);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *h = xcalloc(1, sizeof(*h));
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	const char *q;
	h->srv = cls;
	h->conn = conn;
	h->c = ci ? ci->socket_context : NULL;
	arena_init(&h->arena);
	h->req.arena = &h->arena;
	h->uri = xstrdup(uri ? uri : "");
	q = strchr(h->uri, '?');
	h->path = xstrndup(h->uri, q ? (size_t)(q - h->uri) : strlen(h->uri));
	h->t0_us = mono_us();
	strbuf_init(&h->body, 0);
	api_resp_init(&h->resp);
	/* leave libmicrohttpd an empty query to split (see the top of this file); the
	 * request line lives in its writable read buffer, NUL-terminated */
	if (uri && (q = strchr(uri, '?')) && q[1])
		((char *)(uintptr_t)q)[1] = '\0';
	tl_req = uri ? h : NULL;
	tl_uri = uri;
	conn_deadline(h, h->srv->request_ms, true);
	return h;
}

static void req_free(struct http_req *h)
{
	arena_release(&h->arena);
	route_match_release(&h->m);
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
	if (tl_req == h)
		tl_req = NULL;
	/* waiting for the connection's next request: the idle timeout, not reset by bytes */
	conn_deadline(h, s->idle_ms, false);
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

static bool name_is(const char *key, size_t key_size, const char *name)
{
	return key_size == strlen(name) && !strncasecmp(key, name, key_size);
}

/* Does the line at next follow the text ending at end, with only a line end (max NULs, each
 * an overwritten CR or LF) between, all inside the block? */
static bool line_follows(const char *end, const char *next, size_t max, const char *block_end)
{
	if (next <= end || next > block_end || (size_t)(next - end) > max)
		return false;
	for (const char *p = end; p < next; p++)
		if (*p)
			return false;
	return true;
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
	struct req_headers *rh = cls;
	(void)kind;
	if (!key)
		return MHD_YES;
	if ((memchr(key, '\0', key_size) || (value && memchr(value, '\0', value_size))) && !rh->nul)
		rh->nul = key;
	if (!value)
		value = "";
	if (rh->block_end && !rh->nul) {
		/* this line must start right after the previous one's CR LF or LF (each
		 * overwritten with a NUL): anything more was a NUL byte and what followed it */
		if (!line_follows(rh->prev_end, key, 2, rh->block_end))
			rh->nul = rh->prev_key;
		rh->prev_end = value + value_size;
		rh->prev_key = key;
		if (rh->prev_end < key || rh->prev_end >= rh->block_end)
			rh->nul = key; /* not in the block: a folded line, copied elsewhere */
	}
#define COUNT(hdr, field)                             \
	if (name_is(key, key_size, hdr)) {            \
		if (!rh->n_##field++) {               \
			rh->field = value;            \
			rh->field##_len = value_size; \
		}                                     \
		return MHD_YES;                       \
	}
	COUNT(MHD_HTTP_HEADER_HOST, host)
	COUNT(MHD_HTTP_HEADER_ORIGIN, origin)
	COUNT(MHD_HTTP_HEADER_CONTENT_TYPE, content_type)
	COUNT(MHD_HTTP_HEADER_AUTHORIZATION, authorization)
#undef COUNT
	if (name_is(key, key_size, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (!rh->n_content_length++)
			rh->content_length = value;
	} else if (name_is(key, key_size, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		rh->n_transfer_encoding++;
	}
	return MHD_YES;
}

/* Split a Host value "name[:port]" / "[v6][:port]": the name (brackets removed) into buf.
 * False when it is not of that form. */
static bool host_name(const char *v, size_t len, char *buf, size_t size)
{
	const char *end = v + len, *ne, *after;
	const char *nb = v;
	if (!len)
		return false;
	if (v[0] == '[') {
		nb = v + 1;
		ne = memchr(v, ']', len);
		if (!ne)
			return false;
		after = ne + 1;
	} else {
		ne = memchr(v, ':', len);
		if (!ne)
			ne = end;
		after = ne;
	}
	if (ne == nb || (size_t)(ne - nb) >= size)
		return false;
	if (after < end) {
		size_t digits = (size_t)(end - after - 1);
		if (*after != ':' || digits < 1 || digits > 5)
			return false;
		for (const char *p = after + 1; p < end; p++)
			if (*p < '0' || *p > '9')
				return false;
	}
	memcpy(buf, nb, (size_t)(ne - nb));
	buf[ne - nb] = '\0';
	return true;
}

/* A page of another site that made its own name resolve to 127.0.0.1 (DNS rebinding) sends
 * its own name in Host. The port is not checked: an SSH tunnel may forward another one. */
bool http_host_allowed(const char *listen_host, const char *v, size_t len)
{
	char name[256];
	struct in_addr a4;
	struct sockaddr_in6 sa6;
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--; /* libmicrohttpd keeps trailing whitespace */
	if (!host_name(v, len, name, sizeof(name)))
		return false;
	if (!strcasecmp(name, "localhost") || (listen_host && !strcasecmp(name, listen_host)))
		return true;
	if (v[0] != '[')
		return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
	memset(&sa6, 0, sizeof(sa6));
	sa6.sin6_family = AF_INET6;
	return inet_pton(AF_INET6, name, &sa6.sin6_addr) == 1 &&
	       addr_loopback((const struct sockaddr *)&sa6);
}

bool http_origin_same(const char *origin, size_t origin_len, const char *host, size_t host_len)
{
	const char *o = origin;
	size_t n = origin_len;
	while (n && (o[n - 1] == ' ' || o[n - 1] == '\t'))
		n--;
	while (host_len && (host[host_len - 1] == ' ' || host[host_len - 1] == '\t'))
		host_len--;
	if (n > 7 && !strncasecmp(o, "http://", 7))
		o += 7, n -= 7;
	else if (n > 8 && !strncasecmp(o, "https://", 8))
		o += 8, n -= 8;
	else
		return false; /* "null" (a sandboxed page, a file) or garbage */
	return host && n == host_len && !strncasecmp(o, host, n);
}

bool http_content_type_json(const char *v)
{
	static const char json[] = "application/json";
	const char *p = v;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, json, sizeof(json) - 1))
		return false;
	p += sizeof(json) - 1;
	for (;;) {
		size_t n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return true;
		if (*p != ';')
			return false;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ";");
		if (!strncasecmp(p, "charset=", 8)) {
			const char *cv = p + 8;
			size_t cn = n - 8;
			while (cn && (cv[cn - 1] == ' ' || cv[cn - 1] == '\t'))
				cn--;
			if (cn >= 2 && cv[0] == '"' && cv[cn - 1] == '"')
				cv++, cn -= 2;
			if (!((cn == 5 && !strncasecmp(cv, "utf-8", 5)) ||
			      (cn == 4 && !strncasecmp(cv, "utf8", 4))))
				return false;
		}
		p += n;
	}
}

/* The request line and headers themselves: 400 for what no server should accept, 421 for a
 * Host that is not ours when the API is open. Returns 1 when h->resp holds the answer. */
static int req_check_headers(struct http_server *s, struct http_req *h, struct req_headers *rh,
                             const char *method, const char *version)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(h->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	memset(rh, 0, sizeof(*rh));
	/* libmicrohttpd 0.9.75 ends a header value at its first NUL byte (so "Bearer
	 * <token>\0junk" would read as the token). Its request line and header lines lie in
	 * order in its read buffer, from method to method + header_size, each line ended by
	 * CR LF or LF overwritten with NULs: a value followed by more than that had a NUL */
	if (ci && method && version && *version) {
		rh->prev_end = version + strlen(version);
		rh->prev_key = "request line";
		rh->block_end = method + ci->header_size;
		if (rh->prev_end <= method || rh->prev_end >= rh->block_end)
			rh->block_end = NULL; /* not laid out as expected: do not guess */
	}
	MHD_get_connection_values_n(h->conn, MHD_HEADER_KIND, on_header, rh);
	/* the block ends with the last line's end and the empty line's */
	if (rh->block_end && !rh->nul &&
	    !line_follows(rh->prev_end, rh->block_end, 4, rh->block_end))
		rh->nul = rh->prev_key;
	for (const unsigned char *p = (const unsigned char *)h->uri; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return api_error(&h->resp, 400,
			                 "space or control character in the request target"),
			       1;
	if (h->bad_target)
		return api_error(&h->resp, 400, "NUL byte in the request target"), 1;
	if (rh->nul)
		return api_error(&h->resp, 400, "NUL byte or folded line in '%.*s'",
		                 (int)api_clip(rh->nul, 64), rh->nul),
		       1;
	if (rh->n_host > 1 || rh->n_origin > 1 || rh->n_content_type > 1 ||
	    rh->n_authorization > 1 || rh->n_content_length > 1 || rh->n_transfer_encoding > 1)
		return api_error(&h->resp, 400, "header '%s' given more than once",
		                 rh->n_host > 1             ? "Host"
		                 : rh->n_origin > 1         ? "Origin"
		                 : rh->n_content_type > 1   ? "Content-Type"
		                 : rh->n_authorization > 1  ? "Authorization"
		                 : rh->n_content_length > 1 ? "Content-Length"
		                                            : "Transfer-Encoding"),
		       1;
	if (rh->n_content_length && rh->n_transfer_encoding)
		return api_error(&h->resp, 400, "both Content-Length and Transfer-Encoding"), 1;
	if (!rh->host && (h->http11 || !auth_enabled(&s->auth)))
		return api_error(&h->resp, 400, "missing Host header"), 1;
	if (!auth_enabled(&s->auth) && !http_host_allowed(s->listen_host, rh->host, rh->host_len))
		return api_error(&h->resp, 421,
		                 "host '%.*s' is not served here: without http.tokens only "
		                 "localhost and loopback addresses are",
		                 (int)api_clip(rh->host, 100), rh->host),
		       1;
	h->has_body =
	    rh->n_transfer_encoding || (rh->content_length && strcmp(rh->content_length, "0") != 0);
	return 0;
}

/* Everything that can be refused before reading the body. Returns 1 when h->resp holds the
 * answer, 0 to go on. */
static int req_begin(struct http_server *s, struct http_req *h, const char *method,
                     const char *version)
{
	const struct api_route *route;
	const struct auth_token *who = NULL;
	const char *q = strchr(h->uri, '?');
	struct req_headers rh;
	struct sw_err err;
	bool safe = !strcmp(h->method, "GET") || !strcmp(h->method, "HEAD");
	int rc;

	if (req_check_headers(s, h, &rh, method, version))
		return 1;
	rc = router_match(s->routes, s->n_routes, h->method, h->path, strlen(h->path), &h->m);
	if (rc == ROUTE_NOT_FOUND)
		return api_error(&h->resp, 404, "no such path '%.*s'", (int)api_clip(h->path, 200),
		                 h->path),
		       1;
	if (rc == ROUTE_BAD_PATH)
		return api_error(&h->resp, 400, "malformed path '%.*s'",
		                 (int)api_clip(h->path, 200), h->path),
		       1;
	if (rc == ROUTE_BAD_METHOD) {
		api_error(&h->resp, 405, "method %s is not allowed on '%.*s'", h->method,
		          (int)api_clip(h->path, 200), h->path);
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

	/* a browser page of another origin may send requests but must not make them (it
	 * could not read our answers anyway: no CORS headers are sent) */
	if (rh.origin && !http_origin_same(rh.origin, rh.origin_len, rh.host, rh.host_len))
		return api_error(&h->resp, 403, "cross-origin request from '%.*s' refused",
		                 (int)api_clip(rh.origin, 100), rh.origin),
		       1;

	/* access */
	if (!auth_enabled(&s->auth)) {
		h->req.actor = "anonymous";
		h->req.role = SW_ROLE_ADMIN;
	} else {
		rc = auth_check_n(&s->auth, rh.authorization, rh.authorization_len, &who);
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
			h->req.unauthenticated = true;
		}
		if (route->access != API_PUBLIC && (int)h->req.role < route->access)
			return api_error(&h->resp, 403,
			                 "token '%s' (%s) may not %s %s; it needs %s", h->req.actor,
			                 auth_role_name(h->req.role), route->method, route->pattern,
			                 auth_role_name((enum sw_role)route->access)),
			       1;
	}

	/* bodies are JSON; a form or text/plain (what a page may send anywhere) is not */
	if ((h->has_body || (!safe && rh.content_type)) &&
	    (!rh.content_type || !http_content_type_json(rh.content_type)))
		return api_error(&h->resp, 415, "request body must be application/json, not '%.*s'",
		                 rh.content_type ? (int)api_clip(rh.content_type, 100) : 4,
		                 rh.content_type ? rh.content_type : "none"),
		       1;

	/* query */
	if (q && query_parse(&h->req.query, &h->arena, q + 1, strlen(q + 1), &err))
		return api_error(&h->resp, 400, "%s", err.msg), 1;
	if (query_check_allowed(&h->req.query, route->query, &err))
		return api_error(&h->resp, 400, "%s", err.msg), 1;

	/* a declared body over the limit is refused before a byte of it is read */
	if (rh.content_length) {
		char *end;
		unsigned long long cl;
		errno = 0;
		cl = strtoull(rh.content_length, &end, 10);
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
	if (!h)
		return MHD_NO; /* on_uri always runs first */
	switch (h->state) {
	case RS_NEW:
		h->conn = conn;
		h->http11 = version && !strcmp(version, MHD_HTTP_VERSION_1_1);
		snprintf(h->method, sizeof(h->method), "%s", method);
		if (req_begin(s, h, method, version)) {
			/* answered before the body: libmicrohttpd closes after the answer, and
			 * the close then drains what the client still sends */
			if (h->has_body && h->c) {
				pthread_mutex_lock(&s->cmu);
				h->c->linger = true;
				pthread_mutex_unlock(&s->cmu);
			}
			conn_deadline(h, 0, false);
			return send_resp(h);
		}
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
		conn_deadline(h, 0, false); /* the whole request is in */
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
	if (strstr(buf, "closed by remote") || strstr(buf, "incomplete request") ||
	    strstr(buf, "connection closure"))
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
	s->epfd = s->evfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->cmu, NULL);
	s->routes = o->routes ? o->routes : api_routes;
	s->n_routes = o->routes ? o->n_routes : api_n_routes;
	s->app = o->app;
	s->worker_init = o->worker_init;
	s->worker_fini = o->worker_fini;
	s->max_body = o->max_body ? o->max_body : API_MAX_BODY;
	s->queue_limit = o->queue_limit ? o->queue_limit : 1024;
	s->quiet = o->quiet;
	s->idle_ms = (int64_t)(o->idle_timeout_s ? o->idle_timeout_s : 30u) * 1000;
	s->request_ms = o->request_timeout_ms ? o->request_timeout_ms : HTTP_REQUEST_TIMEOUT_MS;
	if (auth_init(&s->auth, o->tokens, o->n_tokens, err))
		goto fail;
	{
		char *port = NULL;
		struct sw_err e2;
		if (http_split_listen(o->listen, &s->listen_host, &port, &e2) == 0)
			free(port);
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->evfd < 0) {
		sw_err_set(err, "cannot start the HTTP server: %s", strerror(errno));
		goto fail;
	}
	{
		struct epoll_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = NULL; /* the stop signal */
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev)) {
			sw_err_set(err, "cannot start the HTTP server: %s", strerror(errno));
			goto fail;
		}
	}
	{
		int perr = pthread_create(&s->reaper, NULL, reaper_main, s);
		if (perr) {
			sw_err_set(err, "cannot start the connection reaper: %s", strerror(perr));
			goto fail;
		}
		s->reaper_started = true;
	}
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
	    on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, s, MHD_OPTION_END);
	if (!s->d) {
		sw_err_set(err, "cannot start the HTTP server on '%s'", o->listen);
		goto fail;
	}
	log_info(
	    "http listening",
	    "listen=%s port=%d io_threads=%u workers=%u tokens=%zu request_timeout_ms=%" PRId64,
	    o->listen, s->port, io, s->n_workers, s->auth.n, s->request_ms);
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
	/* No MHD_quiesce_daemon: with a thread pool on epoll, libmicrohttpd 0.9.75 quiesces
	 * each pool thread's epoll set from this thread while that thread may be removing the
	 * listen socket itself, and the loser's ENOENT is a fatal error ("Failed to remove
	 * listen FD from epoll set"): test_server_start aborted in 1-6 of 30 runs. The listen
	 * socket stays open until MHD_stop_daemon, which closes it (it is the daemon's since
	 * MHD_start_daemon took it); connections accepted meanwhile are answered 503. */
	if (s->d)
		s->fd = -1;
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
	/* no connection is left: stop the reaper, drop the lingering sockets */
	if (s->reaper_started) {
		uint64_t one = 1;
		if (write(s->evfd, &one, sizeof(one)) != sizeof(one))
			BUG("cannot signal the reaper: %s", strerror(errno));
		pthread_join(s->reaper, NULL);
	}
	while (s->lingerers)
		lingerer_close(s, s->lingerers);
	if (s->evfd >= 0)
		close(s->evfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->listen_host);
	free(s->workers);
	auth_release(&s->auth);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->cmu);
	free(s);
}
