/*
 * http_post.h - one bounded HTTP POST over libcurl, and what its answer means for a
 * notification (struct notify_result). Used by the webhook, Slack, PagerDuty receivers and
 * by the recovery task.
 *
 * Bounds: total time (connect + send + answer) timeout_ms, connect at most
 * connect_timeout_ms, an answer body of at most max_answer bytes (a larger one is cut off
 * while it arrives, never buffered whole), a transfer slower than 1 byte/s for a second is
 * dropped, no redirect is followed, only http:// and https://.
 *
 * Outcome: 2xx NOTIFY_OK; 408, 429, 5xx, timeouts, connection errors, garbage or cut-off
 * answers NOTIFY_RETRY; 410 NOTIFY_PERMANENT with gone; 3xx (a redirect we do not follow, so
 * a redirect loop costs one request) and every other status NOTIFY_PERMANENT. The detail is
 * the reason plus the start of the answer, valid UTF-8 without control characters.
 *
 * Thread-safe: curl_global_init runs once (pthread_once); every call has its own handle.
 */
#ifndef SW_NOTIFY_HTTP_POST_H
#define SW_NOTIFY_HTTP_POST_H

#include "notify/receiver.h"
#include "util/strbuf.h"

#define HTTP_POST_MAX_ANSWER    (64 * 1024)
#define HTTP_RETRY_AFTER_MAX_MS (3600 * 1000LL)

struct http_post {
	const char *url;
	const char *content_type;   /* NULL: application/json */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
	const char *body;
	size_t body_len;
	int64_t timeout_ms;         /* total; <= 0 means 10 s */
	int64_t connect_timeout_ms; /* <= 0 means min(timeout_ms, 5 s) */
	size_t max_answer;          /* 0 means HTTP_POST_MAX_ANSWER */
};

/*
 * POST req; fill *out (outcome, status, retry_after_ms, gone, detail). now_ms is the wall
 * clock used to turn a Retry-After date into a delay. When answer is not NULL the start of
 * the answer body (up to max_answer bytes) is appended to it.
 */
void http_post(const struct http_post *req, int64_t now_ms, struct notify_result *out,
               struct strbuf *answer);

/* POST the JSON body to url with no extra headers and default limits (Slack, PagerDuty). */
void http_post_json(const char *url, const struct strbuf *body, int64_t now_ms, int64_t timeout_ms,
                    struct notify_result *out);

/* The outcome of an HTTP status (100..599) as described above; sets out->outcome,
 * out->status and out->gone, leaves the rest. */
void http_status_outcome(int status, struct notify_result *out);

/*
 * A Retry-After value (RFC 9110 10.2.3): delay-seconds or an HTTP-date, surrounding blanks
 * allowed. Returns the delay in ms from now_ms clamped to [0, HTTP_RETRY_AFTER_MAX_MS], or -1
 * when v is neither form.
 */
int64_t http_retry_after_parse(const char *v, size_t len, int64_t now_ms);

/* Make libcurl ready (once per process; thread-safe). Returns 0 or -1. */
int http_global_init(void);

/* Write s[0..len) into dst (size n) as notify_result.detail wants it: invalid UTF-8 as
 * U+FFFD, control characters (CR, LF, tab, ...) as spaces, cut at a character boundary. */
void notify_detail_set(char *dst, size_t n, const char *s, size_t len);

#endif
