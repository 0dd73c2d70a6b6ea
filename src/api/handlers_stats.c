/*
 * handlers_stats.c - GET /api/v1/stats/{funnel,tat,segments,alerts} (SPEC sections 5 and
 * 7) and GET /api/v1/oncall: workflow figures from the store's aggregates (store_stats.c),
 * the math in core/stats.c, roster rotation in oncall/oncall.c.
 *
 * DESIGN: every stats route takes a window [from, to) (RFC 3339; default the last 7 days,
 * ending now); it bounds an instance's started_at (funnel, TAT, segments) or an alert's
 * opened_at (alert figures), and from after to is a 400. Durations are seconds as JSON
 * numbers; figures with nothing to measure (no completed instance, nothing resolved) are
 * null rather than 0, so a dashboard cannot mistake "no data" for "instant".
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/forms.h"
#include "core/stats.h"
#include "oncall/oncall.h"
#include "store/store_stats.h"

#define DEFAULT_WINDOW_MS (7 * 86400000LL)
#define SEGMENT_MIN_N     30
#define SEGMENT_ALPHA     0.01

static const char *const LEVEL_NAMES[3] = {"P2", "P1", "P0"};

/* from/to as given (TIME_NULL when absent): 400 for bad times. Checked before anything
 * else, so a bad request costs nothing. */
static int window_parse(struct api_req *req, struct api_resp *resp, int64_t *from, int64_t *to)
{
	*from = TIME_NULL;
	*to = TIME_NULL;
	if (api_query_time(req, resp, "from", from) || api_query_time(req, resp, "to", to))
		return -1;
	if (*from != TIME_NULL && *to != TIME_NULL && *from > *to) {
		api_error(resp, 400, "'from' is after 'to'");
		return -1;
	}
	return 0;
}

/* Defaults for the window parsed by window_parse, and 400 when from is after to. */
static int window(struct api_req *req, struct api_resp *resp, int64_t *from, int64_t *to)
{
	if (*to == TIME_NULL)
		*to = api_now(req);
	if (*from == TIME_NULL)
		*from = *to - DEFAULT_WINDOW_MS;
	if (*from > *to) {
		api_error(resp, 400, "'from' is after 'to'");
		return -1;
	}
	return 0;
}

/* The workflow named by ?workflow=: 400 when absent, 404 when unknown. */
static const struct sw_workflow *workflow_of(struct api_req *req, struct api_resp *resp,
                                             const struct sw_config *cfg)
{
	const char *name = api_query(req, "workflow");
	const struct sw_workflow *wf;
	if (!name || !*name) {
		api_error(resp, 400, "query parameter 'workflow' is required");
		return NULL;
	}
	if (!(wf = config_workflow(cfg, name)))
		api_error(resp, 404, "workflow '%.200s' not found", name);
	return wf;
}

static json_t *seconds_json(int64_t ms)
{
	return json_real((double)ms / 1000.0);
}

int api_stats_funnel(struct api_req *req, struct api_resp *resp)
{
	const struct sw_config *cfg;
	const struct sw_workflow *wf;
	struct sw_err err = {""};
	struct store *st;
	int64_t from, to, now, *stuck_before;
	const char **names;
	struct funnel_step *fss;
	json_t *o = NULL, *steps;
	int rc = -1;

	if (window_parse(req, resp, &from, &to))
		return -1;
	cfg = api_config_get(req);
	now = api_now(req);
	if (!(wf = workflow_of(req, resp, cfg)) || window(req, resp, &from, &to) ||
	    !(st = api_store(req, resp)))
		goto out;
	steps = json_array();
	o = json_pack("{s:s, s:o, s:o, s:o}", "workflow", wf->name, "from", api_time_json(from),
	              "to", api_time_json(to), "steps", steps);
	names = arena_calloc(req->arena, wf->n_steps + 1, sizeof(*names));
	stuck_before = arena_calloc(req->arena, wf->n_steps + 1, sizeof(*stuck_before));
	fss = arena_calloc(req->arena, wf->n_steps + 1, sizeof(*fss));
	for (size_t i = 0; i < wf->n_steps; i++) {
		int64_t stuck = wf->steps[i].policy.stuck_after_ms;
		names[i] = wf->steps[i].name;
		stuck_before[i] = stuck > 0 ? now - stuck : TIME_NULL;
	}
	rc =
	    store_stats_funnel(st, wf->name, names, stuck_before, wf->n_steps, from, to, fss, &err);
	if (rc) {
		api_store_fail(resp, rc, &err);
		goto out;
	}
	for (size_t i = 0; i < wf->n_steps; i++) {
		const struct sw_step *s = &wf->steps[i];
		const struct funnel_step fs = fss[i];
		json_array_append_new(
		    steps,
		    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f}", "step", s->name, "entered",
		              (json_int_t)fs.entered, "succeeded", (json_int_t)fs.succeeded,
		              "failed", (json_int_t)fs.failed, "stuck", (json_int_t)fs.stuck,
		              "abandoned", (json_int_t)fs.abandoned, "conversion",
		              fs.entered ? (double)fs.succeeded / (double)fs.entered : 0.0));
	}
	rc = api_json(resp, 200, o);
	o = NULL;
