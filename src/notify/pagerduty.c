/*
 * pagerduty.c - the PagerDuty Events API v2 receiver.
 *
 * One PagerDuty alert per incident: every message carries msg->dedup_key, so the first
 * `trigger` opens it, later triggers (escalated, updated, reminder) update it,
 * `acknowledge` (acknowledged through our API) and `resolve` close the loop. Severity
 * follows the level: P0 critical, P1 error, P2 warning, INITIATED info.
 *
 * PagerDuty answers 202 when it took the event, 400 for an invalid event (permanent),
 * 429 when throttled and 5xx on its own trouble (both retried); http_post() maps these.
 */
#include "util/common.h"
#include "notify/receiver-int.h"
#include "notify/http_post.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define PD_MAX_SUMMARY 1024

static const char *pd_severity(const char *level)
{
	if (level && !strcmp(level, "ESCALATION_P0"))
		return "critical";
	if (level && !strcmp(level, "ESCALATION_P1"))
		return "error";
	if (level && !strcmp(level, "ESCALATION_P2"))
		return "warning";
	return "info";
}

static const char *pd_action(enum notify_event ev)
{
	switch (ev) {
	case NOTIFY_EV_ACKNOWLEDGED: return "acknowledge";
	case NOTIFY_EV_RESOLVED: return "resolve";
	default: return "trigger";
	}
}

/* payload.summary: the headline and what changed, at most 1024 bytes of valid UTF-8 */
static json_t *pd_summary(const struct notify_msg *m)
{
	struct strbuf h = STRBUF_INIT, s = STRBUF_INIT;
	json_t *j;
	size_t n;

	rcv_headline(m, &h);
	if (m->summary && *m->summary)
		strbuf_addf(&h, ": %s", m->summary);
	strbuf_add_utf8_lossy(&s, h.buf, h.len);
	for (size_t i = 0; i < s.len; i++)
		if (s.buf[i] == '\r' || s.buf[i] == '\n')
			s.buf[i] = ' ';
	n = s.len;
	if (n > PD_MAX_SUMMARY) {
		n = PD_MAX_SUMMARY;
		while (n > 0 && ((unsigned char)s.buf[n] & 0xc0) == 0x80)
			n--;
	}
	j = json_stringn(s.buf, n);
	strbuf_release(&h);
	strbuf_release(&s);
	return j ? j : json_string("stepwatch incident");
}

void pagerduty_body(const struct notify_msg *m, const char *routing_key, struct strbuf *sb)
{
	json_t *root = json_object();
	const char *action = pd_action(m->event);
	char t[40];

	json_object_set_new(root, "routing_key", rcv_json_str(routing_key));
	json_object_set_new(root, "event_action", json_string(action));
	json_object_set_new(root, "dedup_key", rcv_json_str(m->dedup_key));
	if (!strcmp(action, "trigger")) {
		json_t *p = json_object(), *cd = json_object(), *links = json_array();
		char *source = xasprintf("stepwatch/%s", m->workflow);

		json_object_set_new(p, "summary", pd_summary(m));
		json_object_set_new(p, "source", rcv_json_str(source));
		json_object_set_new(p, "severity", json_string(pd_severity(m->level)));
		if (m->at_ms > 0 && m->at_ms != TIME_NULL)
			json_object_set_new(
			    p, "timestamp",
			    json_string(time_format_rfc3339(m->at_ms, t, sizeof(t))));
		json_object_set_new(p, "component", rcv_json_str(m->step));
		json_object_set_new(p, "group", rcv_json_str(m->workflow));
		json_object_set_new(p, "class", rcv_json_str(m->rule));
		json_object_set_new(cd, "incident_id", json_integer(m->incident_id));
		json_object_set_new(cd, "event", json_string(notify_event_name(m->event)));
		json_object_set_new(cd, "level", rcv_json_str(m->level));
		json_object_set_new(cd, "state", rcv_json_str(m->state));
		json_object_set_new(cd, "labels", rcv_json_labels(m->labels_json));
		json_object_set_new(cd, "open_alerts", json_integer(m->open_alerts));
		json_object_set_new(cd, "affected_users", json_integer(m->affected_users));
		if (m->conv_last_hour >= 0)
			json_object_set_new(cd, "conversion_last_hour",
			                    json_real(m->conv_last_hour));
		if (m->conv_usual >= 0)
			json_object_set_new(cd, "conversion_usual", json_real(m->conv_usual));
		if (m->oncall)
			json_object_set_new(cd, "oncall", rcv_json_str(m->oncall));
		json_object_set_new(p, "custom_details", cd);
		json_object_set_new(root, "payload", p);
		json_object_set_new(root, "client", json_string("stepwatch"));
		if (m->dashboard_url) {
			json_object_set_new(root, "client_url", rcv_json_str(m->dashboard_url));
			json_array_append_new(links, json_pack("{s:o,s:s}", "href",
			                                       rcv_json_str(m->dashboard_url),
			                                       "text", "Dashboard"));
		}
		if (m->api_url)
			json_array_append_new(links, json_pack("{s:o,s:s}", "href",
			                                       rcv_json_str(m->api_url), "text",
			                                       "Incident in the stepwatch API"));
		if (json_array_size(links))
			json_object_set_new(root, "links", links);
		else
			json_decref(links);
		free(source);
	}
	rcv_json_finish(root, sb);
}

static void pagerduty_send(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                           int64_t timeout_ms, struct notify_result *out)
{
	struct strbuf body = STRBUF_INIT;

	pagerduty_body(m, rc->routing_key, &body);
	http_post_json(rc->url, &body, now_ms, timeout_ms, out);
	strbuf_release(&body);
}

const struct receiver_ops receiver_pagerduty = {"pagerduty", pagerduty_send};
