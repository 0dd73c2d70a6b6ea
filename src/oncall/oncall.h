/*
 * oncall.h - roster rotation math: who of a roster is on call at a given time. Pure.
 */
#ifndef SW_ONCALL_H
#define SW_ONCALL_H

#include "util/common.h"

/*
 * Index of the member on call at now, for n members taking turns of rotation_ms each from
 * start_ms: floor((now - start) / rotation) mod n. Before start (or with a rotation <= 0)
 * the first member (0). -1 when n is 0.
 */
int64_t oncall_index(size_t n, int64_t rotation_ms, int64_t start_ms, int64_t now);
/* When the current turn ends (the next handover) at now; TIME_NULL-free: before start it
 * is start_ms, with a rotation <= 0 it is INT64_MAX. */
int64_t oncall_next_handover(int64_t rotation_ms, int64_t start_ms, int64_t now);

#endif
