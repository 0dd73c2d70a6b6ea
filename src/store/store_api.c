/*
 * store_api.c - store functions the HTTP API needs beyond the tasks': silences, incident
 * ack and resolve, a user's instances, and how many pushed step records are known.
 *
 * DESIGN: written on the same backend interface as store.c/store_alerts.c (shared SQL,
 * $N placeholders, one atomic section per call). A silence's matchers are kept as one JSON
 * object in the `matchers` column ({"workflow": ..., "step": ..., "error": ...}, absent
 * keys match anything), so new matcher kinds need no migration; there are few silences, so
 * matching happens in C (core/silence.c), not in SQL. Incident ack and resolve reuse
 * store_alert_ack and store_alerts_change, so history rows and the incident refresh are the
 * same as for single alerts.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "store/store-int.h"
#include <jansson.h>

#define SILENCE_COLS                                             \
	"id, matchers, starts_at, ends_at, created_by, comment," \
	" CASE WHEN pause_escalation THEN 1 ELSE 0 END, created_at"

static char *matcher_dup(const json_t *m, const char *key)
{
	const json_t *v = json_object_get(m, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static void silence_from_row(const struct store_rows *r, size_t i, struct silence *s)
{
	const char *m = store_rows_text(r, i, 1);
	json_t *j = m ? json_loads(m, 0, NULL) : NULL;
	memset(s, 0, sizeof(*s));
	s->id = store_rows_int(r, i, 0, 0);
	if (json_is_object(j)) {
		s->workflow = matcher_dup(j, "workflow");
		s->step = matcher_dup(j, "step");
		s->error = matcher_dup(j, "error");
	}
	json_decref(j);
	s->starts_at = store_rows_int(r, i, 2, 0);
	s->ends_at = store_rows_int(r, i, 3, 0);
	s->created_by = store_rows_dup(r, i, 4);
	if (!s->created_by)
		s->created_by = xstrdup("");
	s->comment = store_rows_dup(r, i, 5);
	s->pause_escalation = store_rows_int(r, i, 6, 0) != 0;
	s->created_at = store_rows_int(r, i, 7, 0);
}

static int silences_query(struct store *st, const char *sql, const struct store_param *p, size_t np,
                          struct silence **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc = store__exec(st, sql, p, np, &rows, NULL, err);
	*out = NULL;
	*n = 0;
	if (!rc) {
		*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
		for (size_t i = 0; i < rows.nrows; i++)
			silence_from_row(&rows, i, &(*out)[i]);
		*n = rows.nrows;
	}
	store_rows_release(&rows);
	return rc;
}

static void matcher_add(struct strbuf *sb, const char *key, const char *v)
{
	if (!v)
		return;
	if (sb->len > 1)
		strbuf_addch(sb, ',');
	strbuf_add_json_str(sb, key);
	strbuf_addch(sb, ':');
	strbuf_add_json_str(sb, v);
}

int store_silence_create(struct store *st, int64_t now, const struct silence *s, int64_t *id,
                         struct sw_err *err)
{
	struct strbuf m = STRBUF_INIT;
	struct store_rows rows = STORE_ROWS_INIT;
	int rc;
	if (!s->workflow && !s->step && !s->error)
		return store__err(err, STORE_ERROR, "store: a silence needs at least one matcher");
	if (s->ends_at <= s->starts_at)
		return store__err(err, STORE_ERROR, "store: a silence must end after it starts");
	if (!s->created_by || !*s->created_by)
		return store__err(err, STORE_ERROR, "store: a silence needs who created it");
	strbuf_addch(&m, '{');
	matcher_add(&m, "workflow", s->workflow);
	matcher_add(&m, "step", s->step);
	matcher_add(&m, "error", s->error);
	strbuf_addch(&m, '}');
	{
		struct store_param p[7] = {sp_text(m.buf),      sp_int(s->starts_at),
		                           sp_int(s->ends_at),  sp_text(s->created_by),
		                           sp_text(s->comment), sp_int(s->pause_escalation ? 1 : 0),
		                           sp_int(now)};
		rc = store__exec(st,
		                 "INSERT INTO silences (matchers, starts_at, ends_at, created_by,"
		                 " comment, pause_escalation, created_at)"
		                 " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
		                 p, 7, &rows, NULL, err);
	}
	if (!rc)
		*id = store_rows_int(&rows, 0, 0, 0);
	store_rows_release(&rows);
	strbuf_release(&m);
	return rc;
}

int store_silence_get(struct store *st, int64_t id, struct silence *out, struct sw_err *err)
{
	struct silence *v = NULL;
	size_t n = 0;
	struct store_param p[1] = {sp_int(id)};
	int rc = silences_query(st, "SELECT " SILENCE_COLS " FROM silences WHERE id = $1", p, 1, &v,
	                        &n, err);
	memset(out, 0, sizeof(*out));
	if (!rc && !n)
		rc = store__err(err, STORE_ENOTFOUND, "silence %" PRId64 " not found", id);
	if (!rc) {
		*out = v[0];
		memset(&v[0], 0, sizeof(v[0]));
	}
	silences_free(v, n);
	return rc;
}

int store_silences_list(struct store *st, const struct silence_filter *f, struct silence **out,
                        size_t *n, struct sw_err *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct store_param p[4];
	size_t np = 0;
	int rc;
	*out = NULL;
	*n = 0;
	if (f->limit < 1 || f->limit > 1000)
		return store__err(err, STORE_ERROR, "store: limit %zu outside 1..1000", f->limit);
	strbuf_addstr(&sql, "SELECT " SILENCE_COLS " FROM silences WHERE 1 = 1");
	if (f->active_only) {
		/* core/silence.c's silence_active, as SQL to filter the page */
		p[np] = sp_int(f->now);
		strbuf_addf(&sql, " AND starts_at <= $%zu AND ends_at > $%zu", np + 1, np + 1);
		np++;
	}
	if (f->before_id) {
		p[np] = sp_int(f->before_id);
		strbuf_addf(&sql, " AND id < $%zu", ++np);
	}
	p[np] = sp_int((int64_t)f->limit);
	strbuf_addf(&sql, " ORDER BY id DESC LIMIT $%zu", ++np);
	rc = silences_query(st, sql.buf, p, np, out, n, err);
	strbuf_release(&sql);
	return rc;
}

