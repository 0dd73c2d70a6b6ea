/*
 * watcher.c - the watch_steps and watch_custom tasks: read the source, open alerts.
 *
 * DESIGN: watch_steps reads `steps_query` in pages past its watermark; every overlap / 4 a
 * run reads the overlap window instead, from fin (the point before which every row is known
 * read since it became visible), and lets newer rows in after a slice of re-reading what it
 * read before (docs/internals/tasks.md, "Reading the window"). Rows are
 * validated one by one (a bad row is rejected and counted, never fatal), sorted by
 * updated_at, and handed to store_steps_ingest, which drops records already seen (same
 * instance, step, status, updated_at) and says which new record became its step's current
 * state. What the batch opens is core's (lifecycle_failures_to_open in core/lifecycle.c):
 * only a FAILED record that is the current state of its step, and the last of its step in
 * this batch, opens a "failed" alert: a failure that already recovered before we
 * saw it is no problem to ticket, and one that is superseded by a newer record is history.
 * Ingest, alert opening and the watermark move commit in one transaction, so a crash
 * anywhere either loses the whole run (it is re-read) or keeps all of it.
 *
 * The watermark is the highest updated_at read (never moving back); its raw text is kept
 * so :since can be bound in the same textual style on SQLite, where timestamps are text or
 * numbers compared as such. Before the first read :since is the epoch: text
 * "1970-01-01T00:00:00Z" on PostgreSQL, the number 0 on SQLite (which sorts below text
 * and numbers alike).
 *
 * Stuck steps (IN_PROGRESS longer than stuck_after) come from the stored step states,
 * not the source, so they need no extra query against the application.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "core/grouping.h"
#include "core/lifecycle.h"
#include "tasks/tasks-int.h"
#include "store/store_watermarks.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "store/store_silences.h"
#include "core/escalation.h"
#include "core/silence.h"
#include "core/step.h"
#include <ctype.h>
#include <jansson.h>

static const char *const required_steps_cols[] = {"instance_id", "user_id", "step", "status",
                                                  "updated_at"};
static const char *const required_detect_cols[] = {"instance_id", "user_id", "occurred_at"};

static int find_col(char *const *cols, size_t ncols, const char *name)
{
	for (size_t i = 0; i < ncols; i++)
		if (!strcmp(cols[i], name))
			return (int)i;
	return -1;
}

int tasks_check_steps_columns(const struct sw_workflow *wf, char *const *cols, size_t ncols,
                              struct sw_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(required_steps_cols); i++)
		if (find_col(cols, ncols, required_steps_cols[i]) < 0)
			return sw_err_set(err, "workflow '%s': steps_query has no column '%s'",
			                  wf->name, required_steps_cols[i]);
	if (find_col(cols, ncols, "started_at") < 0)
		return sw_err_set(err, "workflow '%s': steps_query has no column 'started_at'",
		                  wf->name);
	for (size_t i = 0; i < wf->n_segments; i++)
		if (find_col(cols, ncols, wf->segments[i]) < 0)
			return sw_err_set(err,
			                  "workflow '%s': steps_query has no column '%s' "
			                  "(listed in segments)",
			                  wf->name, wf->segments[i]);
	return 0;
}

int tasks_check_detect_columns(const struct sw_watcher *w, char *const *cols, size_t ncols,
                               struct sw_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(required_detect_cols); i++)
		if (find_col(cols, ncols, required_detect_cols[i]) < 0)
			return sw_err_set(err, "watcher '%s': detect has no column '%s'", w->name,
			                  required_detect_cols[i]);
	return 0;
}

/* ---- label lookup for grouping --------------------------------------------------------- */

