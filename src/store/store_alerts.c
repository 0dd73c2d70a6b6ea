/*
 * store_alerts.c - alerts, their history, incidents and counts (store.h), on the backend
 * method table (store-int.h): SQL shared by SQLite and PostgreSQL here, what differs in the
 * backend's statement table (st->be->sql: sqlite_sql.c, pg_sql.c).
 *
 * DESIGN: batch operations run in phases, each phase one batch of the dialect (a loop of one
 * statement per item on SQLite, one set-based statement on PostgreSQL), so opening 10,000
 * alerts costs a handful of round trips rather than several per alert:
 *
 *   open:   look up each key (open alert, else the newest closed one) -> find or create the
 *           incidents of the new alerts' group keys -> insert the alerts ON CONFLICT DO
 *           NOTHING, with the history rows and flap counts of those created -> refresh each
 *           touched incident.
 *   change: compare-and-set UPDATE of each alert -> history rows for those applied ->
 *           refresh each touched incident, resolving it when no open alert is left.
 *
 * The database keeps the invariants (unique partial indexes, CAS updates); the phases only
 * make the common path fast. When another connection wins a race (an insert that did
 * nothing), the existing row is read back and reported as not created.
 *
 * Incident counters are recomputed from the alerts table (through the alerts_incident
 * indexes) once per touched incident per call, rather than incremented, so they cannot drift.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "store/store-int.h"
#include "core/incident.h"

#define ALERT_COLS STORE_ALERT_COLS

#define INCIDENT_COLS                                                                   \
	"i.id, i.workflow, i.step, i.rule, i.group_key, i.labels, i.state, i.level, "   \
	"i.open_alerts, i.total_alerts, i.affected_users, i.opened_at, i.resolved_at, " \
	"i.acked_by, i.acked_at"

/* ---- freeing --------------------------------------------------------------------------- */

void alert_release(struct alert *a)
{
	if (!a)
		return;
	free(a->rule);
	free(a->workflow);
	free(a->step);
	free(a->instance_id);
	free(a->user_id);
	free(a->error);
	free(a->labels_json);
	free(a->group_key);
	free(a->acked_by);
	free(a->resolved_by);
	memset(a, 0, sizeof(*a));
}

void alerts_free(struct alert *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		alert_release(&v[i]);
	free(v);
}

void alert_events_free(struct alert_event *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].actor);
		free(v[i].event);
		free(v[i].reason);
	}
	free(v);
}

void incident_release(struct incident *i)
{
	if (!i)
		return;
	free(i->workflow);
	free(i->step);
	free(i->rule);
	free(i->group_key);
	free(i->labels_json);
	free(i->acked_by);
	memset(i, 0, sizeof(*i));
}

void incidents_free(struct incident *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		incident_release(&v[i]);
	free(v);
}

/* ---- rows -> structs ------------------------------------------------------------------- */

static void alert_from_row(const struct store_rows *r, size_t i, struct alert *a)
{
	a->id = store_rows_int(r, i, 0, 0);
	a->rule = store_rows_dup(r, i, 1);
	a->workflow = store_rows_dup(r, i, 2);
	a->step = store_rows_dup(r, i, 3);
	a->instance_id = store_rows_dup(r, i, 4);
	a->user_id = store_rows_dup(r, i, 5);
	a->step_index = (int)store_rows_int(r, i, 6, 0);
	a->state = (enum alert_state)store_rows_int(r, i, 7, 0);
	a->error = store_rows_dup(r, i, 8);
	a->labels_json = store_rows_dup(r, i, 9);
	if (!a->labels_json)
		a->labels_json = xstrdup("{}");
	a->group_key = store_rows_dup(r, i, 10);
	a->occurred_at = store_rows_int(r, i, 11, TIME_NULL);
	a->opened_at = store_rows_int(r, i, 12, TIME_NULL);
	a->updated_at = store_rows_int(r, i, 13, TIME_NULL);
	a->next_escalation_at = store_rows_int(r, i, 14, TIME_NULL);
	a->abandon_after_ms = store_rows_int(r, i, 15, 0);
	a->acked_by = store_rows_dup(r, i, 16);
	a->acked_at = store_rows_int(r, i, 17, TIME_NULL);
	a->resolved_at = store_rows_int(r, i, 18, TIME_NULL);
	a->resolved_by = store_rows_dup(r, i, 19);
	a->incident_id = store_rows_int(r, i, 20, 0);
	a->reopen_of = store_rows_int(r, i, 21, 0);
}

struct alerts_scan {
	struct alert *v;
	size_t n, alloc;
};

static int alerts_scan_row(void *arg, const struct store_cell *cells, size_t ncols)
{
	struct alerts_scan *sc = arg;
	if (ncols < STORE_ALERT_NCOLS)
		BUG("alert query of %zu columns", ncols);
	ALLOC_GROW(sc->v, sc->n + 1, sc->alloc);
	store__alert_from_cells(cells, &sc->v[sc->n++]);
	return 0;
}

/* Run a query returning ALERT_COLS and hand back the alerts. The rows are decoded straight
 * from the backend's buffer (the query method), not through a copied result set: a batch of
 * 10,000 alerts is held once (plus the backend's result) instead of twice. */
