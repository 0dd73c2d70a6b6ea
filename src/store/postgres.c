/*
 * postgres.c - the PostgreSQL store backend (struct store_backend, see store-int.h), on libpq.
 *
 * DESIGN: one PGconn per struct store. Every statement is prepared once per connection
 * (named sw_1, sw_2, ... and cached by SQL text) and run with text parameters, so each call
 * is one round trip. exec_many sends the runs of a batch in libpq pipeline mode, in chunks
 * with one sync each: 10,000 inserts cost ~20 round trips instead of 10,000. Chunks keep
 * what the server has to send back small, so neither side blocks on a full socket buffer.
 *
 * Errors: connection failures, serialization failures, deadlocks and lock timeouts map to
 * STORE_EBUSY (retry later); everything else to STORE_ERROR with the server's message. A
 * connection found broken at the start of a call made outside a transaction is reset (and
 * the statement cache emptied, as prepared statements die with the session); inside a
 * transaction the call fails and the caller rolls back.
 */
#include "util/common.h"
#include "store/store-int.h"
#include "util/redact.h"
#include <libpq-fe.h>

enum {
	PIPELINE_CHUNK = 256
};

struct store_conn {
	PGconn *pg;
	char *url; /* with any password masked, for messages */
	bool in_tx;
	unsigned next_stmt;
	struct stmt_cache stmts; /* sql -> malloc'd statement name */
};

static void ignore_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The server's message without its trailing newline. */
static int set_pg_err(struct sw_err *err, const char *prefix, const char *msg)
{
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return sw_err_set(err, "%s%.*s", prefix, (int)n, msg);
}

static bool busy_state(const char *sqlstate)
{
	if (!sqlstate)
		return false;
	return !strncmp(sqlstate, "08", 2) || !strcmp(sqlstate, "40001") ||
	       !strcmp(sqlstate, "40P01") || !strcmp(sqlstate, "55P03") ||
	       !strncmp(sqlstate, "57P0", 4);
}

/* Map a failed result (may be NULL) to STORE_EBUSY or STORE_ERROR, filling err. */
static int result_err(struct store_conn *c, const PGresult *r, struct sw_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : "";
	if (!*msg)
		msg = PQerrorMessage(c->pg);
	set_pg_err(err, "store: ", msg);
	if (PQstatus(c->pg) == CONNECTION_BAD || busy_state(state))
		return STORE_EBUSY;
	return STORE_ERROR;
}

static void free_name(void *name)
{
	free(name);
}

/*
 * Session settings of a store connection. work_mem: the set-based batch statements sort and
 * hash whole batches (10,000 rows of ~300 bytes); at the default 4 MB those spill to disk.
 * Raised to 32 MB for this session only, never lowered below what the server configured.
 */
static void session_setup(struct store_conn *c)
{
	PGresult *r =
	    PQexec(c->pg, "SELECT set_config('work_mem', '32MB', false)"
	                  " WHERE pg_size_bytes(current_setting('work_mem')) < 32 * 1024 * 1024");
	PQclear(r);
}

static void pg_close(struct store_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	stmt_cache_clear(&c->stmts, free_name);
	free(c->url);
	free(c);
}

static int pg_open(const char *url, struct store_conn **out, struct sw_err *err)
{
	struct store_conn *c = xcalloc(1, sizeof(*c));
	c->url = sw_redact_url(url);
	c->pg = PQconnectdb(url);
	*out = NULL;
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char *prefix = xasprintf("cannot open store '%s': ", c->url);
		set_pg_err(err, prefix, PQerrorMessage(c->pg));
		sw_scrub_secrets(url, err->msg, sizeof(err->msg)); /* libpq echoes a bad URL */
		free(prefix);
		pg_close(c);
		return STORE_EBUSY;
	}
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
	session_setup(c);
	*out = c;
	return 0;
}