static const char *json_lookup(void *ctx, const char *name)
{
	json_t *v = ctx ? json_object_get(ctx, name) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fill key/labels for an alert whose labels are the JSON object text labels_json. */
static void group_for(const char *workflow, const char *step, const char *rule,
                      const struct sw_step_policy *pol, const char *error, const char *labels_json,
                      struct strbuf *key, struct strbuf *ilabels)
{
	json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
	grouping_key(workflow, step, rule, (const char *const *)pol->group_by, pol->n_group_by,
	             error, json_lookup, labels, key, ilabels);
	json_decref(labels);
}

/* Who an alert is about, and by which rule. */
struct alert_subject {
	const char *rule, *actor; /* actor: NULL is "watcher" */
	const char *step;
	int step_index;
	const char *instance_id, *user_id, *error, *labels_json;
};

/* The one builder of the alerts the watchers open: subject s of workflow wf, opened as core
 * decided (o), grouped by the step's policy into an incident whose key and labels go into
 * key and ilabels (initialised here, released by the caller). */
static void alert_build(struct alert_new *a, const struct sw_workflow *wf,
                        const struct alert_subject *s, const struct sw_step_policy *pol,
                        const struct alert_opening *o, struct strbuf *key, struct strbuf *ilabels)
{
	strbuf_init(key, 0);
	strbuf_init(ilabels, 0);
	group_for(wf->name, s->step, s->rule, pol, s->error, s->labels_json, key, ilabels);
	memset(a, 0, sizeof(*a));
	a->rule = s->rule;
	a->actor = s->actor;
	a->workflow = wf->name;
	a->step = s->step;
	a->step_index = s->step_index;
	a->instance_id = s->instance_id;
	a->user_id = s->user_id;
	a->error = s->error;
	a->labels_json = s->labels_json;
	a->group_key = key->buf;
	a->incident_labels_json = ilabels->buf;
	a->occurred_at = o->occurred_at;
	a->next_escalation_at = o->next_escalation_at;
	a->abandon_after_ms = pol->abandon_after_ms;
}

/* Alerts detected late open at the level their SLA has reached: core's escalation_plan at
 * opening, as the validator would decide at its first look (a pause_escalation silence
 * keeps them INITIATED, and the validator takes them from there), each level passed its own
 * history row. One write per alert instead of an insert and an update per level. rbuf: three
 * reasons per alert, kept until the alerts are stored. */
static int open_at_level(struct store *st, const struct sw_workflow *wf, struct alert_new *an,
                         size_t n, int64_t now, char (*rbuf)[3][64], struct sw_err *err)
{
	struct silence *sil = NULL;
	size_t nsil = 0;
	if (!n)
		return 0;
	if (store_silences_active(st, now, &sil, &nsil, err) < 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		struct alert_new *a = &an[k];
		const struct alert_sla *sla = &wf->steps[a->step_index].policy.sla;
		struct escalation_plan plan;
		escalation_plan(ALERT_INITIATED, a->occurred_at, sla,
		                silence_pause_until(sil, nsil, a->workflow, a->step, a->error, now),
		                now, &plan);
		if (plan.kind != ESCALATION_ESCALATE || plan.n <= 0)
			continue;
		a->nlevels = plan.n;
		for (int l = 0; l < plan.n; l++) {
			a->levels[l].from = plan.levels[l].from;
			a->levels[l].to = plan.levels[l].to;
			a->levels[l].reason = escalation_reason(plan.levels[l].to, sla, rbuf[k][l],
			                                        sizeof(rbuf[k][l]));
		}
		a->next_escalation_at = plan.levels[plan.n - 1].next_at;
	}
	silences_free(sil, nsil);
	return 0;
}

/* What core/lifecycle.c needs of a step's policy. */
static struct step_rules step_rules_of(const struct sw_step_policy *pol)
{
	struct step_rules r;
	r.sla = pol->sla;
	r.stuck_after_ms = pol->stuck_after_ms;
	r.abandon_after_ms = pol->abandon_after_ms;
	return r;
}

/* ---- ingest: shared by the watcher and push ingest ------------------------------------- */

struct ranked {
	struct step_record r;
	size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->r.updated_at != y->r.updated_at)
		return x->r.updated_at < y->r.updated_at ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Sort by updated_at, keeping the input order among equal times (qsort is not stable). */
static void sort_stable(struct step_record *recs, size_t n)
{
	struct ranked *tmp = xcalloc(n + 1, sizeof(*tmp));
	for (size_t i = 0; i < n; i++) {
		tmp[i].r = recs[i];
		tmp[i].i = i;
	}
	qsort(tmp, n, sizeof(*tmp), cmp_ranked);
	for (size_t i = 0; i < n; i++)
		recs[i] = tmp[i].r;
	free(tmp);
}

static void strbuf_release_cb(void *sb)
{
	strbuf_release(sb);
}

int tasks_ingest(struct store *st, struct arena *a, const struct sw_workflow *wf,
                 struct step_record *recs, size_t n, int64_t now, const char *actor,
                 size_t *applied, size_t *opened, struct sw_err *err)
{
	bool *current;
	struct step_rules *rules;
	struct alert_opening *open;
	struct alert_new *an;
	struct alert_opened *ao;
	struct strbuf *keys, *ilabels;
	char(*rbuf)[3][64];
	size_t nan;

	if (opened)
		*opened = 0;
	if (applied)
		*applied = 0;
	if (!n)
		return 0;
	sort_stable(recs, n);
	current = arena_calloc(a, n, sizeof(*current));
	if (store_steps_ingest(st, wf->name, (int)wf->n_steps, recs, n, current, err) < 0)
		return -1;
	for (size_t i = 0; applied && i < n; i++)
		*applied += current[i];
	/* what the batch opens is core's decision (lifecycle_failures_to_open) */
	rules = arena_calloc(a, wf->n_steps + 1, sizeof(*rules));
	for (size_t s = 0; s < wf->n_steps; s++)
		rules[s] = step_rules_of(&wf->steps[s].policy);
	open = arena_calloc(a, n, sizeof(*open));
	nan = lifecycle_failures_to_open(recs, current, n, rules, wf->n_steps, now, open);
	if (!nan)
		return 0;
	an = arena_calloc(a, nan, sizeof(*an));
	keys = arena_calloc(a, nan, sizeof(*keys));
	ilabels = arena_calloc(a, nan, sizeof(*ilabels));
	for (size_t k = 0; k < nan; k++) {
		const struct step_record *r = &recs[open[k].rec];
		const struct alert_subject subj = {
		    LIFECYCLE_RULE_FAILED, actor,      r->step,  r->step_index,
		    r->instance_id,        r->user_id, r->error, r->labels_json,
		};
		alert_build(&an[k], wf, &subj, &wf->steps[r->step_index].policy, &open[k], &keys[k],
		            &ilabels[k]);
		arena_defer(a, strbuf_release_cb, &keys[k]);
		arena_defer(a, strbuf_release_cb, &ilabels[k]);
	}
	rbuf = arena_calloc(a, nan, sizeof(*rbuf));
	if (open_at_level(st, wf, an, nan, now, rbuf, err) < 0)
		return -1;
	ao = arena_calloc(a, nan, sizeof(*ao));
	if (store_alerts_open(st, now, an, nan, ao, err) < 0)
		return -1;
	for (size_t i = 0; opened && i < nan; i++)
		*opened += ao[i].created;
	return 0;
}

/* ---- watch_steps ----------------------------------------------------------------------- */

/* A time cell: TIME_NULL when the column is absent or the value null or empty,
 * STEP_TIME_BAD when it is not a timestamp. */
static int64_t cell_time(const struct source_rows *rs, size_t r, int c)
{
	const char *v;
	int64_t ms;
	if (c < 0)
		return TIME_NULL;
	v = source_cell(rs, r, (size_t)c);
	if (!v || !*v)
		return TIME_NULL;
	return time_parse(v, &ms) < 0 ? STEP_TIME_BAD : ms;
}

/* Validate one row into out (labels into *labels, malloc'd); NULL or why it is rejected. */
static const char *parse_row(const struct sw_workflow *wf, const struct source_rows *rs, size_t r,
                             const int *col, const int *segcol, struct step_record *out,
                             char **labels)
{
	struct step_record_fields f = {
	    .instance_id = source_cell(rs, r, (size_t)col[0]),
	    .user_id = source_cell(rs, r, (size_t)col[1]),
	    .step = source_cell(rs, r, (size_t)col[2]),
	    .status = source_cell(rs, r, (size_t)col[3]),
	    .updated_at = cell_time(rs, r, col[4]),
	    .started_at = cell_time(rs, r, col[5]),
	    .finished_at = cell_time(rs, r, col[6]),
	    .error = col[7] >= 0 ? source_cell(rs, r, (size_t)col[7]) : NULL,
	};
	const char *why;
	*labels = NULL;
	f.step_index = f.step ? config_step_index(wf, f.step) : -1;
	if ((why = step_record_check(&f, out)))
		return why;
	if (wf->n_segments) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addch(&sb, '{');
		for (size_t i = 0; i < wf->n_segments; i++) {
			const char *v =
			    segcol[i] >= 0 ? source_cell(rs, r, (size_t)segcol[i]) : NULL;
			if (i)
				strbuf_addch(&sb, ',');
			strbuf_add_json_str(&sb, wf->segments[i]);
			strbuf_addch(&sb, ':');
			if (v)
				strbuf_add_json_str(&sb, v);
			else
				strbuf_addstr(&sb, "null");
		}
		strbuf_addch(&sb, '}');
		*labels = strbuf_detach(&sb, NULL);
		out->labels_json = *labels;
	}
	return NULL;
}

/* The user's query (trailing blanks and semicolons dropped) wrapped to return one page: the
 * rows after :since (strictly, whatever the query's own comparison) in updated_at order, at
 * most limit; or, with tie, the rows whose updated_at is :sw_at, in a total order, from
 * offset on. The newline before ")" ends a trailing line comment of the query. */
/* The tie order: a total order of the rows of one updated_at that the source can also
 * compare against a cursor (as text, NULL as '', whatever the column types). */
#define TIE_KEY                                                                                  \
	"COALESCE(CAST(sw_page.instance_id AS TEXT), ''), COALESCE(CAST(sw_page.step AS TEXT), " \
	"''),"                                                                                   \
	" COALESCE(CAST(sw_page.status AS TEXT), '')"

