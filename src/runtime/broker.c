/*
 * broker.c - the Redis broker of distributed mode: connection, lease, task stream (see
 * broker.h).
 *
 * DESIGN: every call first makes sure there is a live connection (connecting if the last
 * call failed), so callers simply retry on their next cycle after an error; a failed
 * command drops the connection. Lease renewal and release are Lua scripts comparing the
 * holder first, so a node whose lease expired can never extend or delete another node's.
 */
#include "util/common.h"
#include "util/log.h"
#include "runtime/broker.h"
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <unistd.h>
#include <time.h>

struct broker {
	char *host;
	int port;
	int db;
	char *password;
	redisContext *c;
};

static const char renew_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
static const char release_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                  "return redis.call('DEL', KEYS[1]) else return 0 end";

static int parse_url(const char *url, struct broker *b, struct sw_err *err)
{
	const char *p, *at, *slash, *colon, *hend;
	if (strncmp(url, "redis://", 8) || !url[8]) {
		sw_err_set(err, "unsupported broker URL (use redis://host:port/db)");
		return -1;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at && (!slash || at < slash)) {
		const char *pc = memchr(p, ':', (size_t)(at - p));
		const char *pw = pc ? pc + 1 : p;
		if (at > pw)
			b->password = xasprintf("%.*s", (int)(at - pw), pw);
		p = at + 1;
	}
	hend = slash ? slash : p + strlen(p);
	colon = memchr(p, ':', (size_t)(hend - p));
	b->port = 6379;
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != hend || port <= 0 || port > 65535) {
			sw_err_set(err, "broker URL: bad port");
			return -1;
		}
		b->port = (int)port;
	} else {
		colon = hend;
	}
	b->host = colon > p ? xasprintf("%.*s", (int)(colon - p), p) : xstrdup("127.0.0.1");
	b->db = 0;
	if (slash && slash[1]) {
		char *end;
		long db = strtol(slash + 1, &end, 10);
		if (*end || db < 0 || db > 100000) {
			sw_err_set(err, "broker URL: bad database index '%s'", slash + 1);
			return -1;
		}
		b->db = (int)db;
	}
	return 0;
}

static void drop(struct broker *b)
{
	if (b->c)
		redisFree(b->c);
	b->c = NULL;
}

