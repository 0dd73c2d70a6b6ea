/*
 * pg_sql.c - the PostgreSQL dialect of the store (struct store_sql in store-int.h): the
 * statements whose text differs from SQLite's, and the set-based strategies.
 *
 * DESIGN: a batch is one statement over arrays (store__exec_set): each parameter of the
 * per-item form becomes an array parameter ($k::text[], $k::bigint[]) read back with
 * unnest(...) WITH ORDINALITY, and the ordinal of the item comes first in what the
 * statement returns. Opening 10,000 alerts thus costs a handful of round trips in all. The
 * alert insert also writes the history rows and flap counts of what it created; ingest
 * runs its three phases (records, step states, instances) as one statement each.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "store/store-int.h"

/* ---- alerts ----------------------------------------------------------------------------- */

/* The alert of each key: the open one (alerts_open_key_idx), else the newest closed one
 * (alerts_closed_key_idx). */
static const char *const pg_key_lookup =
    "SELECT u.ord, l.id, l.state, l.incident_id"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
    " WITH ORDINALITY AS u(rule, workflow, instance_id, step, ord)"
    " CROSS JOIN LATERAL (SELECT k.id, k.state, k.incident_id FROM"
    " (SELECT a.id, a.state, a.incident_id, 0 AS closed FROM alerts a"
    " WHERE a.workflow = u.workflow AND a.instance_id = u.instance_id AND a.step = u.step"
    " AND a.rule = u.rule AND a.state < " SQL_ALERT_RESOLVED
    " UNION ALL (SELECT a.id, a.state, a.incident_id, 1 FROM alerts a"
    " WHERE a.workflow = u.workflow AND a.instance_id = u.instance_id AND a.step = u.step"
    " AND a.rule = u.rule AND a.state >= " SQL_ALERT_RESOLVED " ORDER BY a.id DESC LIMIT 1))"
    " k ORDER BY k.closed, k.id DESC LIMIT 1) l";

static const char *const pg_incident_insert =
    "WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::bigint[]) WITH ORDINALITY"
    " AS u(group_key, workflow, step, rule, labels, at, ord)),"
    " ins AS (INSERT INTO incidents (group_key, workflow, step, rule, labels, state, level,"
    " open_alerts, total_alerts, affected_users, opened_at, updated_at)"
    " SELECT group_key, workflow, step, rule, labels, " SQL_INCIDENT_OPEN
    ", 0, 0, 0, 0, at, at FROM u"
    " ORDER BY ord ON CONFLICT DO NOTHING RETURNING id, group_key)"
    " SELECT u.ord, ins.id FROM ins JOIN u ON u.group_key = ins.group_key";

static const char *const pg_incident_find =
    "SELECT u.ord, i.id FROM unnest($1::text[]) WITH ORDINALITY AS u(group_key, ord)"
    " JOIN incidents i ON i.group_key = u.group_key AND i.state = " SQL_INCIDENT_OPEN
    " FOR UPDATE OF i";

static const char *const pg_alert_insert =
    "WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[],"
    " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[],"
    " $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[],"
    " $17::int[])"
    " WITH ORDINALITY AS u(rule, workflow, step, step_index, instance_id, user_id, error,"
    " labels, group_key, occurred_at, at, next_escalation_at, abandon_after_ms, incident_id,"
    " reopen_of, actor, state, ord)),"
    " ins AS (INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id,"
    " state, error, labels, group_key, occurred_at, opened_at, updated_at,"
    " next_escalation_at, abandon_after_ms, incident_id, reopen_of)"
    " SELECT rule, workflow, step, step_index, instance_id, user_id, state, error, labels,"
    " group_key, occurred_at, at, at, next_escalation_at, abandon_after_ms, incident_id,"
    " reopen_of FROM u ORDER BY ord ON CONFLICT DO NOTHING"
    " RETURNING id, rule, workflow, instance_id, step, error, reopen_of, opened_at),"
    " hist AS (INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state,"
    " to_state) SELECT id, opened_at, (SELECT actor FROM u WHERE ord = 1),"
    " CASE WHEN reopen_of IS NULL THEN " SQL_EVENT_OPENED " ELSE " SQL_EVENT_REOPENED
    " END, error, NULL,"
    " " SQL_ALERT_INITIATED " FROM ins ORDER BY id),"
    " flaps AS (INSERT INTO rule_flaps (workflow, rule, flaps)"
    " SELECT workflow, rule, count(*) FROM ins WHERE reopen_of IS NOT NULL"
    " GROUP BY workflow, rule ON CONFLICT (workflow, rule)"
    " DO UPDATE SET flaps = rule_flaps.flaps + excluded.flaps)"
    " SELECT id, rule, workflow, instance_id, step FROM ins";