/* Outside a transaction, bring a broken connection back. */
static int ensure_conn(struct store_conn *c, struct sw_err *err)
{
	if (PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	if (c->in_tx)
		return sw_err_set(err, "store: connection to '%s' lost", c->url), STORE_EBUSY;
	stmt_cache_clear(&c->stmts, free_name);
	PQreset(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char *prefix = xasprintf("cannot reconnect to store '%s': ", c->url);
		set_pg_err(err, prefix, PQerrorMessage(c->pg));
		free(prefix);
		return STORE_EBUSY;
	}
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
	session_setup(c);
	return 0;
}

static int prepare(struct store_conn *c, const char *sql, const char **name, struct sw_err *err)
{
	char *n = stmt_cache_get(&c->stmts, sql);
	PGresult *r;
	int rc = 0;
	if (n) {
		*name = n;
		return 0;
	}
	n = xasprintf("sw_%u", ++c->next_stmt);
	r = PQprepare(c->pg, n, sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = result_err(c, r, err);
		free(n);
	} else {
		stmt_cache_put(&c->stmts, sql, n);
		*name = n;
	}
	PQclear(r);
	return rc;
}

/* Text forms of np parameters; ints are written into bufs (np x 24 bytes). */
static void param_values(const struct store_param *p, size_t np, const char **vals, char *bufs)
{
	for (size_t i = 0; i < np; i++) {
		switch (p[i].kind) {
		case SP_TEXT: vals[i] = p[i].s; break;
		case SP_INT:
			snprintf(bufs + 24 * i, 24, "%" PRId64, p[i].i);
			vals[i] = bufs + 24 * i;
			break;
		default: vals[i] = NULL; break;
		}
	}
}

/* Take the rows (or the change count) of a successful result. */
static int take_result(struct store_conn *c, PGresult *r, struct store_rows *rows, int64_t *changes,
                       struct sw_err *err)
{
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK && rows) {
		int nr = PQntuples(r), nf = PQnfields(r);
		for (int i = 0; i < nr; i++) {
			struct store_cell *row = store_rows__add(rows, (size_t)nf);
			for (int j = 0; j < nf; j++) {
				if (PQgetisnull(r, i, j))
					continue;
				row[j].kind = SC_TEXT;
				row[j].s = xstrdup(PQgetvalue(r, i, j));
			}
		}
	}
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK)
		return result_err(c, r, err);
	if (changes)
		*changes = strtoll(PQcmdTuples(r), NULL, 10);
	return 0;
}

static int pg_exec(struct store_conn *c, const char *sql, const struct store_param *p, size_t np,
                   struct store_rows *rows, int64_t *changes, struct sw_err *err)
{
	const char *name, **vals = NULL;
	char *bufs = NULL;
	PGresult *r;
	int rc = ensure_conn(c, err);
	if (!rc)
		rc = prepare(c, sql, &name, err);
	if (rc)
		return rc;
	if (np) {
		vals = xcalloc(np, sizeof(*vals));
		bufs = xmalloc(np * 24);
		param_values(p, np, vals, bufs);
	}
	r = PQexecPrepared(c->pg, name, (int)np, vals, NULL, NULL, 0);
	rc = take_result(c, r, rows, changes, err);
	PQclear(r);
	free(vals);
	free(bufs);
	return rc;
}

enum {
	QUERY_MAX_COLS = 64
};

static int pg_query(struct store_conn *c, const char *sql, const struct store_param *p, size_t np,
                    int (*fn)(void *arg, const struct store_cell *cells, size_t ncols), void *arg,
                    struct sw_err *err)
{
	struct store_cell cells[QUERY_MAX_COLS];
	const char *name, *vals[16];
	char bufs[16 * 24];
	PGresult *r;
	int rc = ensure_conn(c, err), nr, nf;
	if (!rc)
		rc = prepare(c, sql, &name, err);
	if (rc)
		return rc;
	if (np > 16)
		BUG("query of %zu parameters", np);
	param_values(p, np, vals, bufs);
	r = PQexecPrepared(c->pg, name, (int)np, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = result_err(c, r, err);
		goto out;
	}
	nr = PQntuples(r);
	nf = PQnfields(r);
	if (nf > QUERY_MAX_COLS)
		BUG("query of %d columns", nf);
	for (int i = 0; i < nr; i++) {
		for (int j = 0; j < nf; j++) {
			bool null = PQgetisnull(r, i, j);
			cells[j].kind = null ? SC_NULL : SC_TEXT;
			cells[j].i = 0;
			cells[j].s = null ? NULL : PQgetvalue(r, i, j);
		}
		if (fn(arg, cells, (size_t)nf))
			break;
	}
out:
	PQclear(r);
	return rc;
}

