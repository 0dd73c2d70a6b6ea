/*
 * test_broker.c - runtime/broker.c against the real Redis of scripts/test-services
 * (STEPWATCH_TEST_REDIS): URL parsing (bad input), the lease (exclusive, compare-and-renew,
 * compare-and-release), the stream (group created on first read, delivery to one consumer,
 * ack, claim of a stalled entry).
 */
#include "helpers.h"
#include "runtime/broker.h"
#include <hiredis/hiredis.h>
#include <unistd.h>

static char url[256];
static char host[128];
static int port, db;

/* A raw command on the test db, for setup and for looking behind the API. */
static long long raw_int(const char *fmt, const char *a1, const char *a2)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout(host, port, tv);
	redisReply *r;
	long long v = -1;
	assert_non_null(c);
	assert_int_equal(c->err, 0);
	r = redisCommand(c, "SELECT %d", db);
	freeReplyObject(r);
	r = redisCommand(c, fmt, a1, a2);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	         r->element[0]->type == REDIS_REPLY_INTEGER)
		v = r->element[0]->integer; /* XPENDING summary: count first */
	else if (r->type == REDIS_REPLY_ARRAY)
		v = (long long)r->elements;
	else if (r->type == REDIS_REPLY_STATUS)
		v = 0;
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static int setup(void **state)
{
	const char *u = getenv("STEPWATCH_TEST_REDIS");
	const char *p, *colon, *slash;
	(void)state;
	if (!u || !*u) {
		if (!getenv("CI"))
			return 0;
		fail_msg("STEPWATCH_TEST_REDIS is not set");
	}
	p = u + strlen("redis://");
	colon = strchr(p, ':');
	slash = strchr(p, '/');
	assert_non_null(colon);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - p), p);
	port = atoi(colon + 1);
	db = (int)(getpid() % 14) + 1;
	snprintf(url, sizeof(url), "%.*s/%d", (int)(slash ? slash - u : (long)strlen(u)), u, db);
	raw_int("FLUSHDB", NULL, NULL);
	return 0;
}

#define NEED_REDIS()            \
	do {                    \
		if (!url[0])    \
			skip(); \
	} while (0)

static void test_bad_urls(void **state)
{
	static const char *const bad[] = {
	    "",
	    "http://127.0.0.1:6379/0",
	    "redis://",
	    "redis://h:99999/0",
	    "redis://h:0/0",
	    "redis://h:x/0",
	    "redis://h:6379/abc",
	    "redis://h:6379/-1",
	    "redis://h:6379/1x",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct broker *b = (struct broker *)1;
		struct sw_err err = {""};
		assert_int_equal(broker_open(bad[i], &b, &err), -1);
		assert_null(b);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_unreachable(void **state)
{
	struct broker *b = NULL;
	struct sw_err err = {""};
	(void)state;
	/* a well-formed URL of nothing: a handle that reconnects on each call */
	assert_int_equal(broker_open("redis://127.0.0.1:1/0", &b, &err), -1);
	assert_non_null(b);
	assert_non_null(strstr(err.msg, "cannot connect"));
	assert_int_equal(broker_ping(b, &err), -1);
	assert_int_equal(broker_enqueue(b, "x", &err), -1);
	assert_int_equal(broker_lease_acquire(b, "n", &err), -1);
	broker_close(b);
}

static void test_lease(void **state)
{
	struct broker *a = NULL, *b = NULL;
	struct sw_err err = {""};
	(void)state;
	NEED_REDIS();
	assert_int_equal(broker_open(url, &a, &err), 0);
	assert_int_equal(broker_open(url, &b, &err), 0);
	assert_int_equal(broker_ping(a, &err), 0);
	assert_int_equal(broker_lease_acquire(a, "node-a", &err), 1);
	assert_int_equal(broker_lease_acquire(b, "node-b", &err), 0);
	assert_int_equal(broker_lease_acquire(a, "node-a", &err), 1); /* renew */
	assert_true(raw_int("PTTL %s", BROKER_LEASE_KEY, NULL) > BROKER_LEASE_MS - 2000);
	/* a non-holder's release does nothing */
	assert_int_equal(broker_lease_release(b, "node-b", &err), 0);
	assert_int_equal(broker_lease_acquire(b, "node-b", &err), 0);
	assert_int_equal(broker_lease_release(a, "node-a", &err), 0);
	assert_int_equal(raw_int("EXISTS %s", BROKER_LEASE_KEY, NULL), 0);
	assert_int_equal(broker_lease_acquire(b, "node-b", &err), 1);
	assert_int_equal(broker_lease_acquire(a, "node-a", &err), 0);
	broker_lease_release(b, "node-b", &err);
	broker_close(a);
	broker_close(b);
}

static void test_stream(void **state)
{
	struct broker *c1 = NULL, *c2 = NULL;
	struct sw_err err = {""};
	char *id = NULL, *task = NULL, *id2 = NULL, *task2 = NULL;
	(void)state;
	NEED_REDIS();
	assert_int_equal(broker_open(url, &c1, &err), 0);
	assert_int_equal(broker_open(url, &c2, &err), 0);
	/* first read creates the group; nothing there */
	assert_int_equal(broker_next(c1, "c1", 50, &id, &task, &err), 0);
	assert_null(id);
	assert_int_equal(broker_enqueue(c1, "watch_steps:loan", &err), 0);
	assert_int_equal(broker_next(c1, "c1", 50, &id, &task, &err), 1);
	assert_string_equal(task, "watch_steps:loan");
	/* delivered once: the other consumer gets nothing, the entry is pending */
	assert_int_equal(broker_next(c2, "c2", 50, &id2, &task2, &err), 0);
	assert_int_equal(raw_int("XPENDING %s %s", BROKER_STREAM_KEY, BROKER_GROUP), 1);
	/* c1 stalls: make the entry look idle for 40 s; c2 claims it */
	assert_int_equal(
	    raw_int("XCLAIM " BROKER_STREAM_KEY " " BROKER_GROUP " c1 0 %s IDLE %s", id, "40000"),
	    1);
	assert_int_equal(broker_next(c2, "c2", 50, &id2, &task2, &err), 1);
	assert_string_equal(id2, id);
	assert_string_equal(task2, "watch_steps:loan");
	assert_int_equal(broker_ack(c2, id2, &err), 0);
	assert_int_equal(raw_int("XPENDING %s %s", BROKER_STREAM_KEY, BROKER_GROUP), 0);
	free(id);
	free(task);
	assert_int_equal(broker_next(c1, "c1", 50, &id, &task, &err), 0);
	assert_null(id);
	free(id2);
	free(task2);
	/* a second group creation (BUSYGROUP) is fine: a fresh handle reads on */
	broker_close(c1);
	assert_int_equal(broker_open(url, &c1, &err), 0);
	assert_int_equal(broker_enqueue(c2, "validate", &err), 0);
	assert_int_equal(broker_next(c1, "c1", 50, &id, &task, &err), 1);
	assert_string_equal(task, "validate");
	assert_int_equal(broker_ack(c1, id, &err), 0);
	free(id);
	free(task);
	broker_close(c1);
	broker_close(c2);
	raw_int("FLUSHDB", NULL, NULL);
}

static void test_node_id(void **state)
{
	const char *id = broker_node_id();
	char pid[32];
	(void)state;
	assert_ptr_equal(id, broker_node_id());
	snprintf(pid, sizeof(pid), ":%ld:", (long)getpid());
	assert_non_null(strstr(id, pid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_urls), cmocka_unit_test(test_unreachable),
	    cmocka_unit_test(test_lease),    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_node_id),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
