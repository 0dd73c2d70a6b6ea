/*
 * jsonw.c - the JSON writer of jsonw.h.
 *
 * DESIGN: the alert list used to build a jansson tree per alert (a dozen allocations per
 * object plus one per string), dump it to a new string and copy that into the response;
 * with the store's own copies that was a third of the time of GET /api/v1/alerts. Here each
 * value is written once, into the response buffer, after one strbuf_grow for its worst
 * case: strings copy their plain runs with memcpy, times are formatted by hand (days to
 * civil date, Howard Hinnant's algorithm) instead of through snprintf. The forms built from
 * these values (alerts, labels) are in forms.c. tests/unit/test_api_jsonw.c checks the output
 * against jansson.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/jsonw.h"
#include "util/utf8.h"

static char *reserve(struct strbuf *sb, size_t n)
{
	strbuf_grow(sb, n);
	return sb->buf + sb->len;
}

static void commit(struct strbuf *sb, char *end)
{
	sb->len = (size_t)(end - sb->buf);
	sb->buf[sb->len] = '\0';
}

/* Bytes that need nothing: printable ASCII but '"' and '\\'. */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void str_n(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *o = reserve(sb, 6 * n + 2);
	*o++ = '"';
	while (p < end) {
		const unsigned char *run = p;
		size_t l;
		while (p < end && plain(*p))
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
		switch (*p) {
		case '"': *o++ = '\\', *o++ = '"'; break;
		case '\\': *o++ = '\\', *o++ = '\\'; break;
		case '\b': *o++ = '\\', *o++ = 'b'; break;
		case '\f': *o++ = '\\', *o++ = 'f'; break;
		case '\n': *o++ = '\\', *o++ = 'n'; break;
		case '\r': *o++ = '\\', *o++ = 'r'; break;
		case '\t': *o++ = '\\', *o++ = 't'; break;
		default:
			if (*p < 0x20) {
				memcpy(o, "\\u00", 4);
				o[4] = hex[*p >> 4];
				o[5] = hex[*p & 15];
				o += 6;
				break;
			}
			l = utf8_len(p, (size_t)(end - p));
			if (l) {
				memcpy(o, p, l);
				o += l;
				p += l - 1;
			} else { /* U+FFFD */
				memcpy(o, "\xEF\xBF\xBD", 3);
				o += 3;
			}
		}
		p++;
	}
	*o++ = '"';
	commit(sb, o);
}

char *jw_utf8_dup(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_utf8_lossy(&sb, s, strlen(s));
	return strbuf_detach(&sb, NULL);
}

void jw_str(struct strbuf *sb, const char *s)
{
	if (!s)
		strbuf_add(sb, "null", 4);
	else
		str_n(sb, s, strlen(s));
}

static char *put_int(char *o, int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (v < 0)
		*o++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*o++ = tmp[--n];
	return o;
}

void jw_int(struct strbuf *sb, int64_t v)
{
	commit(sb, put_int(reserve(sb, 24), v));
}

static char *put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
}

/* Year 10000 starts at this epoch ms. */
#define MS_Y10K INT64_C(253402300800000)

void jw_time(struct strbuf *sb, int64_t ms)
{
	char *o;
	int64_t days, z, era, doe, yoe, y, doy, mp, rem;
	unsigned d, m, f;
	if (ms == TIME_NULL) {
		strbuf_add(sb, "null", 4);
		return;
	}
	if (ms < 0 || ms >= MS_Y10K) { /* rare: the general formatter */
		char b[48];
		str_n(sb, b, strlen(time_format_rfc3339(ms, b, sizeof(b))));
		return;
	}
	days = ms / 86400000;
	rem = ms % 86400000;
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	f = (unsigned)(rem % 1000);
	rem /= 1000;
	o = reserve(sb, 32);
	*o++ = '"';
	o = put2(o, (unsigned)(y / 100));
	o = put2(o, (unsigned)(y % 100));
	*o++ = '-';
	o = put2(o, m);
	*o++ = '-';
	o = put2(o, d);
	*o++ = 'T';
	o = put2(o, (unsigned)(rem / 3600));
	*o++ = ':';
	o = put2(o, (unsigned)(rem / 60 % 60));
	*o++ = ':';
	o = put2(o, (unsigned)(rem % 60));
	if (f) {
		*o++ = '.';
		*o++ = (char)('0' + f / 100);
		o = put2(o, f % 100);
	}
	*o++ = 'Z';
	*o++ = '"';
	commit(sb, o);
}
