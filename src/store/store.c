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
 * Migrations are the embedded files store/migrations/<dialect>/NNNN_name.sql. Each is
 * applied in its own transaction, which first takes the migration lock (PostgreSQL: an
 * advisory transaction lock; SQLite: BEGIN IMMEDIATE), then re-reads schema_migrations, so
 * two processes migrating at once apply each migration exactly once.
 */
#include "util/common.h"
#include "util/assets.h"
#include "store/store-int.h"
#include "core/instance.h"
#include "core/lifecycle.h"

/* ---- handle ---------------------------------------------------------------------------- */

int store_open(const char *url, struct store **out, struct sw_err *err)
{
	const struct store_backend *be = NULL;
	struct store *st;
	int rc;

	*out = NULL;
	if (!url)
		return sw_err_set(err, "cannot open store: no URL"), STORE_ERROR;
	if (!strncmp(url, "sqlite:", 7))
		be = &store_backend_sqlite;
	else if (!strncmp(url, "postgresql:", 11) || !strncmp(url, "postgres:", 9))
		be = &store_backend_postgres;
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
	return rc;
}

void store_tx_rollback(struct store *st)
{
	if (st->depth == 0)
		return;
	st->depth = 0;
	st->tx_failed = false;
	st->be->rollback(st->conn);
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

enum {
	ANALYZE_MIN_BATCH = 1000
};

int store__analyze_if_stale(struct store *st, const char *table, size_t added, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_text(table)};
	char *sql;
	int rc;
	if (st->be->kind != SW_DB_POSTGRES || added < ANALYZE_MIN_BATCH)
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
	}
	store_rows_release(&rows);
	return rc;
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
	static const char *const exists[] = {
	    [SW_DB_SQLITE] = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
	                     "name = 'schema_migrations'",
	    [SW_DB_POSTGRES] = "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = "
	                       "'schema_migrations' AND schemaname = current_schema()",
	};
	struct store_rows rows = STORE_ROWS_INIT;
	int rc = store__exec(st, exists[st->be->kind], NULL, 0, &rows, NULL, err);
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

static const char *const sql_record_insert =
    "INSERT INTO step_records (workflow, instance_id, step, status, updated_at, user_id, "
    "error, started_at, finished_at, labels) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT DO NOTHING RETURNING id";

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
     * IN_PROGRESS), so the outcome does not depend on arrival order: the rule is
     * core/lifecycle.c's step_record_supersedes, encoded here for a set-based upsert */
    " WHERE excluded.updated_at > instance_steps.updated_at"
    " OR (excluded.updated_at = instance_steps.updated_at"
    " AND excluded.status > instance_steps.status)"
    " RETURNING step";

/* The merge of a batch's instance summaries into the stored rows: the rule is core/instance.c's
 * instance_summary_merge, encoded here (and in pg_instance_upsert) for a set-based upsert;
 * tests/store/test_store_rules.c checks the two agree. */
static const char *const sql_instance_upsert =
    "INSERT INTO instances (workflow, instance_id, user_id, started_at, last_progress_at, "
    "max_step_index, completed_at, labels, touched) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
    " (SELECT COALESCE(max(touched), 0) + 1 FROM instances WHERE workflow = $1))"
    " ON CONFLICT (workflow, instance_id) DO UPDATE SET touched = excluded.touched,"
    " user_id = CASE WHEN excluded.last_progress_at >= instances.last_progress_at"
    " THEN COALESCE(excluded.user_id, instances.user_id) ELSE instances.user_id END,"
    " started_at = CASE WHEN instances.started_at IS NULL"
    " OR excluded.started_at < instances.started_at"
    " THEN excluded.started_at ELSE instances.started_at END,"
    " last_progress_at = CASE WHEN excluded.last_progress_at > instances.last_progress_at"
    " THEN excluded.last_progress_at ELSE instances.last_progress_at END,"
    " max_step_index = CASE WHEN excluded.max_step_index > instances.max_step_index"
    " THEN excluded.max_step_index ELSE instances.max_step_index END,"
    " completed_at = COALESCE(instances.completed_at, excluded.completed_at),"
    " labels = CASE WHEN excluded.last_progress_at >= instances.last_progress_at"
    " THEN COALESCE(excluded.labels, instances.labels) ELSE instances.labels END";

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
static void agg_add(struct instance_summary **aggs, size_t *naggs, size_t *alloc,
                    struct stmt_cache *map, const struct step_record *r, int n_steps)
{
	struct instance_summary *g;
	uintptr_t slot = (uintptr_t)stmt_cache_get(map, r->instance_id);
	if (!slot) {
		ALLOC_GROW(*aggs, *naggs + 1, *alloc);
		g = &(*aggs)[(*naggs)++];
		instance_summary_init(g, r->instance_id);
		stmt_cache_put(map, r->instance_id, (void *)(uintptr_t)*naggs);
	} else {
		g = &(*aggs)[slot - 1];
	}
	instance_summary_add(g, r, n_steps);
}