static int alerts_query(struct store *st, const char *sql, const struct store_param *p, size_t np,
                        struct alert **out, size_t *n, struct sw_err *err)
{
	struct alerts_scan sc = {0};
	int rc = store__query(st, sql, p, np, alerts_scan_row, &sc, err);
	if (rc) {
		alerts_free(sc.v, sc.n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	*out = sc.v ? sc.v : xcalloc(1, sizeof(**out));
	*n = sc.n;
	return 0;
}

static int check_limit(size_t limit, struct sw_err *err)
{
	if (limit < 1 || limit > 1000)
		return sw_err_set(err, "store: limit %zu outside 1..1000", limit), STORE_ERROR;
	return 0;
}

/* ---- opening --------------------------------------------------------------------------- */

static const char *const sql_open_lookup =
    "SELECT id, incident_id FROM alerts"
    " WHERE rule = $1 AND workflow = $2 AND instance_id = $3 AND step = $4"
    " AND state < " SQL_ALERT_RESOLVED;

static int check_new(const struct alert_new *a, size_t i, struct sw_err *err)
{
	if (!a->rule || !a->workflow || !a->step || !a->instance_id || !a->user_id || !a->group_key)
		return sw_err_set(err,
		                  "store: alert %zu: rule, workflow, step, instance_id, user_id "
		                  "and group_key are required",
		                  i),
		       STORE_ERROR;
	if (a->occurred_at == TIME_NULL)
		return sw_err_set(err, "store: alert %zu: occurred_at is required", i), STORE_ERROR;
	if (a->nlevels < 0 || a->nlevels > 3)
		return sw_err_set(err, "store: alert %zu: %d levels", i, a->nlevels), STORE_ERROR;
	for (int l = 0; l < a->nlevels; l++)
		if (a->levels[l].from != (l ? a->levels[l - 1].to : ALERT_INITIATED) ||
		    !alert_transition_allowed(a->levels[l].from, a->levels[l].to) ||
		    !alert_state_open(a->levels[l].to) || !a->levels[l].reason)
			return sw_err_set(err, "store: alert %zu: level %d is no escalation", i, l),
			       STORE_ERROR;
	return 0;
}

/* The state an alert opens in. */
static enum alert_state born_state(const struct alert_new *a)
{
	return a->nlevels ? a->levels[a->nlevels - 1].to : ALERT_INITIATED;
}

/* The "escalated" history rows of the alerts created born escalated (one per level), by
 * their opener, at now. */
static int born_escalated_history(struct store *st, int64_t now, const struct alert_new *a,
                                  const struct alert_opened *out, const size_t *todo, size_t ntodo,
                                  struct sw_err *err)
{
	struct store_param *p;
	size_t nh = 0;
	int rc;
	for (size_t t = 0; t < ntodo; t++)
		if (out[todo[t]].created)
			nh += (size_t)a[todo[t]].nlevels;
	if (!nh)
		return 0;
	p = xcalloc(nh * 7, sizeof(*p));
	nh = 0;
	for (size_t t = 0; t < ntodo; t++) {
		const struct alert_new *x = &a[todo[t]];
		if (!out[todo[t]].created)
			continue;
		for (int l = 0; l < x->nlevels; l++) {
			struct store_param *q = p + nh++ * 7;
			q[0] = sp_int(out[todo[t]].alert_id);
			q[1] = sp_int(now);
			q[2] = sp_text(x->actor ? x->actor : "watcher");
			q[3] = sp_text(ALERT_EVENT_ESCALATED);
			q[4] = sp_text(x->levels[l].reason);
			q[5] = sp_int(x->levels[l].from);
			q[6] = sp_int(x->levels[l].to);
		}
	}
	rc = st->be->sql->batch(st, st->be->sql->history_insert, p, 7, nh, NULL, err);
	free(p);
	return rc;
}

/* "rule\x1fworkflow\x1finstance\x1fstep": a batch-local key for duplicate detection. */
static char *key_of(const struct alert_new *a)
{
	return xasprintf("%s\x1f%s\x1f%s\x1f%s", a->rule, a->workflow, a->instance_id, a->step);
}

/* Find or create the open incident of each distinct group key in keys[] (indexes into a);
 * inc[k] receives its id. */
static int incidents_ensure(struct store *st, int64_t now, const struct alert_new *a,
                            const size_t *keys, size_t nkeys, int64_t *inc, struct sw_err *err)
{
	const struct store_sql *sql = st->be->sql;
	struct store_param *p = xcalloc(nkeys * 6 + 1, sizeof(*p));
	struct store_rows *res = xcalloc(nkeys + 1, sizeof(*res));
	int rc = 0;

	for (int attempt = 0; !rc && attempt < 3; attempt++) {
		size_t miss = 0;
		for (size_t k = 0; k < nkeys; k++) {
			const struct alert_new *x = &a[keys[k]];
			struct store_param *q = p + k * 6;
			store_rows_release(&res[k]);
			if (inc[k])
				continue;
			q[0] = sp_text(x->group_key);
			q[1] = sp_text(x->workflow);
			q[2] = sp_text(x->step);
			q[3] = sp_text(x->rule);
			q[4] = sp_text(x->incident_labels_json ? x->incident_labels_json : "{}");
			q[5] = sp_int(now);
		}
		/* insert the missing ones (compacting the parameter sets) */
		for (size_t k = 0; k < nkeys; k++)
			if (!inc[k])
				memmove(p + miss++ * 6, p + k * 6, 6 * sizeof(*p));
		rc = sql->batch(st, sql->incident_insert, p, 6, miss, res, err);
		if (rc)
			break;
		miss = 0;
		for (size_t k = 0; k < nkeys; k++) {
			if (inc[k])
				continue;
			if (res[miss].nrows)
				inc[k] = store_rows_int(&res[miss], 0, 0, 0);
			store_rows_release(&res[miss]);
			miss++;
		}
		/* the others exist already: read them */
		miss = 0;
		for (size_t k = 0; k < nkeys; k++)
			if (!inc[k])
				p[miss++] = sp_text(a[keys[k]].group_key);
		rc = sql->batch(st, sql->incident_find, p, 1, miss, res, err);
		if (rc)
			break;
		miss = 0;
		for (size_t k = 0; k < nkeys; k++) {
			if (inc[k])
				continue;
			if (res[miss].nrows)
				inc[k] = store_rows_int(&res[miss], 0, 0, 0);
			store_rows_release(&res[miss]);
			miss++;
		}
		if (miss == 0)
			break;
	}
	for (size_t k = 0; !rc && k < nkeys; k++)
		if (!inc[k])
			rc = store__err(err, STORE_EBUSY,
			                "store: incident '%s' changed under us, retry",
			                a[keys[k]].group_key);
	for (size_t k = 0; k < nkeys; k++)
		store_rows_release(&res[k]);
	free(res);
	free(p);
	return rc;
}

/*
 * The incidents of newly created alerts: total_alerts and open_alerts grow by the alerts
 * created, affected_users by the users who had no alert in the incident before, level is
 * the highest open state (one index probe). Opening alerts of an incident is serialised on
 * its row (created ON CONFLICT, or read FOR UPDATE on PostgreSQL; one writer on SQLite),
 * so what was committed before is all there is. Counting every alert of the incident
 * instead would cost its size per call: quadratic over a large incident opened in batches.
 * The probe is one exact key of alerts_incident_idx (incident_id, state, user_id) per state
 * ("state IN" every state, SQL_ALERT_EVERY_STATE): never a walk of the incident, which may
 * hold millions of alerts, nor of all the user's alerts.
 */
/* One created alert: its incident and user. */
struct inc_user {
	int64_t inc;
	const char *user;
};

static int cmp_inc_user(const void *x, const void *y)
{
	const struct inc_user *a = x, *b = y;
	if (a->inc != b->inc)
		return a->inc < b->inc ? -1 : 1;
	return strcmp(a->user, b->user);
}

static int incidents_add(struct store *st, int64_t now, const struct alert_new *a,
                         const struct alert_opened *out, const size_t *todo, size_t ntodo,
                         const int64_t *ginc, const size_t *gidx, struct sw_err *err)
{
	const struct store_sql *sql = st->be->sql;
	struct inc_user *v = xcalloc(ntodo + 1, sizeof(*v));
	size_t nv = 0, npair = 0, ninc = 0;
	size_t *pstart = NULL;
	struct store_param *p = NULL;
	struct store_rows *res = NULL;
	int rc = 0;

	for (size_t t = 0; t < ntodo; t++) {
		size_t i = todo[t];
		if (!out[i].created)
			continue;
		v[nv].inc = ginc[gidx[i]];
		v[nv].user = a[i].user_id;
		nv++;
	}
	if (!nv)
		goto out;
	qsort(v, nv, sizeof(*v), cmp_inc_user);
	/* each (incident, user) pair once, with how many alerts it got now */
	pstart = xcalloc(nv + 1, sizeof(*pstart));
	p = xcalloc(nv * 4 + 1, sizeof(*p));
	res = xcalloc(nv + 1, sizeof(*res));
	for (size_t k = 0; k < nv; k++)
		if (k == 0 || cmp_inc_user(&v[k], &v[k - 1]))
			pstart[npair++] = k;
	pstart[npair] = nv;
	for (size_t j = 0; j < npair; j++) {
		size_t k = pstart[j], made = pstart[j + 1] - k;
		p[j * 3] = sp_int(v[k].inc);
		p[j * 3 + 1] = sp_text(v[k].user);
		/* more than `made` alerts of the user in the incident: it was there before */
		p[j * 3 + 2] = sp_int((int64_t)made + 1);
	}
	rc = sql->batch(st, sql->user_seen, p, 3, npair, res, err);
	if (rc)
		goto out;
	/* per incident: (id, at, created, new users) */
	for (size_t j = 0; j < npair; j++) {
		size_t k = pstart[j], made = pstart[j + 1] - k;
		bool fresh = store_rows_int(&res[j], 0, 0, 0) <= (int64_t)made;
		struct store_param *q;
		if (ninc == 0 || p[(ninc - 1) * 4].i != v[k].inc) {
			q = p + ninc++ * 4;
			q[0] = sp_int(v[k].inc);
			q[1] = sp_int(now);
			q[2] = sp_int(0);
			q[3] = sp_int(0);
		}
		q = p + (ninc - 1) * 4;
		q[2].i += (int64_t)made;
		q[3].i += fresh;
	}
	rc = sql->batch(st, sql->incident_add, p, 4, ninc, NULL, err);
out:
	for (size_t j = 0; res && j < npair; j++)
		store_rows_release(&res[j]);
	free(res);
	free(p);
	free(pstart);
	free(v);
	return rc;
}

int store_alerts_open(struct store *st, int64_t now, const struct alert_new *a, size_t n,
                      struct alert_opened *out, struct sw_err *err)
{
	struct store_param *p = NULL;
	struct store_rows *res = NULL;
	struct stmt_cache keys = {0}, groups = {0};
	char **keystr = NULL;
	size_t *todo = NULL, ntodo = 0, *gkeys = NULL, ngkeys = 0, *gidx = NULL;
	int64_t *ginc = NULL;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (check_new(&a[i], i, err))
			return STORE_ERROR;
	if (n == 0)
		return 0;
	memset(out, 0, n * sizeof(*out));
	rc = store__enter(st, err);
	if (rc)
		return rc;

	p = xcalloc(n * STORE_ALERT_NEW_PARAMS, sizeof(*p));
	res = xcalloc(n, sizeof(*res));
	keystr = xcalloc(n, sizeof(*keystr));
	todo = xcalloc(n, sizeof(*todo));
	gkeys = xcalloc(n, sizeof(*gkeys));
	gidx = xcalloc(n, sizeof(*gidx));

	/* 1. each key: its open alert, else its newest closed one (what a reopen links to) */
	for (size_t i = 0; i < n; i++) {
		struct store_param *q = p + i * 4;
		q[0] = sp_text(a[i].rule);
		q[1] = sp_text(a[i].workflow);
		q[2] = sp_text(a[i].instance_id);
		q[3] = sp_text(a[i].step);
	}
	rc = st->be->sql->batch(st, st->be->sql->key_lookup, p, 4, n, res, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uintptr_t first;
		if (res[i].nrows &&
		    alert_state_open((enum alert_state)store_rows_int(&res[i], 0, 1, 0))) {
			out[i].alert_id = store_rows_int(&res[i], 0, 0, 0);
			out[i].incident_id = store_rows_int(&res[i], 0, 2, 0);
			continue;
		}
		if (res[i].nrows)
			out[i].reopen_of = store_rows_int(&res[i], 0, 0, 0);
		/* the same key twice in one batch: the later one refers to the first */
		keystr[i] = key_of(&a[i]);
		first = (uintptr_t)stmt_cache_get(&keys, keystr[i]);
		if (first) {
			out[i].reopen_of = 0;
			continue; /* filled in after the first is inserted */
		}
		stmt_cache_put(&keys, keystr[i], (void *)(uintptr_t)(i + 1));
		todo[ntodo++] = i;
		first = (uintptr_t)stmt_cache_get(&groups, a[i].group_key);
		if (!first) {
			gkeys[ngkeys++] = i;
			stmt_cache_put(&groups, a[i].group_key, (void *)(uintptr_t)ngkeys);
			first = ngkeys;
		}
		gidx[i] = first - 1;
	}
	for (size_t i = 0; i < n; i++)
		store_rows_release(&res[i]);

	/* 2. the incidents of the new alerts */
	ginc = xcalloc(ngkeys + 1, sizeof(*ginc));
	rc = incidents_ensure(st, now, a, gkeys, ngkeys, ginc, err);
	if (rc)
		goto out;

	/* 3. insert, with the history rows and flap counts of the alerts created; an insert
	 * that does nothing lost a race with another connection. The opener is one for the
	 * whole batch (every caller opens a batch on behalf of one actor) */
	for (size_t t = 0; t < ntodo; t++) {
		size_t i = todo[t];
		struct store_param *q = p + t * STORE_ALERT_NEW_PARAMS;
		const struct alert_new *x = &a[i];
		out[i].incident_id = ginc[gidx[i]];
		q[0] = sp_text(x->rule);
		q[1] = sp_text(x->workflow);
		q[2] = sp_text(x->step);
		q[3] = sp_int(x->step_index);
		q[4] = sp_text(x->instance_id);
		q[5] = sp_text(x->user_id);
		q[6] = sp_text(x->error);
		q[7] = sp_text(x->labels_json ? x->labels_json : "{}");
		q[8] = sp_text(x->group_key);
		q[9] = sp_int(x->occurred_at);
		q[10] = sp_int(now);
		q[11] = sp_time(x->next_escalation_at);
		q[12] = sp_int(x->abandon_after_ms);
		q[13] = sp_int(out[i].incident_id);
		q[14] = out[i].reopen_of ? sp_int(out[i].reopen_of) : sp_text(NULL);
		q[15] = sp_text(x->actor ? x->actor : "watcher");
		q[16] = sp_int(born_state(x));
	}
	rc = st->be->sql->alerts_insert(st, p, ntodo, todo, &keys, res, err);
	if (rc)
		goto out;
	for (size_t t = 0; t < ntodo; t++) {
		size_t i = todo[t];
		if (res[t].nrows) {
			out[i].alert_id = store_rows_int(&res[t], 0, 0, 0);
			out[i].created = true;
			continue;
		}
		struct store_rows one = STORE_ROWS_INIT;
		struct store_param q[4] = {sp_text(a[i].rule), sp_text(a[i].workflow),
		                           sp_text(a[i].instance_id), sp_text(a[i].step)};
		rc = store__exec(st, sql_open_lookup, q, 4, &one, NULL, err);
		if (!rc && !one.nrows)
			rc = store__err(err, STORE_EBUSY,
			                "store: alert of '%s' changed under us, retry",
			                a[i].instance_id);
		if (!rc) {
			out[i].alert_id = store_rows_int(&one, 0, 0, 0);
			out[i].incident_id = store_rows_int(&one, 0, 1, 0);
			out[i].reopen_of = 0;
		}
		store_rows_release(&one);
		if (rc)
			goto out;
	}
	/* duplicates within the batch take the first one's answer */
	for (size_t i = 0; i < n; i++) {
		if (out[i].alert_id)
			continue;
		uintptr_t first = (uintptr_t)stmt_cache_get(&keys, keystr[i]);
		out[i] = out[first - 1];
		out[i].created = false;
		out[i].reopen_of = 0;
	}
	rc = born_escalated_history(st, now, a, out, todo, ntodo, err);
	if (rc)
		goto out;

	/* 4. the touched incidents' counters (after fresh statistics: their probes of alerts
	 * would be planned as scans of a table the planner still believes empty) */
	rc = store__analyze_if_stale(st, "alerts", ntodo, err);
	if (!rc)
		rc = incidents_add(st, now, a, out, todo, ntodo, ginc, gidx, err);
out:
	for (size_t i = 0; i < n; i++) {
		store_rows_release(&res[i]);
		free(keystr[i]);
	}
	free(res);
	free(keystr);
	free(p);
	free(todo);
	free(gkeys);
	free(gidx);
	free(ginc);
	stmt_cache_clear(&keys, NULL);
	stmt_cache_clear(&groups, NULL);
	if (rc)
		memset(out, 0, n * sizeof(*out));
	return store__leave(st, rc, err);
}

/* ---- state changes --------------------------------------------------------------------- */

/* Sort key of change c[i]: by alert, then by position in the batch. */
struct change_pos {
	int64_t alert_id;
	size_t i;
};

static int cmp_change_pos(const void *x, const void *y)
{
	const struct change_pos *a = x, *b = y;
	if (a->alert_id != b->alert_id)
		return a->alert_id < b->alert_id ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

static bool change_is_rearm(const struct alert_change *c)
{
	return c->from == c->to && !c->event;
}

/* An incident's share of a batch of state changes: open_alerts moves by delta; the closed
 * counts (0010_closed_counts.sql) grow by the alerts that closed, by how. */
struct inc_delta {
	int64_t id, delta, resolved, abandoned, self_resolved;
};

/* Incident inc's share of applied change c. */
static struct inc_delta inc_delta_of(int64_t inc, const struct alert_change *c)
{
	struct inc_delta d = {inc, incident_open_delta(c->from, c->to), 0, 0, 0};
	d.resolved = c->to == ALERT_RESOLVED;
	d.abandoned = c->to == ALERT_ABANDONED;
	d.self_resolved =
	    d.resolved && c->resolved_by && !strcmp(c->resolved_by, ALERT_ACTOR_RESOLVER);
	return d;
}

static void inc_delta_merge(struct inc_delta *into, const struct inc_delta *d)
{
	into->delta += d->delta;
	into->resolved += d->resolved;
	into->abandoned += d->abandoned;
	into->self_resolved += d->self_resolved;
}

static int cmp_inc_delta(const void *x, const void *y)
{
	const struct inc_delta *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

/*
 * The compare-and-sets. The changes of one alert form chains: a change whose `from` is the
 * `to` of the alert's previous change in the batch (and that state is open) continues it.
 * A chain is one compare-and-set from its first `from` to its last `to`: inside the
 * transaction the row stays locked, so when the first change applies every later link
 * would too (INITIATED -> P2 -> P1 -> P0 of a late detection is one UPDATE, not three).
 * Each round runs one chain per alert still pending as one statement (one UPDATE may touch
 * a row only once); when a chain's first change does not apply, the rest of it is tried
 * again from its next change in the next round, exactly as applying the changes one by
 * one would. inc[i] receives the incident of each applied change.
 */
static int changes_apply(struct store *st, int64_t now, const struct alert_change *c, size_t n,
                         bool *applied, int64_t *inc, struct sw_err *err)
{
	struct change_pos *pos = xcalloc(n + 1, sizeof(*pos));
	size_t *gend = xcalloc(n + 1, sizeof(*gend)), *gcur = xcalloc(n + 1, sizeof(*gcur));
	size_t *ck0 = xcalloc(n + 1, sizeof(*ck0)), *ck1 = xcalloc(n + 1, sizeof(*ck1));
	size_t *cg = xcalloc(n + 1, sizeof(*cg));
	struct store_param *p = xcalloc(n * 6 + 1, sizeof(*p));
	struct store_rows *res = xcalloc(n + 1, sizeof(*res));
	size_t ng = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		pos[i].alert_id = c[i].alert_id;
		pos[i].i = i;
	}
	qsort(pos, n, sizeof(*pos), cmp_change_pos);
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || pos[k].alert_id != pos[k - 1].alert_id)
			gcur[ng++] = k;
		gend[ng - 1] = k + 1;
	}
	for (;;) {
		size_t m = 0;
		for (size_t g = 0; g < ng; g++) {
			size_t k0 = gcur[g], k1 = k0;
			const struct alert_change *first, *last;
			struct store_param *q = p + m * 6;
			bool open;
			if (k0 >= gend[g])
				continue;
			while (k1 + 1 < gend[g] && alert_state_open(c[pos[k1].i].to) &&
			       c[pos[k1 + 1].i].from == c[pos[k1].i].to)
				k1++;
			first = &c[pos[k0].i];
			last = &c[pos[k1].i];
			open = alert_state_open(last->to);
			q[0] = sp_int(last->alert_id);
			q[1] = sp_int(last->to);
			q[2] = sp_int(now);
			q[3] = sp_time(open ? last->next_escalation_at : TIME_NULL);
			q[4] = sp_text(last->to == ALERT_RESOLVED ? last->resolved_by : NULL);
			q[5] = sp_int(first->from);
			ck0[m] = k0;
			ck1[m] = k1;
			cg[m] = g;
			m++;
		}
		if (!m)
			break;
		rc = st->be->sql->batch_by_index(st, st->be->sql->alert_cas, p, 6, m, res, err);
		if (rc)
			break;
		for (size_t j = 0; j < m; j++) {
			if (!res[j].nrows) {
				gcur[cg[j]] = ck0[j] + 1;
				continue;
			}
			for (size_t k = ck0[j]; k <= ck1[j]; k++) {
				applied[pos[k].i] = true;
				inc[pos[k].i] = store_rows_int(&res[j], 0, 0, 0);
			}
			gcur[cg[j]] = ck1[j] + 1;
		}
		for (size_t j = 0; j < m; j++)
			store_rows_release(&res[j]);
	}
	for (size_t j = 0; j < n; j++)
		store_rows_release(&res[j]);
	free(res);
	free(p);
	free(cg);
	free(ck1);
	free(ck0);
	free(gcur);
	free(gend);
	free(pos);
	return rc;
}

int store_alerts_change(struct store *st, int64_t now, const struct alert_change *c, size_t n,
                        bool *applied, struct sw_err *err)
{
	struct store_param *p = NULL;
	struct inc_delta *d = NULL;
	int64_t *inc = NULL;
	bool *done = NULL;
	size_t nd = 0, nh = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (applied)
			applied[i] = false;
		/* core's transitions only: a closed alert never changes state again, which the
		 * closed counts of its incident rely on */
		if ((unsigned)c[i].from >= ALERT_STATE_COUNT ||
		    (unsigned)c[i].to >= ALERT_STATE_COUNT ||
		    (!change_is_rearm(&c[i]) &&
		     (!c[i].event || !c[i].actor || !alert_transition_allowed(c[i].from, c[i].to))))
			return sw_err_set(err, "store: change %zu: bad states, event or actor", i),
			       STORE_ERROR;
	}
	if (n == 0)
		return 0;
	rc = store__enter(st, err);
	if (rc)
		return rc;
	done = xcalloc(n, sizeof(*done));
	inc = xcalloc(n, sizeof(*inc));
	p = xcalloc(n * 7, sizeof(*p));
	d = xcalloc(n, sizeof(*d));

