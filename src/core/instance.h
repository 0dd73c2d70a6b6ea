/*
 * instance.h - the instance summary, pure: what stepwatch keeps of one workflow instance
 * from its step records (user, labels, start, last progress, furthest step, completion).
 *
 * The rules, for the records of one instance:
 *  - started_at is the earliest started_at of any record (TIME_NULL while none has one);
 *  - last_progress_at is the latest updated_at;
 *  - max_step_index is the furthest step index reached;
 *  - completed_at is set once, by the first record of the last step (n_steps - 1) that
 *    succeeded: its finished_at, else its updated_at; it is never moved afterwards;
 *  - user_id and labels come from the latest record (the latest updated_at; the later
 *    record of a batch on a tie) that has them.
 *
 * store_steps_ingest folds the new records of a batch into one summary per instance with
 * instance_summary_add, then merges it into the stored row; that merge is a set-based SQL
 * upsert (sql_instance_upsert, pg_instance_upsert in store/store.c) that encodes
 * instance_summary_merge, and tests/store/test_store_rules.c checks the two agree.
 */
#ifndef SW_CORE_INSTANCE_H
#define SW_CORE_INSTANCE_H

#include "util/common.h"
#include "core/step.h"

struct instance_summary {
	const char *instance_id;
	const char *user_id, *labels_json; /* borrowed from the records; may be NULL */
	int64_t started_at;                /* TIME_NULL: no record had one */
	int64_t last_progress_at;          /* TIME_NULL: no record yet */
	int64_t completed_at;              /* TIME_NULL: not completed */
	int max_step_index;                /* -1: no record yet */
};

/* An empty summary of instance_id (no record yet). */
void instance_summary_init(struct instance_summary *s, const char *instance_id);

/* Fold record r (of a workflow of n_steps steps) into s; records in the order applied. */
void instance_summary_add(struct instance_summary *s, const struct step_record *r, int n_steps);

/* What the stored summary becomes when the summary of a later batch is merged into it
 * (stored may be empty: then it becomes batch). */
void instance_summary_merge(struct instance_summary *stored, const struct instance_summary *batch);

#endif
