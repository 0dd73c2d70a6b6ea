/*
 * guard.c - the SQL guard: a query reaches a source only if it is exactly one read-only
 * SELECT.
 *
 * DESIGN: PostgreSQL queries are parsed with libpg_query (PostgreSQL's own parser) into a
 * JSON tree, walked with jansson. ":name" parameters are not PostgreSQL syntax, so they are
 * first replaced by "$1" padded with spaces to the same length: byte offsets, and so the
 * parser's error positions, stay those of the user's text. Refused: more than one statement,
 * any statement but SelectStmt, SELECT INTO, a data-modifying statement anywhere in the tree
 * (only possible inside WITH), any locking clause (FOR UPDATE/SHARE/...), and calls of
 * functions that run SQL given as text (query_to_xml, ts_stat, dblink, ...) or whose effects
 * are well known to escape the transaction (nextval, advisory locks, large objects,
 * set_config, ...) - refused by name, so even without a server. That list is not the
 * policy: the walk also collects every function and operator the query names, and
 * source__pg_policy() judges them on the source's own catalog (postgres.c asks it): every
 * candidate must be IMMUTABLE or STABLE, and a built-in must not be PARALLEL UNSAFE. What
 * the query does not name (views, functions inside functions) is left to the read-only
 * transaction and DISCARD ALL.
 *
 * SQLite has no parser library, and a query names the application's tables, which an
 * in-memory connection does not have. So the SQLite guard here is lexical: the statement
 * must start with SELECT, VALUES or WITH (and a WITH's main statement must be a SELECT),
 * and nothing but whitespace, comments and semicolons may follow its first top-level ';'.
 * It also prepares the query on an in-memory connection to report syntax errors (errors
 * about missing tables, columns or functions are expected and ignored there). The
 * authoritative check runs in the SQLite runner on the real read-only connection:
 * sqlite3_stmt_readonly() and an authorizer that allows only reads and only the functions
 * source__sqlite_func_ok() accepts (deterministic ones, aggregates, window functions).
 */
#include "util/common.h"
#include "source/source-int.h"

#include <ctype.h>
#include <jansson.h>
#include <pg_query.h>
#include <sqlite3.h>

/* ---- shared helpers ---- */

/* Byte offset of the first invalid UTF-8 sequence, or -1 when s is valid. */
static long utf8_invalid_at(const unsigned char *s)
{
	const unsigned char *p = s;

	while (*p) {
		unsigned char c = *p;
		int n, k;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return p - s;
		}
		for (k = 1; k <= n; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return p - s;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return p - s;
		p += n + 1;
	}
	return -1;
}

/* Line and column (1-based, in characters) of the 1-based character position pos. */
static void char_pos_to_line_col(const char *s, int pos, int *line, int *col)
{
	int ch = 0;

	*line = 1;
	*col = 0;
	for (; *s && ch < pos; s++) {
		if (((unsigned char)*s & 0xc0) == 0x80)
			continue;
		ch++;
		if (ch == pos) {
			(*col)++;
			break;
		}
		if (*s == '\n') {
			(*line)++;
			*col = 0;
		} else {
			(*col)++;
		}
	}
	if (*col == 0)
		*col = 1;
}

/* ---- PostgreSQL ---- */

static int pad_param(void *ctx, size_t off, size_t len)
{
	char *s = ctx;
	s[off] = '$';
	s[off + 1] = '1';
	memset(s + off + 2, ' ', len - 2);
	return 0;
}

