/*
 * sqlite_sql.c - the SQLite dialect of the store (struct store_sql in store-int.h): the
 * statements whose text differs from PostgreSQL's, and the per-item strategies.
 *
 * DESIGN: a batch is one prepared statement run once per item (store__exec_many) inside the
 * caller's transaction: SQLite runs in-process, so a round trip costs nothing and the simple
 * form is the fast one. The domain files call these through st->be->sql.
 */
#include "util/common.h"
#include "store/store-int.h"

/* ---- alerts ----------------------------------------------------------------------------- */

/* The alert of the key: the open one (alerts_open_key_idx), else the newest closed one
 * (alerts_closed_key_idx). */
static const char *const sql_key_lookup =
    "SELECT id, state, incident_id FROM (SELECT id, state, incident_id, 0 AS closed"
    " FROM alerts WHERE workflow = $2 AND instance_id = $3 AND step = $4 AND rule = $1"
    " AND state < " SQL_ALERT_RESOLVED " UNION ALL SELECT * FROM (SELECT id, state,"
    " incident_id, 1 FROM alerts WHERE workflow = $2 AND instance_id = $3 AND step = $4"
    " AND rule = $1 AND state >= " SQL_ALERT_RESOLVED " ORDER BY id DESC LIMIT 1))"
    " ORDER BY closed, id DESC LIMIT 1";

static const char *const sql_incident_insert =
    "INSERT INTO incidents (group_key, workflow, step, rule, labels, state, level,"
    " open_alerts, total_alerts, affected_users, opened_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, " SQL_INCIDENT_OPEN ", 0, 0, 0, 0, $6, $6)"
    " ON CONFLICT DO NOTHING RETURNING id";

/* No row lock: a SQLite transaction holds the one write lock from its start. */
static const char *const sql_incident_find =
    "SELECT id FROM incidents WHERE group_key = $1 AND state = " SQL_INCIDENT_OPEN;

static const char *const sql_alert_insert =
    "INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state,"
    " error, labels, group_key, occurred_at, opened_at, updated_at, next_escalation_at,"
    " abandon_after_ms, incident_id, reopen_of) VALUES ($1, $2, $3, $4, $5, $6, $16, $7, $8,"
    " $9, $10, $11, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING RETURNING id";

static const char *const sql_history_insert = STORE_HISTORY_INSERT;

static const char *const sql_flap =
    "INSERT INTO rule_flaps (workflow, rule, flaps) VALUES ($1, $2, 1)"
    " ON CONFLICT (workflow, rule) DO UPDATE SET flaps = rule_flaps.flaps + 1";

/* Whether a user had an alert in the incident already: one probe of alerts_incident_idx
 * (incident_id, state, user_id) per state (SQL_ALERT_EVERY_STATE), each an exact key. */
static const char *const sql_user_seen =
    "SELECT count(*) FROM (SELECT 1 FROM alerts WHERE incident_id = $1"
    " AND state IN (" SQL_ALERT_EVERY_STATE ") AND user_id = $2 LIMIT $3) x";

/* level: core/incident.c's incident_level, encoded here (test_store_rules checks both). */
static const char *const sql_incident_add =
    "UPDATE incidents SET total_alerts = total_alerts + $3, open_alerts = open_alerts + $3,"
    " affected_users = affected_users + $4,"
    " level = COALESCE((SELECT state FROM alerts WHERE incident_id = $1"
    " AND state < " SQL_ALERT_RESOLVED
    " ORDER BY state DESC LIMIT 1), level), updated_at = $2 WHERE id = $1";

static const char *const sql_alert_cas =
    "UPDATE alerts SET state = $2, updated_at = $3, next_escalation_at = $4,"
    " resolved_at = CASE WHEN $2 = " SQL_ALERT_RESOLVED " THEN $3 ELSE resolved_at END,"
    " resolved_by = CASE WHEN $2 = " SQL_ALERT_RESOLVED " THEN $5 ELSE resolved_by END"
    " WHERE id = $1 AND state = $6 RETURNING incident_id";

/*
 * An incident after state changes of its alerts: open_alerts moves by the changes' delta
 * (each applied compare-and-set moves exactly one alert, and the incident row lock orders
 * concurrent writers), the level is the highest open state (one probe of
 * alerts_incident_idx), and an incident left without open alerts is resolved. Counting the
 * incident's alerts instead would cost its size per call: quadratic over a large incident
 * worked through in batches.
 */
/* level and closing: core/incident.c's incident_level and incident_closes, encoded here; the
 * closed counts grow by the alerts closed (0010_closed_counts.sql). */
static const char *const sql_incident_delta =
    "UPDATE incidents SET open_alerts = open_alerts + $3, resolved_alerts = resolved_alerts + $4,"
    " abandoned_alerts = abandoned_alerts + $5,"
    " self_resolved_alerts = self_resolved_alerts + $6,"
    " level = COALESCE((SELECT state FROM alerts WHERE incident_id = $1"
    " AND state < " SQL_ALERT_RESOLVED " ORDER BY state DESC LIMIT 1), level), updated_at = $2,"
    " state = CASE WHEN state = " SQL_INCIDENT_OPEN
    " AND open_alerts + $3 = 0 THEN " SQL_INCIDENT_RESOLVED " ELSE state END,"
    " resolved_at = CASE WHEN state = " SQL_INCIDENT_OPEN " AND open_alerts + $3 = 0 THEN $2"
    " ELSE resolved_at END WHERE id = $1";

