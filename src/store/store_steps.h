/*
 * store_steps.h - step records as stored: ingest (dedupe, the step's current state, the
 * instance summary), current step states (stuck candidates, one instance's steps), and what
 * the store knows of instances (one, or a user's).
 */
#ifndef SW_STORE_STEPS_H
#define SW_STORE_STEPS_H

#include "store/store.h"
#include "core/step.h"

/*
 * Record step records of one workflow. A record already stored (same workflow, instance,
 * step, status and updated_at) is dropped. is_new[i] (caller-allocated, n entries, may be
 * NULL) is 0 for a record seen before, 1 for a new record older than the step's stored
 * current state (a late-committing transaction), 2 for a new record that became the step's
 * current state. Records are applied in array order. For new records it updates the instance's
 * current step state (the record with the latest updated_at wins, so a late-committing older record
 * never overwrites a newer state) and the instance: user_id, started_at (earliest), last progress
 * (latest updated_at), furthest step index reached, completed_at when the last step
 * (n_steps - 1) succeeded.
 */
int store_steps_ingest(struct store *st, const char *workflow, int n_steps,
                       const struct step_record *recs, size_t n, unsigned char *is_new,
                       struct sw_err *err);

/* Steps IN_PROGRESS since started_before or earlier and last updated after updated_after
 * (TIME_NULL: any time), with no "stuck" alert of this attempt: none open, and no closed one
 * that occurred at or after the step's started_at (one stuck episode is one alert, however
 * it was closed; a new attempt, with a later started_at, may open another); oldest first,
 * at most limit. */
int store_steps_stuck(struct store *st, const char *workflow, const char *step,
                      int64_t started_before, int64_t updated_after, size_t limit,
                      struct instance_step **out, size_t *n, struct sw_err *err);
/* Current step states of one instance, in step order. */
int store_instance_steps(struct store *st, const char *workflow, const char *instance_id,
                         struct instance_step **out, size_t *n, struct sw_err *err);

/* What the store knows of one instance (from its ingested step records). */
struct instance_info {
	char *workflow, *instance_id, *user_id, *labels_json;
	int64_t started_at;       /* earliest started_at; TIME_NULL when none */
	int64_t last_progress_at; /* latest updated_at */
	int max_step_index;       /* furthest step reached */
	int64_t completed_at;     /* TIME_NULL until the last step succeeded */
};
void instance_info_release(struct instance_info *i);
/* STORE_ENOTFOUND when the instance has no step record. */
int store_instance_get(struct store *st, const char *workflow, const char *instance_id,
                       struct instance_info *out, struct sw_err *err);

/* Instances of one user (any workflow), most recent progress first, at most limit. */
int store_user_instances(struct store *st, const char *user_id, size_t limit,
                         struct instance_info **out, size_t *n, struct sw_err *err);
void instance_infos_free(struct instance_info *v, size_t n);

/* How many of recs (records of workflow) are already stored, by their identity (instance,
 * step, status, updated_at). */
int store_step_records_known(struct store *st, const char *workflow, const struct step_record *recs,
                             size_t n, size_t *known, struct sw_err *err);

#endif
