/*
 * test_api_handlers.c - the store-backed API handlers through a real socket: a whole
 * stepwatch node (server_start: store, tasks, HTTP API) on 127.0.0.1:0 with SQLite and then
 * PostgreSQL as the store, fed by push ingest. Every response body is validated against
 * the OpenAPI document's schema for its operation and status, by a small JSON-schema
 * subset validator (type, properties, required, items, enum, nullable, $ref, allOf, oneOf,
 * additionalProperties) written here.
 */
#include "helpers.h"
#include "apitest.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/assets.h"
#include "cli/server.h"
#include "config/config.h"
#include <curl/curl.h>
#include <jansson.h>
#include <ctype.h>

#define teardown apitest_teardown

/* The validator itself must catch what it claims to. */
static void test_validator(void **state)
{
	json_t *schemas = json_object_get(json_object_get(apitest_doc(), "components"), "schemas");
	json_t *sch = json_object_get(schemas, "Error");
	struct strbuf why = STRBUF_INIT;
	json_t *good = json_loads("{\"error\":{\"code\":\"conflict\",\"message\":\"x\"}}", 0, NULL);
	json_t *bad1 = json_loads("{\"error\":{\"code\":\"nope\",\"message\":\"x\"}}", 0, NULL);
	json_t *bad2 = json_loads("{\"error\":{\"code\":\"conflict\"}}", 0, NULL);
	json_t *bad3 = json_loads("{\"error\":{\"code\":\"conflict\",\"message\":3}}", 0, NULL);
	json_t *ir = json_loads("{\"accepted\":1,\"new\":1,\"alerts_opened\":0,\"x\":1}", 0, NULL);
	(void)state;
	assert_int_equal(apitest_check(sch, good, "$", &why), 0);
	assert_int_equal(apitest_check(sch, bad1, "$", &why), -1);
	assert_int_equal(apitest_check(sch, bad2, "$", &why), -1);
	assert_int_equal(apitest_check(sch, bad3, "$", &why), -1);
	sch = json_object_get(schemas, "IngestResult");
	assert_int_equal(apitest_check(sch, ir, "$", &why), -1); /* additionalProperties false */
	assert_non_null(strstr(why.buf, "$.x: not allowed"));
	strbuf_release(&why);
	json_decref(good);
	json_decref(bad1);
	json_decref(bad2);
	json_decref(bad3);
	json_decref(ir);
}

#define CALL(m, pat, path, tok, body) apitest_call(f->port, m, pat, path, tok, body, &r)

/* ---- fixture --------------------------------------------------------------------------- */

static const char config_yaml[] =
    "workflows:\n  loan:\n    steps: [kyc, bureau_pull, underwriting]\n"
    "    segments: [channel]\n"
    "    defaults:\n      sla: { p2: 1h, p1: 2h, p0: 4h }\n"
    "      group_by: [error]\n"
    "  kyc_flow:\n    steps: [start, done]\n";

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

/* A JSON step record; t in minutes before now. */
static void rec(struct strbuf *sb, const char *wf, const char *iid, const char *uid,
                const char *step, const char *status, const char *error, int minutes_ago,
                const char *channel)
{
	char t[40];
	time_format_rfc3339(time_now_ms() - (int64_t)minutes_ago * 60000, t, sizeof(t));
	strbuf_addf(sb,
	            "%s{\"workflow\":\"%s\",\"instance_id\":\"%s\",\"user_id\":\"%s\","
	            "\"step\":\"%s\",\"status\":\"%s\",\"started_at\":\"%s\","
	            "\"updated_at\":\"%s\"",
	            sb->len > 1 ? "," : "", wf, iid, uid, step, status, t, t);
	if (error)
		strbuf_addf(sb, ",\"error\":\"%s\"", error);
	if (channel)
		strbuf_addf(sb, ",\"labels\":{\"channel\":\"%s\"}", channel);
	strbuf_addch(sb, '}');
}