/* tie: all the rows whose updated_at is :sw_at, in the tie order (read streamed), after the
 * key (:sw_ki, :sw_ks, :sw_kt) unless first (resuming a tie read that failed part way) */
/* The length of a query without its trailing blanks and `;`, to wrap it as a subquery. */
static int query_len(const char *q)
{
	size_t len = strlen(q);
	while (len && (isspace((unsigned char)q[len - 1]) || q[len - 1] == ';'))
		len--;
	return (int)len;
}

static char *page_sql(const char *q, int limit, bool tie, bool first)
{
	int len = query_len(q);
	if (tie)
		return xasprintf(
		    "SELECT * FROM (\n%.*s\n) sw_page WHERE sw_page.updated_at = :sw_at%s"
		    " ORDER BY " TIE_KEY,
		    len, q, first ? "" : " AND (" TIE_KEY ") > (:sw_ki, :sw_ks, :sw_kt)");
	return xasprintf("SELECT * FROM (\n%.*s\n) sw_page WHERE sw_page.updated_at > :since"
	                 " ORDER BY sw_page.updated_at LIMIT %d",
	                 len, q, limit);
}

char *tasks_steps_page_sql(const struct sw_workflow *wf)
{
	return page_sql(wf->steps_query, wf->page_size > 0 ? wf->page_size : 5000, false, true);
}

/* Bind name to a raw updated_at the source returned, typed the way it came (SQLite numbers
 * as numbers), so the source compares it exactly as it compares its own values. */
static void raw_param(const struct task *t, const char *name, const char *raw,
                      struct source_param *p)
{
	source_raw_param(t->source, name, raw, p);
}

/* :since of a run's first page when it is not a read of the window: the watermark's raw
 * text, or before the first read now - backfill (the epoch when backfill is 0). probe: an
 * updated_at of the source (where the source needs one, its style is learned from it), or
 * NULL. The source writes a time in its own notation (source_time_param). */
static void since_param(const struct task *t, int64_t now, int64_t wm, const char *raw,
                        const char *probe, char *buf, size_t n, struct source_param *p)
{
	if (wm == TIME_NULL && t->wf->backfill_ms > 0 &&
	    (probe || !source_time_needs_probe(t->source))) {
		source_time_param(t->source, "since", now - t->wf->backfill_ms, probe, buf, n, p);
	} else if (wm == TIME_NULL || !raw || strlen(raw) >= n) {
		source_time_param(t->source, "since", wm, raw, buf, n, p);
	} else {
		snprintf(buf, n, "%s", raw);
		raw_param(t, "since", buf, p);
	}
}

/* Open "stuck" alerts for steps IN_PROGRESS longer than stuck_after: the store reads the
 * candidates by index (store_steps_stuck), core decides (lifecycle_step_stuck). */
static int open_stuck(struct task *t, int64_t now, struct sw_err *err)
{
	const struct sw_workflow *wf = t->wf;
	for (size_t s = 0; s < wf->n_steps; s++) {
		const struct sw_step_policy *pol = &wf->steps[s].policy;
		const struct step_rules rules = step_rules_of(pol);
		struct instance_step *is = NULL;
		struct alert_new *sa;
		struct alert_opened *so;
		struct strbuf *sk, *sl;
		char(*rb)[3][64];
		size_t ns = 0, na = 0;
		int src = 0;
		if (rules.stuck_after_ms <= 0)
			continue;
		if (store_steps_stuck(
		        t->store, wf->name, wf->steps[s].name, now - rules.stuck_after_ms,
		        rules.abandon_after_ms > 0 ? now - rules.abandon_after_ms : TIME_NULL,
		        task__batch(t), &is, &ns, err) < 0)
			return -1;
		sa = xcalloc(ns + 1, sizeof(*sa));
		so = xcalloc(ns + 1, sizeof(*so));
		sk = xcalloc(ns + 1, sizeof(*sk));
		sl = xcalloc(ns + 1, sizeof(*sl));
		rb = xcalloc(ns + 1, sizeof(*rb));
		for (size_t i = 0; i < ns; i++) {
			struct alert_opening o;
			const struct alert_subject subj = {
			    LIFECYCLE_RULE_STUCK, NULL,          is[i].step, is[i].step_index,
			    is[i].instance_id,    is[i].user_id, NULL,       is[i].labels_json,
			};
			if (!lifecycle_step_stuck(&is[i], &rules, now))
				continue;
			o = lifecycle_opening(lifecycle_stuck_occurred_at(&is[i], &rules), &rules);
			alert_build(&sa[na], wf, &subj, pol, &o, &sk[na], &sl[na]);
			na++;
		}
		if (na)
			src = open_at_level(t->store, wf, sa, na, now, rb, err);
		if (na && !src)
			src = store_alerts_open(t->store, now, sa, na, so, err);
		for (size_t i = 0; i < na; i++) {
			t->stats.alerts_opened += src == 0 && so[i].created;
			strbuf_release(&sk[i]);
			strbuf_release(&sl[i]);
		}
		free(sk);
		free(sl);
		free(rb);
		free(sa);
		free(so);
		instance_steps_free(is, ns);
		if (src < 0)
			return -1;
	}
	return 0;
}

/* The hash of an identity built in sb (then emptied for the next). */
static struct sip128 seen_hash(const struct task *t, struct strbuf *sb)
{
	struct sip128 h = siphash128(t->seen_key, sb->buf, sb->len);
	strbuf_reset(sb);
	return h;
}

/* The seen set is an open-addressing table of the hashes (linear probing, at most two
 * thirds full). {0, 0} marks an empty slot; a key that is {0, 0} (one chance in 2^128) is
 * kept as {0, 1}. The slot is lo ^ hi * mix modulo the size, mix drawn again at every
 * rebuild: a table filled in the slot order of another under the same function would pile
 * its keys into runs that grow at every rebuild. */
static struct sip128 seen_slot_key(struct sip128 k)
{
	if (!k.lo && !k.hi)
		k.lo = 1;
	return k;
}

static bool slot_used(const struct seen_slot *e)
{
	return e->key.lo || e->key.hi;
}

/* The slot of k in a table of n slots: where it is, or the empty slot it would go in. */
static size_t seen_probe(const struct seen_slot *tab, size_t n, uint64_t mix, struct sip128 k)
{
	size_t i = (size_t)((k.lo ^ k.hi * mix) % n);
	while (slot_used(&tab[i]) && (tab[i].key.lo != k.lo || tab[i].key.hi != k.hi))
		i = i + 1 == n ? 0 : i + 1;
	return i;
}

static bool seen_before(const struct task *t, struct sip128 key)
{
	if (!t->seen_slots)
		return false;
	key = seen_slot_key(key);
	return slot_used(&t->seen[seen_probe(t->seen, t->seen_slots, t->seen_mix, key)]);
}

