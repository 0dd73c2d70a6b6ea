/*
 * store-int.h - inside the store: the backend method table (after SQLite's sqlite3_vfs and
 * git's refs-internal.h), the result-set and parameter types the backends speak, and the
 * helpers the domain files (store.c, store_alerts.c) share.
 *
 * DESIGN: a backend knows nothing about alerts. It opens a connection, runs one SQL
 * statement with positional parameters and hands back rows, runs a batch of the same
 * statement with many parameter sets, and begins/commits/rolls back. Every domain operation
 * of store.h is written once on top of that, with SQL shared by both dialects: placeholders
 * are written $1, $2, ... (the SQLite backend rewrites them to ?1, ?2), and both dialects
 * understand ON CONFLICT ... DO NOTHING/UPDATE, RETURNING and partial indexes. Where the
 * dialects differ, the backend's statement table (struct store_sql, in sqlite_sql.c and
 * pg_sql.c) holds the text and the strategy (a loop of one statement per item, or one
 * set-based statement over arrays): the domain files never ask which backend they run on.
 *
 * New methods go only at the end of struct store_backend.
 */
#ifndef SW_STORE_INT_H
#define SW_STORE_INT_H

#include "util/common.h"
#include "util/strbuf.h"
#include "store/store.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_recovery.h"
#include "store/store_silences.h"
#include "store/store_stats.h"
#include "store/store_steps.h"
#include "store/store_watermarks.h"
#include "core/instance.h"
#include "store/sql_names.h"

/* ---- parameters ------------------------------------------------------------------------ */

enum store_param_kind {
	SP_NULL = 0,
	SP_TEXT,
	SP_INT
};

/* One positional parameter. Text is borrowed: it must stay valid for the call. */
struct store_param {
	enum store_param_kind kind;
	const char *s;
	int64_t i;
};

static inline struct store_param sp_text(const char *s)
{
	struct store_param p = {s ? SP_TEXT : SP_NULL, s, 0};
	return p;
}
static inline struct store_param sp_int(int64_t i)
{
	struct store_param p = {SP_INT, NULL, i};
	return p;
}
/* A time: TIME_NULL becomes SQL NULL. */
static inline struct store_param sp_time(int64_t ms)
{
	struct store_param p = {ms == TIME_NULL ? SP_NULL : SP_INT, NULL, ms};
	return p;
}

/* ---- result rows ----------------------------------------------------------------------- */

enum store_cell_kind {
	SC_NULL = 0,
	SC_INT,
	SC_TEXT
};

/* One cell. s is owned by the rows (also filled lazily when an integer is read as text). */
struct store_cell {
	enum store_cell_kind kind;
	int64_t i;
	char *s;
};

/* A result set: nrows x ncols cells, row-major. STORE_ROWS_INIT is an empty set. */
struct store_rows {
	size_t nrows, ncols;
	size_t alloc; /* rows allocated */
	struct store_cell *cells;
};
#define STORE_ROWS_INIT       \
	{                     \
		0, 0, 0, NULL \
	}

/* Backends: make room for one more row of ncols cells (zeroed) and return it. */
struct store_cell *store_rows__add(struct store_rows *r, size_t ncols);
/* Free every cell and leave an empty set. */
void store_rows_release(struct store_rows *r);
/* Cell (row, col) as an integer; dflt when NULL. Text is parsed with strtoll. */
int64_t store_rows_int(const struct store_rows *r, size_t row, size_t col, int64_t dflt);
/* Cell as text (owned by r), NULL when SQL NULL. */
const char *store_rows_text(const struct store_rows *r, size_t row, size_t col);
/* Cell as a malloc'd copy, NULL when SQL NULL. */
char *store_rows_dup(const struct store_rows *r, size_t row, size_t col);

/* ---- the backend method table ---------------------------------------------------------- */

struct store_conn; /* one backend connection; defined by each backend */
struct store;
struct store_sql; /* the statements that differ between the dialects (below) */

struct store_backend {
	/* "sqlite" or "postgres": the dialect; also the migrations folder name. */
	const char *dialect;
	enum sw_db_kind kind;

