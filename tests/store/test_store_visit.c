/*
 * test_store_visit.c - the zero-copy reads (store_alerts_list_visit, store_alert_get_visit)
 * give exactly what store_alerts_list and store_alert_get give, on SQLite and PostgreSQL:
 * same alerts in the same order under every filter and page, the same "more" answer as a
 * probe for the next page, the same history, and STORE_ENOTFOUND.
 */
#include "helpers.h"
#include "storetest.h"
#include "util/timeutil.h"
#include "store/store_alerts.h"

/* the shared fixture (storetest.c) */
#define teardown storetest_teardown

enum {
	NALERTS = 23
};

static void fill(struct store *st)
{
	struct alert_new a[NALERTS];
	struct alert_opened o[NALERTS];
	char inst[NALERTS][16], user[NALERTS][16];
	memset(a, 0, sizeof(a));
	for (int i = 0; i < NALERTS; i++) {
		snprintf(inst[i], sizeof(inst[i]), "i-%d", i);
		snprintf(user[i], sizeof(user[i]), "u%d", i % 4);
		a[i].rule = i % 3 ? "failed" : "stuck";
		a[i].workflow = i % 2 ? "lending" : "kyc";
		a[i].step = "bureau_pull";
		a[i].step_index = 1;
		a[i].instance_id = inst[i];
		a[i].user_id = user[i];
		a[i].error = i % 5 ? "timeout \"x\"\n" : NULL;
		a[i].labels_json = i % 2 ? "{\"channel\":\"web\"}" : NULL;
		a[i].group_key = i % 2 ? "g1" : "g2";
		a[i].incident_labels_json = "{}";
		a[i].occurred_at = 1763000000000 + i * 1001;
		a[i].next_escalation_at = i % 3 ? 1900000000000 : TIME_NULL;
	}
	OK(store_alerts_open(st, 1763000100000, a, NALERTS, o, &E));
	OK(store_alert_ack(st, o[4].alert_id, 1763000200000, "ann", "looking", &E));
	OK(store_alert_ack(st, o[5].alert_id, 1763000200001, "bob", NULL, &E));
}

static int setup_sqlite(void **state)
{
	storetest_setup_sqlite(state);
	fill(((struct fx *)*state)->st);
	return 0;
}

static int setup_pg(void **state)
{
	storetest_setup_pg(state);
	if (((struct fx *)*state)->st)
		fill(((struct fx *)*state)->st);
	return 0;
}

static void same_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void same_alert(const struct alert *x, const struct alert *y)
{
	assert_int_equal(x->id, y->id);
	same_str(x->rule, y->rule);
	same_str(x->workflow, y->workflow);
	same_str(x->step, y->step);
	same_str(x->instance_id, y->instance_id);
	same_str(x->user_id, y->user_id);
	assert_int_equal(x->step_index, y->step_index);
	assert_int_equal(x->state, y->state);
	same_str(x->error, y->error);
	same_str(x->labels_json, y->labels_json);
	same_str(x->group_key, y->group_key);
	assert_int_equal(x->occurred_at, y->occurred_at);
	assert_int_equal(x->opened_at, y->opened_at);
	assert_int_equal(x->updated_at, y->updated_at);
	assert_int_equal(x->next_escalation_at, y->next_escalation_at);
	assert_int_equal(x->abandon_after_ms, y->abandon_after_ms);
	same_str(x->acked_by, y->acked_by);
	assert_int_equal(x->acked_at, y->acked_at);
	assert_int_equal(x->resolved_at, y->resolved_at);
	same_str(x->resolved_by, y->resolved_by);
	assert_int_equal(x->incident_id, y->incident_id);
	assert_int_equal(x->reopen_of, y->reopen_of);
}

/* What the visits saw, compared as they come against the copying reads' answer. */
struct seen {
	const struct alert *want;
	size_t nwant, n;
	const struct alert_event *hist;
	size_t nhist, nh;
	size_t stop_after; /* 0: never */
};

static int on_alert(void *arg, const struct alert *a)
{
	struct seen *s = arg;
	assert_true(s->n < s->nwant);
	same_alert(a, &s->want[s->n]);
	s->n++;
	return s->stop_after && s->n == s->stop_after;
}

static int on_event(void *arg, const struct alert_event *e)
{
	struct seen *s = arg;
	const struct alert_event *w;
	assert_true(s->nh < s->nhist);
	w = &s->hist[s->nh++];
	assert_int_equal(e->id, w->id);
	assert_int_equal(e->alert_id, w->alert_id);
	assert_int_equal(e->at, w->at);
	same_str(e->actor, w->actor);
	same_str(e->event, w->event);
	same_str(e->reason, w->reason);
	assert_int_equal(e->from_state, w->from_state);
	assert_int_equal(e->to_state, w->to_state);
	return 0;
}

