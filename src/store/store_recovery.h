/*
 * store_recovery.h - self-recovery bookkeeping: which open alerts are due for a recovery
 * attempt, recording attempts, and whether an incident is still in recovery.
 */
#ifndef SW_STORE_RECOVERY_H
#define SW_STORE_RECOVERY_H

#include "store/store.h"

/* An open alert as the recovery task needs it. */
struct recovery_row {
	int64_t alert_id;
	char *workflow, *step, *instance_id, *user_id;
	char *error;       /* may be NULL */
	char *labels_json; /* never NULL */
	int attempts;      /* recovery attempts made so far */
	int64_t next_at;   /* next_recovery_at; TIME_NULL: due at once */
};
void recovery_rows_free(struct recovery_row *v, size_t n);
/* Open alerts of workflow/step with fewer than max_attempts recovery attempts that are due
 * at now (next_recovery_at NULL or <= now), ids > after_id, lowest id first, at most limit. */
int store_recovery_due(struct store *st, const char *workflow, const char *step, int max_attempts,
                       int64_t now, int64_t after_id, size_t limit, struct recovery_row **out,
                       size_t *n, struct sw_err *err);
/*
 * Record recovery attempt `attempt` (1-based) of an alert, in one transaction: compare-and-set
 * recovery_attempts from attempt - 1 to attempts_after, next_recovery_at = next_at, and one
 * history row (event "recovery_attempt", actor "recovery", reason). *applied (may be NULL)
 * is false, and nothing is written, when that attempt was already recorded.
 * STORE_ENOTFOUND for an unknown alert.
 */
int store_recovery_record(struct store *st, int64_t alert_id, int attempt, int attempts_after,
                          int64_t next_at, int64_t now, const char *reason, bool *applied,
                          struct sw_err *err);
/* One alert's recovery counters: *open, *attempts, *next_at (TIME_NULL when unset). */
int store_recovery_get(struct store *st, int64_t alert_id, bool *open, int *attempts,
                       int64_t *next_at, struct sw_err *err);
/*
 * For notify_after_recovery: *pending is true when an open alert of the incident is still
 * in recovery at now under max_attempts (core/recovery.h recovery_pending: fewer attempts
 * than max_attempts, or next_recovery_at after now). The caller checks that the incident's
 * step has recover enabled and notify_after_recovery set.
 */
int store_incident_recovery_pending(struct store *st, int64_t incident_id, int max_attempts,
                                    int64_t now, bool *pending, struct sw_err *err);

#endif