	/*
	 * Open a connection for url (the whole URL, scheme included). On success *out is a new
	 * connection owned by the caller (release it with close). On failure returns STORE_ERROR
	 * or STORE_EBUSY (server unreachable) with err saying "cannot open store '<url>': ...".
	 */
	int (*open)(const char *url, struct store_conn **out, struct sw_err *err);

	/* Close and free c (NULL is fine). A transaction still open is rolled back. */
	void (*close)(struct store_conn *c);

	/*
	 * Run one statement with np positional parameters ($1..$np). If rows is not NULL, the
	 * rows it returns are appended to *rows (the caller releases them). *changes (may be
	 * NULL) gets the number of rows inserted/updated/deleted. Returns 0, STORE_ERROR (SQL
	 * error, with the database's message) or STORE_EBUSY (locked, connection lost,
	 * serialization failure: retry later). The backend may cache a prepared form of sql keyed
	 * by its text, so sql should be a constant or come from a small set.
	 */
	int (*exec)(struct store_conn *c, const char *sql, const struct store_param *p, size_t np,
	            struct store_rows *rows, int64_t *changes, struct sw_err *err);

	/*
	 * Run sql n times, with parameter set k being params[k * np .. k * np + np - 1], in order.
	 * rows (may be NULL) is an array of n result sets, set k receiving the rows of run k.
	 * Meant for use inside a transaction; a backend may pipeline the runs (PostgreSQL does),
	 * so a run cannot depend on the result of an earlier one except through the database.
	 * Stops at the first failing run and returns its error.
	 */
	int (*exec_many)(struct store_conn *c, const char *sql, const struct store_param *params,
	                 size_t np, size_t n, struct store_rows *rows, struct sw_err *err);

	/*
	 * Run a script of several statements without parameters (a migration). Runs inside
	 * whatever transaction is open; does not begin one.
	 */
	int (*exec_script)(struct store_conn *c, const char *sql, struct sw_err *err);

	/*
	 * Begin a write transaction (SQLite: BEGIN IMMEDIATE, so writers queue on busy_timeout
	 * instead of failing at commit). Only one level: the domain code counts nesting.
	 */
	int (*begin)(struct store_conn *c, struct sw_err *err);
	int (*commit)(struct store_conn *c, struct sw_err *err);
	/* Roll back the open transaction, if any. Never fails (a broken connection is dropped
	 * and reopened at the next call). */
	void (*rollback)(struct store_conn *c);

	/*
	 * Inside a transaction: take the lock that serialises migrations across processes until
	 * the transaction ends (PostgreSQL: pg_advisory_xact_lock; SQLite: nothing, BEGIN
	 * IMMEDIATE already holds the write lock).
	 */
	int (*lock_migrations)(struct store_conn *c, struct sw_err *err);

	/*
	 * Run one read statement like exec, but hand each row to fn instead of copying it:
	 * cells[0..ncols-1], whose text (s) points into the backend's own row buffer and is
	 * valid only during the call (SQLite: SC_INT cells have s NULL; PostgreSQL: every
	 * non-NULL cell is SC_TEXT). A nonzero return from fn stops the scan; query then
	 * returns 0. For the API's hot read paths: no allocation per row or cell.
	 */
	int (*query)(struct store_conn *c, const char *sql, const struct store_param *p, size_t np,
	             int (*fn)(void *arg, const struct store_cell *cells, size_t ncols), void *arg,
	             struct sw_err *err);

	/* The statement texts and batch strategies of this dialect. */
	const struct store_sql *sql;

