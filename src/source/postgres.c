/*
 * postgres.c - the PostgreSQL source runner (libpq).
 *
 * DESIGN: one session per struct source. After connecting, the role check refuses a role
 * that is a superuser or can write (unless the source allows it). No session setting is
 * changed: every query runs as "BEGIN READ ONLY; SET LOCAL statement_timeout ...; SET LOCAL
 * TimeZone 'UTC'; SET LOCAL DateStyle 'ISO'" (one round trip) ... COMMIT (ROLLBACK on
 * error), and is followed by DISCARD ALL, so nothing a query does (a session advisory lock,
 * set_config(..., false)) outlives it. Before the first run of a query text on a
 * connection, the functions and operators it names are looked up in the catalog, inside
 * the same transaction, and judged by source__pg_policy(). A write that slips past all of
 * that (a function its owner mis-marked STABLE) fails in PostgreSQL itself.
 * Parameters are rewritten ":name" -> "$n" and sent as text with unspecified types, so the
 * server infers each from its context (":since" compared with a timestamptz column becomes
 * a timestamptz).
 *
 * Rows are read in single-row mode, so the result caps (rows, bytes) are enforced while
 * reading instead of after libpq has buffered everything; past a cap the query is cancelled.
 *
 * Reconnection: a connection that goes bad is dropped; the next call connects again. A
 * failed connection attempt starts a backoff window (0.5s, doubling to 2s, reset on
 * success) during which calls fail at once with "source 'x' unreachable, retrying in Ns",
 * so a watcher polling every second does not hammer a down server or block on connect.
 */
#include "util/common.h"
#include "source/source-int.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/timeutil.h"

#include <libpq-fe.h>
#include <pthread.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 2000
/* Query texts remembered per connection as having passed the catalog policy. */
#define MAX_CHECKED 64

struct pg {
	PGconn *conn;
	int64_t backoff_ms;   /* the next window's length */
	int64_t retry_at;     /* monotonic ms; 0: no window */
	char last_error[512]; /* why the last connection attempt failed */
	char **checked;       /* query texts the catalog policy accepted on this connection */
	size_t nchecked;
};

/*
 * Why the session's role could change the database, or NULL when it cannot: a superuser
 * (the current role, or the one that logged in and could switch back), CREATEROLE, membership of a
 * predefined role that writes, CREATE on the database or on a schema, or INSERT, UPDATE, DELETE or
 * TRUNCATE (or column INSERT or UPDATE) on a table, view or foreign table, or UPDATE on a sequence,
 * outside the system schemas. One query; cost grows with the number of relations (see
 * docs/security.md).
 */
static const char role_sql[] =
    "WITH me AS (SELECT r.oid, r.rolname, r.rolsuper, r.rolcreaterole"
    "  FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER),"
    " rel AS (SELECT c.oid, c.relkind FROM pg_catalog.pg_class c"
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
    "    AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S'))"
    " SELECT me.rolname, COALESCE("
    "  CASE WHEN me.rolsuper THEN 'is a superuser' END,"
    "  (SELECT 'logs in as superuser ' || s.rolname FROM pg_catalog.pg_roles s"
    "    WHERE s.rolname = SESSION_USER AND s.rolsuper),"
    "  CASE WHEN me.rolcreaterole THEN 'has CREATEROLE' END,"
    "  (SELECT 'is a member of ' || g.rolname FROM pg_catalog.pg_roles g"
    "    WHERE g.rolname IN ('pg_write_all_data', 'pg_write_server_files',"
    "                        'pg_execute_server_program')"
    "      AND pg_catalog.pg_has_role(me.oid, g.oid, 'USAGE') ORDER BY 1 LIMIT 1),"
    "  (SELECT 'can CREATE in database ' || pg_catalog.quote_ident(pg_catalog.current_database())"
    "    WHERE pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')),"
    "  (SELECT 'can CREATE in schema ' || pg_catalog.quote_ident(n.nspname)"
    "    FROM pg_catalog.pg_namespace n"
    "    WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
    "      AND pg_catalog.has_schema_privilege(n.oid, 'CREATE') ORDER BY 1 LIMIT 1),"
    "  (SELECT 'can change sequence ' || rel.oid::pg_catalog.regclass::pg_catalog.text FROM rel"
    "    WHERE CASE WHEN rel.relkind = 'S'"
    "          THEN pg_catalog.has_sequence_privilege(rel.oid, 'UPDATE') END"
    "    ORDER BY 1 LIMIT 1),"
    "  (SELECT 'can write to ' || rel.oid::pg_catalog.regclass::pg_catalog.text FROM rel"
    "    WHERE CASE WHEN rel.relkind <> 'S'"
    "          THEN pg_catalog.has_table_privilege(rel.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')"
    "            OR pg_catalog.has_any_column_privilege(rel.oid, 'INSERT, UPDATE') END"
    "    ORDER BY 1 LIMIT 1))"
    " FROM me";