static void check_list(struct store *st, struct alert_filter f)
{
	struct alert *v = NULL, *probe = NULL;
	size_t n = 0, np = 0;
	struct seen s;
	struct alert_visit visit = {on_alert, NULL, &s};
	bool more = true;
	OK(store_alerts_list(st, &f, &v, &n, &E));
	if (n) {
		struct alert_filter g = f;
		g.before_id = v[n - 1].id;
		g.limit = 1;
		OK(store_alerts_list(st, &g, &probe, &np, &E));
	}
	memset(&s, 0, sizeof(s));
	s.want = v;
	s.nwant = n;
	OK(store_alerts_list_visit(st, &f, &visit, &more, &E));
	assert_int_equal(s.n, n);
	assert_int_equal(more, n == f.limit && np > 0);
	alerts_free(v, n);
	alerts_free(probe, np);
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct alert_filter base;
	if (!f->st)
		skip();
	memset(&base, 0, sizeof(base));
	base.state = -1;
	for (size_t limit = 1; limit <= NALERTS + 2; limit++) {
		struct alert_filter x = base;
		x.limit = limit;
		check_list(f->st, x);
		x.before_id = 12;
		check_list(f->st, x);
		x.before_id = 0;
		x.workflow = "lending";
		check_list(f->st, x);
		x.rule = "stuck";
		x.user_id = "u1";
		check_list(f->st, x);
	}
	base.limit = 5;
	base.state = ALERT_INITIATED;
	check_list(f->st, base);
	base.state = -1;
	base.open_only = true;
	base.instance_id = "i-3";
	check_list(f->st, base);
	base.instance_id = "nope";
	check_list(f->st, base);
	base.instance_id = NULL;
	base.incident_id = 1;
	base.limit = 1000;
	check_list(f->st, base);
	base.limit = 1001;
	assert_int_equal(store_alerts_list_visit(
	                     f->st, &base, &(struct alert_visit){on_alert, NULL, NULL}, NULL, &E),
	                 STORE_ERROR);
	assert_non_null(strstr(E.msg, "limit 1001"));
}

static void test_list_stop(void **state)
{
	struct fx *f = *state;
	struct alert_filter x;
	struct alert *v = NULL;
	size_t n = 0;
	struct seen s;
	struct alert_visit visit = {on_alert, NULL, &s};
	bool more = true;
	if (!f->st)
		skip();
	memset(&x, 0, sizeof(x));
	x.state = -1;
	x.limit = 10;
	OK(store_alerts_list(f->st, &x, &v, &n, &E));
	memset(&s, 0, sizeof(s));
	s.want = v;
	s.nwant = n;
	s.stop_after = 3;
	OK(store_alerts_list_visit(f->st, &x, &visit, &more, &E));
	assert_int_equal(s.n, 3);
	assert_false(more);
	alerts_free(v, n);
	/* the statement was reset: the next read works */
	check_list(f->st, x);
}

static void test_get(void **state)
{
	struct fx *f = *state;
	if (!f->st)
		skip();
	for (int64_t id = 1; id <= NALERTS; id++) {
		struct alert a;
		struct alert_event *h = NULL;
		size_t nh = 0;
		struct seen s;
		struct alert_visit visit = {on_alert, on_event, &s};
		OK(store_alert_get(f->st, id, &a, &h, &nh, &E));
		memset(&s, 0, sizeof(s));
		s.want = &a;
		s.nwant = 1;
		s.hist = h;
		s.nhist = nh;
		OK(store_alert_get_visit(f->st, id, &visit, &E));
		assert_int_equal(s.n, 1);
		assert_int_equal(s.nh, nh);
		visit.event = NULL; /* without history */
		s.n = s.nh = 0;
		OK(store_alert_get_visit(f->st, id, &visit, &E));
		assert_int_equal(s.n, 1);
		assert_int_equal(s.nh, 0);
		alert_release(&a);
		alert_events_free(h, nh);
	}
	{
		struct seen s;
		struct alert_visit visit = {on_alert, on_event, &s};
		memset(&s, 0, sizeof(s));
		assert_int_equal(store_alert_get_visit(f->st, 999, &visit, &E), STORE_ENOTFOUND);
		assert_string_equal(E.msg, "alert 999 not found");
		assert_int_equal(s.n, 0);
	}
}

#define TESTS(setup)                                                          \
	cmocka_unit_test_setup_teardown(test_list, setup, teardown),          \
	    cmocka_unit_test_setup_teardown(test_list_stop, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_get, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {TESTS(setup_pg)};
	int failed = 0;
	failed += cmocka_run_group_tests_name("visit/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("visit/pg", pg_tests, NULL, NULL);
	return failed;
}