/* The alerts of p (STORE_ALERT_NEW_PARAMS each, see store_sql.alerts_insert) one by one, then the
 * history rows and flap counts of those created. */
static int sqlite_alerts_insert(struct store *st, const struct store_param *p, size_t n,
                                const size_t *todo, struct stmt_cache *keys, struct store_rows *res,
                                struct sw_err *err)
{
	struct store_param *q = xcalloc(n * 16 + 1, sizeof(*q));
	size_t nh = 0, nf = 0;
	int rc;
	(void)todo;
	(void)keys;
	for (size_t t = 0; t < n; t++) {
		const struct store_param *a = p + t * STORE_ALERT_NEW_PARAMS;
		memcpy(q + t * 16, a, 15 * sizeof(*q));
		q[t * 16 + 15] = a[16]; /* state */
	}
	rc = store__exec_many(st, sql_alert_insert, q, 16, n, res, err);
	if (rc)
		goto out;
	free(q);
	q = xcalloc(n * 7 + 1, sizeof(*q));
	for (size_t t = 0; t < n; t++) {
		const struct store_param *a = p + t * STORE_ALERT_NEW_PARAMS;
		struct store_param *h = q + nh * 7;
		if (!res[t].nrows)
			continue;
		h[0] = sp_int(store_rows_int(&res[t], 0, 0, 0));
		h[1] = a[10]; /* now */
		h[2] = a[15]; /* the opener */
		h[3] = sp_text(a[14].kind == SP_NULL ? ALERT_EVENT_OPENED : ALERT_EVENT_REOPENED);
		h[4] = a[6]; /* error */
		h[5] = sp_text(NULL);
		h[6] = sp_int(ALERT_INITIATED);
		nh++;
	}
	rc = store__exec_many(st, sql_history_insert, q, 7, nh, NULL, err);
	if (rc)
		goto out;
	for (size_t t = 0; t < n; t++) {
		const struct store_param *a = p + t * STORE_ALERT_NEW_PARAMS;
		if (!res[t].nrows || a[14].kind == SP_NULL)
			continue;
		q[nf * 2] = a[1];     /* workflow */
		q[nf * 2 + 1] = a[0]; /* rule */
		nf++;
	}
	rc = store__exec_many(st, sql_flap, q, 2, nf, NULL, err);
out:
	free(q);
	return rc;
}

/* ---- step records ----------------------------------------------------------------------- */

/* The WHERE is core/lifecycle.c's step_record_supersedes (the latest updated_at wins, a tie
 * goes to the further status), encoded for a set-based upsert; tests/store/test_store_rules.c
 * runs the same cases through both. */
static const char *const sql_step_upsert =
    "INSERT INTO instance_steps (workflow, instance_id, step, step_index, status, user_id, "
    "error, started_at, finished_at, updated_at, labels)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (workflow, instance_id, step) DO UPDATE SET"
    " step_index = excluded.step_index, status = excluded.status,"
    " user_id = COALESCE(excluded.user_id, instance_steps.user_id),"
    " error = excluded.error,"
    " started_at = COALESCE(excluded.started_at, instance_steps.started_at),"
    " finished_at = excluded.finished_at, updated_at = excluded.updated_at,"
    " labels = COALESCE(excluded.labels, instance_steps.labels)"
    /* the latest updated_at wins; on a tie the further status (FAILED > SUCCESS >
     * IN_PROGRESS), so the outcome does not depend on arrival order */
    " WHERE excluded.updated_at > instance_steps.updated_at"
    " OR (excluded.updated_at = instance_steps.updated_at"
    " AND excluded.status > instance_steps.status)"
    " RETURNING step";

/* The merge is core/instance.c's instance_summary_merge, encoded per row. */
#define SQL_INSTANCE_UPSERT                                                                      \
	"INSERT INTO instances (workflow, instance_id, user_id, started_at, last_progress_at, "  \
	"max_step_index, completed_at, labels, touched) VALUES ($1, $2, $3, $4, $5, $6, $7, $8," \
	" (SELECT COALESCE(max(touched), 0) + 1 FROM instances WHERE workflow = $1))"            \
	" ON CONFLICT (workflow, instance_id) DO UPDATE SET touched = excluded.touched,"         \
	" user_id = CASE WHEN excluded.last_progress_at >= instances.last_progress_at"           \
	" THEN COALESCE(excluded.user_id, instances.user_id) ELSE instances.user_id END,"        \
	" started_at = CASE WHEN instances.started_at IS NULL"                                   \
	" OR excluded.started_at < instances.started_at"                                         \
	" THEN excluded.started_at ELSE instances.started_at END,"                               \
	" last_progress_at = CASE WHEN excluded.last_progress_at > instances.last_progress_at"   \
	" THEN excluded.last_progress_at ELSE instances.last_progress_at END,"                   \
	" max_step_index = CASE WHEN excluded.max_step_index > instances.max_step_index"         \
	" THEN excluded.max_step_index ELSE instances.max_step_index END,"                       \
	" completed_at = COALESCE(instances.completed_at, excluded.completed_at),"               \
	" labels = CASE WHEN excluded.last_progress_at >= instances.last_progress_at"            \
	" THEN COALESCE(excluded.labels, instances.labels) ELSE instances.labels END"
