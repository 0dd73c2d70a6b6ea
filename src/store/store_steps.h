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
 * Apply step records of one workflow, in array order, to the current state of their steps:
 * a record replaces the stored state when it supersedes it (core/lifecycle.c's
 * step_record_supersedes: the latest updated_at wins, a tie goes to the further status), so
 * a record read again, or a late-committing older one, changes nothing. current[i]
 * (caller-allocated, n entries, may be NULL) is true when record i became its step's current
 * state. Every record also updates its instance: user_id, started_at (earliest), last
 * progress (latest updated_at), furthest step index reached, completed_at when the last step
 * (n_steps - 1) succeeded. The store keeps no log of the records themselves: the source
 * holds them.
 */
int store_steps_ingest(struct store *st, const char *workflow, int n_steps,
                       const struct step_record *recs, size_t n, bool *current, struct sw_err *err);

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

#endif
