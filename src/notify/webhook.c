/*
 * webhook.c - the generic webhook receiver: a JSON body in the Standard Webhooks envelope
 * ({"type", "timestamp", "data"}) with the webhook-id, webhook-timestamp and, when the
 * receiver has a secret, webhook-signature headers (https://www.standardwebhooks.com/).
 *
 * DESIGN: webhook-id is msg->key, so every attempt of one message carries the same id and
 * a receiver can drop a duplicate; webhook-timestamp is the time of this attempt (it is
 * signed, and receivers refuse stale timestamps), so the signature differs per attempt
 * while the id does not. The body is documented in docs/api.md ("Webhook deliveries").
 */
#include "util/common.h"
#include "notify/receiver-int.h"
#include "notify/http_post.h"
#include "util/base64.h"
#include "util/sha256.h"
#include "util/timeutil.h"

static json_t *time_or_null(int64_t ms)
{
	char t[40];
	if (ms <= 0 || ms == TIME_NULL)
		return json_null();
	return json_string(time_format_rfc3339(ms, t, sizeof(t)));
}

static json_t *frac_or_null(double f)
{
	return f < 0 || f != f ? json_null() : json_real(f);
}

void webhook_body(const struct notify_msg *m, struct strbuf *sb)
{
	json_t *data = json_object(), *root = json_object(), *conv = json_object(),
	       *links = json_object();
	char *type = xasprintf("incident.%s", notify_event_name(m->event));

	json_object_set_new(data, "event", json_string(notify_event_name(m->event)));
	json_object_set_new(data, "incident_id", json_integer(m->incident_id));
	json_object_set_new(data, "workflow", rcv_json_str(m->workflow));
	json_object_set_new(data, "step", rcv_json_str(m->step));
	json_object_set_new(data, "rule", rcv_json_str(m->rule));
	json_object_set_new(data, "labels", rcv_json_labels(m->labels_json));
	json_object_set_new(data, "level", rcv_json_str(m->level));
	json_object_set_new(data, "state", rcv_json_str(m->state));
	json_object_set_new(data, "open_alerts", json_integer(m->open_alerts));
	json_object_set_new(data, "affected_users", json_integer(m->affected_users));
	json_object_set_new(data, "summary", rcv_json_str(m->summary ? m->summary : ""));
	json_object_set_new(conv, "last_hour", frac_or_null(m->conv_last_hour));
	json_object_set_new(conv, "usual", frac_or_null(m->conv_usual));
	json_object_set_new(data, "conversion", conv);
	json_object_set_new(data, "opened_at", time_or_null(m->opened_at_ms));
	json_object_set_new(data, "at", time_or_null(m->at_ms));
	json_object_set_new(links, "dashboard", rcv_json_str(m->dashboard_url));
	json_object_set_new(links, "api", rcv_json_str(m->api_url));
	json_object_set_new(data, "links", links);
	json_object_set_new(data, "oncall", rcv_json_str(m->oncall));
	json_object_set_new(data, "dedup_key", rcv_json_str(m->dedup_key));
	json_object_set_new(root, "type", json_string(type));
	json_object_set_new(root, "timestamp", time_or_null(m->at_ms));
	json_object_set_new(root, "data", data);
	free(type);
	rcv_json_finish(root, sb);
}

int webhook_signature(const char *secret, const char *id, int64_t timestamp_s, const char *body,
                      size_t body_len, struct strbuf *sig)
{
	struct strbuf key = STRBUF_INIT, msg = STRBUF_INIT;
	unsigned char mac[SHA256_LEN];
	int rc = 0;

	if (!strncmp(secret, "whsec_", 6)) {
		if (base64_decode(secret + 6, strlen(secret + 6), &key)) {
			rc = -1;
			goto out;
		}
	} else {
		strbuf_addstr(&key, secret);
	}
	strbuf_addf(&msg, "%s.%" PRId64 ".", id, timestamp_s);
	strbuf_add(&msg, body, body_len);
	hmac_sha256(key.buf, key.len, msg.buf, msg.len, mac);
	strbuf_addstr(sig, "v1,");
	base64_encode(sig, mac, sizeof(mac));
out:
	memset(key.buf, 0, key.len);
	strbuf_release(&key);
	strbuf_release(&msg);
	return rc;
}

static void webhook_send(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                         int64_t timeout_ms, struct notify_result *out)
{
	struct strbuf body = STRBUF_INIT, sig = STRBUF_INIT;
	char *id, *ts, *sh = NULL;
	const char *hdrs[4] = {NULL};
	int64_t secs = now_ms / 1000;
	struct http_post req = {0};

	webhook_body(m, &body);
	/* the key is ours (no CR/LF), but a header must stay one line whatever it holds */
	id = xasprintf("webhook-id: %s", m->key);
	for (char *p = id; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	ts = xasprintf("webhook-timestamp: %" PRId64, secs);
	hdrs[0] = id;
	hdrs[1] = ts;
	if (rc->secret && *rc->secret) {
		if (webhook_signature(rc->secret, m->key, secs, body.buf, body.len, &sig)) {
			memset(out, 0, sizeof(*out));
			out->outcome = NOTIFY_PERMANENT;
			snprintf(out->detail, sizeof(out->detail),
			         "the whsec_ secret of receiver '%s' is not base64", rc->name);
			goto out;
		}
		sh = xasprintf("webhook-signature: %s", sig.buf);
		hdrs[2] = sh;
	}
	req.url = rc->url;
	req.headers = hdrs;
	req.body = body.buf;
	req.body_len = body.len;
	req.timeout_ms = timeout_ms;
	http_post(&req, now_ms, out, NULL);
out:
	free(id);
	free(ts);
	free(sh);
	strbuf_release(&sig);
	strbuf_release(&body);
}

const struct receiver_ops receiver_webhook = {"webhook", webhook_send};