/*
 * What the source's catalog says about the names a query calls: every function of each
 * name ($1) with its schema, volatility, parallel safety and whether the schema is on the
 * search path; and for the operators of each name ($2), per schema, the worst volatility
 * and parallel safety of their functions ('=' alone has a hundred).
 */
static const char catalog_sql[] =
    "SELECT false, n.nspname, p.proname, p.provolatile::pg_catalog.text,"
    "       p.proparallel::pg_catalog.text, n.nspname = ANY (pg_catalog.current_schemas(true))"
    "  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
    " WHERE p.proname = ANY ($1::pg_catalog.name[])"
    " UNION ALL "
    "SELECT true, n.nspname, o.oprname,"
    "       CASE WHEN pg_catalog.bool_or(f.provolatile NOT IN ('i', 's')) THEN 'v' ELSE 'i' END,"
    "       CASE WHEN pg_catalog.bool_or(f.proparallel = 'u') THEN 'u' ELSE 's' END,"
    "       n.nspname = ANY (pg_catalog.current_schemas(true))"
    "  FROM pg_catalog.pg_operator o"
    "  JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace,"
    "  LATERAL (SELECT p.provolatile, p.proparallel FROM pg_catalog.pg_proc p"
    "           WHERE p.oid = o.oprcode OFFSET 0) f"
    " WHERE o.oprname = ANY ($2::pg_catalog.name[])"
    " GROUP BY n.nspname, o.oprname";

/* The first line of a libpq message, without the trailing newline, with the URL's
 * secrets removed (libpq echoes a malformed connection string whole). */
static void first_line(const struct source *src, const char *msg, char *buf, size_t n)
{
	size_t len;

	if (!msg || !*msg)
		msg = "unknown error";
	len = strcspn(msg, "\n");
	snprintf(buf, n, "%.*s", (int)len, msg);
	sw_scrub_secrets(src->url, buf, n);
}

static void forget_checked(struct pg *pg)
{
	size_t i;

	for (i = 0; i < pg->nchecked; i++)
		free(pg->checked[i]);
	free(pg->checked);
	pg->checked = NULL;
	pg->nchecked = 0;
}

static void pg_drop(struct pg *pg)
{
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
	forget_checked(pg);
}

/* Log the allowed unsafe role once per source name per process. */
static void warn_unsafe_role(const struct source *src, const char *role, const char *why)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static char **warned;
	static size_t nwarned;
	bool seen = false;
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nwarned && !seen; i++)
		seen = !strcmp(warned[i], src->name);
	if (!seen) {
		warned = xreallocarray(warned, nwarned + 1, sizeof(*warned));
		warned[nwarned++] = xstrdup(src->name);
	}
	pthread_mutex_unlock(&mu);
	if (!seen)
		log_warn("source role can change the database; allowed by allow_unsafe_role",
		         "source=%s role=%s reason=%s", src->name, role, why);
}