	/* 1. compare-and-set, each alert's changes in order */
	rc = changes_apply(st, now, c, n, done, inc, err);
	if (rc)
		goto out;

	/* 2. one history row per applied change, in batch order (a re-arm writes none) */
	for (size_t i = 0; i < n; i++) {
		struct store_param *q = p + nh * 7;
		if (!done[i] || change_is_rearm(&c[i]))
			continue;
		q[0] = sp_int(c[i].alert_id);
		q[1] = sp_int(now);
		q[2] = sp_text(c[i].actor);
		q[3] = sp_text(c[i].event);
		q[4] = sp_text(c[i].reason);
		q[5] = sp_int(c[i].from);
		q[6] = sp_int(c[i].to);
		d[nd++] = inc_delta_of(inc[i], &c[i]);
		nh++;
	}
	rc = st->be->sql->batch(st, st->be->sql->history_insert, p, 7, nh, NULL, err);
	if (rc)
		goto out;

	/*
	 * 3. the touched incidents, each once, in id order (a stable lock order). An incident after
	 * state changes of its alerts: open_alerts moves by the changes' delta (each applied
	 * compare-and-set moves exactly one alert, and the incident row lock orders concurrent
	 * writers), the level is the highest open state (one probe of alerts_incident_idx), and an
	 * incident left without open alerts is resolved. Counting the incident's alerts instead
	 * would cost its size per call: quadratic over a large incident worked through in batches.
	 */
	if (nd) {
		size_t u = 0;
		qsort(d, nd, sizeof(*d), cmp_inc_delta);
		for (size_t i = 0; i < nd; i++) {
			if (u && d[u - 1].id == d[i].id)
				inc_delta_merge(&d[u - 1], &d[i]);
			else
				d[u++] = d[i];
		}
		nd = u;
	}
	for (size_t i = 0; i < nd; i++) {
		struct store_param *q = p + i * 6;
		q[0] = sp_int(d[i].id);
		q[1] = sp_int(now);
		q[2] = sp_int(d[i].delta);
		q[3] = sp_int(d[i].resolved);
		q[4] = sp_int(d[i].abandoned);
		q[5] = sp_int(d[i].self_resolved);
	}
	rc = st->be->sql->batch(st, st->be->sql->incident_delta, p, 6, nd, NULL, err);
	if (!rc && applied)
		memcpy(applied, done, n * sizeof(*applied));
out:
	free(d);
	free(p);
	free(inc);
	free(done);
	return store__leave(st, rc, err);
}

