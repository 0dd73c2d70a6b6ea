/*
 * email.c - the e-mail receiver: one RFC 5322 message over SMTP with libcurl.
 *
 * smtp:// requires STARTTLS (CURLUSESSL_ALL: a server that does not offer it is refused
 * before any mail is sent); smtps:// is TLS from the first byte. `starttls: false` turns
 * the requirement off, and config_load() allows it only for an SMTP server on a loopback
 * address (a local relay, or a test sink).
 *
 * The message: From, To, Subject (RFC 2047 encoded when not ASCII), Date (RFC 5322 form, UTC),
 * Message-ID <key@domain-of-From> (the same for every attempt of one message, so a mail
 * system can drop a duplicate), MIME-Version, text/plain UTF-8 (7bit when ASCII, base64
 * otherwise), Auto-Submitted: auto-generated. Replies: 2xx ok, 4xx retry, 5xx permanent.
 */
#include "util/common.h"
#include "notify/receiver-int.h"
#include "notify/http_post.h"
#include "util/base64.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <ctype.h>
#include <curl/curl.h>

enum notify_outcome email_code_outcome(int code)
{
	if (code >= 200 && code <= 399)
		return NOTIFY_OK;
	if (code >= 500 && code <= 599)
		return NOTIFY_PERMANENT;
	return NOTIFY_RETRY;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* A header value: one line, no control characters; RFC 2047 B-encoded words when not
 * ASCII (each encoded word at most 75 characters, split on character boundaries). */
static void add_header_text(struct strbuf *sb, const char *s)
{
	struct strbuf v = STRBUF_INIT;

	strbuf_add_utf8_lossy(&v, s, strlen(s));
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.buf[i] < 0x20 || v.buf[i] == 0x7f)
			v.buf[i] = ' ';
	if (is_ascii(v.buf, v.len)) {
		strbuf_add(sb, v.buf, v.len);
	} else {
		size_t i = 0;
		while (i < v.len) {
			/* 45 bytes -> 60 base64 characters, + 12 for =?UTF-8?B?...?= */
			size_t n = v.len - i < 45 ? v.len - i : 45;
			while (i + n < v.len && n > 0 &&
			       ((unsigned char)v.buf[i + n] & 0xc0) == 0x80)
				n--;
			if (i)
				strbuf_addstr(sb, "\r\n ");
			strbuf_addstr(sb, "=?UTF-8?B?");
			base64_encode(sb, v.buf + i, n);
			strbuf_addstr(sb, "?=");
			i += n;
		}
	}
	strbuf_release(&v);
}

/* An address header value: a non-ASCII display name is encoded, the <addr-spec> never. */
static void add_address(struct strbuf *sb, const char *s)
{
	const char *lt = strrchr(s, '<');
	char *name;
	size_t n;

	if (!lt || is_ascii(s, strlen(s))) {
		add_header_text(sb, s);
		return;
	}
	n = (size_t)(lt - s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	name = xstrndup(s, n);
	add_header_text(sb, name);
	strbuf_addch(sb, ' ');
	add_header_text(sb, lt);
	free(name);
}

/* The addr-spec of "Name <a@b>" or "a@b", without control characters. Caller frees. */
static char *addr_spec(const char *s)
{
	const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *a = lt && gt ? xstrndup(lt + 1, (size_t)(gt - lt - 1)) : xstrdup(s);

	for (char *p = a; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ')
			*p = '_';
	return a;
}

/* msg-id: the key with characters outside dot-atom-text replaced */
static void add_msgid(struct strbuf *sb, const char *key, const char *host)
{
	strbuf_addch(sb, '<');
	for (const char *p = key; *p; p++) {
		unsigned char c = (unsigned char)*p;
		strbuf_addch(
		    sb, (c < 0x80 && (isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c))) ? c : '_');
	}
	strbuf_addf(sb, "@%s>", host);
}

static void rfc5322_date(int64_t ms, char *buf, size_t n)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* the text body with CRLF line ends */
static void add_body_text(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\r')
			continue;
		if (*s == '\n')
			strbuf_addstr(sb, "\r\n");
		else
			strbuf_addch(sb, *s);
	}
}

