/*
 * handlers_alerts.c - GET /api/v1/alerts (filters, cursor pages), GET /api/v1/alerts/{id}
 * (with history), POST .../ack and .../resolve; plus the JSON forms and store-error
 * mapping every store-backed handler shares (handlers-int.h).
 *
 * DESIGN: pages are newest first by id and the cursor is the last id shown; the next page
 * is "ids below it", so alerts inserted meanwhile (higher ids) never shift a page: no
 * duplicates, no skips. A full page asks for one more row to know whether a next page
 * exists, so next_cursor is null exactly on the last page.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/json.h"
#include "api/jsonw.h"

/* ---- shared JSON forms ----------------------------------------------------------------- */

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

int api_store_fail(struct api_resp *resp, int rc, const struct sw_err *err)
{
	if (rc == STORE_ENOTFOUND)
		api_error(resp, 404, "%s", err->msg);
	else if (rc == STORE_ECONFLICT)
		api_error(resp, 409, "%s", err->msg);
	else {
		log_warn("store error", "error=%s", err->msg);
		api_error(resp, 503, "store unavailable");
		api_resp_header(resp, "Retry-After", "1");
	}
	return -1;
}

char *api_next_cursor(size_t n, size_t limit, int64_t last_id, bool more)
{
	return n == limit && n > 0 && more ? query_cursor_encode(last_id) : NULL;
}

/* ---- handlers -------------------------------------------------------------------------- */

/* Writing alerts as the store reads them. */
struct alert_writer {
	struct strbuf *sb;
	size_t n;
	int64_t last_id;
	bool history_open;
};

static int write_list_alert(void *arg, const struct alert *a)
{
	struct alert_writer *w = arg;
	if (w->n++)
		strbuf_addch(w->sb, ',');
	jw_alert_open(w->sb, a);
	strbuf_addch(w->sb, '}');
	w->last_id = a->id;
	return 0;
}

static int write_alert(void *arg, const struct alert *a)
{
	struct alert_writer *w = arg;
	w->n++;
	jw_alert_open(w->sb, a);
	return 0;
}

static int write_event(void *arg, const struct alert_event *e)
{
	struct alert_writer *w = arg;
	strbuf_addstr(w->sb, w->history_open ? "," : ",\"history\":[");
	w->history_open = true;
	jw_alert_event(w->sb, e);
	return 0;
}

int api_alerts_list(struct api_req *req, struct api_resp *resp)
{
	struct alert_filter f;
	struct alert_writer w;
	struct alert_visit visit = {write_list_alert, NULL, &w};
	struct sw_err err = {""};
	struct strbuf *body;
	struct store *st;
	const char *s;
	int64_t cursor = 0, incident = 0;
	bool open = false, more = false;
	char *next = NULL;
	int rc;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	if (api_query_page(req, resp, &f.limit, &cursor) ||
	    api_query_bool(req, resp, "open", &open) ||
	    api_query_id(req, resp, "incident", &incident))
		return -1;
	if ((s = api_query(req, "state"))) {
		f.state = alert_state_parse(s);
		if (f.state < 0)
			return api_error(resp, 400, "unknown state '%.100s'", s), -1;
	}
	if ((s = api_query(req, "level"))) {
		int lv = !strcasecmp(s, "P2")   ? ALERT_P2
		         : !strcasecmp(s, "P1") ? ALERT_P1
		         : !strcasecmp(s, "P0") ? ALERT_P0
		                                : -1;
		if (lv < 0)
			return api_error(resp, 400, "unknown level '%.100s' (P2, P1 or P0)", s), -1;
		if (f.state >= 0 && f.state != lv)
			return api_list(resp, json_array(), NULL); /* both given, disagreeing */
		f.state = lv;
	}
	f.open_only = open;
	f.incident_id = incident;
	f.rule = api_query(req, "rule");
	f.workflow = api_query(req, "workflow");
	f.step = api_query(req, "step");
	f.user_id = api_query(req, "user_id");
	f.instance_id = api_query(req, "instance_id");
	f.before_id = cursor;
	if (!(st = api_store(req, resp)))
		return -1;
	/* straight into the body: no jansson tree, no copies of the rows */
	body = &resp->body;
	strbuf_reset(body);
	strbuf_grow(body, 128 + f.limit * 640);
	strbuf_addstr(body, "{\"items\":[");
	w.sb = body;
	w.n = 0;
	w.last_id = 0;
	rc = store_alerts_list_visit(st, &f, &visit, &more, &err);
	if (rc)
		return api_store_fail(resp, rc, &err);
	strbuf_addstr(body, "],\"next_cursor\":");
	next = api_next_cursor(w.n, f.limit, w.last_id, more);
	jw_str(body, next);
	strbuf_addch(body, '}');
	free(next);
	resp->status = 200;
	resp->content_type = NULL;
	return 0;
}

