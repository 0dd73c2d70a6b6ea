/*
 * sqlite.c - the SQLite store backend (struct store_backend, see store-int.h).
 *
 * DESIGN: one sqlite3 handle per struct store. The database runs in WAL mode (readers never
 * block the writer), synchronous=NORMAL (durable at checkpoints, never corrupt), foreign keys
 * on and a 5 s busy timeout. Write transactions begin IMMEDIATE: the write lock is taken at
 * BEGIN, where the busy timeout queues writers, instead of at the first write, where a
 * deferred transaction would fail with SQLITE_BUSY and no way to wait. That serialises writers
 * across threads and processes, which is also what makes store_migrate safe to run twice.
 *
 * Statements are prepared once and cached by SQL text. The domain code writes placeholders
 * as $1, $2 (PostgreSQL style); they are rewritten to ?1, ?2 before preparing.
 *
 * URLs: "sqlite:///abs/path.db", "sqlite://rel/path.db", "sqlite:path.db", "sqlite::memory:".
 */
#include "util/common.h"
#include "store/store-int.h"
#include <sqlite3.h>
#include <libgen.h>
#include <unistd.h>

struct store_conn {
	sqlite3 *db;
	struct stmt_cache stmts;
};

static const char *url_path(const char *url)
{
	if (!strncmp(url, "sqlite://", 9))
		return url + 9; /* "sqlite:///abs" keeps its leading slash */
	if (!strncmp(url, "sqlite:", 7))
		return url + 7;
	return NULL;
}

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return STORE_EBUSY;
	default: return STORE_ERROR;
	}
}

static void finalize_stmt(void *stmt)
{
	sqlite3_finalize(stmt);
}

