/*
 * store.c - the store handle (store.h): open by URL, transactions, migrations, watermarks,
 * step records and instances. Alerts and incidents are in store_alerts.c.
 *
 * DESIGN: everything here is written once, on top of the backend method table
 * (store-int.h), with SQL both SQLite and PostgreSQL accept. Transactions nest by a depth
 * counter: only the outermost store_tx_begin (or store__enter of an operation called outside
 * any transaction) talks to the database, so a domain operation called inside a caller's
 * transaction simply joins it. A database error inside a transaction marks it failed, and
 * its commit then rolls back and reports the failure (PostgreSQL would refuse to go on
 * anyway; SQLite is made to behave the same).
 *
 * Where the dialects differ (the three phases of an ingest, the schema-exists query), the
 * backend's statement table (st->be->sql, store-int.h) holds the text or the strategy.
 *
 * Migrations are the embedded files store/migrations/<dialect>/NNNN_name.sql. Each is
 * applied in its own transaction, which first takes the migration lock (PostgreSQL: an
 * advisory transaction lock; SQLite: BEGIN IMMEDIATE), then re-reads schema_migrations, so
 * two processes migrating at once apply each migration exactly once.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/assets.h"
#include "store/store-int.h"
#include "core/instance.h"
#include "core/lifecycle.h"

/* ---- handle ---------------------------------------------------------------------------- */

/* The backend of url's scheme, or NULL. */
static const struct store_backend *backend_for(const char *url)
{
	if (!strncmp(url, "sqlite:", 7))
		return &store_backend_sqlite;
	if (!strncmp(url, "postgresql:", 11) || !strncmp(url, "postgres:", 9))
		return &store_backend_postgres;
	return NULL;
}

int store_would_create(const char *url, bool *creates, struct sw_err *err)
{
	const struct store_backend *be = url ? backend_for(url) : NULL;
	*creates = false;
	return be ? be->would_create(url, creates, err) : 0;
}

const char *store_product(const struct store *st)
{
	return st->be->product;
}

int store_open(const char *url, struct store **out, struct sw_err *err)
{
	const struct store_backend *be = NULL;
	struct store *st;
	int rc;

	*out = NULL;
	if (!url)
		return sw_err_set(err, "cannot open store: no URL"), STORE_ERROR;
	be = backend_for(url);
	if (!be)
		return sw_err_set(err,
		                  "cannot open store '%s': unknown scheme (want sqlite: or "
		                  "postgresql:)",
		                  url),
		       STORE_ERROR;
	st = xcalloc(1, sizeof(*st));
	st->be = be;
	rc = be->open(url, &st->conn, err);
	if (rc) {
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->depth)
		st->be->rollback(st->conn);
	st->be->close(st->conn);
	free(st);
}

enum sw_db_kind store_kind(const struct store *st)
{
	return st->be->kind;
}

int store_ping(struct store *st, struct sw_err *err)
{
	return store__exec(st, "SELECT 1", NULL, 0, NULL, NULL, err);
}

/* ---- transactions ---------------------------------------------------------------------- */

int store__query(struct store *st, const char *sql, const struct store_param *p, size_t np,
                 int (*fn)(void *arg, const struct store_cell *cells, size_t ncols), void *arg,
                 struct sw_err *err)
{
	int rc = st->be->query(st->conn, sql, p, np, fn, arg, err);
	if (rc && st->depth)
		st->tx_failed = true;
	return rc;
}

int store__exec(struct store *st, const char *sql, const struct store_param *p, size_t np,
                struct store_rows *rows, int64_t *changes, struct sw_err *err)
{
	int rc = st->be->exec(st->conn, sql, p, np, rows, changes, err);
	if (rc && st->depth)
		st->tx_failed = true;
	return rc;
}

int store__exec_many(struct store *st, const char *sql, const struct store_param *params, size_t np,
                     size_t n, struct store_rows *rows, struct sw_err *err)
{
	int rc;
	if (!n)
		return 0;
	rc = st->be->exec_many(st->conn, sql, params, np, n, rows, err);
	if (rc && st->depth)
		st->tx_failed = true;
	return rc;
}