void email_message(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                   const char *host, struct strbuf *sb)
{
	struct strbuf head = STRBUF_INIT, text = STRBUF_INIT, clean = STRBUF_INIT;
	char date[64];

	rcv_headline(m, &head);
	rcv_details(m, &text);
	strbuf_addf(&text, "\n-- \nstepwatch, incident key %s\n", m->dedup_key ? m->dedup_key : "");
	strbuf_add_utf8_lossy(&clean, text.buf, text.len);

	strbuf_addstr(sb, "From: ");
	add_address(sb, rc->from ? rc->from : "stepwatch@localhost");
	strbuf_addstr(sb, "\r\nTo: ");
	for (size_t i = 0; i < rc->n_to; i++) {
		if (i)
			strbuf_addstr(sb, ",\r\n ");
		add_address(sb, rc->to[i]);
	}
	strbuf_addstr(sb, "\r\nSubject: ");
	add_header_text(sb, head.buf);
	rfc5322_date(now_ms, date, sizeof(date));
	strbuf_addf(sb, "\r\nDate: %s\r\nMessage-ID: ", date);
	add_msgid(sb, m->key, host);
	strbuf_addstr(sb, "\r\nMIME-Version: 1.0\r\n"
	                  "Content-Type: text/plain; charset=UTF-8\r\n");
	if (is_ascii(clean.buf, clean.len)) {
		strbuf_addstr(sb, "Content-Transfer-Encoding: 7bit\r\n");
	} else {
		strbuf_addstr(sb, "Content-Transfer-Encoding: base64\r\n");
	}
	strbuf_addstr(sb, "Auto-Submitted: auto-generated\r\n");
	strbuf_addf(sb, "X-Stepwatch-Incident: %" PRId64 "\r\n", m->incident_id);
	strbuf_addf(sb, "X-Stepwatch-Event: %s\r\n\r\n", notify_event_name(m->event));
	if (is_ascii(clean.buf, clean.len)) {
		add_body_text(sb, clean.buf);
	} else {
		struct strbuf b = STRBUF_INIT;
		base64_encode(&b, clean.buf, clean.len);
		for (size_t i = 0; i < b.len; i += 76) {
			strbuf_add(sb, b.buf + i, b.len - i < 76 ? b.len - i : 76);
			strbuf_addstr(sb, "\r\n");
		}
		strbuf_release(&b);
	}
	strbuf_release(&head);
	strbuf_release(&text);
	strbuf_release(&clean);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t nmemb, void *data)
{
	struct upload *u = data;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static size_t on_discard(char *p, size_t size, size_t nmemb, void *data)
{
	(void)p;
	(void)data;
	return size * nmemb;
}

static void email_send(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                       int64_t timeout_ms, struct notify_result *out)
{
	struct strbuf msg = STRBUF_INIT, d = STRBUF_INIT;
	struct curl_slist *rcpt = NULL, *l;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *from = addr_spec(rc->from ? rc->from : "stepwatch@localhost");
	const char *at = strrchr(from, '@');
	char *mail_from = xasprintf("<%s>", from);
	struct upload up;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;

	memset(out, 0, sizeof(*out));
	if (timeout_ms <= 0)
		timeout_ms = 10000;
	email_message(rc, m, now_ms, at && at[1] ? at + 1 : "localhost", &msg);
	up.p = msg.buf;
	up.left = msg.len;
	for (size_t i = 0; i < rc->n_to; i++) {
		char *a = addr_spec(rc->to[i]), *r = xasprintf("<%s>", a);
		if ((l = curl_slist_append(rcpt, r)))
			rcpt = l;
		free(r);
		free(a);
	}
	if (http_global_init() || !(c = curl_easy_init())) {
		out->outcome = NOTIFY_RETRY;
		snprintf(out->detail, sizeof(out->detail), "cannot initialise libcurl");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, rc->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_USE_SSL,
	                 rc->smtp_plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(timeout_ms < 5000 ? timeout_ms : 5000));
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 1L + (long)(timeout_ms / 2000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	out->status = (int)code;
	if (cc == CURLE_OK) {
		out->outcome = NOTIFY_OK;
		strbuf_addf(&d, "SMTP %ld: accepted for %zu recipient(s)", code, rc->n_to);
	} else if (cc == CURLE_USE_SSL_FAILED) {
		out->outcome = NOTIFY_PERMANENT;
		strbuf_addstr(&d, "the SMTP server does not offer STARTTLS, which smtp:// requires "
		                  "(use smtps://, or starttls: false for a loopback server)");
	} else if (cc == CURLE_LOGIN_DENIED || cc == CURLE_URL_MALFORMAT) {
		out->outcome = NOTIFY_PERMANENT;
		strbuf_addf(&d, "SMTP %ld: %s", code, *errbuf ? errbuf : curl_easy_strerror(cc));
	} else {
		out->outcome = code >= 400 ? email_code_outcome((int)code) : NOTIFY_RETRY;
		if (cc == CURLE_OPERATION_TIMEDOUT)
			strbuf_addf(&d, "timed out after %" PRId64 " ms: ", timeout_ms);
		if (code)
			strbuf_addf(&d, "SMTP %ld: ", code);
		strbuf_addstr(&d, *errbuf ? errbuf : curl_easy_strerror(cc));
	}
	notify_detail_set(out->detail, sizeof(out->detail), d.buf, d.len);
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	free(mail_from);
	free(from);
	strbuf_release(&msg);
	strbuf_release(&d);
}

const struct receiver_ops receiver_email = {"email", email_send};
