/*
 * slack.c - the Slack incoming-webhook receiver: Block Kit blocks a person reads at a
 * glance, with a plain `text` fallback for notifications and old clients.
 *
 * DESIGN: a fixed layout of at most six blocks (header, what changed, impact fields,
 * on-call and time, links), far under Slack's 50; every text is cut to Slack's limits
 * (header 150 characters, a section 3000, a field 2000) counting bytes, which is never
 * more than characters, and cut on a UTF-8 boundary with an ellipsis. mrkdwn text has &, <
 * and > escaped as Slack asks, so a label cannot ping @channel or forge a link. Slack
 * answers 429 with Retry-After when rate-limited; http_post() turns that into a retry
 * after that delay.
 */
#include "util/common.h"
#include "notify/receiver-int.h"
#include "notify/http_post.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define SLACK_MAX_HEADER 150
#define SLACK_MAX_FIELD  2000

/* s cut to at most max bytes of valid UTF-8, with "..." when cut. */
static json_t *cut_text(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j;

	strbuf_add_utf8_lossy(&sb, s, strlen(s));
	if (sb.len > max) {
		size_t n = max - 3;
		while (n > 0 && ((unsigned char)sb.buf[n] & 0xc0) == 0x80)
			n--;
		sb.len = n;
		sb.buf[n] = '\0';
		strbuf_addstr(&sb, "...");
	}
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j ? j : json_string("");
}

/* Append s to sb with Slack's mrkdwn control characters escaped. */
static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			strbuf_addstr(sb, "&amp;");
		else if (*s == '<')
			strbuf_addstr(sb, "&lt;");
		else if (*s == '>')
			strbuf_addstr(sb, "&gt;");
		else
			strbuf_addch(sb, *s);
	}
}

static json_t *mrkdwn(const struct strbuf *sb, size_t max)
{
	json_t *t = json_object();
	json_object_set_new(t, "type", json_string("mrkdwn"));
	json_object_set_new(t, "text", cut_text(sb->buf, max));
	return t;
}

static json_t *section(const struct strbuf *sb)
{
	json_t *b = json_object();
	json_object_set_new(b, "type", json_string("section"));
	json_object_set_new(b, "text", mrkdwn(sb, SLACK_MAX_SECTION_TEXT));
	return b;
}

static void add_field(json_t *fields, const char *name, const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "*%s*\n", name);
	add_escaped(&sb, value);
	json_array_append_new(fields, mrkdwn(&sb, SLACK_MAX_FIELD));
	strbuf_release(&sb);
}

/* a link <url|text>, or nothing when the URL could break the mrkdwn syntax */
static void add_link(struct strbuf *sb, const char *url, const char *text)
{
	if (!url || strpbrk(url, "<>| \r\n"))
		return;
	strbuf_addf(sb, "%s<%s|%s>", sb->len ? "  |  " : "", url, text);
}

void slack_body(const struct notify_msg *m, struct strbuf *sb)
{
	json_t *root = json_object(), *blocks = json_array(), *b, *t, *fields;
	struct strbuf s = STRBUF_INIT, head = STRBUF_INIT;
	char a[16], u[16], n[32], when[40];

	rcv_headline(m, &head);

	/* header: plain text, no escaping */
	b = json_object();
	t = json_object();
	json_object_set_new(t, "type", json_string("plain_text"));
	json_object_set_new(t, "text", cut_text(head.buf, SLACK_MAX_HEADER));
	json_object_set_new(b, "type", json_string("header"));
	json_object_set_new(b, "text", t);
	json_array_append_new(blocks, b);

	/* what changed */
	strbuf_addstr(&s, "*");
	add_escaped(&s, m->summary && *m->summary ? m->summary : notify_event_name(m->event));
	strbuf_addstr(&s, "*\n");
	strbuf_addf(&s, "Incident %" PRId64 " · rule `", m->incident_id);
	add_escaped(&s, m->rule);
	strbuf_addstr(&s, "` · ");
	add_escaped(&s, m->state);
	json_array_append_new(blocks, section(&s));

	/* impact */
	fields = json_array();
	snprintf(n, sizeof(n), "%" PRId64, m->affected_users);
	add_field(fields, "Affected users", n);
	snprintf(n, sizeof(n), "%" PRId64, m->open_alerts);
	add_field(fields, "Open alerts", n);
	add_field(fields, "Level", m->level);
	if (m->conv_last_hour >= 0 || m->conv_usual >= 0) {
		strbuf_reset(&s);
		strbuf_addf(&s, "%s last hour, usually %s",
		            rcv_percent(m->conv_last_hour, a, sizeof(a)),
		            rcv_percent(m->conv_usual, u, sizeof(u)));
		add_field(fields, "Conversion", s.buf);
	}
	b = json_object();
	json_object_set_new(b, "type", json_string("section"));
	json_object_set_new(b, "fields", fields);
	json_array_append_new(blocks, b);

	/* on call and time */
	strbuf_reset(&s);
	if (m->oncall && *m->oncall) {
		strbuf_addstr(&s, "On call: *");
		add_escaped(&s, m->oncall);
		strbuf_addstr(&s, "*  ·  ");
	}
	if (m->opened_at_ms > 0 && m->opened_at_ms != TIME_NULL)
		strbuf_addf(&s, "opened %s",
		            time_format_rfc3339(m->opened_at_ms, when, sizeof(when)));
	if (s.len) {
		b = json_object();
		json_object_set_new(b, "type", json_string("context"));
		json_object_set_new(b, "elements", json_pack("[o]", mrkdwn(&s, SLACK_MAX_FIELD)));
		json_array_append_new(blocks, b);
	}

	/* links */
	strbuf_reset(&s);
	add_link(&s, m->dashboard_url, "Dashboard");
	add_link(&s, m->api_url, "API");
	if (s.len)
		json_array_append_new(blocks, section(&s));

	/* the fallback: headline and what changed, plain */
	strbuf_reset(&s);
	add_escaped(&s, head.buf);
	if (m->summary && *m->summary) {
		strbuf_addstr(&s, ": ");
		add_escaped(&s, m->summary);
	}
	json_object_set_new(root, "text", cut_text(s.buf, SLACK_MAX_FALLBACK));
	json_object_set_new(root, "blocks", blocks);
	rcv_json_finish(root, sb);
	strbuf_release(&s);
	strbuf_release(&head);
}

static void slack_send(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                       int64_t timeout_ms, struct notify_result *out)
{
	struct strbuf body = STRBUF_INIT;

	slack_body(m, &body);
	http_post_json(rc->url, &body, now_ms, timeout_ms, out);
	strbuf_release(&body);
}

const struct receiver_ops receiver_slack = {"slack", slack_send};
