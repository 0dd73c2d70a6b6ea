/*
 * test_api_stats.c - GET /api/v1/stats/{funnel,tat,segments,alerts} and GET /api/v1/oncall
 * through a real socket: a whole stepwatch node (server_start) on 127.0.0.1:0 with SQLite
 * and then PostgreSQL as the store, fed by push ingest (POST /api/v1/step-records). Every
 * response body is validated against the OpenAPI document's schema for its operation and
 * status, by the same JSON-schema subset validator as test_api_handlers.c.
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
#include <math.h>

#define teardown apitest_teardown

#define CALL(m, pat, path, tok, body) apitest_call(f->port, m, pat, path, tok, body, &r)

/* ---- fixture --------------------------------------------------------------------------- */

static const char config_yaml[] =
    "workflows:\n  loan:\n    steps: [kyc, bureau_pull, underwriting]\n"
    "    segments: [channel, partner]\n"
    "    tat_sla: 2d\n"
    "    defaults:\n      sla: { p2: 1h, p1: 2h, p0: 4h }\n"
    "      stuck_after: 30m\n"
    "      group_by: [error]\n"
    "    step_overrides:\n      kyc:\n        sla: { p2: 5m, p1: 2h, p0: 4h }\n"
    "  kyc_flow:\n    steps: [start, done]\n"
    "levels:\n  P2: { notify: [support] }\n  P1: { notify: [tech, support] }\n"
    "  P0: { notify: [tech] }\n"
    "receivers:\n"
    "  support: { webhook: { url: http://127.0.0.1:9/s } }\n"
    "  tech: { webhook: { url: http://127.0.0.1:9/t }, roster: tech-oncall }\n"
    "rosters:\n"
    "  tech-oncall: { members: [asha, ben, chen], rotation: 1w,"
    " start: 2026-01-05T09:00:00Z,\n"
    "    overrides: [{ member: dana, from: 2026-03-01T00:00:00Z, to: 2026-03-02T00:00:00Z }] }\n"
    "  later: { members: [zed, yan], rotation: 1d, start: 2999-01-01T00:00:00Z }\n";

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

/* ---- tests ---- */

/* A JSON step record of workflow loan; times in minutes before now (finished < 0: none).
 * "now" is read once per process: durations between records of one test are then exact,
 * not off by the milliseconds that pass between two calls. */
static void rec(struct strbuf *sb, const char *iid, const char *step, const char *status,
                int started_ago, int finished_ago, const char *channel)
{
	static int64_t now;
	char s[40], u[40];
	if (!now)
		now = time_now_ms();
	time_format_rfc3339(now - (int64_t)started_ago * 60000, s, sizeof(s));
	time_format_rfc3339(now - (int64_t)(finished_ago >= 0 ? finished_ago : started_ago) * 60000,
	                    u, sizeof(u));
	strbuf_addf(sb,
	            "%s{\"workflow\":\"loan\",\"instance_id\":\"%s\",\"user_id\":\"u-%s\","
	            "\"step\":\"%s\",\"status\":\"%s\",\"started_at\":\"%s\",\"updated_at\":\"%s\"",
	            sb->len > 1 ? "," : "", iid, iid, step, status, s, u);
	if (finished_ago >= 0)
		strbuf_addf(sb, ",\"finished_at\":\"%s\"", u);
	if (!strcmp(status, "FAILED"))
		strbuf_addstr(sb, ",\"error\":\"TIMEOUT\"");
	if (channel)
		strbuf_addf(sb, ",\"labels\":{\"channel\":\"%s\"}", channel);
	strbuf_addch(sb, '}');
}

static void push(struct fx *f, struct strbuf *sb)
{
	struct apitest_res r;
	strbuf_addch(sb, ']');
	assert_int_equal(
	    CALL("POST", "/api/v1/step-records", "/api/v1/step-records", RESPONDER, sb->buf), 200);
	apitest_res_release(&r);
	strbuf_reset(sb);
	strbuf_addch(sb, '[');
}

static int64_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static double jnum(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_number(v))
		fail_msg("'%s' is not a number", k);
	return json_number_value(v);
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

