/*
 * store_read.c - zero-copy reads of alerts for the API's hot paths (store_alerts_list_visit,
 * store_alert_get_visit in store.h), on the backends' query method (store-int.h).
 *
 * DESIGN: store_alerts_list and store_alert_get copy every row into a result set and then
 * every text cell into a malloc'd string of struct alert: for a page of 100 alerts that is
 * over a thousand allocations before the answer is written. Here the backend hands each row
 * to a callback with the text still in its own buffer (SQLite's column text, libpq's
 * PGresult); the row becomes a struct alert whose strings are borrowed for the duration of
 * the visit, and the caller serialises it there and then. The list asks for limit + 1 rows
 * so the extra row answers "is there a next page" in the same statement, and the detail
 * reads the alert and its history in one statement (a LEFT JOIN on the history's
 * (alert_id, id) index): one round trip each on PostgreSQL instead of two.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "store/store-int.h"

#define VISIT_ALERT_COLS  STORE_ALERT_COLS
#define VISIT_ALERT_NCOLS STORE_ALERT_NCOLS

/* Text forms of integer cells read as strings (SQLite hands integers back as such). */
struct numbufs {
	char b[VISIT_ALERT_NCOLS][24];
};

/* A decimal integer as PostgreSQL's int8out writes it (what strtoll would read, faster). */
static int64_t parse_int(const char *s)
{
	uint64_t u = 0;
	bool neg = *s == '-';
	if (neg || *s == '+')
		s++;
	if (!(*s >= '0' && *s <= '9'))
		return strtoll(s - neg, NULL, 10);
	for (; *s >= '0' && *s <= '9'; s++)
		u = u * 10 + (uint64_t)(*s - '0');
	return neg ? (int64_t)(0 - u) : (int64_t)u;
}

static int64_t cell_int(const struct store_cell *c, int64_t dflt)
{
	switch (c->kind) {
	case SC_INT: return c->i;
	case SC_TEXT: return parse_int(c->s);
	default: return dflt;
	}
}

static char *cell_str(const struct store_cell *c, char *buf)
{
	switch (c->kind) {
	case SC_TEXT: return c->s;
	case SC_INT: snprintf(buf, 24, "%" PRId64, c->i); return buf;
	default: return NULL;
	}
}

