/*
 * query.c - query-string parsing and the list parameters (limit, cursor).
 *
 * DESIGN: the HTTP layer hands over the raw query string exactly as the client sent it
 * (libmicrohttpd's own decoding is bypassed), so this file is the one place that decodes
 * query strings and the fuzz harness tests exactly what production runs. Names given
 * twice are an error rather than "last wins", so a filter can never be silently ignored.
 * The parsed names and values live in the request's arena: nothing to free one by one.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/query.h"

/* Whether s[0..n) is valid UTF-8 (shortest forms, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], cp;
		size_t len;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xC2 || c > 0xF4)
			return false;
		len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (len > n - i)
			return false;
		cp = c & (0xFFu >> (len + 1));
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* Percent-decode s[0..len) into out (len + 1 bytes); its length, or -1 on a bad escape, a
 * decoded NUL byte or a result that is not UTF-8. */
static ptrdiff_t unescape_into(char *out, const char *s, size_t len, bool plus_space)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hex_digit((unsigned char)s[i + 1]);
			lo = hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	/* every value ends up in JSON or in a store parameter, where PostgreSQL refuses
	 * invalid UTF-8: refuse it here, the same on every store */
	if (!utf8_valid((const unsigned char *)out, o))
		return -1;
	return (ptrdiff_t)o;
}

char *query_unescape(const char *s, size_t len, bool plus_space)
{
	char *out = xmalloc(len + 1);
	if (unescape_into(out, s, len, plus_space) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* query_unescape into the arena. */
static char *unescape_in(struct arena *a, const char *s, size_t len, bool plus_space)
{
	char *out = arena_alloc(a, len + 1);
	return unescape_into(out, s, len, plus_space) < 0 ? NULL : out;
}

/* Quote at most 64 bytes of a client-given name in messages, never half a character (the
 * names are valid UTF-8: query_unescape() checked them). */
static int shown(const char *s)
{
	size_t n = strlen(s);
	if (n <= 64)
		return (int)n;
	n = 64;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

int query_parse(struct query *q, struct arena *a, const char *s, size_t len, struct sw_err *err)
{
	size_t i = 0, pieces = 0;
	if (len > QUERY_MAX_LEN)
		return sw_err_set(err, "query string longer than %d bytes", QUERY_MAX_LEN);
	while (i < len) {
		size_t end = i, eq;
		const char *key, *val;
		while (end < len && s[end] != '&')
			end++;
		/* empty pieces ("a=1&&b=2") count too, so "&&&...&" is refused early */
		if (++pieces > QUERY_MAX_PIECES)
			return sw_err_set(err, "too many query parameters (at most %d)",
			                  QUERY_MAX_PARAMS);
		if (end == i) {
			i++;
			continue;
		}
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (eq == i)
			return sw_err_set(err, "empty query parameter name");
		if (q->n >= QUERY_MAX_PARAMS)
			return sw_err_set(err, "too many query parameters (at most %d)",
			                  QUERY_MAX_PARAMS);
		key = unescape_in(a, s + i, eq - i, true);
		if (!key)
			return sw_err_set(err,
			                  "bad percent-escape or invalid UTF-8 in query string");
		val = eq < end ? unescape_in(a, s + eq + 1, end - eq - 1, true) : "";
		if (!val)
			return sw_err_set(err,
			                  "bad percent-escape or invalid UTF-8 in query parameter "
			                  "'%.*s'",
			                  shown(key), key);
		if (query_get(q, key))
			return sw_err_set(err, "query parameter '%.*s' given twice", shown(key),
			                  key);
		if (q->n == q->alloc) {
			size_t alloc = q->alloc ? 2 * q->alloc : 8;
			struct query_param *v = arena_alloc(a, alloc * sizeof(*v));
			if (q->n)
				memcpy(v, q->v, q->n * sizeof(*v));
			q->v = v;
			q->alloc = alloc;
		}
		q->v[q->n].key = key;
		q->v[q->n].value = val;
		q->n++;
		i = end + 1;
	}
	return 0;
}

const char *query_get(const struct query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->v[i].key, key))
			return q->v[i].value;
	return NULL;
}

static bool word_in(const char *list, const char *w)
{
	size_t wl = strlen(w);
	const char *p = list;
	if (!list || !wl)
		return false;
	while (*p) {
		size_t l;
		while (*p == ' ')
			p++;
		l = strcspn(p, " ");
		if (l == wl && !memcmp(p, w, l))
			return true;
		p += l;
	}
	return false;
}

int query_check_allowed(const struct query *q, const char *allowed, struct sw_err *err)
{
	for (size_t i = 0; i < q->n; i++)
		if (!word_in(allowed, q->v[i].key))
			return sw_err_set(err, "unknown query parameter '%.*s'", shown(q->v[i].key),
			                  q->v[i].key);
	return 0;
}

/* Strict decimal: optional '-', digits only, in range. */
int query_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0, lim;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!*p || strlen(p) > 19)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (v > lim)
		return -1;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	if (*out < min || *out > max)
		return -1;
	return 0;
}

