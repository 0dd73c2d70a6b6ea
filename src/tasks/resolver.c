/*
 * resolver.c - the resolve task: close alerts whose workflow recovered.
 *
 * Step-record rules ("failed", "stuck") resolve from the stored step states, which the
 * watcher keeps current: the step succeeded (for "stuck": left IN_PROGRESS), or the
 * instance reached a later step (the rule is core/lifecycle.c's lifecycle_alert_recovered;
 * the store selects by it, in SQL, through an index). Custom watchers resolve when their `resolve`
 * query, run with :instance_id bound, returns a row. A query that fails resolves nothing.
 *
 * DESIGN: step-record rules are checked incrementally. Recovery shows only through an
 * ingest, and every ingest marks the instances it writes (instances.touched), so a run
 * checks only the open alerts of instances changed since the mark taken before the last
 * successful run (store_recovery_mark: a bound that also covers writes not yet committed),
 * page by page in the order of an index, so each page costs its own size.
 * The first run, and one every FULL_SWEEP_MS, checks every open alert: a safety net for
 * anything that changes an instance without an ingest.
 *
 * In serve and worker each custom watcher's resolve query is a task of its own
 * (resolve:<watcher>, task__resolve_custom), so a slow source delays only its watcher.
 */
#include "util/common.h"
#include "util/log.h"
#include "tasks/tasks-int.h"
#include "store/store_alerts.h"
#include <ctype.h>

static int resolve_batch(struct task *t, int64_t now, struct alert *v, size_t n,
                         const bool *recovered, const char *reason, struct sw_err *err)
{
	struct alert_change *ch = xcalloc(n + 1, sizeof(*ch));
	bool *applied = xcalloc(n + 1, sizeof(*applied));
	size_t k = 0;
	int rc;
	for (size_t i = 0; i < n; i++) {
		if ((recovered && !recovered[i]) ||
		    !alert_transition_allowed(v[i].state, ALERT_RESOLVED))
			continue;
		ch[k].alert_id = v[i].id;
		ch[k].from = v[i].state;
		ch[k].to = ALERT_RESOLVED;
		ch[k].event = "resolved";
		ch[k].actor = ALERT_ACTOR_RESOLVER;
		ch[k].reason = reason;
		ch[k].next_escalation_at = TIME_NULL;
		ch[k].resolved_by = ALERT_ACTOR_RESOLVER;
		k++;
	}
	rc = k ? store_alerts_change(t->store, now, ch, k, applied, err) : 0;
	for (size_t i = 0; rc == 0 && i < k; i++)
		t->stats.alerts_changed += applied[i];
	free(ch);
	free(applied);
	return rc;
}

#define FULL_SWEEP_MS (5 * 60000)

/* since: a change mark (only instances changed since), or -1 (every open alert). The
 * candidates are read page by page along an index (store_alerts_recovered_page), so a run
 * costs the number of changed instances, however many alerts a page resolves. */
static int resolve_steps(struct task *t, int64_t now, const struct sw_workflow *wf, int64_t since,
                         struct sw_err *err)
{
	struct recovery_cursor cur = {0};
	size_t limit = task__batch(t);
	int rc = 0;
	while (!rc && !cur.done) {
		struct alert *v = NULL;
		size_t n = 0;
		rc = store_alerts_recovered_page(t->store, wf->name, since, &cur, limit, &v, &n,
		                                 err);
		if (!rc)
			rc = resolve_batch(t, now, v, n, NULL, "workflow recovered", err);
		alerts_free(v, n);
	}
	recovery_cursor_release(&cur);
	return rc < 0 ? -1 : 0;
}

static int resolve_custom(struct task *t, int64_t now, const struct sw_watcher *w,
                          struct sw_err *err)
{
	int64_t after = 0;
	size_t limit = task__batch(t);
	int rc = 0;
	size_t len = strlen(w->resolve);
	char *sql;
	t->source_cfg = w->workflow->source;
	if (task__source(t, err) < 0)
		return -1;
	/* one row answers the question: never read more, whatever the query returns */
	while (len && (isspace((unsigned char)w->resolve[len - 1]) || w->resolve[len - 1] == ';'))
		len--;
	sql = xasprintf("SELECT 1 FROM (\n%.*s\n) sw_any LIMIT 1", (int)len, w->resolve);
	for (;;) {
		struct alert *v = NULL;
		size_t n = 0;
		bool *rec;
		if (store_alerts_open_by_rule(t->store, w->name, after, limit, &v, &n, err) < 0)
			return -1;
		rec = xcalloc(n + 1, sizeof(*rec));
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct source_rows rs = {0};
			struct source_param p = {"instance_id", v[i].instance_id, false};
			if (source_query(t->source, sql, &p, 1, &rs, err) < 0)
				rc = -1;
			else
				rec[i] = rs.nrows > 0;
			source_rows_release(&rs);
		}
		/* resolve what was checked even when a later query failed */
		if (resolve_batch(t, now, v, n, rec, "resolve query returned a row", err) < 0)
			rc = -1;
		after = n ? v[n - 1].id : after;
		alerts_free(v, n);
		free(rec);
		if (rc < 0 || n < limit)
			break;
	}
	free(sql);
	return rc;
}

int task__resolve(struct task *t, int64_t now, struct sw_err *err)
{
	const struct sw_config *cfg = t->env->cfg;
	int rc = 0;
	bool sweep;
	if (task__store(t, now, err) < 0)
		return -1;
	if (!t->marks) {
		t->marks = xcalloc(cfg->n_workflows + 1, sizeof(*t->marks));
		for (size_t i = 0; i < cfg->n_workflows; i++)
			t->marks[i] = -1;
		t->last_sweep = now;
	}
	sweep = now - t->last_sweep >= FULL_SWEEP_MS || now < t->last_sweep;
	for (size_t i = 0; i < cfg->n_workflows; i++) {
		const struct sw_workflow *wf = &cfg->workflows[i];
		int64_t mark;
		if (store_recovery_mark(t->store, wf->name, &mark, err) < 0 ||
		    resolve_steps(t, now, wf, sweep ? -1 : t->marks[i], err) < 0)
			return -1;
		t->marks[i] = mark;
	}
	if (sweep)
		t->last_sweep = now;
	for (size_t i = 0; !t->no_custom && i < cfg->n_watchers; i++) {
		const struct sw_watcher *w = &cfg->watchers[i];
		struct sw_err werr = {""};
		char comp[256];
		if (!w->resolve)
			continue;
		/* one connection per source would be better; sources are few, reconnect cheap */
		if (t->source && t->source_cfg != w->workflow->source) {
			source_close(t->source);
			t->source = NULL;
		}
		snprintf(comp, sizeof(comp), "watcher:%s:resolve", w->name);
		if (resolve_custom(t, now, w, &werr) < 0) {
			/* that watcher is unhealthy; the others keep going */
			log_warn("resolve query failed", "watcher=%s error=%s", w->name, werr.msg);
			health_set(t->env->health, comp, false, werr.msg, now);
			rc = 0;
		} else {
			health_set(t->env->health, comp, true, NULL, now);
		}
	}
	return rc;
}

/* One custom watcher's resolve query, as a task of its own (tasks_for_config): a failure
 * is this task's (its component is watcher:<name>:resolve), backed off on its own. */
int task__resolve_custom(struct task *t, int64_t now, struct sw_err *err)
{
	if (task__store(t, now, err) < 0)
		return -1;
	return resolve_custom(t, now, t->watcher, err);
}