	/* What the store is, for people ("sqlite", "postgresql"). */
	const char *product;
	/* store_would_create for a URL of this backend. */
	int (*would_create)(const char *url, bool *creates, struct sw_err *err);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_postgres;

/* ---- a statement cache keyed by SQL text (used by both backends) ------------------------ */

struct stmt_cache_entry {
	char *sql;
	uint64_t hash;
	void *stmt;
	struct stmt_cache_entry *next;
};
struct stmt_cache {
	struct stmt_cache_entry **buckets;
	size_t nbuckets, count;
};
/* The statement cached for sql, or NULL. */
void *stmt_cache_get(struct stmt_cache *c, const char *sql);
/* Remember stmt for sql (copied). */
void stmt_cache_put(struct stmt_cache *c, const char *sql, void *stmt);
/* Call fn on every statement (may be NULL), then empty the cache. */
void stmt_cache_clear(struct stmt_cache *c, void (*fn)(void *stmt));

/* ---- the handle and helpers for the domain files ---------------------------------------- */

struct store {
	const struct store_backend *be;
	struct store_conn *conn;
	int depth;      /* store_tx_begin nesting (explicit and internal) */
	bool tx_failed; /* a database error happened inside the current transaction */
	/* rows written to tables whose statistics are checked once the transaction commits
	 * (store__analyze_after_commit); table names are constants of the store */
	struct {
		const char *table;
		size_t added;
	} analyze_later[4];
};

/* sw_err_set, returning code. */
int store__err(struct sw_err *err, int code, const char *fmt, ...) SW_PRINTF(3, 4);

/* Run a query whose rows fn decodes straight from the backend's buffer (no copied result
 * set); a failure inside a transaction marks it failed, as store__exec does. */
int store__query(struct store *st, const char *sql, const struct store_param *p, size_t np,
                 int (*fn)(void *arg, const struct store_cell *cells, size_t ncols), void *arg,
                 struct sw_err *err);
/* Run one statement (see store_backend.exec); a database error inside a transaction marks
 * it failed, so its commit rolls back instead. */
int store__exec(struct store *st, const char *sql, const struct store_param *p, size_t np,
                struct store_rows *rows, int64_t *changes, struct sw_err *err);
int store__exec_many(struct store *st, const char *sql, const struct store_param *params, size_t np,
                     size_t n, struct store_rows *rows, struct sw_err *err);
/* Enter/leave an atomic section: begins a transaction only when none is open. On rc != 0
 * store__leave rolls back a transaction it began; returns rc, or the commit's error. */
int store__enter(struct store *st, struct sw_err *err);
int store__leave(struct store *st, int rc, struct sw_err *err);
/* After writing `added` rows to table in one batch: the dialect's analyze_if_stale. */
int store__analyze_if_stale(struct store *st, const char *table, size_t added, struct sw_err *err);
/* The same, once the outermost transaction has committed (at once outside a transaction),
 * for a table the rest of the transaction does not read: an ANALYZE is then neither inside
 * the transaction (its locks held to the end, what the transaction makes visible delayed by
 * it) nor repeated per batch. A failed ANALYZE is logged, not an error: the data is in. */
void store__analyze_after_commit(struct store *st, const char *table, size_t added);

/* ---- what differs between the dialects ------------------------------------------------ */

/* The instances upsert writes one struct instance_summary (core/instance.h) per instance of
 * a batch: the summary of its new records. */

/*
 * A batch: sql run once per parameter set (set k is params[k * np .. k * np + np - 1]),
 * res (may be NULL) receiving the rows of set k in res[k]. SQLite runs the sets one by one
 * (store__exec_many); PostgreSQL runs one set-based statement over arrays (store__exec_set),
 * so the dialect's text of sql differs in form, not in its parameter sets or results.
 */
typedef int store_batch_fn(struct store *st, const char *sql, const struct store_param *params,
                           size_t np, size_t n, struct store_rows *res, struct sw_err *err);

/*
 * The statements whose text differs between the dialects, and the strategies that differ
 * with them: one instance per backend (store_sql_sqlite in sqlite_sql.c, store_sql_postgres
 * in pg_sql.c). A statement marked "batch" is run by batch (one parameter set per item,
 * same parameters and rows in both dialects); the others by store__exec.
 */
/* Parameters per alert of store_sql.alerts_insert. */
#define STORE_ALERT_NEW_PARAMS 17

/* The WHERE of an instances upsert that writes a row only when folding the new summary
 * (excluded) into the stored one (table T) changes a column (core/instance.c's merge); NE
 * is the dialect's null-safe "differs from". */
#define SQL_INSTANCE_FOLD_CHANGES(T, NE)                                           \
	" WHERE excluded.last_progress_at > " T ".last_progress_at"                \
	" OR excluded.max_step_index > " T ".max_step_index"                       \
	" OR (excluded.started_at IS NOT NULL AND (" T ".started_at IS NULL"       \
	" OR excluded.started_at < " T ".started_at))"                             \
	" OR (" T ".completed_at IS NULL AND excluded.completed_at IS NOT NULL)"   \
	" OR (excluded.last_progress_at >= " T ".last_progress_at AND ("           \
	"(excluded.user_id IS NOT NULL AND excluded.user_id " NE " " T ".user_id)" \
	" OR (excluded.labels IS NOT NULL AND excluded.labels " NE " " T ".labels)))"

struct store_sql {
	/* How this dialect runs a batch. */
	store_batch_fn *batch;
	/* The same, for a batch whose every item must be found through an index (PostgreSQL
	 * keeps the planner off hash and merge joins that would read the whole table). */
	store_batch_fn *batch_by_index;

