/*
 * test_store_schema.c - the two migration sets (store/migrations/sqlite and .../postgres)
 * build the same schema.
 *
 * Both are applied to a fresh store of each kind; each schema is read back from its own
 * catalog (sqlite_master and the pragmas; pg_catalog and information_schema) as a sorted
 * list of lines, one per table, column (name, loose type, nullability), index (name,
 * columns, uniqueness, normalised partial predicate) and constraint (primary key, unique,
 * foreign key, the columns a CHECK reads), and the lists must be equal but for the
 * deliberate differences of `allowed` below. Every difference is printed
 * (SW_SCHEMA_DUMP=1 prints the SQLite list too).
 */
#include "helpers.h"
#include "storetest.h"
#include "util/strbuf.h"
#include <ctype.h>
#include <libpq-fe.h>
#include <sqlite3.h>

/* A deliberate difference: a line only one store has, and why. */
struct allowed_diff {
	const char *only_in; /* "sqlite" or "postgres" */
	const char *line;
	const char *reason;
};

static const struct allowed_diff allowed[] = {
    {"sqlite", "foreign key alert_history (alert_id) references alerts (id)",
     "PostgreSQL's 0007 replaced the per-row foreign key by statement-level triggers with the "
     "same rule (alert_history_alert_exists, alerts_keep_history, alerts_id_fixed): the "
     "per-row check was ~40 % of a large history insert"},
    {"sqlite", "column silences.pause_escalation integer not null",
     "SQLite has no boolean type: 0 or 1 in an INTEGER; store_api.c writes 0 or 1 and reads "
     "CASE WHEN pause_escalation THEN 1 ELSE 0 END, which both dialects accept"},
    {"postgres", "column silences.pause_escalation boolean not null",
     "the same column as a PostgreSQL boolean"},
};

/* ---- a sorted set of lines ---------------------------------------------------------- */

struct lines {
	char **v;
	size_t n, alloc;
};

static void lines_add(struct lines *l, char *s) /* takes s */
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- normalising -------------------------------------------------------------------- */

/* integer/bigint/smallint -> integer, text/varchar -> text, anything else as it is. */
static const char *loose_type(const char *t)
{
	static char buf[64];
	size_t i;
	for (i = 0; t && t[i] && i + 1 < sizeof(buf); i++)
		buf[i] = (char)tolower((unsigned char)t[i]);
	buf[i] = 0;
	if (strstr(buf, "int"))
		return "integer";
	if (strstr(buf, "text") || strstr(buf, "char"))
		return "text";
	return buf;
}

/* A predicate in a form both catalogs agree on: lower case, no casts (::text), no
 * parentheses, no white space. */
static char *norm_pred(const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	bool quoted = false;
	for (size_t i = 0; p && p[i]; i++) {
		char c = p[i];
		if (c == '\'')
			quoted = !quoted;
		if (!quoted && c == ':' && p[i + 1] == ':') {
			i += 2;
			while (p[i] && (isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == ' '))
				i++;
			i--;
			continue;
		}
		if (!quoted && (c == '(' || c == ')' || isspace((unsigned char)c)))
			continue;
		strbuf_addch(&sb, tolower((unsigned char)c));
	}
	return strbuf_detach(&sb, NULL);
}

/* The column names of cols[0..n) that occur as identifiers in expr (outside string
 * literals), sorted and joined with ", ". */
static char *check_columns(const char *expr, size_t len, char **cols, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	bool *used = xcalloc(n + 1, sizeof(*used));
	for (size_t i = 0; i < len;) {
		if (expr[i] == '\'') {
			for (i++; i < len && expr[i] != '\''; i++)
				;
			i++;
		} else if (isalpha((unsigned char)expr[i]) || expr[i] == '_') {
			size_t j = i;
			while (j < len && (isalnum((unsigned char)expr[j]) || expr[j] == '_'))
				j++;
			for (size_t k = 0; k < n; k++)
				if (strlen(cols[k]) == j - i &&
				    !strncasecmp(cols[k], expr + i, j - i))
					used[k] = true;
			i = j;
		} else {
			i++;
		}
	}
	for (size_t k = 0; k < n; k++)
		if (used[k])
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", cols[k]);
	free(used);
	return strbuf_detach(&sb, NULL);
}