/* ---- PostgreSQL: the same three phases, one set-based statement each ------------------- */

static const char *const pg_record_insert =
    "INSERT INTO step_records (workflow, instance_id, step, status, updated_at, user_id,"
    " error, started_at, finished_at, labels)"
    " SELECT $1::text, u.* FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[],"
    " $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[]) AS u"
    " ON CONFLICT DO NOTHING RETURNING instance_id, step, status, updated_at";

/* The WHERE: core/lifecycle.c's step_record_supersedes, as in sql_step_upsert. */
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
    " RETURNING instance_id, step";

/* core/instance.c's instance_summary_merge, as in sql_instance_upsert. */
static const char *const pg_instance_upsert =
    "INSERT INTO instances AS t (workflow, instance_id, user_id, started_at, last_progress_at,"
    " max_step_index, completed_at, labels, touched)"
    " SELECT $1::text, u.*, txid_current() FROM unnest($2::text[], $3::text[], $4::bigint[],"
    " $5::bigint[], $6::int[], $7::bigint[], $8::text[]) AS u"
    " ON CONFLICT (workflow, instance_id) DO UPDATE SET touched = excluded.touched,"
    " user_id = CASE WHEN excluded.last_progress_at >= t.last_progress_at"
    " THEN COALESCE(excluded.user_id, t.user_id) ELSE t.user_id END,"
    " started_at = CASE WHEN t.started_at IS NULL OR excluded.started_at < t.started_at"
    " THEN excluded.started_at ELSE t.started_at END,"
    " last_progress_at = GREATEST(excluded.last_progress_at, t.last_progress_at),"
    " max_step_index = GREATEST(excluded.max_step_index, t.max_step_index),"
    " completed_at = COALESCE(t.completed_at, excluded.completed_at),"
    " labels = CASE WHEN excluded.last_progress_at >= t.last_progress_at"
    " THEN COALESCE(excluded.labels, t.labels) ELSE t.labels END";

/* "instance\x1fstep[\x1fstatus\x1fupdated_at]": batch-local keys to map RETURNING rows back */
static char *rec_key(const char *instance_id, const char *step, const char *status,
                     const char *updated_at)
{
	if (!status)
		return xasprintf("%s\x1f%s", instance_id, step);
	return xasprintf("%s\x1f%s\x1f%s\x1f%s", instance_id, step, status, updated_at);
}

/* Phase 1: insert the records; fresh[i] = record i was new (the first of equal keys). */
static int pg_records_insert(struct store *st, const char *workflow, const struct step_record *recs,
                             size_t n, bool *fresh, struct sw_err *err)
{
	struct pg_cols a;
	struct store_param p[10];
	struct store_rows rows = STORE_ROWS_INIT;
	struct stmt_cache map = {0};
	int rc;

	pg_cols_init(&a, 9);
	for (size_t i = 0; i < n; i++) {
		const struct step_record *r = &recs[i];
		char stb[16], upb[24], *key;
		pg_cols_text(&a, 0, r->instance_id);
		pg_cols_text(&a, 1, r->step);
		pg_cols_int(&a, 2, r->status);
		pg_cols_int(&a, 3, r->updated_at);
		pg_cols_text(&a, 4, r->user_id);
		pg_cols_text(&a, 5, r->error);
		pg_cols_time(&a, 6, r->started_at);
		pg_cols_time(&a, 7, r->finished_at);
		pg_cols_text(&a, 8, r->labels_json);
		snprintf(stb, sizeof(stb), "%d", (int)r->status);
		snprintf(upb, sizeof(upb), "%" PRId64, r->updated_at);
		key = rec_key(r->instance_id, r->step, stb, upb);
		if (!stmt_cache_get(&map, key))
			stmt_cache_put(&map, key, (void *)(uintptr_t)(i + 1));
		free(key);
	}
	p[0] = sp_text(workflow);
	pg_cols_params(&a, p + 1);
	rc = store__exec(st, pg_record_insert, p, 10, &rows, NULL, err);
	for (size_t k = 0; !rc && k < rows.nrows; k++) {
		char *key = rec_key(store_rows_text(&rows, k, 0), store_rows_text(&rows, k, 1),
		                    store_rows_text(&rows, k, 2), store_rows_text(&rows, k, 3));
		uintptr_t i = (uintptr_t)stmt_cache_get(&map, key);
		free(key);
		if (!i)
			BUG("step_records returned a record that was not sent");
		fresh[i - 1] = true;
	}
	store_rows_release(&rows);
	stmt_cache_clear(&map, NULL);
	pg_cols_release(&a);
	return rc;
}

