/*
 * test_store_rules.c - the lifecycle rules that store SQL encodes or pre-filters for speed,
 * checked against their source of truth in core: the tables of lifecycle_cases.h, whose
 * every row tests/unit/test_core_lifecycle.c runs through the core functions, run here
 * through the store statements, on SQLite and PostgreSQL. A row that fails here and not
 * there (or the reverse) means SQL and core drifted apart.
 */
#include "helpers.h"
#include "storetest.h"
#include "lifecycle_cases.h"
#include "store/store.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_silences.h"
#include "store/store_recovery.h"

#define teardown     storetest_teardown
#define setup_sqlite storetest_setup_sqlite
#define setup_pg     storetest_setup_pg

static const char *const step_names[3] = {"a", "b", "c"};

static struct step_record rec(const char *inst, int step, enum step_status status, int64_t started,
                              int64_t finished, int64_t updated)
{
	struct step_record r = {0};
	r.instance_id = inst;
	r.user_id = "u";
	r.step = step_names[step];
	r.step_index = step;
	r.status = status;
	r.error = status == STEP_FAILED ? "boom" : NULL;
	r.started_at = started;
	r.finished_at = finished;
	r.updated_at = updated;
	return r;
}

static int64_t open_alert(struct store *st, const char *rule, const char *inst, int step,
                          int64_t occurred, int64_t abandon_after_ms, const char *group)
{
	struct alert_new a = {0};
	struct alert_opened o;
	a.rule = rule;
	a.workflow = "loan";
	a.step = step_names[step];
	a.step_index = step;
	a.instance_id = inst;
	a.user_id = "u";
	a.group_key = group ? group : inst;
	a.occurred_at = occurred;
	a.next_escalation_at = TIME_NULL;
	a.abandon_after_ms = abandon_after_ms;
	OK(store_alerts_open(st, LC_NOW, &a, 1, &o, &E));
	assert_true(o.created);
	return o.alert_id;
}

static void change(struct store *st, int64_t id, enum alert_state from, enum alert_state to)
{
	struct alert_change c = {id, from, to, "escalated", "validator", NULL, TIME_NULL, NULL};
	bool applied = false;
	if (to == ALERT_RESOLVED) {
		c.event = "resolved";
		c.resolved_by = "resolver";
	} else if (to == ALERT_ABANDONED) {
		c.event = "abandoned";
	}
	OK(store_alerts_change(st, LC_NOW, &c, 1, &applied, &E));
	assert_true(applied);
}

static bool has_alert(const struct alert *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return true;
	return false;
}

/* step_record_supersedes: b then a, in two batches and in one. */
static void test_supersedes(void **state)
{
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_supersede_cases); i++) {
		const struct lc_supersede *c = &lc_supersede_cases[i];
		for (int one_batch = 0; one_batch < 2; one_batch++) {
			char *inst = xasprintf("sup%zu-%d", i, one_batch);
			struct step_record r[2] = {
			    rec(inst, 0, c->b_status, TIME_NULL, TIME_NULL, lc_at(c->b_upd)),
			    rec(inst, 0, c->a_status, TIME_NULL, TIME_NULL, lc_at(c->a_upd)),
			};
			bool cur[2] = {false, false};
			if (one_batch) {
				OK(store_steps_ingest(st, "loan", 3, r, 2, cur, &E));
			} else {
				OK(store_steps_ingest(st, "loan", 3, r, 1, cur, &E));
				OK(store_steps_ingest(st, "loan", 3, r + 1, 1, cur + 1, &E));
			}
			assert_true(cur[0]);
			if (cur[1] != c->supersedes)
				fail_msg("supersede case %zu (%s): store says %d", i,
				         one_batch ? "one batch" : "two batches", cur[1]);
			free(inst);
		}
	}
}

/* lifecycle_step_stuck + lifecycle_stuck_episode_alerted: store_steps_stuck, as the
 * watcher calls it. */
static void test_stuck(void **state)
{
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_stuck_cases); i++) {
		const struct lc_stuck *c = &lc_stuck_cases[i];
		char *inst = xasprintf("stuck%zu", i);
		struct step_record r =
		    rec(inst, 1, c->status, lc_at(c->started),
		        c->status == STEP_IN_PROGRESS ? TIME_NULL : lc_at(c->updated),
		        lc_at(c->updated));
		struct instance_step *v = NULL;
		size_t n = 0;
		bool opens = false;
		OK(store_steps_ingest(st, "loan", 3, &r, 1, NULL, &E));
		if (c->existing != LC_NO_ALERT) {
			int64_t id =
			    open_alert(st, "stuck", inst, 1, lc_at(c->alert_occurred), 0, NULL);
			if (c->existing == LC_ALERT_CLOSED)
				change(st, id, ALERT_INITIATED, ALERT_RESOLVED);
		}
		if (c->stuck_after > 0) { /* the watcher asks only then */
			OK(store_steps_stuck(
			    st, "loan", "b", LC_NOW - c->stuck_after * LC_MIN,
			    c->abandon_after > 0 ? LC_NOW - c->abandon_after * LC_MIN : TIME_NULL,
			    1000, &v, &n, &E));
			for (size_t k = 0; k < n; k++)
				opens = opens || !strcmp(v[k].instance_id, inst);
			instance_steps_free(v, n);
		}
		if (opens != c->opens)
			fail_msg("stuck case %zu: store says %d", i, opens);
		free(inst);
	}
}