/* ---- SQLite ------------------------------------------------------------------------- */

static sqlite3_stmt *sq_prep(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("sqlite: %s: %s", sql, sqlite3_errmsg(db));
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	return s;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? t : "";
}

/* "(a, b)" of the key columns of index name. */
static char *sq_index_cols(sqlite3 *db, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	sqlite3_stmt *s = sq_prep(
	    db, "SELECT name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
	    name);
	while (sqlite3_step(s) == SQLITE_ROW)
		strbuf_addf(&sb, "%s%s%s", sb.len ? ", " : "",
		            sqlite3_column_type(s, 0) == SQLITE_NULL ? "<expr>" : col_text(s, 0),
		            sqlite3_column_int(s, 1) ? " desc" : "");
	sqlite3_finalize(s);
	return strbuf_detach(&sb, NULL);
}

static void sq_table(sqlite3 *db, const char *t, const char *tsql, struct lines *out)
{
	struct strbuf pk = STRBUF_INIT, fk = STRBUF_INIT, ref = STRBUF_INIT;
	char **cols = NULL;
	size_t ncols = 0, calloc_ = 0;
	int fkid = -1;
	const char *ref_table = NULL;
	char *ref_copy = NULL;
	sqlite3_stmt *s;

	lines_add(out, xasprintf("table %s", t));
	s = sq_prep(
	    db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid", t);
	while (sqlite3_step(s) == SQLITE_ROW) {
		bool pkcol = sqlite3_column_int(s, 3) > 0;
		lines_add(out, xasprintf("column %s.%s %s %s", t, col_text(s, 0),
		                         loose_type(col_text(s, 1)),
		                         sqlite3_column_int(s, 2) || pkcol ? "not null" : "null"));
		ALLOC_GROW(cols, ncols + 1, calloc_);
		cols[ncols++] = xstrdup(col_text(s, 0));
	}
	sqlite3_finalize(s);

	s = sq_prep(db, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", t);
	while (sqlite3_step(s) == SQLITE_ROW)
		strbuf_addf(&pk, "%s%s", pk.len ? ", " : "", col_text(s, 0));
	sqlite3_finalize(s);
	if (pk.len)
		lines_add(out, xasprintf("primary key %s (%s)", t, pk.buf));

	s = sq_prep(db, "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)", t);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = col_text(s, 0), *origin = col_text(s, 2);
		char *ic = sq_index_cols(db, name);
		if (!strcmp(origin, "u")) {
			lines_add(out, xasprintf("unique %s (%s)", t, ic));
		} else if (!strcmp(origin, "c")) {
			char *pred = NULL;
			sqlite3_stmt *q = sq_prep(
			    db, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
			    name);
			if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(s, 3)) {
				const char *sql = col_text(q, 0), *w = strstr(sql, " WHERE ");
				if (!w)
					w = strstr(sql, "\n\tWHERE ");
				if (!w)
					fail_msg("partial index %s: no WHERE in %s", name, sql);
				pred = norm_pred(strstr(w, "WHERE") + 5);
			}
			sqlite3_finalize(q);
			lines_add(out, xasprintf("index %s %s (%s)%s%s%s", t, name, ic,
			                         sqlite3_column_int(s, 1) ? " unique" : "",
			                         pred ? " where " : "", pred ? pred : ""));
			free(pred);
		}
		free(ic);
	}
	sqlite3_finalize(s);

	s = sq_prep(db,
	            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1)"
	            " ORDER BY id, seq",
	            t);
	for (;;) {
		int more = sqlite3_step(s) == SQLITE_ROW;
		if (fkid >= 0 && (!more || sqlite3_column_int(s, 0) != fkid)) {
			lines_add(out, xasprintf("foreign key %s (%s) references %s (%s)", t,
			                         fk.buf, ref_copy, ref.buf));
			strbuf_reset(&fk);
			strbuf_reset(&ref);
			free(ref_copy);
			ref_copy = NULL;
		}
		if (!more)
			break;
		fkid = sqlite3_column_int(s, 0);
		ref_table = col_text(s, 1);
		if (!ref_copy)
			ref_copy = xstrdup(ref_table);
		strbuf_addf(&fk, "%s%s", fk.len ? ", " : "", col_text(s, 2));
		strbuf_addf(&ref, "%s%s", ref.len ? ", " : "", col_text(s, 3));
	}
	sqlite3_finalize(s);

	/* CHECK (...) clauses of the table's SQL (ALTER TABLE ADD COLUMN appends to it) */
	qsort(cols, ncols, sizeof(*cols), cmp_str);
	for (const char *p = tsql; (p = strcasestr(p, "check")) != NULL; p += 5) {
		const char *b = p + 5;
		int depth = 0;
		bool quoted = false;
		if (p > tsql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		while (isspace((unsigned char)*b))
			b++;
		if (*b != '(')
			continue;
		for (const char *e = b; *e; e++) {
			if (*e == '\'')
				quoted = !quoted;
			if (quoted)
				continue;
			depth += *e == '(' ? 1 : *e == ')' ? -1 : 0;
			if (!depth) {
				char *cc = check_columns(b, (size_t)(e - b), cols, ncols);
				lines_add(out, xasprintf("check %s (%s)", t, cc));
				free(cc);
				break;
			}
		}
	}
	for (size_t i = 0; i < ncols; i++)
		free(cols[i]);
	free(cols);
	strbuf_release(&pk);
	strbuf_release(&fk);
	strbuf_release(&ref);
}