int store_alert_event_add(struct store *st, int64_t alert_id, int64_t at, const char *event,
                          const char *actor, const char *reason, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[5] = {sp_int(alert_id), sp_int(at), sp_text(actor), sp_text(event),
	                           sp_text(reason)};
	int rc;
	if (!event || !actor || at == TIME_NULL)
		return sw_err_set(err, "store: an event needs a time, a name and an actor"),
		       STORE_ERROR;
	rc = store__exec(st,
	                 "INSERT INTO alert_history (alert_id, at, actor, event, reason)"
	                 " SELECT id, CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS TEXT),"
	                 " CAST($5 AS TEXT) FROM alerts WHERE id = $1 RETURNING id",
	                 p, 5, &rows, NULL, err);
	if (!rc && !rows.nrows)
		rc = store__err(err, STORE_ENOTFOUND, "alert %" PRId64 " not found", alert_id);
	store_rows_release(&rows);
	return rc;
}

int store_alert_ack(struct store *st, int64_t id, int64_t now, const char *by, const char *note,
                    struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[7] = {sp_int(id), sp_text(by), sp_int(now)};
	int rc;
	if (!by || !*by)
		return sw_err_set(err, "store: an ack needs who acked"), STORE_ERROR;
	rc = store__enter(st, err);
	if (rc)
		return rc;
	rc = store__exec(st,
	                 "UPDATE alerts SET acked_by = $2, acked_at = $3, updated_at = $3"
	                 " WHERE id = $1 AND state < " SQL_ALERT_RESOLVED
	                 " AND acked_by IS NULL RETURNING id",
	                 p, 3, &rows, NULL, err);
	if (rc)
		goto out;
	if (!rows.nrows) {
		store_rows_release(&rows);
		rc = store__exec(st, "SELECT state, acked_by FROM alerts WHERE id = $1", p, 1,
		                 &rows, NULL, err);
		if (rc)
			goto out;
		if (!rows.nrows)
			rc = store__err(err, STORE_ENOTFOUND, "alert %" PRId64 " not found", id);
		else if (store_rows_int(&rows, 0, 0, 0) >= ALERT_RESOLVED)
			rc = store__err(err, STORE_ECONFLICT, "alert %" PRId64 " is closed", id);
		else
			rc = store__err(err, STORE_ECONFLICT,
			                "alert %" PRId64 " is already acked by '%s'", id,
			                store_rows_text(&rows, 0, 1));
		goto out;
	}
	p[1] = sp_int(now);
	p[2] = sp_text(by);
	p[3] = sp_text("acked");
	p[4] = sp_text(note);
	p[5] = sp_text(NULL);
	p[6] = sp_text(NULL);
	rc = store__exec(st, STORE_HISTORY_INSERT, p, 7, NULL, NULL, err);
out:
	store_rows_release(&rows);
	return store__leave(st, rc, err);
}

