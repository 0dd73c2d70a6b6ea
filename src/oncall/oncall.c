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

const char *oncall_who(const struct sw_roster *r, int64_t now, int64_t *until, bool *overridden)
{
	const struct sw_roster_override *hit = NULL;
	const char *who = NULL;
	int64_t end, i;
	for (size_t k = 0; k < r->n_overrides; k++)
		if (r->overrides[k].from_ms <= now && now < r->overrides[k].to_ms)
			hit = &r->overrides[k];
	if (hit) {
		who = hit->member;
		end = hit->to_ms;
	} else {
		i = oncall_index(r->n_members, r->rotation_ms, r->start_ms, now);
		who = i < 0 ? NULL : r->members[i];
		end = r->n_members ? oncall_next_handover(r->rotation_ms, r->start_ms, now)
		                   : INT64_MAX;
	}
	/* an override that starts (or, listed later, takes over) before then changes it */
	for (size_t k = 0; k < r->n_overrides; k++)
		if (r->overrides[k].from_ms > now && r->overrides[k].from_ms < end &&
		    (!hit || &r->overrides[k] > hit))
			end = r->overrides[k].from_ms;
	if (until)
		*until = end;
	if (overridden)
		*overridden = hit != NULL;
	return who;
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
