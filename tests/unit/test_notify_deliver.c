/*
 * test_notify_deliver.c - the receivers against local servers on loopback that speak each
 * protocol and fail on demand (tests/tools/recv_http.py, tests/tools/smtp_sink.py): what
 * reaches the wire (Standard Webhooks headers, the same key on every attempt, PagerDuty's
 * dedup_key, an RFC 5322 message), and that bad answers (5xx, 429 with Retry-After, 410,
 * garbage, a redirect loop, 10 MB, a slow drip, a hang, a refused connection, SMTP 4xx and
 * 5xx, no STARTTLS) are bounded in time and mapped to the right outcome.
 */
#include "helpers.h"
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>
#include "notify/receiver.h"
#include "notify/receiver-int.h"
#include "notify/http_post.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

struct server {
	pid_t pid;
	int port;
	char *log;
};

static char *dir;
static struct server http_srv, smtp_srv;

static int start_server(const char *script, struct server *s)
{
	const char *src = getenv("SW_SOURCE_DIR");
	char *path = xasprintf("%s/tests/tools/%s", src ? src : ".", script);
	char *portfile = xasprintf("%s/%s.port", dir, script);
	int64_t deadline = time_mono_ms() + 30000;
	int rc = -1;

	s->log = xasprintf("%s/%s.log", dir, script);
	s->pid = fork();
	if (s->pid == 0) {
		execlp("python3", "python3", path, portfile, s->log, (char *)NULL);
		_exit(127);
	}
	while (time_mono_ms() < deadline) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			if (fscanf(f, "%d", &s->port) == 1)
				rc = 0;
			fclose(f);
			if (rc == 0)
				break;
		}
		usleep(50 * 1000);
	}
	free(path);
	free(portfile);
	return rc;
}

static void stop_server(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	free(s->log);
}

static int setup(void **state)
{
	(void)state;
	dir = test_tmpdir();
	if (start_server("recv_http.py", &http_srv) || start_server("smtp_sink.py", &smtp_srv))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_server(&http_srv);
	stop_server(&smtp_srv);
	test_rmtree(dir);
	free(dir);
	return 0;
}

/* The JSON lines a server logged so far. */
static json_t *server_log(const struct server *s)
{
	json_t *arr = json_array();
	FILE *f = fopen(s->log, "r");
	char line[1 << 16];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);
		if (j)
			json_array_append_new(arr, j);
	}
	fclose(f);
	return arr;
}

/* Requests to path logged so far; *last gets a new reference to the last one (or NULL). */
static size_t requests_to(const char *path, json_t **last)
{
	json_t *arr = server_log(&http_srv), *r;
	size_t i, n = 0;

	if (last)
		*last = NULL;
	json_array_foreach(arr, i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "path")), path))
			continue;
		n++;
		if (last) {
			json_decref(*last);
			*last = json_incref(r);
		}
	}
	json_decref(arr);
	return n;
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", http_srv.port, path);
}

static struct notify_msg msg(const char *key)
{
	struct notify_msg m = {0};
	m.key = key;
	m.dedup_key = "stepwatch-incident-7";
	m.event = NOTIFY_EV_OPENED;
	m.incident_id = 7;
	m.workflow = "loan_application";
	m.step = "bureau_pull";
	m.rule = "failed";
	m.labels_json = "{\"error\":\"BUREAU_TIMEOUT\"}";
	m.level = "ESCALATION_P2";
	m.state = "OPEN";
	m.open_alerts = 3;
	m.affected_users = 3;
	m.summary = "3 users failing";
	m.conv_last_hour = -1;
	m.conv_usual = -1;
	m.opened_at_ms = time_now_ms();
	m.at_ms = m.opened_at_ms;
	return m;
}

/* Send m through ops to path with a fresh receiver; returns the elapsed ms. */
static int64_t send_to(const struct receiver_ops *ops, const char *path, const char *secret,
                       const struct notify_msg *m, int64_t timeout_ms, struct notify_result *r)
{
	struct sw_receiver rc = {0};
	char name[] = "test", rk[] = "R0UT1NG";
	char *u = url(path), *sec = secret ? xstrdup(secret) : NULL;
	int64_t t0 = time_mono_ms();

	rc.name = name;
	rc.url = u;
	rc.secret = sec;
	rc.routing_key = rk;
	ops->send(&rc, m, time_now_ms(), timeout_ms, r);
	free(u);
	free(sec);
	return time_mono_ms() - t0;
}