/* ---- reading alerts -------------------------------------------------------------------- */

int store_alert_get(struct store *st, int64_t id, struct alert *out, struct alert_event **hist,
                    size_t *nhist, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_int(id)};
	int rc;
	memset(out, 0, sizeof(*out));
	if (hist) {
		*hist = NULL;
		*nhist = 0;
	}
	rc = store__exec(st, "SELECT " ALERT_COLS " FROM alerts a WHERE a.id = $1", p, 1, &rows,
	                 NULL, err);
	if (!rc && !rows.nrows)
		rc = store__err(err, STORE_ENOTFOUND, "alert %" PRId64 " not found", id);
	if (rc)
		goto out;
	alert_from_row(&rows, 0, out);
	if (!hist)
		goto out;
	store_rows_release(&rows);
	rc = store__exec(st,
	                 "SELECT id, alert_id, at, actor, event, reason, from_state, to_state"
	                 " FROM alert_history WHERE alert_id = $1 ORDER BY id",
	                 p, 1, &rows, NULL, err);
	if (rc) {
		alert_release(out);
		goto out;
	}
	*hist = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**hist));
	for (size_t i = 0; i < rows.nrows; i++) {
		struct alert_event *e = &(*hist)[i];
		e->id = store_rows_int(&rows, i, 0, 0);
		e->alert_id = store_rows_int(&rows, i, 1, 0);
		e->at = store_rows_int(&rows, i, 2, TIME_NULL);
		e->actor = store_rows_dup(&rows, i, 3);
		e->event = store_rows_dup(&rows, i, 4);
		e->reason = store_rows_dup(&rows, i, 5);
		e->from_state = (int)store_rows_int(&rows, i, 6, -1);
		e->to_state = (int)store_rows_int(&rows, i, 7, -1);
	}
	*nhist = rows.nrows;
out:
	store_rows_release(&rows);
	return rc;
}

