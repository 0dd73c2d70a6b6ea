/*
 * handlers_alerts.c - GET /api/v1/alerts (filters, cursor pages), GET /api/v1/alerts/{id}
 * (with history), POST .../ack and .../resolve.
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
#include "api/forms.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_silences.h"

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
	api_alert_write_head(w->sb, a);
	strbuf_addch(w->sb, '}');
	w->last_id = a->id;
	return 0;
}

static int write_alert(void *arg, const struct alert *a)
{
	struct alert_writer *w = arg;
	w->n++;
	api_alert_write_head(w->sb, a);
	return 0;
}

static int write_event(void *arg, const struct alert_event *e)
{
	struct alert_writer *w = arg;
	strbuf_addstr(w->sb, w->history_open ? "," : ",\"history\":[");
	w->history_open = true;
	api_alert_event_write(w->sb, e);
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
	jw_str(body, api_next_cursor(req, w.n, f.limit, w.last_id, more));
	strbuf_addch(body, '}');
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

/* The body's note (may be NULL). */
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
	    api_body_object(req, resp, api_body_ack, api_body_ack_n, &body) ||
	    !(st = api_store(req, resp)))
		return -1;
	rc = store_alert_ack(st, id, api_now(req), req->actor, body_note(body), &err);
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
	const char *by;
	bool applied = false;
	int64_t id;
	int rc = 0;
	if (api_param_id(req, resp, "id", "alert", &id) ||
	    api_body_object(req, resp, api_body_ack, api_body_ack_n, &body) ||
	    !(st = api_store(req, resp)))
		return -1;
	by = arena_printf(req->arena, "user:%s", req->actor);
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
	if (rc)
		return api_store_fail(resp, rc, &err);
	if (!applied) /* it changed state meanwhile (escalated, resolved by the resolver) */
		return api_error(resp, 409, "alert %" PRId64 " changed state meanwhile; retry", id),
		       -1;
	return alert_answer(req, resp, st, id, false);
}