out:
	json_decref(o);
	api_config_put(req, cfg);
	return rc;
}

int api_stats_tat(struct api_req *req, struct api_resp *resp)
{
	const struct sw_config *cfg;
	const struct sw_workflow *wf;
	const char *step = api_query(req, "step");
	struct sw_err err = {""};
	struct store *st;
	int64_t from, to, sla = 0, *d = NULL;
	size_t n = 0, within = 0;
	json_t *o;
	int rc = -1, idx = -1;

	if (window_parse(req, resp, &from, &to))
		return -1;
	cfg = api_config_get(req);
	if (!(wf = workflow_of(req, resp, cfg)) || window(req, resp, &from, &to))
		goto out;
	if (step && (idx = config_step_index(wf, step)) < 0) {
		api_error(resp, 404, "step '%.200s' of workflow '%.200s' not found", step,
		          wf->name);
		goto out;
	}
	if (!(st = api_store(req, resp)))
		goto out;
	/* the instance target, or for a step its first escalation threshold (sla.p2) */
	sla = idx < 0 ? wf->tat_sla_ms : wf->steps[idx].policy.sla.p2_ms;
	rc = store_stats_durations(st, wf->name, idx < 0 ? NULL : wf->steps[idx].name, from, to, &d,
	                           &n, &err);
	if (rc) {
		api_store_fail(resp, rc, &err);
		goto out;
	}
	stats_sort(d, n);
	for (size_t i = 0; i < n; i++)
		within += d[i] <= sla;
	o = json_pack("{s:s, s:o, s:o, s:o, s:I}", "workflow", wf->name, "step",
	              api_str_json(idx < 0 ? NULL : wf->steps[idx].name), "from",
	              api_time_json(from), "to", api_time_json(to), "count", (json_int_t)n);
	json_object_set_new(o, "p50", n ? seconds_json(stats_percentile(d, n, 50)) : json_null());
	json_object_set_new(o, "p90", n ? seconds_json(stats_percentile(d, n, 90)) : json_null());
	json_object_set_new(o, "p99", n ? seconds_json(stats_percentile(d, n, 99)) : json_null());
	json_object_set_new(o, "max", n ? seconds_json(d[n - 1]) : json_null());
	json_object_set_new(o, "sla_seconds", sla > 0 ? seconds_json(sla) : json_null());
	json_object_set_new(o, "within_sla",
	                    sla > 0 && n ? json_real((double)within / (double)n) : json_null());
	rc = api_json(resp, 200, o);
out:
	free(d);
	api_config_put(req, cfg);
	return rc;
}

