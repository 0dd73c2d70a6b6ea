/*
 * test_step.c - core/step.c: step status names, and step_record_check, the one rule both
 * the watcher (polled rows) and push ingest (POST /api/v1/step-records) apply to a record.
 */
#include "helpers.h"
#include "core/step.h"

#define T0 1764000000000LL

/* A record that passes: every required field set. */
static struct step_record_fields good(void)
{
	struct step_record_fields f = {
	    .instance_id = "app-1",
	    .user_id = "u-1",
	    .step = "bureau_pull",
	    .step_index = 2,
	    .status = "failed",
	    .error = "BUREAU_TIMEOUT",
	    .labels_json = "{\"channel\":\"web\"}",
	    .started_at = T0,
	    .finished_at = T0 + 5000,
	    .updated_at = T0 + 5000,
	};
	return f;
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(step_status_name(STEP_IN_PROGRESS), "IN_PROGRESS");
	assert_string_equal(step_status_name(STEP_SUCCESS), "SUCCESS");
	assert_string_equal(step_status_name(STEP_FAILED), "FAILED");
	assert_string_equal(step_status_name((enum step_status)7), "UNKNOWN");
	assert_int_equal(step_status_parse("IN_PROGRESS"), STEP_IN_PROGRESS);
	assert_int_equal(step_status_parse("in_progress"), STEP_IN_PROGRESS);
	assert_int_equal(step_status_parse("Success"), STEP_SUCCESS);
	assert_int_equal(step_status_parse("failed"), STEP_FAILED);
	assert_int_equal(step_status_parse("FAIL"), -1);
	assert_int_equal(step_status_parse("FAILED "), -1);
	assert_int_equal(step_status_parse(""), -1);
	assert_int_equal(step_status_parse(NULL), -1);
}

static void test_check_accepts(void **state)
{
	struct step_record_fields f = good();
	struct step_record r;
	(void)state;
	assert_null(step_record_check(&f, &r));
	assert_string_equal(r.instance_id, "app-1");
	assert_string_equal(r.user_id, "u-1");
	assert_string_equal(r.step, "bureau_pull");
	assert_int_equal(r.step_index, 2);
	assert_int_equal(r.status, STEP_FAILED);
	assert_string_equal(r.error, "BUREAU_TIMEOUT");
	assert_string_equal(r.labels_json, "{\"channel\":\"web\"}");
	assert_int_equal(r.started_at, T0);
	assert_int_equal(r.finished_at, T0 + 5000);
	assert_int_equal(r.updated_at, T0 + 5000);
	/* optional fields absent */
	f.error = NULL;
	f.labels_json = NULL;
	f.finished_at = TIME_NULL;
	f.status = "IN_PROGRESS";
	f.step_index = 0;
	assert_null(step_record_check(&f, &r));
	assert_null(r.error);
	assert_null(r.labels_json);
	assert_int_equal(r.finished_at, TIME_NULL);
	assert_int_equal(r.status, STEP_IN_PROGRESS);
	assert_int_equal(r.step_index, 0);
}

/* Each refusal names its field, and leaves *out with no times. */
static void refused(const struct step_record_fields *f, const char *why)
{
	struct step_record r;
	const char *got = step_record_check(f, &r);
	assert_non_null(got);
	assert_string_equal(got, why);
	assert_int_equal(r.started_at, TIME_NULL);
	assert_int_equal(r.updated_at, TIME_NULL);
	assert_null(r.instance_id);
}

static void test_check_refuses(void **state)
{
	struct step_record_fields f;
	(void)state;
	f = good(), f.instance_id = NULL;
	refused(&f, "instance_id is null or empty");
	f = good(), f.instance_id = "";
	refused(&f, "instance_id is null or empty");
	f = good(), f.user_id = NULL;
	refused(&f, "user_id is null or empty");
	f = good(), f.user_id = "";
	refused(&f, "user_id is null or empty");
	f = good(), f.step = NULL;
	refused(&f, "step is not one of the workflow's steps");
	f = good(), f.step_index = -1;
	refused(&f, "step is not one of the workflow's steps");
	f = good(), f.status = NULL;
	refused(&f, "status is not IN_PROGRESS, SUCCESS or FAILED");
	f = good(), f.status = "DONE";
	refused(&f, "status is not IN_PROGRESS, SUCCESS or FAILED");
	f = good(), f.updated_at = TIME_NULL;
	refused(&f, "updated_at is null or not a timestamp");
	f = good(), f.updated_at = STEP_TIME_BAD;
	refused(&f, "updated_at is null or not a timestamp");
	/* the case the two ways in used to disagree on: a null started_at */
	f = good(), f.started_at = TIME_NULL;
	refused(&f, "started_at is null or not a timestamp");
	f = good(), f.started_at = STEP_TIME_BAD;
	refused(&f, "started_at is null or not a timestamp");
	f = good(), f.finished_at = STEP_TIME_BAD;
	refused(&f, "finished_at is not a timestamp");
	/* the first refusal wins, in field order */
	f = good(), f.user_id = NULL, f.started_at = TIME_NULL;
	refused(&f, "user_id is null or empty");
}

/* Times at the edges are times, not the markers. */
static void test_check_time_edges(void **state)
{
	struct step_record_fields f = good();
	struct step_record r;
	(void)state;
	f.started_at = 0;
	f.updated_at = TIME_NULL + 2;
	f.finished_at = INT64_MAX;
	assert_null(step_record_check(&f, &r));
	assert_int_equal(r.started_at, 0);
	assert_int_equal(r.finished_at, INT64_MAX);
	assert_true(STEP_TIME_BAD != TIME_NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_names),
	    cmocka_unit_test(test_check_accepts),
	    cmocka_unit_test(test_check_refuses),
	    cmocka_unit_test(test_check_time_edges),
	};
	return cmocka_run_group_tests_name("step", tests, NULL, NULL);
}
