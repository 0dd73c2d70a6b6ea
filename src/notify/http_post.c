/*
 * http_post.c - one bounded HTTP POST over libcurl and the meaning of its answer.
 *
 * DESIGN: the body callback keeps at most max_answer bytes and aborts the transfer when more
 * arrive (CURLE_WRITE_ERROR, reported as "answer over N bytes, cut off"), so a 10 MB answer
 * costs 64 KiB of memory and is a retry; CURLOPT_TIMEOUT_MS bounds everything including a
 * slow drip, and CURLOPT_LOW_SPEED_* drops a stalled transfer before that. Redirects are not
 * followed: a 3xx is a misconfigured URL, a permanent failure naming the Location.
 */
#include "util/common.h"
#include "notify/http_post.h"
#include "util/utf8.h"

#include <ctype.h>
#include <pthread.h>
#include <curl/curl.h>

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int http_init_rc;

static void http_init_once(void)
{
	http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int http_global_init(void)
{
	pthread_once(&http_once, http_init_once);
	return http_init_rc;
}

void notify_detail_set(char *dst, size_t n, const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t cut;

	if (!n)
		return;
	strbuf_add_utf8_lossy(&sb, s, len);
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			sb.buf[i] = ' ';
	cut = sb.len < n - 1 ? sb.len : n - 1;
	/* back up to the start of a character */
	while (cut > 0 && cut < sb.len && ((unsigned char)sb.buf[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(dst, sb.buf, cut);
	dst[cut] = '\0';
	strbuf_release(&sb);
}

void http_status_outcome(int status, struct notify_result *out)
{
	out->status = status;
	out->gone = false;
	if (status >= 200 && status <= 299)
		out->outcome = NOTIFY_OK;
	else if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		out->outcome = NOTIFY_RETRY;
	else if (status == 410) {
		out->outcome = NOTIFY_PERMANENT;
		out->gone = true;
	} else if (status >= 300 && status <= 499)
		out->outcome = NOTIFY_PERMANENT;
	else /* 1xx as a final answer, or outside 100..599: a broken server, try again */
		out->outcome = NOTIFY_RETRY;
}

int64_t http_retry_after_parse(const char *v, size_t len, int64_t now_ms)
{
	char buf[64];
	size_t a = 0, b = len;
	int64_t ms;

	while (a < b && (v[a] == ' ' || v[a] == '\t'))
		a++;
	while (b > a &&
	       (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\r' || v[b - 1] == '\n'))
		b--;
	if (a == b)
		return -1;
	if (isdigit((unsigned char)v[a])) {
		int64_t secs = 0;
		for (size_t i = a; i < b; i++) {
			if (!isdigit((unsigned char)v[i]))
				goto date;
			if (secs <= HTTP_RETRY_AFTER_MAX_MS / 1000)
				secs = secs * 10 + (v[i] - '0');
		}
		ms = secs * 1000;
		return ms > HTTP_RETRY_AFTER_MAX_MS ? HTTP_RETRY_AFTER_MAX_MS : ms;
	}
date:
	/* an HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime forms */
	if (b - a >= sizeof(buf) || !isalpha((unsigned char)v[a]))
		return -1;
	memcpy(buf, v + a, b - a);
	buf[b - a] = '\0';
	for (size_t i = 0; buf[i]; i++)
		if (!isalnum((unsigned char)buf[i]) && !strchr(" ,:-", buf[i]))
			return -1;
	{
		time_t t = curl_getdate(buf, NULL);
		if (t == (time_t)-1)
			return -1;
		if ((int64_t)t > INT64_MAX / 1000 - 1)
			return HTTP_RETRY_AFTER_MAX_MS;
		ms = (int64_t)t * 1000 - now_ms;
	}
	if (ms < 0)
		return 0;
	return ms > HTTP_RETRY_AFTER_MAX_MS ? HTTP_RETRY_AFTER_MAX_MS : ms;
}

struct answer {
	struct strbuf body;
	size_t max;
	bool cut;
	int64_t now_ms;
	int64_t retry_after_ms;
	char location[128];
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *data)
{
	struct answer *a = data;
	size_t n = size * nmemb;

	if (a->body.len + n > a->max) {
		strbuf_add(&a->body, p, a->max - a->body.len);
		a->cut = true;
		return 0; /* abort: CURLE_WRITE_ERROR */
	}
	strbuf_add(&a->body, p, n);
	return n;
}

static bool header_is(const char *p, size_t n, const char *name, size_t *vstart)
{
	size_t k = strlen(name);
	if (n <= k || p[k] != ':' || strncasecmp(p, name, k) != 0)
		return false;
	*vstart = k + 1;
	return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *data)
{
	struct answer *a = data;
	size_t n = size * nmemb, v;

	/* a new status line (after 100 Continue): forget the headers of the previous one */
	if (n > 5 && !strncmp(p, "HTTP/", 5)) {
		a->retry_after_ms = 0;
		a->location[0] = '\0';
	} else if (header_is(p, n, "retry-after", &v)) {
		int64_t ms = http_retry_after_parse(p + v, n - v, a->now_ms);
		a->retry_after_ms = ms > 0 ? ms : 0;
	} else if (header_is(p, n, "location", &v)) {
		size_t e = n;
		while (v < e && (p[v] == ' ' || p[v] == '\t'))
			v++;
		while (e > v && isspace((unsigned char)p[e - 1]))
			e--;
		notify_detail_set(a->location, sizeof(a->location), p + v, e - v);
	}
	return n;
}

/* Curl errors that no retry can fix: the request itself is wrong. */
static bool curl_error_permanent(CURLcode cc)
{
	switch (cc) {
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION: return true;
	default: return false;
	}
}

static void set_detail(struct notify_result *out, const char *fmt, ...) SW_PRINTF(2, 3);
static void set_detail(struct notify_result *out, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	notify_detail_set(out->detail, sizeof(out->detail), sb.buf, sb.len);
	strbuf_release(&sb);
}

void http_post(const struct http_post *req, int64_t now_ms, struct notify_result *out,
               struct strbuf *answer)
{
	struct answer a = {STRBUF_INIT, 0, false, now_ms, 0, ""};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL, *h;
	int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : 10000;
	int64_t connect = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 5000;
	char *ct;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;

	memset(out, 0, sizeof(*out));
	a.max = req->max_answer ? req->max_answer : HTTP_POST_MAX_ANSWER;
	if (connect > timeout)
		connect = timeout;
	if (http_global_init() || !(c = curl_easy_init())) {
		out->outcome = NOTIFY_RETRY;
		set_detail(out, "cannot initialise libcurl");
		goto out;
	}
	ct = xasprintf("Content-Type: %s",
	               req->content_type ? req->content_type : "application/json");
	h = curl_slist_append(hdrs, ct);
	free(ct);
	hdrs = h;
	/* no "Expect: 100-continue" round trip for large bodies */
	if (hdrs && (h = curl_slist_append(hdrs, "Expect:")))
		hdrs = h;
	for (size_t i = 0; req->headers && req->headers[i]; i++)
		if (hdrs && (h = curl_slist_append(hdrs, req->headers[i])))
			hdrs = h;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "stepwatch/" SW_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 1L + (long)(timeout / 2000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (a.cut) {
		out->outcome = NOTIFY_RETRY;
		out->status = (int)status;
		set_detail(out, "HTTP %ld: answer over %zu bytes, cut off: %.*s", status, a.max,
		           (int)(a.body.len < 120 ? a.body.len : 120), a.body.buf);
	} else if (cc != CURLE_OK) {
		out->outcome = curl_error_permanent(cc) ? NOTIFY_PERMANENT : NOTIFY_RETRY;
		out->status = (int)status;
		if (cc == CURLE_OPERATION_TIMEDOUT)
			set_detail(out, "timed out after %" PRId64 " ms: %s", timeout,
			           *errbuf ? errbuf : curl_easy_strerror(cc));
		else
			set_detail(out, "%s", *errbuf ? errbuf : curl_easy_strerror(cc));
	} else {
		http_status_outcome((int)status, out);
		if (status >= 300 && status <= 399)
			set_detail(out, "HTTP %ld: redirect to '%s' not followed (fix the URL)",
			           status, a.location);
		else
			set_detail(out, "HTTP %ld: %.*s", status,
			           (int)(a.body.len < 200 ? a.body.len : 200), a.body.buf);
		if (out->outcome == NOTIFY_RETRY)
			out->retry_after_ms = a.retry_after_ms;
	}
	if (answer)
		strbuf_add(answer, a.body.buf, a.body.len);
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	strbuf_release(&a.body);
}

void http_post_json(const char *url, const struct strbuf *body, int64_t now_ms, int64_t timeout_ms,
                    struct notify_result *out)
{
	struct http_post req = {0};
	req.url = url;
	req.body = body->buf;
	req.body_len = body->len;
	req.timeout_ms = timeout_ms;
	http_post(&req, now_ms, out, NULL);
}