/* "CreateTableAsStmt" -> "CREATE TABLE AS" */
static void node_to_words(const char *node, char *buf, size_t n)
{
	static const struct {
		const char *node, *words;
	} special[] = {
	    {"VariableSetStmt", "SET"},
	    {"VariableShowStmt", "SHOW"},
	    {"TransactionStmt", "a transaction command"},
	    {"ExplainStmt", "EXPLAIN"},
	    {"CallStmt", "CALL"},
	    {"DoStmt", "DO"},
	    {"CopyStmt", "COPY"},
	    {"RawStmt", "a statement"},
	    {"PLAssignStmt", "an assignment"},
	};
	size_t len = strlen(node), i, o = 0;

	for (i = 0; i < ARRAY_SIZE(special); i++) {
		if (!strcmp(node, special[i].node)) {
			snprintf(buf, n, "%s", special[i].words);
			return;
		}
	}
	if (len > 4 && !strcmp(node + len - 4, "Stmt"))
		len -= 4;
	for (i = 0; i < len && o + 2 < n; i++) {
		char c = node[i];
		if (i > 0 && c >= 'A' && c <= 'Z' && node[i - 1] >= 'a' && node[i - 1] <= 'z')
			buf[o++] = ' ';
		buf[o++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	buf[o] = '\0';
}

/*
 * Functions refused by name, whatever the source's catalog says and even when it cannot be
 * asked (`check` with the source down): those that run SQL given as text (or a query they
 * build from a name), and well-known functions whose effects escape the read-only
 * transaction. The catalog policy (postgres.c) refuses every other volatile function.
 */
static const struct {
	const char *pat; /* a trailing '*' matches any suffix */
	const char *why;
} refused_funcs[] = {
    {"query_to_xml*", "it runs SQL given as text"},
    {"query_to_xmlschema", "it runs SQL given as text"},
    {"cursor_to_xml*", "it reads an open cursor"},
    {"table_to_xml*", "it runs a query it builds"},
    {"schema_to_xml*", "it runs a query it builds"},
    {"database_to_xml*", "it runs a query it builds"},
    {"ts_stat", "it runs SQL given as text"},
    {"ts_rewrite", "it runs SQL given as text"},
    {"dblink*", "it runs SQL on another connection"},
    {"crosstab*", "it runs SQL given as text"},
    {"connectby", "it runs a query it builds"},
    {"xpath_table", "it runs a query it builds"},
    {"pg_background_*", "it runs SQL given as text"},
    {"lo_*", "it has side effects"},
    {"loread", "it has side effects"},
    {"lowrite", "it has side effects"},
    {"nextval", "it has side effects"},
    {"setval", "it has side effects"},
    {"currval", "it has side effects"},
    {"lastval", "it has side effects"},
    {"set_config", "it has side effects"},
    {"pg_advisory_*", "it has side effects"},
    {"pg_try_advisory_*", "it has side effects"},
    {"pg_terminate_backend", "it has side effects"},
    {"pg_cancel_backend", "it has side effects"},
    {"pg_reload_conf", "it has side effects"},
    {"pg_rotate_logfile", "it has side effects"},
    {"pg_switch_wal", "it has side effects"},
    {"pg_create_*", "it has side effects"},
    {"pg_drop_replication_slot", "it has side effects"},
    {"pg_replication_origin_*", "it has side effects"},
    {"pg_promote", "it has side effects"},
    {"pg_notify", "it has side effects"},
    {"pg_logical_emit_message", "it has side effects"},
    {"pg_file_write", "it has side effects"},
    {"pg_stat_reset*", "it has side effects"},
    {"pg_backup_*", "it has side effects"},
    {"pg_start_backup", "it has side effects"},
    {"pg_stop_backup", "it has side effects"},
    {"pg_export_snapshot", "it has side effects"},
    {"pg_log_backend_memory_contexts", "it has side effects"},
    {"txid_current*", "it has side effects"},
    {"pg_current_xact_id*", "it has side effects"},
    {"pg_read_file", "it reads server files"},
    {"pg_read_binary_file", "it reads server files"},
    {"pg_ls_*", "it reads server files"},
    {"pg_stat_file", "it reads server files"},
};

static const char *func_refused(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused_funcs); i++) {
		const char *b = refused_funcs[i].pat;
		size_t bl = strlen(b);
		if (b[bl - 1] == '*' ? !strncasecmp(name, b, bl - 1) : !strcasecmp(name, b))
			return refused_funcs[i].why;
	}
	return NULL;
}

