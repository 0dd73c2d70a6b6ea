/*
 * rows.c - what the store backends share: result sets (struct store_rows) and the
 * statement cache keyed by SQL text (a small chained hash table, FNV-1a).
 */
#include "util/common.h"
#include "store/store-int.h"

struct store_cell *store_rows__add(struct store_rows *r, size_t ncols)
{
	struct store_cell *row;
	if (r->nrows == 0)
		r->ncols = ncols;
	if (r->ncols != ncols)
		BUG("rows of %zu and %zu columns in one result", r->ncols, ncols);
	if (r->nrows + 1 > r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 8;
		r->cells =
		    xreallocarray(r->cells, r->alloc * (ncols ? ncols : 1), sizeof(*r->cells));
	}
	row = r->cells + r->nrows * ncols;
	memset(row, 0, ncols * sizeof(*row));
	r->nrows++;
	return row;
}

void store_rows_release(struct store_rows *r)
{
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i].s);
	free(r->cells);
	r->cells = NULL;
	r->nrows = r->ncols = r->alloc = 0;
}

static struct store_cell *cell(const struct store_rows *r, size_t row, size_t col)
{
	if (row >= r->nrows || col >= r->ncols)
		BUG("cell (%zu, %zu) outside %zu x %zu rows", row, col, r->nrows, r->ncols);
	return &r->cells[row * r->ncols + col];
}

int64_t store_rows_int(const struct store_rows *r, size_t row, size_t col, int64_t dflt)
{
	const struct store_cell *c = cell(r, row, col);
	switch (c->kind) {
	case SC_INT: return c->i;
	case SC_TEXT: return strtoll(c->s, NULL, 10);
	default: return dflt;
	}
}

const char *store_rows_text(const struct store_rows *r, size_t row, size_t col)
{
	struct store_cell *c = cell(r, row, col);
	if (c->kind == SC_NULL)
		return NULL;
	if (!c->s)
		c->s = xasprintf("%" PRId64, c->i);
	return c->s;
}

char *store_rows_dup(const struct store_rows *r, size_t row, size_t col)
{
	return xstrdup_or_null(store_rows_text(r, row, col));
}

/* ---- statement cache ------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void *stmt_cache_get(struct stmt_cache *c, const char *sql)
{
	uint64_t h;
	if (!c->nbuckets)
		return NULL;
	h = fnv1a(sql);
	for (struct stmt_cache_entry *e = c->buckets[h % c->nbuckets]; e; e = e->next)
		if (e->hash == h && !strcmp(e->sql, sql))
			return e->stmt;
	return NULL;
}

static void rehash(struct stmt_cache *c, size_t nb)
{
	struct stmt_cache_entry **b = xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct stmt_cache_entry *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash % nb];
			b[e->hash % nb] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

void stmt_cache_put(struct stmt_cache *c, const char *sql, void *stmt)
{
	struct stmt_cache_entry *e = xcalloc(1, sizeof(*e));
	if (c->count + 1 > c->nbuckets)
		rehash(c, c->nbuckets ? c->nbuckets * 2 : 64);
	e->sql = xstrdup(sql);
	e->hash = fnv1a(sql);
	e->stmt = stmt;
	e->next = c->buckets[e->hash % c->nbuckets];
	c->buckets[e->hash % c->nbuckets] = e;
	c->count++;
}

void stmt_cache_clear(struct stmt_cache *c, void (*fn)(void *stmt))
{
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct stmt_cache_entry *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			if (fn)
				fn(e->stmt);
			free(e->sql);
			free(e);
		}
	}
	free(c->buckets);
	c->buckets = NULL;
	c->nbuckets = c->count = 0;
}

int store__err(struct sw_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}