int store_tx_begin(struct store *st, struct sw_err *err)
{
	if (st->depth == 0) {
		int rc = st->be->begin(st->conn, err);
		if (rc)
			return rc;
		st->tx_failed = false;
	}
	st->depth++;
	return 0;
}

/* The statistics checks deferred to the end of a transaction (store__analyze_after_commit),
 * run once it committed. A table's count of rows written carries over until its check
 * analyzes it, so growth in batches below the dialect's threshold still adds up (a rolled
 * back batch is counted too: at worst one ANALYZE comes early). */
static void analyze_pending(struct store *st, bool committed)
{
	if (!committed)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(st->analyze_later); i++) {
		const char *table = st->analyze_later[i].table;
		struct sw_err err = {""};
		int rc;
		if (!table || !st->analyze_later[i].added)
			continue;
		rc = st->be->sql->analyze_if_stale(st, table, st->analyze_later[i].added, &err);
		if (rc > 0)
			st->analyze_later[i].added = 0;
		else if (rc < 0)
			log_warn("store: statistics not updated", "table=%s error=%s", table,
			         err.msg);
	}
}

int store_tx_commit(struct store *st, struct sw_err *err)
{
	int rc = 0;
	if (st->depth == 0)
		BUG("store_tx_commit without store_tx_begin");
	if (--st->depth > 0)
		return 0;
	if (st->tx_failed) {
		st->be->rollback(st->conn);
		st->tx_failed = false;
		return sw_err_set(err, "store: transaction rolled back after an earlier error"),
		       STORE_ERROR;
	}
	rc = st->be->commit(st->conn, err);
	if (rc)
		st->be->rollback(st->conn);
	analyze_pending(st, rc == 0);
	return rc;
}

void store_tx_rollback(struct store *st)
{
	if (st->depth == 0)
		return;
	st->depth = 0;
	st->tx_failed = false;
	st->be->rollback(st->conn);
	analyze_pending(st, false);
}

int store__enter(struct store *st, struct sw_err *err)
{
	return store_tx_begin(st, err);
}

int store__leave(struct store *st, int rc, struct sw_err *err)
{
	if (rc == 0)
		return store_tx_commit(st, err);
	if (st->depth == 1)
		store_tx_rollback(st);
	else if (st->depth > 1)
		st->depth--;
	return rc;
}

int store__analyze_if_stale(struct store *st, const char *table, size_t added, struct sw_err *err)
{
	int rc = st->be->sql->analyze_if_stale(st, table, added, err);
	return rc < 0 ? rc : 0;
}

void store__analyze_after_commit(struct store *st, const char *table, size_t added)
{
	size_t i;
	if (!added)
		return;
	for (i = 0; i < ARRAY_SIZE(st->analyze_later); i++)
		if (!st->analyze_later[i].table || !strcmp(st->analyze_later[i].table, table))
			break;
	if (i == ARRAY_SIZE(st->analyze_later))
		BUG("store: more than %zu tables to analyze", ARRAY_SIZE(st->analyze_later));
	st->analyze_later[i].table = table;
	st->analyze_later[i].added += added;
	if (st->depth == 0)
		analyze_pending(st, true);
}

/* ---- migrations ------------------------------------------------------------------------ */

#define MIGRATIONS_DIR "store/migrations/"

/* The embedded migration of dialect with the lowest version above `after` that is not in
 * applied[0..napplied), or NULL when none is pending. */
static const struct sw_asset *migration_next(const char *dialect, const int64_t *applied,
                                             size_t napplied, int *version)
{
	size_t plen;
	char *prefix = xasprintf(MIGRATIONS_DIR "%s/", dialect);
	const struct sw_asset *found = NULL;
	plen = strlen(prefix);
	for (const struct sw_asset *a = sw_assets; a->name; a++) {
		int v;
		bool done = false;
		if (strncmp(a->name, prefix, plen) || !strstr(a->name + plen, ".sql"))
			continue;
		v = atoi(a->name + plen);
		for (size_t i = 0; i < napplied && !done; i++)
			done = applied[i] == v;
		if (!done && v > 0 && (!found || v < *version)) {
			found = a;
			*version = v;
		}
	}
	free(prefix);
	return found;
}

