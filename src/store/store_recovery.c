/*
 * store_recovery.c - the store side of self-recovery: which open alerts of a step are due
 * for a recovery call, recording each attempt with its history row, and whether an
 * incident is still in recovery (for notify_after_recovery). Columns from migration 0006.
 *
 * DESIGN: the attempt count is compare-and-set (recovery_attempts = attempt - 1), so an
 * attempt recorded twice (a retried task after a crash between the call and the commit)
 * writes one history row. The call itself may then have gone out twice; it carries an
 * Idempotency-Key made of the alert id and attempt number for the application to see that.
 */
#include "util/common.h"
#include "store/store-int.h"

void recovery_rows_free(struct recovery_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].workflow);
		free(v[i].step);
		free(v[i].instance_id);
		free(v[i].user_id);
		free(v[i].error);
		free(v[i].labels_json);
	}
	free(v);
}

int store_recovery_due(struct store *st, const char *workflow, const char *step, int max_attempts,
                       int64_t now, int64_t after_id, size_t limit, struct recovery_row **out,
                       size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[6] = {sp_text(workflow), sp_text(step),    sp_int(max_attempts),
	                           sp_int(now),       sp_int(after_id), sp_int((int64_t)limit)};
	int rc;

	*out = NULL;
	*n = 0;
	rc = store__exec(st,
	                 "SELECT id, workflow, step, instance_id, user_id, error, labels,"
	                 " recovery_attempts, next_recovery_at FROM alerts"
	                 " WHERE workflow = $1 AND step = $2"
	                 " AND state < " SQL_ALERT_RESOLVED " AND id > $5"
	                 " AND recovery_attempts < $3"
	                 " AND (next_recovery_at IS NULL OR next_recovery_at <= $4)"
	                 " ORDER BY id LIMIT $6",
	                 p, 6, &rows, NULL, err);
	if (rc)
		goto out;
	*out = xcalloc(rows.nrows + 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++) {
		struct recovery_row *r = &(*out)[i];
		const char *labels = store_rows_text(&rows, i, 6);
		r->alert_id = store_rows_int(&rows, i, 0, 0);
		r->workflow = store_rows_dup(&rows, i, 1);
		r->step = store_rows_dup(&rows, i, 2);
		r->instance_id = store_rows_dup(&rows, i, 3);
		r->user_id = store_rows_dup(&rows, i, 4);
		r->error = store_rows_dup(&rows, i, 5);
		r->labels_json = xstrdup(labels ? labels : "{}");
		r->attempts = (int)store_rows_int(&rows, i, 7, 0);
		r->next_at = store_rows_int(&rows, i, 8, TIME_NULL);
	}
	*n = rows.nrows;
out:
	store_rows_release(&rows);
	return rc;
}

int store_recovery_record(struct store *st, int64_t alert_id, int attempt, int attempts_after,
                          int64_t next_at, int64_t now, const char *reason, bool *applied,
                          struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[4] = {sp_int(alert_id), sp_int(attempt - 1), sp_int(attempts_after),
	                           sp_time(next_at)};
	int64_t changed = 0;
	int rc;

	if (applied)
		*applied = false;
	if (attempt < 1)
		return sw_err_set(err, "store: recovery attempts count from 1"), STORE_ERROR;
	rc = store__enter(st, err);
	if (rc)
		return rc;
	rc = store__exec(st,
	                 "UPDATE alerts SET recovery_attempts = $3, next_recovery_at = $4"
	                 " WHERE id = $1 AND recovery_attempts = $2",
	                 p, 4, NULL, &changed, err);
	if (rc)
		goto out;
	if (changed == 0) {
		/* already recorded, or no such alert */
		rc = store__exec(st, "SELECT id FROM alerts WHERE id = $1", p, 1, &rows, NULL, err);
		if (!rc && rows.nrows == 0)
			rc = store__err(err, STORE_ENOTFOUND, "alert %" PRId64 " not found",
			                alert_id);
		goto out;
	}
	rc = store_alert_event_add(st, alert_id, now, "recovery_attempt", "recovery", reason, err);
	if (!rc && applied)
		*applied = true;
out:
	store_rows_release(&rows);
	return store__leave(st, rc, err);
}

int store_recovery_get(struct store *st, int64_t alert_id, bool *open, int *attempts,
                       int64_t *next_at, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_int(alert_id)};
	int rc = store__exec(st,
	                     "SELECT state, recovery_attempts, next_recovery_at FROM alerts"
	                     " WHERE id = $1",
	                     p, 1, &rows, NULL, err);
	if (!rc && rows.nrows == 0)
		rc = store__err(err, STORE_ENOTFOUND, "alert %" PRId64 " not found", alert_id);
	if (!rc) {
		*open = store_rows_int(&rows, 0, 0, 0) < 4;
		*attempts = (int)store_rows_int(&rows, 0, 1, 0);
		*next_at = store_rows_int(&rows, 0, 2, TIME_NULL);
	}
	store_rows_release(&rows);
	return rc;
}

int store_incident_recovery_pending(struct store *st, int64_t incident_id, int max_attempts,
                                    int64_t now, bool *pending, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[3] = {sp_int(incident_id), sp_int(max_attempts), sp_int(now)};
	int rc = store__exec(st,
	                     "SELECT 1 FROM alerts WHERE incident_id = $1"
	                     " AND state < " SQL_ALERT_RESOLVED
	                     " AND (recovery_attempts < $2 OR next_recovery_at > $3) LIMIT 1",
	                     p, 3, &rows, NULL, err);
	*pending = !rc && rows.nrows > 0;
	store_rows_release(&rows);
	return rc;
}
