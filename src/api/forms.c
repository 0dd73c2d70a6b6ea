/*
 * forms.c - the JSON forms of store objects the API answers with (forms.h): jansson trees for
 * most answers, and the same alert form written straight into a strbuf for the hot alert list
 * and detail (jsonw.h does the values).
 *
 * DESIGN: both alert forms must give the same bytes; tests/unit/test_api_jsonw.c checks the
 * strbuf form against jansson's. Labels take a fast path when the stored text is a flat object
 * of plain string values with distinct keys (what the store writes); anything else goes
 * through jansson (api_labels_json), so the output is the same either way.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include "api/forms.h"
#include "api/jsonw.h"

/* ---- jansson forms --------------------------------------------------------------------- */

json_t *api_time_json(int64_t ms)
{
	char b[40];
	if (ms == TIME_NULL)
		return json_null();
	return json_string(time_format_rfc3339(ms, b, sizeof(b)));
}

json_t *api_str_json(const char *s)
{
	json_t *j;
	char *fixed;
	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	/* jansson refuses invalid UTF-8 (a SQLite source may hold any bytes): write it as
	 * the alert list does, with U+FFFD, rather than drop the field */
	fixed = jw_utf8_dup(s);
	j = json_string(fixed);
	free(fixed);
	return j;
}

json_t *api_labels_json(const char *labels_json)
{
	json_t *in = labels_json ? json_loads(labels_json, 0, NULL) : NULL, *out = json_object();
	const char *k;
	json_t *v;
	if (json_is_object(in)) {
		json_object_foreach(in, k, v)
		{
			if (json_is_string(v))
				json_object_set(out, k, v);
		}
	}
	json_decref(in);
	return out;
}

static json_t *state_json(int s)
{
	return s < 0 || s >= ALERT_STATE_COUNT ? json_null()
	                                       : json_string(alert_state_name((enum alert_state)s));
}

static json_t *id_json(int64_t id)
{
	return id > 0 ? json_integer(id) : json_null();
}

json_t *api_alert_json(const struct alert *a, bool with_history, const struct alert_event *hist,
                       size_t nhist)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "rule", api_str_json(a->rule));
	json_object_set_new(o, "workflow", api_str_json(a->workflow));
	json_object_set_new(o, "step", api_str_json(a->step));
	json_object_set_new(o, "instance_id", api_str_json(a->instance_id));
	json_object_set_new(o, "user_id", api_str_json(a->user_id));
	json_object_set_new(o, "state", state_json(a->state));
	json_object_set_new(o, "error", api_str_json(a->error));
	json_object_set_new(o, "labels", api_labels_json(a->labels_json));
	json_object_set_new(o, "occurred_at", api_time_json(a->occurred_at));
	json_object_set_new(o, "opened_at", api_time_json(a->opened_at));
	json_object_set_new(o, "updated_at", api_time_json(a->updated_at));
	json_object_set_new(o, "next_escalation_at", api_time_json(a->next_escalation_at));
	json_object_set_new(o, "acked_by", api_str_json(a->acked_by));
	json_object_set_new(o, "acked_at", api_time_json(a->acked_at));
	json_object_set_new(o, "resolved_at", api_time_json(a->resolved_at));
	json_object_set_new(o, "resolved_by", api_str_json(a->resolved_by));
	json_object_set_new(o, "incident_id", id_json(a->incident_id));
	json_object_set_new(o, "reopen_of", id_json(a->reopen_of));
	if (with_history) {
		json_t *h = json_array();
		for (size_t i = 0; i < nhist; i++)
			json_array_append_new(h,
			                      json_pack("{s:o, s:s, s:s, s:o, s:o, s:o}", "at",
			                                api_time_json(hist[i].at), "actor",
			                                hist[i].actor ? hist[i].actor : "", "event",
			                                hist[i].event ? hist[i].event : "", "from",
			                                state_json(hist[i].from_state), "to",
			                                state_json(hist[i].to_state), "reason",
			                                api_str_json(hist[i].reason)));
		json_object_set_new(o, "history", h);
	}
	return o;
}

json_t *api_incident_json(const struct incident *i)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(i->id));
	json_object_set_new(o, "workflow", api_str_json(i->workflow));
	json_object_set_new(o, "step", api_str_json(i->step));
	json_object_set_new(o, "rule", api_str_json(i->rule));
	json_object_set_new(o, "labels", api_labels_json(i->labels_json));
	json_object_set_new(o, "state", json_string(i->open ? "OPEN" : "RESOLVED"));
	json_object_set_new(o, "level", state_json(i->level));
	json_object_set_new(o, "open_alerts", json_integer(i->open_alerts));
	json_object_set_new(o, "total_alerts", json_integer(i->total_alerts));
	json_object_set_new(o, "affected_users", json_integer(i->affected_users));
	json_object_set_new(o, "opened_at", api_time_json(i->opened_at));
	json_object_set_new(o, "resolved_at", api_time_json(i->resolved_at));
	json_object_set_new(o, "acked_by", api_str_json(i->acked_by));
	json_object_set_new(o, "acked_at", api_time_json(i->acked_at));
	return o;
}

json_t *api_silence_json(const struct silence *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(s->id));
	json_object_set_new(o, "workflow", api_str_json(s->workflow));
	json_object_set_new(o, "step", api_str_json(s->step));
	json_object_set_new(o, "error", api_str_json(s->error));
	json_object_set_new(o, "starts_at", api_time_json(s->starts_at));
	json_object_set_new(o, "ends_at", api_time_json(s->ends_at));
	json_object_set_new(o, "pause_escalation", json_boolean(s->pause_escalation));
	json_object_set_new(o, "comment", api_str_json(s->comment));
	json_object_set_new(o, "created_by", api_str_json(s->created_by));
	json_object_set_new(o, "created_at", api_time_json(s->created_at));
	return o;
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

void api_labels_write(struct strbuf *sb, const char *labels_json)
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

void api_alert_write_head(struct strbuf *sb, const struct alert *a)
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
	api_labels_write(sb, a->labels_json);
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

void api_alert_event_write(struct strbuf *sb, const struct alert_event *e)
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
