/*
 * source.c - the read-only source runners' front: opening a source, running the SQL guard
 * before any SQL reaches a backend, and building struct source_rows.
 *
 * DESIGN: a result is two allocations. cols is one block holding the ncols pointers
 * followed by the names; cells is one block holding the nrows * ncols pointers followed by
 * every cell's text. While a backend reads rows, cells go into a growing text buffer with
 * offsets (pointers would move as it grows); source__rows_finish() copies them into the
 * final block once. source_rows_release() therefore frees exactly two pointers.
 */
#include "util/common.h"
#include "source/source-int.h"
#include "util/utf8.h"

void source__rows_begin(struct source_rows_builder *b)
{
	memset(b, 0, sizeof(*b));
	strbuf_init(&b->colnames, 0);
	strbuf_init(&b->text, 0);
}

void source__rows_add_col(struct source_rows_builder *b, const char *name)
{
	b->col_offs = xreallocarray(b->col_offs, b->ncols + 1, sizeof(*b->col_offs));
	b->col_offs[b->ncols++] = b->colnames.len;
	strbuf_addstr(&b->colnames, name ? name : "");
	strbuf_addch(&b->colnames, '\0');
}

static size_t rows_bytes(const struct source_rows_builder *b)
{
	return b->text.len + b->ncells * (sizeof(char *) + sizeof(size_t));
}

int source__rows_add_cell(struct source_rows_builder *b, const struct source *src, const char *s,
                          size_t len, struct sw_err *err)
{
	if (rows_bytes(b) + len + 1 + sizeof(char *) > SOURCE_MAX_BYTES) {
		sw_err_set(err, "source '%s': result too large: over %zu MiB", src->name,
		           SOURCE_MAX_BYTES >> 20);
		return -1;
	}
	ALLOC_GROW(b->offs, b->ncells + 1, b->alloc);
	if (!s) {
		b->offs[b->ncells++] = SIZE_MAX;
		return 0;
	}
	b->offs[b->ncells++] = b->text.len;
	/* a SQLite source (or a SQL_ASCII PostgreSQL one) may hold any bytes: one such value
	 * must not wedge a workflow on a PostgreSQL store (which refuses it) */
	strbuf_add_utf8_lossy(&b->text, s, len);
	strbuf_addch(&b->text, '\0');
	return 0;
}

int source__rows_end_row(struct source_rows_builder *b, const struct source *src,
                         struct sw_err *err)
{
	if (b->ncells != (b->nrows + 1) * b->ncols)
		BUG("row %zu has %zu cells, expected %zu", b->nrows,
		    b->ncells - b->nrows * b->ncols, b->ncols);
	if (b->nrows >= SOURCE_MAX_ROWS) {
		sw_err_set(err, "source '%s': result too large: over %d rows", src->name,
		           SOURCE_MAX_ROWS);
		return -1;
	}
	b->nrows++;
	return 0;
}

void source__rows_finish(struct source_rows_builder *b, struct source_rows *out)
{
	size_t i, ptrs;
	char *text;

	memset(out, 0, sizeof(*out));
	out->ncols = b->ncols;
	ptrs = b->ncols * sizeof(char *);
	out->cols = xmalloc(ptrs + b->colnames.len + 1);
	text = (char *)out->cols + ptrs;
	memcpy(text, b->colnames.buf, b->colnames.len);
	for (i = 0; i < b->ncols; i++)
		out->cols[i] = text + b->col_offs[i];

	out->nrows = b->nrows;
	ptrs = b->ncells * sizeof(char *);
	out->cells = xmalloc(ptrs + b->text.len + 1);
	text = (char *)out->cells + ptrs;
	memcpy(text, b->text.buf, b->text.len);
	for (i = 0; i < b->ncells; i++)
		out->cells[i] = b->offs[i] == SIZE_MAX ? NULL : text + b->offs[i];
	source__rows_release(b);
	source__rows_begin(b);
}

void source__rows_release(struct source_rows_builder *b)
{
	strbuf_release(&b->colnames);
	strbuf_release(&b->text);
	free(b->col_offs);
	free(b->offs);
	memset(b, 0, sizeof(*b));
}

