/*
 * test_core.c - durations, timestamps, the alert state machine and escalation math, logfmt.
 */
#include "helpers.h"
#include "core/duration.h"
#include "core/alert.h"
#include "util/timeutil.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "core/grouping.h"

static void test_duration_parse_ok(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
	    {"500ms", 500},
	    {"30s", 30000},
	    {"15m", 900000},
	    {"4h", 14400000},
	    {"7d", 604800000},
	    {"1w", 604800000},
	    {"1h30m", 5400000},
	    {"1d2h3m4s5ms", 93784005},
	    {"0s", 0},
	    {"2w1d", 1296000000},
	    {"5200w", 5200LL * 7 * 86400000},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int64_t ms = -1;
		assert_int_equal(duration_parse(ok[i].s, &ms, NULL, 0), 0);
		assert_int_equal(ms, ok[i].ms);
	}
}

static void test_duration_parse_bad(void **state)
{
	static const struct {
		const char *s;
		const char *why;
	} bad[] = {
	    {"", "empty duration"},
	    {"5x", "unknown unit 'x'"},
	    {"-1s", "expected a number"},
	    {"10", "missing unit"},
	    {"1m1h", "largest to smallest"},
	    {"1s1s", "largest to smallest"},
	    {"s", "expected a number"},
	    {"99999999999999999999s", "too large"},
	    {"106751991167d", "too large"},
	    {"5200w1ms", "at most 5200w"},
	    {"1.5h", "fractions are not allowed"},
	    {"1h ", "expected a number"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t ms = 42;
		char why[128] = "";
		assert_int_equal(duration_parse(bad[i].s, &ms, why, sizeof(why)), -1);
		if (!strstr(why, bad[i].why))
			fail_msg("'%s': got '%s', want '%s'", bad[i].s, why, bad[i].why);
		assert_int_equal(ms, 42);
	}
}

static void test_duration_format(void **state)
{
	char buf[32];
	(void)state;
	assert_string_equal(duration_format(5400000, buf, sizeof(buf)), "1h30m");
	assert_string_equal(duration_format(0, buf, sizeof(buf)), "0s");
	assert_string_equal(duration_format(1500, buf, sizeof(buf)), "1s500ms");
	assert_string_equal(duration_format(691200000, buf, sizeof(buf)), "1w1d");
}

static void test_time_roundtrip(void **state)
{
	char buf[64];
	int64_t ms;
	(void)state;
	assert_string_equal(time_format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	assert_string_equal(time_format_rfc3339(1763719025123, buf, sizeof(buf)),
	                    "2025-11-21T09:57:05.123Z");
	assert_int_equal(time_parse("2025-11-21T09:57:05.123Z", &ms), 0);
	assert_int_equal(ms, 1763719025123);
	assert_int_equal(time_parse("2025-11-21 09:57:05.123+00", &ms), 0);
	assert_int_equal(ms, 1763719025123);
	assert_int_equal(time_parse("2025-11-21 11:57:05.123+02:00", &ms), 0);
	assert_int_equal(ms, 1763719025123);
	assert_int_equal(time_parse("2025-11-21T04:27:05.123456-0530", &ms), 0);
	assert_int_equal(ms, 1763719025123);
	assert_int_equal(time_parse("2025-11-21 09:57:05", &ms), 0);
	assert_int_equal(ms, 1763719025000);
	assert_int_equal(time_parse("1763719025", &ms), 0);
	assert_int_equal(ms, 1763719025000);
	assert_int_equal(time_parse("1763719025.5", &ms), 0);
	assert_int_equal(ms, 1763719025500);
	assert_int_equal(time_parse("2025-11-21", &ms), 0);
	assert_int_equal(ms, 1763683200000);
	assert_int_equal(time_parse("2028-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(time_parse("1960-01-01T00:00:00Z", &ms), 0);
	assert_string_equal(time_format_rfc3339(ms, buf, sizeof(buf)), "1960-01-01T00:00:00Z");
}

static void test_time_parse_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "2025-13-01",
	    "2025-11-21T25:00:00",
	    "2025-11-21T09:57:05Zjunk",
	    "2025-11-21T",
	    "12e4",
	    "2025-11-21T09:57:05+99:00",
	    "1.2.3",
	    "--1",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t ms = 7;
		if (time_parse(bad[i], &ms) == 0)
			fail_msg("'%s' parsed", bad[i]);
	}
}

static void test_time_style(void **state)
{
	struct time_style st;
	char buf[64];
	(void)state;
	assert_int_equal(time_style_of("2026-01-02T03:04:05.678Z", &st), 0);
	assert_string_equal(time_format_style(1767323045678, &st, buf, sizeof(buf)),
	                    "2026-01-02T03:04:05.678Z");
	assert_int_equal(time_style_of("2026-01-02 03:04:05", &st), 0);
	assert_string_equal(time_format_style(1767323045678, &st, buf, sizeof(buf)),
	                    "2026-01-02 03:04:05");
	assert_int_equal(time_style_of("1767323045", &st), 0);
	assert_string_equal(time_format_style(1767323045678, &st, buf, sizeof(buf)), "1767323045");
	assert_int_equal(time_style_of("2026-01-02 03:04:05.1+00:00", &st), 0);
	assert_string_equal(time_format_style(1767323045678, &st, buf, sizeof(buf)),
	                    "2026-01-02 03:04:05.6+00:00");
}

static void test_alert_names(void **state)
{
	(void)state;
	for (int s = 0; s < ALERT_STATE_COUNT; s++)
		assert_int_equal(alert_state_parse(alert_state_name((enum alert_state)s)), s);
	assert_string_equal(alert_state_name(ALERT_P2), "ESCALATION_P2");
	assert_int_equal(alert_state_parse("escalation_p0"), ALERT_P0);
	assert_int_equal(alert_state_parse("P0"), -1);
	assert_string_equal(alert_level_name(ALERT_P1), "P1");
	assert_null(alert_level_name(ALERT_RESOLVED));
}

static void test_alert_escalation(void **state)
{
	const struct alert_sla sla = {15 * 60000, 60 * 60000, 4 * 3600000};
	enum alert_state steps[3];
	const int64_t t0 = 1000000;
	(void)state;
	/* nothing due before p2 */
	assert_int_equal(
	    alert_escalations_due(ALERT_INITIATED, t0, &sla, t0 + 15 * 60000 - 1, steps), 0);
	/* exactly at p2 */
	assert_int_equal(alert_escalations_due(ALERT_INITIATED, t0, &sla, t0 + 15 * 60000, steps),
	                 1);
	assert_int_equal(steps[0], ALERT_P2);
	/* late detection past p0: three steps, in order */
	assert_int_equal(alert_escalations_due(ALERT_INITIATED, t0, &sla, t0 + 5 * 3600000, steps),
	                 3);
	assert_int_equal(steps[0], ALERT_P2);
	assert_int_equal(steps[1], ALERT_P1);
	assert_int_equal(steps[2], ALERT_P0);
	/* from P2, past p0 */
	assert_int_equal(alert_escalations_due(ALERT_P2, t0, &sla, t0 + 5 * 3600000, steps), 2);
	assert_int_equal(steps[0], ALERT_P1);
	/* P0 and closed states never escalate */
	assert_int_equal(alert_escalations_due(ALERT_P0, t0, &sla, INT64_MAX / 2, steps), 0);
	assert_int_equal(alert_escalations_due(ALERT_RESOLVED, t0, &sla, INT64_MAX / 2, steps), 0);
	assert_int_equal(alert_escalations_due(ALERT_ABANDONED, t0, &sla, INT64_MAX / 2, steps), 0);
	/* next escalation times */
	assert_int_equal(alert_next_escalation_at(ALERT_INITIATED, t0, &sla), t0 + 15 * 60000);
	assert_int_equal(alert_next_escalation_at(ALERT_P2, t0, &sla), t0 + 3600000);
	assert_int_equal(alert_next_escalation_at(ALERT_P1, t0, &sla), t0 + 4 * 3600000);
	assert_true(alert_next_escalation_at(ALERT_P0, t0, &sla) == TIME_NULL);
}

static void test_alert_disabled_levels(void **state)
{
	const struct alert_sla sla = {0, 60000, 0};
	enum alert_state steps[3];
	(void)state;
	assert_int_equal(alert_next_escalation_at(ALERT_INITIATED, 0, &sla), 60000);
	assert_true(alert_next_escalation_at(ALERT_P1, 0, &sla) == TIME_NULL);
	assert_int_equal(alert_escalations_due(ALERT_INITIATED, 0, &sla, 60000, steps), 2);
	assert_int_equal(steps[1], ALERT_P1);
}

static void test_alert_transitions(void **state)
{
	(void)state;
	for (int f = 0; f < ALERT_STATE_COUNT; f++)
		for (int t = 0; t < ALERT_STATE_COUNT; t++) {
			bool want = f <= ALERT_P0 && (t == ALERT_RESOLVED || t == ALERT_ABANDONED ||
			                              (t > f && t <= ALERT_P0));
			assert_int_equal(
			    alert_transition_allowed((enum alert_state)f, (enum alert_state)t),
			    want);
		}
}

static size_t fmt(char *buf, size_t n, const char *msg, const char *kv, ...)
{
	va_list ap;
	size_t len;
	va_start(ap, kv);
	len = log_format(buf, n, 0, LOG_INFO, msg, kv, ap);
	va_end(ap);
	return len;
}

static void test_logfmt(void **state)
{
	char buf[256];
	(void)state;
	fmt(buf, sizeof(buf), "alert opened", "workflow=%s id=%" PRId64 " ratio=%g", "loan app",
	    (int64_t)42, 0.5);
	assert_string_equal(buf, "ts=1970-01-01T00:00:00Z level=info msg=\"alert opened\" "
	                         "workflow=\"loan app\" id=42 ratio=0.5\n");
	fmt(buf, sizeof(buf), "x", "err=%s n=%zu", "say \"hi\"\n", (size_t)3);
	assert_string_equal(
	    buf, "ts=1970-01-01T00:00:00Z level=info msg=x err=\"say \\\"hi\\\"\\n\" n=3\n");
	/* truncation never overflows */
	assert_true(fmt(buf, 16, "a long message here", "k=%s", "v") > 16);
	assert_int_equal(strlen(buf), 15);
}

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	assert_int_equal(sb.len, strlen(sb.buf));
	strbuf_reset(&sb);
	strbuf_add_json_str(&sb, "a\"b\\c\n\x01");
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\u0001\"");
	strbuf_release(&sb);
	assert_int_equal(sb.len, 0);
}