static int64_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Push n failures (instances prefix0..prefixN-1); returns alerts opened. */
static int64_t push_failures(struct fx *f, const char *prefix, int n, const char *error)
{
	struct strbuf sb = STRBUF_INIT;
	struct apitest_res r;
	int64_t opened;
	strbuf_addch(&sb, '[');
	for (int i = 0; i < n; i++) {
		char iid[64], uid[64];
		snprintf(iid, sizeof(iid), "%s%d", prefix, i);
		snprintf(uid, sizeof(uid), "u-%s%d", prefix, i);
		rec(&sb, "loan", iid, uid, "kyc", "SUCCESS", NULL, 10, "web");
		rec(&sb, "loan", iid, uid, "bureau_pull", "FAILED", error, 5,
		    i % 2 ? "app" : "web");
	}
	strbuf_addch(&sb, ']');
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, sb.buf), 200);
	opened = jint(r.json, "alerts_opened");
	assert_int_equal(jint(r.json, "accepted"), 2 * n);
	apitest_res_release(&r);
	strbuf_release(&sb);
	return opened;
}

/* One kyc_flow "start" record of instance inst and user, failed ago_ms before now. */
static void kyc_start_record(char *body, size_t n, int inst, int user, const char *status,
                             int64_t ago_ms)
{
	char t[40];
	time_format_rfc3339(time_now_ms() - ago_ms, t, sizeof(t));
	snprintf(body, n,
	         "[{\"workflow\":\"kyc_flow\",\"instance_id\":%d,\"user_id\":%d,\"step\":\"start\","
	         "\"status\":\"%s\",\"error\":\"X\",\"started_at\":\"%s\",\"updated_at\":\"%s\"}]",
	         inst, user, status, t, t);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_ingest(void **state)
{
	FX();
	struct strbuf sb = STRBUF_INIT;
	char body[512], path[64];
	int64_t id;
	assert_int_equal(push_failures(f, "in", 3, "TIMEOUT"), 3);
	/* the same again: nothing new, nothing opened */
	strbuf_addch(&sb, '[');
	rec(&sb, "loan", "x1", "ux", "bureau_pull", "FAILED", "E", 5, NULL);
	strbuf_addch(&sb, ']');
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, sb.buf), 200);
	assert_int_equal(jint(r.json, "new"), 1);
	assert_int_equal(jint(r.json, "alerts_opened"), 1);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, sb.buf), 200);
	assert_int_equal(jint(r.json, "new"), 0);
	assert_int_equal(jint(r.json, "alerts_opened"), 0);
	apitest_res_release(&r);
	strbuf_release(&sb);

	/* one bad record among good ones: 422 naming it, and nothing stored */
	strbuf_init(&sb, 0);
	strbuf_addch(&sb, '[');
	rec(&sb, "loan", "bad0", "ub", "bureau_pull", "FAILED", "E", 5, NULL);
	rec(&sb, "loan", "bad1", "ub", "no_such_step", "FAILED", "E", 5, NULL);
	strbuf_addch(&sb, ']');
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, sb.buf), 422);
	assert_non_null(strstr(r.body.buf, "item 1: step"));
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/alerts", "/api/v1/alerts?instance_id=bad0", VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	apitest_res_release(&r);
	strbuf_release(&sb);
	/* unknown workflow, bad status, bad time */
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER,
	         "[{\"workflow\":\"nope\",\"instance_id\":1,\"user_id\":2,\"step\":\"kyc\","
	         "\"status\":\"FAILED\",\"started_at\":\"2026-01-01T00:00:00Z\","
	         "\"updated_at\":\"2026-01-01T00:00:00Z\"}]"),
	    422);
	assert_non_null(strstr(r.body.buf, "item 0: unknown workflow 'nope'"));
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER,
	         "[{\"workflow\":\"loan\",\"instance_id\":1,\"user_id\":2,\"step\":\"kyc\","
	         "\"status\":\"WEIRD\",\"started_at\":\"2026-01-01T00:00:00Z\","
	         "\"updated_at\":\"2026-01-01T00:00:00Z\"}]"),
	    422);
	assert_non_null(strstr(r.body.buf, "status"));
	apitest_res_release(&r);
	/* a null started_at is refused, as the watcher refuses such a row (test_tasks.c) */
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER,
	         "[{\"workflow\":\"loan\",\"instance_id\":1,\"user_id\":2,\"step\":\"kyc\","
	         "\"status\":\"FAILED\",\"started_at\":null,"
	         "\"updated_at\":\"2026-01-01T00:00:00Z\"}]"),
	    422);
	assert_non_null(strstr(r.body.buf, "item 0: field 'started_at' is required"));
	apitest_res_release(&r);
	/* integer ids become strings */
	kyc_start_record(body, sizeof(body), 77, 88, "failed", 60000);
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, body), 200);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/users/{user_id}", "/api/v1/users/88", VIEWER, NULL),
	                 200);
	assert_string_equal(
	    jstr(json_array_get(json_object_get(r.json, "alerts"), 0), "instance_id"), "77");
	id = jint(json_array_get(json_object_get(r.json, "alerts"), 0), "id");
	apitest_res_release(&r);
	/* its history names the pusher (the token's name), not the watcher */
	snprintf(path, sizeof(path), "/api/v1/alerts/%" PRId64, id);
	assert_int_equal(CALL("GET", "/api/v1/alerts/{id}", path, VIEWER, NULL), 200);
	assert_string_equal(jstr(json_array_get(json_object_get(r.json, "history"), 0), "actor"),
	                    "api:rob");
	apitest_res_release(&r);
	/* a failure older than abandon_after (7d by default) is history: stored, no alert */
	kyc_start_record(body, sizeof(body), 78, 89, "FAILED", 8 * 86400000LL);
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, body), 200);
	assert_int_equal(jint(r.json, "new"), 1);
	assert_int_equal(jint(r.json, "alerts_opened"), 0);
	apitest_res_release(&r);
	/* a failure 5 h old (past p0: 4h) opens at P0, each level passed its own history row
	 * by the pusher */
	kyc_start_record(body, sizeof(body), 79, 90, "FAILED", 5 * 3600000LL);
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, body), 200);
	assert_int_equal(jint(r.json, "alerts_opened"), 1);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/users/{user_id}", "/api/v1/users/90", VIEWER, NULL),
	                 200);
	id = jint(json_array_get(json_object_get(r.json, "alerts"), 0), "id");
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "/api/v1/alerts/%" PRId64, id);
	assert_int_equal(CALL("GET", "/api/v1/alerts/{id}", path, VIEWER, NULL), 200);
	assert_string_equal(jstr(r.json, "state"), "ESCALATION_P0");
	{
		json_t *h = json_object_get(r.json, "history");
		assert_int_equal(json_array_size(h), 4);
		for (size_t k = 1; k < 4; k++) {
			assert_string_equal(jstr(json_array_get(h, k), "event"), "escalated");
			assert_string_equal(jstr(json_array_get(h, k), "actor"), "api:rob");
		}
		assert_string_equal(jstr(json_array_get(h, 3), "to"), "ESCALATION_P0");
	}
	apitest_res_release(&r);
	/* viewer may not push */
	assert_int_equal(CALL("POST", "/api/v1/step-records", "/api/v1/step-records", VIEWER, "[]"),
	                 403);
	apitest_res_release(&r);
}

