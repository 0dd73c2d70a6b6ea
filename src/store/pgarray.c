/*
 * pgarray.c - column arrays for PostgreSQL set-based statements (store-int.h).
 *
 * DESIGN: on PostgreSQL a batch operation of the store is one statement over
 * unnest($1::text[], $2::bigint[], ...) instead of one pipelined statement per row: the
 * server parses, plans and runs it once and checks constraints in one pass, which is what
 * makes 10,000 alerts cost milliseconds rather than one round of executor start-up per row.
 * Each column is built here as an array literal ('{"a","b",NULL}') and bound as one text
 * parameter. Text elements are always quoted, with backslash and double quote escaped, so
 * any value (commas, braces, quotes, the word NULL) arrives byte for byte.
 */
#include "util/common.h"
#include "store/store-int.h"

void pg_cols_init(struct pg_cols *a, size_t ncols)
{
	a->ncols = ncols;
	a->nrows = 0;
	a->col = xcalloc(ncols, sizeof(*a->col));
	for (size_t i = 0; i < ncols; i++) {
		strbuf_init(&a->col[i], 64);
		strbuf_addch(&a->col[i], '{');
	}
}

void pg_cols_release(struct pg_cols *a)
{
	for (size_t i = 0; a->col && i < a->ncols; i++)
		strbuf_release(&a->col[i]);
	free(a->col);
	memset(a, 0, sizeof(*a));
}

static struct strbuf *next_elem(struct pg_cols *a, size_t col)
{
	struct strbuf *sb;
	if (col >= a->ncols)
		BUG("pg_cols: column %zu of %zu", col, a->ncols);
	sb = &a->col[col];
	if (sb->len > 1)
		strbuf_addch(sb, ',');
	return sb;
}

void pg_cols_text(struct pg_cols *a, size_t col, const char *s)
{
	struct strbuf *sb = next_elem(a, col);
	const char *run;
	if (!s) {
		strbuf_addstr(sb, "NULL");
		return;
	}
	strbuf_addch(sb, '"');
	for (run = s; *s; s++) {
		if (*s != '"' && *s != '\\')
			continue;
		strbuf_add(sb, run, (size_t)(s - run));
		strbuf_addch(sb, '\\');
		run = s;
	}
	strbuf_add(sb, run, (size_t)(s - run));
	strbuf_addch(sb, '"');
}

void pg_cols_int(struct pg_cols *a, size_t col, int64_t v)
{
	strbuf_addf(next_elem(a, col), "%" PRId64, v);
}

void pg_cols_time(struct pg_cols *a, size_t col, int64_t ms)
{
	if (ms == TIME_NULL)
		strbuf_addstr(next_elem(a, col), "NULL");
	else
		pg_cols_int(a, col, ms);
}

void pg_cols_params(struct pg_cols *a, struct store_param *p)
{
	for (size_t i = 0; i < a->ncols; i++) {
		strbuf_addch(&a->col[i], '}');
		p[i] = sp_text(a->col[i].buf);
	}
}

void pg_cols_reset(struct pg_cols *a)
{
	for (size_t i = 0; i < a->ncols; i++) {
		strbuf_reset(&a->col[i]);
		strbuf_addch(&a->col[i], '{');
	}
	a->nrows = 0;
}

/* The arrays of n parameter sets of np parameters into a (initialised here) and p[np]. */
static void set_arrays(const struct store_param *params, size_t np, size_t n, struct pg_cols *a,
                       struct store_param *p)
{
	pg_cols_init(a, np);
	for (size_t k = 0; k < n; k++) {
		for (size_t j = 0; j < np; j++) {
			const struct store_param *q = &params[k * np + j];
			switch (q->kind) {
			case SP_INT: pg_cols_int(a, j, q->i); break;
			case SP_TEXT: pg_cols_text(a, j, q->s); break;
			default: pg_cols_text(a, j, NULL); break;
			}
		}
	}
	a->nrows = n;
	pg_cols_params(a, p);
}

int store__exec_set_rows(struct store *st, const char *sql, const struct store_param *params,
                         size_t np, size_t n, struct store_rows *rows, struct sw_err *err)
{
	struct pg_cols a;
	struct store_param *p;
	int rc;
	if (n == 0)
		return 0;
	p = xcalloc(np ? np : 1, sizeof(*p));
	set_arrays(params, np, n, &a, p);
	rc = store__exec(st, sql, p, np, rows, NULL, err);
	free(p);
	pg_cols_release(&a);
	return rc;
}

int store__exec_set(struct store *st, const char *sql, const struct store_param *params, size_t np,
                    size_t n, struct store_rows *res, struct sw_err *err)
{
	struct pg_cols a;
	struct store_param *p;
	struct store_rows rows = STORE_ROWS_INIT;
	int rc;

	if (n == 0)
		return 0;
	p = xcalloc(np ? np : 1, sizeof(*p));
	set_arrays(params, np, n, &a, p);
	rc = store__exec(st, sql, p, np, res ? &rows : NULL, NULL, err);
	/* hand each row (less its ordinal) to the result set of the parameter set it came from */
	for (size_t r = 0; !rc && res && r < rows.nrows; r++) {
		int64_t ord = store_rows_int(&rows, r, 0, 0);
		struct store_cell *src = &rows.cells[r * rows.ncols], *dst;
		if (ord < 1 || (size_t)ord > n)
			BUG("set-based statement returned ordinal %" PRId64 " of %zu", ord, n);
		dst = store_rows__add(&res[ord - 1], rows.ncols - 1);
		for (size_t c = 1; c < rows.ncols; c++) {
			dst[c - 1] = src[c];
			src[c].kind = SC_NULL;
			src[c].s = NULL;
		}
	}
	store_rows_release(&rows);
	free(p);
	pg_cols_release(&a);
	return rc;
}
