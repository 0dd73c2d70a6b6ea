/*
 * test_stats.c - the pure math of /api/v1/stats (core/stats.c: nearest-rank percentiles,
 * normal CDF, two-proportion z-test) and of /api/v1/oncall (oncall/oncall.c: rotation).
 */
#include "helpers.h"
#include "core/stats.h"
#include "oncall/oncall.h"
#include <math.h>

static void test_percentile(void **state)
{
	int64_t v[100], one[1] = {7}, two[2] = {20, 10};
	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = 100 - i; /* 100..1, unsorted */
	stats_sort(v, 100);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[99], 100);
	assert_int_equal(stats_percentile(v, 100, 50), 50);
	assert_int_equal(stats_percentile(v, 100, 90), 90);
	assert_int_equal(stats_percentile(v, 100, 99), 99);
	assert_int_equal(stats_percentile(v, 100, 100), 100);
	/* 10 values: p99 rank ceil(9.9) = 10, p50 rank 5, p90 rank 9 */
	assert_int_equal(stats_percentile(v, 10, 99), 10);
	assert_int_equal(stats_percentile(v, 10, 50), 5);
	assert_int_equal(stats_percentile(v, 10, 90), 9);
	/* 7 values: p50 rank ceil(3.5) = 4 */
	assert_int_equal(stats_percentile(v, 7, 50), 4);
	assert_int_equal(stats_percentile(one, 1, 50), 7);
	assert_int_equal(stats_percentile(one, 1, 99), 7);
	stats_sort(two, 2);
	assert_int_equal(stats_percentile(two, 2, 50), 10);
	assert_int_equal(stats_percentile(two, 2, 51), 20);
	/* empty and out-of-range percentiles */
	assert_int_equal(stats_percentile(NULL, 0, 50), 0);
	assert_int_equal(stats_percentile(v, 100, 0), 1);
	assert_int_equal(stats_percentile(v, 100, 1000), 100);
	assert_int_equal(stats_percentile(v, 100, -5), 1);
	stats_sort(NULL, 0);
}

static void test_normal_cdf(void **state)
{
	(void)state;
	assert_true(fabs(stats_normal_cdf(0) - 0.5) < 1e-12);
	assert_true(fabs(stats_normal_cdf(1.959963985) - 0.975) < 1e-6);
	assert_true(fabs(stats_normal_cdf(-2.326347874) - 0.01) < 1e-6);
	assert_true(fabs(stats_normal_cdf(-1.0) - 0.158655254) < 1e-6);
	assert_true(stats_normal_cdf(-40) >= 0 && stats_normal_cdf(-40) < 1e-300);
	assert_true(stats_normal_cdf(40) == 1.0);
}

static void test_two_prop(void **state)
{
	double p;
	(void)state;
	/* 20/100 vs 60/100: pooled 0.4, se = sqrt(.24 * .02) = .069282, z = -5.7735 */
	p = stats_two_prop_p_below(20, 100, 60, 100);
	assert_true(fabs(p - stats_normal_cdf(-5.773502692)) < 1e-9);
	assert_true(p < 1e-8);
	/* equal rates: p = 0.5 */
	assert_true(fabs(stats_two_prop_p_below(30, 60, 50, 100) - 0.5) < 1e-12);
	/* higher rate: p above 0.5 */
	assert_true(stats_two_prop_p_below(60, 100, 20, 100) > 0.99);
	/* 45/100 vs 50/100: z = -0.7076, p = 0.2396: not significant */
	p = stats_two_prop_p_below(45, 100, 50, 100);
	assert_true(fabs(p - 0.2396) < 1e-3);
	/* undefined: empty groups, pooled 0 or 1, nonsense counts */
	assert_true(stats_two_prop_p_below(0, 0, 5, 10) == 1.0);
	assert_true(stats_two_prop_p_below(0, 10, 0, 10) == 1.0);
	assert_true(stats_two_prop_p_below(10, 10, 10, 10) == 1.0);
	assert_true(stats_two_prop_p_below(11, 10, 1, 10) == 1.0);
	assert_true(stats_two_prop_p_below(-1, 10, 1, 10) == 1.0);
	/* flagging: significant and big enough; too small; not significant */
	assert_true(stats_segment_flagged(5, 40, 80, 100, 30, 0.01));
	assert_false(stats_segment_flagged(2, 20, 80, 100, 30, 0.01));
	assert_false(stats_segment_flagged(45, 100, 50, 100, 30, 0.01));
	assert_false(stats_segment_flagged(80, 100, 5, 40, 30, 0.01));
}

#define WEEK (7 * 86400000LL)

static void test_oncall_rotation(void **state)
{
	const int64_t start = 1767603600000LL; /* 2026-01-05T09:00:00Z */
	(void)state;
	assert_int_equal(oncall_index(3, WEEK, start, start), 0);
	assert_int_equal(oncall_index(3, WEEK, start, start + WEEK - 1), 0);
	assert_int_equal(oncall_index(3, WEEK, start, start + WEEK), 1);
	assert_int_equal(oncall_index(3, WEEK, start, start + 2 * WEEK + 5), 2);
	assert_int_equal(oncall_index(3, WEEK, start, start + 3 * WEEK), 0);
	assert_int_equal(oncall_index(3, WEEK, start, start + 100 * WEEK), 1);
	/* before start: the first member */
	assert_int_equal(oncall_index(3, WEEK, start, start - 1), 0);
	assert_int_equal(oncall_index(3, WEEK, start, 0), 0);
	/* one member, no members, no rotation */
	assert_int_equal(oncall_index(1, WEEK, start, start + 5 * WEEK), 0);
	assert_int_equal(oncall_index(0, WEEK, start, start), -1);
	assert_int_equal(oncall_index(3, 0, start, start + 5 * WEEK), 0);
	/* extremes do not overflow */
	assert_int_equal(oncall_index(3, 1, INT64_MIN, INT64_MAX), 0);
	assert_true(oncall_index(3, 1, 0, INT64_MAX) >= 0);
	/* handovers */
	assert_int_equal(oncall_next_handover(WEEK, start, start), start + WEEK);
	assert_int_equal(oncall_next_handover(WEEK, start, start + WEEK), start + 2 * WEEK);
	assert_int_equal(oncall_next_handover(WEEK, start, start - 10), start);
	assert_true(oncall_next_handover(0, start, start) == INT64_MAX);
	assert_true(oncall_next_handover(WEEK, 0, INT64_MAX - 1) == INT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percentile),
	    cmocka_unit_test(test_normal_cdf),
	    cmocka_unit_test(test_two_prop),
	    cmocka_unit_test(test_oncall_rotation),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