static void test_list_filters_and_pages(void **state)
{
	FX();
	char path[512];
	int64_t seen[64];
	size_t nseen = 0;
	char *cursor = NULL;
	assert_int_equal(push_failures(f, "p", 12, "TIMEOUT"), 12);
	/* walk pages of 5, inserting new failures between pages: no duplicate, no skip */
	for (int page = 0; page < 10; page++) {
		json_t *items, *it;
		size_t i;
		snprintf(path, sizeof(path), "/api/v1/alerts?limit=5%s%s", cursor ? "&cursor=" : "",
		         cursor ? cursor : "");
		free(cursor);
		cursor = NULL;
		assert_int_equal(CALL("GET", "/api/v1/alerts", path, VIEWER, NULL), 200);
		items = json_object_get(r.json, "items");
		json_array_foreach(items, i, it)
		{
			for (size_t k = 0; k < nseen; k++)
				assert_true(seen[k] != jint(it, "id"));
			if (nseen)
				assert_true(jint(it, "id") < seen[nseen - 1]);
			seen[nseen++] = jint(it, "id");
		}
		if (json_is_string(json_object_get(r.json, "next_cursor")))
			cursor = xstrdup(jstr(r.json, "next_cursor"));
		apitest_res_release(&r);
		if (page == 0) {
			char pre[16];
			snprintf(pre, sizeof(pre), "q%d", page);
			push_failures(f, pre, 2, "TIMEOUT");
		}
		if (!cursor)
			break;
	}
	assert_int_equal(nseen, 12); /* the 2 inserted meanwhile are newer than page 1 */
	assert_int_equal(seen[nseen - 1], 1);
	/* exactly a full last page: next_cursor null */
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?limit=14", VIEWER, NULL),
	                 200);
	assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
	apitest_res_release(&r);
	/* filters */
	assert_int_equal(CALL("GET", "/api/v1/alerts",
	                      "/api/v1/alerts?workflow=loan&step=bureau_pull&rule=failed&state="
	                      "initiated&open=true&instance_id=p3&user_id=u-p3",
	                      VIEWER, NULL),
	                 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	{
		json_t *a = json_array_get(json_object_get(r.json, "items"), 0);
		assert_string_equal(jstr(a, "state"), "INITIATED");
		assert_string_equal(jstr(json_object_get(a, "labels"), "channel"), "app");
		assert_true(json_is_null(json_object_get(a, "acked_by")));
		snprintf(path, sizeof(path), "/api/v1/alerts?incident=%" PRId64 "&limit=1000",
		         jint(a, "incident_id"));
	}
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", path, VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 14);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?level=P1", VIEWER, NULL),
	                 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	apitest_res_release(&r);
	/* hostile values are just values */
	assert_int_equal(CALL("GET", "/api/v1/alerts",
	                      "/api/v1/alerts?workflow=x'%3B%20DROP%20TABLE%20alerts%3B--&step=%25"
	                      "&user_id=%5C&instance_id=%22)%20OR%201%3D1",
	                      VIEWER, NULL),
	                 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?limit=1", VIEWER, NULL),
	                 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	apitest_res_release(&r);
	/* bad values */
	assert_int_equal(
	    CALL("GET", "/api/v1/alerts", "/api/v1/alerts?state=OPENISH", VIEWER, NULL), 400);
	assert_non_null(strstr(r.body.buf, "OPENISH"));
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?level=P9", VIEWER, NULL),
	                 400);
	assert_non_null(strstr(r.body.buf, "P9"));
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?limit=0", VIEWER, NULL),
	                 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?limit=1001", VIEWER, NULL),
	                 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?cursor=zz%21", VIEWER, NULL),
	                 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts", NULL, NULL), 401);
	apitest_res_release(&r);
	free(cursor);
}