/* store_sql.alerts_insert: the ntodo alerts of p (STORE_ALERT_NEW_PARAMS each: the 16th, the
 * opener named in the history rows, is the same for the whole batch) in one statement; res[t]
 * gets the id of alert todo[t] when it was created. The rows created are matched back by
 * their key in keys (what a join back to the input would do, at the cost of a hash probe
 * per row rather than a plan the planner may misjudge on unnest arrays). */
static int pg_alerts_insert(struct store *st, const struct store_param *p, size_t ntodo,
                            const size_t *todo, struct stmt_cache *keys, struct store_rows *res,
                            struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	size_t *tpos = NULL;
	int rc;
	for (size_t t = 1; t < ntodo; t++)
		if (strcmp(p[t * STORE_ALERT_NEW_PARAMS + 15].s, p[15].s) != 0)
			BUG("one batch of alerts opened by two actors");
	rc =
	    store__exec_set_rows(st, pg_alert_insert, p, STORE_ALERT_NEW_PARAMS, ntodo, &rows, err);
	if (rc || !rows.nrows)
		goto out;
	/* keys maps each first key to its index in the batch + 1; todo[t] is that index */
	tpos = xcalloc(todo[ntodo - 1] + 1, sizeof(*tpos));
	for (size_t t = 0; t < ntodo; t++)
		tpos[todo[t]] = t;
	for (size_t r = 0; r < rows.nrows; r++) {
		char *key = xasprintf("%s\x1f%s\x1f%s\x1f%s", store_rows_text(&rows, r, 1),
		                      store_rows_text(&rows, r, 2), store_rows_text(&rows, r, 3),
		                      store_rows_text(&rows, r, 4));
		uintptr_t i = (uintptr_t)stmt_cache_get(keys, key);
		free(key);
		if (!i)
			BUG("alerts insert returned an alert that was not sent");
		store_rows__add(&res[tpos[i - 1]], 1)[0] = rows.cells[r * rows.ncols];
		rows.cells[r * rows.ncols].kind = SC_NULL;
		rows.cells[r * rows.ncols].s = NULL;
	}
out:
	free(tpos);
	store_rows_release(&rows);
	return rc;
}

/* Whether a user had an alert in the incident already: one probe of alerts_incident_idx
 * (incident_id, state, user_id) per state (SQL_ALERT_EVERY_STATE), each an exact key. */
static const char *const pg_user_seen =
    "SELECT u.ord, (SELECT count(*) FROM (SELECT 1 FROM alerts a WHERE a.incident_id = u.inc"
    " AND a.state IN (" SQL_ALERT_EVERY_STATE ") AND a.user_id = u.user_id LIMIT u.lim) x)"
    " FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY"
    " AS u(inc, user_id, lim, ord)";

/* level: core/incident.c's incident_level, encoded here (test_store_rules checks both). */
static const char *const pg_incident_add =
    "UPDATE incidents i SET total_alerts = i.total_alerts + u.created,"
    " open_alerts = i.open_alerts + u.created, affected_users = i.affected_users + u.users,"
    " level = COALESCE((SELECT state FROM alerts WHERE incident_id = i.id"
    " AND state < " SQL_ALERT_RESOLVED " ORDER BY state DESC LIMIT 1), i.level), updated_at = u.at"
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])"
    " AS u(id, at, created, users) WHERE i.id = u.id";