/* Send runs [k0, k1) of a batch and one sync, then read their results. */
static int pipeline_chunk(struct store_conn *c, const char *name, const struct store_param *params,
                          size_t np, size_t k0, size_t k1, struct store_rows *rows,
                          const char **vals, char *bufs, struct sw_err *err)
{
	PGresult *r;
	int rc = 0;
	size_t sent = 0;
	for (size_t k = k0; k < k1; k++, sent++) {
		param_values(params + k * np, np, vals + (k - k0) * np, bufs + (k - k0) * np * 24);
		if (!PQsendQueryPrepared(c->pg, name, (int)np, vals + (k - k0) * np, NULL, NULL,
		                         0)) {
			rc = result_err(c, NULL, err);
			break;
		}
	}
	if (!PQpipelineSync(c->pg) && !rc)
		rc = result_err(c, NULL, err);
	for (size_t k = k0; k < k0 + sent; k++) {
		/* each query: its results, then NULL */
		while ((r = PQgetResult(c->pg)) != NULL) {
			ExecStatusType s = PQresultStatus(r);
			if (s == PGRES_PIPELINE_ABORTED) {
				if (!rc)
					rc =
					    store__err(err, STORE_ERROR, "store: pipeline aborted");
			} else if (s != PGRES_PIPELINE_SYNC) {
				int rc2 =
				    take_result(c, r, rc || !rows ? NULL : &rows[k], NULL, err);
				if (rc2 && !rc)
					rc = rc2;
			}
			PQclear(r);
		}
	}
	/* the sync point */
	while ((r = PQgetResult(c->pg)) != NULL) {
		ExecStatusType s = PQresultStatus(r);
		PQclear(r);
		if (s == PGRES_PIPELINE_SYNC)
			break;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD && !rc)
		rc = result_err(c, NULL, err);
	return rc;
}

static int pg_exec_many(struct store_conn *c, const char *sql, const struct store_param *params,
                        size_t np, size_t n, struct store_rows *rows, struct sw_err *err)
{
	const char *name, **vals;
	char *bufs;
	int rc;
	if (n == 0)
		return 0;
	if (n == 1)
		return pg_exec(c, sql, params, np, rows, NULL, err);
	rc = ensure_conn(c, err);
	if (!rc)
		rc = prepare(c, sql, &name, err);
	if (rc)
		return rc;
	if (!PQenterPipelineMode(c->pg))
		return result_err(c, NULL, err);
	vals = xcalloc(PIPELINE_CHUNK * (np ? np : 1), sizeof(*vals));
	bufs = xmalloc(PIPELINE_CHUNK * (np ? np : 1) * 24);
	for (size_t k0 = 0; !rc && k0 < n; k0 += PIPELINE_CHUNK) {
		size_t k1 = k0 + PIPELINE_CHUNK < n ? k0 + PIPELINE_CHUNK : n;
		rc = pipeline_chunk(c, name, params, np, k0, k1, rows, vals, bufs, err);
	}
	PQexitPipelineMode(c->pg);
	free(vals);
	free(bufs);
	return rc;
}

static int pg_exec_script(struct store_conn *c, const char *sql, struct sw_err *err)
{
	PGresult *r;
	int rc = ensure_conn(c, err);
	if (rc)
		return rc;
	r = PQexec(c->pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = result_err(c, r, err);
	PQclear(r);
	return rc;
}

static int simple(struct store_conn *c, const char *sql, const char *want_tag, struct sw_err *err)
{
	PGresult *r = PQexec(c->pg, sql);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = result_err(c, r, err);
	else if (want_tag && strcmp(PQcmdStatus(r), want_tag))
		rc = store__err(err, STORE_ERROR, "store: transaction was rolled back");
	PQclear(r);
	return rc;
}

static int pg_begin(struct store_conn *c, struct sw_err *err)
{
	int rc = ensure_conn(c, err);
	if (!rc)
		rc = simple(c, "BEGIN", NULL, err);
	c->in_tx = rc == 0;
	return rc;
}

static int pg_commit(struct store_conn *c, struct sw_err *err)
{
	/* COMMIT of a failed transaction answers "ROLLBACK" */
	int rc = simple(c, "COMMIT", "COMMIT", err);
	c->in_tx = false;
	return rc;
}

static void pg_rollback(struct store_conn *c)
{
	if (c->in_tx && PQstatus(c->pg) == CONNECTION_OK) {
		PGresult *r = PQexec(c->pg, "ROLLBACK");
		PQclear(r);
	}
	c->in_tx = false;
}

static int pg_lock_migrations(struct store_conn *c, struct sw_err *err)
{
	/* an arbitrary constant key: "stepwatch migrate" */
	return pg_exec(c, "SELECT pg_advisory_xact_lock(7315020190)", NULL, 0, NULL, NULL, err);
}

/* A PostgreSQL store is a database of a server: opening never creates it. */
static int pg_would_create(const char *url, bool *creates, struct sw_err *err)
{
	(void)url;
	(void)err;
	*creates = false;
	return 0;
}

const struct store_backend store_backend_postgres = {
    .dialect = "postgres",
    .kind = SW_DB_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .exec_many = pg_exec_many,
    .exec_script = pg_exec_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .lock_migrations = pg_lock_migrations,
    .query = pg_query,
    .sql = &store_sql_postgres,
    .product = "postgresql",
    .would_create = pg_would_create,
};