static void test_ack_resolve(void **state)
{
	FX();
	json_t *h;
	assert_int_equal(push_failures(f, "a", 2, "TIMEOUT"), 2);
	assert_int_equal(CALL("GET", "/api/v1/alerts/{id}", "/api/v1/alerts/999999", VIEWER, NULL),
	                 404);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/1/ack", RESPONDER,
	                      "{\"by\":\"someone else\",\"note\":\"looking\"}"),
	                 200);
	assert_string_equal(jstr(r.json, "acked_by"), "rob");
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/1/ack", RESPONDER, "{}"), 409);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("POST", "/api/v1/alerts/{id}/resolve", "/api/v1/alerts/1/resolve", VIEWER, "{}"),
	    403);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/alerts/{id}/resolve", "/api/v1/alerts/1/resolve",
	                      RESPONDER, "{\"note\":\"fixed by hand\"}"),
	                 200);
	assert_string_equal(jstr(r.json, "state"), "RESOLVED");
	assert_string_equal(jstr(r.json, "resolved_by"), "user:rob");
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/alerts/{id}/resolve", "/api/v1/alerts/1/resolve",
	                      RESPONDER, "{}"),
	                 409);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/1/ack", RESPONDER, "{}"), 409);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/424242/ack", RESPONDER, "{}"),
	    404);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/1/ack", RESPONDER,
	                      "{\"bye\":1}"),
	                 422);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts/{id}", "/api/v1/alerts/1", VIEWER, NULL), 200);
	h = json_object_get(r.json, "history");
	assert_int_equal(json_array_size(h), 3); /* opened, acked, resolved: no second resolve */
	assert_string_equal(jstr(json_array_get(h, 0), "event"), "opened");
	assert_true(json_is_null(json_object_get(json_array_get(h, 0), "from")));
	assert_string_equal(jstr(json_array_get(h, 0), "to"), "INITIATED");
	assert_string_equal(jstr(json_array_get(h, 1), "event"), "acked");
	assert_string_equal(jstr(json_array_get(h, 1), "actor"), "rob");
	assert_string_equal(jstr(json_array_get(h, 1), "reason"), "looking");
	assert_string_equal(jstr(json_array_get(h, 2), "event"), "resolved");
	assert_string_equal(jstr(json_array_get(h, 2), "from"), "INITIATED");
	assert_string_equal(jstr(json_array_get(h, 2), "to"), "RESOLVED");
	assert_string_equal(jstr(json_array_get(h, 2), "reason"), "fixed by hand");
	apitest_res_release(&r);
}

