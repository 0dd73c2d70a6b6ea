/*
 * sqlite.c - the SQLite source runner.
 *
 * DESIGN: the file is opened through a URI "file:PATH?mode=ro" with SQLITE_OPEN_READONLY,
 * so the connection cannot write whatever SQL reaches it; PRAGMA query_only is set too.
 * On top of the lexical guard, every statement is prepared with an authorizer that allows
 * only reads (SELECT, reading columns, recursive CTEs) and calls of the functions the
 * library marks deterministic (read from pragma_function_list on open), aggregates and
 * window functions (source__sqlite_func_ok() in guard.c), must satisfy
 * sqlite3_stmt_readonly(), and must be the only statement in the text.
 *
 * Named parameters bind natively (":since"); a parameter the query uses but the caller did
 * not pass is an error, like PostgreSQL's. statement_timeout is enforced with a progress
 * handler that interrupts the statement once the deadline passes. Values come back as text:
 * integers in decimal, reals in the shortest decimal that reads back to the same double
 * (1.0 prints "1"), blobs as PostgreSQL prints bytea ("\x0a1b").
 *
 * The file is opened on the first query, not by source_open(), so a missing file is a query
 * error the watcher retries, like an unreachable server.
 */
#include "util/common.h"
#include "source/source-int.h"
#include "util/timeutil.h"

#include <sqlite3.h>

struct sq {
	sqlite3 *db;
	int64_t deadline; /* monotonic ms; the progress handler interrupts after it */
	char **funcs;     /* sorted lower-case names of the callable functions; NULL: unknown */
	size_t nfuncs;
	char denied[64]; /* the function the authorizer refused last */
};

/* "sqlite:///abs/path" -> "/abs/path"; "sqlite://rel/path" and "sqlite:rel" -> "rel/path" */
static const char *url_path(const char *url)
{
	if (!strncmp(url, "sqlite://", 9))
		return url + 9;
	if (!strncmp(url, "sqlite:", 7))
		return url + 7;
	return url;
}

static char *file_uri(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	strbuf_addstr(&sb, path[0] == '/' ? "file://" : "file:");
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%' || c == '?' || c == '#' || c <= ' ' || c >= 0x7f)
			strbuf_addf(&sb, "%%%02X", c);
		else
			strbuf_addch(&sb, (char)c);
	}
	strbuf_addstr(&sb, "?mode=ro");
	return strbuf_detach(&sb, NULL);
}

static int progress(void *arg)
{
	struct sq *sq = arg;
	return sq->deadline && time_mono_ms() > sq->deadline;
}

static int authorize(void *arg, int action, const char *a, const char *b, const char *c,
                     const char *d)
{
	struct sq *sq = arg;

	(void)a;
	(void)c;
	(void)d;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE: return SQLITE_OK;
	case SQLITE_FUNCTION:
		if (b && source__sqlite_func_ok(b, sq->funcs, sq->nfuncs))
			return SQLITE_OK;
		snprintf(sq->denied, sizeof(sq->denied), "%s", b ? b : "?");
		return SQLITE_DENY;
	default: return SQLITE_DENY;
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The functions a query may call: those this connection marks deterministic (the same
 * arguments always give the same answer, and nothing else happens), and the aggregate and
 * window functions. Left NULL when the library cannot list them (then only the fixed
 * refuse-list in guard.c applies).
 */
static void load_funcs(struct sq *sq)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;

	if (sqlite3_prepare_v2(sq->db,
	                       "SELECT DISTINCT lower(name) FROM pragma_function_list"
	                       " WHERE ((flags & 2048) <> 0 OR type IN ('a', 'w'))"
	                       "   AND (flags & 524288) = 0",
	                       -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return;
	}
	sq->funcs = xcalloc(1, sizeof(*sq->funcs));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name)
			continue;
		ALLOC_GROW(sq->funcs, sq->nfuncs + 1, alloc);
		sq->funcs[sq->nfuncs++] = xstrdup(name);
	}
	sqlite3_finalize(st);
	qsort(sq->funcs, sq->nfuncs, sizeof(*sq->funcs), cmp_name);
}

static void free_funcs(struct sq *sq)
{
	for (size_t i = 0; i < sq->nfuncs; i++)
		free(sq->funcs[i]);
	free(sq->funcs);
	sq->funcs = NULL;
	sq->nfuncs = 0;
}

