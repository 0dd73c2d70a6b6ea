/*
 * stats.h - the pure math behind /api/v1/stats: nearest-rank percentiles over sorted
 * durations, the standard normal CDF, and the one-sided two-proportion z-test that flags a
 * segment whose success rate is significantly below the rest of its workflow. No I/O.
 */
#ifndef SW_STATS_H
#define SW_STATS_H

#include "util/common.h"

/* Sort v[0..n) ascending. */
void stats_sort(int64_t *v, size_t n);
/* Nearest-rank percentile of sorted v[0..n) for pct in 1..100: v[ceil(pct * n / 100) - 1].
 * 0 when n is 0. pct outside 1..100 is clamped. */
int64_t stats_percentile(const int64_t *sorted, size_t n, int pct);
/* P(Z <= z) for a standard normal Z, via erfc. */
double stats_normal_cdf(double z);
/*
 * One-sided p-value of "the rate x1/n1 is below the rate x2/n2" by the pooled
 * two-proportion z-test: Phi((p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))), p pooled.
 * 1.0 when it is undefined (an empty group, or a pooled rate of 0 or 1).
 */
double stats_two_prop_p_below(int64_t x1, int64_t n1, int64_t x2, int64_t n2);
/* Whether a segment (x1 of n1 completed) is flagged against the rest (x2 of n2): at least
 * min_n instances and p-value below alpha (SPEC: 30 and 0.01). */
bool stats_segment_flagged(int64_t x1, int64_t n1, int64_t x2, int64_t n2, int64_t min_n,
                           double alpha);

#endif
