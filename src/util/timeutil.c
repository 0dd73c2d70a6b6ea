/*
 * timeutil.c - epoch-millisecond time, RFC 3339 formatting and tolerant ISO 8601 parsing.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include <ctype.h>

static int64_t system_now(const struct sw_clock *c)
{
	(void)c;
	return time_now_ms();
}

const struct sw_clock clock_system = {system_now, NULL};

int64_t clock_manual_now(const struct sw_clock *c)
{
	return *(const int64_t *)c->data;
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

static void split(int64_t ms, int64_t *y, unsigned *mo, unsigned *d, int *h, int *mi, int *s,
                  int *frac)
{
	int64_t days = floor_div(ms, 86400000);
	int64_t rem = ms - days * 86400000;
	civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600000);
	*mi = (int)(rem / 60000 % 60);
	*s = (int)(rem / 1000 % 60);
	*frac = (int)(rem % 1000);
}

char *time_format_rfc3339(int64_t ms, char *buf, size_t n)
{
	int64_t y;
	unsigned mo, d;
	int h, mi, s, f;
	split(ms, &y, &mo, &d, &h, &mi, &s, &f);
	if (f)
		snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s,
		         f);
	else
		snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
	return buf;
}

char *time_format_style(int64_t ms, const struct time_style *st, char *buf, size_t n)
{
	int64_t y;
	unsigned mo, d;
	int h, mi, s, f, len;
	if (st->numeric) {
		if (st->frac)
			snprintf(buf, n, "%.3f", (double)ms / 1000.0);
		else
			snprintf(buf, n, "%" PRId64, floor_div(ms, 1000));
		return buf;
	}
	split(ms, &y, &mo, &d, &h, &mi, &s, &f);
	len = snprintf(buf, n, "%04" PRId64 "-%02u-%02u%c%02d:%02d:%02d", y, mo, d,
	               st->t_sep ? 'T' : ' ', h, mi, s);
	if (len < 0 || (size_t)len >= n)
		return buf;
	if (st->frac) {
		char fr[16];
		unsigned digits = st->frac;
		snprintf(fr, sizeof(fr), "%03d000000", f);
		fr[digits] = '\0';
		len += snprintf(buf + len, n - (size_t)len, ".%s", fr);
	}
	if (len > 0 && (size_t)len < n) {
		if (st->zulu)
			snprintf(buf + len, n - (size_t)len, "Z");
		else if (st->offset)
			snprintf(buf + len, n - (size_t)len, "+00:00");
	}
	return buf;
}

static int digits(const char **p, int count, int *out)
{
	int v = 0;
	for (int i = 0; i < count; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += count;
	*out = v;
	return 0;
}

static int parse_epoch(const char *s, int64_t *ms, struct time_style *st)
{
	const char *p = s;
	int64_t sec = 0, fr = 0, scale = 1000;
	int neg = 0, nd = 0, nf = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; isdigit((unsigned char)*p); p++, nd++) {
		if (nd > 13)
			return -1;
		sec = sec * 10 + (*p - '0');
	}
	if (!nd)
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nf++) {
			if (scale > 1) {
				scale /= 10;
				fr += (*p - '0') * scale;
			}
		}
	}
	if (*p)
		return -1;
	if (st) {
		memset(st, 0, sizeof(*st));
		st->numeric = 1;
		st->frac = nf > 9 ? 9 : (unsigned)nf;
	}
	*ms = (neg ? -1 : 1) * (sec * 1000 + fr);
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

static int parse_iso(const char *s, int64_t *ms, struct time_style *st)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, nf = 0, off_min = 0;
	int64_t frac_ms = 0, scale = 100;
	struct time_style style = {0};

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		style.t_sep = *p != ' ';
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
		}
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			for (; isdigit((unsigned char)*p); p++, nf++) {
				frac_ms += (*p - '0') * scale;
				scale /= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		while (*p == ' ')
			p++;
		if (*p == 'Z' || *p == 'z') {
			style.zulu = 1;
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om = 0;
			p++;
			if (digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
			off_min = sign * (oh * 60 + om);
			style.offset = 1;
		}
	}
	if (*p)
		return -1;
	style.frac = nf > 9 ? 9 : (unsigned)nf;
	if (st)
		*st = style;
	*ms = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
	       (int64_t)off_min * 60) *
	          1000 +
	      frac_ms;
	return 0;
}

int time_parse(const char *s, int64_t *ms)
{
	if (!s || !*s)
		return -1;
	if (strlen(s) >= 10 && s[4] == '-')
		return parse_iso(s, ms, NULL);
	return parse_epoch(s, ms, NULL);
}

int time_style_of(const char *s, struct time_style *st)
{
	int64_t ms;
	if (!s || !*s)
		return -1;
	if (strlen(s) >= 10 && s[4] == '-')
		return parse_iso(s, &ms, st);
	return parse_epoch(s, &ms, st);
}
