/*
 * test_notify_receivers.c - the receivers without a network: HTTP status outcomes,
 * Retry-After, HMAC-SHA256 and base64, the Standard Webhooks signature (the spec's own test
 * vector), the webhook body, Slack blocks within limits, PagerDuty bodies, the e-mail message.
 */
#include "helpers.h"
#include <jansson.h>
#include "notify/receiver.h"
#include "notify/receiver-int.h"
#include "notify/http_post.h"
#include "util/base64.h"
#include "util/sha256.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

static void test_status_outcome(void **state)
{
	static const struct {
		int status;
		enum notify_outcome outcome;
		bool gone;
	} cases[] = {
	    {200, NOTIFY_OK, false},        {201, NOTIFY_OK, false},
	    {202, NOTIFY_OK, false},        {204, NOTIFY_OK, false},
	    {299, NOTIFY_OK, false},        {301, NOTIFY_PERMANENT, false},
	    {302, NOTIFY_PERMANENT, false}, {307, NOTIFY_PERMANENT, false},
	    {400, NOTIFY_PERMANENT, false}, {401, NOTIFY_PERMANENT, false},
	    {403, NOTIFY_PERMANENT, false}, {404, NOTIFY_PERMANENT, false},
	    {408, NOTIFY_RETRY, false},     {410, NOTIFY_PERMANENT, true},
	    {413, NOTIFY_PERMANENT, false}, {422, NOTIFY_PERMANENT, false},
	    {429, NOTIFY_RETRY, false},     {500, NOTIFY_RETRY, false},
	    {502, NOTIFY_RETRY, false},     {503, NOTIFY_RETRY, false},
	    {504, NOTIFY_RETRY, false},     {599, NOTIFY_RETRY, false},
	    {100, NOTIFY_RETRY, false},     {0, NOTIFY_RETRY, false},
	    {600, NOTIFY_RETRY, false},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct notify_result r;
		memset(&r, 0xff, sizeof(r));
		http_status_outcome(cases[i].status, &r);
		assert_int_equal(r.status, cases[i].status);
		assert_int_equal(r.outcome, cases[i].outcome);
		assert_int_equal(r.gone, cases[i].gone);
	}
}

static void test_retry_after(void **state)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	const int64_t now = 784111777000LL;
	static const struct {
		const char *v;
		int64_t ms;
	} cases[] = {
	    {"0", 0},
	    {"5", 5000},
	    {" 120 ", 120000},
	    {"3600", 3600000},
	    {"3601", 3600000},
	    {"99999999999999999999999999", 3600000},
	    {"Sun, 06 Nov 1994 08:49:37 GMT", 0},
	    {"Sun, 06 Nov 1994 08:50:07 GMT", 30000},
	    {"Sunday, 06-Nov-94 08:50:07 GMT", 30000},
	    {"Sun Nov  6 08:50:07 1994", 30000},
	    {"Sat, 05 Nov 1994 08:49:37 GMT", 0},       /* in the past */
	    {"Fri, 06 Nov 2099 08:49:37 GMT", 3600000}, /* far ahead: clamped */
	    {"", -1},
	    {"   ", -1},
	    {"-5", -1},
	    {"5s", -1},
	    {"1.5", -1},
	    {"soon", -1},
	    {"Sun, 06 Nov 1994 08:49:37 GMT; drop table", -1},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t ms = http_retry_after_parse(cases[i].v, strlen(cases[i].v), now);
		if (ms != cases[i].ms)
			fail_msg("Retry-After '%s': got %" PRId64 ", want %" PRId64, cases[i].v, ms,
			         cases[i].ms);
	}
}

static void test_detail_sanitised(void **state)
{
	char d[16];
	(void)state;
	notify_detail_set(d, sizeof(d), "a\r\nb\tc\xff", 7);
	assert_string_equal(d, "a  b c\xEF\xBF\xBD");
	/* cut at a character boundary: 14 ASCII bytes then a 3-byte character */
	notify_detail_set(d, sizeof(d), "abcdefghijklmn\xE2\x82\xAC", 17);
	assert_string_equal(d, "abcdefghijklmn");
}