static void sqlite_close(struct store_conn *c)
{
	if (!c)
		return;
	if (c->db && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	stmt_cache_clear(&c->stmts, finalize_stmt);
	sqlite3_close(c->db);
	free(c);
}

static int sqlite_open(const char *url, struct store_conn **out, struct sw_err *err)
{
	const char *path = url_path(url);
	struct store_conn *c;
	static const char *const pragmas[] = {
	    "PRAGMA journal_mode=WAL",
	    "PRAGMA synchronous=NORMAL",
	    "PRAGMA foreign_keys=ON",
	};
	int rc;

	*out = NULL;
	if (!path || !*path)
		return sw_err_set(err, "cannot open store '%s': not a sqlite URL", url),
		       STORE_ERROR;
	c = xcalloc(1, sizeof(*c));
	rc = sqlite3_open_v2(
	    path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, 5000);
	for (size_t i = 0; i < ARRAY_SIZE(pragmas); i++) {
		rc = sqlite3_exec(c->db, pragmas[i], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	*out = c;
	return 0;
fail:
	sw_err_set(err, "cannot open store '%s': %s", url,
	           c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
	sqlite_close(c);
	return map_rc(rc);
}

/* "$12" -> "?12" outside quoted strings and identifiers. */
static char *rewrite_placeholders(const char *sql)
{
	char *out = xstrdup(sql), quote = 0;
	for (char *p = out; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			*p = '?';
		}
	}
	return out;
}

static int prepare(struct store_conn *c, const char *sql, sqlite3_stmt **out, struct sw_err *err)
{
	sqlite3_stmt *s = stmt_cache_get(&c->stmts, sql);
	char *q;
	int rc;
	if (s) {
		*out = s;
		return 0;
	}
	q = rewrite_placeholders(sql);
	rc = sqlite3_prepare_v2(c->db, q, -1, &s, NULL);
	free(q);
	if (rc != SQLITE_OK) {
		sw_err_set(err, "store: %s", sqlite3_errmsg(c->db));
		return map_rc(rc);
	}
	stmt_cache_put(&c->stmts, sql, s);
	*out = s;
	return 0;
}

static int bind(struct store_conn *c, sqlite3_stmt *s, const struct store_param *p, size_t np,
                struct sw_err *err)
{
	for (size_t i = 0; i < np; i++) {
		int rc, idx = (int)i + 1;
		switch (p[i].kind) {
		case SP_TEXT: rc = sqlite3_bind_text(s, idx, p[i].s, -1, SQLITE_STATIC); break;
		case SP_INT: rc = sqlite3_bind_int64(s, idx, p[i].i); break;
		default: rc = sqlite3_bind_null(s, idx); break;
		}
		if (rc != SQLITE_OK) {
			sw_err_set(err, "store: cannot bind parameter %d: %s", idx,
			           sqlite3_errmsg(c->db));
			return STORE_ERROR;
		}
	}
	return 0;
}

static int run(struct store_conn *c, sqlite3_stmt *s, struct store_rows *rows, int64_t *changes,
               struct sw_err *err)
{
	int rc, ncols = sqlite3_column_count(s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_cell *row;
		if (!rows)
			continue;
		row = store_rows__add(rows, (size_t)ncols);
		for (int i = 0; i < ncols; i++) {
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_NULL: row[i].kind = SC_NULL; break;
			case SQLITE_INTEGER:
				row[i].kind = SC_INT;
				row[i].i = sqlite3_column_int64(s, i);
				break;
			default:
				row[i].kind = SC_TEXT;
				row[i].s = xstrdup((const char *)sqlite3_column_text(s, i));
				break;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		sw_err_set(err, "store: %s", sqlite3_errmsg(c->db));
		return map_rc(rc);
	}
	if (changes)
		*changes = sqlite3_changes64(c->db);
	return 0;
}

static int sqlite_exec(struct store_conn *c, const char *sql, const struct store_param *p,
                       size_t np, struct store_rows *rows, int64_t *changes, struct sw_err *err)
{
	sqlite3_stmt *s;
	int rc = prepare(c, sql, &s, err);
	if (rc)
		return rc;
	rc = bind(c, s, p, np, err);
	if (!rc)
		rc = run(c, s, rows, changes, err);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

enum {
	QUERY_MAX_COLS = 64
};

static int sqlite_query(struct store_conn *c, const char *sql, const struct store_param *p,
                        size_t np,
                        int (*fn)(void *arg, const struct store_cell *cells, size_t ncols),
                        void *arg, struct sw_err *err)
{
	struct store_cell cells[QUERY_MAX_COLS];
	sqlite3_stmt *s;
	int rc = prepare(c, sql, &s, err), src = SQLITE_DONE, ncols;
	if (rc)
		return rc;
	ncols = sqlite3_column_count(s);
	if (ncols > QUERY_MAX_COLS)
		BUG("query of %d columns", ncols);
	rc = bind(c, s, p, np, err);
	while (!rc && (src = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++) {
			cells[i].s = NULL;
			cells[i].i = 0;
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_NULL: cells[i].kind = SC_NULL; break;
			case SQLITE_INTEGER:
				cells[i].kind = SC_INT;
				cells[i].i = sqlite3_column_int64(s, i);
				break;
			default:
				cells[i].kind = SC_TEXT;
				/* borrowed: valid until the next step */
				cells[i].s = (char *)(uintptr_t)sqlite3_column_text(s, i);
				break;
			}
		}
		if (fn(arg, cells, (size_t)ncols)) {
			src = SQLITE_DONE;
			break;
		}
	}
	if (!rc && src != SQLITE_DONE) {
		sw_err_set(err, "store: %s", sqlite3_errmsg(c->db));
		rc = map_rc(src);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

static int sqlite_exec_many(struct store_conn *c, const char *sql, const struct store_param *params,
                            size_t np, size_t n, struct store_rows *rows, struct sw_err *err)
{
	sqlite3_stmt *s;
	int rc = prepare(c, sql, &s, err);
	for (size_t k = 0; !rc && k < n; k++) {
		rc = bind(c, s, params + k * np, np, err);
		if (!rc)
			rc = run(c, s, rows ? &rows[k] : NULL, NULL, err);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return rc;
}

static int sqlite_exec_script(struct store_conn *c, const char *sql, struct sw_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		sw_err_set(err, "store: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return map_rc(rc);
	}
	return 0;
}

static int sqlite_begin(struct store_conn *c, struct sw_err *err)
{
	int rc = sqlite_exec(c, "BEGIN IMMEDIATE", NULL, 0, NULL, NULL, err);
	if (rc == STORE_EBUSY)
		sw_err_set(err, "store is locked: another writer held it for more than 5s");
	return rc;
}

static int sqlite_commit(struct store_conn *c, struct sw_err *err)
{
	return sqlite_exec(c, "COMMIT", NULL, 0, NULL, NULL, err);
}

static void sqlite_rollback(struct store_conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite_exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
}

static int sqlite_lock_migrations(struct store_conn *c, struct sw_err *err)
{
	(void)c;
	(void)err;
	return 0;
}

/* The file of url (after "sqlite://"), if absent: whether its directory is writable. */
static int sqlite_would_create(const char *url, bool *creates, struct sw_err *err)
{
	const char *path;
	char *copy, *dir;
	int rc = 0;
	if (strlen(url) < strlen("sqlite://"))
		return 0;
	path = url + strlen("sqlite://");
	if (access(path, F_OK) == 0)
		return 0;
	copy = xstrdup(path);
	dir = dirname(copy);
	if (access(dir, W_OK) != 0) {
		sw_err_set(err, "directory '%s' is not writable: %s", dir, strerror(errno));
		rc = STORE_ERROR;
	} else {
		*creates = true;
	}
	free(copy);
	return rc;
}

const struct store_backend store_backend_sqlite = {
    .dialect = "sqlite",
    .kind = SW_DB_SQLITE,
    .open = sqlite_open,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .exec_many = sqlite_exec_many,
    .exec_script = sqlite_exec_script,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .lock_migrations = sqlite_lock_migrations,
    .query = sqlite_query,
    .sql = &store_sql_sqlite,
    .product = "sqlite",
    .would_create = sqlite_would_create,
};
