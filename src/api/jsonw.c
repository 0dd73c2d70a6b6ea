/*
 * jsonw.c - the JSON writer of jsonw.h.
 *
 * DESIGN: the alert list used to build a jansson tree per alert (a dozen allocations per
 * object plus one per string), dump it to a new string and copy that into the response;
 * with the store's own copies that was a third of the time of GET /api/v1/alerts. Here each
 * value is written once, into the response buffer, after one strbuf_grow for its worst
 * case: strings copy their plain runs with memcpy, times are formatted by hand (days to
 * civil date, Howard Hinnant's algorithm) instead of through snprintf. Labels take a fast
 * path when the stored text is a flat object of plain string values with distinct keys
 * (what the store writes); anything else goes through jansson as before, so the output is
 * the same either way. tests/unit/test_api_jsonw.c checks it against jansson.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/jsonw.h"
#include "util/utf8.h"
#include "api/handlers-int.h"
#include <jansson.h>

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

/* ---- labels ---------------------------------------------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A plain string at p ('"' included): no escapes, no control bytes, valid UTF-8. Returns
 * the byte after its closing quote and sets *s, *n to its contents; NULL when not plain. */
static const char *plain_string(const char *p, const char **s, size_t *n)
{
	const unsigned char *q;
	if (*p != '"')
		return NULL;
	q = (const unsigned char *)++p;
	for (;;) {
		if (*q == '"')
			break;
		if (*q < 0x20 || *q == '\\')
			return NULL; /* escapes, controls and the end of the text */
		if (*q < 0x80) {
			q++;
		} else {
			size_t l = utf8_len(q, strnlen((const char *)q, 4));
			if (!l)
				return NULL;
			q += l;
		}
	}
	*s = p;
	*n = (size_t)((const char *)q - p);
	return (const char *)q + 1;
}

enum {
	LABELS_FAST_MAX = 32
};

/* The fast path: true when it wrote the labels. */
static bool labels_fast(struct strbuf *sb, const char *text)
{
	const char *keys[LABELS_FAST_MAX];
	size_t klen[LABELS_FAST_MAX], nk = 0, start = sb->len;
	const char *p = skip_ws(text), *s;
	size_t n;
	if (*p++ != '{')
		return false;
	strbuf_addch(sb, '{');
	p = skip_ws(p);
	if (*p == '}')
		goto done;
	for (;;) {
		if (nk == LABELS_FAST_MAX || !(p = plain_string(p, &s, &n)))
			goto no;
		for (size_t i = 0; i < nk; i++)
			if (klen[i] == n && !memcmp(keys[i], s, n))
				goto no; /* duplicate key: jansson's rules apply */
		keys[nk] = s;
		klen[nk++] = n;
		if (nk > 1)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, '"');
		strbuf_add(sb, s, n);
		strbuf_add(sb, "\":\"", 3);
		p = skip_ws(p);
		if (*p++ != ':')
			goto no;
		p = skip_ws(p);
		if (!(p = plain_string(p, &s, &n)))
			goto no; /* not a string (or not plain): jansson decides */
		strbuf_add(sb, s, n);
		strbuf_addch(sb, '"');
		p = skip_ws(p);
		if (*p == '}')
			break;
		if (*p++ != ',')
			goto no;
		p = skip_ws(p);
	}
done:
	if (*skip_ws(p + 1))
		goto no;
	strbuf_addch(sb, '}');
	return true;
no:
	sb->len = start;
	sb->buf[start] = '\0';
	return false;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	strbuf_add(data, buf, size);
	return 0;
}

void jw_labels(struct strbuf *sb, const char *labels_json)
{
	json_t *o;
	if (labels_json && labels_fast(sb, labels_json))
		return;
	o = api_labels_json(labels_json);
	json_dump_callback(o, dump_cb, sb, JSON_COMPACT);
	json_decref(o);
}

/* ---- alerts ---------------------------------------------------------------------------- */

/* A constant: its length is known at compile time. */
#define key(sb, k) strbuf_add(sb, k, sizeof(k) - 1)

static void state(struct strbuf *sb, int s)
{
	if (s < 0 || s >= ALERT_STATE_COUNT) {
		strbuf_add(sb, "null", 4);
		return;
	}
	strbuf_addch(sb, '"');
	strbuf_addstr(sb, alert_state_name((enum alert_state)s));
	strbuf_addch(sb, '"');
}

static void id_or_null(struct strbuf *sb, int64_t id)
{
	if (id > 0)
		jw_int(sb, id);
	else
		strbuf_add(sb, "null", 4);
}

void jw_alert_open(struct strbuf *sb, const struct alert *a)
{
	strbuf_grow(sb, 640);
	key(sb, "{\"id\":");
	jw_int(sb, a->id);
	key(sb, ",\"rule\":");
	jw_str(sb, a->rule);
	key(sb, ",\"workflow\":");
	jw_str(sb, a->workflow);
	key(sb, ",\"step\":");
	jw_str(sb, a->step);
	key(sb, ",\"instance_id\":");
	jw_str(sb, a->instance_id);
	key(sb, ",\"user_id\":");
	jw_str(sb, a->user_id);
	key(sb, ",\"state\":");
	state(sb, a->state);
	key(sb, ",\"error\":");
	jw_str(sb, a->error);
	key(sb, ",\"labels\":");
	jw_labels(sb, a->labels_json);
	key(sb, ",\"occurred_at\":");
	jw_time(sb, a->occurred_at);
	key(sb, ",\"opened_at\":");
	jw_time(sb, a->opened_at);
	key(sb, ",\"updated_at\":");
	jw_time(sb, a->updated_at);
	key(sb, ",\"next_escalation_at\":");
	jw_time(sb, a->next_escalation_at);
	key(sb, ",\"acked_by\":");
	jw_str(sb, a->acked_by);
	key(sb, ",\"acked_at\":");
	jw_time(sb, a->acked_at);
	key(sb, ",\"resolved_at\":");
	jw_time(sb, a->resolved_at);
	key(sb, ",\"resolved_by\":");
	jw_str(sb, a->resolved_by);
	key(sb, ",\"incident_id\":");
	id_or_null(sb, a->incident_id);
	key(sb, ",\"reopen_of\":");
	id_or_null(sb, a->reopen_of);
}

void jw_alert_event(struct strbuf *sb, const struct alert_event *e)
{
	key(sb, "{\"at\":");
	jw_time(sb, e->at);
	key(sb, ",\"actor\":");
	jw_str(sb, e->actor ? e->actor : "");
	key(sb, ",\"event\":");
	jw_str(sb, e->event ? e->event : "");
	key(sb, ",\"from\":");
	state(sb, e->from_state);
	key(sb, ",\"to\":");
	state(sb, e->to_state);
	key(sb, ",\"reason\":");
	jw_str(sb, e->reason);
	strbuf_addch(sb, '}');
}