/* lifecycle_alert_recovered: every store query that selects recovered alerts. */
static void test_recovered(void **state)
{
	int64_t ids[ARRAY_SIZE(lc_recover_cases)];
	struct alert *v = NULL;
	size_t n = 0;
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_recover_cases); i++) {
		const struct lc_recover *c = &lc_recover_cases[i];
		char *inst = xasprintf("rec%zu", i);
		if (c->step_status >= 0) {
			struct step_record r =
			    rec(inst, c->alert_step, (enum step_status)c->step_status,
			        LC_NOW - 9 * LC_MIN, TIME_NULL, LC_NOW - 8 * LC_MIN);
			OK(store_steps_ingest(st, "loan", 3, &r, 1, NULL, &E));
		}
		if (c->max_step >= 0 && c->max_step != c->alert_step) {
			struct step_record r =
			    rec(inst, c->max_step, STEP_IN_PROGRESS, LC_NOW - 7 * LC_MIN, TIME_NULL,
			        LC_NOW - 7 * LC_MIN);
			OK(store_steps_ingest(st, "loan", 3, &r, 1, NULL, &E));
		}
		ids[i] =
		    open_alert(st, c->rule, inst, c->alert_step, LC_NOW - 10 * LC_MIN, 0, NULL);
		if (c->state != ALERT_INITIATED)
			change(st, ids[i], ALERT_INITIATED, c->state);
		free(inst);
	}
	/* the whole-workflow query */
	OK(store_alerts_recovered(st, "loan", 1000, &v, &n, &E));
	for (size_t i = 0; i < ARRAY_SIZE(lc_recover_cases); i++)
		if (has_alert(v, n, ids[i]) != lc_recover_cases[i].recovered)
			fail_msg("recover case %zu: store_alerts_recovered disagrees", i);
	alerts_free(v, n);
	/* the incremental one, from every instance changed since the start */
	OK(store_alerts_recovered_since(st, "loan", 0, 1000, &v, &n, &E));
	for (size_t i = 0; i < ARRAY_SIZE(lc_recover_cases); i++)
		if (has_alert(v, n, ids[i]) != lc_recover_cases[i].recovered)
			fail_msg("recover case %zu: store_alerts_recovered_since disagrees", i);
	alerts_free(v, n);
	/* the paged ones (RECOVERED_COND), by changed instances and by sweep */
	for (int64_t since = -1; since <= 0; since++) {
		struct recovery_cursor cur = {0};
		struct alert *all = NULL;
		size_t nall = 0;
		while (!cur.done) {
			OK(store_alerts_recovered_page(st, "loan", since, &cur, 2, &v, &n, &E));
			all = xrealloc(all, (nall + n + 1) * sizeof(*all));
			memcpy(all + nall, v, n * sizeof(*v));
			nall += n;
			free(v);
		}
		recovery_cursor_release(&cur);
		for (size_t i = 0; i < ARRAY_SIZE(lc_recover_cases); i++)
			if (has_alert(all, nall, ids[i]) != lc_recover_cases[i].recovered)
				fail_msg("recover case %zu: store_alerts_recovered_page(%" PRId64
				         ") disagrees",
				         i, since);
		alerts_free(all, nall);
	}
}

/* lifecycle_alert_abandoned: store_alerts_abandonable. */
static void test_abandoned(void **state)
{
	int64_t ids[ARRAY_SIZE(lc_abandon_cases)];
	struct alert *v = NULL;
	size_t n = 0;
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_abandon_cases); i++) {
		const struct lc_abandon *c = &lc_abandon_cases[i];
		char *inst = xasprintf("ab%zu", i);
		if (c->last_progress != LC_NONE) {
			struct step_record r = rec(inst, 0, STEP_IN_PROGRESS, TIME_NULL, TIME_NULL,
			                           lc_at(c->last_progress));
			OK(store_steps_ingest(st, "loan", 3, &r, 1, NULL, &E));
		}
		ids[i] = open_alert(st, "failed", inst, 0, lc_at(c->occurred),
		                    c->abandon_after * LC_MIN, NULL);
		if (c->state != ALERT_INITIATED)
			change(st, ids[i], ALERT_INITIATED, c->state);
		free(inst);
	}
	OK(store_alerts_abandonable(st, LC_NOW, 1000, &v, &n, &E));
	for (size_t i = 0; i < ARRAY_SIZE(lc_abandon_cases); i++)
		if (has_alert(v, n, ids[i]) != lc_abandon_cases[i].abandoned)
			fail_msg("abandon case %zu: store disagrees", i);
	alerts_free(v, n);
}

