/*
 * postgres.c - the PostgreSQL source runner (libpq).
 *
 * DESIGN: one session per struct source. After connecting, the session is set up with
 * statement_timeout, TimeZone 'UTC', DateStyle 'ISO' and default_transaction_read_only, and
 * every query runs inside BEGIN READ ONLY ... COMMIT (ROLLBACK on error), so a write that
 * slips past the SQL guard (a volatile function that inserts) fails in PostgreSQL itself.
 * Parameters are rewritten ":name" -> "$n" and sent as text with unspecified types, so the
 * server infers each from its context (":since" compared with a timestamptz column becomes
 * a timestamptz).
 *
 * Rows are read in single-row mode, so the result caps (rows, bytes) are enforced while
 * reading instead of after libpq has buffered everything; past a cap the query is cancelled.
 *
 * Reconnection: a connection that goes bad is dropped; the next call connects again. A
 * failed connection attempt starts a backoff window (0.5s, doubling to 30s, reset on
 * success) during which calls fail at once with "source 'x' unreachable, retrying in Ns",
 * so a watcher polling every second does not hammer a down server or block on connect.
 */
#include "util/common.h"
#include "source/source-int.h"
#include "util/timeutil.h"

#include <libpq-fe.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

struct pg {
	PGconn *conn;
	int64_t backoff_ms;   /* the next window's length */
	int64_t retry_at;     /* monotonic ms; 0: no window */
	char last_error[256]; /* why the last connection attempt failed */
};

/* The first line of a libpq message, without "ERROR:  " noise or the trailing newline. */
static void first_line(const char *msg, char *buf, size_t n)
{
	size_t len;

	if (!msg || !*msg)
		msg = "unknown error";
	len = strcspn(msg, "\n");
	snprintf(buf, n, "%.*s", (int)len, msg);
}

static void pg_drop(struct pg *pg)
{
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
}

static int pg_connect(struct source *src, struct pg *pg, struct sw_err *err)
{
	static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
	                                   NULL};
	const char *vals[4];
	char *setup;
	PGresult *res = NULL;
	int64_t now = time_mono_ms();
	int rc = -1;

	if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	pg_drop(pg);
	if (pg->retry_at && now < pg->retry_at) {
		sw_err_set(err, "source '%s' unreachable, retrying in %.1fs: %s", src->name,
		           (double)(pg->retry_at - now) / 1000.0, pg->last_error);
		return -1;
	}
	/* keys are processed in order and the URL's own settings override the defaults */
	vals[0] = "5";
	vals[1] = "stepwatch";
	vals[2] = src->url;
	vals[3] = NULL;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		first_line(pg->conn ? PQerrorMessage(pg->conn) : "out of memory", pg->last_error,
		           sizeof(pg->last_error));
		goto fail;
	}
	setup = xasprintf("SET statement_timeout = %" PRId64 "; SET TimeZone = 'UTC'; "
	                  "SET DateStyle = 'ISO'; SET default_transaction_read_only = on",
	                  src->timeout_ms);
	res = PQexec(pg->conn, setup);
	free(setup);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		first_line(PQerrorMessage(pg->conn), pg->last_error, sizeof(pg->last_error));
		goto fail;
	}
	PQclear(res);
	pg->backoff_ms = BACKOFF_MIN_MS;
	pg->retry_at = 0;
	return 0;
fail:
	PQclear(res);
	pg_drop(pg);
	if (pg->backoff_ms < BACKOFF_MIN_MS)
		pg->backoff_ms = BACKOFF_MIN_MS;
	pg->retry_at = time_mono_ms() + pg->backoff_ms;
	sw_err_set(err, "cannot connect to source '%s' (retrying in %.1fs): %s", src->name,
	           (double)pg->backoff_ms / 1000.0, pg->last_error);
	pg->backoff_ms *= 2;
	if (pg->backoff_ms > BACKOFF_MAX_MS)
		pg->backoff_ms = BACKOFF_MAX_MS;
	return rc;
}

/* Fill err from a failed result (or the connection when res has no message). */
static void pg_set_err(struct source *src, struct pg *pg, const PGresult *res, struct sw_err *err)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[768];

	first_line(primary ? primary : PQerrorMessage(pg->conn), line, sizeof(line));
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
			if (!have_cols) {
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

static int pg_query(struct source *src, const char *sql, const struct source_param *params,
                    size_t nparams, bool describe, struct source_rows *out, struct sw_err *err)
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
	if (pg_command(src, pg, "BEGIN READ ONLY", err))
		goto out;
	in_tx = true;
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

const struct source_backend source_backend_postgres = {
    .name = "postgres",
    .close = pg_close,
    .query = pg_query,
};