static void test_base64(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		struct strbuf e = STRBUF_INIT, d = STRBUF_INIT;
		base64_encode(&e, plain[i], strlen(plain[i]));
		assert_string_equal(e.buf, enc[i]);
		assert_int_equal(base64_decode(e.buf, e.len, &d), 0);
		assert_string_equal(d.buf, plain[i]);
		strbuf_release(&e);
		strbuf_release(&d);
	}
	{
		struct strbuf d = STRBUF_INIT;
		strbuf_addstr(&d, "keep");
		assert_int_equal(base64_decode("Zm9v!", 5, &d), -1);
		assert_int_equal(base64_decode("Z", 1, &d), -1);
		assert_int_equal(base64_decode("Zg=", 3, &d), -1);
		assert_int_equal(base64_decode("Zg===", 5, &d), -1);
		assert_string_equal(d.buf, "keep");
		assert_int_equal(base64_decode("Zg", 2, &d), 0); /* padding optional */
		assert_string_equal(d.buf, "keepf");
		strbuf_release(&d);
	}
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char mac[SHA256_LEN], key[131];
	char h[65];
	(void)state;
	/* RFC 4231 test case 2 */
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	hex(mac, sizeof(mac), h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than the block */
	memset(key, 0xaa, sizeof(key));
	hmac_sha256(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	            mac);
	hex(mac, sizeof(mac), h);
	assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_standard_webhooks_vector(void **state)
{
	/* the test vector published with the Standard Webhooks specification */
	const char *body = "{\"test\": 2432232314}";
	struct strbuf sig = STRBUF_INIT;
	(void)state;
	assert_int_equal(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	                                   "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	                                   strlen(body), &sig),
	                 0);
	assert_string_equal(sig.buf, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	strbuf_reset(&sig);
	assert_int_equal(webhook_signature("whsec_!!notbase64", "id", 1, "{}", 2, &sig), -1);
	strbuf_release(&sig);
}

static struct notify_msg sample_msg(void)
{
	struct notify_msg m = {0};
	m.key = "inc-7-escalated-2";
	m.dedup_key = "stepwatch-incident-7";
	m.event = NOTIFY_EV_ESCALATED;
	m.incident_id = 7;
	m.workflow = "loan_application";
	m.step = "bureau_pull";
	m.rule = "failed";
	m.labels_json = "{\"error\":\"BUREAU_TIMEOUT\"}";
	m.level = "ESCALATION_P1";
	m.state = "OPEN";
	m.open_alerts = 120;
	m.affected_users = 118;
	m.summary = "+40 users since the last message";
	m.conv_last_hour = 0.415;
	m.conv_usual = 0.93;
	m.opened_at_ms = 1764500000000LL;
	m.at_ms = 1764500600000LL;
	m.dashboard_url = "http://127.0.0.1:8080/";
	m.api_url = "http://127.0.0.1:8080/api/v1/incidents/7";
	m.oncall = "asha";
	return m;
}

static void test_webhook_body(void **state)
{
	struct notify_msg m = sample_msg();
	struct strbuf sb = STRBUF_INIT;
	json_t *j, *d;
	(void)state;
	webhook_body(&m, &sb);
	j = json_loads(sb.buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "incident.escalated");
	assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
	                    "2025-11-30T11:03:20Z");
	d = json_object_get(j, "data");
	assert_int_equal(json_integer_value(json_object_get(d, "incident_id")), 7);
	assert_string_equal(json_string_value(json_object_get(d, "event")), "escalated");
	assert_string_equal(json_string_value(json_object_get(d, "workflow")), "loan_application");
	assert_string_equal(json_string_value(json_object_get(d, "step")), "bureau_pull");
	assert_string_equal(json_string_value(json_object_get(d, "rule")), "failed");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(d, "labels"), "error")),
	    "BUREAU_TIMEOUT");
	assert_string_equal(json_string_value(json_object_get(d, "level")), "ESCALATION_P1");
	assert_string_equal(json_string_value(json_object_get(d, "state")), "OPEN");
	assert_int_equal(json_integer_value(json_object_get(d, "open_alerts")), 120);
	assert_int_equal(json_integer_value(json_object_get(d, "affected_users")), 118);
	assert_string_equal(json_string_value(json_object_get(d, "summary")),
	                    "+40 users since the last message");
	assert_true(json_real_value(json_object_get(json_object_get(d, "conversion"), "usual")) ==
	            0.93);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "links"), "api")),
	                    "http://127.0.0.1:8080/api/v1/incidents/7");
	assert_string_equal(json_string_value(json_object_get(d, "oncall")), "asha");
	assert_string_equal(json_string_value(json_object_get(d, "dedup_key")),
	                    "stepwatch-incident-7");
	json_decref(j);

	/* unknowns are null; bad labels an empty object; bad UTF-8 replaced, still JSON */
	m.conv_last_hour = -1;
	m.conv_usual = -1;
	m.oncall = NULL;
	m.dashboard_url = NULL;
	m.labels_json = "not json";
	m.step = "bad\xff step";
	strbuf_reset(&sb);
	webhook_body(&m, &sb);
	j = json_loads(sb.buf, 0, NULL);
	assert_non_null(j);
	d = json_object_get(j, "data");
	assert_true(json_is_null(json_object_get(json_object_get(d, "conversion"), "last_hour")));
	assert_true(json_is_null(json_object_get(d, "oncall")));
	assert_true(json_is_null(json_object_get(json_object_get(d, "links"), "dashboard")));
	assert_int_equal(json_object_size(json_object_get(d, "labels")), 0);
	assert_string_equal(json_string_value(json_object_get(d, "step")), "bad\xEF\xBF\xBD step");
	json_decref(j);
	strbuf_release(&sb);
}

