/*
 * test_api_notify.c - GET /api/v1/notifications through a real socket on a whole node
 * (SQLite, then PostgreSQL store), every answer validated against the OpenAPI document:
 * the outbox's rows newest first, the filters (receiver, status, incident), pages, roles,
 * and bad values.
 */
#include "helpers.h"
#include "apitest.h"
#include "util/timeutil.h"
#include "store/store_alerts.h"
#include "store/store_notify.h"
#include <curl/curl.h>
#include <jansson.h>

#define teardown apitest_teardown

/* No receivers: the rows stay as the test writes them (no lane sends them). */
static const char config_yaml[] = "workflows:\n  loan:\n    steps: [kyc, bureau_pull]\n";

static int setup_sqlite(void **state)
{
	return apitest_setup_sqlite(state, config_yaml);
}

static int setup_pg(void **state)
{
	return apitest_setup_pg(state, config_yaml);
}

#define FX()                   \
	struct fx *f = *state; \
	struct apitest_res r;  \
	if (!f)                \
	skip()

#define CALL(path, tok) apitest_call(f->port, "GET", "/api/v1/notifications", path, tok, NULL, &r)

static int64_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static size_t items(const struct apitest_res *res)
{
	return json_array_size(json_object_get(res->json, "items"));
}

static void test_notifications(void **state)
{
	FX();
	struct sw_err e = {""};
	struct store *st;
	struct alert_new a = {.rule = "failed",
	                      .workflow = "loan",
	                      .step = "kyc",
	                      .instance_id = "i1",
	                      .user_id = "u1",
	                      .error = "DOWN",
	                      .group_key = "k",
	                      .occurred_at = 1000,
	                      .next_escalation_at = TIME_NULL};
	struct alert_opened o;
	struct outbox_row row;
	int64_t now = time_now_ms();
	bool got;
	char path[128];
	const json_t *x;

	if (store_open(f->store_url, &st, &e) < 0)
		fail_msg("store: %s", e.msg);
	if (store_alerts_open(st, now, &a, 1, &o, &e) < 0)
		fail_msg("open: %s", e.msg);
	{
		char k1[64], k2[64], k3[64];
		struct outbox_new ob[3] = {{k1, "support", o.incident_id, "opened",
		                            "{\"summary\":\"1 user\",\"level\":"
		                            "\"ESCALATION_P2\"}",
		                            now},
		                           {k2, "tech", o.incident_id, "escalated", "{}", now},
		                           {k3, "support", o.incident_id, "escalated", "{}", now}};
		snprintf(k1, sizeof(k1), "sw-%" PRId64 "-1-support", o.incident_id);
		snprintf(k2, sizeof(k2), "sw-%" PRId64 "-2-tech", o.incident_id);
		snprintf(k3, sizeof(k3), "sw-%" PRId64 "-2-support", o.incident_id);
		if (store_outbox_add(st, now, ob, 3, NULL, &e) < 0)
			fail_msg("outbox: %s", e.msg);
	}
	/* the first one answered 503 (retry in a while); the next one was sent (recorded
	   directly: a claim would wait for the first, the incident's messages go in order) */
	if (store_outbox_claim(st, "support", now, 15000, &row, &got, &e) < 0 || !got)
		fail_msg("claim: %s", e.msg);
	if (store_outbox_done(st, row.id, now + 1, OUTBOX_RETRY, now + 60000, 503, "HTTP 503: busy",
	                      NULL, &e) < 0)
		fail_msg("done: %s", e.msg);
	outbox_row_release(&row);
	{
		struct outbox_filter fl = {.receiver = "support", .status = "pending", .limit = 1};
		struct outbox_row *v = NULL;
		size_t nv = 0;
		if (store_outbox_list(st, &fl, &v, &nv, &e) < 0 || nv != 1)
			fail_msg("list: %s", e.msg);
		if (store_outbox_done(st, v[0].id, now + 3, OUTBOX_SENT, v[0].next_attempt_at, 200,
		                      NULL, "sent", &e) < 0)
			fail_msg("done: %s", e.msg);
		outbox_rows_free(v, nv);
	}
	store_close(st);

	assert_int_equal(CALL("/api/v1/notifications", VIEWER), 200);
	assert_int_equal(items(&r), 3);
	assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
	x = json_array_get(json_object_get(r.json, "items"), 2); /* the oldest last */
	assert_string_equal(jstr(x, "receiver"), "support");
	assert_string_equal(jstr(x, "event"), "opened");
	assert_string_equal(jstr(x, "status"), "pending");
	assert_string_equal(jstr(x, "summary"), "1 user");
	assert_string_equal(jstr(x, "level"), "ESCALATION_P2");
	assert_int_equal(jint(x, "attempts"), 1);
	assert_int_equal(jint(x, "last_status"), 503);
	assert_string_equal(jstr(x, "last_error"), "HTTP 503: busy");
	assert_non_null(jstr(x, "next_attempt_at"));
	assert_true(json_is_null(json_object_get(x, "delivered_at")));
	assert_non_null(strstr(jstr(x, "idempotency_key"), "-1-support"));
	x = json_array_get(json_object_get(r.json, "items"), 0);
	assert_string_equal(jstr(x, "status"), "sent");
	assert_int_equal(jint(x, "attempts"), 0); /* recorded without a claim, above */
	assert_true(json_is_null(json_object_get(x, "next_attempt_at")));
	assert_non_null(jstr(x, "delivered_at"));
	assert_true(json_is_null(json_object_get(x, "summary")));
	apitest_res_release(&r);

	/* filters */
	assert_int_equal(CALL("/api/v1/notifications?receiver=support", VIEWER), 200);
	assert_int_equal(items(&r), 2);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications?status=pending&receiver=support", VIEWER),
	                 200);
	assert_int_equal(items(&r), 1);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications?status=failed", VIEWER), 200);
	assert_int_equal(items(&r), 0);
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "/api/v1/notifications?incident=%" PRId64, o.incident_id);
	assert_int_equal(CALL(path, VIEWER), 200);
	assert_int_equal(items(&r), 3);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications?incident=999999", VIEWER), 200);
	assert_int_equal(items(&r), 0);
	apitest_res_release(&r);
	/* pages */
	assert_int_equal(CALL("/api/v1/notifications?limit=2", VIEWER), 200);
	assert_int_equal(items(&r), 2);
	assert_non_null(jstr(r.json, "next_cursor"));
	snprintf(path, sizeof(path), "/api/v1/notifications?limit=2&cursor=%s",
	         jstr(r.json, "next_cursor"));
	apitest_res_release(&r);
	assert_int_equal(CALL(path, VIEWER), 200);
	assert_int_equal(items(&r), 1);
	assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
	apitest_res_release(&r);
	/* bad values, roles */
	assert_int_equal(CALL("/api/v1/notifications?status=lost", VIEWER), 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications?incident=x", VIEWER), 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications?limit=0", VIEWER), 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications?bogus=1", VIEWER), 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("/api/v1/notifications", NULL), 401);
	apitest_res_release(&r);
}

#define TESTS(setup) cmocka_unit_test_setup_teardown(test_notifications, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed;
	curl_global_init(CURL_GLOBAL_ALL);
	failed = cmocka_run_group_tests_name("api_notify/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("api_notify/postgres", pg_tests, NULL, NULL);
	curl_global_cleanup();
	apitest_doc_free();
	return failed ? 1 : 0;
}
