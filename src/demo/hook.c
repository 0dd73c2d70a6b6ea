/*
 * hook.c - the demo's webhook receiver (hook.h) over libmicrohttpd: it reads each POSTed
 * Standard Webhooks body ({"type", "timestamp", "data": {...}}) and keeps a one-line
 * account of it in a small ring, for the demo's screen. Bodies over 64 KiB are refused.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "demo/hook.h"
#include <jansson.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <pthread.h>

#define RING     8
#define MAX_BODY (64 * 1024)

struct demo_hook {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	char *ring[RING]; /* newest at (head - 1) */
	size_t head;
	int64_t total;
	char *out[RING]; /* copies handed to demo_hook_recent's caller */
};

struct upload {
	struct strbuf body;
	bool too_big;
};

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void record(struct demo_hook *h, const char *url, const struct strbuf *body)
{
	json_t *root = json_loadb(body->buf ? body->buf : "", body->len, 0, NULL);
	const json_t *d = json_object_get(root, "data");
	const char *level = jstr(d, "level"), *who = url[0] == '/' ? url + 1 : url;
	char t[40], *line;
	if (!strncmp(level, "ESCALATION_", 11))
		level += 11;
	time_format_rfc3339(time_now_ms(), t, sizeof(t));
	line = xasprintf("%.8s  %-8.20s [%s] %s/%s %s: %s", t + 11, who, level, jstr(d, "workflow"),
	                 jstr(d, "step"), jstr(d, "event"), jstr(d, "summary"));
	json_decref(root);
	pthread_mutex_lock(&h->lock);
	free(h->ring[h->head % RING]);
	h->ring[h->head % RING] = line;
	h->head++;
	h->total++;
	pthread_mutex_unlock(&h->lock);
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(2, (void *)(uintptr_t) "{}", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
	struct demo_hook *h = cls;
	struct upload *u = *con_cls;
	(void)version;
	if (strcmp(method, "POST"))
		return answer(c, 405);
	if (!u) {
		u = xcalloc(1, sizeof(*u));
		strbuf_init(&u->body, 0);
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_size) {
		if (u->body.len + *upload_size > MAX_BODY)
			u->too_big = true;
		else
			strbuf_add(&u->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return answer(c, 413);
	record(h, url, &u->body);
	return answer(c, 200);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		strbuf_release(&u->body);
		free(u);
		*con_cls = NULL;
	}
}

struct demo_hook *demo_hook_start(struct sw_err *err)
{
	struct demo_hook *h = xcalloc(1, sizeof(*h));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	pthread_mutex_init(&h->lock, NULL);
	h->d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
	                     on_access, h, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
	                     on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!h->d) {
		sw_err_set(err, "cannot start the demo's webhook receiver on 127.0.0.1");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	return h;
}

int demo_hook_port(const struct demo_hook *h)
{
	return h->port;
}

size_t demo_hook_recent(struct demo_hook *h, const char **lines, size_t max, int64_t *total)
{
	size_t n = 0;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < RING; i++) {
		free(h->out[i]);
		h->out[i] = NULL;
	}
	for (size_t k = 0; k < max && k < RING && k < h->head; k++) {
		h->out[k] = xstrdup(h->ring[(h->head - 1 - k) % RING]);
		lines[n++] = h->out[k];
	}
	*total = h->total;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void demo_hook_stop(struct demo_hook *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	for (size_t i = 0; i < RING; i++) {
		free(h->ring[i]);
		free(h->out[i]);
	}
	pthread_mutex_destroy(&h->lock);
	free(h);
}