static void alert_from_cells(const struct store_cell *c, struct alert *a, struct numbufs *nb)
{
	memset(a, 0, sizeof(*a));
	a->id = cell_int(&c[0], 0);
	a->rule = cell_str(&c[1], nb->b[1]);
	a->workflow = cell_str(&c[2], nb->b[2]);
	a->step = cell_str(&c[3], nb->b[3]);
	a->instance_id = cell_str(&c[4], nb->b[4]);
	a->user_id = cell_str(&c[5], nb->b[5]);
	a->step_index = (int)cell_int(&c[6], 0);
	a->state = (enum alert_state)cell_int(&c[7], 0);
	a->error = cell_str(&c[8], nb->b[8]);
	a->labels_json = cell_str(&c[9], nb->b[9]);
	if (!a->labels_json)
		a->labels_json = (char *)(uintptr_t) "{}";
	a->group_key = cell_str(&c[10], nb->b[10]);
	a->occurred_at = cell_int(&c[11], TIME_NULL);
	a->opened_at = cell_int(&c[12], TIME_NULL);
	a->updated_at = cell_int(&c[13], TIME_NULL);
	a->next_escalation_at = cell_int(&c[14], TIME_NULL);
	a->abandon_after_ms = cell_int(&c[15], 0);
	a->acked_by = cell_str(&c[16], nb->b[16]);
	a->acked_at = cell_int(&c[17], TIME_NULL);
	a->resolved_at = cell_int(&c[18], TIME_NULL);
	a->resolved_by = cell_str(&c[19], nb->b[19]);
	a->incident_id = cell_int(&c[20], 0);
	a->reopen_of = cell_int(&c[21], 0);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void store__alert_from_cells(const struct store_cell *c, struct alert *out)
{
	struct numbufs nb;
	struct alert a;
	alert_from_cells(c, &a, &nb);
	*out = a;
	out->rule = dup_or_null(a.rule);
	out->workflow = dup_or_null(a.workflow);
	out->step = dup_or_null(a.step);
	out->instance_id = dup_or_null(a.instance_id);
	out->user_id = dup_or_null(a.user_id);
	out->error = dup_or_null(a.error);
	out->labels_json = dup_or_null(a.labels_json);
	out->group_key = dup_or_null(a.group_key);
	out->acked_by = dup_or_null(a.acked_by);
	out->resolved_by = dup_or_null(a.resolved_by);
}

void store__alert_due_from_cells(const struct store_cell *c, struct alert_due *out)
{
	char b[3][24];
	out->id = cell_int(&c[0], 0);
	out->state = (enum alert_state)cell_int(&c[1], 0);
	out->occurred_at = cell_int(&c[2], TIME_NULL);
	out->workflow = dup_or_null(cell_str(&c[3], b[0]));
	out->step = dup_or_null(cell_str(&c[4], b[1]));
	out->error = dup_or_null(cell_str(&c[5], b[2]));
}

/* ---- the list -------------------------------------------------------------------------- */

struct list_scan {
	const struct alert_visit *v;
	size_t limit, seen;
	bool more, stopped;
};

static int list_row(void *arg, const struct store_cell *cells, size_t ncols)
{
	struct list_scan *ls = arg;
	struct numbufs nb;
	struct alert a;
	if (ncols != VISIT_ALERT_NCOLS)
		BUG("alert row of %zu columns", ncols);
	if (ls->seen == ls->limit) {
		ls->more = true;
		return 1;
	}
	ls->seen++;
	alert_from_cells(cells, &a, &nb);
	if (ls->v->alert(ls->v->arg, &a)) {
		ls->stopped = true;
		return 1;
	}
	return 0;
}

int store_alerts_list_visit(struct store *st, const struct alert_filter *f,
                            const struct alert_visit *v, bool *more, struct sw_err *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct store_param p[10];
	struct list_scan ls = {v, f->limit, 0, false, false};
	size_t np;
	int rc;

	if (more)
		*more = false;
	if (f->limit < 1 || f->limit > 1000)
		return sw_err_set(err, "store: limit %zu outside 1..1000", f->limit), STORE_ERROR;
	strbuf_grow(&sql, 512);
	/* one more than the page: whether there is a next one */
	np = store__alerts_list_sql(f, f->limit + 1, &sql, p);
	rc = store__query(st, sql.buf, p, np, list_row, &ls, err);
	strbuf_release(&sql);
	if (!rc && more)
		*more = ls.more;
	return rc;
}

/* ---- one alert and its history --------------------------------------------------------- */

struct get_scan {
	const struct alert_visit *v;
	bool found, stopped;
};

static int get_row(void *arg, const struct store_cell *cells, size_t ncols)
{
	struct get_scan *gs = arg;
	struct numbufs nb;
	if (ncols != VISIT_ALERT_NCOLS + (gs->v->event ? 7 : 0))
		BUG("alert row of %zu columns", ncols);
	if (!gs->found) {
		struct alert a;
		gs->found = true;
		alert_from_cells(cells, &a, &nb);
		if (gs->v->alert(gs->v->arg, &a))
			return gs->stopped = true, 1;
	}
	if (gs->v->event && cells[VISIT_ALERT_NCOLS].kind != SC_NULL) {
		const struct store_cell *h = cells + VISIT_ALERT_NCOLS;
		struct alert_event e;
		e.id = cell_int(&h[0], 0);
		e.alert_id = cell_int(&cells[0], 0);
		e.at = cell_int(&h[1], TIME_NULL);
		e.actor = cell_str(&h[2], nb.b[0]);
		e.event = cell_str(&h[3], nb.b[1]);
		e.reason = cell_str(&h[4], nb.b[2]);
		e.from_state = (int)cell_int(&h[5], -1);
		e.to_state = (int)cell_int(&h[6], -1);
		if (gs->v->event(gs->v->arg, &e))
			return gs->stopped = true, 1;
	}
	return 0;
}

int store_alert_get_visit(struct store *st, int64_t id, const struct alert_visit *v,
                          struct sw_err *err)
{
	struct store_param p[1] = {sp_int(id)};
	struct get_scan gs = {v, false, false};
	int rc;
	if (v->event)
		rc = store__query(st,
		                  "SELECT " VISIT_ALERT_COLS
		                  ", h.id, h.at, h.actor, h.event, h.reason,"
		                  " h.from_state, h.to_state FROM alerts a"
		                  " LEFT JOIN alert_history h ON h.alert_id = a.id"
		                  " WHERE a.id = $1 ORDER BY h.id",
		                  p, 1, get_row, &gs, err);
	else
		rc = store__query(st, "SELECT " VISIT_ALERT_COLS " FROM alerts a WHERE a.id = $1",
		                  p, 1, get_row, &gs, err);
	if (!rc && !gs.found)
		rc = store__err(err, STORE_ENOTFOUND, "alert %" PRId64 " not found", id);
	return rc;
}