/* The error answers every stats route gives for bad input. */
static void bad_input(struct fx *f, const char *pattern, bool needs_workflow)
{
	struct apitest_res r;
	char path[512];
	static const char *const bad_times[] = {
	    "from=yesterday",
	    "to=2026-13-01T00:00:00Z",
	    "from=",
	    "from=1e99",
	    "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
	    "from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_times); i++) {
		snprintf(path, sizeof(path), "%s?%s%s", pattern,
		         needs_workflow ? "workflow=loan&" : "", bad_times[i]);
		assert_int_equal(CALL("GET", pattern, path, VIEWER, NULL), 400);
		apitest_res_release(&r);
	}
	snprintf(path, sizeof(path), "%s?colour=red", pattern);
	assert_int_equal(CALL("GET", pattern, path, VIEWER, NULL), 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", pattern, pattern, NULL, NULL), 401);
	apitest_res_release(&r);
	if (!needs_workflow)
		return;
	assert_int_equal(CALL("GET", pattern, pattern, VIEWER, NULL), 400);
	assert_non_null(strstr(r.body.buf, "'workflow' is required"));
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "%s?workflow=", pattern);
	assert_int_equal(CALL("GET", pattern, path, VIEWER, NULL), 400);
	apitest_res_release(&r);
	snprintf(path, sizeof(path), "%s?workflow=nope%%27%%22", pattern);
	assert_int_equal(CALL("GET", pattern, path, VIEWER, NULL), 404);
	assert_non_null(strstr(r.body.buf, "workflow 'nope'"));
	apitest_res_release(&r);
}

static void test_funnel(void **state)
{
	FX();
	struct strbuf sb = STRBUF_INIT;
	json_t *steps, *s;
	strbuf_addch(&sb, '[');
	/* i0 done; i1 failed at bureau_pull; i2 stuck at bureau_pull (120 min > 30m);
	 * i3 in progress at bureau_pull for 5 min; i4 only entered kyc */
	rec(&sb, "i0", "kyc", "SUCCESS", 200, 190, "web");
	rec(&sb, "i0", "bureau_pull", "SUCCESS", 190, 180, "web");
	rec(&sb, "i0", "underwriting", "SUCCESS", 180, 170, "web");
	rec(&sb, "i1", "kyc", "SUCCESS", 200, 190, "web");
	rec(&sb, "i1", "bureau_pull", "FAILED", 190, 180, "web");
	rec(&sb, "i2", "kyc", "SUCCESS", 200, 190, "app");
	rec(&sb, "i2", "bureau_pull", "IN_PROGRESS", 120, -1, "app");
	rec(&sb, "i3", "kyc", "SUCCESS", 20, 10, "app");
	rec(&sb, "i3", "bureau_pull", "IN_PROGRESS", 5, -1, "app");
	rec(&sb, "i4", "kyc", "FAILED", 20, 10, "app");
	push(f, &sb);
	strbuf_release(&sb);

	assert_int_equal(
	    CALL("GET", "/api/v1/stats/funnel", "/api/v1/stats/funnel?workflow=loan", VIEWER, NULL),
	    200);
	assert_string_equal(jstr(r.json, "workflow"), "loan");
	assert_non_null(jstr(r.json, "from"));
	steps = json_object_get(r.json, "steps");
	assert_int_equal(json_array_size(steps), 3);
	s = json_array_get(steps, 0);
	assert_string_equal(jstr(s, "step"), "kyc");
	assert_int_equal(jint(s, "entered"), 5);
	assert_int_equal(jint(s, "succeeded"), 4);
	assert_int_equal(jint(s, "failed"), 1);
	assert_true(near(jnum(s, "conversion"), 0.8));
	s = json_array_get(steps, 1);
	assert_string_equal(jstr(s, "step"), "bureau_pull");
	assert_int_equal(jint(s, "entered"), 4);
	assert_int_equal(jint(s, "succeeded"), 1);
	assert_int_equal(jint(s, "failed"), 1);
	assert_int_equal(jint(s, "stuck"), 1);
	assert_int_equal(jint(s, "abandoned"), 0);
	assert_true(near(jnum(s, "conversion"), 0.25));
	s = json_array_get(steps, 2);
	assert_int_equal(jint(s, "entered"), 1);
	assert_true(near(jnum(s, "conversion"), 1.0));
	apitest_res_release(&r);

	/* a window in the past holds nothing: conversion 0, not a division by zero */
	assert_int_equal(CALL("GET", "/api/v1/stats/funnel",
	                      "/api/v1/stats/funnel?workflow=loan&from=2020-01-01T00:00:00Z"
	                      "&to=2020-01-02T00:00:00Z",
	                      VIEWER, NULL),
	                 200);
	s = json_array_get(json_object_get(r.json, "steps"), 1);
	assert_int_equal(jint(s, "entered"), 0);
	assert_true(near(jnum(s, "conversion"), 0.0));
	assert_string_equal(jstr(r.json, "from"), "2020-01-01T00:00:00Z");
	apitest_res_release(&r);
	bad_input(f, "/api/v1/stats/funnel", true);
}

