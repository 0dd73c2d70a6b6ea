/*
 * receiver.c - the method table for each receiver kind, event names, and the text every
 * receiver writes the same way (headline, detail lines, JSON strings).
 */
#include "util/common.h"
#include "notify/receiver.h"
#include "notify/receiver-int.h"
#include "util/timeutil.h"
#include "util/utf8.h"

const char *notify_event_name(enum notify_event ev)
{
	switch (ev) {
	case NOTIFY_EV_OPENED: return "opened";
	case NOTIFY_EV_ESCALATED: return "escalated";
	case NOTIFY_EV_UPDATED: return "updated";
	case NOTIFY_EV_REMINDER: return "reminder";
	case NOTIFY_EV_ACKNOWLEDGED: return "acknowledged";
	case NOTIFY_EV_RESOLVED: return "resolved";
	case NOTIFY_EV_TEST: return "test";
	}
	return "unknown";
}

const struct receiver_ops *receiver_ops_for(enum sw_receiver_kind kind)
{
	switch (kind) {
	case SW_RECV_WEBHOOK: return &receiver_webhook;
	case SW_RECV_SLACK: return &receiver_slack;
	case SW_RECV_PAGERDUTY: return &receiver_pagerduty;
	case SW_RECV_EMAIL: return &receiver_email;
	}
	return NULL;
}

void rcv_json_finish(json_t *root, struct strbuf *sb)
{
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text)
		strbuf_addstr(sb, text);
	free(text);
	json_decref(root);
}

json_t *rcv_json_str(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	strbuf_add_utf8_lossy(&sb, s, strlen(s));
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j ? j : json_string("");
}

json_t *rcv_json_labels(const char *labels_json)
{
	json_t *j = labels_json ? json_loads(labels_json, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

const char *rcv_level_short(const char *level)
{
	if (!level)
		return "?";
	if (!strncmp(level, "ESCALATION_", 11))
		return level + 11;
	if (!strcmp(level, "INITIATED"))
		return "new";
	return level;
}

const char *rcv_percent(double f, char *buf, size_t n)
{
	if (f < 0 || f != f)
		snprintf(buf, n, "unknown");
	else
		snprintf(buf, n, "%.1f%%", f * 100.0);
	return buf;
}

/* labels as "k=v, k=v" (only string values; as they are, the caller sanitises) */
static void labels_text(const char *labels_json, struct strbuf *sb)
{
	json_t *o = rcv_json_labels(labels_json), *v;
	const char *k;
	bool first = true;

	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v))
			continue;
		strbuf_addf(sb, "%s%s=%s", first ? "" : ", ", k, json_string_value(v));
		first = false;
	}
	json_decref(o);
}

void rcv_headline(const struct notify_msg *m, struct strbuf *sb)
{
	size_t at = sb->len;

	strbuf_addf(sb, "[%s] %s/%s: %s", rcv_level_short(m->level), m->workflow, m->step,
	            notify_event_name(m->event));
	if (m->state && !strcmp(m->state, "RESOLVED") && m->event != NOTIFY_EV_RESOLVED)
		strbuf_addstr(sb, " (resolved)");
	{
		struct strbuf l = STRBUF_INIT;
		labels_text(m->labels_json, &l);
		if (l.len)
			strbuf_addf(sb, " (%s)", l.buf);
		strbuf_release(&l);
	}
	/* one line: no CR/LF from labels or names */
	for (size_t i = at; i < sb->len; i++)
		if (sb->buf[i] == '\r' || sb->buf[i] == '\n')
			sb->buf[i] = ' ';
}

void rcv_details(const struct notify_msg *m, struct strbuf *sb)
{
	char a[16], b[16], t[40];

	if (m->summary && *m->summary)
		strbuf_addf(sb, "%s\n", m->summary);
	strbuf_addf(sb, "Incident %" PRId64 ", rule %s, state %s, level %s\n", m->incident_id,
	            m->rule, m->state, m->level);
	strbuf_addf(sb, "Affected users: %" PRId64 ", open alerts: %" PRId64 "\n",
	            m->affected_users, m->open_alerts);
	if (m->conv_last_hour >= 0 || m->conv_usual >= 0)
		strbuf_addf(sb, "Conversion at this step: %s over the last hour (usually %s)\n",
		            rcv_percent(m->conv_last_hour, a, sizeof(a)),
		            rcv_percent(m->conv_usual, b, sizeof(b)));
	if (m->oncall && *m->oncall)
		strbuf_addf(sb, "On call: %s\n", m->oncall);
	if (m->opened_at_ms > 0 && m->opened_at_ms != TIME_NULL)
		strbuf_addf(sb, "Opened at %s\n",
		            time_format_rfc3339(m->opened_at_ms, t, sizeof(t)));
	if (m->dashboard_url)
		strbuf_addf(sb, "Dashboard: %s\n", m->dashboard_url);
	if (m->api_url)
		strbuf_addf(sb, "API: %s\n", m->api_url);
}
