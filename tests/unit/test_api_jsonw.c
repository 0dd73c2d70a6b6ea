/*
 * test_api_jsonw.c - the hand-written JSON of the alert answers (api/jsonw.h) against
 * jansson, which wrote them before: times, strings (every escape, UTF-8, invalid bytes),
 * labels (fast path and every case it hands to jansson), whole alerts with history.
 */
#include "helpers.h"
#include "util/timeutil.h"
#include "api/jsonw.h"
#include "api/forms.h"
#include <jansson.h>

/* jansson's compact text of v (stolen). */
static char *dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	assert_non_null(s);
	return s;
}

static void test_times(void **state)
{
	static const int64_t fixed[] = {
	    0,
	    1,
	    999,
	    1000,
	    59999,
	    86399999,
	    86400000,
	    951782400000 /* 2000-02-29 */,
	    1763000000500,
	    4102444800000,
	    INT64_C(253402300799999),
	    INT64_C(253402300800000),
	    -1,
	    -86400000,
	    -62135596800000,
	};
	uint64_t x = 88172645463325252ULL;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fixed) + 20000; i++) {
		struct strbuf sb = STRBUF_INIT;
		char *want;
		int64_t ms;
		if (i < ARRAY_SIZE(fixed)) {
			ms = fixed[i];
		} else { /* xorshift: 0 .. ~year 11000, and some whole seconds */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			ms = (int64_t)(x % UINT64_C(285000000000000));
			if (i % 3 == 0)
				ms -= ms % 1000;
		}
		want = dump(api_time_json(ms));
		jw_time(&sb, ms);
		assert_string_equal(sb.buf, want);
		free(want);
		strbuf_release(&sb);
	}
	{
		struct strbuf sb = STRBUF_INIT;
		jw_time(&sb, TIME_NULL);
		assert_string_equal(sb.buf, "null");
		strbuf_release(&sb);
	}
}

static void check_str(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	char *want = dump(api_str_json(s));
	jw_str(&sb, s);
	assert_string_equal(sb.buf, want);
	free(want);
	strbuf_release(&sb);
}

static void test_strings(void **state)
{
	char all[256];
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	check_str(NULL);
	check_str("");
	check_str("plain");
	check_str("q\"b\\s/ \x7f end");
	check_str("\b\f\n\r\t");
	check_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf");
	for (int c = 1; c < 128; c++)
		all[c - 1] = (char)c;
	all[127] = '\0';
	check_str(all);
	/* invalid UTF-8 (jansson refuses the string): each bad byte becomes U+FFFD */
	jw_str(&sb, "a\xff"
	            "b\xc0\xaf"
	            "c\xed\xa0\x80"
	            "d\xe2\x82");
	assert_string_equal(sb.buf, "\"a\xef\xbf\xbd"
	                            "b\xef\xbf\xbd\xef\xbf\xbd"
	                            "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                            "d\xef\xbf\xbd\xef\xbf\xbd\"");
	strbuf_reset(&sb);
	jw_int(&sb, INT64_MIN);
	strbuf_addch(&sb, ' ');
	jw_int(&sb, INT64_MAX);
	strbuf_addch(&sb, ' ');
	jw_int(&sb, 0);
	assert_string_equal(sb.buf, "-9223372036854775808 9223372036854775807 0");
	strbuf_release(&sb);
}

static void test_labels(void **state)
{
	static const char *const texts[] = {
	    "{}",
	    " { } ",
	    "{\"a\":\"b\"}",
	    " {\n\t\"channel\" : \"web\" ,\"error\":\"E3\"\r} ",
	    "{\"k\":\"caf\xc3\xa9\"}",
	    "{\"a\":\"b\",\"a\":\"c\"}",
	    "{\"a\":\"b\",\"a\":1}",
	    "{\"a\":1,\"b\":\"x\"}",
	    "{\"a\":null,\"b\":\"x\",\"c\":true,\"d\":[1]}",
	    "{\"a\":{\"b\":\"c\"}}",
	    "{\"e\\u00e9\":\"\\/x\\n\"}",
	    "{\"a\":\"\\u0000\"}",
	    "{\"a\":\"b\"",
	    "{\"a\":\"b\"} x",
	    "{\"a\":\"b\",}",
	    "[\"a\"]",
	    "\"s\"",
	    "",
	    "x",
	    "{\"a\":\"\xff\"}",
	    "{\"a\" \"b\"}",
	    "{\"a\":\"b\" \"c\":\"d\"}",
	    "{,}",
	    "{\"\":\"\"}",
	    "{\"a\":\"b\"}}",
	    "{\"a\":\"line\nbreak\"}",
	};
	(void)state;
	for (size_t i = 0; i <= ARRAY_SIZE(texts) + 1; i++) {
		struct strbuf sb = STRBUF_INIT, big = STRBUF_INIT;
		const char *t = NULL;
		char *want;
		if (i < ARRAY_SIZE(texts)) {
			t = texts[i];
		} else if (i == ARRAY_SIZE(texts)) { /* more keys than the fast path takes */
			strbuf_addch(&big, '{');
			for (int k = 0; k < 40; k++)
				strbuf_addf(&big, "%s\"k%d\":\"v%d\"", k ? "," : "", k, k);
			strbuf_addch(&big, '}');
			t = big.buf;
		}
		want = dump(api_labels_json(t));
		strbuf_addstr(&sb, "pre");
		api_labels_write(&sb, t);
		assert_string_equal(sb.buf + 3, want);
		assert_memory_equal(sb.buf, "pre", 3);
		free(want);
		strbuf_release(&sb);
		strbuf_release(&big);
	}
}

