/*
 * instance.c - the instance summary (instance.h). Pure.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/instance.h"

void instance_summary_init(struct instance_summary *s, const char *instance_id)
{
	memset(s, 0, sizeof(*s));
	s->instance_id = instance_id;
	s->started_at = s->last_progress_at = s->completed_at = TIME_NULL;
	s->max_step_index = -1;
}

void instance_summary_add(struct instance_summary *s, const struct step_record *r, int n_steps)
{
	if (r->updated_at >= s->last_progress_at) {
		s->last_progress_at = r->updated_at;
		if (r->user_id)
			s->user_id = r->user_id;
		if (r->labels_json)
			s->labels_json = r->labels_json;
	}
	if (r->started_at != TIME_NULL &&
	    (s->started_at == TIME_NULL || r->started_at < s->started_at))
		s->started_at = r->started_at;
	if (r->step_index > s->max_step_index)
		s->max_step_index = r->step_index;
	if (r->step_index == n_steps - 1 && r->status == STEP_SUCCESS &&
	    s->completed_at == TIME_NULL)
		s->completed_at = r->finished_at != TIME_NULL ? r->finished_at : r->updated_at;
}

void instance_summary_merge(struct instance_summary *stored, const struct instance_summary *batch)
{
	if (stored->last_progress_at == TIME_NULL) {
		*stored = *batch;
		return;
	}
	if (batch->last_progress_at >= stored->last_progress_at) {
		if (batch->user_id)
			stored->user_id = batch->user_id;
		if (batch->labels_json)
			stored->labels_json = batch->labels_json;
	}
	if (batch->started_at != TIME_NULL &&
	    (stored->started_at == TIME_NULL || batch->started_at < stored->started_at))
		stored->started_at = batch->started_at;
	if (batch->last_progress_at > stored->last_progress_at)
		stored->last_progress_at = batch->last_progress_at;
	if (batch->max_step_index > stored->max_step_index)
		stored->max_step_index = batch->max_step_index;
	if (stored->completed_at == TIME_NULL)
		stored->completed_at = batch->completed_at;
}