/* Put a key in the table (there is room: at most two thirds full). */
static void seen_put(struct task *t, int64_t ms, struct sip128 key)
{
	struct seen_slot *e;
	key = seen_slot_key(key);
	e = &t->seen[seen_probe(t->seen, t->seen_slots, t->seen_mix, key)];
	if (!slot_used(e)) {
		e->key = key;
		e->ms = ms;
		t->nseen++;
	}
}

/* The keys of one page, added to the table once the page is committed. */
struct seen_next {
	struct seen_key {
		int64_t ms;
		struct sip128 key;
	} * v;
	size_t n, alloc;
};

static void seen_next_release(struct seen_next *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Rebuild the table with room for `more` keys: what is at or before fin is dropped (no read
 * goes back past fin), the live keys are kept, at most cap in all, in twice the slots they
 * need (so rebuilds are rare) but no more than cap needs.
 */
static void seen_rebuild(struct task *t, size_t more, size_t cap)
{
	struct seen_slot *old = t->seen;
	size_t nold = t->seen_slots, live = 0, want;
	struct sip128 draw;

	for (size_t i = 0; i < nold; i++)
		live += slot_used(&old[i]) && old[i].ms > t->fin;
	want = (live + more) * 2;
	if (want > cap)
		want = cap;
	if (want < live)
		live = want;
	t->seen_draws++;
	draw = siphash128(t->seen_key, &t->seen_draws, sizeof(t->seen_draws));
	t->seen_mix = draw.lo | 1;
	t->seen_slots = want + want / 2 + 1; /* at most two thirds full */
	t->seen = xcalloc(t->seen_slots, sizeof(*t->seen));
	t->nseen = 0;
	t->seen_fin = t->fin;
	for (size_t i = 0; i < nold && t->nseen < live; i++)
		if (slot_used(&old[i]) && old[i].ms > t->fin)
			seen_put(t, old[i].ms, old[i].key);
	free(old);
}

/* After a committed page: its keys join the table, those past fin (a later read of the
 * window reads them again). Past the cap, or with no room the next rebuild could make,
 * a key is dropped: its row, read again, goes to the store's dedupe instead. */
static void seen_add(struct task *t, struct seen_next *s, size_t cap)
{
	size_t room = t->seen_slots * 2 / 3 > t->nseen ? t->seen_slots * 2 / 3 - t->nseen : 0;
	size_t more = 0;
	for (size_t j = 0; j < s->n; j++)
		more += s->v[j].ms > t->fin;
	if (more > room && (t->seen_slots < cap + cap / 2 + 1 || t->seen_fin != t->fin)) {
		seen_rebuild(t, more, cap);
		room = t->seen_slots * 2 / 3 > t->nseen ? t->seen_slots * 2 / 3 - t->nseen : 0;
	}
	for (size_t j = 0; j < s->n && room; j++)
		if (s->v[j].ms > t->fin) {
			size_t before = t->nseen;
			seen_put(t, s->v[j].ms, s->v[j].key);
			room -= t->nseen - before;
		}
	s->n = 0;
}

/* What one run of watch_steps carries from page to page. */
struct run {
	int col[8], *segcol;
	int64_t wm;            /* the stored watermark */
	size_t page;           /* rows per page */
	struct seen_next next; /* the keys of the page being ingested */
	int64_t rows, opened;
	int64_t t0; /* monotonic start of the run */
	/* the run's reads reach back to fin without a gap, so what each page reads that was
	 * visible when it was asked for moves fin (till a page leaves part of its range
	 * unproven) */
	bool chained;
};

/* The clock of a page: the run's, advanced by the whole seconds the run has taken. A run
 * that reads a large tie (one updated_at over many pages, which the run budget cannot cut)
 * takes seconds: its alerts are stamped, checked for abandonment and escalated at open by
 * the time their page was ingested, not the time the run began. (Whole seconds: a short
 * run, as every test's, sees the clock it was given.) */
static int64_t page_clock(int64_t now, const struct run *run)
{
	return now + (time_mono_ms() - run->t0) / 1000 * 1000;
}

/* The run's clock to the millisecond, for what the source's clock is known to be. */
static int64_t run_clock(int64_t now, const struct run *run)
{
	return now + (time_mono_ms() - run->t0);
}

/* A row with updated_at ms was read at `at`: the source's clock was at ms or later then. */
static void src_seen(struct task *t, int64_t ms, int64_t at)
{
	if (ms == TIME_NULL || ms == STEP_TIME_BAD)
		return;
	if (t->src_off == INT64_MIN || ms - at > t->src_off)
		t->src_off = ms - at;
}

/* The latest updated_at every row of which is visible at `at` (INT64_MIN: none known): the
 * source's clock is at least at + src_off, and a row commits within overlap of its time. */
static int64_t visible_by(const struct task *t, int64_t at)
{
	if (t->src_off == INT64_MIN)
		return INT64_MIN;
	return at + t->src_off - t->wf->overlap_ms;
}

/* The most keys the table keeps: 32 pages' worth, so that a burst of that many records at
 * once is re-read from the source without a parse and a store round trip for each until
 * fin passes it. Memory: 24 bytes a slot, two thirds full: with the default page of 5,000,
 * at most 5.8 MB, and 24 bytes a row of the page being ingested. */
static size_t seen_cap(const struct run *r)
{
	return r->page * 32 > 20000 ? r->page * 32 : 20000;
}

/* Keep key (a row read at ms) for the table once its page is committed. */
static void seen_keep(struct run *run, int64_t ms, struct sip128 key)
{
	struct seen_next *s = &run->next;
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 256;
		s->v = xreallocarray(s->v, s->alloc, sizeof(*s->v));
	}
	s->v[s->n].ms = ms;
	s->v[s->n++].key = key;
}

/* A row's identity: its raw instance_id, step, status and updated_at cells, as the source
 * returned them (a row read again in the overlap window has the same ones), so a re-read
 * row is recognized before it is parsed. Each cell is its length (0: NULL, else length + 1)
 * and its bytes: no two different rows build the same bytes. */
static struct sip128 row_key(const struct task *t, struct strbuf *sb, const struct source_rows *rs,
                             size_t r, const int *col)
{
	static const int which[] = {0, 2, 3, 4};
	for (size_t k = 0; k < ARRAY_SIZE(which); k++) {
		const char *v =
		    col[which[k]] >= 0 ? source_cell(rs, r, (size_t)col[which[k]]) : NULL;
		size_t len = v ? strlen(v) + 1 : 0;
		strbuf_add(sb, &len, sizeof(len));
		if (v)
			strbuf_add(sb, v, len - 1);
	}
	return seen_hash(t, sb);
}