static int migrations_latest(const char *dialect)
{
	int latest = 0;
	char *prefix = xasprintf(MIGRATIONS_DIR "%s/", dialect);
	size_t plen = strlen(prefix);
	for (const struct sw_asset *a = sw_assets; a->name; a++) {
		if (!strncmp(a->name, prefix, plen) && atoi(a->name + plen) > latest)
			latest = atoi(a->name + plen);
	}
	free(prefix);
	return latest;
}

int store_schema_latest(void)
{
	return migrations_latest("sqlite");
}

static const char *const sql_migrations_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

static int current_version(struct store *st, int *version, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc = store__exec(st, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
	                     &rows, NULL, err);
	if (!rc)
		*version = (int)store_rows_int(&rows, 0, 0, 0);
	store_rows_release(&rows);
	return rc;
}

/* The versions already applied, into *out (caller frees). */
static int applied_versions(struct store *st, int64_t **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc =
	    store__exec(st, "SELECT version FROM schema_migrations", NULL, 0, &rows, NULL, err);
	*out = xcalloc(rows.nrows + 1, sizeof(**out));
	*n = rc ? 0 : rows.nrows;
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = store_rows_int(&rows, i, 0, 0);
	store_rows_release(&rows);
	return rc;
}

/*
 * One migration step: lock, then apply the pending migration of the lowest version if any.
 * *done is set when none is pending. Pending means "not in schema_migrations", not "above
 * the highest applied": migrations numbered apart on parallel branches (0004, 0006) and
 * merged later are each applied once, in version order on a new database.
 */
static int migrate_one(struct store *st, bool *done, struct sw_err *err)
{
	const struct sw_asset *m;
	struct store_param p[2];
	int64_t *applied = NULL;
	size_t napplied = 0;
	int rc, version = 0;

	rc = store_tx_begin(st, err);
	if (rc)
		return rc;
	rc = st->be->lock_migrations(st->conn, err);
	if (!rc)
		rc = st->be->exec_script(st->conn, sql_migrations_table, err);
	if (!rc)
		rc = applied_versions(st, &applied, &napplied, err);
	if (rc)
		goto out;
	m = migration_next(st->be->dialect, applied, napplied, &version);
	if (!m) {
		*done = true;
		goto out;
	}
	rc = st->be->exec_script(st->conn, (const char *)m->data, err);
	if (rc) {
		char *msg = xstrdup(err ? err->msg : "");
		sw_err_set(err, "store: migration '%s' failed: %s", m->name, msg);
		free(msg);
		goto out;
	}
	p[0] = sp_int(version);
	p[1] = sp_int(time_now_ms());
	rc = store__exec(st, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
	                 p, 2, NULL, NULL, err);
out:
	free(applied);
	return store__leave(st, rc, err);
}

int store_migrate(struct store *st, int *applied, struct sw_err *err)
{
	int n = 0, rc = 0;
	bool done = false;
	if (applied)
		*applied = 0;
	if (st->depth)
		return sw_err_set(err, "store: cannot migrate inside a transaction"), STORE_ERROR;
	while (!rc && !done) {
		rc = migrate_one(st, &done, err);
		if (!rc && !done)
			n++;
	}
	if (applied)
		*applied = n;
	return rc;
}

int store_schema_version(struct store *st, int *version, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc = store__exec(st, st->be->sql->migrations_table_exists, NULL, 0, &rows, NULL, err);
	*version = 0;
	if (!rc && store_rows_int(&rows, 0, 0, 0) > 0)
		rc = current_version(st, version, err);
	store_rows_release(&rows);
	return rc;
}

/* ---- watermarks ------------------------------------------------------------------------ */