static const char *const sql_instance_upsert = SQL_INSTANCE_UPSERT;
/* The same, writing a row only when the fold changes one of its columns. */
static const char *const sql_instance_upsert_if =
    SQL_INSTANCE_UPSERT SQL_INSTANCE_FOLD_CHANGES("instances", "IS NOT");

/* Phase 1 (store_sql.steps_upsert): one upsert per record, in batch order. */
static int sqlite_steps_upsert(struct store *st, const char *workflow,
                               const struct step_record *recs, size_t n, bool *cur, size_t *added,
                               struct sw_err *err)
{
	struct store_param *p = xcalloc(n * 11 + 1, sizeof(*p));
	struct store_rows *res = xcalloc(n + 1, sizeof(*res));
	int rc;
	for (size_t k = 0; k < n; k++) {
		const struct step_record *r = &recs[k];
		struct store_param *q = p + k * 11;
		q[0] = sp_text(workflow);
		q[1] = sp_text(r->instance_id);
		q[2] = sp_text(r->step);
		q[3] = sp_int(r->step_index);
		q[4] = sp_int(r->status);
		q[5] = sp_text(r->user_id);
		q[6] = sp_text(r->error);
		q[7] = sp_time(r->started_at);
		q[8] = sp_time(r->finished_at);
		q[9] = sp_time(r->updated_at);
		q[10] = sp_text(r->labels_json);
	}
	rc = store__exec_many(st, sql_step_upsert, p, 11, n, res, err);
	*added = 0; /* SQLite keeps no statistics to refresh (sqlite_analyze_if_stale) */
	for (size_t k = 0; k < n; k++) {
		cur[k] = !rc && res[k].nrows > 0;
		store_rows_release(&res[k]);
	}
	free(res);
	free(p);
	return rc;
}

/* Phase 2 (store_sql.instances_upsert): one upsert per instance. */
static int sqlite_instances_upsert(struct store *st, const char *workflow,
                                   const struct instance_summary *aggs, size_t n, bool if_changed,
                                   size_t *added, struct sw_err *err)
{
	struct store_param *p = xcalloc(n * 8 + 1, sizeof(*p));
	int rc;
	*added = 0; /* no statistics to refresh */
	for (size_t i = 0; i < n; i++) {
		const struct instance_summary *g = &aggs[i];
		struct store_param *q = p + i * 8;
		q[0] = sp_text(workflow);
		q[1] = sp_text(g->instance_id);
		q[2] = sp_text(g->user_id);
		q[3] = sp_time(g->started_at);
		q[4] = sp_time(g->last_progress_at);
		q[5] = sp_int(g->max_step_index);
		q[6] = sp_time(g->completed_at);
		q[7] = sp_text(g->labels_json);
	}
	rc = store__exec_many(st, if_changed ? sql_instance_upsert_if : sql_instance_upsert, p, 8,
	                      n, NULL, err);
	free(p);
	return rc;
}

/* SQLite's planner needs no fresh statistics for a batch just written: nothing to count. */
static int sqlite_analyze_if_stale(struct store *st, const char *table, size_t added,
                                   struct sw_err *err)
{
	(void)st;
	(void)table;
	(void)added;
	(void)err;
	return 1;
}

/* store_sql.exec_planned: SQLite plans a statement without its values (no STAT4) either
 * way. */
static int sqlite_exec_planned(struct store *st, const char *sql, const struct store_param *p,
                               size_t np, struct store_rows *rows, struct sw_err *err)
{
	return store__exec(st, sql, p, np, rows, NULL, err);
}

const struct store_sql store_sql_sqlite = {
    .batch = store__exec_many,
    .batch_by_index = store__exec_many,
    .migrations_table_exists = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'schema_migrations'",
    .key_lookup = sql_key_lookup,
    .incident_insert = sql_incident_insert,
    .incident_find = sql_incident_find,
    .user_seen = sql_user_seen,
    .incident_add = sql_incident_add,
    .alert_cas = sql_alert_cas,
    .history_insert = sql_history_insert,
    .incident_delta = sql_incident_delta,
    .recovery_mark = "SELECT COALESCE(max(touched), 0) + 1 FROM instances WHERE workflow = $1",
    .alerts_insert = sqlite_alerts_insert,
    .steps_upsert = sqlite_steps_upsert,
    .instances_upsert = sqlite_instances_upsert,
    .analyze_if_stale = sqlite_analyze_if_stale,
    .exec_planned = sqlite_exec_planned,
};