void source__calls_release(struct source_calls *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].schema);
		free(c->v[i].name);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void add_call(struct source_calls *c, const char *schema, const char *name, bool is_op)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		if (c->v[i].is_op == is_op && !strcmp(c->v[i].name, name) &&
		    !strcmp(c->v[i].schema, schema))
			return;
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n].schema = xstrdup(schema);
	c->v[c->n].name = xstrdup(name);
	c->v[c->n].is_op = is_op;
	c->n++;
}

/* The last two parts of a qualified name list ([catalog.]schema.name). */
static bool qualified_name(json_t *names, const char **schema, const char **name)
{
	size_t n = json_array_size(names);

	if (n == 0)
		return false;
	*name = json_string_value(
	    json_object_get(json_object_get(json_array_get(names, n - 1), "String"), "sval"));
	*schema = n >= 2 ? json_string_value(json_object_get(
	                       json_object_get(json_array_get(names, n - 2), "String"), "sval"))
	                 : "";
	return *name && *schema;
}

/* A_Expr kinds whose name list is a real operator (BETWEEN's is not). */
static bool aexpr_is_operator(const char *kind)
{
	static const char *const kinds[] = {
	    "AEXPR_OP",     "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT",
	    "AEXPR_NULLIF", "AEXPR_IN",     "AEXPR_LIKE",   "AEXPR_ILIKE",    "AEXPR_SIMILAR"};
	size_t i;

	if (!kind)
		return true; /* the default kind, AEXPR_OP, may be left out */
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static const char *lock_words(const char *strength)
{
	if (!strength)
		return "FOR UPDATE";
	if (!strcmp(strength, "LCS_FORKEYSHARE"))
		return "FOR KEY SHARE";
	if (!strcmp(strength, "LCS_FORSHARE"))
		return "FOR SHARE";
	if (!strcmp(strength, "LCS_FORNOKEYUPDATE"))
		return "FOR NO KEY UPDATE";
	return "FOR UPDATE";
}

static int walk(json_t *node, struct source_calls *calls, struct sw_err *err)
{
	const char *key;
	json_t *val;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach(node, i, val)
		{
			if (walk(val, calls, err))
				return -1;
		}
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	json_object_foreach(node, key, val)
	{
		if (!strcmp(key, "InsertStmt") || !strcmp(key, "UpdateStmt") ||
		    !strcmp(key, "DeleteStmt") || !strcmp(key, "MergeStmt")) {
			char words[64];
			node_to_words(key, words, sizeof(words));
			sw_err_set(err, "query must be read-only: found %s in a WITH clause",
			           words);
			return -1;
		}
		if (!strcmp(key, "intoClause")) {
			sw_err_set(err, "query must be a single SELECT: found SELECT INTO");
			return -1;
		}
		if (!strcmp(key, "lockingClause") && json_array_size(val) > 0) {
			json_t *lc = json_object_get(json_array_get(val, 0), "LockingClause");
			sw_err_set(err, "query must not lock rows: found %s",
			           lock_words(json_string_value(json_object_get(lc, "strength"))));
			return -1;
		}
		if (!strcmp(key, "FuncCall")) {
			const char *schema, *fn, *why;
			if (qualified_name(json_object_get(val, "funcname"), &schema, &fn)) {
				why = func_refused(fn);
				if (why) {
					sw_err_set(err, "query must not call %.64s(): %s", fn, why);
					return -1;
				}
				add_call(calls, schema, fn, false);
			}
		}
		if (!strcmp(key, "A_Expr") &&
		    aexpr_is_operator(json_string_value(json_object_get(val, "kind")))) {
			const char *schema, *op;
			if (qualified_name(json_object_get(val, "name"), &schema, &op))
				add_call(calls, schema, op, true);
		}
		if (!strcmp(key, "SubLink")) { /* x = ANY (SELECT ...), x === ALL (SELECT ...) */
			const char *schema, *op;
			if (qualified_name(json_object_get(val, "operName"), &schema, &op))
				add_call(calls, schema, op, true);
		}
		if (walk(val, calls, err))
			return -1;
	}
	return 0;
}

int source__guard_pg(const char *sql, struct source_calls *calls, struct sw_err *err)
{
	PgQueryParseResult pr;
	json_t *root = NULL, *stmts, *stmt;
	json_error_t jerr;
	char *padded;
	const char *kind = NULL, *key;
	json_t *val;
	long bad;
	int rc = -1;

	bad = utf8_invalid_at((const unsigned char *)sql);
	if (bad >= 0)
		return sw_err_set(err, "query is not valid UTF-8 (byte %ld)", bad), -1;
	padded = xstrdup(sql);
	source__scan_params(padded, strlen(padded), pad_param, padded);
	pr = pg_query_parse(padded);
	if (pr.error) {
		int line, col, pos = pr.error->cursorpos;
		if (pos > 0) {
			char_pos_to_line_col(sql, pos, &line, &col);
			sw_err_set(err, "%s at line %d, column %d", pr.error->message, line, col);
		} else {
			sw_err_set(err, "%s", pr.error->message);
		}
		goto out;
	}
	root = json_loads(pr.parse_tree, 0, &jerr);
	if (!root) {
		sw_err_set(err, "cannot check query: %s", jerr.text);
		goto out;
	}
	stmts = json_object_get(root, "stmts");
	if (json_array_size(stmts) == 0) {
		sw_err_set(err, "query is empty");
		goto out;
	}
	if (json_array_size(stmts) > 1) {
		sw_err_set(err, "query must be a single statement: found %zu",
		           json_array_size(stmts));
		goto out;
	}
	stmt = json_object_get(json_array_get(stmts, 0), "stmt");
	json_object_foreach(stmt, key, val)
	{
		(void)val;
		kind = key;
	}
	if (!kind || strcmp(kind, "SelectStmt")) {
		char words[64];
		node_to_words(kind ? kind : "?", words, sizeof(words));
		sw_err_set(err, "query must be a single SELECT: found %s", words);
		goto out;
	}
	rc = walk(stmt, calls, err);
out:
	json_decref(root);
	pg_query_free_parse_result(pr);
	free(padded);
	return rc;
}

/* "name()" or "operator ===" for messages. */
static void call_words(const struct source_call *c, char *buf, size_t n)
{
	if (c->is_op)
		snprintf(buf, n, "operator %.64s%s%.64s", c->schema, *c->schema ? "." : "",
		         c->name);
	else
		snprintf(buf, n, "%.64s%s%.64s()", c->schema, *c->schema ? "." : "", c->name);
}

int source__pg_policy(const struct source_calls *calls, const struct source_proc *procs,
                      size_t nprocs, struct sw_err *err)
{
	size_t i, k;

	for (i = 0; calls && i < calls->n; i++) {
		const struct source_call *c = &calls->v[i];
		const struct source_proc *bad = NULL;
		size_t found = 0;
		char words[160];

		for (k = 0; k < nprocs; k++) {
			const struct source_proc *p = &procs[k];
			if (p->is_op != c->is_op || strcmp(p->name, c->name))
				continue;
			if (*c->schema ? strcmp(p->schema, c->schema) : !p->in_path)
				continue;
			found++;
			if (p->volatility != 'i' && p->volatility != 's') {
				bad = p;
				break;
			}
			if (p->parallel == 'u' && !strcmp(p->schema, "pg_catalog") && !bad)
				bad = p;
		}
		call_words(c, words, sizeof(words));
		if (bad && bad->volatility != 'i' && bad->volatility != 's')
			return sw_err_set(err,
			                  "query must not call %s: the source's catalog marks %s "
			                  "VOLATILE",
			                  words, c->is_op ? "its function" : "it"),
			       -1;
		if (bad)
			return sw_err_set(
			           err,
			           "query must not call %s: the source's catalog marks %s "
			           "PARALLEL UNSAFE (it changes transaction or session state)",
			           words, c->is_op ? "its function" : "it"),
			       -1;
		if (!found && !c->is_op)
			return sw_err_set(err,
			                  "query must not call %s: the source has no such function",
			                  words),
			       -1;
	}
	return 0;
}

/* ---- SQLite ---- */

/* Never callable: effects outside the query, or different answers for the same rows. */
static const char *const sqlite_denied[] = {
    "load_extension", "random", "randomblob", "fts3_tokenizer", "readfile", "writefile", "edit"};
/* Not marked deterministic, yet harmless (the time of the statement). */
static const char *const sqlite_always[] = {"current_date", "current_time", "current_timestamp"};

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool source__sqlite_func_ok(const char *name, char *const *allowed, size_t nallowed)
{
	char low[64];
	const char *key = low;
	size_t i;

	for (i = 0; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	if (name[i])
		return false;
	for (i = 0; i < ARRAY_SIZE(sqlite_denied); i++)
		if (!strcmp(low, sqlite_denied[i]))
			return false;
	for (i = 0; i < ARRAY_SIZE(sqlite_always); i++)
		if (!strcmp(low, sqlite_always[i]))
			return true;
	if (!allowed)
		return true;
	return bsearch(&key, allowed, nallowed, sizeof(*allowed), cmp_strp) != NULL;
}

struct sqlite_lex {
	const char *s;
	size_t i;
};

enum tok {
	T_END,
	T_WORD,
	T_LPAREN,
	T_RPAREN,
	T_SEMI,
	T_OTHER
};

static bool sq_word_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool sq_word_char(unsigned char c)
{
	return sq_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static void sq_skip_trivia(struct sqlite_lex *lx)
{
	const char *s = lx->s;

	for (;;) {
		char c = s[lx->i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			lx->i++;
		} else if (c == '-' && s[lx->i + 1] == '-') {
			while (s[lx->i] && s[lx->i] != '\n')
				lx->i++;
		} else if (c == '/' && s[lx->i + 1] == '*') {
			lx->i += 2;
			while (s[lx->i] && !(s[lx->i] == '*' && s[lx->i + 1] == '/'))
				lx->i++;
			if (s[lx->i])
				lx->i += 2;
		} else {
			return;
		}
	}
}

static void sq_skip_quoted(struct sqlite_lex *lx, char close)
{
	const char *s = lx->s;

	lx->i++;
	while (s[lx->i]) {
		if (s[lx->i] == close) {
			if (close != ']' && s[lx->i + 1] == close) {
				lx->i += 2;
				continue;
			}
			lx->i++;
			return;
		}
		lx->i++;
	}
}

/* The next token; a word's start and length in *w and *wl. */
static enum tok sq_next(struct sqlite_lex *lx, const char **w, size_t *wl)
{
	const char *s = lx->s;
	char c;

	sq_skip_trivia(lx);
	c = s[lx->i];
	if (!c)
		return T_END;
	if (sq_word_start((unsigned char)c)) {
		/* X'..' blob literals are words followed by a string: fine for our purpose */
		size_t st = lx->i;
		while (sq_word_char((unsigned char)s[lx->i]))
			lx->i++;
		*w = s + st;
		*wl = lx->i - st;
		return T_WORD;
	}
	switch (c) {
	case '\'': sq_skip_quoted(lx, '\''); return T_OTHER;
	case '"': sq_skip_quoted(lx, '"'); return T_OTHER;
	case '`': sq_skip_quoted(lx, '`'); return T_OTHER;
	case '[': sq_skip_quoted(lx, ']'); return T_OTHER;
	case '(': lx->i++; return T_LPAREN;
	case ')': lx->i++; return T_RPAREN;
	case ';': lx->i++; return T_SEMI;
	default: lx->i++; return T_OTHER;
	}
}

static bool word_is(const char *w, size_t wl, const char *kw)
{
	return strlen(kw) == wl && !strncasecmp(w, kw, wl);
}

bool source__sqlite_only_trivia(const char *s)
{
	struct sqlite_lex lx = {s, 0};

	for (;;) {
		sq_skip_trivia(&lx);
		if (s[lx.i] != ';')
			break;
		lx.i++;
	}
	return s[lx.i] == '\0';
}

static int refuse_word(const char *w, size_t wl, struct sw_err *err)
{
	char up[33];
	size_t k, n = wl < sizeof(up) - 1 ? wl : sizeof(up) - 1;

	for (k = 0; k < n; k++)
		up[k] = (char)(w[k] >= 'a' && w[k] <= 'z' ? w[k] - 'a' + 'A' : w[k]);
	up[n] = '\0';
	sw_err_set(err, "query must be a single SELECT: found %s", up);
	return -1;
}

/* Prepare on an empty in-memory database to report syntax errors. */
static int sqlite_syntax_check(const char *sql, struct sw_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) !=
	    SQLITE_OK)
		goto out; /* nothing to check against: the runner checks on the real database */
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		const char *msg = sqlite3_errmsg(db);
		if (strstr(msg, "syntax error") || strstr(msg, "unrecognized token") ||
		    strstr(msg, "incomplete input")) {
			int off = sqlite3_error_offset(db);
			if (off >= 0)
				sw_err_set(err, "%s at byte %d", msg, off + 1);
			else
				sw_err_set(err, "%s", msg);
			rc = -1;
		}
		goto out;
	}
	if (st && !sqlite3_stmt_readonly(st)) {
		sw_err_set(err, "query must be read-only");
		rc = -1;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int source__guard_sqlite(const char *sql, struct sw_err *err)
{
	struct sqlite_lex lx = {sql, 0};
	const char *w = NULL;
	size_t wl = 0;
	enum tok t;
	int depth = 0;

	t = sq_next(&lx, &w, &wl);
	if (t == T_END || t == T_SEMI) {
		if (source__sqlite_only_trivia(sql))
			return sw_err_set(err, "query is empty"), -1;
		return sw_err_set(err, "query must be a single statement"), -1;
	}
	if (t != T_WORD)
		return sw_err_set(err, "query must be a single SELECT"), -1;
	if (word_is(w, wl, "WITH")) {
		/* the main statement is the first of these keywords outside parentheses */
		for (;;) {
			t = sq_next(&lx, &w, &wl);
			if (t == T_END || (t == T_SEMI && depth == 0))
				return sw_err_set(err, "query must be a single SELECT"), -1;
			if (t == T_LPAREN)
				depth++;
			else if (t == T_RPAREN && depth > 0)
				depth--;
			else if (t == T_WORD && depth == 0 &&
			         (word_is(w, wl, "SELECT") || word_is(w, wl, "VALUES")))
				break;
			else if (t == T_WORD && depth == 0 &&
			         (word_is(w, wl, "INSERT") || word_is(w, wl, "UPDATE") ||
			          word_is(w, wl, "DELETE") || word_is(w, wl, "REPLACE")))
				return refuse_word(w, wl, err);
		}
	} else if (!word_is(w, wl, "SELECT") && !word_is(w, wl, "VALUES")) {
		return refuse_word(w, wl, err);
	}
	/* the first top-level ';' ends the statement; only trivia may follow */
	depth = 0;
	while ((t = sq_next(&lx, &w, &wl)) != T_END) {
		if (t == T_SEMI) {
			if (!source__sqlite_only_trivia(sql + lx.i))
				return sw_err_set(err, "query must be a single statement"), -1;
			break;
		}
	}
	return sqlite_syntax_check(sql, err);
}

int source_guard(enum sw_db_kind kind, const char *sql, struct sw_err *err)
{
	if (!sql)
		return sw_err_set(err, "query is empty"), -1;
	if (kind == SW_DB_POSTGRES)
		return source__guard_pg(sql, NULL, err);
	return source__guard_sqlite(sql, err);
}