int store_watermark_get(struct store *st, const char *key, int64_t *ms, char **raw,
                        struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_text(key)};
	int rc = store__exec(st, "SELECT value_ms, raw FROM watermarks WHERE key = $1", p, 1, &rows,
	                     NULL, err);
	*ms = TIME_NULL;
	if (raw)
		*raw = NULL;
	if (!rc && rows.nrows) {
		*ms = store_rows_int(&rows, 0, 0, TIME_NULL);
		if (raw)
			*raw = store_rows_dup(&rows, 0, 1);
	}
	store_rows_release(&rows);
	return rc;
}

int store_watermark_set(struct store *st, const char *key, int64_t ms, const char *raw, int64_t now,
                        struct sw_err *err)
{
	struct store_param p[4] = {sp_text(key), sp_time(ms), sp_text(raw), sp_int(now)};
	if (!key)
		return sw_err_set(err, "store: watermark without a key"), STORE_ERROR;
	return store__exec(st,
	                   "INSERT INTO watermarks (key, value_ms, raw, updated_at)"
	                   " VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET"
	                   " value_ms = excluded.value_ms, raw = excluded.raw,"
	                   " updated_at = excluded.updated_at",
	                   p, 4, NULL, NULL, err);
}

/* ---- step records ---------------------------------------------------------------------- */

static int check_record(const struct step_record *r, size_t i, int n_steps, struct sw_err *err)
{
	if (!r->instance_id || !r->step)
		return sw_err_set(err, "step record %zu: instance_id and step are required", i);
	if ((unsigned)r->status > STEP_FAILED)
		return sw_err_set(err, "step record %zu: invalid status %d", i, (int)r->status);
	if (r->updated_at == TIME_NULL)
		return sw_err_set(err, "step record %zu: updated_at is required", i);
	if (r->step_index < 0 || r->step_index >= n_steps)
		return sw_err_set(err, "step record %zu: step index %d outside 0..%d", i,
		                  r->step_index, n_steps - 1);
	return 0;
}

/* Fold record r into the per-instance summaries of the batch (found through map): the rule is
 * core/instance.c's instance_summary_add. */
static bool *agg_add(struct instance_summary **aggs, size_t *naggs, size_t *alloc,
                     struct stmt_cache *map, const struct step_record *r, int n_steps, bool *chg,
                     bool current)
{
	struct instance_summary *g;
	uintptr_t slot = (uintptr_t)stmt_cache_get(map, r->instance_id);
	if (!slot) {
		size_t had = *alloc;
		ALLOC_GROW(*aggs, *naggs + 1, *alloc);
		if (*alloc != had) { /* chg[i]: instance i has a record that changed its step */
			chg = xreallocarray(chg, *alloc, sizeof(*chg));
			memset(chg + had, 0, (*alloc - had) * sizeof(*chg));
		}
		g = &(*aggs)[(*naggs)++];
		instance_summary_init(g, r->instance_id);
		stmt_cache_put(map, r->instance_id, (void *)(uintptr_t)*naggs);
		slot = *naggs;
	} else {
		g = &(*aggs)[slot - 1];
	}
	chg[slot - 1] = chg[slot - 1] || current;
	instance_summary_add(g, r, n_steps);
	return chg;
}

/* Reorder aggs[0..n) so those with chg come first (the order within each part is kept);
 * how many do. */
static size_t partition_changed(struct instance_summary *aggs, const bool *chg, size_t n)
{
	struct instance_summary *tmp = xcalloc(n + 1, sizeof(*tmp));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (chg[i])
			tmp[k++] = aggs[i];
	for (size_t i = 0, j = k; i < n; i++)
		if (!chg[i])
			tmp[j++] = aggs[i];
	memcpy(aggs, tmp, n * sizeof(*aggs));
	free(tmp);
	return k;
}

/* The two phases of an ingest, each the dialect's (store_sql: one statement per record on
 * SQLite, one set-based statement per phase on PostgreSQL), inside its transaction. */