/* Append " AND <col> = $k" for a text filter. */
static void filter_text(struct strbuf *sql, struct store_param *p, size_t *np, const char *col,
                        const char *val)
{
	if (!val)
		return;
	p[*np] = sp_text(val);
	strbuf_addf(sql, " AND %s = $%zu", col, ++*np);
}

/*
 * An alert list reads one index in id order, or a bounded set. Open alerts (a bounded set)
 * and closed ones (all ever stored) are indexed apart: alerts_closed_state_idx,
 * alerts_closed_user_idx and alerts_closed_key_idx hold closed alerts only, so a state
 * filter adds the side it is on ("state < 4" or "state >= 4", spelled as the partial
 * indexes so both planners may use them), and a user_id or instance filter over both sides
 * is two branches, each newest first: the open alerts (from alerts_open_key_idx for an
 * instance, else from an index of the open alerts) and the closed ones (along
 * alerts_closed_user_idx or alerts_closed_key_idx), merged. Open alerts selected by
 * anything but a step are sorted (LIST_ORDER_OPEN). docs/internals/store.md has the plans.
 */
static void list_where(const struct alert_filter *f, const char *side, struct strbuf *sql,
                       struct store_param *p, size_t *np)
{
	strbuf_addstr(sql, "SELECT " STORE_ALERT_COLS " FROM alerts a WHERE 1 = 1");
	if (f->state >= 0) {
		p[*np] = sp_int(f->state);
		strbuf_addf(sql, " AND a.state = $%zu", ++*np);
	}
	if (side)
		strbuf_addf(sql, " AND a.state %s", side);
	filter_text(sql, p, np, "a.rule", f->rule);
	filter_text(sql, p, np, "a.workflow", f->workflow);
	filter_text(sql, p, np, "a.step", f->step);
	filter_text(sql, p, np, "a.user_id", f->user_id);
	filter_text(sql, p, np, "a.instance_id", f->instance_id);
	if (f->incident_id) {
		p[*np] = sp_int(f->incident_id);
		strbuf_addf(sql, " AND a.incident_id = $%zu", ++*np);
	}
	if (f->before_id) {
		p[*np] = sp_int(f->before_id);
		strbuf_addf(sql, " AND a.id < $%zu", ++*np);
	}
}

#define LIST_OPEN   "< " SQL_ALERT_RESOLVED
#define LIST_CLOSED ">= " SQL_ALERT_RESOLVED
/* The order of a list of open alerts found by something else than id: "+a.id" is not the
 * primary key to either planner, so neither walks every newer alert in id order looking for
 * the few that match; both read the open alerts from a partial index and sort them. */
#define LIST_ORDER_OPEN "+a.id"

size_t store__alerts_list_sql(const struct alert_filter *f, size_t limit, struct strbuf *sql,
                              struct store_param *p)
{
	size_t np = 0, nlimit;
	bool open = f->open_only || (f->state >= 0 && f->state < ALERT_RESOLVED);
	bool closed = f->state >= ALERT_RESOLVED;

	if (open || closed || !(f->user_id || (f->workflow && f->instance_id))) {
		/* open alerts in id order: all of them (alerts_pkey backward, the dashboard's
		 * list) or those of a step (alerts_open_step_idx); any other filter of open alerts
		 * sorts the bounded set it selects */
		bool by_id = !open || (f->state < 0 && !f->user_id && !f->rule && !f->instance_id &&
		                       !f->incident_id && !f->workflow == !f->step);
		list_where(f, open ? LIST_OPEN : closed ? LIST_CLOSED : NULL, sql, p, &np);
		p[np] = sp_int((int64_t)limit);
		strbuf_addf(sql, " ORDER BY %s DESC LIMIT $%zu", by_id ? "a.id" : LIST_ORDER_OPEN,
		            ++np);
		return np;
	}
	/* the same parameters in both branches ($k is one value wherever it appears) */
	strbuf_addstr(sql, "SELECT * FROM (");
	list_where(f, LIST_OPEN, sql, p, &np);
	nlimit = np + 1;
	p[np++] = sp_int((int64_t)limit);
	strbuf_addf(sql,
	            " ORDER BY " LIST_ORDER_OPEN " DESC LIMIT $%zu) o UNION ALL SELECT * FROM (",
	            nlimit);
	np = 0;
	list_where(f, LIST_CLOSED, sql, p, &np);
	np++;
	strbuf_addf(sql, " ORDER BY a.id DESC LIMIT $%zu) c ORDER BY id DESC LIMIT $%zu", nlimit,
	            nlimit);
	return np;
}

int store_alerts_list(struct store *st, const struct alert_filter *f, struct alert **out, size_t *n,
                      struct sw_err *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct store_param p[10];
	size_t np;
	int rc;

	*out = NULL;
	*n = 0;
	if (check_limit(f->limit, err))
		return STORE_ERROR;
	np = store__alerts_list_sql(f, f->limit, &sql, p);
	rc = alerts_query(st, sql.buf, p, np, out, n, err);
	strbuf_release(&sql);
	return rc;
}

void alert_dues_free(struct alert_due *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].workflow);
		free(v[i].step);
		free(v[i].error);
	}
	free(v);
}

struct dues_scan {
	struct alert_due *v;
	size_t n, alloc;
};

static int dues_scan_row(void *arg, const struct store_cell *c, size_t ncols)
{
	struct dues_scan *sc = arg;
	struct alert_due *d;
	if (ncols != 6)
		BUG("due query of %zu columns", ncols);
	ALLOC_GROW(sc->v, sc->n + 1, sc->alloc);
	d = &sc->v[sc->n++];
	store__alert_due_from_cells(c, d);
	return 0;
}

/* Six columns, not the whole alert: a batch of 10,000 due alerts is what the escalation
 * plans and silences read, decoded straight from the backend's buffer. */
int store_alerts_due(struct store *st, int64_t now, size_t limit, struct alert_due **out, size_t *n,
                     struct sw_err *err)
{
	struct store_param p[2] = {sp_int(now), sp_int((int64_t)limit)};
	struct dues_scan sc = {0};
	int rc;
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	rc = store__query(st,
	                  "SELECT a.id, a.state, a.occurred_at, a.workflow, a.step, a.error"
	                  " FROM alerts a WHERE a.state < " SQL_ALERT_RESOLVED
	                  " AND a.next_escalation_at <= $1"
	                  " ORDER BY a.next_escalation_at, a.id LIMIT $2",
	                  p, 2, dues_scan_row, &sc, err);
	if (rc)
		alert_dues_free(sc.v, sc.n);
	else
		*out = sc.v ? sc.v : xcalloc(1, sizeof(**out));
	*n = rc ? 0 : sc.n;
	return rc;
}

int store_alerts_next_escalation(struct store *st, int64_t *at, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc = store__exec(
	    st, "SELECT min(next_escalation_at) FROM alerts WHERE state < " SQL_ALERT_RESOLVED,
	    NULL, 0, &rows, NULL, err);
	*at = rc || !rows.nrows ? TIME_NULL : store_rows_int(&rows, 0, 0, TIME_NULL);
	store_rows_release(&rows);
	return rc;
}

int store_alerts_rearm(struct store *st, int64_t now, int64_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_int(now)};
	int rc = store__exec(st,
	                     "UPDATE alerts SET next_escalation_at = $1"
	                     " WHERE state < " SQL_ALERT_P0 " AND state < " SQL_ALERT_RESOLVED
	                     " AND (next_escalation_at IS NULL"
	                     " OR next_escalation_at > $1) RETURNING id",
	                     p, 1, &rows, NULL, err);
	if (n)
		*n = rc ? 0 : (int64_t)rows.nrows;
	store_rows_release(&rows);
	return rc;
}