int source__rows_flush(struct source_rows_builder *b, const struct source_stream *stream,
                       struct sw_err *err)
{
	struct source_rows rs;
	int rc;

	if (!b->nrows)
		return 0;
	source__rows_finish(b, &rs);
	for (size_t i = 0; i < rs.ncols; i++)
		source__rows_add_col(b, rs.cols[i]);
	rc = stream->fn(stream->ctx, &rs, err);
	source_rows_release(&rs);
	return rc < 0 ? -1 : rc > 0; /* 1: the consumer stops the stream */
}

int source_rows_col(const struct source_rows *rs, const char *name)
{
	size_t i;
	for (i = 0; i < rs->ncols; i++)
		if (!strcmp(rs->cols[i], name))
			return (int)i;
	return -1;
}

void source_rows_release(struct source_rows *rs)
{
	if (!rs)
		return;
	free(rs->cols);
	free(rs->cells);
	memset(rs, 0, sizeof(*rs));
}

int source_open(const struct sw_source *cfg, struct source **out, struct sw_err *err)
{
	struct source *src;

	*out = NULL;
	if (!cfg->url || !*cfg->url)
		return sw_err_set(err, "source '%s' has no url", cfg->name ? cfg->name : "?"), -1;
	src = xcalloc(1, sizeof(*src));
	src->kind = cfg->kind;
	src->name = xstrdup(cfg->name ? cfg->name : "?");
	src->url = xstrdup(cfg->url);
	src->timeout_ms = cfg->statement_timeout_ms > 0 ? cfg->statement_timeout_ms : 5000;
	src->allow_unsafe_role = cfg->allow_unsafe_role;
	src->be = cfg->kind == SW_DB_POSTGRES ? &source_backend_postgres : &source_backend_sqlite;
	*out = src;
	return 0;
}

void source_close(struct source *src)
{
	if (!src)
		return;
	src->be->close(src);
	free(src->name);
	free(src->url);
	free(src);
}

static int run(struct source *src, const char *sql, const struct source_param *params,
               size_t nparams, bool describe, const struct source_stream *stream,
               struct source_rows *out, struct sw_err *err)
{
	struct sw_err gerr;
	struct source_calls calls = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sql)
		rc = sw_err_set(&gerr, "query is empty");
	else
		rc = src->be->guard(sql, &calls, &gerr);
	if (rc) {
		source__calls_release(&calls);
		sw_err_set(err, "source '%s': %s", src->name, gerr.msg);
		return -1;
	}
	rc = src->be->query(src, sql, &calls, params, nparams, describe, stream, out, err);
	source__calls_release(&calls);
	return rc;
}

int source_query(struct source *src, const char *sql, const struct source_param *params,
                 size_t nparams, struct source_rows *out, struct sw_err *err)
{
	return run(src, sql, params, nparams, false, NULL, out, err);
}

int source_query_each(struct source *src, const char *sql, const struct source_param *params,
                      size_t nparams, size_t batch_rows, source_batch_fn fn, void *ctx,
                      struct sw_err *err)
{
	struct source_stream stream = {batch_rows ? batch_rows : 1, fn, ctx};
	struct source_rows out;
	int rc = run(src, sql, params, nparams, false, &stream, &out, err);
	source_rows_release(&out);
	return rc;
}

int source_describe(struct source *src, const char *sql, struct source_rows *out,
                    struct sw_err *err)
{
	return run(src, sql, NULL, 0, true, NULL, out, err);
}

bool source_role_refused(const struct source *src)
{
	return src && src->role_refused;
}

int source_ping(struct source *src, struct sw_err *err)
{
	struct source_rows rows;
	int rc = source_query(src, "SELECT 1", NULL, 0, &rows, err);
	source_rows_release(&rows);
	return rc;
}

void source_time_param(const struct source *src, const char *name, int64_t ms, const char *style_of,
                       char *buf, size_t n, struct source_param *p)
{
	p->name = name;
	src->be->time_param(ms, style_of, buf, n, p);
}

void source_raw_param(const struct source *src, const char *name, const char *raw,
                      struct source_param *p)
{
	p->name = name;
	p->value = raw;
	p->is_number = src->be->raw_is_number(raw);
}

bool source_time_needs_probe(const struct source *src)
{
	return src->be->time_needs_probe;
}