int store_steps_ingest(struct store *st, const char *workflow, int n_steps,
                       const struct step_record *recs, size_t n, bool *current, struct sw_err *err)
{
	const struct store_sql *q = st->be->sql;
	struct instance_summary *aggs = NULL;
	bool *cur = NULL, *chg = NULL;
	size_t naggs = 0, aalloc = 0, new_steps = 0, new_instances = 0;
	struct stmt_cache map = {0};
	int rc = 0;

	if (!workflow || n_steps <= 0)
		return sw_err_set(err, "store: ingest needs a workflow and its steps"), STORE_ERROR;
	for (size_t i = 0; i < n; i++)
		if (check_record(&recs[i], i, n_steps, err))
			return STORE_ERROR;
	if (n == 0)
		return 0;

	rc = store__enter(st, err);
	if (rc)
		return rc;
	if (current)
		memset(current, 0, n * sizeof(*current));
	cur = current ? current : xcalloc(n, sizeof(*cur));
	rc = q->steps_upsert(st, workflow, recs, n, cur, &new_steps, err);
	/* the instance summaries, from every record: the merge only moves forward (earliest
	 * start, latest progress, furthest step), so a record read again changes nothing and a
	 * late-committing older one may still bring an earlier start. The instances with a
	 * record that changed a step are written (and marked for the resolver); the others
	 * only where the fold changes the row */
	for (size_t i = 0; !rc && i < n; i++) {
		chg = agg_add(&aggs, &naggs, &aalloc, &map, &recs[i], n_steps, chg, cur[i]);
	}
	if (!rc) {
		size_t nchg = partition_changed(aggs, chg, naggs), more = 0;
		rc = q->instances_upsert(st, workflow, aggs, nchg, false, &new_instances, err);
		if (!rc && nchg < naggs)
			rc = q->instances_upsert(st, workflow, aggs + nchg, naggs - nchg, true,
			                         &more, err);
		new_instances += more;
	}
	/* nothing later in the transaction reads these two: their statistics are looked at
	 * once it commits, so what it makes visible (the alerts) does not wait for an ANALYZE.
	 * What they follow is growth: rows inserted, not updated (100,000 recovered steps
	 * changed no count, and analyzing both tables for them took 0.17 s) */
	if (!rc) {
		store__analyze_after_commit(st, "instance_steps", new_steps);
		store__analyze_after_commit(st, "instances", new_instances);
	}
	if (cur != current)
		free(cur);
	free(aggs);
	free(chg);
	stmt_cache_clear(&map, NULL);
	return store__leave(st, rc, err);
}

/* ---- instance steps -------------------------------------------------------------------- */

#define STEP_COLS                                                                         \
	"s.workflow, s.instance_id, s.user_id, s.step, s.error, s.labels, s.step_index, " \
	"s.status, s.started_at, s.finished_at, s.updated_at"

static void steps_from_rows(const struct store_rows *r, struct instance_step **out, size_t *n)
{
	struct instance_step *v = xcalloc(r->nrows ? r->nrows : 1, sizeof(*v));
	for (size_t i = 0; i < r->nrows; i++) {
		v[i].workflow = store_rows_dup(r, i, 0);
		v[i].instance_id = store_rows_dup(r, i, 1);
		v[i].user_id = store_rows_dup(r, i, 2);
		v[i].step = store_rows_dup(r, i, 3);
		v[i].error = store_rows_dup(r, i, 4);
		v[i].labels_json = store_rows_dup(r, i, 5);
		v[i].step_index = (int)store_rows_int(r, i, 6, 0);
		v[i].status = (enum step_status)store_rows_int(r, i, 7, 0);
		v[i].started_at = store_rows_int(r, i, 8, TIME_NULL);
		v[i].finished_at = store_rows_int(r, i, 9, TIME_NULL);
		v[i].updated_at = store_rows_int(r, i, 10, TIME_NULL);
	}
	*out = v;
	*n = r->nrows;
}

/* The stuck steps, by index: the WHERE pre-filters core/lifecycle.c's lifecycle_step_stuck
 * (the watcher checks each row returned with it) and the NOT EXISTS encodes
 * lifecycle_stuck_episode_alerted (tests/store/test_store_rules.c checks they agree). */
