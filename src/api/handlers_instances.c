/*
 * handlers_instances.c - GET /api/v1/instances/{workflow}/{instance_id}: one instance's
 * timeline (what the store knows of it, its step states in step order, its alerts newest
 * first, and the recovery attempts recorded in their history), and
 * GET /api/v1/users/{user_id}: every instance and alert of one user. Both are capped at
 * 1000 instances and 1000 alerts; 404 when the store knows nothing of the id.
 */
#include "util/common.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/handlers-int.h"
#include "api/forms.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "core/step.h"

#define VIEW_MAX 1000

static json_t *steps_json(const struct instance_step *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "step", api_str_json(v[i].step));
		json_object_set_new(o, "step_index", json_integer(v[i].step_index));
		json_object_set_new(o, "status", json_string(step_status_name(v[i].status)));
		json_object_set_new(o, "error", api_str_json(v[i].error));
		json_object_set_new(o, "started_at", api_time_json(v[i].started_at));
		json_object_set_new(o, "finished_at", api_time_json(v[i].finished_at));
		json_object_set_new(o, "updated_at", api_time_json(v[i].updated_at));
		json_object_set_new(o, "labels", api_labels_json(v[i].labels_json));
		json_array_append_new(a, o);
	}
	return a;
}

static void instance_fields(json_t *o, const struct instance_info *in)
{
	json_object_set_new(o, "workflow", api_str_json(in->workflow));
	json_object_set_new(o, "instance_id", api_str_json(in->instance_id));
	json_object_set_new(o, "started_at", api_time_json(in->started_at));
	json_object_set_new(o, "last_progress_at", api_time_json(in->last_progress_at));
	json_object_set_new(o, "completed_at", api_time_json(in->completed_at));
}

int api_instances_get(struct api_req *req, struct api_resp *resp)
{
	const char *wf = api_param(req, "workflow"), *iid = api_param(req, "instance_id");
	struct instance_info in;
	struct instance_step *steps = NULL;
	struct alert *al = NULL;
	struct alert_filter f;
	struct sw_err err = {""};
	struct store *st;
	size_t ns = 0, na = 0;
	json_t *o = NULL, *alerts, *attempts;
	int rc;

	memset(&in, 0, sizeof(in));
	if (!(st = api_store(req, resp)))
		return -1;
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.workflow = wf;
	f.instance_id = iid;
	f.limit = VIEW_MAX;
	rc = store_instance_get(st, wf, iid, &in, &err);
	if (rc == STORE_ENOTFOUND)
		api_error(resp, 404, "instance '%.200s' of workflow '%.200s' not found", iid, wf);
	if (rc)
		return rc == STORE_ENOTFOUND ? -1 : api_store_fail(resp, rc, &err);
	rc = store_instance_steps(st, wf, iid, &steps, &ns, &err);
	if (!rc)
		rc = store_alerts_list(st, &f, &al, &na, &err);
	if (rc)
		goto out;
	o = json_object();
	instance_fields(o, &in);
	json_object_set_new(o, "user_id", api_str_json(in.user_id));
	json_object_set_new(o, "labels", api_labels_json(in.labels_json));
	json_object_set_new(o, "steps", steps_json(steps, ns));
	alerts = json_array();
	attempts = json_array();
	for (size_t i = 0; i < na; i++) {
		struct alert a;
		struct alert_event *h = NULL;
		size_t nh = 0;
		json_array_append_new(alerts, api_alert_json(&al[i], false, NULL, 0));
		if (i >= 100) /* recovery attempts of the 100 newest alerts */
			continue;
		rc = store_alert_get(st, al[i].id, &a, &h, &nh, &err);
		if (rc)
			goto out;
		for (size_t k = 0; k < nh; k++) {
			if (!h[k].event || strcmp(h[k].event, "recovery_attempt"))
				continue;
			json_array_append_new(
			    attempts,
			    json_pack("{s:I, s:o, s:s, s:s, s:n, s:n, s:o}", "alert_id",
			              (json_int_t)a.id, "at", api_time_json(h[k].at), "actor",
			              h[k].actor ? h[k].actor : "", "event", h[k].event, "from",
			              "to", "reason", api_str_json(h[k].reason)));
		}
		alert_release(&a);
		alert_events_free(h, nh);
	}
	json_object_set_new(o, "alerts", alerts);
	json_object_set_new(o, "recovery_attempts", attempts);
	api_json(resp, 200, o);
	o = NULL;
out:
	json_decref(o);
	instance_info_release(&in);
	instance_steps_free(steps, ns);
	alerts_free(al, na);
	return rc ? api_store_fail(resp, rc, &err) : 0;
}

int api_users_get(struct api_req *req, struct api_resp *resp)
{
	const char *uid = api_param(req, "user_id");
	struct instance_info *in = NULL;
	struct alert *al = NULL;
	struct alert_filter f;
	struct sw_err err = {""};
	struct store *st;
	size_t ni = 0, na = 0;
	json_t *insts, *alerts;
	int rc;

	if (!(st = api_store(req, resp)))
		return -1;
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.user_id = uid;
	f.limit = VIEW_MAX;
	rc = store_user_instances(st, uid, VIEW_MAX, &in, &ni, &err);
	if (!rc)
		rc = store_alerts_list(st, &f, &al, &na, &err);
	if (rc) {
		instance_infos_free(in, ni);
		return api_store_fail(resp, rc, &err);
	}
	if (!ni && !na) {
		instance_infos_free(in, ni);
		alerts_free(al, na);
		return api_error(resp, 404, "user '%.200s' not found", uid), -1;
	}
	insts = json_array();
	for (size_t i = 0; i < ni; i++) {
		json_t *o = json_object();
		instance_fields(o, &in[i]);
		json_array_append_new(insts, o);
	}
	alerts = json_array();
	for (size_t i = 0; i < na; i++)
		json_array_append_new(alerts, api_alert_json(&al[i], false, NULL, 0));
	instance_infos_free(in, ni);
	alerts_free(al, na);
	return api_json(resp, 200,
	                json_pack("{s:o, s:o, s:o}", "user_id", api_str_json(uid), "instances",
	                          insts, "alerts", alerts));
}