int query_limit(const struct query *q, size_t *limit, struct sw_err *err)
{
	const char *s = query_get(q, "limit");
	int64_t v;
	if (!s) {
		*limit = QUERY_LIMIT_DEFAULT;
		return 0;
	}
	if (query_parse_int64(s, 1, QUERY_LIMIT_MAX, &v))
		return sw_err_set(err, "limit must be 1..%d", QUERY_LIMIT_MAX);
	*limit = (size_t)v;
	return 0;
}

int query_cursor(const struct query *q, int64_t *id, struct sw_err *err)
{
	const char *s = query_get(q, "cursor");
	*id = 0;
	if (!s)
		return 0;
	if (query_cursor_decode(s, id))
		return sw_err_set(err, "invalid cursor");
	return 0;
}

int query_bool(const struct query *q, const char *key, bool *out, struct sw_err *err)
{
	const char *s = query_get(q, key);
	if (!s)
		return 0;
	if (!strcmp(s, "true") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0"))
		*out = false;
	else
		return sw_err_set(err, "%s must be true or false", key);
	return 0;
}

int query_time(const struct query *q, const char *key, int64_t *out, struct sw_err *err)
{
	const char *s = query_get(q, key);
	int64_t ms;
	if (!s)
		return 0;
	if (time_parse(s, &ms))
		return sw_err_set(err, "%s must be an RFC 3339 time", key);
	*out = ms;
	return 0;
}

int query_int64(const struct query *q, const char *key, int64_t min, int64_t max, int64_t *out,
                struct sw_err *err)
{
	const char *s = query_get(q, key);
	if (!s)
		return 0;
	if (query_parse_int64(s, min, max, out))
		return sw_err_set(err, "%s must be an integer %" PRId64 "..%" PRId64, key, min,
		                  max);
	return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *query_cursor_encode(struct arena *a, int64_t id)
{
	char dec[24], *out;
	size_t n = (size_t)snprintf(dec, sizeof(dec), "%" PRId64, id), o = 0;
	out = arena_alloc(a, n * 4 / 3 + 4);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)dec[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)dec[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)dec[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = b64url[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return out;
}

int query_cursor_decode(const char *s, int64_t *id)
{
	char dec[32];
	size_t n = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	int64_t v;
	if (n == 0 || n > 27 || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = memchr(b64url, s[i], 64);
		if (!p || !s[i])
			return -1;
		acc = acc << 6 | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dec[o] = (char)(acc >> bits & 0xff);
			if (dec[o] < '0' || dec[o] > '9')
				return -1;
			o++;
		}
	}
	if (acc & ((1u << bits) - 1))
		return -1; /* non-canonical trailing bits */
	dec[o] = '\0';
	if (dec[0] == '0' || query_parse_int64(dec, 1, INT64_MAX, &v))
		return -1;
	*id = v;
	return 0;
}