static int find_cols(const struct sw_workflow *wf, const struct source_rows *rs, struct run *r,
                     struct sw_err *err)
{
	static const char *const names[8] = {"instance_id", "user_id",    "step",        "status",
	                                     "updated_at",  "started_at", "finished_at", "error"};
	if (tasks_check_steps_columns(wf, rs->cols, rs->ncols, err) < 0)
		return -1;
	for (size_t i = 0; i < 8; i++)
		r->col[i] = find_col(rs->cols, rs->ncols, names[i]);
	free(r->segcol);
	r->segcol = xcalloc(wf->n_segments + 1, sizeof(*r->segcol));
	for (size_t i = 0; i < wf->n_segments; i++)
		r->segcol[i] = find_col(rs->cols, rs->ncols, wf->segments[i]);
	return 0;
}

/*
 * Ingest rows [0, nuse) of one page and, when wm_raw is not NULL and later than the stored
 * watermark, move the watermark to it, all in one transaction; fin: what the page proves
 * read (INT64_MIN: nothing), stored with it when the page writes anything.
 */
static int ingest_page(struct task *t, int64_t now, struct run *run, const struct source_rows *rs,
                       size_t nuse, const char *wm_raw, int64_t fin, struct sw_err *err)
{
	const struct sw_workflow *wf = t->wf;
	/* one page, one lifetime: its records, their labels and the ingest's temporaries */
	struct arena a = ARENA_INIT;
	struct strbuf sb = STRBUF_INIT; /* a record's identity, hashed for the seen set */
	struct step_record *recs = arena_calloc(&a, nuse + 1, sizeof(*recs));
	const char *first_reject = NULL;
	size_t nrecs = 0, rejected = 0, opened = 0;
	int64_t wm_ms = TIME_NULL;
	bool move, in_tx = false;
	int rc = -1;

	now = page_clock(now, run);
	if (wm_raw && time_parse(wm_raw, &wm_ms) < 0)
		wm_ms = TIME_NULL;
	move = wm_ms != TIME_NULL && (run->wm == TIME_NULL || wm_ms > run->wm);
	if (fin < t->fin)
		fin = t->fin;
	run->next.n = 0;
	/* a read of the overlap window reads rows again: one already read (and stored, or
	 * refused) is skipped before it is parsed, which is what the store's dedupe would do,
	 * without the parse and the store round trip per re-read row */
	for (size_t r = 0; r < nuse; r++) {
		char *labels = NULL;
		struct sip128 key = row_key(t, &sb, rs, r, run->col);
		const char *why;
		int64_t at;
		if (seen_before(t, key)) {
			t->stats.rows_skipped++;
			continue;
		}
		why = parse_row(wf, rs, r, run->col, run->segcol, &recs[nrecs], &labels);
		if (labels)
			arena_defer(&a, free, labels);
		if (why) {
			/* refused once per row: a re-read of the overlap window skips it */
			at = cell_time(rs, r, run->col[4]);
			seen_keep(run, at != TIME_NULL && at != STEP_TIME_BAD ? at : run->wm, key);
			if (!rejected++)
				first_reject = why;
			continue;
		}
		seen_keep(run, recs[nrecs].updated_at, key);
		nrecs++;
	}
	t->stats.rows_read += (int64_t)nuse;
	t->stats.rows_rejected += (int64_t)rejected;
	run->rows += (int64_t)nuse;
	if (rejected)
		log_warn("rejected step records", "workflow=%s rejected=%zu first_reason=%s",
		         wf->name, rejected, first_reject);
	if (nrecs || move) {
		/* records, alerts and the watermark move together or not at all */
		if (store_tx_begin(t->store, err) < 0)
			goto out;
		in_tx = true;
		if (tasks_ingest(t->store, &a, wf, recs, nrecs, now, "watcher", NULL, &opened,
		                 err) < 0)
			goto out;
		if (move && store_watermark_set(t->store, t->wmkey, wm_ms, wm_raw, now, err) < 0)
			goto out;
		if (fin > t->fin_stored &&
		    store_watermark_set(t->store, t->finkey, fin, NULL, now, err) < 0)
			goto out;
		if (store_tx_commit(t->store, err) < 0)
			goto out;
		in_tx = false;
		if (fin > t->fin_stored)
			t->fin_stored = fin;
		/* counted (and logged) only once committed: a rolled-back run opened nothing */
		t->stats.alerts_opened += (int64_t)opened;
		run->opened += (int64_t)opened;
		t->ingested = t->ingested || nrecs > 0;
		if (move)
			run->wm = wm_ms;
	}
	t->fin = fin;
	if (wf->overlap_ms > 0) /* else nothing is read twice */
		seen_add(t, &run->next, seen_cap(run));
	rc = 0;
out:
	if (in_tx)
		store_tx_rollback(t->store);
	strbuf_release(&sb);
	arena_release(&a);
	return rc;
}

/* The watcher's progress, for /readyz, /metrics and the log. */
static void progress(struct task *t, int64_t now, const struct run *run, bool catching_up)
{
	struct health_reading r = {
	    t->stats.rows_read,
	    t->stats.rows_skipped,
	    run->wm,
	    t->fin_known && t->fin != INT64_MIN ? t->fin : TIME_NULL,
	    catching_up,
	};
	if (t->env->health)
		health_progress(t->env->health, t->component, &r, now);
}

static void tie_forget(struct tie_resume *r)
{
	free(r->at);
	r->at = NULL;
	for (size_t k = 0; k < 3; k++) {
		free(r->key[k]);
		r->key[k] = NULL;
	}
}

struct tie_read {
	struct task *t;
	struct run *run;
	int64_t now;
	struct tie_resume *r; /* where this tie stops, for the next read of it */
	int64_t cut_at;       /* monotonic ms: stop after the batch that passes it (0: never) */
	bool cut;
};

/* One batch of a tie: ingested in its own store transaction (the store dedupes records, so
 * a batch read again after a failure adds nothing); then its last row is the resume key.
 * Past cut_at the read stops there (1). */
static int tie_batch(void *ctx, const struct source_rows *rs, struct sw_err *err)
{
	struct tie_read *tr = ctx;
	struct task *t = tr->t;
	static const int cols[3] = {0, 2, 3}; /* instance_id, step, status */

	if (find_cols(t->wf, rs, tr->run, err) < 0 ||
	    ingest_page(t, tr->now, tr->run, rs, rs->nrows, NULL, INT64_MIN, err) < 0)
		return -1;
	for (size_t k = 0; k < 3; k++) {
		int c = tr->run->col[cols[k]];
		const char *v = c >= 0 ? source_cell(rs, rs->nrows - 1, (size_t)c) : NULL;
		free(tr->r->key[k]);
		tr->r->key[k] = xstrdup(v ? v : "");
	}
	progress(t, tr->now, tr->run, true);
	tr->cut = tr->cut_at > 0 && time_mono_ms() >= tr->cut_at;
	return tr->cut;
}

/* Whether r says where a read of the tie at `at` stopped. */
static bool tie_resumes(const struct tie_resume *r, const char *at)
{
	return r->at && !strcmp(r->at, at) && r->key[0];
}