static int sq_open(struct source *src, struct sq *sq, struct sw_err *err)
{
	const char *path = url_path(src->url);
	char *uri;
	int rc;

	if (sq->db)
		return 0;
	if (!*path)
		return sw_err_set(err, "source '%s': no database path in url", src->name), -1;
	uri = file_uri(path);
	rc = sqlite3_open_v2(uri, &sq->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		sw_err_set(err, "cannot open source '%s' ('%s'): %s", src->name, path,
		           sq->db ? sqlite3_errmsg(sq->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(sq->db, 5000);
	sqlite3_extended_result_codes(sq->db, 1);
	if (sqlite3_exec(sq->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK) {
		sw_err_set(err, "cannot open source '%s' ('%s'): %s", src->name, path,
		           sqlite3_errmsg(sq->db));
		goto fail;
	}
	sqlite3_progress_handler(sq->db, 1000, progress, sq);
	free_funcs(sq);
	load_funcs(sq);
	return 0;
fail:
	sqlite3_close(sq->db);
	sq->db = NULL;
	return -1;
}

static int bind_params(struct source *src, sqlite3_stmt *st, const struct source_param *params,
                       size_t nparams, struct sw_err *err)
{
	int i, n = sqlite3_bind_parameter_count(st), rc;

	for (i = 1; i <= n; i++) {
		const char *pname = sqlite3_bind_parameter_name(st, i);
		const struct source_param *p = NULL;
		size_t k;

		if (!pname || pname[0] != ':') {
			sw_err_set(err,
			           "source '%s': only :name parameters are supported, found '%s'",
			           src->name, pname ? pname : "?");
			return -1;
		}
		for (k = 0; k < nparams; k++)
			if (!strcmp(params[k].name, pname + 1))
				p = &params[k];
		if (!p) {
			sw_err_set(err, "source '%s': unknown parameter '%.64s'", src->name, pname);
			return -1;
		}
		if (!p->value) {
			rc = sqlite3_bind_null(st, i);
		} else if (p->is_number) {
			char *end;
			long long ll;
			double d;
			errno = 0;
			ll = strtoll(p->value, &end, 10);
			if (!errno && end != p->value && !*end) {
				rc = sqlite3_bind_int64(st, i, ll);
			} else {
				d = strtod(p->value, &end);
				if (end != p->value && !*end)
					rc = sqlite3_bind_double(st, i, d);
				else
					rc = sqlite3_bind_text(st, i, p->value, -1,
					                       SQLITE_TRANSIENT);
			}
		} else {
			rc = sqlite3_bind_text(st, i, p->value, -1, SQLITE_TRANSIENT);
		}
		if (rc != SQLITE_OK) {
			sw_err_set(err, "source '%s': cannot bind '%s': %s", src->name, pname,
			           sqlite3_errstr(rc));
			return -1;
		}
	}
	return 0;
}

/* Shortest "%.Ng" that reads back as d. */
static void format_real(double d, char *buf, size_t n)
{
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static int add_value(struct source *src, struct source_rows_builder *b, sqlite3_stmt *st, int c,
                     struct sw_err *err)
{
	char num[64];
	struct strbuf hex = STRBUF_INIT;
	const unsigned char *blob;
	int rc, len, k;

	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL: return source__rows_add_cell(b, src, NULL, 0, err);
	case SQLITE_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)sqlite3_column_int64(st, c));
		return source__rows_add_cell(b, src, num, strlen(num), err);
	case SQLITE_FLOAT:
		format_real(sqlite3_column_double(st, c), num, sizeof(num));
		return source__rows_add_cell(b, src, num, strlen(num), err);
	case SQLITE_BLOB:
		blob = sqlite3_column_blob(st, c);
		len = sqlite3_column_bytes(st, c);
		if ((size_t)len > SOURCE_MAX_BYTES / 2) {
			sw_err_set(err, "source '%s': result too large", src->name);
			return -1;
		}
		strbuf_addstr(&hex, "\\x");
		for (k = 0; k < len; k++)
			strbuf_addf(&hex, "%02x", blob[k]);
		rc = source__rows_add_cell(b, src, hex.buf, hex.len, err);
		strbuf_release(&hex);
		return rc;
	default: {
		const char *t = (const char *)sqlite3_column_text(st, c);
		return source__rows_add_cell(b, src, t ? t : "",
		                             (size_t)sqlite3_column_bytes(st, c), err);
	}
	}
}

static void sq_err(struct source *src, struct sq *sq, int rc, struct sw_err *err)
{
	if ((rc & 0xff) == SQLITE_INTERRUPT)
		sw_err_set(err,
		           "source '%s': canceling statement due to statement timeout (%" PRId64
		           "ms)",
		           src->name, src->timeout_ms);
	else
		sw_err_set(err, "source '%s': %s", src->name, sqlite3_errmsg(sq->db));
}

static int sq_query(struct source *src, const char *sql, const struct source_calls *calls,
                    const struct source_param *params, size_t nparams, bool describe,
                    const struct source_stream *stream, struct source_rows *out, struct sw_err *err)
{
	struct sq *sq = src->be_data;
	struct source_rows_builder b;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc = -1, c, ncols, step;

	(void)calls;
	source__rows_begin(&b);
	if (!sq) {
		sq = xcalloc(1, sizeof(*sq));
		src->be_data = sq;
	}
	if (sq_open(src, sq, err))
		goto out;
	sq->deadline = time_mono_ms() + src->timeout_ms;
	sq->denied[0] = '\0';
	sqlite3_set_authorizer(sq->db, authorize, sq);
	step = sqlite3_prepare_v2(sq->db, sql, -1, &st, &tail);
	sqlite3_set_authorizer(sq->db, NULL, NULL);
	if (step != SQLITE_OK && sq->denied[0]) {
		sw_err_set(err,
		           "source '%s': query must not call %s(): it is not deterministic or has "
		           "side effects",
		           src->name, sq->denied);
		goto out;
	}
	if (step != SQLITE_OK) {
		sq_err(src, sq, step, err);
		goto out;
	}
	if (!st) {
		sw_err_set(err, "source '%s': query is empty", src->name);
		goto out;
	}
	if (!sqlite3_stmt_readonly(st)) {
		sw_err_set(err, "source '%s': query must be read-only", src->name);
		goto out;
	}
	if (tail && !source__sqlite_only_trivia(tail)) {
		sw_err_set(err, "source '%s': query must be a single statement", src->name);
		goto out;
	}
	ncols = sqlite3_column_count(st);
	for (c = 0; c < ncols; c++)
		source__rows_add_col(&b, sqlite3_column_name(st, c));
	if (describe)
		goto done;
	if (bind_params(src, st, params, nparams, err))
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		for (c = 0; c < ncols; c++)
			if (add_value(src, &b, st, c, err))
				goto out;
		if (source__rows_end_row(&b, src, err))
			goto out;
		if (stream && b.nrows >= stream->batch_rows) {
			int f = source__rows_flush(&b, stream, err);
			if (f < 0)
				goto out;
			if (f > 0)
				goto done; /* stopped by the consumer */
			/* the timeout bounds the reading, not the consumer */
			sq->deadline = time_mono_ms() + src->timeout_ms;
		}
	}
	if (step != SQLITE_DONE) {
		sq_err(src, sq, step, err);
		goto out;
	}
	if (stream && source__rows_flush(&b, stream, err) < 0)
		goto out;
done:
	source__rows_finish(&b, out);
	rc = 0;
out:
	sq->deadline = 0;
	sqlite3_finalize(st);
	source__rows_release(&b);
	return rc;
}

static void sq_close(struct source *src)
{
	struct sq *sq = src->be_data;

	if (!sq)
		return;
	sqlite3_close(sq->db);
	free_funcs(sq);
	free(sq);
	src->be_data = NULL;
}

/* SQLite keeps times in whatever style the application wrote: write them back alike. */
static void sq_time_param(int64_t ms, const char *style_of, char *buf, size_t n,
                          struct source_param *p)
{
	struct time_style st;
	p->value = buf;
	if (ms == TIME_NULL) {
		snprintf(buf, n, "0");
		p->is_number = true;
		return;
	}
	if (!style_of || time_style_of(style_of, &st) < 0) {
		memset(&st, 0, sizeof(st));
		st.t_sep = 1;
		st.zulu = 1;
		st.frac = 3;
	}
	time_format_style(ms, &st, buf, n);
	p->is_number = st.numeric;
}

static bool sq_raw_is_number(const char *raw)
{
	struct time_style st;
	return time_style_of(raw, &st) == 0 && st.numeric;
}

/* The lexical and syntax guard (the authoritative sqlite3_stmt_readonly() check runs when the
 * query is prepared); SQLite's function policy is checked then too, so calls stays empty. */
static int sq_guard(const char *sql, struct source_calls *calls, struct sw_err *err)
{
	(void)calls;
	return source__guard_sqlite(sql, err);
}

const struct source_backend source_backend_sqlite = {
    .name = "sqlite",
    .close = sq_close,
    .query = sq_query,
    .guard = sq_guard,
    .time_needs_probe = true,
    .time_param = sq_time_param,
    .raw_is_number = sq_raw_is_number,
};