static void sq_schema(const char *path, struct lines *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("cannot open %s", path);
	s = sq_prep(db,
	            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
	            " AND name NOT LIKE 'sqlite_%' ORDER BY name",
	            NULL);
	while (sqlite3_step(s) == SQLITE_ROW)
		sq_table(db, col_text(s, 0), col_text(s, 1), out);
	sqlite3_finalize(s);
	sqlite3_close(db);
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
}

/* ---- PostgreSQL --------------------------------------------------------------------- */

/* The rows of a catalog query (fails the test on error). */
static PGresult *pg_rows(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("postgres: %s: %s", sql, PQerrorMessage(c));
	return r;
}

#define PG_COLS(rel, keys)                                                             \
	"(SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(" keys         \
	") WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = " rel \
	" AND a.attnum = k.attnum)"

static void pg_schema(const char *url, struct lines *out)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to '%s': %s", url, PQerrorMessage(c));

	r = pg_rows(c, "SELECT c.relname FROM pg_class c JOIN pg_namespace n"
	               " ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
	               " AND c.relkind IN ('r', 'p')");
	for (int i = 0; i < PQntuples(r); i++)
		lines_add(out, xasprintf("table %s", PQgetvalue(r, i, 0)));
	PQclear(r);

	r = pg_rows(c, "SELECT table_name, column_name, data_type, is_nullable"
	               " FROM information_schema.columns WHERE table_schema = current_schema()");
	for (int i = 0; i < PQntuples(r); i++)
		lines_add(out,
		          xasprintf("column %s.%s %s %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		                    loose_type(PQgetvalue(r, i, 2)),
		                    !strcmp(PQgetvalue(r, i, 3), "YES") ? "null" : "not null"));
	PQclear(r);

	r = pg_rows(
	    c, "SELECT t.relname, x.contype, " PG_COLS(
	           "x.conrelid",
	           "x.conkey") ","
	                       " f.relname, " PG_COLS(
	                           "x.confrelid",
	                           "x.confkey") ","
	                                        " (SELECT string_agg(a.attname, ', ' ORDER BY "
	                                        "a.attname)"
	                                        " FROM pg_attribute a WHERE a.attrelid = x.conrelid"
	                                        " AND a.attnum = ANY (x.conkey))"
	                                        " FROM pg_constraint x JOIN pg_class t ON t.oid = "
	                                        "x.conrelid"
	                                        " LEFT JOIN pg_class f ON f.oid = x.confrelid"
	                                        " WHERE x.connamespace = "
	                                        "current_schema()::regnamespace"
	                                        " AND x.contype IN ('p', 'u', 'f', 'c')");
	for (int i = 0; i < PQntuples(r); i++) {
		const char *t = PQgetvalue(r, i, 0), *type = PQgetvalue(r, i, 1);
		const char *cols = PQgetvalue(r, i, 2);
		if (*type == 'p')
			lines_add(out, xasprintf("primary key %s (%s)", t, cols));
		else if (*type == 'u')
			lines_add(out, xasprintf("unique %s (%s)", t, cols));
		else if (*type == 'f')
			lines_add(out, xasprintf("foreign key %s (%s) references %s (%s)", t, cols,
			                         PQgetvalue(r, i, 3), PQgetvalue(r, i, 4)));
		else
			lines_add(out, xasprintf("check %s (%s)", t, PQgetvalue(r, i, 5)));
	}
	PQclear(r);

	/* indexes created as such, not those behind a primary key or unique constraint */
	r = pg_rows(c, "SELECT t.relname, i.relname, x.indisunique,"
	               /* an expression column reads "<expr>", as SQLite's catalog gives it */
	               " (SELECT string_agg(CASE WHEN x.indkey[k - 1] = 0 THEN '<expr>'"
	               " ELSE pg_get_indexdef(x.indexrelid, k, true) END, ', ' ORDER BY k)"
	               " FROM generate_series(1, x.indnkeyatts) k),"
	               " pg_get_expr(x.indpred, x.indrelid)"
	               " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
	               " JOIN pg_class t ON t.oid = x.indrelid"
	               " JOIN pg_namespace n ON n.oid = t.relnamespace"
	               " WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1"
	               " FROM pg_constraint k WHERE k.conindid = x.indexrelid"
	               " AND k.contype IN ('p', 'u', 'x'))");
	for (int i = 0; i < PQntuples(r); i++) {
		char *pred = PQgetisnull(r, i, 4) ? NULL : norm_pred(PQgetvalue(r, i, 4));
		char *cols = norm_pred(PQgetvalue(r, i, 3)); /* lower case, as SQLite's */
		struct strbuf sb = STRBUF_INIT;
		/* norm_pred dropped the spaces: put ", " back between columns, " desc" before */
		for (const char *p = cols; *p; p++) {
			if (*p == ',')
				strbuf_addstr(&sb, ", ");
			else if (!strncmp(p, "desc", 4) && (p[4] == ',' || !p[4]) && p > cols)
				strbuf_addstr(&sb, " desc"), p += 3;
			else
				strbuf_addch(&sb, *p);
		}
		lines_add(out, xasprintf("index %s %s (%s)%s%s%s", PQgetvalue(r, i, 0),
		                         PQgetvalue(r, i, 1), sb.buf,
		                         !strcmp(PQgetvalue(r, i, 2), "t") ? " unique" : "",
		                         pred ? " where " : "", pred ? pred : ""));
		strbuf_release(&sb);
		free(cols);
		free(pred);
	}
	PQclear(r);
	PQfinish(c);
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
}

