/*
 * step.h - a step record (one step of one workflow instance at one time, as a source row
 * or a pushed item gives it) and the one check both ways in apply to it. Pure.
 */
#ifndef SW_CORE_STEP_H
#define SW_CORE_STEP_H

#include "util/common.h"
#include "util/timeutil.h"

enum step_status {
	STEP_IN_PROGRESS = 0,
	STEP_SUCCESS = 1,
	STEP_FAILED = 2
};
const char *step_status_name(enum step_status s);
/* Case-insensitive "IN_PROGRESS" / "SUCCESS" / "FAILED"; -1 otherwise. */
int step_status_parse(const char *s);

struct step_record {
	const char *instance_id;
	const char *user_id;
	const char *step;
	int step_index; /* position of step in the workflow */
	enum step_status status;
	const char *error;  /* NULL unless failed */
	int64_t started_at; /* TIME_NULL when absent (step_record_check refuses that) */
	int64_t finished_at;
	int64_t updated_at;
	const char *labels_json; /* segment values as a JSON object, or NULL */
};

/* A time field that was given but is not a timestamp (step_record_fields). */
#define STEP_TIME_BAD (TIME_NULL + 1)

/*
 * One record's fields as a source row or a pushed item gives them, before checking: text as
 * given (NULL when absent or null); the step's position in its workflow, -1 when the step is
 * not one of them (the caller looks it up: core knows no configuration); each time as
 * parsed: TIME_NULL when absent or null, STEP_TIME_BAD when given but not a timestamp.
 */
struct step_record_fields {
	const char *instance_id, *user_id, *step, *status;
	int step_index;
	const char *error;       /* may be NULL */
	const char *labels_json; /* may be NULL */
	int64_t started_at, finished_at, updated_at;
};

/*
 * The one rule for accepting a step record, whichever way it came in (polled by the watcher
 * or pushed to POST /api/v1/step-records): instance_id and user_id present and not empty,
 * step one of the workflow's, status IN_PROGRESS, SUCCESS or FAILED (any case), updated_at
 * and started_at present timestamps, finished_at absent or a timestamp. Fills *out (its
 * strings borrowed from f) and returns NULL, or returns why the record is refused (a
 * constant phrase naming the field, e.g. "started_at is null or not a timestamp").
 */
const char *step_record_check(const struct step_record_fields *f, struct step_record *out);

/* Current state of one step of one instance. */
struct instance_step {
	char *workflow, *instance_id, *user_id, *step, *error, *labels_json;
	int step_index;
	enum step_status status;
	int64_t started_at, finished_at, updated_at;
};
void instance_step_release(struct instance_step *s);
void instance_steps_free(struct instance_step *v, size_t n);

#endif
