/*
 * oncall.c - roster rotation (oncall.h). Turns are counted in whole rotations since the
 * roster's start, so the answer depends only on the time asked about: no state, no drift.
 */
#include "util/common.h"
#include "oncall/oncall.h"

int64_t oncall_index(size_t n, int64_t rotation_ms, int64_t start_ms, int64_t now)
{
	if (!n)
		return -1;
	if (rotation_ms <= 0 || now < start_ms)
		return 0;
	/* now >= start: the difference cannot overflow for sane times; guard anyway */
	if (start_ms < 0 && now > INT64_MAX + start_ms)
		return 0;
	return ((now - start_ms) / rotation_ms) % (int64_t)n;
}

int64_t oncall_next_handover(int64_t rotation_ms, int64_t start_ms, int64_t now)
{
	int64_t turns, at;
	if (rotation_ms <= 0)
		return INT64_MAX;
	if (now < start_ms)
		return start_ms;
	if (start_ms < 0 && now > INT64_MAX + start_ms)
		return INT64_MAX;
	turns = (now - start_ms) / rotation_ms + 1;
	if (__builtin_mul_overflow(turns, rotation_ms, &at) ||
	    __builtin_add_overflow(at, start_ms, &at))
		return INT64_MAX;
	return at;
}