/* The compare-and-set over a set of alerts (no alert twice). */
static const char *const pg_alert_cas =
    "UPDATE alerts a SET state = u.to_state, updated_at = u.at, next_escalation_at = u.next_at,"
    " resolved_at = CASE WHEN u.to_state = " SQL_ALERT_RESOLVED " THEN u.at ELSE a.resolved_at END,"
    " resolved_by = CASE WHEN u.to_state = " SQL_ALERT_RESOLVED
    " THEN u.resolved_by ELSE a.resolved_by END"
    " FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::text[], $6::int[])"
    " WITH ORDINALITY AS u(id, to_state, at, next_at, resolved_by, from_state, ord)"
    " WHERE a.id = u.id AND a.state = u.from_state RETURNING u.ord, a.incident_id";

static const char *const pg_history_insert =
    "INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)"
    " SELECT alert_id, at, actor, event, reason, from_state, to_state"
    " FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[],"
    " $7::int[]) WITH ORDINALITY"
    " AS u(alert_id, at, actor, event, reason, from_state, to_state, ord) ORDER BY ord";

/* level and closing: core/incident.c's incident_level and incident_closes, encoded here; the
 * closed counts grow by the alerts closed (0010_closed_counts.sql). */
static const char *const pg_incident_delta =
    "UPDATE incidents i SET open_alerts = i.open_alerts + u.delta,"
    " resolved_alerts = i.resolved_alerts + u.resolved,"
    " abandoned_alerts = i.abandoned_alerts + u.abandoned,"
    " self_resolved_alerts = i.self_resolved_alerts + u.self_resolved,"
    " level = COALESCE((SELECT state FROM alerts WHERE incident_id = i.id"
    " AND state < " SQL_ALERT_RESOLVED " ORDER BY state DESC LIMIT 1), i.level), updated_at = u.at,"
    " state = CASE WHEN i.state = " SQL_INCIDENT_OPEN
    " AND i.open_alerts + u.delta = 0 THEN " SQL_INCIDENT_RESOLVED " ELSE i.state END,"
    " resolved_at = CASE WHEN i.state = " SQL_INCIDENT_OPEN
    " AND i.open_alerts + u.delta = 0 THEN u.at"
    " ELSE i.resolved_at END"
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],"
    " $6::bigint[]) AS u(id, at, delta, resolved, abandoned, self_resolved)"
    " WHERE i.id = u.id";

/*
 * A batch whose every item is found through an index (the compare-and-set of alerts,
 * through alerts_pkey). Left to itself the planner joins a batch that is a sizeable part of
 * the table by a hash or merge join, reading all of alerts (and its dead versions) for each
 * batch: a pass over K alerts in batches of 10,000 then costs K x K / 10,000. The join
 * methods are switched off for this one statement (SET LOCAL, restored right after), so a
 * batch costs its own size.
 */
static int pg_batch_by_index(struct store *st, const char *sql, const struct store_param *p,
                             size_t np, size_t m, struct store_rows *res, struct sw_err *err)
{
	int rc = st->be->exec_script(st->conn,
	                             "SET LOCAL enable_hashjoin = off;"
	                             " SET LOCAL enable_mergejoin = off",
	                             err);
	if (!rc)
		rc = store__exec_set(st, sql, p, np, m, res, err);
	if (!rc)
		rc = st->be->exec_script(st->conn,
		                         "SET LOCAL enable_hashjoin TO DEFAULT;"
		                         " SET LOCAL enable_mergejoin TO DEFAULT",
		                         err);
	if (rc)
		st->tx_failed = true;
	return rc;
}

/* ---- step records ----------------------------------------------------------------------- */