/*
 * Read the rows whose updated_at is `at` (a full page of them was just read) in one
 * streamed query in the tie order, a page at a time, each page committed on its own; then
 * move the watermark to `at`. After a failure part way, or a stop at cut_at (monotonic ms,
 * 0: none; returns 1), the next read of the same tie goes on after the last committed page
 * (a read of the window keeps where it stopped in win_tie, the others in tie). since: the
 * :since of the page that returned them; fin: what the whole tie proves read, stored with
 * the watermark.
 */
static int read_tie(struct task *t, int64_t now, struct run *run, const struct source_param *since,
                    const char *at, int64_t fin, bool window, int64_t cut_at, struct sw_err *err)
{
	static const char *const names[3] = {"sw_ki", "sw_ks", "sw_kt"};
	struct tie_resume *r = window ? &t->win_tie : &t->tie, *o = window ? &t->tie : &t->win_tie;
	struct source_param p[5];
	struct tie_read tr = {t, run, now, r, cut_at, false};
	bool resume;
	char *sql;
	int rc;

	if (!tie_resumes(r, at) && tie_resumes(o, at)) {
		/* stopped by a read of the other kind (a failure): go on from there */
		struct tie_resume tmp = *r;
		*r = *o;
		*o = tmp;
	}
	resume = tie_resumes(r, at);
	if (!resume) {
		tie_forget(r);
		r->at = xstrdup(at);
	}
	sql = page_sql(t->wf->steps_query, 0, true, !resume);
	p[0] = *since;
	raw_param(t, "sw_at", at, &p[1]);
	for (size_t k = 0; k < 3; k++) {
		p[2 + k].name = names[k];
		p[2 + k].value = r->key[k];
		p[2 + k].is_number = false; /* compared as text */
	}
	t->stats.source_reads++;
	rc = source_query_each(t->source, sql, p, resume ? 5 : 2, run->page, tie_batch, &tr, err);
	free(sql);
	if (rc == 0 && tr.cut)
		return 1;
	/* the whole tie is in: the watermark moves past it */
	if (rc == 0)
		rc = ingest_page(t, now, run, NULL, 0, at, fin, err);
	if (rc == 0)
		tie_forget(r);
	return rc < 0 ? -1 : 0;
}

/* After a failed page: when the query itself runs but lacks a required column (which the
 * paged form refers to), say that rather than the database's complaint about the wrapper. */
static void columns_error(struct task *t, struct sw_err *err)
{
	struct source_rows rs = {0};
	struct sw_err derr = {""};
	if (source_describe(t->source, t->wf->steps_query, &rs, &derr) == 0)
		(void)tasks_check_steps_columns(t->wf, rs.cols, rs.ncols, err);
	source_rows_release(&rs);
}

/* Learn the timestamp style of a source from one of its rows (NULL when empty). */
static char *probe_style(struct task *t, struct sw_err *err, int *rc)
{
	struct source_rows rs = {0};
	struct source_param p;
	char *sql = page_sql(t->wf->steps_query, 1, false, true), *raw = NULL, buf[32];
	int c;
	source_time_param(t->source, "since", TIME_NULL, NULL, buf, sizeof(buf), &p);
	*rc = source_query(t->source, sql, &p, 1, &rs, err);
	free(sql);
	if (!*rc && rs.nrows && (c = source_rows_col(&rs, "updated_at")) >= 0 &&
	    source_cell(&rs, 0, (size_t)c))
		raw = xstrdup(source_cell(&rs, 0, (size_t)c));
	source_rows_release(&rs);
	return raw;
}

/* The newest updated_at past :since (one row, one column), asked once after a start: the
 * source's clock is at least that, so a catch-up of rows older than it by `overlap` needs
 * no second read. */
static char *newest_sql(const char *q)
{
	int len = query_len(q);
	return xasprintf(
	    "SELECT sw_page.updated_at FROM (\n%.*s\n) sw_page"
	    " WHERE sw_page.updated_at > :since ORDER BY sw_page.updated_at DESC LIMIT 1",
	    len, q);
}

static int probe_newest(struct task *t, int64_t now, const struct run *run,
                        const struct source_param *since, struct sw_err *err)
{
	struct source_rows rs = {0};
	char *sql = newest_sql(t->wf->steps_query);
	int rc;
	t->stats.source_reads++;
	rc = source_query(t->source, sql, since, 1, &rs, err);
	free(sql);
	if (!rc && rs.nrows && rs.ncols)
		src_seen(t, cell_time(&rs, 0, 0), run_clock(now, run));
	source_rows_release(&rs);
	return rc;
}

/* fin after a start: as stored; else, past a watermark stored by a version that read the
 * window at every run, the watermark minus overlap (where its next run would have read
 * from); else (the first read) the start of the backfill, before which nothing is read. */
static int load_fin(struct task *t, int64_t now, int64_t wm, struct sw_err *err)
{
	int64_t v;
	if (store_watermark_get(t->store, t->finkey, &v, NULL, err) < 0)
		return -1;
	if (v != TIME_NULL)
		t->fin = t->fin_stored = v;
	else if (wm != TIME_NULL)
		t->fin = wm - t->wf->overlap_ms;
	else
		t->fin = t->wf->backfill_ms > 0 ? now - t->wf->backfill_ms : INT64_MIN;
	t->fin_known = true;
	return 0;
}

/* Does this run read from fin (the window) rather than from the watermark? While fin is
 * behind the watermark, every overlap / 4 (and in the first run after a start). */
static bool window_due(const struct task *t, int64_t now, int64_t wm)
{
	if (t->fin > wm)
		return false;
	return t->win_at == TIME_NULL || now < t->win_at ||
	       now - t->win_at >= t->wf->overlap_ms / 4;
}

/* The time of a raw updated_at, INT64_MIN when it does not parse. */
static int64_t raw_time(const char *raw)
{
	int64_t ms;
	return raw && time_parse(raw, &ms) == 0 ? ms : INT64_MIN;
}

#define PROGRESS_LOG_MS 5000

/* How long a read of the window may go on re-reading rows at or behind the watermark before
 * it lets a read past the watermark in: a tenth of the run's budget (100 ms under a
 * runtime). Re-reading a burst of 200,000 rows after it, whole, took 0.85 s, and the rows
 * committed meanwhile waited for it. */
#define WINDOW_SLICE_MS(budget) ((budget) / 10)