	/* () -> count of schema_migrations tables (0 or 1). */
	const char *migrations_table_exists;

	/* batch (rule, workflow, instance_id, step) -> (id, state, incident_id) of the key's
	 * open alert, else of its newest closed one; no row for a key never alerted. */
	const char *key_lookup;
	/* batch (group_key, workflow, step, rule, labels, at) -> (id) of the incident created,
	 * no row when an open one exists. */
	const char *incident_insert;
	/* batch (group_key) -> (id) of the open incident, locked where the dialect can (so a
	 * concurrent resolve cannot close it under us). */
	const char *incident_find;
	/* batch (incident, user, limit) -> (count of the user's alerts in it, up to limit). */
	const char *user_seen;
	/* batch (incident, at, created, new users): counters and level after alerts opened. */
	const char *incident_add;
	/* batch_by_index (id, to, at, next_escalation_at, resolved_by, from) -> (incident_id)
	 * of each alert whose compare-and-set applied. */
	const char *alert_cas;
	/* batch (alert_id, at, actor, event, reason, from_state, to_state). */
	const char *history_insert;
	/* batch (incident, at, delta of open alerts): counters, level, resolving. */
	const char *incident_delta;
	/* (workflow) -> a mark below every change to the workflow's instances not yet visible
	 * (see store_recovery_mark). */
	const char *recovery_mark;

	/*
	 * Insert the n alerts of p (STORE_ALERT_NEW_PARAMS each: rule, workflow, step,
	 * step_index, instance_id, user_id, error, labels, group_key, occurred_at, now,
	 * next_escalation_at, abandon_after_ms, incident_id, reopen_of, opener, state; the opener
	 * is the same for the whole batch), ON CONFLICT DO NOTHING, and write the history row
	 * ("opened" or "reopened", to INITIATED; a born-escalated alert's level rows are the
	 * caller's) and
	 * flap count of each alert created. res[t] gets the id of alert t when it was created.
	 * keys maps "rule\x1fworkflow\x1finstance_id\x1fstep" of each alert to todo's index
	 * in the caller's batch + 1 (todo[t] = that index of set t), for a dialect that matches
	 * what it created back by key.
	 */
	int (*alerts_insert)(struct store *st, const struct store_param *p, size_t n,
	                     const size_t *todo, struct stmt_cache *keys, struct store_rows *res,
	                     struct sw_err *err);

	/* Ingest, phase 1: upsert the current step states of the records recs[0..n), in order
	 * ("the latest updated_at wins, a tie to the further status"); cur[i] = record i
	 * became its step's current state (a record read again, or older than the state
	 * stored, did not). *added: the rows it inserted (new steps), what the planner's
	 * statistics follow; a dialect that keeps none may count every row written. */
	int (*steps_upsert)(struct store *st, const char *workflow, const struct step_record *recs,
	                    size_t n, bool *cur, size_t *added, struct sw_err *err);
	/* Phase 2: fold the summaries aggs[0..n) (distinct instances) into the instances and
	 * move their change mark (`touched`, what the resolver follows). if_changed: none of
	 * these instances' records changed a step, so a row is written only when the fold
	 * changes it (a re-read record changes nothing: no write, no resolver check).
	 * *added: the rows it inserted (new instances), as for steps_upsert. */
	int (*instances_upsert)(struct store *st, const char *workflow,
	                        const struct instance_summary *aggs, size_t n, bool if_changed,
	                        size_t *added, struct sw_err *err);