/* ---- comparing ---------------------------------------------------------------------- */

static const struct allowed_diff *allowed_for(const char *only_in, const char *line)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (!strcmp(allowed[i].only_in, only_in) && !strcmp(allowed[i].line, line))
			return &allowed[i];
	return NULL;
}

/* The differences of a (SQLite) and b (PostgreSQL) not allowed, one per line, and the
 * allowed ones that are no longer differences; "" when the schemas agree. */
static char *schema_diff(const struct lines *a, const struct lines *b)
{
	struct strbuf sb = STRBUF_INIT;
	bool *seen = xcalloc(ARRAY_SIZE(allowed) + 1, sizeof(*seen));
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->v[i], b->v[j]);
		const char *side = c < 0 ? "sqlite" : "postgres";
		const char *line = c < 0 ? a->v[i] : b->v[j];
		const struct allowed_diff *ok;
		if (c == 0) {
			i++, j++;
			continue;
		}
		c < 0 ? i++ : j++;
		ok = allowed_for(side, line);
		if (ok)
			seen[ok - allowed] = true;
		else
			strbuf_addf(&sb, "only in %s: %s\n", side, line);
	}
	for (size_t k = 0; k < ARRAY_SIZE(allowed); k++)
		if (!seen[k])
			strbuf_addf(&sb, "allowed difference no longer there (only in %s: %s)\n",
			            allowed[k].only_in, allowed[k].line);
	free(seen);
	return strbuf_detach(&sb, NULL);
}