int store_recovery_mark(struct store *st, const char *workflow, int64_t *mark, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_text(workflow)};
	int rc = store__exec(st, st->be->sql->recovery_mark, p, 1, &rows, NULL, err);
	*mark = 0;
	if (!rc && rows.nrows)
		*mark = store_rows_int(&rows, 0, 0, 0);
	store_rows_release(&rows);
	return rc;
}

int store_alerts_recovered_since(struct store *st, const char *workflow, int64_t since,
                                 size_t limit, struct alert **out, size_t *n, struct sw_err *err)
{
	struct store_param p[3] = {sp_text(workflow), sp_int(since), sp_int((int64_t)limit)};
	*out = NULL;
	*n = 0;
	if (since < 0)
		return store_alerts_recovered(st, workflow, limit, out, n, err);
	if (limit == 0)
		return 0;
	/* from the changed instances (an index) to their open alerts */
	return alerts_query(st,
	                    "SELECT " ALERT_COLS
	                    " FROM instances i JOIN alerts a ON a.workflow = i.workflow"
	                    " AND a.instance_id = i.instance_id"
	                    " WHERE i.workflow = $1 AND i.touched >= $2"
	                    " AND a.state < " SQL_ALERT_RESOLVED " AND a.rule IN (" SQL_RULE_FAILED
	                    ", " SQL_RULE_STUCK ")"
	                    " AND (i.max_step_index > a.step_index"
	                    " OR EXISTS (SELECT 1 FROM instance_steps s WHERE s.workflow = "
	                    "a.workflow"
	                    " AND s.instance_id = a.instance_id AND s.step = a.step"
	                    " AND (s.status = " SQL_STEP_SUCCESS " OR (a.rule = " SQL_RULE_STUCK
	                    " AND s.status <> " SQL_STEP_IN_PROGRESS "))))"
	                    " ORDER BY a.id LIMIT $3",
	                    p, 3, out, n, err);
}

/* The WHERE is core/lifecycle.c's lifecycle_alert_recovered (as RECOVERED_COND below). */
int store_alerts_recovered(struct store *st, const char *workflow, size_t limit, struct alert **out,
                           size_t *n, struct sw_err *err)
{
	struct store_param p[2] = {sp_text(workflow), sp_int((int64_t)limit)};
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	return alerts_query(st,
	                    "SELECT " ALERT_COLS " FROM alerts a"
	                    " WHERE a.workflow = $1"
	                    " AND a.state < " SQL_ALERT_RESOLVED " AND a.rule IN (" SQL_RULE_FAILED
	                    ", " SQL_RULE_STUCK ")"
	                    " AND (EXISTS (SELECT 1 FROM instance_steps s WHERE s.workflow = "
	                    "a.workflow"
	                    " AND s.instance_id = a.instance_id AND s.step = a.step"
	                    " AND (s.status = " SQL_STEP_SUCCESS " OR (a.rule = " SQL_RULE_STUCK
	                    " AND s.status <> " SQL_STEP_IN_PROGRESS ")))"
	                    " OR EXISTS (SELECT 1 FROM instances i WHERE i.workflow = a.workflow"
	                    " AND i.instance_id = a.instance_id AND i.max_step_index > "
	                    "a.step_index))"
	                    " ORDER BY a.id LIMIT $2",
	                    p, 2, out, n, err);
}

/* The recovery test of an open alert a (alias a) of instance row i (alias i, or a subquery
 * over instances). */
#define RECOVERED_COND                                                                             \
	"a.state < " SQL_ALERT_RESOLVED " AND a.rule IN (" SQL_RULE_FAILED ", " SQL_RULE_STUCK ")" \
	" AND (i.max_step_index > a.step_index"                                                    \
	" OR EXISTS (SELECT 1 FROM instance_steps s WHERE s.workflow = a.workflow"                 \
	" AND s.instance_id = a.instance_id AND s.step = a.step"                                   \
	" AND (s.status = " SQL_STEP_SUCCESS " OR (a.rule = " SQL_RULE_STUCK                       \
	" AND s.status <> " SQL_STEP_IN_PROGRESS "))))"

void recovery_cursor_release(struct recovery_cursor *c)
{
	free(c->instance_id);
	free(c->step);
	memset(c, 0, sizeof(*c));
}

/* since < 0: the open alerts after (cur->step, cur->after_id), in (step, id) order along
 * alerts_open_step_idx (workflow, step, id), at most limit. */
static int recovered_sweep_page(struct store *st, const char *workflow, struct recovery_cursor *cur,
                                size_t limit, struct alert **out, size_t *n, struct sw_err *err)
{
	struct store_param p[4];
	int rc;
	if (!cur->step)
		cur->step = xstrdup(""); /* before every (step, id) */
	p[0] = sp_text(workflow);
	p[1] = sp_text(cur->step);
	p[2] = sp_int(cur->after_id);
	p[3] = sp_int((int64_t)limit);
	rc = alerts_query(st,
	                  "SELECT " ALERT_COLS " FROM alerts a LEFT JOIN instances i"
	                  " ON i.workflow = a.workflow AND i.instance_id = a.instance_id"
	                  " WHERE a.workflow = $1 AND (a.step, a.id) > ($2, $3) AND " RECOVERED_COND
	                  " ORDER BY a.step, a.id LIMIT $4",
	                  p, 4, out, n, err);
	if (rc)
		return rc;
	if (*n) {
		free(cur->step);
		cur->step = xstrdup((*out)[*n - 1].step);
		cur->after_id = (*out)[*n - 1].id;
	}
	cur->done = *n < limit;
	return 0;
}

int store_alerts_recovered_page(struct store *st, const char *workflow, int64_t since,
                                struct recovery_cursor *cur, size_t limit, struct alert **out,
                                size_t *n, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[5];
	size_t ninst = 0, na = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (cur->done || limit == 0) {
		cur->done = true;
		return 0;
	}
	if (since < 0)
		return recovered_sweep_page(st, workflow, cur, limit, out, n, err);
	if (!cur->instance_id) {
		/* before the first instance changed since: (since - 1, "") */
		cur->touched = since - 1;
		cur->instance_id = xstrdup("");
	}
	p[0] = sp_text(workflow);
	p[1] = sp_int(since);
	p[2] = sp_int(cur->touched);
	p[3] = sp_text(cur->instance_id);
	p[4] = sp_int((int64_t)limit);
	/* a page of changed instances, in (touched, instance_id) order along
	 * instances_touched_idx, then their recovered open alerts */
	rc = store__exec(st,
	                 "SELECT " ALERT_COLS ", i.touched, i.instance_id FROM"
	                 " (SELECT instance_id, touched, max_step_index FROM instances"
	                 " WHERE workflow = $1 AND touched >= $2"
	                 " AND (touched, instance_id) > ($3, $4)"
	                 " ORDER BY touched, instance_id LIMIT $5) i"
	                 " LEFT JOIN alerts a ON a.workflow = $1 AND a.instance_id = i.instance_id"
	                 " AND " RECOVERED_COND " ORDER BY i.touched, i.instance_id, a.id",
	                 p, 5, &rows, NULL, err);
	if (rc)
		goto out;
	*out = xcalloc(rows.nrows + 1, sizeof(**out));
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *iid = store_rows_text(&rows, r, STORE_ALERT_NCOLS + 1);
		int64_t touched = store_rows_int(&rows, r, STORE_ALERT_NCOLS, 0);
		if (!iid)
			continue;
		if (r == 0 || touched != cur->touched || strcmp(iid, cur->instance_id)) {
			ninst++;
			free(cur->instance_id);
			cur->instance_id = xstrdup(iid);
			cur->touched = touched;
		}
		if (store_rows_text(&rows, r, 0))
			alert_from_row(&rows, r, &(*out)[na++]);
	}
	*n = na;
	cur->done = ninst < limit;