static void test_webhook_headers_and_same_key(void **state)
{
	const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	struct notify_msg m = msg("inc-7-opened");
	struct notify_result r;
	json_t *last, *h;
	struct strbuf sig = STRBUF_INIT;
	const char *body;
	char *ids[2];
	(void)state;

	for (int i = 0; i < 2; i++) {
		send_to(&receiver_webhook, "/ok", secret, &m, 5000, &r);
		assert_int_equal(r.outcome, NOTIFY_OK);
		assert_int_equal(r.status, 200);
		assert_int_equal(requests_to("/ok", &last), (size_t)i + 1);
		h = json_object_get(last, "headers");
		ids[i] = xstrdup(json_string_value(json_object_get(h, "webhook-id")));
		assert_string_equal(json_string_value(json_object_get(h, "content-type")),
		                    "application/json");
		body = json_string_value(json_object_get(last, "body"));
		/* the signature verifies over id.timestamp.body with the same secret */
		strbuf_reset(&sig);
		assert_int_equal(webhook_signature(secret, ids[i],
		                                   strtoll(json_string_value(json_object_get(
		                                               h, "webhook-timestamp")),
		                                           NULL, 10),
		                                   body, strlen(body), &sig),
		                 0);
		assert_string_equal(json_string_value(json_object_get(h, "webhook-signature")),
		                    sig.buf);
		assert_true(
		    llabs(strtoll(json_string_value(json_object_get(h, "webhook-timestamp")), NULL,
		                  10) -
		          time_now_ms() / 1000) < 60);
		json_decref(last);
	}
	/* every attempt of one message carries the same webhook-id: the message key */
	assert_string_equal(ids[0], "inc-7-opened");
	assert_string_equal(ids[1], "inc-7-opened");
	free(ids[0]);
	free(ids[1]);

	/* no secret: no signature header */
	send_to(&receiver_webhook, "/status/201", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_OK);
	assert_int_equal(requests_to("/status/201", &last), 1);
	assert_null(json_object_get(json_object_get(last, "headers"), "webhook-signature"));
	assert_non_null(json_object_get(json_object_get(last, "headers"), "webhook-id"));
	json_decref(last);
	strbuf_release(&sig);
}

static void test_flaky_then_ok(void **state)
{
	struct notify_msg m = msg("inc-7-flaky");
	struct notify_result r;
	json_t *last;
	(void)state;
	send_to(&receiver_webhook, "/flaky/1/a", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_RETRY);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after_ms, 1000);
	assert_non_null(strstr(r.detail, "HTTP 503: unavailable"));
	send_to(&receiver_webhook, "/flaky/1/a", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_OK);
	assert_int_equal(requests_to("/flaky/1/a", &last), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(last, "headers"), "webhook-id")),
	    "inc-7-flaky");
	json_decref(last);
}

static void test_bad_answers(void **state)
{
	static const struct {
		const char *path;
		enum notify_outcome outcome;
		int status;
		bool gone;
		int64_t retry_after_min, retry_after_max;
		const char *detail;
	} cases[] = {
	    {"/status/500", NOTIFY_RETRY, 500, false, 0, 0, "HTTP 500"},
	    {"/status/408", NOTIFY_RETRY, 408, false, 0, 0, "HTTP 408"},
	    {"/429", NOTIFY_RETRY, 429, false, 7000, 7000, "HTTP 429: slow down"},
	    {"/429date", NOTIFY_RETRY, 429, false, 25000, 31000, "HTTP 429"},
	    {"/503ra", NOTIFY_RETRY, 503, false, 3600000, 3600000, "HTTP 503"},
	    {"/410", NOTIFY_PERMANENT, 410, true, 0, 0, "HTTP 410: gone"},
	    {"/status/400", NOTIFY_PERMANENT, 400, false, 0, 0, "HTTP 400"},
	    {"/status/404", NOTIFY_PERMANENT, 404, false, 0, 0, "HTTP 404"},
	    {"/redirect", NOTIFY_PERMANENT, 302, false, 0, 0,
	     "redirect to '/redirect' not followed"},
	    {"/garbage", NOTIFY_RETRY, 0, false, 0, 0, ""},
	    {"/big", NOTIFY_RETRY, 200, false, 0, 0, "cut off"},
	};
	struct notify_msg m = msg("inc-7-bad");
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct notify_result r;
		int64_t ms = send_to(&receiver_webhook, cases[i].path, NULL, &m, 5000, &r);
		if (r.outcome != cases[i].outcome || r.status != cases[i].status ||
		    r.gone != cases[i].gone || r.retry_after_ms < cases[i].retry_after_min ||
		    r.retry_after_ms > cases[i].retry_after_max ||
		    !strstr(r.detail, cases[i].detail))
			fail_msg("%s: outcome %d status %d gone %d retry_after %" PRId64
			         " detail '%s'",
			         cases[i].path, (int)r.outcome, r.status, (int)r.gone,
			         r.retry_after_ms, r.detail);
		/* bounded: nothing here may take the whole timeout */
		assert_true(ms < 4000);
		assert_null(strpbrk(r.detail, "\r\n"));
	}
	/* a redirect loop costs exactly one request */
	assert_int_equal(requests_to("/redirect", NULL), 1);
}

