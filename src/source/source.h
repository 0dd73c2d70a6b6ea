/*
 * source.h - read-only query runners for application databases (PostgreSQL, SQLite).
 *
 * A source is opened read-only: PostgreSQL sessions run every query in a READ ONLY
 * transaction with statement_timeout, TimeZone=UTC and DateStyle=ISO set LOCAL to it, and
 * DISCARD ALL after it; SQLite files are opened with mode=ro (SQLITE_OPEN_READONLY). Before
 * any SQL reaches a source it passes the SQL guard: exactly one read-only SELECT
 * (libpg_query for PostgreSQL: no DML, no data-modifying CTE, no FOR UPDATE/SHARE, no
 * multiple statements, no SELECT INTO, no function that runs SQL given as text;
 * sqlite3_stmt_readonly() plus a single-statement check for SQLite). On PostgreSQL every
 * function and operator the query names must be non-volatile in the source's own catalog
 * (checked on first use of a query text per connection), and a connection whose role is a
 * superuser or can write is refused unless the source sets allow_unsafe_role. On SQLite
 * only deterministic functions may be called. docs/security.md has the guarantees.
 *
 * Queries use named parameters ":since", ":instance_id" (SPEC section 3); the runner rewrites
 * them to the driver's placeholders, skipping string literals, quoted identifiers, comments,
 * dollar quotes and "::" casts. Every value comes back as text (NULL as a NULL pointer),
 * the way PostgreSQL's text protocol returns it; SQLite integers and reals are printed in
 * decimal. Timestamps parse with time_parse().
 *
 * A struct source is one connection; it is not thread-safe; a task run uses its own.
 * On a broken PostgreSQL connection the next query reconnects (with backoff between failed
 * attempts: 0.5s doubling to 2s) and fails fast with an error meanwhile. Errors never hold
 * the URL's password (libpq's messages are scrubbed of it).
 */
#ifndef SW_SOURCE_H
#define SW_SOURCE_H

#include "util/common.h"
#include "config/config.h"

struct source;

struct source_param {
	const char *name;  /* without the colon: "since", "instance_id" */
	const char *value; /* text; NULL binds SQL NULL */
	bool is_number;    /* SQLite: bind as a number (epoch seconds) rather than text */
};

/* A result: ncols column names and nrows rows of ncols text cells (NULL = SQL NULL). */
struct source_rows {
	size_t ncols;
	char **cols;
	size_t nrows;
	char **cells; /* row-major: cells[r * ncols + c] */
};

static inline const char *source_cell(const struct source_rows *rs, size_t r, size_t c)
{
	return rs->cells[r * rs->ncols + c];
}
/* Column index by name (exact, case-sensitive after the driver's folding), or -1. */
int source_rows_col(const struct source_rows *rs, const char *name);
void source_rows_release(struct source_rows *rs);

/* Open a connection described by cfg (kind, url, statement_timeout). Opening does not
 * fail when the database is unreachable: the first query does, so watchers can back off. */
int source_open(const struct sw_source *cfg, struct source **out, struct sw_err *err);
void source_close(struct source *src);
/* Run a guarded query; the SQL guard runs first. Returns 0 or -1 with err. */
int source_query(struct source *src, const char *sql, const struct source_param *params,
                 size_t nparams, struct source_rows *out, struct sw_err *err);
/*
 * Called with each batch of a streamed query: at most batch_rows rows (never 0), with the
 * column names. The rows are freed when it returns. Returning -1 (with err set) stops the
 * query, which then fails with that err.
 */
typedef int (*source_batch_fn)(void *ctx, const struct source_rows *batch, struct sw_err *err);
/*
 * source_query, streamed: the rows are handed to fn in batches of batch_rows (the last may
 * be shorter; a query with no rows makes no call), so memory is bounded by one batch
 * however many rows the query returns. The guard, the read-only transaction, its LOCAL
 * settings and DISCARD ALL are as for source_query; the result caps apply to each batch.
 * PostgreSQL reads through a cursor (DECLARE ... NO SCROLL CURSOR, then FETCH batch_rows)
 * in the one transaction, so statement_timeout bounds each FETCH, not the time fn takes;
 * SQLite steps one statement, its timeout counted afresh after each fn call. Batches fn
 * accepted before a failure stay accepted: the caller decides what they mean. fn returns
 * 0 to go on, < 0 to fail the query (err set), > 0 to stop there: the rest is not read and
 * the query returns 0.
 */
int source_query_each(struct source *src, const char *sql, const struct source_param *params,
                      size_t nparams, size_t batch_rows, source_batch_fn fn, void *ctx,
                      struct sw_err *err);
/* The column names a query would return, reading no rows (PostgreSQL: describe a prepared
 * statement; SQLite: prepare and read column names). rows->nrows is 0. */
int source_describe(struct source *src, const char *sql, struct source_rows *out,
                    struct sw_err *err);
/* Cheap liveness check (SELECT 1); on PostgreSQL it connects, and so checks the role. */
int source_ping(struct source *src, struct sw_err *err);
/* True when the last connection attempt failed because the source role is a superuser or
 * can write and the source does not set allow_unsafe_role (a problem of the file). */
bool source_role_refused(const struct source *src);

/*
 * Times written for a source, the way it compares its own updated_at.
 *
 * source_time_param: p becomes the parameter `name` standing for time ms, its text in buf
 * (n bytes): PostgreSQL RFC 3339; SQLite in the style of style_of (an updated_at the source
 * returned: epoch seconds as a number, or ISO text with its separator, zone and fraction),
 * ISO "YYYY-MM-DDTHH:MM:SS.sssZ" when style_of is NULL or not a time. ms TIME_NULL is the
 * earliest time: the number 0 on SQLite, "1970-01-01T00:00:00Z" on PostgreSQL.
 * source_raw_param: p binds raw (an updated_at the source returned, kept as it came) typed
 * the way it came: an SQLite number as a number, text otherwise.
 * source_time_needs_probe: true when the source stores times in any style (SQLite), so a
 * time computed from the clock needs an updated_at of the source to copy the style from.
 */
void source_time_param(const struct source *src, const char *name, int64_t ms, const char *style_of,
                       char *buf, size_t n, struct source_param *p);
void source_raw_param(const struct source *src, const char *name, const char *raw,
                      struct source_param *p);
bool source_time_needs_probe(const struct source *src);

/*
 * The SQL guard on its own (used by source_query and by `stepwatch check`): 0 when sql is
 * exactly one read-only SELECT for that kind of database, else -1 with a reason such as
 * "query must be a single SELECT: found DELETE". For SQLite this is a lexical check plus a
 * syntax check on an in-memory database; the authoritative sqlite3_stmt_readonly() check
 * runs on the real read-only connection in source_query and source_describe. Named
 * parameters are allowed.
 */
int source_guard(enum sw_db_kind kind, const char *sql, struct sw_err *err);

/*
 * Rewrite ":name" parameters for PostgreSQL to "$1", "$2", ... in order of first use of
 * each name in names[]; a name not in names[] is an error. Returns malloc'd SQL and fills
 * order[i] (order has room for nnames entries) with the index into names[] of $i+1 and
 * *norder, or NULL with err.
 */
char *source_rewrite_params(const char *sql, const char *const *names, size_t nnames, int *order,
                            size_t *norder, struct sw_err *err);

#endif