	/* After writing `added` rows to table (in one batch, or since its last ANALYZE): refresh
	 * the planner's statistics when they are stale (PostgreSQL), or nothing. 1 when it
	 * analyzed the table (its count starts again), 0 when not, < 0 on error. */
	int (*analyze_if_stale)(struct store *st, const char *table, size_t added,
	                        struct sw_err *err);

	/* A read whose best plan depends on its values (a day of instances, or every one):
	 * planned for them at each execution, never from a cached generic plan (PostgreSQL),
	 * or as any other read (SQLite plans without the values either way). */
	int (*exec_planned)(struct store *st, const char *sql, const struct store_param *p,
	                    size_t np, struct store_rows *rows, struct sw_err *err);
};

extern const struct store_sql store_sql_sqlite;
extern const struct store_sql store_sql_postgres;

/* ---- PostgreSQL column arrays for set-based statements (pgarray.c) ------------------- */

/* ncols array literals built row by row; bound as ncols text parameters cast to arrays
 * ($k::text[], $k::bigint[]) and read back with unnest(...) WITH ORDINALITY. */
struct pg_cols {
	struct strbuf *col;
	size_t ncols, nrows; /* nrows: kept by the caller */
};
void pg_cols_init(struct pg_cols *a, size_t ncols);
void pg_cols_release(struct pg_cols *a);
/* Empty every column again (after a statement ran). */
void pg_cols_reset(struct pg_cols *a);
void pg_cols_text(struct pg_cols *a, size_t col, const char *s); /* NULL: SQL NULL */
void pg_cols_int(struct pg_cols *a, size_t col, int64_t v);
void pg_cols_time(struct pg_cols *a, size_t col, int64_t ms); /* TIME_NULL: SQL NULL */
/* Close the literals and point p[0..ncols) at them (valid until the next change of a). */
void pg_cols_params(struct pg_cols *a, struct store_param *p);

/*
 * PostgreSQL: the set-based form of exec_many. The n parameter sets of np parameters become
 * np array parameters ($1..$np, one element per set, in order; cast them in sql:
 * $1::bigint[], $2::text[]) and sql runs once, typically over unnest(...) WITH ORDINALITY.
 * When res is not NULL, sql must return the ordinal (1..n) of its parameter set first: each
 * row goes, without that column, to res[ordinal - 1], as exec_many would have put it.
 */
int store__exec_set(struct store *st, const char *sql, const struct store_param *params, size_t np,
                    size_t n, struct store_rows *res, struct sw_err *err);
/* The same statement, its rows appended to *rows as they come (no ordinal mapping). */
int store__exec_set_rows(struct store *st, const char *sql, const struct store_param *params,
                         size_t np, size_t n, struct store_rows *rows, struct sw_err *err);

/* ---- alert reads shared by store_alerts.c (copying) and store_read.c (zero-copy) -------- */

/* One history row (alert_id, at, actor, event, reason, from_state, to_state): both dialects
 * run it for a single row, SQLite also as its history batch. */
#define STORE_HISTORY_INSERT                                                                   \
	"INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)" \
	" VALUES ($1, $2, $3, $4, $5, $6, $7)"

/* The columns of a struct alert, in the order both readers decode them. */
#define STORE_ALERT_COLS                                                                      \
	"a.id, a.rule, a.workflow, a.step, a.instance_id, a.user_id, a.step_index, a.state, " \
	"a.error, a.labels, a.group_key, a.occurred_at, a.opened_at, a.updated_at, "          \
	"a.next_escalation_at, a.abandon_after_ms, a.acked_by, a.acked_at, a.resolved_at, "   \
	"a.resolved_by, a.incident_id, a.reopen_of"
#define STORE_ALERT_NCOLS 22

/* An owned copy of the alert in cells[0..STORE_ALERT_NCOLS) (a row of a query method). */
void store__alert_from_cells(const struct store_cell *cells, struct alert *out);
/* The six columns of store_alerts_due (id, state, occurred_at, workflow, step, error). */
void store__alert_due_from_cells(const struct store_cell *cells, struct alert_due *out);

/* The SQL of an alert list for filter f (newest first, LIMIT limit) into sql, with its
 * parameters in p (room for 10); returns how many. */
size_t store__alerts_list_sql(const struct alert_filter *f, size_t limit, struct strbuf *sql,
                              struct store_param *p);

#endif