static void test_ops_table(void **state)
{
	(void)state;
	assert_string_equal(receiver_ops_for(SW_RECV_WEBHOOK)->kind, "webhook");
	assert_string_equal(receiver_ops_for(SW_RECV_SLACK)->kind, "slack");
	assert_string_equal(receiver_ops_for(SW_RECV_PAGERDUTY)->kind, "pagerduty");
	assert_string_equal(receiver_ops_for(SW_RECV_EMAIL)->kind, "email");
	assert_string_equal(notify_event_name(NOTIFY_EV_OPENED), "opened");
	assert_string_equal(notify_event_name(NOTIFY_EV_ACKNOWLEDGED), "acknowledged");
	assert_string_equal(notify_event_name(NOTIFY_EV_RESOLVED), "resolved");
	assert_string_equal(notify_event_name(NOTIFY_EV_TEST), "test");
}

static size_t count_blocks_checked(json_t *blocks)
{
	size_t i;
	json_t *b;

	json_array_foreach(blocks, i, b)
	{
		json_t *t = json_object_get(b, "text"), *f = json_object_get(b, "fields"), *x;
		size_t k;
		if (t)
			assert_true(strlen(json_string_value(json_object_get(t, "text"))) <=
			            SLACK_MAX_SECTION_TEXT);
		/* mrkdwn never carries a mention or a link from the data (plain_text is inert) */
		if (t && !strcmp(json_string_value(json_object_get(t, "type")), "mrkdwn"))
			assert_null(strstr(json_string_value(json_object_get(t, "text")), "<!"));
		if (!strcmp(json_string_value(json_object_get(b, "type")), "header"))
			assert_true(strlen(json_string_value(json_object_get(t, "text"))) <= 150);
		json_array_foreach(f, k, x)
		{
			assert_true(k < 10);
			assert_true(strlen(json_string_value(json_object_get(x, "text"))) <= 2000);
		}
	}
	return json_array_size(blocks);
}

