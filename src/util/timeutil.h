/*
 * timeutil.h - wall-clock time as int64 milliseconds since the Unix epoch (UTC), the one
 * time representation inside stepwatch, and its text forms.
 *
 * The clock is injected: tasks take a struct sw_clock so tests drive time instead of
 * sleeping. TIME_NULL marks "no time" (a NULL column).
 */
#ifndef SW_TIMEUTIL_H
#define SW_TIMEUTIL_H

#include "util/common.h"

#define TIME_NULL INT64_MIN

struct sw_clock {
	int64_t (*now_ms)(const struct sw_clock *c);
	void *data;
};

/* The real clock (CLOCK_REALTIME). */
extern const struct sw_clock clock_system;
/* A clock tests set by hand: data points to an int64_t holding the time. */
int64_t clock_manual_now(const struct sw_clock *c);
static inline int64_t clock_now(const struct sw_clock *c)
{
	return c->now_ms(c);
}

int64_t time_now_ms(void);
/* Monotonic milliseconds, for timeouts and measuring. */
int64_t time_mono_ms(void);

/* "2026-11-21T09:57:05.123Z"; whole seconds print without the fraction. Returns buf. */
char *time_format_rfc3339(int64_t ms, char *buf, size_t n);

/*
 * Parse a timestamp as the sources and the API send them: ISO 8601 / RFC 3339 with 'T' or
 * ' ' between date and time, optional fraction (any digits; kept to milliseconds), optional
 * 'Z' or +hh, +hhmm, +hh:mm offset (none means UTC); a bare date "2026-11-21"; or Unix epoch
 * seconds as an integer or decimal ("1763719025", "1763719025.5").
 * Returns 0, or -1 when s is not one of these (trailing garbage included).
 */
int time_parse(const char *s, int64_t *ms);

/*
 * The textual style of a source's timestamps, learned from the values it returns, so a
 * bound parameter (":since") compares correctly with the column in SQLite, where times
 * are text or numbers compared as such.
 */
struct time_style {
	unsigned numeric : 1; /* epoch seconds */
	unsigned t_sep : 1;   /* 'T' between date and time, else ' ' */
	unsigned zulu : 1;    /* trailing 'Z' */
	unsigned offset : 1;  /* trailing "+00:00" */
	unsigned frac : 4;    /* digits of fraction, 0..9 */
};
/* Learn the style of one value; returns 0, or -1 if it does not parse. */
int time_style_of(const char *s, struct time_style *st);
/* Format ms in that style. */
char *time_format_style(int64_t ms, const struct time_style *st, char *buf, size_t n);

#endif