static void test_tat(void **state)
{
	FX();
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '[');
	/* instance TATs: 60 min, 120 min, 3000 min (over the 2d SLA); t3 not complete.
	 * kyc durations: 2, 10, 30, 1 min (SLA p2 5m for kyc) */
	rec(&sb, "t0", "kyc", "SUCCESS", 100, 98, NULL);
	rec(&sb, "t0", "bureau_pull", "SUCCESS", 98, 60, NULL);
	rec(&sb, "t0", "underwriting", "SUCCESS", 60, 40, NULL);
	rec(&sb, "t1", "kyc", "SUCCESS", 200, 190, NULL);
	rec(&sb, "t1", "bureau_pull", "SUCCESS", 190, 100, NULL);
	rec(&sb, "t1", "underwriting", "SUCCESS", 100, 80, NULL);
	rec(&sb, "t2", "kyc", "SUCCESS", 3100, 3070, NULL);
	rec(&sb, "t2", "bureau_pull", "SUCCESS", 3070, 3000, NULL);
	rec(&sb, "t2", "underwriting", "SUCCESS", 3000, 100, NULL);
	rec(&sb, "t3", "kyc", "SUCCESS", 50, 49, NULL);
	rec(&sb, "t3", "bureau_pull", "FAILED", 49, 48, NULL);
	push(f, &sb);
	strbuf_release(&sb);

	assert_int_equal(
	    CALL("GET", "/api/v1/stats/tat", "/api/v1/stats/tat?workflow=loan", VIEWER, NULL), 200);
	assert_true(json_is_null(json_object_get(r.json, "step")));
	assert_int_equal(jint(r.json, "count"), 3);
	assert_true(near(jnum(r.json, "p50"), 7200));
	assert_true(near(jnum(r.json, "p90"), 180000));
	assert_true(near(jnum(r.json, "p99"), 180000));
	assert_true(near(jnum(r.json, "max"), 180000));
	assert_true(near(jnum(r.json, "sla_seconds"), 172800));
	assert_true(near(jnum(r.json, "within_sla"), 2.0 / 3.0));
	apitest_res_release(&r);

	assert_int_equal(CALL("GET", "/api/v1/stats/tat",
	                      "/api/v1/stats/tat?workflow=loan&step=kyc", VIEWER, NULL),
	                 200);
	assert_string_equal(jstr(r.json, "step"), "kyc");
	assert_int_equal(jint(r.json, "count"), 4);
	assert_true(near(jnum(r.json, "p50"), 120));  /* 1, 2, 10, 30 min: rank 2 */
	assert_true(near(jnum(r.json, "p90"), 1800)); /* rank 4 */
	assert_true(near(jnum(r.json, "max"), 1800));
	assert_true(near(jnum(r.json, "sla_seconds"), 300));
	assert_true(near(jnum(r.json, "within_sla"), 0.5));
	apitest_res_release(&r);

	/* a step that only failed: no durations, null figures; a workflow without tat_sla */
	assert_int_equal(
	    CALL("GET", "/api/v1/stats/tat", "/api/v1/stats/tat?workflow=kyc_flow", VIEWER, NULL),
	    200);
	assert_int_equal(jint(r.json, "count"), 0);
	assert_true(json_is_null(json_object_get(r.json, "p50")));
	assert_true(json_is_null(json_object_get(r.json, "max")));
	assert_true(json_is_null(json_object_get(r.json, "within_sla")));
	assert_true(json_is_null(json_object_get(r.json, "sla_seconds")));
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/stats/tat",
	                      "/api/v1/stats/tat?workflow=loan&step=no_such_step", VIEWER, NULL),
	                 404);
	apitest_res_release(&r);
	bad_input(f, "/api/v1/stats/tat", true);
}