/* Phase 2: upsert the current step states of the fresh records idx[0..n), in order. One
 * statement cannot update a row twice, so a key repeated in the batch goes to the next
 * statement: statement j holds the j-th occurrence of each key. Each key's records are
 * still applied in batch order and keys do not touch each other's rows, so the outcome is
 * that of applying the records one by one, in as many statements as the most repeated
 * key has records (before: a new statement at every repeated key, in batch order).
 * cur[k] = record idx[k] became current. */
static int pg_steps_upsert(struct store *st, const char *workflow, const struct step_record *recs,
                           const size_t *idx, size_t n, bool *cur, struct sw_err *err)
{
	struct pg_cols a;
	struct store_param p[11];
	struct stmt_cache seen = {0}, map = {0};
	uint32_t *rank = xcalloc(n + 1, sizeof(*rank)), *count = xcalloc(n + 1, sizeof(*count));
	uint32_t nranks = 0;
	int rc = 0;

	for (size_t k = 0, nkeys = 0; k < n; k++) {
		const struct step_record *r = &recs[idx[k]];
		char *key = rec_key(r->instance_id, r->step, NULL, NULL);
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
	pg_cols_init(&a, 10);
	for (uint32_t j = 0; !rc && j < nranks; j++) {
		struct store_rows rows = STORE_ROWS_INIT;
		for (size_t k = 0; k < n; k++) {
			const struct step_record *r = &recs[idx[k]];
			if (rank[k] != j)
				continue;
			char *key = rec_key(r->instance_id, r->step, NULL, NULL);
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
			char *rk = rec_key(store_rows_text(&rows, i, 0),
			                   store_rows_text(&rows, i, 1), NULL, NULL);
			uintptr_t at = (uintptr_t)stmt_cache_get(&map, rk);
			free(rk);
			if (!at)
				BUG("instance_steps returned a step that was not sent");
			cur[at - 1] = true;
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

/* Phase 3: the instances (one per aggregate, keys unique). */
static int pg_instances_upsert(struct store *st, const char *workflow,
                               const struct instance_summary *aggs, size_t n, struct sw_err *err)
{
	struct pg_cols a;
	struct store_param p[8];
	int rc;
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
	rc = store__exec(st, pg_instance_upsert, p, 8, NULL, NULL, err);
	pg_cols_release(&a);
	return rc;
}

/* The whole of store_steps_ingest on PostgreSQL (inside its transaction). */
static int steps_ingest_pg(struct store *st, const char *workflow, int n_steps,
                           const struct step_record *recs, size_t n, unsigned char *is_new,
                           size_t *fresh_idx, struct instance_summary **aggs, size_t *naggs,
                           size_t *aalloc, struct stmt_cache *map, size_t *nnew, struct sw_err *err)
{
	bool *fresh = xcalloc(n, sizeof(*fresh)), *cur = NULL;
	int rc = pg_records_insert(st, workflow, recs, n, fresh, err);
	for (size_t i = 0; !rc && i < n; i++) {
		if (is_new)
			is_new[i] = fresh[i];
		if (!fresh[i])
			continue;
		fresh_idx[(*nnew)++] = i;
		agg_add(aggs, naggs, aalloc, map, &recs[i], n_steps);
	}
	cur = xcalloc(*nnew + 1, sizeof(*cur));
	if (!rc)
		rc = pg_steps_upsert(st, workflow, recs, fresh_idx, *nnew, cur, err);
	for (size_t k = 0; !rc && is_new && k < *nnew; k++)
		if (cur[k])
			is_new[fresh_idx[k]] = 2;
	if (!rc)
		rc = pg_instances_upsert(st, workflow, *aggs, *naggs, err);
	if (!rc)
		rc = store__analyze_if_stale(st, "instance_steps", *nnew, err);
	if (!rc)
		rc = store__analyze_if_stale(st, "instances", *naggs, err);
	free(fresh);
	free(cur);
	return rc;
}

int store_steps_ingest(struct store *st, const char *workflow, int n_steps,
                       const struct step_record *recs, size_t n, unsigned char *is_new,
                       struct sw_err *err)
{
	struct store_param *p = NULL;
	struct store_rows *res = NULL;
	struct instance_summary *aggs = NULL;
	size_t *fresh_idx = NULL;
	size_t naggs = 0, aalloc = 0, nnew = 0;
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
	p = xcalloc(n * 11, sizeof(*p));
	res = xcalloc(n, sizeof(*res));
	fresh_idx = xcalloc(n, sizeof(*fresh_idx));
	if (st->be->kind == SW_DB_POSTGRES) {
		rc = steps_ingest_pg(st, workflow, n_steps, recs, n, is_new, fresh_idx, &aggs,
		                     &naggs, &aalloc, &map, &nnew, err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct step_record *r = &recs[i];
		struct store_param *q = p + i * 10;
		q[0] = sp_text(workflow);
		q[1] = sp_text(r->instance_id);
		q[2] = sp_text(r->step);
		q[3] = sp_int(r->status);
		q[4] = sp_time(r->updated_at);
		q[5] = sp_text(r->user_id);
		q[6] = sp_text(r->error);
		q[7] = sp_time(r->started_at);
		q[8] = sp_time(r->finished_at);
		q[9] = sp_text(r->labels_json);
	}
	rc = store__exec_many(st, sql_record_insert, p, 10, n, res, err);
	if (rc)
		goto out;

	/* the current state of each step, from the new records only */
	for (size_t i = 0; i < n; i++) {
		const struct step_record *r = &recs[i];
		struct store_param *q;
		bool fresh = res[i].nrows > 0;
		if (is_new)
			is_new[i] = fresh;
		store_rows_release(&res[i]);
		if (!fresh)
			continue;
		fresh_idx[nnew] = i;
		q = p + nnew++ * 11;
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
		agg_add(&aggs, &naggs, &aalloc, &map, r, n_steps);
	}
	rc = store__exec_many(st, sql_step_upsert, p, 11, nnew, res, err);
	if (rc)
		goto out;
	/* a new record that the upsert applied became its step's current state */
	for (size_t k = 0; k < nnew; k++)
		if (is_new && res[k].nrows > 0)
			is_new[fresh_idx[k]] = 2;

	for (size_t i = 0; i < naggs; i++) {
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
	rc = store__exec_many(st, sql_instance_upsert, p, 8, naggs, NULL, err);
out:
	for (size_t i = 0; i < n; i++)
		store_rows_release(&res[i]);
	free(res);
	free(p);
	free(aggs);
	free(fresh_idx);
	stmt_cache_clear(&map, NULL);
	return store__leave(st, rc, err);
}

/* ---- instance steps -------------------------------------------------------------------- */

#define STEP_COLS                                                                         \
	"s.workflow, s.instance_id, s.user_id, s.step, s.error, s.labels, s.step_index, " \
	"s.status, s.started_at, s.finished_at, s.updated_at"

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
	int rc = store__exec(st,
	                     "SELECT " STEP_COLS " FROM instance_steps s"
	                     " WHERE s.workflow = $1 AND s.step = $2 AND s.status = 0"
	                     " AND s.started_at <= $3 AND s.updated_at > $5"
	                     " AND NOT EXISTS (SELECT 1 FROM alerts a"
	                     " WHERE a.rule = 'stuck' AND a.workflow = s.workflow"
	                     " AND a.instance_id = s.instance_id AND a.step = s.step"
	                     " AND (a.state < 4 OR a.occurred_at >= s.started_at))"
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