/* The rows of one segment column, each tested against the rest of the workflow. */
static void segment_rows(json_t *arr, const char *by, const struct segment_count *v, size_t n)
{
	int64_t all_started = 0, all_completed = 0;
	for (size_t i = 0; i < n; i++) {
		all_started += v[i].started;
		all_completed += v[i].completed;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t rs = all_started - v[i].started, rc = all_completed - v[i].completed;
		double p = stats_two_prop_p_below(v[i].completed, v[i].started, rc, rs);
		bool defined = v[i].started > 0 && rs > 0 && p < 1.0;
		json_t *o = json_pack(
		    "{s:s, s:o, s:I, s:I, s:f, s:b}", "by", by, "value", api_str_json(v[i].value),
		    "started", (json_int_t)v[i].started, "completed", (json_int_t)v[i].completed,
		    "rate", v[i].started ? (double)v[i].completed / (double)v[i].started : 0.0,
		    "flagged",
		    stats_segment_flagged(v[i].completed, v[i].started, rc, rs, SEGMENT_MIN_N,
		                          SEGMENT_ALPHA));
		json_object_set_new(o, "p_value", defined ? json_real(p) : json_null());
		json_array_append_new(arr, o);
	}
}

int api_stats_segments(struct api_req *req, struct api_resp *resp)
{
	const struct sw_config *cfg;
	const struct sw_workflow *wf;
	const char *by = api_query(req, "by");
	struct sw_err err = {""};
	struct store *st;
	int64_t from, to;
	json_t *o = NULL, *arr;
	int rc = -1;

	if (window_parse(req, resp, &from, &to))
		return -1;
	cfg = api_config_get(req);
	if (!(wf = workflow_of(req, resp, cfg)) || window(req, resp, &from, &to))
		goto out;
	if (by) {
		size_t k;
		for (k = 0; k < wf->n_segments && strcmp(wf->segments[k], by); k++)
			;
		if (k == wf->n_segments) {
			api_error(resp, 400, "'%.200s' is not a segment of workflow '%.200s'", by,
			          wf->name);
			goto out;
		}
	}
	if (!(st = api_store(req, resp)))
		goto out;
	arr = json_array();
	o = json_pack("{s:s, s:o, s:o, s:o}", "workflow", wf->name, "from", api_time_json(from),
	              "to", api_time_json(to), "segments", arr);
	for (size_t k = 0; k < wf->n_segments; k++) {
		struct segment_count *v = NULL;
		size_t n = 0;
		if (by && strcmp(wf->segments[k], by))
			continue;
		rc = store_stats_segments(st, wf->name, wf->segments[k], from, to, &v, &n, &err);
		if (rc) {
			api_store_fail(resp, rc, &err);
			goto out;
		}
		segment_rows(arr, wf->segments[k], v, n);
		segment_counts_free(v, n);
	}
	rc = api_json(resp, 200, o);
	o = NULL;
out:
	json_decref(o);
	api_config_put(req, cfg);
	return rc;
}

int api_stats_alerts(struct api_req *req, struct api_resp *resp)
{
	struct sw_err err = {""};
	struct alert_stats s;
	struct store *st;
	int64_t from, to, resolved;
	json_t *o, *mtta, *mttr, *rate;
	int rc;

	if (window_parse(req, resp, &from, &to) || window(req, resp, &from, &to) ||
	    !(st = api_store(req, resp)))
		return -1;
	if ((rc = store_stats_alerts(st, from, to, &s, &err)))
		return api_store_fail(resp, rc, &err);
	resolved = s.auto_resolved + s.manually_resolved;
	mtta = s.acked ? json_real((double)s.ack_ms_sum / 1000.0 / (double)s.acked) : json_null();
	mttr = resolved ? json_real((double)s.resolve_ms_sum / 1000.0 / (double)resolved)
	                : json_null();
	rate = resolved ? json_real((double)s.auto_resolved / (double)resolved) : json_null();
	o = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:O, s:o, s:O, s:o, s:o}", "from",
	              api_time_json(from), "to", api_time_json(to), "opened", (json_int_t)s.opened,
	              "auto_resolved", (json_int_t)s.auto_resolved, "manually_resolved",
	              (json_int_t)s.manually_resolved, "abandoned", (json_int_t)s.abandoned,
	              "mtta_seconds", mtta, "mtta", mtta, "mttr_seconds", mttr, "mttr", mttr,
	              "self_recovery_rate", rate);
	json_object_set_new(o, "escalations",
	                    json_pack("{s:I, s:I, s:I}", "P2", (json_int_t)s.escalations[0], "P1",
	                              (json_int_t)s.escalations[1], "P0",
	                              (json_int_t)s.escalations[2]));
	json_object_set(o, "reached", json_object_get(o, "escalations"));
	return api_json(resp, 200, o);
}