/* The WHERE is core/lifecycle.c's step_record_supersedes (the latest updated_at wins, a tie
 * goes to the further status), encoded for a set-based upsert; tests/store/test_store_rules.c
 * runs the same cases through both. */
static const char *const pg_step_upsert =
    "INSERT INTO instance_steps AS t (workflow, instance_id, step, step_index, status, user_id,"
    " error, started_at, finished_at, updated_at, labels)"
    " SELECT $1::text, u.* FROM unnest($2::text[], $3::text[], $4::int[], $5::int[],"
    " $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) AS u"
    " ON CONFLICT (workflow, instance_id, step) DO UPDATE SET"
    " step_index = excluded.step_index, status = excluded.status,"
    " user_id = COALESCE(excluded.user_id, t.user_id), error = excluded.error,"
    " started_at = COALESCE(excluded.started_at, t.started_at),"
    " finished_at = excluded.finished_at, updated_at = excluded.updated_at,"
    " labels = COALESCE(excluded.labels, t.labels)"
    " WHERE excluded.updated_at > t.updated_at"
    " OR (excluded.updated_at = t.updated_at AND excluded.status > t.status)"
    " RETURNING instance_id, step, xmax = 0"; /* xmax 0: inserted, not updated */

/* The merge is core/instance.c's instance_summary_merge, encoded for a set-based upsert. */
#define PG_INSTANCE_UPSERT                                                                        \
	"INSERT INTO instances AS t (workflow, instance_id, user_id, started_at,"                 \
	" last_progress_at, max_step_index, completed_at, labels, touched)"                       \
	" SELECT $1::text, u.*, txid_current() FROM unnest($2::text[], $3::text[], $4::bigint[]," \
	" $5::bigint[], $6::int[], $7::bigint[], $8::text[]) AS u"                                \
	" ON CONFLICT (workflow, instance_id) DO UPDATE SET touched = excluded.touched,"          \
	" user_id = CASE WHEN excluded.last_progress_at >= t.last_progress_at"                    \
	" THEN COALESCE(excluded.user_id, t.user_id) ELSE t.user_id END,"                         \
	" started_at = CASE WHEN t.started_at IS NULL OR excluded.started_at < t.started_at"      \
	" THEN excluded.started_at ELSE t.started_at END,"                                        \
	" last_progress_at = GREATEST(excluded.last_progress_at, t.last_progress_at),"            \
	" max_step_index = GREATEST(excluded.max_step_index, t.max_step_index),"                  \
	" completed_at = COALESCE(t.completed_at, excluded.completed_at),"                        \
	" labels = CASE WHEN excluded.last_progress_at >= t.last_progress_at"                     \
	" THEN COALESCE(excluded.labels, t.labels) ELSE t.labels END"
/* ... and how many rows it inserted (xmax 0: not an update) */
#define PG_INSTANCE_INSERTED " RETURNING xmax = 0 AS ins) SELECT count(*) FILTER (WHERE ins) FROM w"
static const char *const pg_instance_upsert = "WITH w AS (" PG_INSTANCE_UPSERT PG_INSTANCE_INSERTED;
/* The same, writing a row only when the fold changes one of its columns. */
static const char *const pg_instance_upsert_if =
    "WITH w AS (" PG_INSTANCE_UPSERT SQL_INSTANCE_FOLD_CHANGES("t", "IS DISTINCT FROM")
        PG_INSTANCE_INSERTED;

/* "instance\x1fstep": batch-local keys to map RETURNING rows back */
static char *rec_key(const char *instance_id, const char *step)
{
	return xasprintf("%s\x1f%s", instance_id, step);
}

/* Phase 1 (store_sql.steps_upsert): the current step states of records recs[0..n). One
 * statement cannot update a row twice, so a key repeated in the batch goes to the next
 * statement: statement j holds the j-th occurrence of each key. Each key's records are
 * still applied in batch order and keys do not touch each other's rows, so the outcome is
 * that of applying the records one by one, in as many statements as the most repeated
 * key has records (before: a new statement at every repeated key, in batch order).
 * cur[k] = record k became current. */