static void test_incidents(void **state)
{
	FX();
	char path[128];
	int64_t id;
	assert_int_equal(push_failures(f, "i", 4, "PARTNER_DOWN"), 4);
	assert_int_equal(CALL("GET", "/api/v1/incidents",
	                      "/api/v1/incidents?open=true&workflow=loan", VIEWER, NULL),
	                 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	id = jint(json_array_get(json_object_get(r.json, "items"), 0), "id");
	assert_int_equal(jint(json_array_get(json_object_get(r.json, "items"), 0), "open_alerts"),
	                 4);
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "/api/v1/incidents/%" PRId64, id);
	assert_int_equal(CALL("GET", "/api/v1/incidents/{id}", path, VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "alert_ids")), 4);
	assert_int_equal(jint(r.json, "affected_users"), 4);
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "/api/v1/incidents/%" PRId64 "/ack", id);
	assert_int_equal(CALL("POST", "/api/v1/incidents/{id}/ack", path, RESPONDER, "{}"), 200);
	assert_string_equal(jstr(r.json, "acked_by"), "rob");
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/incidents/{id}/ack", path, RESPONDER, "{}"), 409);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/alerts", "/api/v1/alerts?open=true", VIEWER, NULL),
	                 200);
	{
		json_t *it;
		size_t i;
		json_array_foreach(json_object_get(r.json, "items"), i, it)
		    assert_string_equal(jstr(it, "acked_by"), "rob");
	}
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "/api/v1/incidents/%" PRId64 "/resolve", id);
	assert_int_equal(CALL("POST", "/api/v1/incidents/{id}/resolve", path, VIEWER, "{}"), 403);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/incidents/{id}/resolve", path, RESPONDER,
	                      "{\"note\":\"partner back\"}"),
	                 200);
	assert_string_equal(jstr(r.json, "state"), "RESOLVED");
	assert_int_equal(jint(r.json, "open_alerts"), 0);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/incidents/{id}/resolve", path, RESPONDER, "{}"),
	                 409);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/alerts", "/api/v1/alerts?state=RESOLVED", VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 4);
	assert_string_equal(
	    jstr(json_array_get(json_object_get(r.json, "items"), 0), "resolved_by"), "incident");
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/incidents/{id}", "/api/v1/incidents/777", VIEWER, NULL), 404);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/incidents/{id}/ack", "/api/v1/incidents/777/ack",
	                      RESPONDER, "{}"),
	                 404);
	apitest_res_release(&r);
}

static void test_silences(void **state)
{
	FX();
	char body[512], t1[40], t2[40], path[64];
	int64_t now = time_now_ms(), id;
	time_format_rfc3339(now + 3600000, t1, sizeof(t1));
	time_format_rfc3339(now + 7200000, t2, sizeof(t2));
	snprintf(body, sizeof(body),
	         "{\"workflow\":\"loan\",\"error\":\"TIMEOUT\",\"ends_at\":\"%s\","
	         "\"pause_escalation\":true,\"comment\":\"bureau maintenance\"}",
	         t1);
	assert_int_equal(CALL("POST", "/api/v1/silences", "/api/v1/silences", RESPONDER, body),
	                 403);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/silences", "/api/v1/silences", ADMIN, body), 201);
	assert_string_equal(jstr(r.json, "created_by"), "alice");
	assert_true(json_is_null(json_object_get(r.json, "step")));
	assert_true(json_is_true(json_object_get(r.json, "pause_escalation")));
	id = jint(r.json, "id");
	apitest_res_release(&r);
	/* one in the future */
	snprintf(body, sizeof(body), "{\"step\":\"kyc\",\"starts_at\":\"%s\",\"ends_at\":\"%s\"}",
	         t1, t2);
	assert_int_equal(CALL("POST", "/api/v1/silences", "/api/v1/silences", ADMIN, body), 201);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/silences", "/api/v1/silences?active=true", VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
	assert_int_equal(jint(json_array_get(json_object_get(r.json, "items"), 0), "id"), id);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/silences", "/api/v1/silences", VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
	apitest_res_release(&r);
	/* bad ones */
	snprintf(body, sizeof(body), "{\"ends_at\":\"%s\"}", t1);
	assert_int_equal(CALL("POST", "/api/v1/silences", "/api/v1/silences", ADMIN, body), 422);
	apitest_res_release(&r);
	snprintf(body, sizeof(body),
	         "{\"workflow\":\"loan\",\"starts_at\":\"%s\",\"ends_at\":\"%s\"}", t2, t1);
	assert_int_equal(CALL("POST", "/api/v1/silences", "/api/v1/silences", ADMIN, body), 422);
	apitest_res_release(&r);
	/* expire */
	snprintf(path, sizeof(path), "/api/v1/silences/%" PRId64, id);
	assert_int_equal(CALL("DELETE", "/api/v1/silences/{id}", path, RESPONDER, NULL), 403);
	apitest_res_release(&r);
	assert_int_equal(CALL("DELETE", "/api/v1/silences/{id}", path, ADMIN, NULL), 200);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/silences", "/api/v1/silences?active=true", VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("DELETE", "/api/v1/silences/{id}", "/api/v1/silences/5555", ADMIN, NULL), 404);
	apitest_res_release(&r);
}