int store_silences_active(struct store *st, int64_t now, struct silence **out, size_t *n,
                          struct sw_err *err)
{
	struct store_param p[1] = {sp_int(now)};
	/* a pre-filter by time: active-ness and matching are core/silence.c's */
	return silences_query(st,
	                      "SELECT " SILENCE_COLS " FROM silences WHERE ends_at > $1"
	                      " AND starts_at <= $1 ORDER BY id LIMIT 10000",
	                      p, 1, out, n, err);
}

int store_silence_expire(struct store *st, int64_t id, int64_t now, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_int(id), sp_int(now)};
	int rc = store__enter(st, err);
	if (rc)
		return rc;
	rc = store__exec(st, "SELECT ends_at FROM silences WHERE id = $1", p, 1, &rows, NULL, err);
	if (rc)
		goto out;
	if (!rows.nrows) {
		rc = store__err(err, STORE_ENOTFOUND, "silence %" PRId64 " not found", id);
		goto out;
	}
	if (store_rows_int(&rows, 0, 0, 0) <= now)
		goto out; /* already ended */
	rc = store__exec(st,
	                 "UPDATE silences SET ends_at = $2,"
	                 " starts_at = CASE WHEN starts_at > $2 THEN $2 ELSE starts_at END"
	                 " WHERE id = $1",
	                 p, 2, NULL, NULL, err);
out:
	store_rows_release(&rows);
	return store__leave(st, rc, err);
}

/* ---- incidents ------------------------------------------------------------------------- */

/* The incident's state ("OPEN"/"RESOLVED") and acked_by into rows; ENOTFOUND if none. */
static int incident_state(struct store *st, int64_t id, struct store_rows *rows, struct sw_err *err)
{
	struct store_param p[1] = {sp_int(id)};
	int rc = store__exec(st, "SELECT state, acked_by FROM incidents WHERE id = $1", p, 1, rows,
	                     NULL, err);
	if (!rc && !rows->nrows)
		rc = store__err(err, STORE_ENOTFOUND, "incident %" PRId64 " not found", id);
	if (!rc && strcmp(store_rows_text(rows, 0, 0), "OPEN"))
		rc = store__err(err, STORE_ECONFLICT, "incident %" PRId64 " is resolved", id);
	return rc;
}

int store_incident_ack(struct store *st, int64_t id, int64_t now, const char *by, const char *note,
                       size_t *acked, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[3] = {sp_int(id), sp_text(by), sp_int(now)};
	size_t k = 0;
	int rc;
	if (acked)
		*acked = 0;
	if (!by || !*by)
		return store__err(err, STORE_ERROR, "store: an ack needs who acked");
	rc = store__enter(st, err);
	if (rc)
		return rc;
	rc = incident_state(st, id, &rows, err);
	if (rc)
		goto out;
	if (store_rows_text(&rows, 0, 1)) {
		rc = store__err(err, STORE_ECONFLICT,
		                "incident %" PRId64 " is already acked by '%s'", id,
		                store_rows_text(&rows, 0, 1));
		goto out;
	}
	store_rows_release(&rows);
	rc = store__exec(st,
	                 "SELECT id FROM alerts WHERE incident_id = $1"
	                 " AND state < " SQL_ALERT_RESOLVED " AND acked_by IS NULL ORDER BY id",
	                 p, 1, &rows, NULL, err);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		rc = store_alert_ack(st, store_rows_int(&rows, i, 0, 0), now, by, note, err);
		k++;
	}
	if (rc)
		goto out;
	rc = store__exec(st, "UPDATE incidents SET acked_by = $2, acked_at = $3 WHERE id = $1", p,
	                 3, NULL, NULL, err);
	if (!rc && acked)
		*acked = k;
