/*
 * store_stats.c - the aggregates behind /api/v1/stats: the funnel of a workflow, TAT and
 * step durations, success per segment value, and alert figures (SPEC section 7).
 *
 * DESIGN: shared SQL on both dialects, aggregating in the database where that is plain
 * (COUNT/SUM with CASE), and in C where the dialects differ: segment values live in the
 * instances' labels JSON (SQLite json_extract vs PostgreSQL ->>), so the database groups
 * by the labels text and C reads the one key of each distinct labels object. Open range
 * ends become the extreme int64 values so every statement has one fixed text (cached
 * prepared statements) instead of variants with and without bounds.
 */
#include "util/common.h"
#include "store/store-int.h"
#include <jansson.h>

static int64_t lo_of(int64_t from)
{
	return from == TIME_NULL ? INT64_MIN : from;
}

static int64_t hi_of(int64_t to)
{
	return to == TIME_NULL ? INT64_MAX : to;
}

/* An instance (column prefix a: "i." or "") started in [$2, $3), an instance without
 * started_at counting as started at 0: the expression of instances_started_idx (0011),
 * spelled in one place so that every range read can use the index. */
#define STARTED_IN(a) " COALESCE(" a "started_at, 0) >= $2 AND COALESCE(" a "started_at, 0) < $3"

/* Every read here selects a range the caller chose, from a day to all of history: each is
 * planned for its values (store_sql.exec_planned). */
static int range_read(struct store *st, const char *sql, const struct store_param *p, size_t np,
                      struct store_rows *rows, struct sw_err *err)
{
	return st->be->sql->exec_planned(st, sql, p, np, rows, err);
}

/* The index of step name in steps[0..n), or n. */
static size_t step_at(const char *const *steps, size_t n, const char *name)
{
	size_t i = 0;
	while (name && i < n && strcmp(steps[i], name))
		i++;
	return name ? i : n;
}

/*
 * The funnel of steps[0..n) in two reads of the instances of the range
 * (instances_started_idx): their step rows (instance_steps_pkey, one probe per instance for
 * every step), grouped by step, and their ABANDONED alerts (alerts_closed_key_idx, one probe
 * per instance), grouped by step. A read per step read the range once per step. Each step's
 * stuck threshold is a CASE over the steps; the steps are parameters ($4, $6, ...) named
 * again in the IN lists.
 */
