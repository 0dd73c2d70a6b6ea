/*
 * oncall.h - roster rotation math: who of a roster is on call at a given time. Pure.
 */
#ifndef SW_ONCALL_H
#define SW_ONCALL_H

#include "util/common.h"
#include "config/config.h"

/*
 * Index of the member on call at now, for n members taking turns of rotation_ms each from
 * start_ms: floor((now - start) / rotation) mod n. Before start (or with a rotation <= 0)
 * the first member (0). -1 when n is 0.
 */
int64_t oncall_index(size_t n, int64_t rotation_ms, int64_t start_ms, int64_t now);
/* When the current turn ends (the next handover) at now; TIME_NULL-free: before start it
 * is start_ms, with a rotation <= 0 it is INT64_MAX. */
int64_t oncall_next_handover(int64_t rotation_ms, int64_t start_ms, int64_t now);

/*
 * Who of roster r is on call at now: the member of the last listed override active at now
 * (from <= now < to), else the rotation's (oncall_index). NULL when nobody (no members and
 * no override). *until (may be NULL) gets when that answer next changes (an override's
 * end or start, or the rotation's next hand-over; INT64_MAX: never); *overridden (may be
 * NULL) whether an override decided it.
 */
const char *oncall_who(const struct sw_roster *r, int64_t now, int64_t *until, bool *overridden);

#endif