static void test_segments(void **state)
{
	FX();
	struct strbuf sb = STRBUF_INIT;
	json_t *segs, *s;
	char iid[32];
	strbuf_addch(&sb, '[');
	/* web: 36 of 40 complete; app: 10 of 40; kiosk: 2 of 10 (too few to flag) */
	for (int i = 0; i < 90; i++) {
		const char *ch = i < 40 ? "web" : i < 80 ? "app" : "kiosk";
		bool done = i < 40 ? i < 36 : i < 80 ? i < 50 : i < 82;
		snprintf(iid, sizeof(iid), "s%d", i);
		rec(&sb, iid, "kyc", "SUCCESS", 100, 90, ch);
		rec(&sb, iid, "bureau_pull", "SUCCESS", 90, 80, ch);
		rec(&sb, iid, "underwriting", done ? "SUCCESS" : "FAILED", 80, 70, ch);
	}
	push(f, &sb);
	strbuf_release(&sb);

	assert_int_equal(CALL("GET", "/api/v1/stats/segments",
	                      "/api/v1/stats/segments?workflow=loan&by=channel", VIEWER, NULL),
	                 200);
	segs = json_object_get(r.json, "segments");
	assert_int_equal(json_array_size(segs), 3);
	s = json_array_get(segs, 0);
	assert_string_equal(jstr(s, "by"), "channel");
	assert_string_equal(jstr(s, "value"), "app");
	assert_int_equal(jint(s, "started"), 40);
	assert_int_equal(jint(s, "completed"), 10);
	assert_true(near(jnum(s, "rate"), 0.25));
	assert_true(json_is_true(json_object_get(s, "flagged")));
	assert_true(jnum(s, "p_value") < 0.01);
	s = json_array_get(segs, 1);
	assert_string_equal(jstr(s, "value"), "kiosk");
	assert_false(json_is_true(json_object_get(s, "flagged"))); /* 10 < 30 instances */
	s = json_array_get(segs, 2);
	assert_string_equal(jstr(s, "value"), "web");
	assert_false(json_is_true(json_object_get(s, "flagged")));
	assert_true(jnum(s, "p_value") > 0.5);
	apitest_res_release(&r);

	/* without by: every segment column; partner has no values here */
	assert_int_equal(CALL("GET", "/api/v1/stats/segments",
	                      "/api/v1/stats/segments?workflow=loan", VIEWER, NULL),
	                 200);
	segs = json_object_get(r.json, "segments");
	assert_int_equal(json_array_size(segs), 4);
	s = json_array_get(segs, 3);
	assert_string_equal(jstr(s, "by"), "partner");
	assert_true(json_is_null(json_object_get(s, "value")));
	assert_int_equal(jint(s, "started"), 90);
	assert_true(json_is_null(json_object_get(s, "p_value")));
	apitest_res_release(&r);

	assert_int_equal(CALL("GET", "/api/v1/stats/segments",
	                      "/api/v1/stats/segments?workflow=loan&by=colour", VIEWER, NULL),
	                 400);
	assert_non_null(strstr(r.body.buf, "not a segment"));
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/stats/segments",
	                      "/api/v1/stats/segments?workflow=kyc_flow&by=channel", VIEWER, NULL),
	                 400);
	apitest_res_release(&r);
	bad_input(f, "/api/v1/stats/segments", true);
}