static void test_slow_and_hanging_bounded(void **state)
{
	static const char *const paths[] = {"/drip", "/hang"};
	struct notify_msg m = msg("inc-7-slow");
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct notify_result r;
		int64_t ms = send_to(&receiver_webhook, paths[i], NULL, &m, 1500, &r);
		if (r.outcome != NOTIFY_RETRY || ms < 1000 || ms > 3500)
			fail_msg("%s: outcome %d after %" PRId64 " ms: %s", paths[i],
			         (int)r.outcome, ms, r.detail);
		assert_non_null(strstr(r.detail, "timed out after 1500 ms"));
	}
}

static void test_connection_refused(void **state)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct sw_receiver rc = {0};
	char name[] = "gone-host";
	struct notify_msg m = msg("inc-7-refused");
	struct notify_result r;
	(void)state;
	/* a port nobody listens on: bind one, note it, close it */
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	rc.name = name;
	rc.url = xasprintf("http://127.0.0.1:%d/hook", port);
	receiver_webhook.send(&rc, &m, time_now_ms(), 3000, &r);
	assert_int_equal(r.outcome, NOTIFY_RETRY);
	assert_int_equal(r.status, 0);
	assert_true(strlen(r.detail) > 0);
	free(rc.url);
}

static void test_slack_429(void **state)
{
	struct notify_msg m = msg("inc-7-slack");
	struct notify_result r;
	json_t *last;
	(void)state;
	send_to(&receiver_slack, "/429", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_RETRY);
	assert_int_equal(r.retry_after_ms, 7000);
	send_to(&receiver_slack, "/status/200", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_OK);
	assert_int_equal(requests_to("/status/200", &last), 1);
	{
		json_t *b = json_loads(json_string_value(json_object_get(last, "body")), 0, NULL);
		assert_non_null(b);
		assert_true(json_array_size(json_object_get(b, "blocks")) > 0);
		assert_non_null(json_string_value(json_object_get(b, "text")));
		json_decref(b);
	}
	json_decref(last);
}

static void test_pagerduty_lifecycle(void **state)
{
	static const enum notify_event evs[] = {NOTIFY_EV_OPENED, NOTIFY_EV_ACKNOWLEDGED,
	                                        NOTIFY_EV_RESOLVED};
	static const char *const actions[] = {"trigger", "acknowledge", "resolve"};
	struct notify_msg m = msg("inc-7-pd");
	struct notify_result r;
	json_t *arr = NULL, *x;
	size_t i, n = 0;
	(void)state;
	for (i = 0; i < ARRAY_SIZE(evs); i++) {
		m.event = evs[i];
		send_to(&receiver_pagerduty, "/pd", NULL, &m, 5000, &r);
		assert_int_equal(r.outcome, NOTIFY_OK);
		assert_int_equal(r.status, 202);
	}
	arr = server_log(&http_srv);
	json_array_foreach(arr, i, x)
	{
		json_t *b;
		if (strcmp(json_string_value(json_object_get(x, "path")), "/pd"))
			continue;
		b = json_loads(json_string_value(json_object_get(x, "body")), 0, NULL);
		assert_non_null(b);
		assert_true(n < 3);
		assert_string_equal(json_string_value(json_object_get(b, "event_action")),
		                    actions[n]);
		assert_string_equal(json_string_value(json_object_get(b, "dedup_key")),
		                    "stepwatch-incident-7");
		assert_string_equal(json_string_value(json_object_get(b, "routing_key")),
		                    "R0UT1NG");
		n++;
		json_decref(b);
	}
	assert_int_equal(n, 3);
	json_decref(arr);
	m.event = NOTIFY_EV_OPENED;
	send_to(&receiver_pagerduty, "/status/400", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_PERMANENT);
	send_to(&receiver_pagerduty, "/status/502", NULL, &m, 5000, &r);
	assert_int_equal(r.outcome, NOTIFY_RETRY);
}