static int pg_steps_upsert(struct store *st, const char *workflow, const struct step_record *recs,
                           size_t n, bool *cur, size_t *added, struct sw_err *err)
{
	struct pg_cols a;
	struct store_param p[11];
	struct stmt_cache seen = {0}, map = {0};
	uint32_t *rank = xcalloc(n + 1, sizeof(*rank)), *count = xcalloc(n + 1, sizeof(*count));
	uint32_t nranks = 0;
	int rc = 0;

	for (size_t k = 0, nkeys = 0; k < n; k++) {
		const struct step_record *r = &recs[k];
		char *key = rec_key(r->instance_id, r->step);
		uintptr_t slot = (uintptr_t)stmt_cache_get(&seen, key);
		if (!slot) {
			slot = ++nkeys;
			stmt_cache_put(&seen, key, (void *)slot);
		}
		rank[k] = count[slot - 1]++; /* occurrences of this key before it */
		if (rank[k] + 1 > nranks)
			nranks = rank[k] + 1;
		free(key);
	}
	free(count);
	stmt_cache_clear(&seen, NULL);
	*added = 0;
	pg_cols_init(&a, 10);
	for (uint32_t j = 0; !rc && j < nranks; j++) {
		struct store_rows rows = STORE_ROWS_INIT;
		for (size_t k = 0; k < n; k++) {
			const struct step_record *r = &recs[k];
			if (rank[k] != j)
				continue;
			char *key = rec_key(r->instance_id, r->step);
			stmt_cache_put(&map, key, (void *)(uintptr_t)(k + 1));
			free(key);
			pg_cols_text(&a, 0, r->instance_id);
			pg_cols_text(&a, 1, r->step);
			pg_cols_int(&a, 2, r->step_index);
			pg_cols_int(&a, 3, r->status);
			pg_cols_text(&a, 4, r->user_id);
			pg_cols_text(&a, 5, r->error);
			pg_cols_time(&a, 6, r->started_at);
			pg_cols_time(&a, 7, r->finished_at);
			pg_cols_int(&a, 8, r->updated_at);
			pg_cols_text(&a, 9, r->labels_json);
		}
		p[0] = sp_text(workflow);
		pg_cols_params(&a, p + 1);
		rc = store__exec(st, pg_step_upsert, p, 11, &rows, NULL, err);
		for (size_t i = 0; !rc && i < rows.nrows; i++) {
			char *rk =
			    rec_key(store_rows_text(&rows, i, 0), store_rows_text(&rows, i, 1));
			uintptr_t at = (uintptr_t)stmt_cache_get(&map, rk);
			free(rk);
			if (!at)
				BUG("instance_steps returned a step that was not sent");
			cur[at - 1] = true;
			*added += !strcmp(store_rows_text(&rows, i, 2), "t");
		}
		store_rows_release(&rows);
		stmt_cache_clear(&map, NULL);
		pg_cols_reset(&a);
	}
	stmt_cache_clear(&map, NULL);
	pg_cols_release(&a);
	free(rank);
	return rc;
}

/* Phase 2 (store_sql.instances_upsert): the instances (one per aggregate, keys unique). */
static int pg_instances_upsert(struct store *st, const char *workflow,
                               const struct instance_summary *aggs, size_t n, bool if_changed,
                               size_t *added, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct pg_cols a;
	struct store_param p[8];
	int rc;
	*added = 0;
	if (!n)
		return 0;
	pg_cols_init(&a, 7);
	for (size_t i = 0; i < n; i++) {
		const struct instance_summary *g = &aggs[i];
		pg_cols_text(&a, 0, g->instance_id);
		pg_cols_text(&a, 1, g->user_id);
		pg_cols_time(&a, 2, g->started_at);
		pg_cols_int(&a, 3, g->last_progress_at);
		pg_cols_int(&a, 4, g->max_step_index);
		pg_cols_time(&a, 5, g->completed_at);
		pg_cols_text(&a, 6, g->labels_json);
	}
	p[0] = sp_text(workflow);
	pg_cols_params(&a, p + 1);
	rc = store__exec(st, if_changed ? pg_instance_upsert_if : pg_instance_upsert, p, 8, &rows,
	                 NULL, err);
	if (!rc)
		*added = (size_t)store_rows_int(&rows, 0, 0, 0);
	store_rows_release(&rows);
	pg_cols_release(&a);
	return rc;
}