static void test_alert_stats(void **state)
{
	FX();
	struct strbuf sb = STRBUF_INIT;
	json_t *esc;
	strbuf_addch(&sb, '[');
	rec(&sb, "a0", "bureau_pull", "FAILED", 10, 9, NULL);
	rec(&sb, "a1", "bureau_pull", "FAILED", 10, 9, NULL);
	rec(&sb, "a2", "bureau_pull", "FAILED", 10, 9, NULL);
	push(f, &sb);
	strbuf_release(&sb);
	assert_int_equal(
	    CALL("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/1/ack", RESPONDER, "{}"), 200);
	apitest_res_release(&r);
	assert_int_equal(CALL("POST", "/api/v1/alerts/{id}/resolve", "/api/v1/alerts/2/resolve",
	                      RESPONDER, "{}"),
	                 200);
	apitest_res_release(&r);

	assert_int_equal(CALL("GET", "/api/v1/stats/alerts", "/api/v1/stats/alerts", VIEWER, NULL),
	                 200);
	assert_int_equal(jint(r.json, "opened"), 3);
	assert_int_equal(jint(r.json, "auto_resolved"), 0);
	assert_int_equal(jint(r.json, "manually_resolved"), 1);
	assert_int_equal(jint(r.json, "abandoned"), 0);
	assert_true(jnum(r.json, "mtta_seconds") >= 0 && jnum(r.json, "mtta_seconds") < 60);
	assert_true(jnum(r.json, "mttr_seconds") >= 0 && jnum(r.json, "mttr_seconds") < 60);
	assert_true(near(jnum(r.json, "self_recovery_rate"), 0.0));
	esc = json_object_get(r.json, "escalations");
	assert_int_equal(jint(esc, "P2") + jint(esc, "P1") + jint(esc, "P0"), 0);
	apitest_res_release(&r);

	/* an empty window: zeros and nulls */
	assert_int_equal(
	    CALL("GET", "/api/v1/stats/alerts",
	         "/api/v1/stats/alerts?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", VIEWER,
	         NULL),
	    200);
	assert_int_equal(jint(r.json, "opened"), 0);
	assert_true(json_is_null(json_object_get(r.json, "mtta_seconds")));
	assert_true(json_is_null(json_object_get(r.json, "mttr_seconds")));
	assert_true(json_is_null(json_object_get(r.json, "self_recovery_rate")));
	apitest_res_release(&r);
	bad_input(f, "/api/v1/stats/alerts", false);
}

