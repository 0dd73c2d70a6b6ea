/*
 * step.c - step statuses by name, and the check every incoming step record goes through
 * (step.h).
 */
#include "util/common.h"
#include "core/step.h"

static const char *const step_names[] = {"IN_PROGRESS", "SUCCESS", "FAILED"};

const char *step_status_name(enum step_status s)
{
	if ((unsigned)s >= ARRAY_SIZE(step_names))
		return "UNKNOWN";
	return step_names[s];
}

int step_status_parse(const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(step_names); i++) {
		const char *a = s, *b = step_names[i];
		while (*a && *b && (*a == *b || (*a >= 'a' && *a <= 'z' && *a - 32 == *b))) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return (int)i;
	}
	return -1;
}

static bool is_time(int64_t t)
{
	return t != TIME_NULL && t != STEP_TIME_BAD;
}

const char *step_record_check(const struct step_record_fields *f, struct step_record *out)
{
	int stt;
	memset(out, 0, sizeof(*out));
	out->started_at = out->finished_at = out->updated_at = TIME_NULL;
	if (!f->instance_id || !*f->instance_id)
		return "instance_id is null or empty";
	if (!f->user_id || !*f->user_id)
		return "user_id is null or empty";
	if (!f->step || f->step_index < 0)
		return "step is not one of the workflow's steps";
	if (!f->status || (stt = step_status_parse(f->status)) < 0)
		return "status is not IN_PROGRESS, SUCCESS or FAILED";
	if (!is_time(f->updated_at))
		return "updated_at is null or not a timestamp";
	if (!is_time(f->started_at))
		return "started_at is null or not a timestamp";
	if (f->finished_at == STEP_TIME_BAD)
		return "finished_at is not a timestamp";
	out->instance_id = f->instance_id;
	out->user_id = f->user_id;
	out->step = f->step;
	out->step_index = f->step_index;
	out->status = (enum step_status)stt;
	out->error = f->error;
	out->labels_json = f->labels_json;
	out->started_at = f->started_at;
	out->finished_at = f->finished_at;
	out->updated_at = f->updated_at;
	return NULL;
}

void instance_step_release(struct instance_step *s)
{
	if (!s)
		return;
	free(s->workflow);
	free(s->instance_id);
	free(s->user_id);
	free(s->step);
	free(s->error);
	free(s->labels_json);
	memset(s, 0, sizeof(*s));
}

void instance_steps_free(struct instance_step *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		instance_step_release(&v[i]);
	free(v);
}