static int pg_command(struct source *src, struct pg *pg, const char *sql, struct sw_err *err);
static int pg_begin(struct source *src, struct pg *pg, struct sw_err *err);

/* Refuse (or, opted out, allow with a warning) a role that could change the database. The
 * check runs in a read-only transaction under the source's statement_timeout. */
static int check_role(struct source *src, struct pg *pg)
{
	struct sw_err berr;
	PGresult *res;
	int rc = 0;

	if (pg_begin(src, pg, &berr)) {
		snprintf(pg->last_error, sizeof(pg->last_error),
		         "cannot check the source role: %.400s", berr.msg);
		return -1;
	}
	res = PQexec(pg->conn, role_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char line[400];
		first_line(src, PQerrorMessage(pg->conn), line, sizeof(line));
		snprintf(pg->last_error, sizeof(pg->last_error), "cannot check the source role: %s",
		         line);
		rc = -1;
	} else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1)) {
		const char *role = PQgetvalue(res, 0, 0), *why = PQgetvalue(res, 0, 1);
		if (src->allow_unsafe_role) {
			warn_unsafe_role(src, role, why);
		} else {
			snprintf(pg->last_error, sizeof(pg->last_error),
			         "role '%.64s' %.200s: a source role must only read (see "
			         "docs/security.md), or set allow_unsafe_role: true on the source",
			         role, why);
			src->role_refused = true;
			rc = -1;
		}
	}
	PQclear(res);
	if (pg_command(src, pg, "ROLLBACK", NULL) && !rc) {
		snprintf(pg->last_error, sizeof(pg->last_error), "cannot check the source role");
		rc = -1;
	}
	return rc;
}

static int pg_connect(struct source *src, struct pg *pg, struct sw_err *err)
{
	static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
	                                   NULL};
	const char *vals[4];
	int64_t now = time_mono_ms();

	if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	pg_drop(pg);
	if (pg->retry_at && now < pg->retry_at) {
		if (src->role_refused)
			sw_err_set(err, "source '%s' refused (checking again in %.1fs): %s",
			           src->name, (double)(pg->retry_at - now) / 1000.0,
			           pg->last_error);
		else
			sw_err_set(err, "source '%s' unreachable, retrying in %.1fs: %s", src->name,
			           (double)(pg->retry_at - now) / 1000.0, pg->last_error);
		return -1;
	}
	src->role_refused = false;
	/* keys are processed in order and the URL's own settings override the defaults */
	vals[0] = "5";
	vals[1] = "stepwatch";
	vals[2] = src->url;
	vals[3] = NULL;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		first_line(src, pg->conn ? PQerrorMessage(pg->conn) : "out of memory",
		           pg->last_error, sizeof(pg->last_error));
		goto fail;
	}
	if (check_role(src, pg))
		goto fail;
	pg->backoff_ms = BACKOFF_MIN_MS;
	pg->retry_at = 0;
	return 0;
fail:
	pg_drop(pg);
	if (pg->backoff_ms < BACKOFF_MIN_MS)
		pg->backoff_ms = BACKOFF_MIN_MS;
	pg->retry_at = time_mono_ms() + pg->backoff_ms;
	if (src->role_refused)
		sw_err_set(err, "source '%s' refused: %s", src->name, pg->last_error);
	else
		sw_err_set(err, "cannot connect to source '%s' (retrying in %.1fs): %s", src->name,
		           (double)pg->backoff_ms / 1000.0, pg->last_error);
	pg->backoff_ms *= 2;
	if (pg->backoff_ms > BACKOFF_MAX_MS)
		pg->backoff_ms = BACKOFF_MAX_MS;
	return -1;
}