int task__watch_steps(struct task *t, int64_t now, struct sw_err *err)
{
	const struct sw_workflow *wf = t->wf;
	struct run run;
	struct source_param since;
	char *wm_raw = NULL, *probe = NULL, *cursor = NULL, *sql = NULL, sincebuf[64];
	int64_t t0 = time_mono_ms(), wm0, slice_end;
	int64_t budget = t->env->run_budget_ms;
	bool budget_spent = false, window_cut = false, window = false, overlap = wf->overlap_ms > 0;
	int rc = -1;

	memset(&run, 0, sizeof(run));
	run.t0 = t0;
	if (task__store(t, now, err) < 0)
		goto out;
	if (!wf->steps_query) /* push-only: records come over the API */
		return open_stuck(t, now, err);
	if (!t->wmkey) {
		t->wmkey = xasprintf("workflow:%s", wf->name);
		t->finkey = xasprintf("final:workflow:%s", wf->name);
	}
	if (task__source(t, err) < 0)
		goto out;
	if (store_watermark_get(t->store, t->wmkey, &run.wm, &wm_raw, err) < 0)
		goto out;
	if (run.wm == TIME_NULL && wf->backfill_ms > 0 && source_time_needs_probe(t->source)) {
		probe = probe_style(t, err, &rc);
		if (rc < 0) {
			rc = -1;
			columns_error(t, err);
			goto out;
		}
		rc = -1;
	}
	wm0 = run.wm;
	if (overlap && !t->fin_known && load_fin(t, now, run.wm, err) < 0)
		goto out;
	src_seen(t, run.wm, now); /* read once, so the source's clock is past it */
	since_param(t, now, run.wm, wm_raw, probe, sincebuf, sizeof(sincebuf), &since);
	if (t->resume && run.wm != TIME_NULL) {
		/* the last run stopped on its budget: go on from where it was */
		cursor = t->resume;
		raw_param(t, "since", cursor, &since);
		run.chained = t->resume_chained;
	} else {
		free(t->resume);
		if (!overlap || run.wm == TIME_NULL) {
			/* no overlap, or the first read: from :since (the backfill's start, fin) */
			run.chained = overlap;
		} else if (t->win_cut && t->win_fresh) {
			/* the read of the window goes on where its last slice stopped */
			window = true;
			t->win_cut = t->win_fresh = false;
			cursor = t->win_resume;
			t->win_resume = NULL;
			if (cursor)
				raw_param(t, "since", cursor, &since);
			else
				source_time_param(t->source, "since", t->fin, wm_raw, sincebuf,
				                  sizeof(sincebuf), &since);
			run.chained = t->win_resume_chained;
		} else if (t->win_cut) {
			/* between two slices of the window: the rows past the watermark first */
			t->win_fresh = true;
			run.chained = t->fin > run.wm;
		} else if (window_due(t, now, run.wm)) {
			/* a read of the window: from fin (the seen set skips what was read since)
			 */
			window = true;
			t->win_at = now;
			source_time_param(t->source, "since", t->fin, wm_raw, sincebuf,
			                  sizeof(sincebuf), &since);
			run.chained = true;
		} else {
			/* past the watermark only (a late commit behind it waits for the next
			 * read of the window); chained when fin is past it, to the millisecond */
			run.chained = t->fin > run.wm;
		}
	}
	t->resume = NULL;
	if (overlap && !t->src_probed) {
		if (probe_newest(t, now, &run, &since, err) < 0) {
			columns_error(t, err);
			goto out;
		}
		t->src_probed = true;
	}
	run.page = wf->page_size > 0 ? (size_t)wf->page_size : 5000;
	sql = page_sql(wf->steps_query, (int)run.page, false, true);
	/* a read of the window re-reading what it read before stops here (0: never) */
	slice_end = window && budget > 0 ? t0 + WINDOW_SLICE_MS(budget) : 0;
	for (;;) {
		struct source_rows rs = {0};
		size_t n, use;
		const char *last = NULL, *next = NULL;
		/* what this page proves read: the rows of its range visible when it was asked
		 * for (those at or before vis), when the run reaches back to fin */
		int64_t vis = visible_by(t, run_clock(now, &run)), top, fin = INT64_MIN;
		bool chained = run.chained; /* as the page began: where a cut window resumes */
		int prc;
		t->stats.source_reads++;
		if (source_query(t->source, sql, &since, 1, &rs, err) < 0) {
			columns_error(t, err);
			goto out;
		}
		if (find_cols(wf, &rs, &run, err) < 0) {
			source_rows_release(&rs);
			goto out;
		}
		n = use = rs.nrows;
		if (n) {
			last = source_cell(&rs, n - 1, (size_t)run.col[4]);
			src_seen(t, cell_time(&rs, n - 1, run.col[4]), run_clock(now, &run));
		}
		next = last;
		if (n == run.page && last) {
			/* a full page: rows of its last updated_at may go on past it; leave them
			 * to the next page, unless the whole page is that one value */
			while (use > 0 && source_cell(&rs, use - 1, (size_t)run.col[4]) &&
			       !strcmp(source_cell(&rs, use - 1, (size_t)run.col[4]), last))
				use--;
			next = use ? source_cell(&rs, use - 1, (size_t)run.col[4]) : NULL;
		}
		/* the page's range ends at its last row read whole, or nowhere (a short page
		 * read all there was) */
		top = n < run.page || !last ? INT64_MAX : raw_time(use ? next : last);
		if (overlap && run.chained) {
			fin = top < vis ? top : vis;
			run.chained = fin == top; /* past vis the range is not proven */
		}
		if (use || !n) {
			prc = ingest_page(t, now, &run, &rs, use, next, fin, err);
		} else {
			/* the whole page shares one updated_at: read all of it again in a
			 * total order (this page's order among equal times is arbitrary); a
			 * read of the window re-reading a tie at or behind the watermark stops
			 * in it when its slice is spent, and goes on in it next time */
			int64_t cut_at = slice_end && raw_time(last) <= wm0 ? slice_end : 0;
			prc = read_tie(t, now, &run, &since, last, fin, window, cut_at, err);
			next = last;
		}
		if (prc > 0) {
			/* from this page's start again, where the tie goes on */
			source_rows_release(&rs);
			run.chained = chained;
			window_cut = true;
			break;
		}
		if (prc == 0 && next) {
			free(cursor);
			cursor = xstrdup(next);
			raw_param(t, "since", cursor, &since);
		}
		source_rows_release(&rs);
		if (prc < 0)
			goto out;
		/* a backlog is new rows past the run's first watermark, not a re-read of the
		 * overlap window (a tie of many rows in it fills pages again every run) */
		progress(t, now, &run, n == run.page && run.wm != wm0);
		if (n < run.page || !next)
			break;
		if (slice_end && time_mono_ms() >= slice_end && raw_time(cursor) <= wm0) {
			/* still re-reading what was read before: let the rows past the
			 * watermark in before the rest of the window */
			window_cut = true;
			break;
		}
		if (!t->backlog && run.wm != wm0) {
			t->backlog = true;
			t->backlog_t0 = t0;
			t->backlog_rows = t->backlog_opened = 0;
			t->backlog_log = t0;
		}
		if (budget > 0 && time_mono_ms() - t0 >= budget) {
			/* a backlog: let this run end (a fresh clock, the other tasks' turn, the
			 * resolver's kick) and the next one start at once */
			budget_spent = true;
			break;
		}
		if (t->backlog && time_mono_ms() - t->backlog_log >= PROGRESS_LOG_MS) {
			/* (a re-read of a large overlap window is no backlog: the watermark stays)
			 */
			char ts[40];
			t->backlog_log = time_mono_ms();
			log_info("reading backlog",
			         "workflow=%s rows=%" PRId64 " opened=%" PRId64
			         " watermark=%s lag_s=%" PRId64,
			         wf->name, t->backlog_rows + run.rows,
			         t->backlog_opened + run.opened,
			         time_format_rfc3339(run.wm, ts, sizeof(ts)),
			         run.wm != TIME_NULL ? (now - run.wm) / 1000 : -1);
		}
	}
	if (t->backlog) {
		t->backlog_rows += run.rows;
		t->backlog_opened += run.opened;
	}
	if (!budget_spent && t->backlog) {
		char ts[40];
		log_info("caught up",
		         "workflow=%s rows=%" PRId64 " opened=%" PRId64 " duration_ms=%" PRId64
		         " watermark=%s",
		         wf->name, t->backlog_rows, t->backlog_opened,
		         time_mono_ms() - t->backlog_t0,
		         time_format_rfc3339(run.wm, ts, sizeof(ts)));
		t->backlog = false;
	}
	if (budget_spent) {
		t->resume = cursor;
		t->resume_chained = run.chained;
		cursor = NULL;
		t->again = true;
	} else if (window_cut) {
		free(t->win_resume);
		t->win_resume = cursor; /* NULL: the window's first page, from fin */
		t->win_resume_chained = run.chained;
		t->win_cut = true;
		t->win_fresh = false;
		cursor = NULL;
		t->again = true;
	} else {
		if (open_stuck(t, now, err) < 0)
			goto out;
		/* a read past the watermark between two slices of the window: the next run
		 * goes on with the window */
		t->again = t->again || (t->win_cut && t->win_fresh);
	}
	rc = 0;
out:
	seen_next_release(&run.next);
	free(run.segcol);
	free(sql);
	free(cursor);
	free(probe);
	free(wm_raw);
	return rc;
}

