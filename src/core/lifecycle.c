/*
 * lifecycle.c - the step-record lifecycle rules (lifecycle.h). Pure.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/lifecycle.h"

bool step_record_supersedes(int64_t a_updated_at, enum step_status a_status, int64_t b_updated_at,
                            enum step_status b_status)
{
	if (a_updated_at != b_updated_at)
		return a_updated_at > b_updated_at;
	return a_status > b_status;
}

int64_t lifecycle_failure_occurred_at(const struct step_record *r)
{
	return r->finished_at != TIME_NULL ? r->finished_at : r->updated_at;
}

struct alert_opening lifecycle_opening(int64_t occurred_at, const struct step_rules *r)
{
	struct alert_opening o;
	o.rec = 0;
	o.occurred_at = occurred_at;
	o.next_escalation_at = alert_next_escalation_at(ALERT_INITIATED, occurred_at, &r->sla);
	return o;
}

/* A record of the batch and its position in the order the store applied it. */
struct item {
	const struct step_record *rec;
	size_t order;
};

static int cmp_key_order(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->rec->instance_id, y->rec->instance_id);
	if (!c)
		c = strcmp(x->rec->step, y->rec->step);
	if (!c)
		c = (x->order > y->order) - (x->order < y->order);
	return c;
}

static bool same_instance(const struct item *a, const struct item *b)
{
	return !strcmp(a->rec->instance_id, b->rec->instance_id);
}

static bool same_step(const struct item *a, const struct item *b)
{
	return same_instance(a, b) && !strcmp(a->rec->step, b->rec->step);
}

size_t lifecycle_failures_to_open(const struct step_record *recs, const bool *current, size_t n,
                                  const struct step_rules *rules, size_t n_rules, int64_t now,
                                  struct alert_opening *out)
{
	struct item *items;
	int64_t last_progress = TIME_NULL;
	size_t nout = 0;

	if (!n)
		return 0;
	items = xcalloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].rec = &recs[i];
		items[i].order = i;
	}
	qsort(items, n, sizeof(*items), cmp_key_order);
	for (size_t k = 0, inst_end = 0; k < n;) {
		/* one (instance, step) group, in the order the store applied it: the last
		 * record of the group that became current is the step's state now */
		size_t end = k, cur = SIZE_MAX;
		const struct step_record *r;
		const struct step_rules *sr;
		if (k >= inst_end) {
			/* the instance's last progress in this batch */
			last_progress = items[k].rec->updated_at;
			for (inst_end = k;
			     inst_end < n && same_instance(&items[inst_end], &items[k]); inst_end++)
				if (items[inst_end].rec->updated_at > last_progress)
					last_progress = items[inst_end].rec->updated_at;
		}
		while (end < n && same_step(&items[end], &items[k])) {
			if (current[items[end].order])
				cur = end;
			end++;
		}
		k = end;
		if (cur == SIZE_MAX || items[cur].rec->status != STEP_FAILED)
			continue;
		r = items[cur].rec;
		if (r->step_index < 0 || (size_t)r->step_index >= n_rules)
			BUG("step record of step index %d outside the %zu steps", r->step_index,
			    n_rules);
		sr = &rules[r->step_index];
		/* a user gone for longer than abandon_after is nobody to page about: the step
		 * state is kept, no alert */
		if (sr->abandon_after_ms > 0 && last_progress + sr->abandon_after_ms <= now)
			continue;
		out[nout] = lifecycle_opening(lifecycle_failure_occurred_at(r), sr);
		out[nout].rec = items[cur].order;
		nout++;
	}
	free(items);
	return nout;
}

bool lifecycle_step_stuck(const struct instance_step *s, const struct step_rules *r, int64_t now)
{
	if (r->stuck_after_ms <= 0 || s->status != STEP_IN_PROGRESS)
		return false;
	if (s->started_at == TIME_NULL || s->started_at > now - r->stuck_after_ms)
		return false;
	if (r->abandon_after_ms > 0 && s->updated_at <= now - r->abandon_after_ms)
		return false;
	return true;
}

int64_t lifecycle_stuck_occurred_at(const struct instance_step *s, const struct step_rules *r)
{
	return (s->started_at != TIME_NULL ? s->started_at : s->updated_at) + r->stuck_after_ms;
}

bool lifecycle_stuck_episode_alerted(enum alert_state state, int64_t alert_occurred_at,
                                     int64_t step_started_at)
{
	/* an unknown start (NULL in SQL) matches no closed alert */
	if (alert_state_open(state))
		return true;
	return step_started_at != TIME_NULL && alert_occurred_at >= step_started_at;
}

bool lifecycle_alert_recovered(const char *rule, enum alert_state state, int step_index,
                               const struct recovery_view *v)
{
	bool stuck;
	if (!alert_state_open(state) || !rule)
		return false;
	stuck = !strcmp(rule, LIFECYCLE_RULE_STUCK);
	if (!stuck && strcmp(rule, LIFECYCLE_RULE_FAILED))
		return false;
	if (v->max_step_index >= 0 && v->max_step_index > step_index)
		return true;
	if (v->step_status == STEP_SUCCESS)
		return true;
	return stuck && v->step_status >= 0 && v->step_status != STEP_IN_PROGRESS;
}

bool lifecycle_alert_abandoned(enum alert_state state, int64_t abandon_after_ms,
                               int64_t last_progress_at, int64_t occurred_at, int64_t now)
{
	int64_t last = last_progress_at != TIME_NULL ? last_progress_at : occurred_at;
	if (!alert_state_open(state) || abandon_after_ms <= 0)
		return false;
	return last + abandon_after_ms <= now;
}