int store_stats_funnel(struct store *st, const char *workflow, const char *const *steps,
                       const int64_t *stuck_before, size_t n, int64_t from, int64_t to,
                       struct funnel_step *out, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct strbuf sql = STRBUF_INIT, in = STRBUF_INIT;
	struct store_param *p = xcalloc(3 + 2 * n, sizeof(*p));
	size_t np = 3;
	int rc = 0;

	memset(out, 0, n * sizeof(*out));
	if (!n)
		goto out;
	p[0] = sp_text(workflow);
	p[1] = sp_int(lo_of(from));
	p[2] = sp_int(hi_of(to));
	strbuf_addstr(&sql, "SELECT s.step, COUNT(*),"
	                    " SUM(CASE WHEN s.status = " SQL_STEP_SUCCESS " THEN 1 ELSE 0 END),"
	                    " SUM(CASE WHEN s.status = " SQL_STEP_FAILED " THEN 1 ELSE 0 END),"
	                    " SUM(CASE WHEN s.status = " SQL_STEP_IN_PROGRESS
	                    " AND s.started_at <= CASE s.step");
	for (size_t k = 0; k < n; k++) {
		p[np] = sp_text(steps[k]);
		p[np + 1] = sp_int(stuck_before[k] == TIME_NULL ? INT64_MIN : stuck_before[k]);
		strbuf_addf(&sql, " WHEN $%zu THEN CAST($%zu AS BIGINT)", np + 1, np + 2);
		strbuf_addf(&in, "%s$%zu", k ? ", " : "", np + 1);
		np += 2;
	}
	strbuf_addf(&sql,
	            " END THEN 1 ELSE 0 END)"
	            " FROM instances i JOIN instance_steps s ON s.workflow = i.workflow"
	            "  AND s.instance_id = i.instance_id"
	            " WHERE i.workflow = $1"
	            "  AND" STARTED_IN("i.") "  AND s.step IN (%s) GROUP BY s.step",
	            in.buf);
	rc = range_read(st, sql.buf, p, np, &rows, err);
	for (size_t r = 0; !rc && r < rows.nrows; r++) {
		size_t k = step_at(steps, n, store_rows_text(&rows, r, 0));
		if (k == n)
			continue;
		out[k].entered = store_rows_int(&rows, r, 1, 0);
		out[k].succeeded = store_rows_int(&rows, r, 2, 0);
		out[k].failed = store_rows_int(&rows, r, 3, 0);
		out[k].stuck = store_rows_int(&rows, r, 4, 0);
	}
	store_rows_release(&rows);
	if (rc)
		goto out;
	/* the same range, the steps alone as $4.. */
	strbuf_reset(&sql);
	strbuf_reset(&in);
	for (size_t k = 0; k < n; k++) {
		p[3 + k] = sp_text(steps[k]);
		strbuf_addf(&in, "%s$%zu", k ? ", " : "", 4 + k);
	}
	strbuf_addf(
	    &sql,
	    "SELECT a.step, COUNT(DISTINCT a.instance_id) FROM instances i"
	    " JOIN alerts a ON a.workflow = i.workflow AND a.instance_id = i.instance_id"
	    " WHERE i.workflow = $1"
	    "  AND" STARTED_IN("i.") "  AND a.step IN (%s) AND a.state = " SQL_ALERT_ABANDONED
	                             "  AND a.state >= " SQL_ALERT_RESOLVED " GROUP BY a.step",
	    in.buf);
	rc = range_read(st, sql.buf, p, 3 + n, &rows, err);
	for (size_t r = 0; !rc && r < rows.nrows; r++) {
		size_t k = step_at(steps, n, store_rows_text(&rows, r, 0));
		if (k < n)
			out[k].abandoned = store_rows_int(&rows, r, 1, 0);
	}
	store_rows_release(&rows);
out:
	strbuf_release(&sql);
	strbuf_release(&in);
	free(p);
	return rc;
}

int store_stats_funnel_step(struct store *st, const char *workflow, const char *step, int64_t from,
                            int64_t to, int64_t stuck_before, struct funnel_step *out,
                            struct sw_err *err)
{
	return store_stats_funnel(st, workflow, &step, &stuck_before, 1, from, to, out, err);
}

int store_stats_durations(struct store *st, const char *workflow, const char *step, int64_t from,
                          int64_t to, int64_t **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[4] = {sp_text(workflow), sp_int(lo_of(from)), sp_int(hi_of(to)),
	                           sp_text(step)};
	int rc;
	*out = NULL;
	*n = 0;
	if (!step)
		rc = range_read(st,
		                "SELECT completed_at - started_at FROM instances"
		                " WHERE workflow = $1 AND completed_at IS NOT NULL"
		                "  AND started_at IS NOT NULL"
		                "  AND" STARTED_IN(""),
		                p, 3, &rows, err);
	else
		rc = range_read(
		    st,
		    "SELECT s.finished_at - s.started_at FROM instance_steps s"
		    " JOIN instances i ON i.workflow = s.workflow"
		    "  AND i.instance_id = s.instance_id"
		    " WHERE s.workflow = $1 AND s.step = $4 AND s.status = " SQL_STEP_SUCCESS
		    "  AND s.started_at IS NOT NULL AND s.finished_at IS NOT NULL"
		    "  AND" STARTED_IN("i."),
		    p, 4, &rows, err);
	if (!rc) {
		*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
		for (size_t i = 0; i < rows.nrows; i++)
			(*out)[i] = store_rows_int(&rows, i, 0, 0);
		*n = rows.nrows;
	}
	store_rows_release(&rows);
	return rc;
}

void segment_counts_free(struct segment_count *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].value);
	free(v);
}

static int segment_cmp(const void *a, const void *b)
{
	const struct segment_count *x = a, *y = b;
	if (!x->value || !y->value)
		return !x->value - !y->value;
	return strcmp(x->value, y->value);
}

/* The string value of key in a labels object, or NULL (absent, null, not a string). */
static char *label_value(const char *labels, const char *key)
{
	json_t *j = labels ? json_loads(labels, 0, NULL) : NULL;
	const json_t *v = json_object_get(j, key);
	char *s = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
	json_decref(j);
	return s;
}