/* ---- watch_custom ---------------------------------------------------------------------- */

/* Open the alerts of one page of a detect query's rows. */
static int detect_page(struct task *t, int64_t now, const struct source_rows *src_rows,
                       struct sw_err *err)
{
	const struct sw_watcher *w = t->watcher;
	const struct sw_workflow *wf = w->workflow;
	const struct sw_step_policy *pol = &wf->steps[w->step_index].policy;
	const struct step_rules rules = step_rules_of(pol);
	const struct source_rows rs = *src_rows;
	struct alert_new *an = NULL;
	struct alert_opened *ao = NULL;
	struct strbuf *keys = NULL, *ilabels = NULL, *labels = NULL;
	char(*rb)[3][64] = NULL;
	size_t n = 0, rejected = 0;
	int ci, cu, co, ce, rc = -1;

	if (tasks_check_detect_columns(w, rs.cols, rs.ncols, err) < 0)
		goto out;
	ci = find_col(rs.cols, rs.ncols, "instance_id");
	cu = find_col(rs.cols, rs.ncols, "user_id");
	co = find_col(rs.cols, rs.ncols, "occurred_at");
	ce = find_col(rs.cols, rs.ncols, "error");
	an = xcalloc(rs.nrows + 1, sizeof(*an));
	keys = xcalloc(rs.nrows + 1, sizeof(*keys));
	ilabels = xcalloc(rs.nrows + 1, sizeof(*ilabels));
	labels = xcalloc(rs.nrows + 1, sizeof(*labels));
	for (size_t r = 0; r < rs.nrows; r++) {
		const char *occ = source_cell(&rs, r, (size_t)co);
		struct alert_subject subj = {
		    .rule = w->name, .step = w->step, .step_index = w->step_index};
		struct alert_opening o;
		int64_t occ_ms;
		subj.instance_id = source_cell(&rs, r, (size_t)ci);
		subj.user_id = source_cell(&rs, r, (size_t)cu);
		if (!subj.instance_id || !*subj.instance_id || !subj.user_id || !*subj.user_id ||
		    !occ || time_parse(occ, &occ_ms) < 0) {
			rejected++;
			continue;
		}
		subj.error = ce >= 0 ? source_cell(&rs, r, (size_t)ce) : NULL;
		strbuf_init(&labels[n], 0);
		strbuf_addch(&labels[n], '{');
		for (size_t c = 0, k = 0; c < rs.ncols; c++) {
			const char *v = source_cell(&rs, r, c);
			if ((int)c == ci || (int)c == cu || (int)c == co || (int)c == ce)
				continue;
			if (k++)
				strbuf_addch(&labels[n], ',');
			strbuf_add_json_str(&labels[n], rs.cols[c]);
			strbuf_addch(&labels[n], ':');
			if (v)
				strbuf_add_json_str(&labels[n], v);
			else
				strbuf_addstr(&labels[n], "null");
		}
		strbuf_addch(&labels[n], '}');
		subj.labels_json = labels[n].buf;
		o = lifecycle_opening(occ_ms, &rules);
		alert_build(&an[n], wf, &subj, pol, &o, &keys[n], &ilabels[n]);
		n++;
	}
	t->stats.rows_read += (int64_t)rs.nrows;
	t->stats.rows_rejected += (int64_t)rejected;
	if (rejected)
		log_warn("rejected detect rows", "watcher=%s rejected=%zu", w->name, rejected);
	if (n) {
		rb = xcalloc(n, sizeof(*rb));
		ao = xcalloc(n, sizeof(*ao));
		if (open_at_level(t->store, wf, an, n, now, rb, err) < 0 ||
		    store_alerts_open(t->store, now, an, n, ao, err) < 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			t->stats.alerts_opened += ao[i].created;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		strbuf_release(&keys[i]);
		strbuf_release(&ilabels[i]);
		strbuf_release(&labels[i]);
	}
	free(keys);
	free(ilabels);
	free(labels);
	free(rb);
	free(an);
	free(ao);
	return rc;
}

/* A detect query is read in pages of the workflow's page_size, in a total order
 * (instance_id, occurred_at): its result set is the instances in trouble now, so memory
 * stays bounded however many there are. */
int task__watch_custom(struct task *t, int64_t now, struct sw_err *err)
{
	const struct sw_watcher *w = t->watcher;
	size_t page = w->workflow->page_size > 0 ? (size_t)w->workflow->page_size : 5000;
	int len = query_len(w->detect);
	if (task__store(t, now, err) < 0 || task__source(t, err) < 0)
		return -1;
	for (size_t off = 0;; off += page) {
		struct source_rows rs = {0};
		char *sql =
		    xasprintf("SELECT * FROM (\n%.*s\n) sw_page ORDER BY"
		              " sw_page.instance_id, sw_page.occurred_at LIMIT %zu OFFSET %zu",
		              len, w->detect, page, off);
		int rc = source_query(t->source, sql, NULL, 0, &rs, err);
		size_t n = rs.nrows;
		free(sql);
		if (rc == 0)
			rc = detect_page(t, now, &rs, err);
		source_rows_release(&rs);
		if (rc < 0)
			return -1;
		if (n < page)
			return 0;
	}
}