static void test_slack_blocks(void **state)
{
	struct notify_msg m = sample_msg();
	struct strbuf sb = STRBUF_INIT, big = STRBUF_INIT;
	json_t *j;
	const char *text;
	(void)state;
	slack_body(&m, &sb);
	j = json_loads(sb.buf, 0, NULL);
	assert_non_null(j);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[P1] loan_application/bureau_pull: escalated"));
	assert_non_null(strstr(text, "+40 users since the last message"));
	assert_true(count_blocks_checked(json_object_get(j, "blocks")) <= SLACK_MAX_BLOCKS);
	assert_non_null(strstr(sb.buf, "<http://127.0.0.1:8080/|Dashboard>"));
	assert_non_null(strstr(sb.buf, "118"));
	assert_non_null(strstr(sb.buf, "41.5% last hour, usually 93.0%"));
	json_decref(j);

	/* a 10,000-character summary and labels with mrkdwn: cut, escaped, still valid */
	for (int i = 0; i < 10000; i++)
		strbuf_addstr(&big, i % 100 == 0 ? "\xc3\xa9" : "x");
	m.summary = big.buf;
	m.labels_json = "{\"error\":\"<!channel> & <http://evil|x>\"}";
	strbuf_reset(&sb);
	slack_body(&m, &sb);
	j = json_loads(sb.buf, 0, NULL);
	assert_non_null(j);
	assert_true(count_blocks_checked(json_object_get(j, "blocks")) <= SLACK_MAX_BLOCKS);
	assert_true(strlen(json_string_value(json_object_get(j, "text"))) <= SLACK_MAX_FALLBACK);
	assert_null(strstr(json_string_value(json_object_get(j, "text")), "<!channel>"));
	assert_non_null(strstr(sb.buf, "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;"));
	json_decref(j);
	strbuf_release(&big);
	strbuf_release(&sb);
}

static json_t *pd(struct notify_msg *m, enum notify_event ev)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j;
	m->event = ev;
	pagerduty_body(m, "R0UT1NGKEY", &sb);
	j = json_loads(sb.buf, 0, NULL);
	assert_non_null(j);
	strbuf_release(&sb);
	return j;
}

static void test_pagerduty_bodies(void **state)
{
	static const struct {
		const char *level, *severity;
	} sev[] = {{"ESCALATION_P0", "critical"},
	           {"ESCALATION_P1", "error"},
	           {"ESCALATION_P2", "warning"},
	           {"INITIATED", "info"}};
	struct notify_msg m = sample_msg();
	json_t *j, *p;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sev); i++) {
		m.level = sev[i].level;
		j = pd(&m, NOTIFY_EV_ESCALATED);
		p = json_object_get(j, "payload");
		assert_string_equal(json_string_value(json_object_get(j, "event_action")),
		                    "trigger");
		assert_string_equal(json_string_value(json_object_get(p, "severity")),
		                    sev[i].severity);
		assert_string_equal(json_string_value(json_object_get(j, "dedup_key")),
		                    "stepwatch-incident-7");
		assert_string_equal(json_string_value(json_object_get(j, "routing_key")),
		                    "R0UT1NGKEY");
		assert_string_equal(json_string_value(json_object_get(p, "source")),
		                    "stepwatch/loan_application");
		assert_string_equal(json_string_value(json_object_get(p, "component")),
		                    "bureau_pull");
		assert_string_equal(json_string_value(json_object_get(p, "timestamp")),
		                    "2025-11-30T11:03:20Z");
		assert_true(strlen(json_string_value(json_object_get(p, "summary"))) <= 1024);
		assert_int_equal(json_integer_value(json_object_get(
		                     json_object_get(p, "custom_details"), "affected_users")),
		                 118);
		json_decref(j);
	}
	j = pd(&m, NOTIFY_EV_ACKNOWLEDGED);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "acknowledge");
	assert_string_equal(json_string_value(json_object_get(j, "dedup_key")),
	                    "stepwatch-incident-7");
	assert_null(json_object_get(j, "payload"));
	json_decref(j);
	j = pd(&m, NOTIFY_EV_RESOLVED);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "resolve");
	assert_string_equal(json_string_value(json_object_get(j, "dedup_key")),
	                    "stepwatch-incident-7");
	json_decref(j);
	/* a long summary is cut to PagerDuty's 1024 */
	{
		char *big = xcalloc(3000, 1);
		memset(big, 'y', 2999);
		m.summary = big;
		j = pd(&m, NOTIFY_EV_OPENED);
		assert_int_equal(strlen(json_string_value(
		                     json_object_get(json_object_get(j, "payload"), "summary"))),
		                 1024);
		json_decref(j);
		free(big);
	}
}