/* Fill err from a failed result (or the connection when res has no message). */
static void pg_set_err(struct source *src, struct pg *pg, const PGresult *res, struct sw_err *err)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[768];

	first_line(src, primary ? primary : PQerrorMessage(pg->conn), line, sizeof(line));
	sw_err_set(err, "source '%s': %s", src->name, line);
}

/* Run a statement without results (BEGIN, COMMIT, ROLLBACK). */
static int pg_command(struct source *src, struct pg *pg, const char *sql, struct sw_err *err)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (err)
			pg_set_err(src, pg, res, err);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

static void take_columns(struct source_rows_builder *b, const PGresult *res)
{
	int c, n = PQnfields(res);

	for (c = 0; c < n; c++)
		source__rows_add_col(b, PQfname(res, c));
}

/* Read the results of a sent query in single-row mode into b. */
static int pg_read_rows(struct source *src, struct pg *pg, struct source_rows_builder *b,
                        struct sw_err *err)
{
	PGresult *res;
	bool have_cols = false, failed = false;
	int rc = 0;

	while ((res = PQgetResult(pg->conn))) {
		ExecStatusType st = PQresultStatus(res);
		int c;

		if (failed) {
			/* draining after a cap was hit or an error was seen */
		} else if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
			if (!have_cols && !b->ncols) {
				take_columns(b, res);
				have_cols = true;
			}
			if (st == PGRES_SINGLE_TUPLE) {
				for (c = 0; c < PQnfields(res) && !failed; c++) {
					const char *v =
					    PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
					if (source__rows_add_cell(
					        b, src, v, v ? (size_t)PQgetlength(res, 0, c) : 0,
					        err))
						failed = true;
				}
				if (!failed && source__rows_end_row(b, src, err))
					failed = true;
				if (failed) {
					PGcancel *cn = PQgetCancel(pg->conn);
					char ebuf[256];
					if (cn) {
						PQcancel(cn, ebuf, sizeof(ebuf));
						PQfreeCancel(cn);
					}
				}
			}
		} else if (st == PGRES_COMMAND_OK) {
			/* not a row-returning statement; the guard makes this unlikely */
		} else {
			pg_set_err(src, pg, res, err);
			failed = true;
		}
		PQclear(res);
	}
	if (failed)
		rc = -1;
	return rc;
}

/* A PostgreSQL array literal of the distinct names of calls of one kind. */
static char *names_array(const struct source_calls *calls, bool ops)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	const char *p;
	bool first = true;

	strbuf_addch(&sb, '{');
	for (i = 0; i < calls->n; i++) {
		if (calls->v[i].is_op != ops)
			continue;
		if (!first)
			strbuf_addch(&sb, ',');
		first = false;
		strbuf_addch(&sb, '"');
		for (p = calls->v[i].name; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addch(&sb, '\\');
			strbuf_addch(&sb, *p);
		}
		strbuf_addch(&sb, '"');
	}
	strbuf_addch(&sb, '}');
	return strbuf_detach(&sb, NULL);
}

/*
 * The catalog policy for sql's calls, asked of the source inside the open transaction,
 * once per query text per connection.
 */
