/*
 * store_notify.c - the notification state per incident and the outbox (store_notify.h).
 *
 * DESIGN: written on the backend interface like the other store_*.c files (shared SQL, $N
 * placeholders). A claim is a compare-and-set on (status 'pending', next_attempt_at): two
 * notifier threads or nodes racing for one row both read it, one update wins, the other
 * sees no change and looks again. The lease a claim takes is the next_attempt_at itself,
 * so no sweeper is needed: a message whose sender died comes due again by itself.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "store/store-int.h"
#include "store/store_notify.h"

#define INCIDENT_COLS                                                                   \
	"i.id, i.workflow, i.step, i.rule, i.group_key, i.labels, i.state, i.level, "   \
	"i.open_alerts, i.total_alerts, i.affected_users, i.opened_at, i.resolved_at, " \
	"i.acked_by, i.acked_at"

#define OUTBOX_COLS                                                                 \
	"id, idem_key, receiver, event, payload, status, last_error, incident_id, " \
	"created_at, next_attempt_at, delivered_at, last_attempt_at, attempts, last_status"

static void incident_from_row(const struct store_rows *r, size_t k, struct incident *i)
{
	const char *state = store_rows_text(r, k, 6);
	i->id = store_rows_int(r, k, 0, 0);
	i->workflow = store_rows_dup(r, k, 1);
	i->step = store_rows_dup(r, k, 2);
	i->rule = store_rows_dup(r, k, 3);
	i->group_key = store_rows_dup(r, k, 4);
	i->labels_json = store_rows_dup(r, k, 5);
	i->open = state && !strcmp(state, "OPEN");
	i->level = (enum alert_state)store_rows_int(r, k, 7, 0);
	i->open_alerts = store_rows_int(r, k, 8, 0);
	i->total_alerts = store_rows_int(r, k, 9, 0);
	i->affected_users = store_rows_int(r, k, 10, 0);
	i->opened_at = store_rows_int(r, k, 11, TIME_NULL);
	i->resolved_at = store_rows_int(r, k, 12, TIME_NULL);
	i->acked_by = store_rows_dup(r, k, 13);
	i->acked_at = store_rows_int(r, k, 14, TIME_NULL);
}

void notify_rows_free(struct notify_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		incident_release(&v[i].inc);
	free(v);
}

int store_notify_candidates(struct store *st, int64_t after_id, size_t limit,
                            struct notify_row **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_int(after_id), sp_int((int64_t)limit)};
	int rc = store__exec(st,
	                     "SELECT " INCIDENT_COLS ", ns.incident_id, ns.seq, ns.level, ns.users,"
	                     " ns.last_at, ns.acked, ns.muted, ns.done"
	                     " FROM incidents i LEFT JOIN notify_state ns ON ns.incident_id = i.id"
	                     " WHERE i.id > $1 AND (i.state = " SQL_INCIDENT_OPEN " OR i.id IN"
	                     " (SELECT incident_id FROM notify_state WHERE done = 0))"
	                     " ORDER BY i.id LIMIT $2",
	                     p, 2, &rows, NULL, err);
	*out = NULL;
	*n = 0;
	if (rc)
		goto out;
	*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t k = 0; k < rows.nrows; k++) {
		struct notify_row *r = &(*out)[k];
		incident_from_row(&rows, k, &r->inc);
		notify_sent_init(&r->sent);
		if (store_rows_text(&rows, k, 15)) {
			r->sent.seq = store_rows_int(&rows, k, 16, 0);
			r->sent.level = (enum alert_state)store_rows_int(&rows, k, 17, 0);
			r->sent.users = store_rows_int(&rows, k, 18, 0);
			r->sent.last_at = store_rows_int(&rows, k, 19, TIME_NULL);
			r->sent.acked = store_rows_int(&rows, k, 20, 0) != 0;
			r->sent.muted = store_rows_int(&rows, k, 21, 0) != 0;
			r->sent.done = store_rows_int(&rows, k, 22, 0) != 0;
		}
	}
	*n = rows.nrows;
out:
	store_rows_release(&rows);
	return rc;
}

int store_notify_state_put(struct store *st, int64_t incident_id, const struct notify_sent *s,
                           int64_t now, struct sw_err *err)
{
	struct store_param p[9] = {sp_int(incident_id), sp_int(s->seq),      sp_int(s->level),
	                           sp_int(s->users),    sp_time(s->last_at), sp_int(s->acked),
	                           sp_int(s->muted),    sp_int(s->done),     sp_int(now)};
	return store__exec(st,
	                   "INSERT INTO notify_state (incident_id, seq, level, users, last_at,"
	                   " acked, muted, done, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
	                   " $8, $9) ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq,"
	                   " level = excluded.level, users = excluded.users,"
	                   " last_at = excluded.last_at, acked = excluded.acked,"
	                   " muted = excluded.muted, done = excluded.done,"
	                   " updated_at = excluded.updated_at",
	                   p, 9, NULL, NULL, err);
}

int store_outbox_add(struct store *st, int64_t now, const struct outbox_new *o, size_t n,
                     size_t *added, struct sw_err *err)
{
	size_t k = 0;
	int rc = store__enter(st, err);
	for (size_t i = 0; !rc && i < n; i++) {
		int64_t ch = 0;
		struct store_param p[7] = {sp_text(o[i].idem_key),      sp_text(o[i].receiver),
		                           sp_int(o[i].incident_id),    sp_text(o[i].event),
		                           sp_text(o[i].payload),       sp_int(now),
		                           sp_int(o[i].next_attempt_at)};
		rc = store__exec(
		    st,
		    "INSERT INTO outbox (idem_key, receiver, incident_id, event, payload,"
		    " created_at, next_attempt_at, status) VALUES ($1, $2, $3, $4, $5,"
		    " $6, $7, " SQL_OUTBOX_PENDING ") ON CONFLICT (idem_key) DO NOTHING",
		    p, 7, NULL, &ch, err);
		k += ch > 0;
	}
	if (added)
		*added = k;
	return store__leave(st, rc, err);
}

void outbox_row_release(struct outbox_row *r)
{
	if (!r)
		return;
	free(r->idem_key);
	free(r->receiver);
	free(r->event);
	free(r->payload);
	free(r->status);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

void outbox_rows_free(struct outbox_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		outbox_row_release(&v[i]);
	free(v);
}

static void outbox_from_row(const struct store_rows *r, size_t k, struct outbox_row *o)
{
	o->id = store_rows_int(r, k, 0, 0);
	o->idem_key = store_rows_dup(r, k, 1);
	o->receiver = store_rows_dup(r, k, 2);
	o->event = store_rows_dup(r, k, 3);
	o->payload = store_rows_dup(r, k, 4);
	o->status = store_rows_dup(r, k, 5);
	o->last_error = store_rows_dup(r, k, 6);
	o->incident_id = store_rows_int(r, k, 7, 0);
	o->created_at = store_rows_int(r, k, 8, TIME_NULL);
	o->next_attempt_at = store_rows_int(r, k, 9, TIME_NULL);
	o->delivered_at = store_rows_int(r, k, 10, TIME_NULL);
	o->last_attempt_at = store_rows_int(r, k, 11, TIME_NULL);
	o->attempts = (int)store_rows_int(r, k, 12, 0);
	o->last_status = (int)store_rows_int(r, k, 13, 0);
}

int store_outbox_claim(struct store *st, const char *receiver, int64_t now, int64_t lease_ms,
                       struct outbox_row *out, bool *got, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc;
	*got = false;
	memset(out, 0, sizeof(*out));
	for (int tries = 0; tries < 3 && !*got; tries++) {
		struct store_param p[3] = {sp_text(receiver), sp_int(now), sp_int(0)};
		int64_t id, due, ch = 0;
		rc = store__enter(st, err);
		if (!rc)
			rc = store__exec(
			    st,
			    "SELECT id, next_attempt_at FROM outbox o WHERE receiver = $1"
			    " AND status = " SQL_OUTBOX_PENDING " AND next_attempt_at <= $2"
			    " AND NOT EXISTS (SELECT 1 FROM outbox e"
			    " WHERE e.incident_id = o.incident_id AND e.id < o.id"
			    " AND e.receiver = o.receiver AND e.status = " SQL_OUTBOX_PENDING ")"
			    " ORDER BY next_attempt_at, id LIMIT 1",
			    p, 2, &rows, NULL, err);
		if (rc || !rows.nrows) {
			rc = store__leave(st, rc, err);
			store_rows_release(&rows);
			return rc;
		}
		id = store_rows_int(&rows, 0, 0, 0);
		due = store_rows_int(&rows, 0, 1, 0);
		store_rows_release(&rows);
		{
			struct store_param q[4] = {sp_int(id), sp_int(due), sp_int(now),
			                           sp_int(now + lease_ms)};
			rc = store__exec(
			    st,
			    "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = $3,"
			    " next_attempt_at = $4 WHERE id = $1 AND status = " SQL_OUTBOX_PENDING
			    " AND next_attempt_at = $2",
			    q, 4, NULL, &ch, err);
			if (!rc && ch > 0)
				rc = store__exec(st,
				                 "SELECT " OUTBOX_COLS " FROM outbox WHERE id = $1",
				                 q, 1, &rows, NULL, err);
		}
		rc = store__leave(st, rc, err);
		if (!rc && rows.nrows) {
			outbox_from_row(&rows, 0, out);
			*got = true;
		}
		store_rows_release(&rows);
		if (rc)
			return rc;
	}
	return 0;
}

int store_outbox_done(struct store *st, int64_t id, int64_t now, enum outbox_outcome oc,
                      int64_t next_attempt_at, int last_status, const char *last_error,
                      const char *reason, struct sw_err *err)
{
	static const char *const status[] = {"sent", "pending", "failed"};
	struct store_param p[6] = {sp_int(id),
	                           sp_text(status[oc]),
	                           sp_time(oc == OUTBOX_SENT ? now : TIME_NULL),
	                           sp_int(next_attempt_at),
	                           sp_int(last_status),
	                           sp_text(last_error)};
	int64_t ch = 0;
	int rc = store__enter(st, err);
	if (!rc)
		rc = store__exec(st,
		                 "UPDATE outbox SET status = $2, delivered_at = $3,"
		                 " next_attempt_at = $4, last_status = $5, last_error = $6"
		                 " WHERE id = $1 AND status = " SQL_OUTBOX_PENDING,
		                 p, 6, NULL, &ch, err);
	if (!rc && ch > 0 && oc == OUTBOX_SENT) {
		struct store_param q[3] = {sp_int(id), sp_int(now), sp_text(reason)};
		rc = store__exec(st,
		                 "INSERT INTO alert_history (alert_id, at, actor, event, reason)"
		                 " SELECT a.id, $2, 'notifier', 'notified', $3 FROM outbox o"
		                 " JOIN incidents i ON i.id = o.incident_id"
		                 " JOIN alerts a ON a.incident_id = i.id"
		                 " WHERE o.id = $1"
		                 " AND (a.state < " SQL_ALERT_RESOLVED
		                 " OR i.state = " SQL_INCIDENT_RESOLVED ")",
		                 q, 3, NULL, NULL, err);
	}
	return store__leave(st, rc, err);
}

int store_outbox_list(struct store *st, const struct outbox_filter *f, struct outbox_row **out,
                      size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[5] = {sp_text(f->receiver), sp_text(f->status), sp_int(f->incident_id),
	                           sp_int(f->before_id), sp_int((int64_t)f->limit)};
	int rc = store__exec(st,
	                     "SELECT " OUTBOX_COLS " FROM outbox"
	                     " WHERE (CAST($1 AS TEXT) IS NULL OR receiver = CAST($1 AS TEXT))"
	                     " AND (CAST($2 AS TEXT) IS NULL OR status = CAST($2 AS TEXT))"
	                     " AND (CAST($3 AS BIGINT) = 0 OR incident_id = CAST($3 AS BIGINT))"
	                     " AND (CAST($4 AS BIGINT) = 0 OR id < CAST($4 AS BIGINT))"
	                     " ORDER BY id DESC LIMIT $5",
	                     p, 5, &rows, NULL, err);
	*out = NULL;
	*n = 0;
	if (!rc) {
		*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
		for (size_t k = 0; k < rows.nrows; k++)
			outbox_from_row(&rows, k, &(*out)[k]);
		*n = rows.nrows;
	}
	store_rows_release(&rows);
	return rc;
}

void outbox_counts_free(struct outbox_count *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].receiver);
	free(v);
}

int store_outbox_counts(struct store *st, struct outbox_count **out, size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	size_t k = 0;
	int rc = store__exec(st,
	                     "SELECT receiver, status, count(*) FROM outbox GROUP BY receiver,"
	                     " status ORDER BY receiver, status",
	                     NULL, 0, &rows, NULL, err);
	*out = NULL;
	*n = 0;
	if (rc)
		goto out;
	*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *recv = store_rows_text(&rows, r, 0),
		           *status = store_rows_text(&rows, r, 1);
		int64_t c = store_rows_int(&rows, r, 2, 0);
		if (!recv || !status)
			continue;
		if (!k || strcmp((*out)[k - 1].receiver, recv))
			(*out)[k++].receiver = xstrdup(recv);
		if (!strcmp(status, "pending"))
			(*out)[k - 1].pending += c;
		else if (!strcmp(status, "sent"))
			(*out)[k - 1].sent += c;
		else if (!strcmp(status, "failed"))
			(*out)[k - 1].failed += c;
	}
	*n = k;
out:
	store_rows_release(&rows);
	return rc;
}