static void str_eq_null(const char *got, const char *want, size_t i, const char *what)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want)))
		fail_msg("summary case %zu: %s is '%s', want '%s'", i, what, got ? got : "(null)",
		         want ? want : "(null)");
}

/* instance_summary_add + instance_summary_merge: store_steps_ingest's upserts. */
static void test_summary(void **state)
{
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_summary_cases); i++) {
		const struct lc_summary *c = &lc_summary_cases[i];
		char *inst = xasprintf("sum%zu", i);
		struct instance_info info;
		for (size_t b = 0; b < 3 && c->batch[b][0].step >= 0; b++) {
			struct step_record r[3];
			size_t k = 0;
			for (; k < 3 && c->batch[b][k].step >= 0; k++) {
				const struct lc_rec *x = &c->batch[b][k];
				r[k] = rec(inst, x->step, x->status, lc_at(x->started),
				           lc_at(x->finished), lc_at(x->updated));
				r[k].user_id = x->user;
				r[k].labels_json = x->labels;
			}
			OK(store_steps_ingest(st, "loan", 3, r, k, NULL, &E));
		}
		OK(store_instance_get(st, "loan", inst, &info, &E));
		str_eq_null(info.user_id, c->user, i, "user_id");
		str_eq_null(info.labels_json, c->labels, i, "labels");
		if (info.started_at != lc_at(c->started) ||
		    info.last_progress_at != lc_at(c->last_progress) ||
		    info.max_step_index != c->max_step || info.completed_at != lc_at(c->completed))
			fail_msg("summary case %zu: times or step differ", i);
		instance_info_release(&info);
		free(inst);
	}
}

/* incident_level + incident_closes: the incident counters of store_alerts_open/change. */
static void test_incident(void **state)
{
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_incident_cases); i++) {
		const struct lc_incident *c = &lc_incident_cases[i];
		char *group = xasprintf("g%zu", i);
		int64_t ids[8], inc = 0;
		enum alert_state cur[8];
		struct incident in;
		for (int a = 0; a < c->n_alerts; a++) {
			char *inst = xasprintf("inc%zu-%d", i, a);
			ids[a] = open_alert(st, "failed", inst, 0, LC_NOW, 0, group);
			cur[a] = ALERT_INITIATED;
			free(inst);
		}
		for (size_t k = 0; k < 6 && c->changes[k].alert >= 0; k++) {
			int a = c->changes[k].alert;
			change(st, ids[a], cur[a], c->changes[k].to);
			cur[a] = c->changes[k].to;
		}
		{
			struct alert al;
			OK(store_alert_get(st, ids[0], &al, NULL, NULL, &E));
			inc = al.incident_id;
			alert_release(&al);
		}
		OK(store_incident_get(st, inc, &in, &E));
		if (in.level != c->level || in.open != c->open || in.open_alerts != c->open_alerts)
			fail_msg("incident case %zu: store level %d open %d open_alerts %" PRId64,
			         i, (int)in.level, (int)in.open, in.open_alerts);
		incident_release(&in);
		free(group);
	}
}

/* silence_active: store_silences_active's pre-filter returns exactly the active ones. */
static void test_silences_active(void **state)
{
	int64_t ids[ARRAY_SIZE(lc_silence_cases)];
	struct silence *v = NULL;
	size_t n = 0;
	FX();
	for (size_t i = 0; i < ARRAY_SIZE(lc_silence_cases); i++) {
		char wf[] = "loan", by[] = "tester";
		struct silence s = {0};
		s.workflow = wf;
		s.created_by = by;
		s.starts_at = lc_at(lc_silence_cases[i].starts);
		s.ends_at = lc_at(lc_silence_cases[i].ends);
		OK(store_silence_create(st, LC_NOW - 100 * LC_MIN, &s, &ids[i], &E));
	}
	OK(store_silences_active(st, LC_NOW, &v, &n, &E));
	for (size_t i = 0; i < ARRAY_SIZE(lc_silence_cases); i++) {
		bool found = false;
		for (size_t k = 0; k < n; k++)
			found = found || v[k].id == ids[i];
		if (found != lc_silence_cases[i].active)
			fail_msg("silence case %zu: store disagrees", i);
	}
	silences_free(v, n);
}

#define RULE_TESTS(setup)                                                     \
	cmocka_unit_test_setup_teardown(test_supersedes, setup, teardown),    \
	    cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),     \
	    cmocka_unit_test_setup_teardown(test_recovered, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_abandoned, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_summary, setup, teardown),   \
	    cmocka_unit_test_setup_teardown(test_incident, setup, teardown),  \
	    cmocka_unit_test_setup_teardown(test_silences_active, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {RULE_TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {RULE_TESTS(setup_pg)};
	int failed = cmocka_run_group_tests_name("rules/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("rules/postgres", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
