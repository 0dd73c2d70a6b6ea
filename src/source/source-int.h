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

struct source_backend {
	const char *name;
	/* Release backend state (be_data); the connection may never have been opened. */
	void (*close)(struct source *src);
	/*
	 * Run sql (already through source_guard) with params; with describe set, read only the
	 * column names. Fills *out (zeroed by the caller) on success; returns 0 or -1 with err.
	 */
	int (*query)(struct source *src, const char *sql, const struct source_param *params,
	             size_t nparams, bool describe, struct source_rows *out, struct sw_err *err);
};

struct source {
	enum sw_db_kind kind;
	char *name;
	char *url;
	int64_t timeout_ms;
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