static int check_calls(struct source *src, struct pg *pg, const char *sql,
                       const struct source_calls *calls, struct sw_err *err)
{
	const char *vals[2];
	char *fn_arr, *op_arr;
	struct source_proc *procs = NULL;
	PGresult *res;
	size_t i;
	int rc = -1, n;

	for (i = 0; i < pg->nchecked; i++)
		if (!strcmp(pg->checked[i], sql))
			return 0;
	if (calls && calls->n) {
		fn_arr = names_array(calls, false);
		op_arr = names_array(calls, true);
		vals[0] = fn_arr;
		vals[1] = op_arr;
		res = PQexecParams(pg->conn, catalog_sql, 2, NULL, vals, NULL, NULL, 0);
		free(fn_arr);
		free(op_arr);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			pg_set_err(src, pg, res, err);
			PQclear(res);
			return -1;
		}
		n = PQntuples(res);
		procs = xcalloc((size_t)n + 1, sizeof(*procs));
		for (i = 0; i < (size_t)n; i++) {
			procs[i].is_op = PQgetvalue(res, (int)i, 0)[0] == 't';
			procs[i].schema = PQgetvalue(res, (int)i, 1);
			procs[i].name = PQgetvalue(res, (int)i, 2);
			procs[i].volatility = PQgetvalue(res, (int)i, 3)[0];
			procs[i].parallel = PQgetvalue(res, (int)i, 4)[0];
			procs[i].in_path = PQgetvalue(res, (int)i, 5)[0] == 't';
		}
		{
			struct sw_err perr;
			if (source__pg_policy(calls, procs, (size_t)n, &perr)) {
				sw_err_set(err, "source '%s': %s", src->name, perr.msg);
				free(procs);
				PQclear(res);
				return -1;
			}
		}
		free(procs);
		PQclear(res);
	}
	if (pg->nchecked >= MAX_CHECKED)
		forget_checked(pg);
	pg->checked = xreallocarray(pg->checked, pg->nchecked + 1, sizeof(*pg->checked));
	pg->checked[pg->nchecked++] = xstrdup(sql);
	rc = 0;
	return rc;
}

/* Open the query's transaction: read-only, with every setting local to it. */
static int pg_begin(struct source *src, struct pg *pg, struct sw_err *err)
{
	char *setup = xasprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = %" PRId64 "; "
	                        "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'",
	                        src->timeout_ms);
	int rc = pg_command(src, pg, setup, err);

	free(setup);
	return rc;
}

/* Leave nothing behind in the session: settings, advisory locks, prepared statements,
 * cursors, temporary tables, LISTEN. A connection that cannot be reset is dropped. */
static void pg_reset_session(struct source *src, struct pg *pg)
{
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK)
		return;
	if (PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		pg_command(src, pg, "ROLLBACK", NULL);
	if (pg_command(src, pg, "DISCARD ALL", NULL))
		pg_drop(pg);
}

/*
 * Stream a query through a cursor in the open transaction: one execution (one sort), then
 * FETCH batch_rows at a time, each read in single-row mode under the caps, handed to the
 * stream's consumer between FETCHes. statement_timeout bounds the DECLARE and each FETCH.
 */
static int pg_stream(struct source *src, struct pg *pg, const char *rsql, const char **values,
                     size_t nvalues, const struct source_stream *stream,
                     struct source_rows_builder *b, struct sw_err *err)
{
	char *decl = xasprintf("DECLARE sw_stream NO SCROLL CURSOR FOR %s", rsql);
	char *fetch = xasprintf("FETCH FORWARD %zu FROM sw_stream", stream->batch_rows);
	PGresult *res = PQexecParams(pg->conn, decl, (int)nvalues, NULL, values, NULL, NULL, 0);
	int rc = -1;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_set_err(src, pg, res, err);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	for (;;) {
		size_t n;
		int f;
		if (!PQsendQuery(pg->conn, fetch)) {
			pg_set_err(src, pg, NULL, err);
			goto out;
		}
		if (!PQsetSingleRowMode(pg->conn))
			BUG("PQsetSingleRowMode failed right after sending");
		if (pg_read_rows(src, pg, b, err))
			goto out;
		n = b->nrows;
		f = source__rows_flush(b, stream, err);
		if (f < 0)
			goto out;
		/* stopped by the consumer (the cursor closes with the transaction), or done */
		if (f > 0 || n < stream->batch_rows)
			break;
	}
	rc = 0;
out:
	free(decl);
	free(fetch);
	return rc;
}