int store_stats_segments(struct store *st, const char *workflow, const char *by, int64_t from,
                         int64_t to, struct segment_count **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[3] = {sp_text(workflow), sp_int(lo_of(from)), sp_int(hi_of(to))};
	struct segment_count *v = NULL;
	size_t nv = 0, alloc = 0;
	int rc;
	*out = NULL;
	*n = 0;
	rc = range_read(st,
	                "SELECT labels, COUNT(*),"
	                " SUM(CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END)"
	                " FROM instances WHERE workflow = $1"
	                "  AND" STARTED_IN("") " GROUP BY labels",
	                p, 3, &rows, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < rows.nrows; i++) {
		char *val = label_value(store_rows_text(&rows, i, 0), by);
		size_t k;
		for (k = 0; k < nv; k++) {
			if (val ? v[k].value && !strcmp(v[k].value, val) : !v[k].value)
				break;
		}
		if (k == nv) {
			ALLOC_GROW(v, nv + 1, alloc);
			memset(&v[nv], 0, sizeof(v[nv]));
			v[nv++].value = val;
		} else {
			free(val);
		}
		v[k].started += store_rows_int(&rows, i, 1, 0);
		v[k].completed += store_rows_int(&rows, i, 2, 0);
	}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), segment_cmp);
	*out = v ? v : xcalloc(1, sizeof(*v));
	*n = nv;
out:
	store_rows_release(&rows);
	return rc;
}

int store_stats_alerts(struct store *st, int64_t from, int64_t to, struct alert_stats *out,
                       struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_int(lo_of(from)), sp_int(hi_of(to))};
	int rc;
	memset(out, 0, sizeof(*out));
	rc = range_read(st,
	                "SELECT COUNT(*),"
	                " SUM(CASE WHEN state = " SQL_ALERT_RESOLVED
	                " AND resolved_by = " SQL_ACTOR_RESOLVER " THEN 1 ELSE 0 END),"
	                " SUM(CASE WHEN state = " SQL_ALERT_RESOLVED
	                " AND (resolved_by IS NULL OR resolved_by <> " SQL_ACTOR_RESOLVER ")"
	                "  THEN 1 ELSE 0 END),"
	                " SUM(CASE WHEN state = " SQL_ALERT_ABANDONED " THEN 1 ELSE 0 END),"
	                " SUM(CASE WHEN acked_at IS NOT NULL THEN 1 ELSE 0 END),"
	                " SUM(CASE WHEN acked_at IS NOT NULL THEN acked_at - opened_at ELSE 0 END),"
	                " SUM(CASE WHEN state = " SQL_ALERT_RESOLVED
	                " AND resolved_at IS NOT NULL THEN resolved_at - opened_at"
	                "  ELSE 0 END)"
	                " FROM alerts WHERE opened_at >= $1 AND opened_at < $2",
	                p, 2, &rows, err);
	if (rc)
		goto out;
	if (rows.nrows == 1) {
		out->opened = store_rows_int(&rows, 0, 0, 0);
		out->auto_resolved = store_rows_int(&rows, 0, 1, 0);
		out->manually_resolved = store_rows_int(&rows, 0, 2, 0);
		out->abandoned = store_rows_int(&rows, 0, 3, 0);
		out->acked = store_rows_int(&rows, 0, 4, 0);
		out->ack_ms_sum = store_rows_int(&rows, 0, 5, 0);
		out->resolve_ms_sum = store_rows_int(&rows, 0, 6, 0);
	}
	store_rows_release(&rows);
	rc = range_read(st,
	                "SELECT h.to_state, COUNT(*) FROM alert_history h"
	                " JOIN alerts a ON a.id = h.alert_id"
	                " WHERE h.event = " SQL_EVENT_ESCALATED
	                " AND a.opened_at >= $1 AND a.opened_at < $2"
	                " GROUP BY h.to_state",
	                p, 2, &rows, err);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		int64_t s = store_rows_int(&rows, i, 0, -1);
		if (s >= ALERT_P2 && s <= ALERT_P0)
			out->escalations[s - ALERT_P2] += store_rows_int(&rows, i, 1, 0);
	}
out:
	store_rows_release(&rows);
	return rc;
}