/* ---- statistics ------------------------------------------------------------------------- */

/* When the planner's row count for table is below 2 * added (never analyzed, or the rows
 * written since its last ANALYZE by this connection are a large part of it), ANALYZE it, so
 * cached plans stop assuming an empty table: over a growth from empty that is a geometric
 * series of ANALYZEs, a bounded multiple of one. Below ANALYZE_MIN_BATCH rows nothing is
 * looked at (the caller keeps counting). */
enum {
	ANALYZE_MIN_BATCH = 1000
};

static int pg_analyze_if_stale(struct store *st, const char *table, size_t added,
                               struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_text(table)};
	char *sql;
	int rc;
	if (added < ANALYZE_MIN_BATCH)
		return 0;
	rc = store__exec(st, "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass", p,
	                 1, &rows, NULL, err);
	if (!rc && store_rows_int(&rows, 0, 0, -1) < 2 * (int64_t)added) {
		/* table is one of a few constants of the store, never input */
		sql = xasprintf("ANALYZE %s", table);
		rc = st->be->exec_script(st->conn, sql, err);
		if (rc && st->depth)
			st->tx_failed = true;
		free(sql);
		if (!rc)
			rc = 1;
	}
	store_rows_release(&rows);
	return rc;
}

/* store_sql.exec_planned: planner settings for this one statement, in a transaction of its
 * own when none is open. plan_cache_mode: after five executions PostgreSQL may keep a
 * generic plan of a prepared statement, costed without the values; for the stats' ranges,
 * chosen on the dashboard's day of instances, that is a nested loop through the range
 * index, which a range of every instance then walks probe by probe. jit: a range of every
 * instance is costed high enough to be compiled, and compiling took about 1 s of a funnel
 * step's 2.9 s (1,430,000 instances) every time it was asked. */
static int pg_exec_planned(struct store *st, const char *sql, const struct store_param *p,
                           size_t np, struct store_rows *rows, struct sw_err *err)
{
	int rc = store__enter(st, err);
	if (rc)
		return rc;
	rc = st->be->exec_script(
	    st->conn, "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off", err);
	if (!rc)
		rc = store__exec(st, sql, p, np, rows, NULL, err);
	if (!rc)
		rc = st->be->exec_script(
		    st->conn, "SET LOCAL plan_cache_mode TO DEFAULT; SET LOCAL jit TO DEFAULT",
		    err);
	if (rc && st->depth)
		st->tx_failed = true;
	return store__leave(st, rc, err);
}

const struct store_sql store_sql_postgres = {
    .batch = store__exec_set,
    .batch_by_index = pg_batch_by_index,
    .migrations_table_exists = "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = "
                               "'schema_migrations' AND schemaname = current_schema()",
    .key_lookup = pg_key_lookup,
    .incident_insert = pg_incident_insert,
    .incident_find = pg_incident_find,
    .user_seen = pg_user_seen,
    .incident_add = pg_incident_add,
    .alert_cas = pg_alert_cas,
    .history_insert = pg_history_insert,
    .incident_delta = pg_incident_delta,
    .recovery_mark = "SELECT txid_snapshot_xmin(txid_current_snapshot()), $1::text",
    .alerts_insert = pg_alerts_insert,
    .steps_upsert = pg_steps_upsert,
    .instances_upsert = pg_instances_upsert,
    .analyze_if_stale = pg_analyze_if_stale,
    .exec_planned = pg_exec_planned,
};
