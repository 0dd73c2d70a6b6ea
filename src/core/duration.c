/*
 * duration.c - duration parsing and formatting.
 */
#include "util/common.h"
#include "core/duration.h"
#include <ctype.h>

/* 100 years: far beyond any SLA or interval, and far from INT64_MAX when added to a time */
#define DURATION_MAX_MS (5200LL * 7 * 86400000)

static const struct unit {
	const char *name;
	int64_t ms;
} units[] = {
    {"w", 7LL * 86400000}, {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
};

int duration_parse(const char *s, int64_t *ms, char *why, size_t whylen)
{
	const char *p = s;
	int64_t total = 0;
	int last_unit = -1;
	char dummy[8];

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (!s || !*s) {
		snprintf(why, whylen, "empty duration");
		return -1;
	}
	while (*p) {
		int64_t v = 0;
		int nd = 0, u = -1;
		size_t ul = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > (INT64_MAX - 9) / 10) {
				snprintf(why, whylen, "duration too large");
				return -1;
			}
			v = v * 10 + (*p++ - '0');
			nd++;
		}
		if (!nd) {
			snprintf(why, whylen, "expected a number at '%.16s'", p);
			return -1;
		}
		if (*p == '.' || *p == ',') {
			snprintf(why, whylen, "fractions are not allowed (write 1h30m, not 1.5h)");
			return -1;
		}
		while (isalpha((unsigned char)p[ul]))
			ul++;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (strlen(units[i].name) == ul && !strncmp(p, units[i].name, ul))
				u = (int)i;
		if (u < 0) {
			if (!ul)
				snprintf(why, whylen,
				         "missing unit after '%" PRId64
				         "' (use ms, s, m, h, d or w)",
				         v);
			else
				snprintf(why, whylen,
				         "unknown unit '%.*s' (use ms, s, m, h, d or w)",
				         (int)(ul > 8 ? 8 : ul), p);
			return -1;
		}
		if (u <= last_unit) {
			snprintf(why, whylen, "units must go from largest to smallest, once each");
			return -1;
		}
		last_unit = u;
		if (v > (INT64_MAX - total) / units[u].ms) {
			snprintf(why, whylen, "duration too large");
			return -1;
		}
		total += v * units[u].ms;
		p += ul;
	}
	if (total > DURATION_MAX_MS) {
		/* bounded so that time + duration never overflows an int64 of milliseconds */
		snprintf(why, whylen, "duration too large (at most 5200w, 100 years)");
		return -1;
	}
	*ms = total;
	return 0;
}

char *duration_format(int64_t ms, char *buf, size_t n)
{
	size_t len = 0;
	if (n)
		buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, n, "%s", ms == 0 ? "0s" : "-");
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units) && len < n; i++) {
		int64_t q = ms / units[i].ms;
		if (!q)
			continue;
		int k = snprintf(buf + len, n - len, "%" PRId64 "%s", q, units[i].name);
		if (k < 0)
			break;
		len += (size_t)k;
		ms -= q * units[i].ms;
	}
	return buf;
}