int store_steps_stuck(struct store *st, const char *workflow, const char *step,
                      int64_t started_before, int64_t updated_after, size_t limit,
                      struct instance_step **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[5] = {sp_text(workflow), sp_text(step), sp_int(started_before),
	                           sp_int((int64_t)limit),
	                           sp_int(updated_after == TIME_NULL ? INT64_MIN : updated_after)};
	int rc = store__exec(
	    st,
	    "SELECT " STEP_COLS " FROM instance_steps s"
	    " WHERE s.workflow = $1 AND s.step = $2 AND s.status = " SQL_STEP_IN_PROGRESS
	    " AND s.started_at <= $3 AND s.updated_at > $5"
	    /* an open stuck alert of the step (alerts_open_key_idx), or a closed one of this
	     * episode (alerts_closed_key_idx) */
	    " AND NOT EXISTS (SELECT 1 FROM alerts a"
	    " WHERE a.workflow = s.workflow AND a.instance_id = s.instance_id AND a.step = s.step"
	    " AND a.rule = " SQL_RULE_STUCK " AND a.state < " SQL_ALERT_RESOLVED ")"
	    " AND NOT EXISTS (SELECT 1 FROM alerts a"
	    " WHERE a.workflow = s.workflow AND a.instance_id = s.instance_id AND a.step = s.step"
	    " AND a.rule = " SQL_RULE_STUCK " AND a.state >= " SQL_ALERT_RESOLVED
	    " AND a.occurred_at >= s.started_at)"
	    " ORDER BY s.started_at, s.instance_id LIMIT $4",
	    p, 5, &rows, NULL, err);
	*out = NULL;
	*n = 0;
	if (!rc)
		steps_from_rows(&rows, out, n);
	store_rows_release(&rows);
	return rc;
}

int store_instance_steps(struct store *st, const char *workflow, const char *instance_id,
                         struct instance_step **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_text(workflow), sp_text(instance_id)};
	int rc = store__exec(st,
	                     "SELECT " STEP_COLS " FROM instance_steps s"
	                     " WHERE s.workflow = $1 AND s.instance_id = $2"
	                     " ORDER BY s.step_index, s.step",
	                     p, 2, &rows, NULL, err);
	*out = NULL;
	*n = 0;
	if (!rc)
		steps_from_rows(&rows, out, n);
	store_rows_release(&rows);
	return rc;
}

void instance_info_release(struct instance_info *i)
{
	if (!i)
		return;
	free(i->workflow);
	free(i->instance_id);
	free(i->user_id);
	free(i->labels_json);
	memset(i, 0, sizeof(*i));
}

int store_instance_get(struct store *st, const char *workflow, const char *instance_id,
                       struct instance_info *out, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_text(workflow), sp_text(instance_id)};
	int rc = store__exec(st,
	                     "SELECT workflow, instance_id, user_id, labels, started_at,"
	                     " last_progress_at, max_step_index, completed_at FROM instances"
	                     " WHERE workflow = $1 AND instance_id = $2",
	                     p, 2, &rows, NULL, err);
	memset(out, 0, sizeof(*out));
	if (!rc && !rows.nrows)
		rc = store__err(err, STORE_ENOTFOUND, "instance '%s' of '%s' not found",
		                instance_id ? instance_id : "", workflow ? workflow : "");
	if (!rc) {
		out->workflow = store_rows_dup(&rows, 0, 0);
		out->instance_id = store_rows_dup(&rows, 0, 1);
		out->user_id = store_rows_dup(&rows, 0, 2);
		out->labels_json = store_rows_dup(&rows, 0, 3);
		out->started_at = store_rows_int(&rows, 0, 4, TIME_NULL);
		out->last_progress_at = store_rows_int(&rows, 0, 5, TIME_NULL);
		out->max_step_index = (int)store_rows_int(&rows, 0, 6, 0);
		out->completed_at = store_rows_int(&rows, 0, 7, TIME_NULL);
	}
	store_rows_release(&rows);
	return rc;
}