static const char *lookup_partner(void *ctx, const char *name)
{
	(void)ctx;
	return !strcmp(name, "partner") ? "acme \"x\"" : NULL;
}

static void test_grouping(void **state)
{
	struct strbuf key = STRBUF_INIT, labels = STRBUF_INIT;
	const char *const by[] = {"error", "partner", "channel"};
	(void)state;
	grouping_key("loan", "bureau_pull", "failed", by, 3, "BUREAU_TIMEOUT", lookup_partner, NULL,
	             &key, &labels);
	assert_string_equal(
	    key.buf,
	    "loan/bureau_pull/failed{error=\"BUREAU_TIMEOUT\",partner=\"acme \\\"x\\\"\"}");
	assert_string_equal(labels.buf,
	                    "{\"error\":\"BUREAU_TIMEOUT\",\"partner\":\"acme \\\"x\\\"\"}");
	/* no error (a stuck alert) and no lookup: empty labels */
	grouping_key("loan", "kyc", "stuck", by, 1, NULL, NULL, NULL, &key, &labels);
	assert_string_equal(key.buf, "loan/kyc/stuck{}");
	assert_string_equal(labels.buf, "{}");
	/* an empty error groups with an absent one */
	grouping_key("loan", "kyc", "stuck", by, 1, "", NULL, NULL, &key, NULL);
	assert_string_equal(key.buf, "loan/kyc/stuck{}");
	strbuf_release(&key);
	strbuf_release(&labels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_parse_ok),
	    cmocka_unit_test(test_duration_parse_bad),
	    cmocka_unit_test(test_duration_format),
	    cmocka_unit_test(test_time_roundtrip),
	    cmocka_unit_test(test_time_parse_bad),
	    cmocka_unit_test(test_time_style),
	    cmocka_unit_test(test_alert_names),
	    cmocka_unit_test(test_alert_escalation),
	    cmocka_unit_test(test_alert_disabled_levels),
	    cmocka_unit_test(test_alert_transitions),
	    cmocka_unit_test(test_logfmt),
	    cmocka_unit_test(test_strbuf),
	    cmocka_unit_test(test_grouping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