/* Answer 200 with the alert id (and its history when with_history). */
static int alert_answer(struct api_req *req, struct api_resp *resp, struct store *st, int64_t id,
                        bool with_history)
{
	struct alert a;
	struct alert_event *h = NULL;
	size_t nh = 0;
	struct sw_err err = {""};
	int rc = store_alert_get(st, id, &a, with_history ? &h : NULL, &nh, &err);
	(void)req;
	if (rc)
		return api_store_fail(resp, rc, &err);
	api_json(resp, 200, api_alert_json(&a, with_history, h, nh));
	alert_release(&a);
	alert_events_free(h, nh);
	return 0;
}

int api_alerts_get(struct api_req *req, struct api_resp *resp)
{
	struct alert_writer w = {&resp->body, 0, 0, false};
	struct alert_visit visit = {write_alert, write_event, &w};
	struct sw_err err = {""};
	struct store *st;
	int64_t id;
	int rc;
	if (api_param_id(req, resp, "id", "alert", &id))
		return -1;
	if (!(st = api_store(req, resp)))
		return -1;
	strbuf_reset(&resp->body);
	strbuf_grow(&resp->body, 2048);
	rc = store_alert_get_visit(st, id, &visit, &err);
	if (rc)
		return api_store_fail(resp, rc, &err);
	strbuf_addstr(&resp->body, w.history_open ? "]}" : ",\"history\":[]}");
	resp->status = 200;
	resp->content_type = NULL;
	return 0;
}

/* The body's note (may be NULL); *body must be json_decref'd. */
static const char *body_note(const json_t *body)
{
	const json_t *n = json_object_get(body, "note");
	return json_is_string(n) ? json_string_value(n) : NULL;
}

int api_alerts_ack(struct api_req *req, struct api_resp *resp)
{
	struct sw_err err = {""};
	struct store *st;
	json_t *body = NULL;
	int64_t id;
	int rc;
	if (api_param_id(req, resp, "id", "alert", &id) ||
	    api_body_object(req, resp, api_body_ack, api_body_ack_n, &body))
		return -1;
	if (!(st = api_store(req, resp))) {
		json_decref(body);
		return -1;
	}
	rc = store_alert_ack(st, id, api_now(req), req->actor, body_note(body), &err);
	json_decref(body);
	if (rc)
		return api_store_fail(resp, rc, &err);
	return alert_answer(req, resp, st, id, false);
}

int api_alerts_resolve(struct api_req *req, struct api_resp *resp)
{
	struct sw_err err = {""};
	struct store *st;
	struct alert a;
	struct alert_change c;
	json_t *body = NULL;
	char *by = NULL;
	bool applied = false;
	int64_t id;
	int rc = 0;
	if (api_param_id(req, resp, "id", "alert", &id) ||
	    api_body_object(req, resp, api_body_ack, api_body_ack_n, &body))
		return -1;
	if (!(st = api_store(req, resp))) {
		json_decref(body);
		return -1;
	}
	by = xasprintf("user:%s", req->actor);
	/* compare-and-set on the state read; an escalation in between costs a retry */
	for (int attempt = 0; attempt < 3 && !applied; attempt++) {
		rc = store_alert_get(st, id, &a, NULL, NULL, &err);
		if (rc)
			break;
		if (!alert_transition_allowed(a.state, ALERT_RESOLVED)) {
			rc = STORE_ECONFLICT;
			sw_err_set(&err, "alert %" PRId64 " is already %s", id,
			           alert_state_name(a.state));
			alert_release(&a);
			break;
		}
		memset(&c, 0, sizeof(c));
		c.alert_id = id;
		c.from = a.state;
		c.to = ALERT_RESOLVED;
		c.event = "resolved";
		c.actor = by;
		c.reason = body_note(body);
		c.next_escalation_at = TIME_NULL;
		c.resolved_by = by;
		rc = store_alerts_change(st, api_now(req), &c, 1, &applied, &err);
		alert_release(&a);
		if (rc)
			break;
	}
	json_decref(body);
	free(by);
	if (rc)
		return api_store_fail(resp, rc, &err);
	if (!applied) /* it changed state meanwhile (escalated, resolved by the resolver) */
		return api_error(resp, 409, "alert %" PRId64 " changed state meanwhile; retry", id),
		       -1;
	return alert_answer(req, resp, st, id, false);
}