out:
	store_rows_release(&rows);
	return store__leave(st, rc, err);
}

int store_incident_resolve(struct store *st, int64_t id, int64_t now, const char *actor,
                           const char *note, size_t *resolved, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_int(id), sp_int(now)};
	struct alert_change *ch = NULL;
	size_t nch = 0;
	int rc;
	if (resolved)
		*resolved = 0;
	rc = store__enter(st, err);
	if (rc)
		return rc;
	rc = incident_state(st, id, &rows, err);
	if (rc)
		goto out;
	/*
	 * Compare-and-set each open alert to RESOLVED. A change can lose its race to the
	 * validator escalating the same alert meanwhile (PostgreSQL, READ COMMITTED): read the
	 * open alerts again and retry until none is left, so the answer never leaves one open.
	 */
	for (int round = 0; round < 10; round++) {
		bool *applied;
		size_t lost = 0;
		store_rows_release(&rows);
		rc = store__exec(st,
		                 "SELECT id, state FROM alerts WHERE incident_id = $1"
		                 " AND state < " SQL_ALERT_RESOLVED " ORDER BY id",
		                 p, 1, &rows, NULL, err);
		if (rc)
			goto out;
		if (!rows.nrows) {
			/* nothing open (the first round: cannot normally happen): close it itself
			 */
			if (round == 0)
				rc = store__exec(
				    st,
				    "UPDATE incidents SET state = " SQL_INCIDENT_RESOLVED
				    ", resolved_at = $2,"
				    " updated_at = $2, open_alerts = 0 WHERE id = $1",
				    p, 2, NULL, NULL, err);
			goto out;
		}
		free(ch);
		ch = xcalloc(rows.nrows, sizeof(*ch));
		applied = xcalloc(rows.nrows, sizeof(*applied));
		nch = 0;
		for (size_t i = 0; i < rows.nrows; i++) {
			enum alert_state from = (enum alert_state)store_rows_int(&rows, i, 1, 0);
			if (!alert_transition_allowed(from, ALERT_RESOLVED))
				continue;
			ch[nch].alert_id = store_rows_int(&rows, i, 0, 0);
			ch[nch].from = from;
			ch[nch].to = ALERT_RESOLVED;
			ch[nch].event = "resolved";
			ch[nch].actor = actor;
			ch[nch].reason = note;
			ch[nch].next_escalation_at = TIME_NULL;
			ch[nch].resolved_by = "incident";
			nch++;
		}
		rc = store_alerts_change(st, now, ch, nch, applied, err);
		for (size_t i = 0; !rc && i < nch; i++) {
			if (applied[i] && resolved)
				(*resolved)++;
			lost += !applied[i];
		}
		free(applied);
		if (rc || !lost)
			goto out;
	}
	rc = store__err(err, STORE_ECONFLICT, "incident %" PRId64 " kept changing; try again", id);
out:
	free(ch);
	store_rows_release(&rows);
	return store__leave(st, rc, err);
}

/* ---- users and pushed records ---------------------------------------------------------- */

void instance_infos_free(struct instance_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		instance_info_release(&v[i]);
	free(v);
}

int store_user_instances(struct store *st, const char *user_id, size_t limit,
                         struct instance_info **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_text(user_id), sp_int((int64_t)limit)};
	int rc;
	*out = NULL;
	*n = 0;
	if (!user_id || limit < 1 || limit > 10000)
		return store__err(err, STORE_ERROR, "store: bad user instances query");
	rc = store__exec(st,
	                 "SELECT workflow, instance_id, user_id, labels, started_at,"
	                 " last_progress_at, max_step_index, completed_at FROM instances"
	                 " WHERE user_id = $1 ORDER BY last_progress_at DESC, workflow,"
	                 " instance_id LIMIT $2",
	                 p, 2, &rows, NULL, err);
	if (!rc) {
		*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
		for (size_t i = 0; i < rows.nrows; i++) {
			struct instance_info *x = &(*out)[i];
			x->workflow = store_rows_dup(&rows, i, 0);
			x->instance_id = store_rows_dup(&rows, i, 1);
			x->user_id = store_rows_dup(&rows, i, 2);
			x->labels_json = store_rows_dup(&rows, i, 3);
			x->started_at = store_rows_int(&rows, i, 4, TIME_NULL);
			x->last_progress_at = store_rows_int(&rows, i, 5, TIME_NULL);
			x->max_step_index = (int)store_rows_int(&rows, i, 6, 0);
			x->completed_at = store_rows_int(&rows, i, 7, TIME_NULL);
		}
		*n = rows.nrows;
	}
	store_rows_release(&rows);
	return rc;
}