static void test_instance_and_user(void **state)
{
	FX();
	struct strbuf sb = STRBUF_INIT;
	json_t *steps;
	strbuf_addch(&sb, '[');
	rec(&sb, "loan", "A/7", "user 1", "kyc", "SUCCESS", NULL, 20, "web");
	rec(&sb, "loan", "A/7", "user 1", "bureau_pull", "FAILED", "TIMEOUT", 10, "web");
	rec(&sb, "kyc_flow", "K1", "user 1", "start", "IN_PROGRESS", NULL, 5, NULL);
	strbuf_addch(&sb, ']');
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, sb.buf), 200);
	apitest_res_release(&r);
	strbuf_release(&sb);
	assert_int_equal(CALL("GET", "/api/v1/instances/{workflow}/{instance_id}",
	                      "/api/v1/instances/loan/A%2F7", VIEWER, NULL),
	                 200);
	assert_string_equal(jstr(r.json, "user_id"), "user 1");
	steps = json_object_get(r.json, "steps");
	assert_int_equal(json_array_size(steps), 2);
	assert_string_equal(jstr(json_array_get(steps, 0), "step"), "kyc");
	assert_string_equal(jstr(json_array_get(steps, 1), "status"), "FAILED");
	assert_int_equal(json_array_size(json_object_get(r.json, "alerts")), 1);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/instances/{workflow}/{instance_id}",
	                      "/api/v1/instances/loan/nope", VIEWER, NULL),
	                 404);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/users/{user_id}", "/api/v1/users/user%201", VIEWER, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "instances")), 2);
	assert_int_equal(json_array_size(json_object_get(r.json, "alerts")), 1);
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/users/{user_id}", "/api/v1/users/ghost", VIEWER, NULL), 404);
	apitest_res_release(&r);
}

/* The health routes answer what the OpenAPI document says (they need no token; the detail
 * of /readyz needs one). */
static void test_health(void **state)
{
	FX();
	assert_int_equal(CALL("GET", "/healthz", "/healthz", NULL, NULL), 200);
	assert_string_equal(jstr(r.json, "status"), "ok");
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/readyz", "/readyz", NULL, NULL), 200);
	assert_string_equal(jstr(r.json, "status"), "ok");
	assert_int_equal(json_object_size(r.json), 1);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/readyz", "/readyz", VIEWER, NULL), 200);
	assert_string_equal(jstr(r.json, "status"), "ok");
	assert_true(json_is_true(json_object_get(json_object_get(r.json, "store"), "ok")));
	apitest_res_release(&r);
}

#define TESTS(setup)                                                                       \
	cmocka_unit_test_setup_teardown(test_health, setup, teardown),                     \
	    cmocka_unit_test_setup_teardown(test_ingest, setup, teardown),                 \
	    cmocka_unit_test_setup_teardown(test_list_filters_and_pages, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_ack_resolve, setup, teardown),            \
	    cmocka_unit_test_setup_teardown(test_incidents, setup, teardown),              \
	    cmocka_unit_test_setup_teardown(test_silences, setup, teardown),               \
	    cmocka_unit_test_setup_teardown(test_instance_and_user, setup, teardown)

int main(void)
{
	const struct CMUnitTest base[] = {cmocka_unit_test(test_validator)};
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed;
	curl_global_init(CURL_GLOBAL_ALL);
	failed = cmocka_run_group_tests_name("openapi validator", base, NULL, NULL);
	failed += cmocka_run_group_tests_name("api/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("api/postgres", pg_tests, NULL, NULL);
	curl_global_cleanup();
	apitest_doc_free();
	return failed ? 1 : 0;
}
