/*
 * redact.c - masking the secrets of URLs in messages.
 *
 * DESIGN: one scanner finds the byte ranges of a URL's secrets (the userinfo password and
 * every "password=" value); sw_redact_url() masks those ranges, sw_scrub_secrets() removes
 * their text (raw and percent-decoded) wherever it appears in a message. The scanner is
 * deliberately generous with malformed input: the user part runs to the last '@' of the
 * whole string, so a password a parser would split at '/' or '?' is still caught whole.
 */
#include "util/common.h"
#include "util/redact.h"
#include "util/strbuf.h"

#include <strings.h>

struct span {
	size_t off, len;
};

#define MAX_SPANS 16

static bool key_start(const char *url, size_t i)
{
	return i == 0 || url[i - 1] == '?' || url[i - 1] == '&' || url[i - 1] == ' ' ||
	       url[i - 1] == '\t' || url[i - 1] == '\n' || url[i - 1] == ';';
}

/* The secret ranges of url, in order, not overlapping. */
static size_t find_secrets(const char *url, struct span *sp)
{
	const char *scheme = strstr(url, "://");
	size_t n = 0, len = strlen(url), i;

	if (scheme) {
		const char *user = scheme + 3, *at = strrchr(user, '@'), *colon;
		if (at) {
			colon = memchr(user, ':', (size_t)(at - user));
			if (colon && at > colon + 1) {
				sp[n].off = (size_t)(colon + 1 - url);
				sp[n].len = (size_t)(at - colon - 1);
				n++;
			}
		}
	}
	for (i = 0; i + 9 <= len && n < MAX_SPANS; i++) {
		size_t st, e;
		char q = 0;

		if (strncasecmp(url + i, "password", 8) || !key_start(url, i))
			continue;
		st = i + 8;
		while (url[st] == ' ' || url[st] == '\t')
			st++;
		if (url[st] != '=')
			continue;
		st++;
		while (url[st] == ' ' || url[st] == '\t')
			st++;
		if (url[st] == '\'') {
			q = '\'';
			st++;
		}
		for (e = st; url[e]; e++) {
			if (q && url[e] == '\\' && url[e + 1]) {
				e++;
				continue;
			}
			if (q ? url[e] == q : (url[e] == '&' || url[e] == ' ' || url[e] == '#'))
				break;
		}
		if (e > st && (n == 0 || st >= sp[n - 1].off + sp[n - 1].len)) {
			sp[n].off = st;
			sp[n].len = e - st;
			n++;
		}
		i = e > i ? e - 1 : i;
	}
	return n;
}

char *sw_redact_url(const char *url)
{
	struct span sp[MAX_SPANS];
	struct strbuf sb = STRBUF_INIT;
	size_t n, k, at = 0;

	if (!url)
		return xstrdup("");
	n = find_secrets(url, sp);
	for (k = 0; k < n; k++) {
		strbuf_add(&sb, url + at, sp[k].off - at);
		strbuf_addstr(&sb, "***");
		at = sp[k].off + sp[k].len;
	}
	strbuf_addstr(&sb, url + at);
	return strbuf_detach(&sb, NULL);
}

/* Percent-decode s[0..len) ("+" stays); NULL when nothing was encoded. */
static char *decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	bool changed = false;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hex_digit((unsigned char)s[i + 1]) >= 0 &&
		    hex_digit((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hex_digit((unsigned char)s[i + 1]) * 16 +
			                  hex_digit((unsigned char)s[i + 2]));
			i += 2;
			changed = true;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (!changed || o == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Replace every occurrence of secret in msg with "***", within cap. An empty secret (a
 * password of "%00..." decodes to one) matches nothing: memmem would find it everywhere. */
static void scrub_one(char *msg, size_t cap, const char *secret, size_t slen)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = msg, *hit;
	size_t left = strlen(msg);
	bool any = false;

	if (!slen)
		return;
	while ((hit = memmem(p, left, secret, slen))) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addstr(&sb, "***");
		left -= (size_t)(hit - p) + slen;
		p = hit + slen;
		any = true;
	}
	if (!any) {
		strbuf_release(&sb);
		return;
	}
	strbuf_addstr(&sb, p);
	snprintf(msg, cap, "%s", sb.buf);
	strbuf_release(&sb);
}

void sw_scrub_secrets(const char *url, char *msg, size_t cap)
{
	struct span sp[MAX_SPANS];
	size_t n, k;

	if (!url || !msg || !cap)
		return;
	n = find_secrets(url, sp);
	for (k = 0; k < n; k++) {
		char *dec = decode(url + sp[k].off, sp[k].len);
		/* the longer form first, so a decoded secret inside it is not left half-masked */
		scrub_one(msg, cap, url + sp[k].off, sp[k].len);
		if (dec) {
			scrub_one(msg, cap, dec, strlen(dec));
			free(dec);
		}
	}
}
