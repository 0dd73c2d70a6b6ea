/*
 * handlers_ingest.c - POST /api/v1/step-records: push ingest of step records (SPEC 3.1)
 * for workflows whose application cannot expose a steps_query.
 *
 * DESIGN: all or nothing. Every record is checked first (the strict decoder for shape,
 * then the workflow, step, status and times as the watcher checks a source row, through
 * step_record_check); the first bad one answers 422 naming its index and field and
 * nothing is stored. Then the records are grouped by workflow and handed to tasks_ingest
 * (the watcher's own path: dedupe, instance state, "failed" alerts) inside one store
 * transaction, so a store error leaves nothing half-applied either. Records already stored
 * (same workflow, instance, step, status and updated_at) change nothing: pushing a batch
 * twice opens nothing the second time.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/json.h"
#include "tasks/tasks.h"
#include "store/store_steps.h"
#include "core/step.h"

/* One checked item; its strings live in the request (body or arena). */
struct pushed {
	const struct sw_workflow *wf;
	struct step_record rec;
};

/* An id field (string or integer) as a string. */
static const char *id_of(struct arena *a, const json_t *v)
{
	if (json_is_integer(v))
		return arena_printf(a, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return json_is_string(v) ? json_string_value(v) : "";
}

static const char *str_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A time field: TIME_NULL when absent or null, STEP_TIME_BAD when not a timestamp. */
static int64_t time_of(const json_t *o, const char *key)
{
	const char *s = str_of(o, key);
	int64_t ms;
	if (!s)
		return TIME_NULL;
	return time_parse(s, &ms) < 0 ? STEP_TIME_BAD : ms;
}

/* The workflow's segment values from the labels object, in the watcher's form. */
static const char *labels_of(struct arena *a, const struct sw_workflow *wf, const json_t *labels)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	if (!wf->n_segments)
		return NULL;
	strbuf_addch(&sb, '{');
	for (size_t i = 0; i < wf->n_segments; i++) {
		const json_t *v = json_object_get(labels, wf->segments[i]);
		if (i)
			strbuf_addch(&sb, ',');
		strbuf_add_json_str(&sb, wf->segments[i]);
		strbuf_addch(&sb, ':');
		if (json_is_string(v))
			strbuf_add_json_str(&sb, json_string_value(v));
		else
			strbuf_addstr(&sb, "null");
	}
	strbuf_addch(&sb, '}');
	out = arena_strndup(a, sb.buf, sb.len);
	strbuf_release(&sb);
	return out;
}

/* Check item i into *p (step_record_check, as the watcher checks a source row); 0, or -1
 * with resp filled (422). */
static int check_item(struct api_req *req, const struct sw_config *cfg, const json_t *o, size_t i,
                      struct pushed *p, struct api_resp *resp)
{
	const char *wfname = str_of(o, "workflow"), *why;
	struct step_record_fields f;
	p->wf = config_workflow(cfg, wfname);
	if (!p->wf)
		return api_error(resp, 422, "item %zu: unknown workflow '%.200s'", i, wfname), -1;
	f = (struct step_record_fields){
	    .instance_id = id_of(req->arena, json_object_get(o, "instance_id")),
	    .user_id = id_of(req->arena, json_object_get(o, "user_id")),
	    .step = str_of(o, "step"),
	    .status = str_of(o, "status"),
	    .error = str_of(o, "error"),
	    .labels_json = labels_of(req->arena, p->wf, json_object_get(o, "labels")),
	    .started_at = time_of(o, "started_at"),
	    .finished_at = time_of(o, "finished_at"),
	    .updated_at = time_of(o, "updated_at"),
	};
	f.step_index = f.step ? config_step_index(p->wf, f.step) : -1;
	if ((why = step_record_check(&f, &p->rec)))
		return api_error(resp, 422, "item %zu: %s", i, why), -1;
	return 0;
}

int api_step_records_push(struct api_req *req, struct api_resp *resp)
{
	const struct sw_config *cfg = NULL;
	struct sw_err err = {""};
	struct pushed *v = NULL;
	struct step_record *batch = NULL;
	struct store *st;
	json_t *body = NULL;
	size_t n = 0, applied_total = 0, opened_total = 0;
	bool *done = NULL;
	const char *actor;
	int rc = -1, src = 0;

	if (api_body_array(req, resp, api_body_step_record, api_body_step_record_n,
	                   API_STEP_RECORDS_MAX, &body))
		return -1;
	n = json_array_size(body);
	v = arena_calloc(req->arena, n, sizeof(*v));
	cfg = api_config_get(req);
	for (size_t i = 0; i < n; i++)
		if (check_item(req, cfg, json_array_get(body, i), i, &v[i], resp))
			goto out;
	if (!(st = api_store(req, resp)))
		goto out;
	batch = arena_calloc(req->arena, n, sizeof(*batch));
	done = arena_calloc(req->arena, n, sizeof(*done));
	/* the pusher opens the alerts: "api:<token name>", or "api" without tokens */
	actor = req->actor && strcmp(req->actor, "anonymous")
	            ? arena_printf(req->arena, "api:%s", req->actor)
	            : "api";
	src = store_tx_begin(st, &err);
	/* one workflow at a time, in order of first appearance */
	for (size_t i = 0; !src && i < n; i++) {
		size_t k = 0, applied = 0, opened = 0;
		if (done[i])
			continue;
		for (size_t j = i; j < n; j++) {
			if (done[j] || v[j].wf != v[i].wf)
				continue;
			batch[k++] = v[j].rec;
			done[j] = true;
		}
		src = tasks_ingest(st, req->arena, v[i].wf, batch, k, api_now(req), actor, &applied,
		                   &opened, &err) < 0
		          ? STORE_ERROR
		          : 0;
		applied_total += applied;
		opened_total += opened;
	}
	if (!src)
		src = store_tx_commit(st, &err);
	else
		store_tx_rollback(st);
	if (src) {
		api_store_fail(resp,
		               src == STORE_ENOTFOUND || src == STORE_ECONFLICT ? STORE_ERROR : src,
		               &err);
		goto out;
	}
	api_json(resp, 200,
	         json_pack("{s:I, s:I, s:I}", "accepted", (json_int_t)n, "new",
	                   (json_int_t)applied_total, "alerts_opened", (json_int_t)opened_total));
	rc = 0;
out:
	if (cfg)
		api_config_put(req, cfg);
	return rc;
}