static void test_email_message(void **state)
{
	struct notify_msg m = sample_msg();
	char to0[] = "product@example.com", to1[] = "Ops Team <ops@example.com>";
	char name[] = "product", from[] = "stepwatch@alerts.example.com";
	char *to[] = {to0, to1};
	struct sw_receiver rc = {0};
	struct strbuf sb = STRBUF_INIT;
	const char *body;
	(void)state;
	rc.name = name;
	rc.kind = SW_RECV_EMAIL;
	rc.to = to;
	rc.n_to = 2;
	rc.from = from;
	email_message(&rc, &m, 1764500600000LL, "alerts.example.com", &sb);
	assert_non_null(strstr(sb.buf, "From: stepwatch@alerts.example.com\r\n"));
	assert_non_null(
	    strstr(sb.buf, "To: product@example.com,\r\n Ops Team <ops@example.com>\r\n"));
	assert_non_null(strstr(sb.buf, "Subject: [P1] loan_application/bureau_pull: escalated "
	                               "(error=BUREAU_TIMEOUT)\r\n"));
	assert_non_null(strstr(sb.buf, "Date: Sun, 30 Nov 2025 11:03:20 +0000\r\n"));
	assert_non_null(strstr(sb.buf, "Message-ID: <inc-7-escalated-2@alerts.example.com>\r\n"));
	assert_non_null(strstr(sb.buf, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(sb.buf, "Content-Type: text/plain; charset=UTF-8\r\n"));
	body = strstr(sb.buf, "\r\n\r\n");
	assert_non_null(body);
	assert_non_null(strstr(body, "+40 users since the last message\r\n"));
	assert_non_null(strstr(body, "Affected users: 118, open alerts: 120\r\n"));
	/* every line ends in CRLF, no bare LF, no line over 998 */
	for (const char *p = sb.buf, *ls = sb.buf; *p; p++) {
		if (*p == '\n') {
			assert_true(p > sb.buf && p[-1] == '\r');
			assert_true(p - ls <= 998);
			ls = p + 1;
		}
	}
	/* header injection through a label, and a non-ASCII subject */
	m.labels_json = "{\"error\":\"x\\r\\nBcc: victim@example.com\"}";
	m.step = "\xc3\xa9tape";
	strbuf_reset(&sb);
	email_message(&rc, &m, 1764500600000LL, "alerts.example.com", &sb);
	assert_null(strstr(sb.buf, "\nBcc:"));
	assert_non_null(strstr(sb.buf, "Subject: =?UTF-8?B?"));
	/* a non-ASCII display name is encoded, its address is not */
	{
		char fancy[] = "\xc3\x89quipe Produit <produit@example.com>";
		rc.from = fancy;
		strbuf_reset(&sb);
		email_message(&rc, &m, 1764500600000LL, "example.com", &sb);
		assert_non_null(strstr(sb.buf, "From: =?UTF-8?B?w4lxdWlwZSBQcm9kdWl0?= "
		                               "<produit@example.com>\r\n"));
	}
	strbuf_release(&sb);

	assert_int_equal(email_code_outcome(250), NOTIFY_OK);
	assert_int_equal(email_code_outcome(421), NOTIFY_RETRY);
	assert_int_equal(email_code_outcome(451), NOTIFY_RETRY);
	assert_int_equal(email_code_outcome(550), NOTIFY_PERMANENT);
	assert_int_equal(email_code_outcome(554), NOTIFY_PERMANENT);
	assert_int_equal(email_code_outcome(0), NOTIFY_RETRY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_outcome),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_detail_sanitised),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_hmac_rfc4231),
	    cmocka_unit_test(test_standard_webhooks_vector),
	    cmocka_unit_test(test_webhook_body),
	    cmocka_unit_test(test_ops_table),
	    cmocka_unit_test(test_slack_blocks),
	    cmocka_unit_test(test_pagerduty_bodies),
	    cmocka_unit_test(test_email_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