static int pg_query(struct source *src, const char *sql, const struct source_calls *calls,
                    const struct source_param *params, size_t nparams, bool describe,
                    const struct source_stream *stream, struct source_rows *out, struct sw_err *err)
{
	struct pg *pg = src->be_data;
	struct source_rows_builder b;
	const char **names = NULL, **values = NULL;
	int *order = NULL;
	size_t norder = 0, i;
	char *rsql = NULL;
	bool in_tx = false;
	int rc = -1;

	source__rows_begin(&b);
	if (!pg) {
		pg = xcalloc(1, sizeof(*pg));
		src->be_data = pg;
	}
	if (describe) {
		rsql = source__rewrite_any(sql, &norder);
	} else {
		names = xcalloc(nparams + 1, sizeof(*names));
		order = xcalloc(nparams + 1, sizeof(*order));
		for (i = 0; i < nparams; i++)
			names[i] = params[i].name;
		rsql = source_rewrite_params(sql, names, nparams, order, &norder, err);
		if (!rsql) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			sw_err_set(err, "source '%s': %s", src->name, msg);
			goto out;
		}
		values = xcalloc(norder + 1, sizeof(*values));
		for (i = 0; i < norder; i++)
			values[i] = params[order[i]].value;
	}
	if (norder > 65535) {
		sw_err_set(err, "source '%s': too many parameters", src->name);
		goto out;
	}
	if (pg_connect(src, pg, err))
		goto out;
	in_tx = true;
	if (pg_begin(src, pg, err) || check_calls(src, pg, sql, calls, err))
		goto out;
	if (describe) {
		PGresult *res = PQprepare(pg->conn, "", rsql, (int)norder, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_set_err(src, pg, res, err);
			PQclear(res);
			goto out;
		}
		PQclear(res);
		res = PQdescribePrepared(pg->conn, "");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_set_err(src, pg, res, err);
			PQclear(res);
			goto out;
		}
		take_columns(&b, res);
		PQclear(res);
	} else if (stream) {
		if (pg_stream(src, pg, rsql, values, norder, stream, &b, err))
			goto out;
	} else {
		if (!PQsendQueryParams(pg->conn, rsql, (int)norder, NULL, values, NULL, NULL, 0)) {
			pg_set_err(src, pg, NULL, err);
			goto out;
		}
		if (!PQsetSingleRowMode(pg->conn))
			BUG("PQsetSingleRowMode failed right after sending");
		if (pg_read_rows(src, pg, &b, err))
			goto out;
	}
	in_tx = false;
	if (pg_command(src, pg, "COMMIT", err))
		goto out;
	source__rows_finish(&b, out);
	rc = 0;
out:
	if (in_tx && pg->conn && PQstatus(pg->conn) == CONNECTION_OK)
		pg_command(src, pg, "ROLLBACK", NULL);
	pg_reset_session(src, pg);
	if (pg->conn && PQstatus(pg->conn) != CONNECTION_OK)
		pg_drop(pg); /* reconnect on the next call */
	source__rows_release(&b);
	free(rsql);
	free(names);
	free(order);
	free(values);
	return rc;
}

static void pg_close(struct source *src)
{
	struct pg *pg = src->be_data;

	if (!pg)
		return;
	pg_drop(pg);
	free(pg);
	src->be_data = NULL;
}

/* PostgreSQL compares typed timestamps: RFC 3339 text casts to any of them. */
static void pg_time_param(int64_t ms, const char *style_of, char *buf, size_t n,
                          struct source_param *p)
{
	(void)style_of;
	p->value = buf;
	p->is_number = false;
	if (ms == TIME_NULL)
		snprintf(buf, n, "1970-01-01T00:00:00Z");
	else
		time_format_rfc3339(ms, buf, n);
}

static bool pg_raw_is_number(const char *raw)
{
	(void)raw;
	return false;
}

const struct source_backend source_backend_postgres = {
    .name = "postgres",
    .close = pg_close,
    .query = pg_query,
    .guard = source__guard_pg,
    .time_needs_probe = false,
    .time_param = pg_time_param,
    .raw_is_number = pg_raw_is_number,
};