static void check_alert(const struct alert *a, const struct alert_event *h, size_t nh,
                        bool with_history)
{
	struct strbuf sb = STRBUF_INIT;
	char *want = dump(api_alert_json(a, with_history, h, nh));
	api_alert_write_head(&sb, a);
	if (with_history) {
		strbuf_addstr(&sb, ",\"history\":[");
		for (size_t i = 0; i < nh; i++) {
			if (i)
				strbuf_addch(&sb, ',');
			api_alert_event_write(&sb, &h[i]);
		}
		strbuf_addch(&sb, ']');
	}
	strbuf_addch(&sb, '}');
	assert_string_equal(sb.buf, want);
	free(want);
	strbuf_release(&sb);
}

static void test_alerts(void **state)
{
	struct alert a;
	struct alert_event h[3];
	(void)state;
	memset(&a, 0, sizeof(a));
	a.id = 42;
	a.state = ALERT_P2;
	a.occurred_at = a.opened_at = a.updated_at = TIME_NULL;
	a.next_escalation_at = a.acked_at = a.resolved_at = TIME_NULL;
	check_alert(&a, NULL, 0, false); /* every string NULL, labels absent */
	check_alert(&a, NULL, 0, true);
	a.rule = (char *)(uintptr_t) "failed";
	a.workflow = (char *)(uintptr_t) "lending";
	a.step = (char *)(uintptr_t) "bureau \"pull\"";
	a.instance_id = (char *)(uintptr_t) "i-1\n";
	a.user_id = (char *)(uintptr_t) "u\xc3\xa9";
	a.error = (char *)(uintptr_t) "E\t1";
	a.labels_json = (char *)(uintptr_t) "{\"channel\":\"web\",\"n\":3}";
	a.occurred_at = 1763000000000;
	a.opened_at = 1763000000500;
	a.updated_at = 1763000060000;
	a.next_escalation_at = 1900000000000;
	a.acked_by = (char *)(uintptr_t) "user:ann";
	a.acked_at = 1763000001001;
	a.resolved_at = 1763000002000;
	a.resolved_by = (char *)(uintptr_t) "resolver";
	a.incident_id = 7;
	a.reopen_of = 3;
	memset(h, 0, sizeof(h));
	h[0].at = 1763000000500;
	h[0].actor = (char *)(uintptr_t) "watcher";
	h[0].event = (char *)(uintptr_t) "opened";
	h[0].reason = (char *)(uintptr_t) "step failed: E1";
	h[0].from_state = -1;
	h[0].to_state = ALERT_INITIATED;
	h[1].at = TIME_NULL; /* actor and event NULL: "" */
	h[1].from_state = ALERT_P0;
	h[1].to_state = 9;
	h[2].at = 1763000002000;
	h[2].actor = (char *)(uintptr_t) "x";
	h[2].event = (char *)(uintptr_t) "resolved";
	h[2].from_state = ALERT_P2;
	h[2].to_state = ALERT_RESOLVED;
	for (int s = -2; s <= ALERT_STATE_COUNT + 1; s++) {
		a.state = (enum alert_state)s;
		check_alert(&a, h, 3, true);
		check_alert(&a, NULL, 0, false);
	}
	a.incident_id = 0;
	a.reopen_of = -1;
	a.id = 0;
	check_alert(&a, h, 1, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_alerts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
