/*
 * stats.c - percentiles and the two-proportion test of stats.h.
 *
 * DESIGN: percentiles are nearest-rank (a value that actually occurred, no interpolation),
 * the rank computed in integers so p50 of 2 values is the first and p99 of 100 the 99th.
 */
#include "util/common.h"
#include "core/stats.h"
#include <math.h>

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void stats_sort(int64_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_i64);
}

int64_t stats_percentile(const int64_t *sorted, size_t n, int pct)
{
	size_t rank;
	if (!n)
		return 0;
	if (pct < 1)
		pct = 1;
	if (pct > 100)
		pct = 100;
	/* ceil(pct * n / 100) without floating point; n is far below SIZE_MAX / 100 */
	rank = ((size_t)pct * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

double stats_normal_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

double stats_two_prop_p_below(int64_t x1, int64_t n1, int64_t x2, int64_t n2)
{
	double p1, p2, p, se;
	if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
		return 1.0;
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	p = (double)(x1 + x2) / (double)(n1 + n2);
	se = sqrt(p * (1.0 - p) * (1.0 / (double)n1 + 1.0 / (double)n2));
	if (!(se > 0))
		return 1.0;
	return stats_normal_cdf((p1 - p2) / se);
}

bool stats_segment_flagged(int64_t x1, int64_t n1, int64_t x2, int64_t n2, int64_t min_n,
                           double alpha)
{
	return n1 >= min_n && stats_two_prop_p_below(x1, n1, x2, n2) < alpha;
}
