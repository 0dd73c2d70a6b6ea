/*
 * duration.h - "500ms", "30s", "15m", "4h", "7d", "1w" and combinations ("1h30m") as
 * int64 milliseconds. Pure; no I/O.
 */
#ifndef SW_DURATION_H
#define SW_DURATION_H

#include "util/common.h"

/* Parse s; 0 and *ms set, or -1 with a reason ("unknown unit 'x'") in why (may be NULL).
 * Rejects empty strings, signs, missing units, units out of order or repeated, overflow. */
int duration_parse(const char *s, int64_t *ms, char *why, size_t whylen);
/* Shortest exact form: 5400000 -> "1h30m", 0 -> "0s". Returns buf. */
char *duration_format(int64_t ms, char *buf, size_t n);

#endif