/* Who is on call on roster r at now (overrides first; NULL when nobody). */
static const char *on_call(const struct sw_roster *r, int64_t now)
{
	return r ? oncall_who(r, now, NULL, NULL) : NULL;
}

static const struct sw_receiver *receiver_of(const struct sw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_receivers; i++) {
		if (!strcmp(cfg->receivers[i].name, name))
			return &cfg->receivers[i];
	}
	return NULL;
}

/* Levels (P2..P0) whose receivers address roster r. */
static json_t *roster_levels(const struct sw_config *cfg, const struct sw_roster *r)
{
	json_t *a = json_array();
	for (size_t l = 0; l < 3; l++) {
		for (size_t k = 0; k < cfg->levels[l].n_notify; k++) {
			const struct sw_receiver *rc = receiver_of(cfg, cfg->levels[l].notify[k]);
			if (rc && rc->roster == r) {
				json_array_append_new(a, json_string(LEVEL_NAMES[l]));
				break;
			}
		}
	}
	return a;
}

int api_oncall(struct api_req *req, struct api_resp *resp)
{
	const struct sw_config *cfg;
	int64_t now = api_now(req);
	json_t *rosters, *levels, *o;

	if (api_query_time(req, resp, "at", &now))
		return -1;
	cfg = api_config_get(req);
	rosters = json_array();
	levels = json_object();

	for (size_t i = 0; i < cfg->n_rosters; i++) {
		const struct sw_roster *r = &cfg->rosters[i];
		json_t *members = json_array(), *ovs = json_array(), *x;
		int64_t turn_end = oncall_next_handover(r->rotation_ms, r->start_ms, now), since,
		        until;
		bool overridden = false;
		const char *who = oncall_who(r, now, &until, &overridden);
		for (size_t k = 0; k < r->n_members; k++)
			json_array_append_new(members, json_string(r->members[k]));
		/* the current turn began one rotation before its end, or never (before start) */
		since = now < r->start_ms || turn_end == INT64_MAX ? TIME_NULL
		                                                   : turn_end - r->rotation_ms;
		for (size_t k = 0; k < r->n_overrides; k++) {
			const struct sw_roster_override *ov = &r->overrides[k];
			if (overridden && ov->from_ms <= now && now < ov->to_ms)
				since = ov->from_ms; /* the last active one is who */
			json_array_append_new(ovs,
			                      json_pack("{s:s, s:o, s:o}", "member", ov->member,
			                                "from", api_time_json(ov->from_ms), "to",
			                                api_time_json(ov->to_ms)));
		}
		x = json_pack("{s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:b, s:o}", "roster",
		              r->name, "member", api_str_json(who), "members", members,
		              "rotation_seconds", (json_int_t)(r->rotation_ms / 1000), "start",
		              api_time_json(r->start_ms), "since", api_time_json(since), "until",
		              api_time_json(until == INT64_MAX ? TIME_NULL : until), "levels",
		              roster_levels(cfg, r), "override", overridden, "overrides", ovs);
		json_array_append_new(rosters, x);
	}
	for (size_t l = 0; l < 3; l++) {
		json_t *a = json_array();
		for (size_t k = 0; k < cfg->levels[l].n_notify; k++) {
			const char *name = cfg->levels[l].notify[k];
			const struct sw_receiver *rc = receiver_of(cfg, name);
			const struct sw_roster *r = rc ? rc->roster : NULL;
			json_array_append_new(a,
			                      json_pack("{s:s, s:o, s:o}", "receiver", name,
			                                "roster", api_str_json(r ? r->name : NULL),
			                                "member", api_str_json(on_call(r, now))));
		}
		json_object_set_new(levels, LEVEL_NAMES[l], a);
	}
	o = json_pack("{s:o, s:o, s:o}", "at", api_time_json(now), "rosters", rosters, "levels",
	              levels);
	api_config_put(req, cfg);
	return api_json(resp, 200, o);
}