/* Check a reply; on error set err, free the reply, drop the connection on I/O errors. */
static redisReply *check(struct broker *b, redisReply *r, const char *what, struct sw_err *err)
{
	if (!r) {
		sw_err_set(err, "broker %s: %s", what,
		           b->c && b->c->errstr[0] ? b->c->errstr : "no reply");
		drop(b);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		sw_err_set(err, "broker %s: %s", what, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int ensure(struct broker *b, struct sw_err *err)
{
	struct timeval tv = {2, 0};
	redisReply *r;
	if (b->c)
		return 0;
	b->c = redisConnectWithTimeout(b->host, b->port, tv);
	if (!b->c || b->c->err) {
		sw_err_set(err, "cannot connect to broker '%s:%d': %s", b->host, b->port,
		           b->c ? b->c->errstr : "out of memory");
		drop(b);
		return -1;
	}
	tv.tv_sec = 5; /* bounds every command; blocking reads ask for less */
	redisSetTimeout(b->c, tv);
	if (b->password) {
		r = check(b, redisCommand(b->c, "AUTH %s", b->password), "AUTH", err);
		if (!r)
			goto fail;
		freeReplyObject(r);
	}
	if (b->db) {
		r = check(b, redisCommand(b->c, "SELECT %d", b->db), "SELECT", err);
		if (!r)
			goto fail;
		freeReplyObject(r);
	}
	return 0;
fail:
	drop(b);
	return -1;
}

int broker_open(const char *url, struct broker **out, struct sw_err *err)
{
	struct broker *b = xcalloc(1, sizeof(*b));
	*out = NULL;
	if (parse_url(url, b, err) < 0) {
		broker_close(b);
		return -1;
	}
	*out = b;
	return ensure(b, err);
}

void broker_close(struct broker *b)
{
	if (!b)
		return;
	drop(b);
	free(b->host);
	if (b->password)
		explicit_bzero(b->password, strlen(b->password));
	free(b->password);
	free(b);
}

int broker_ping(struct broker *b, struct sw_err *err)
{
	redisReply *r;
	if (ensure(b, err) < 0)
		return -1;
	r = check(b, redisCommand(b->c, "PING"), "PING", err);
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

static char node_id_buf[128];

static void node_id_init(void)
{
	char host[64] = "";
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	gethostname(host, sizeof(host) - 1);
	snprintf(node_id_buf, sizeof(node_id_buf), "%s:%ld:%lx", host, (long)getpid(),
	         (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20));
}

const char *broker_node_id(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, node_id_init);
	return node_id_buf;
}

int broker_lease_acquire(struct broker *b, const char *node_id, struct sw_err *err)
{
	redisReply *r;
	int rc;
	if (ensure(b, err) < 0)
		return -1;
	r = check(b,
	          redisCommand(b->c, "EVAL %s 1 %s %s %d", renew_lua, BROKER_LEASE_KEY, node_id,
	                       BROKER_LEASE_MS),
	          "lease renew", err);
	if (!r)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (rc)
		return 1;
	r = check(
	    b, redisCommand(b->c, "SET %s %s NX PX %d", BROKER_LEASE_KEY, node_id, BROKER_LEASE_MS),
	    "lease", err);
	if (!r)
		return -1;
	rc = r->type == REDIS_REPLY_STATUS; /* OK; nil when held by another */
	freeReplyObject(r);
	return rc;
}

int broker_lease_release(struct broker *b, const char *node_id, struct sw_err *err)
{
	redisReply *r;
	if (ensure(b, err) < 0)
		return -1;
	r = check(b, redisCommand(b->c, "EVAL %s 1 %s %s", release_lua, BROKER_LEASE_KEY, node_id),
	          "lease release", err);
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

int broker_enqueue(struct broker *b, const char *task, struct sw_err *err)
{
	redisReply *r;
	if (ensure(b, err) < 0)
		return -1;
	r = check(b,
	          redisCommand(b->c, "XADD %s MAXLEN ~ 10000 * task %s", BROKER_STREAM_KEY, task),
	          "XADD", err);
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

static int group_create(struct broker *b, struct sw_err *err)
{
	redisReply *r =
	    redisCommand(b->c, "XGROUP CREATE %s %s 0 MKSTREAM", BROKER_STREAM_KEY, BROKER_GROUP);
	if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "BUSYGROUP", 9)) {
		freeReplyObject(r);
		return 0;
	}
	r = check(b, r, "XGROUP CREATE", err);
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* One stream entry [id, [field, value, ...]] -> *id, *task (task NULL if absent). */
static void entry_take(const redisReply *e, char **id, char **task)
{
	const redisReply *f;
	*id = NULL;
	*task = NULL;
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	*id = xstrdup(e->element[0]->str);
	f = e->element[1];
	if (f->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(f->element[i]->str, "task") &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			*task = xstrdup(f->element[i + 1]->str);
}

int broker_next(struct broker *b, const char *consumer, int block_ms, char **id, char **task,
                struct sw_err *err)
{
	redisReply *r;
	int rc = 0;
	*id = NULL;
	*task = NULL;
	if (ensure(b, err) < 0)
		return -1;
	r = redisCommand(b->c, "XAUTOCLAIM %s %s %s %d 0-0 COUNT 1", BROKER_STREAM_KEY,
	                 BROKER_GROUP, consumer, BROKER_CLAIM_IDLE_MS);
	if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOGROUP", 7)) {
		freeReplyObject(r);
		if (group_create(b, err) < 0)
			return -1;
		r = redisCommand(b->c, "XAUTOCLAIM %s %s %s %d 0-0 COUNT 1", BROKER_STREAM_KEY,
		                 BROKER_GROUP, consumer, BROKER_CLAIM_IDLE_MS);
	}
	r = check(b, r, "XAUTOCLAIM", err);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements > 0) {
		entry_take(r->element[1]->element[0], id, task);
		if (*id) {
			log_warn("claimed a task of a stalled consumer", "id=%s task=%s", *id,
			         *task ? *task : "");
			rc = 1;
		}
	}
	freeReplyObject(r);
	if (rc)
		return rc;
	r = check(b,
	          redisCommand(b->c, "XREADGROUP GROUP %s %s COUNT 1 BLOCK %d STREAMS %s >",
	                       BROKER_GROUP, consumer, block_ms, BROKER_STREAM_KEY),
	          "XREADGROUP", err);
	if (!r)
		return -1;
	/* [[stream, [[id, [f, v]]]]] or nil */
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 2 &&
	    r->element[0]->element[1]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->element[1]->elements > 0) {
		entry_take(r->element[0]->element[1]->element[0], id, task);
		rc = *id ? 1 : 0;
	}
	freeReplyObject(r);
	return rc;
}

int broker_ack(struct broker *b, const char *id, struct sw_err *err)
{
	redisReply *r;
	if (ensure(b, err) < 0)
		return -1;
	r = check(b, redisCommand(b->c, "XACK %s %s %s", BROKER_STREAM_KEY, BROKER_GROUP, id),
	          "XACK", err);
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}