out:
	store_rows_release(&rows);
	return rc;
}

/* The open alerts of a rule are read from an index of the open alerts and sorted
 * (LIST_ORDER_OPEN, also in the cursor's test: SQLite would read every alert above after_id
 * along the rowid). */
int store_alerts_open_by_rule(struct store *st, const char *rule, int64_t after_id, size_t limit,
                              struct alert **out, size_t *n, struct sw_err *err)
{
	struct store_param p[3] = {sp_text(rule), sp_int(after_id), sp_int((int64_t)limit)};
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	return alerts_query(st,
	                    "SELECT " ALERT_COLS " FROM alerts a"
	                    " WHERE a.rule = $1 AND a.state < " SQL_ALERT_RESOLVED
	                    " AND " LIST_ORDER_OPEN " > $2 ORDER BY " LIST_ORDER_OPEN " LIMIT $3",
	                    p, 3, out, n, err);
}

/* The WHERE is core/lifecycle.c's lifecycle_alert_abandoned, encoded to select by index: the
 * open alerts from an index of the open alerts, sorted (LIST_ORDER_OPEN). */
int store_alerts_abandonable(struct store *st, int64_t now, size_t limit, struct alert **out,
                             size_t *n, struct sw_err *err)
{
	struct store_param p[2] = {sp_int(now), sp_int((int64_t)limit)};
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	return alerts_query(st,
	                    "SELECT " ALERT_COLS " FROM alerts a"
	                    " LEFT JOIN instances i ON i.workflow = a.workflow"
	                    " AND i.instance_id = a.instance_id"
	                    " WHERE a.state < " SQL_ALERT_RESOLVED " AND a.abandon_after_ms > 0"
	                    " AND COALESCE(i.last_progress_at, a.occurred_at) + a.abandon_after_ms"
	                    " <= $1 ORDER BY " LIST_ORDER_OPEN " LIMIT $2",
	                    p, 2, out, n, err);
}

/* ---- incidents ------------------------------------------------------------------------- */

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

int store_incident_get(struct store *st, int64_t id, struct incident *out, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[1] = {sp_int(id)};
	int rc = store__exec(st, "SELECT " INCIDENT_COLS " FROM incidents i WHERE i.id = $1", p, 1,
	                     &rows, NULL, err);
	memset(out, 0, sizeof(*out));
	if (!rc && !rows.nrows)
		rc = store__err(err, STORE_ENOTFOUND, "incident %" PRId64 " not found", id);
	if (!rc)
		incident_from_row(&rows, 0, out);
	store_rows_release(&rows);
	return rc;
}

int store_incidents_list(struct store *st, const struct incident_filter *f, struct incident **out,
                         size_t *n, struct sw_err *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[3];
	size_t np = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (check_limit(f->limit, err))
		return STORE_ERROR;
	strbuf_addstr(&sql, "SELECT " INCIDENT_COLS " FROM incidents i WHERE 1 = 1");
	if (f->open_only)
		strbuf_addstr(&sql, " AND i.state = " SQL_INCIDENT_OPEN);
	filter_text(&sql, p, &np, "i.workflow", f->workflow);
	if (f->before_id) {
		p[np] = sp_int(f->before_id);
		strbuf_addf(&sql, " AND i.id < $%zu", ++np);
	}
	p[np] = sp_int((int64_t)f->limit);
	strbuf_addf(&sql, " ORDER BY i.id DESC LIMIT $%zu", ++np);
	rc = store__exec(st, sql.buf, p, np, &rows, NULL, err);
	if (!rc) {
		*out = xcalloc(rows.nrows ? rows.nrows : 1, sizeof(**out));
		for (size_t i = 0; i < rows.nrows; i++)
			incident_from_row(&rows, i, &(*out)[i]);
		*n = rows.nrows;
	}
	store_rows_release(&rows);
	strbuf_release(&sql);
	return rc;
}

/* ---- counts ---------------------------------------------------------------------------- */

/*
 * The open alerts are counted from the partial indexes that hold them (a bounded set); the
 * closed ones, every alert ever closed, from the counts their incidents keep as they close
 * (0010_closed_counts.sql): a scan of incidents, never of the history of alerts.
 */
int store_alert_counts(struct store *st, struct alert_counts *out, struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	int rc;
	memset(out, 0, sizeof(*out));
	rc = store__exec(st,
	                 "SELECT state, count(*) FROM alerts WHERE state < " SQL_ALERT_RESOLVED
	                 " GROUP BY state",
	                 NULL, 0, &rows, NULL, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < rows.nrows; i++) {
		int64_t s = store_rows_int(&rows, i, 0, -1);
		if (s >= 0 && s < ALERT_STATE_COUNT)
			out->by_state[s] = store_rows_int(&rows, i, 1, 0);
	}
	store_rows_release(&rows);
	rc = store__exec(
	    st,
	    "SELECT COALESCE(SUM(resolved_alerts), 0), COALESCE(SUM(abandoned_alerts), 0),"
	    " COALESCE(SUM(self_resolved_alerts), 0),"
	    " COALESCE(SUM(CASE WHEN state = " SQL_INCIDENT_OPEN " THEN 1 ELSE 0 END), 0),"
	    " (SELECT count(DISTINCT user_id) FROM alerts WHERE state < " SQL_ALERT_RESOLVED ")"
	    " FROM incidents",
	    NULL, 0, &rows, NULL, err);
	if (rc)
		goto out;
	out->by_state[ALERT_RESOLVED] = store_rows_int(&rows, 0, 0, 0);
	out->by_state[ALERT_ABANDONED] = store_rows_int(&rows, 0, 1, 0);
	out->resolved_by_resolver = store_rows_int(&rows, 0, 2, 0);
	out->open_incidents = store_rows_int(&rows, 0, 3, 0);
	out->affected_users_open = store_rows_int(&rows, 0, 4, 0);
out:
	store_rows_release(&rows);
	return rc;
}

int store_rule_flaps(struct store *st, const char *workflow, const char *rule, int64_t *flaps,
                     struct sw_err *err)
{
	struct store_rows rows = STORE_ROWS_INIT;
	struct store_param p[2] = {sp_text(workflow), sp_text(rule)};
	int rc = store__exec(st, "SELECT flaps FROM rule_flaps WHERE workflow = $1 AND rule = $2",
	                     p, 2, &rows, NULL, err);
	*flaps = 0;
	if (!rc && rows.nrows)
		*flaps = store_rows_int(&rows, 0, 0, 0);
	store_rows_release(&rows);
	return rc;
}
