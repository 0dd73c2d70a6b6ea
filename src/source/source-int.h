/*
 * source-int.h - internals shared by the source runners (source.c, postgres.c, sqlite.c,
 * guard.c, params.c). Not for use outside src/source/.
 *
 * A backend is a method table (after SQLite's sqlite3_vfs): source.c owns the struct source
 * and its copy of the configuration, dispatches to the backend and runs the SQL guard first.
 */
#ifndef SW_SOURCE_INT_H
#define SW_SOURCE_INT_H

#include "source/source.h"
#include "util/strbuf.h"

/* Result caps: a query returning more is an error, not an out-of-memory crash. */
#define SOURCE_MAX_ROWS  1000000
#define SOURCE_MAX_BYTES ((size_t)256 << 20)

/* A function or operator a PostgreSQL query names (as the parser folded it). */
struct source_call {
	char *schema; /* "" when not qualified */
	char *name;
	bool is_op;
};

struct source_calls {
	struct source_call *v;
	size_t n, alloc;
};

void source__calls_release(struct source_calls *c);

/*
 * The PostgreSQL guard (source_guard's half for PostgreSQL); with calls non-NULL it also
 * collects every function called and operator used anywhere in the query (select lists,
 * casts' arguments, subqueries, CTEs, FROM functions, ...), each name once.
 */
int source__guard_pg(const char *sql, struct source_calls *calls, struct sw_err *err);

/* One row of the source catalog's answer about a called name (see postgres.c). */
struct source_proc {
	const char *schema, *name;
	char volatility; /* pg_proc.provolatile: 'i', 's' or 'v' */
	char parallel;   /* pg_proc.proparallel: 's', 'r' or 'u' */
	bool in_path;    /* its schema is on the session's search path */
	bool is_op;      /* an operator (the row describes its function) */
};

/*
 * The catalog policy: 0 when every call resolves only to non-volatile functions, else -1
 * with err naming the function. A name resolves to every function of that name in its
 * schema (qualified) or in any schema on the search path (unqualified); every candidate
 * overload must be IMMUTABLE or STABLE, and a pg_catalog one must not be PARALLEL UNSAFE
 * (PostgreSQL marks so the built-ins that change transaction or session state, such as
 * txid_current()). A function with no candidate is refused; an operator with none is left
 * to PostgreSQL (which rejects it).
 */
int source__pg_policy(const struct source_calls *calls, const struct source_proc *procs,
                      size_t nprocs, struct sw_err *err);

/*
 * The SQLite function policy: true when the function may be called by a query. allowed
 * (NULL when the connection could not list its functions) is the sorted, lower-case list
 * of deterministic functions the connection has (see sqlite.c).
 */
bool source__sqlite_func_ok(const char *name, char *const *allowed, size_t nallowed);

/* A streamed query's consumer (source_query_each). */
struct source_stream {
	size_t batch_rows;
	source_batch_fn fn;
	void *ctx;
};

struct source_backend {
	const char *name;
	/* Release backend state (be_data); the connection may never have been opened. */
	void (*close)(struct source *src);
	/*
	 * Run sql (already through source_guard) with params; with describe set, read only the
	 * column names. Fills *out (zeroed by the caller) on success; returns 0 or -1 with err.
	 * With stream set, the rows go to stream->fn in batches instead and *out stays empty.
	 */
	int (*query)(struct source *src, const char *sql, const struct source_calls *calls,
	             const struct source_param *params, size_t nparams, bool describe,
	             const struct source_stream *stream, struct source_rows *out,
	             struct sw_err *err);
	/* The SQL guard of this dialect (source_guard); calls, when the dialect checks the
	 * functions a query calls against the source's catalog, receives them. */
	int (*guard)(const char *sql, struct source_calls *calls, struct sw_err *err);
	/* The source's notation of times (see source_time_param and source_raw_param). */
	bool time_needs_probe;
	void (*time_param)(int64_t ms, const char *style_of, char *buf, size_t n,
	                   struct source_param *p);
	bool (*raw_is_number)(const char *raw);
};

struct source {
	enum sw_db_kind kind;
	char *name;
	char *url;
	int64_t timeout_ms;
	bool allow_unsafe_role;
	bool role_refused; /* the last connection's role was refused */
	const struct source_backend *be;
	void *be_data;
};

extern const struct source_backend source_backend_postgres;
extern const struct source_backend source_backend_sqlite;

/*
 * Builds a struct source_rows: cells are appended row by row into one text buffer, then
 * source__rows_finish() makes one allocation holding the pointer array and the text.
 */
struct source_rows_builder {
	size_t ncols;
	struct strbuf colnames;
	size_t *col_offs;
	struct strbuf text;
	size_t *offs; /* per cell: offset into text, or SIZE_MAX for NULL */
	size_t ncells, alloc;
	size_t nrows;
};

void source__rows_begin(struct source_rows_builder *b);
/* Set the column names (once, before cells). */
void source__rows_add_col(struct source_rows_builder *b, const char *name);
/* Append one cell (s NULL = SQL NULL); fails past the caps with err naming the source. */
int source__rows_add_cell(struct source_rows_builder *b, const struct source *src, const char *s,
                          size_t len, struct sw_err *err);
/* Count a completed row (after ncols cells); fails past SOURCE_MAX_ROWS. */
int source__rows_end_row(struct source_rows_builder *b, const struct source *src,
                         struct sw_err *err);
/* Move the result into *out and reset the builder. */
void source__rows_finish(struct source_rows_builder *b, struct source_rows *out);
void source__rows_release(struct source_rows_builder *b);
/* Hand the rows built so far (if any) to stream->fn and start the next batch with the same
 * columns; -1 when fn failed, 1 when it stops the stream, else 0. */
int source__rows_flush(struct source_rows_builder *b, const struct source_stream *stream,
                       struct sw_err *err);

/*
 * Lexes PostgreSQL-flavoured SQL and calls fn for each ":name" parameter found outside
 * string literals, quoted identifiers, comments and dollar quotes ("::" is a cast).
 * off/len cover the whole ":name". A non-zero return from fn stops and is returned.
 */
int source__scan_params(const char *sql, size_t len, int (*fn)(void *ctx, size_t off, size_t len),
                        void *ctx);

/*
 * source_rewrite_params() accepting every name: each distinct ":name" becomes "$n" in order
 * of first use; *nparams is the count. Used to describe a query without values.
 */
char *source__rewrite_any(const char *sql, size_t *nparams);

/* The SQLite-specific lexical guard (guard.c), used by the SQLite runner too. */
int source__guard_sqlite(const char *sql, struct sw_err *err);
/* True when s from the start holds only whitespace, comments and semicolons (SQLite). */
bool source__sqlite_only_trivia(const char *s);

#endif