static void test_oncall(void **state)
{
	FX();
	const json_t *ro, *lv, *x;
	const char *names[3] = {"asha", "ben", "chen"};
	int64_t start = 1767603600000LL, week = 7 * 86400000LL;
	int64_t now = time_now_ms(), idx = ((now - start) / week) % 3;
	assert_int_equal(CALL("GET", "/api/v1/oncall", "/api/v1/oncall", VIEWER, NULL), 200);
	ro = json_object_get(r.json, "rosters");
	assert_int_equal(json_array_size(ro), 2);
	x = json_array_get(ro, 0);
	assert_string_equal(jstr(x, "roster"), "tech-oncall");
	/* a handover between reading the clock and the request is possible but a week apart */
	assert_string_equal(jstr(x, "member"), names[idx]);
	assert_int_equal(jint(x, "rotation_seconds"), 604800);
	assert_string_equal(jstr(x, "start"), "2026-01-05T09:00:00Z");
	assert_non_null(jstr(x, "since"));
	assert_non_null(jstr(x, "until"));
	assert_int_equal(json_array_size(json_object_get(x, "levels")), 2); /* P1, P0 */
	x = json_array_get(ro, 1);
	assert_string_equal(jstr(x, "roster"), "later");
	assert_string_equal(jstr(x, "member"), "zed"); /* before its start: the first member */
	assert_true(json_is_null(json_object_get(x, "since")));
	assert_string_equal(jstr(x, "until"), "2999-01-01T00:00:00Z");
	assert_int_equal(json_array_size(json_object_get(x, "levels")), 0);
	lv = json_object_get(r.json, "levels");
	x = json_array_get(json_object_get(lv, "P2"), 0);
	assert_string_equal(jstr(x, "receiver"), "support");
	assert_true(json_is_null(json_object_get(x, "roster")));
	assert_true(json_is_null(json_object_get(x, "member")));
	assert_int_equal(json_array_size(json_object_get(lv, "P1")), 2);
	x = json_array_get(json_object_get(lv, "P0"), 0);
	assert_string_equal(jstr(x, "receiver"), "tech");
	assert_string_equal(jstr(x, "roster"), "tech-oncall");
	assert_string_equal(jstr(x, "member"), names[idx]);
	apitest_res_release(&r);
	/* ?at=: the hand-over at the rotation instant */
	assert_int_equal(CALL("GET", "/api/v1/oncall", "/api/v1/oncall?at=2026-01-12T08:59:59.999Z",
	                      VIEWER, NULL),
	                 200);
	x = json_array_get(json_object_get(r.json, "rosters"), 0);
	assert_string_equal(jstr(x, "member"), "asha");
	assert_string_equal(jstr(x, "until"), "2026-01-12T09:00:00Z");
	assert_true(json_is_false(json_object_get(x, "override")));
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/oncall", "/api/v1/oncall?at=2026-01-12T09:00:00Z", VIEWER, NULL),
	    200);
	x = json_array_get(json_object_get(r.json, "rosters"), 0);
	assert_string_equal(jstr(x, "member"), "ben");
	assert_string_equal(jstr(x, "since"), "2026-01-12T09:00:00Z");
	assert_string_equal(jstr(r.json, "at"), "2026-01-12T09:00:00Z");
	apitest_res_release(&r);
	/* an override: who, from when, until when; its start ends the turn before it */
	assert_int_equal(
	    CALL("GET", "/api/v1/oncall", "/api/v1/oncall?at=2026-02-28T23:00:00Z", VIEWER, NULL),
	    200);
	x = json_array_get(json_object_get(r.json, "rosters"), 0);
	assert_string_equal(jstr(x, "member"), "ben");
	assert_string_equal(jstr(x, "until"), "2026-03-01T00:00:00Z");
	apitest_res_release(&r);
	assert_int_equal(
	    CALL("GET", "/api/v1/oncall", "/api/v1/oncall?at=2026-03-01T12:00:00Z", VIEWER, NULL),
	    200);
	x = json_array_get(json_object_get(r.json, "rosters"), 0);
	assert_string_equal(jstr(x, "member"), "dana");
	assert_true(json_is_true(json_object_get(x, "override")));
	assert_string_equal(jstr(x, "since"), "2026-03-01T00:00:00Z");
	assert_string_equal(jstr(x, "until"), "2026-03-02T00:00:00Z");
	assert_int_equal(json_array_size(json_object_get(x, "overrides")), 1);
	x = json_array_get(json_object_get(json_object_get(r.json, "levels"), "P0"), 0);
	assert_string_equal(jstr(x, "member"), "dana");
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/oncall", "/api/v1/oncall?at=monday", VIEWER, NULL),
	                 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/oncall", "/api/v1/oncall?x=1", VIEWER, NULL), 400);
	apitest_res_release(&r);
	assert_int_equal(CALL("GET", "/api/v1/oncall", "/api/v1/oncall", NULL, NULL), 401);
	apitest_res_release(&r);
}

#define TESTS(setup)                                                            \
	cmocka_unit_test_setup_teardown(test_funnel, setup, teardown),          \
	    cmocka_unit_test_setup_teardown(test_tat, setup, teardown),         \
	    cmocka_unit_test_setup_teardown(test_segments, setup, teardown),    \
	    cmocka_unit_test_setup_teardown(test_alert_stats, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_oncall, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed;
	curl_global_init(CURL_GLOBAL_ALL);
	failed = cmocka_run_group_tests_name("api_stats/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("api_stats/postgres", pg_tests, NULL, NULL);
	curl_global_cleanup();
	apitest_doc_free();
	return failed ? 1 : 0;
}