static void email_to_summary(const char *to_addr, bool plain, const char *labels,
                             const char *summary, struct notify_result *r)
{
	char name[] = "mail", from[] = "Stepwatch <stepwatch@alerts.example.com>";
	char *to[] = {xstrdup(to_addr)};
	struct sw_receiver rc = {0};
	struct notify_msg m = msg("inc-7-mail");

	m.labels_json = labels;
	if (summary)
		m.summary = summary;
	rc.name = name;
	rc.kind = SW_RECV_EMAIL;
	rc.to = to;
	rc.n_to = 1;
	rc.from = from;
	rc.smtp_url = xasprintf("smtp://127.0.0.1:%d", smtp_srv.port);
	rc.smtp_plain = plain;
	receiver_email.send(&rc, &m, time_now_ms(), 5000, r);
	free(rc.smtp_url);
	free(to[0]);
}

static void email_to(const char *to_addr, bool plain, const char *labels, struct notify_result *r)
{
	email_to_summary(to_addr, plain, labels, NULL, r);
}

static void test_email_sink(void **state)
{
	struct notify_result r;
	json_t *arr, *last;
	const char *data;
	(void)state;
	email_to("product@example.com", true, "{\"error\":\"X\"}", &r);
	assert_int_equal(r.outcome, NOTIFY_OK);
	assert_int_equal(r.status, 250);
	arr = server_log(&smtp_srv);
	assert_int_equal(json_array_size(arr), 1);
	last = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(last, "mail_from")),
	                    "<stepwatch@alerts.example.com>");
	assert_string_equal(json_string_value(json_array_get(json_object_get(last, "rcpt"), 0)),
	                    "<product@example.com>");
	data = json_string_value(json_object_get(last, "data"));
	assert_non_null(strstr(data, "Message-ID: <inc-7-mail@alerts.example.com>\r\n"));
	assert_non_null(strstr(data, "\r\nDate: "));
	assert_non_null(strstr(data, "\r\nSubject: [P2] loan_application/bureau_pull: opened"));
	assert_non_null(strstr(data, "\r\nMIME-Version: 1.0\r\n"));
	json_decref(arr);

	/* STARTTLS required (the default) and not offered: refused before any mail */
	email_to("product@example.com", false, "{}", &r);
	assert_int_equal(r.outcome, NOTIFY_PERMANENT);
	assert_non_null(strstr(r.detail, "STARTTLS"));
	/* 4xx retry, 5xx permanent */
	email_to("temp@example.com", true, "{}", &r);
	assert_int_equal(r.outcome, NOTIFY_RETRY);
	assert_int_equal(r.status, 451);
	email_to("reject@example.com", true, "{}", &r);
	assert_int_equal(r.outcome, NOTIFY_PERMANENT);
	assert_int_equal(r.status, 550);
	email_to("product@example.com", true, "{\"error\":\"REJECTDATA\"}", &r);
	assert_int_equal(r.outcome, NOTIFY_PERMANENT);
	assert_int_equal(r.status, 554);
	arr = server_log(&smtp_srv);
	assert_int_equal(json_array_size(arr), 1); /* nothing else was accepted */
	json_decref(arr);
	/* a line of a lone dot in the text does not end the message early (dot-stuffing) */
	email_to_summary("product@example.com", true, "{}", "before\n.\nafter the dot", &r);
	assert_int_equal(r.outcome, NOTIFY_OK);
	arr = server_log(&smtp_srv);
	assert_int_equal(json_array_size(arr), 2);
	data = json_string_value(json_object_get(json_array_get(arr, 1), "data"));
	assert_non_null(strstr(data, "before\r\n.\r\nafter the dot\r\n"));
	assert_non_null(strstr(data, "stepwatch, incident key"));
	json_decref(arr);
}

static void *post_thread(void *arg)
{
	struct notify_result *r = arg;
	struct notify_msg m = msg("inc-7-threads");
	send_to(&receiver_webhook, "/slow50", "plain-secret", &m, 5000, r);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[8];
	struct notify_result r[8];
	(void)state;
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, post_thread, &r[i]), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].outcome, NOTIFY_OK);
	}
	assert_int_equal(requests_to("/slow50", NULL), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_webhook_headers_and_same_key),
	    cmocka_unit_test(test_flaky_then_ok),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_slow_and_hanging_bounded),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_slack_429),
	    cmocka_unit_test(test_pagerduty_lifecycle),
	    cmocka_unit_test(test_email_sink),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