static void test_migrations_agree(void **state)
{
	void *sq = NULL, *pg = NULL;
	struct fx *fs, *fp;
	struct lines ls = {0}, lp = {0};
	char *path, *diff;
	(void)state;

	storetest_setup_pg(&pg);
	fp = pg;
	if (!fp->st) {
		storetest_teardown(&pg);
		skip();
	}
	storetest_setup_sqlite(&sq);
	fs = sq;
	path = xasprintf("%s/store.db", fs->dir);
	sq_schema(path, &ls);
	pg_schema(fp->url, &lp);
	assert_true(ls.n > 50); /* the catalogs were read */
	for (size_t i = 0; getenv("SW_SCHEMA_DUMP") && i < ls.n; i++)
		print_message("%s\n", ls.v[i]);

	diff = schema_diff(&ls, &lp);
	if (*diff) {
		print_message("the migration sets drifted apart:\n%s", diff);
		fail_msg("SQLite and PostgreSQL schemas differ (see above)");
	}
	free(diff);

	/* the comparison sees drift: an index only SQLite has, a column whose nullability
	 * differs */
	{
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(
		    sqlite3_exec(db,
		                 "CREATE INDEX drift_idx ON alerts (rule) WHERE state = 3;"
		                 "ALTER TABLE alerts ADD COLUMN drift BIGINT",
		                 NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
		test_pg_exec(fp->url,
		             "ALTER TABLE alerts ADD COLUMN drift BIGINT NOT NULL DEFAULT 0");
		lines_free(&ls);
		lines_free(&lp);
		sq_schema(path, &ls);
		pg_schema(fp->url, &lp);
		diff = schema_diff(&ls, &lp);
		assert_string_equal(
		    diff, "only in postgres: column alerts.drift integer not null\n"
		          "only in sqlite: column alerts.drift integer null\n"
		          "only in sqlite: index alerts drift_idx (rule) where state=3\n");
		free(diff);
	}
	lines_free(&ls);
	lines_free(&lp);
	free(path);
	storetest_teardown(&sq);
	storetest_teardown(&pg);
}

/* The predicate normaliser reads both catalogs' spellings alike. */
static void test_norm_pred(void **state)
{
	char *a = norm_pred(" state < 4"), *b = norm_pred("(state < 4)");
	char *c = norm_pred("state = 'OPEN'"), *d = norm_pred("(state = 'OPEN'::text)");
	(void)state;
	assert_string_equal(a, b);
	assert_string_equal(c, d);
	assert_string_equal(c, "state='open'");
	free(a);
	free(b);
	free(c);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_norm_pred),
	    cmocka_unit_test(test_migrations_agree),
	};
	return cmocka_run_group_tests_name("store_schema", tests, NULL, NULL);
}
