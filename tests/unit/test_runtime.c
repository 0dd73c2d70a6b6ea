/*
 * test_runtime.c - the in-process runtime (src/runtime): cadence, no overlap, backoff,
 * reload, drain on stop, the real-clock scheduler thread, kick, clock steps, signal flags
 * and the stats snapshot. Almost everything runs on a manual clock driven by rt_tick(), so
 * the tests are deterministic; the few real-time ones have wide margins.
 */
#include "helpers.h"
#include "runtime/runtime.h"
#include "runtime/signals.h"
#include "util/timeutil.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

/* ---- a job that records its runs ----------------------------------------------------------- */

#define MAX_RUNS 256

struct rec {
	int64_t at[MAX_RUNS];
	int n;
	int fail_mask; /* bit i set: run i returns -1 */
	int sleep_ms;  /* real sleep inside the run */
	/* a gate: the run signals "started" and blocks until opened */
	bool use_gate;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool started, open, finished;
	int inside, max_inside;
	int released;
};

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
}

static void rec_destroy(struct rec *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int rec_run(void *arg, int64_t now)
{
	struct rec *r = arg;
	int i, rc;

	pthread_mutex_lock(&r->mu);
	i = r->n++;
	if (i < MAX_RUNS)
		r->at[i] = now;
	r->inside++;
	if (r->inside > r->max_inside)
		r->max_inside = r->inside;
	r->started = true;
	r->finished = false;
	pthread_cond_broadcast(&r->cond);
	while (r->use_gate && !r->open)
		pthread_cond_wait(&r->cond, &r->mu);
	pthread_mutex_unlock(&r->mu);

	if (r->sleep_ms)
		sleep_ms(r->sleep_ms);

	pthread_mutex_lock(&r->mu);
	r->inside--;
	r->finished = true;
	rc = i < 31 && (r->fail_mask & (1 << i)) ? -1 : 0;
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static void rec_release(void *arg)
{
	struct rec *r = arg;
	pthread_mutex_lock(&r->mu);
	r->released++;
	pthread_mutex_unlock(&r->mu);
}

static void rec_wait_started(struct rec *r)
{
	pthread_mutex_lock(&r->mu);
	while (!r->started)
		pthread_cond_wait(&r->cond, &r->mu);
	r->started = false;
	pthread_mutex_unlock(&r->mu);
}

static void rec_open(struct rec *r)
{
	pthread_mutex_lock(&r->mu);
	r->open = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

static int rec_count(struct rec *r)
{
	int n;
	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static bool rec_finished(struct rec *r)
{
	bool f;
	pthread_mutex_lock(&r->mu);
	f = r->finished;
	pthread_mutex_unlock(&r->mu);
	return f;
}

/* ---- a manual runtime ------------------------------------------------------------------------ */

struct fixture {
	int64_t now;
	struct sw_clock clock;
	struct rt *rt;
};

static void fixture_start(struct fixture *f, unsigned threads)
{
	struct sw_err err;
	struct rt_opts opts = {0};

	f->now = 0;
	f->clock.now_ms = clock_manual_now;
	f->clock.data = &f->now;
	opts.clock = &f->clock;
	opts.threads = threads;
	opts.manual = true;
	if (rt_start(&opts, &f->rt, &err) < 0)
		fail_msg("rt_start: %s", err.msg);
}

static void set_jobs(struct rt *rt, const struct rt_job *jobs, size_t n)
{
	struct sw_err err;
	if (rt_jobs_replace(rt, jobs, n, &err) < 0)
		fail_msg("rt_jobs_replace: %s", err.msg);
}

static const struct rt_job_stats *find_stats(const struct rt_job_stats *v, size_t n,
                                             const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	fail_msg("no stats for job '%s'", name);
	return NULL;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_cadence(void **state)
{
	struct fixture f;
	struct rec a, b;
	struct rt_job jobs[] = {
	    {.name = "a", .every_ms = 100, .run = rec_run, .arg = &a},
	    {.name = "b", .every_ms = 250, .run = rec_run, .arg = &b},
	};
	(void)state;
	rec_init(&a);
	rec_init(&b);
	fixture_start(&f, 2);
	set_jobs(f.rt, jobs, 2);

	for (f.now = 0; f.now <= 1000; f.now += 10)
		rt_tick(f.rt);
	assert_int_equal(a.n, 11);
	for (int i = 0; i < a.n; i++)
		assert_int_equal(a.at[i], i * 100);
	assert_int_equal(b.n, 5);
	for (int i = 0; i < b.n; i++)
		assert_int_equal(b.at[i], i * 250);

	/* time advancing in steps larger than the cadence: one run per step, no burst */
	f.now = 1350;
	assert_int_equal(rt_tick(f.rt), 2);
	f.now = 1700;
	assert_int_equal(rt_tick(f.rt), 2);
	assert_int_equal(a.n, 13);
	assert_int_equal(a.at[12], 1700);
	{
		struct rt_job_stats *st;
		size_t n = rt_stats(f.rt, &st);
		assert_int_equal(n, 2);
		assert_int_equal(find_stats(st, n, "a")->skipped, 0);
		assert_int_equal(find_stats(st, n, "a")->next_due_at, 1800);
		rt_stats_free(st, n);
	}
	assert_int_equal(a.max_inside, 1);
	rt_free(f.rt);
	rec_destroy(&a);
	rec_destroy(&b);
}

static void test_no_overlap(void **state)
{
	struct fixture f;
	struct rec r;
	struct rt_job job = {.name = "slow", .every_ms = 100, .run = rec_run, .arg = &r};
	struct rt_job_stats *st;
	size_t n;
	(void)state;
	rec_init(&r);
	r.use_gate = true;
	fixture_start(&f, 4);
	set_jobs(f.rt, &job, 1);

	assert_int_equal(rt_submit_due(f.rt), 1);
	rec_wait_started(&r);
	/* due again three times while still running: never queued a second time */
	for (f.now = 100; f.now <= 300; f.now += 100)
		assert_int_equal(rt_submit_due(f.rt), 0);
	n = rt_stats(f.rt, &st);
	assert_true(st[0].running);
	assert_int_equal(st[0].runs, 0);
	assert_int_equal(st[0].next_due_at, TIME_NULL);
	assert_int_equal(rt_next_due(f.rt, &(int64_t){0}), -1);
	rt_stats_free(st, n);

	f.now = 350;
	rec_open(&r);
	rt_wait_idle(f.rt);
	n = rt_stats(f.rt, &st);
	assert_false(st[0].running);
	assert_int_equal(st[0].runs, 1);
	assert_int_equal(st[0].last_duration_ms, 350);
	/* slots 100, 200, 300 passed; one runs now (at 350), two are dropped */
	assert_int_equal(st[0].skipped, 2);
	assert_int_equal(st[0].next_due_at, 350);
	rt_stats_free(st, n);

	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.at[1], 350);
	f.now = 449;
	assert_int_equal(rt_tick(f.rt), 0);
	f.now = 450;
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(r.max_inside, 1);
	rt_free(f.rt);
	rec_destroy(&r);
}

/* Run the next due job: set the clock to its due time and tick. */
static int64_t tick_next(struct fixture *f)
{
	int64_t due;
	assert_int_equal(rt_next_due(f->rt, &due), 0);
	f->now = due;
	assert_int_equal(rt_tick(f->rt), 1);
	return due;
}

static void test_backoff(void **state)
{
	struct fixture f;
	struct rec r, capped, slow;
	struct rt_job jobs[] = {
	    {.name = "flaky", .every_ms = 1000, .run = rec_run, .arg = &r},
	};
	struct rt_job_stats *st;
	size_t n;
	static const int64_t want[] = {0, 2000, 6000, 14000, 24000, 25000, 27000, 28000};
	(void)state;
	rec_init(&r);
	rec_init(&capped);
	rec_init(&slow);
	/* runs 0-3 fail, 4 succeeds, 5 fails, 6 succeeds */
	r.fail_mask = 0x0f | (1 << 5);
	fixture_start(&f, 2);
	set_jobs(f.rt, jobs, 1);

	for (size_t i = 0; i + 1 < ARRAY_SIZE(want); i++) {
		assert_int_equal(tick_next(&f), want[i]);
		if (i == 3) {
			n = rt_stats(f.rt, &st);
			assert_int_equal(st[0].consecutive_failures, 4);
			assert_int_equal(st[0].failures, 4);
			assert_int_equal(st[0].last_error_at, 14000);
			assert_int_equal(st[0].last_ok_at, TIME_NULL);
			assert_int_equal(st[0].last_rc, -1);
			assert_int_equal(st[0].next_due_at, 24000); /* capped at 10 * every */
			rt_stats_free(st, n);
		}
	}
	n = rt_stats(f.rt, &st);
	assert_int_equal(st[0].runs, 7);
	assert_int_equal(st[0].failures, 5);
	assert_int_equal(st[0].consecutive_failures, 0);
	assert_int_equal(st[0].last_error_at, 25000);
	assert_int_equal(st[0].last_ok_at, 27000);
	assert_int_equal(st[0].last_rc, 0);
	assert_int_equal(st[0].next_due_at, want[ARRAY_SIZE(want) - 1]);
	assert_int_equal(st[0].skipped, 0);
	rt_stats_free(st, n);

	/* an explicit cap, and the default cap for a slow cadence (never below every) */
	capped.fail_mask = -1;
	slow.fail_mask = -1;
	{
		struct rt_job more[] = {
		    {.name = "capped",
		     .every_ms = 100,
		     .run = rec_run,
		     .arg = &capped,
		     .max_backoff_ms = 250},
		    {.name = "slow", .every_ms = 120000, .run = rec_run, .arg = &slow},
		};
		f.now = 100000;
		set_jobs(f.rt, more, 2);
	}
	assert_int_equal(rt_tick(f.rt), 2);
	f.now = 100200;
	assert_int_equal(rt_tick(f.rt), 1);
	f.now = 100449;
	assert_int_equal(rt_tick(f.rt), 0);
	f.now = 100450;
	assert_int_equal(rt_tick(f.rt), 1);
	f.now = 100700;
	assert_int_equal(rt_tick(f.rt), 1);
	n = rt_stats(f.rt, &st);
	assert_int_equal(find_stats(st, n, "capped")->consecutive_failures, 4);
	assert_int_equal(find_stats(st, n, "slow")->next_due_at, 220000);
	rt_stats_free(st, n);

	rt_free(f.rt);
	rec_destroy(&r);
	rec_destroy(&capped);
	rec_destroy(&slow);
}

static void test_replace(void **state)
{
	struct fixture f;
	struct rec a, b, b2, c;
	struct rt_job set1[] = {
	    {.name = "a", .every_ms = 100, .run = rec_run, .arg = &a, .release = rec_release},
	    {.name = "b", .every_ms = 100, .run = rec_run, .arg = &b, .release = rec_release},
	};
	struct rt_job set2[] = {
	    {.name = "b", .every_ms = 100, .run = rec_run, .arg = &b2, .release = rec_release},
	    {.name = "c", .every_ms = 100, .run = rec_run, .arg = &c, .release = rec_release},
	};
	struct rt_job_stats *st;
	size_t n;
	(void)state;
	rec_init(&a);
	rec_init(&b);
	rec_init(&b2);
	rec_init(&c);
	fixture_start(&f, 2);
	set_jobs(f.rt, set1, 2);
	assert_int_equal(rt_tick(f.rt), 2);

	f.now = 50;
	set_jobs(f.rt, set2, 2);
	assert_int_equal(a.released, 1);
	assert_int_equal(b.released, 1);
	assert_int_equal(b2.released, 0);
	n = rt_stats(f.rt, &st);
	assert_int_equal(n, 2);
	assert_string_equal(st[0].name, "b");
	assert_string_equal(st[1].name, "c");
	/* "b" keeps its counters and its phase; "c" is new and due now */
	assert_int_equal(st[0].runs, 1);
	assert_int_equal(st[0].last_started_at, 0);
	assert_int_equal(st[0].next_due_at, 100);
	assert_int_equal(st[1].runs, 0);
	assert_int_equal(st[1].next_due_at, 50);
	rt_stats_free(st, n);

	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(c.n, 1);
	f.now = 100;
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(b2.n, 1);
	f.now = 1000;
	rt_tick(f.rt);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 1);

	/* an empty set runs nothing */
	set_jobs(f.rt, NULL, 0);
	assert_int_equal(b2.released, 1);
	assert_int_equal(c.released, 1);
	f.now = 5000;
	assert_int_equal(rt_tick(f.rt), 0);
	assert_int_equal(rt_stats(f.rt, &st), 0);
	assert_null(st);

	rt_free(f.rt);
	rec_destroy(&a);
	rec_destroy(&b);
	rec_destroy(&b2);
	rec_destroy(&c);
}

static void test_replace_bad_input(void **state)
{
	struct fixture f;
	struct rec r;
	struct sw_err err;
	char longname[300];
	struct rt_job good = {.name = "good", .every_ms = 100, .run = rec_run, .arg = &r};
	struct rt_job bad[][2] = {
	    {{.name = "x", .every_ms = 100, .run = rec_run},
	     {.name = "x", .every_ms = 5, .run = rec_run}},
	    {{.name = "x", .every_ms = 0, .run = rec_run}},
	    {{.name = "x", .every_ms = -5, .run = rec_run}},
	    {{.name = "x", .every_ms = INT64_MAX, .run = rec_run}},
	    {{.name = "x", .every_ms = 100, .run = NULL}},
	    {{.name = "", .every_ms = 100, .run = rec_run}},
	    {{.name = NULL, .every_ms = 100, .run = rec_run}},
	    {{.name = "x", .every_ms = 100, .run = rec_run, .max_backoff_ms = -1}},
	    {{.name = longname, .every_ms = 100, .run = rec_run}},
	};
	struct rt_job_stats *st;
	size_t n;
	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	rec_init(&r);
	fixture_start(&f, 2);
	set_jobs(f.rt, &good, 1);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err.msg[0] = '\0';
		assert_int_equal(rt_jobs_replace(f.rt, bad[i], i == 0 ? 2 : 1, &err), -1);
		assert_true(err.msg[0] != '\0');
	}
	assert_non_null(strstr(err.msg, "too long"));
	/* the good set is untouched */
	n = rt_stats(f.rt, &st);
	assert_int_equal(n, 1);
	assert_string_equal(st[0].name, "good");
	rt_stats_free(st, n);
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(rt_kick(f.rt, "nope"), -1);

	{
		struct rt_opts opts = {.threads = 100000, .manual = true};
		struct rt *rt2 = NULL;
		assert_int_equal(rt_start(&opts, &rt2, &err), -1);
		assert_null(rt2);
		assert_non_null(strstr(err.msg, "too many worker threads"));
	}
	rt_free(f.rt);
	rt_free(NULL);
	rec_destroy(&r);
}

struct replacer {
	struct rt *rt;
	const struct rt_job *jobs;
	size_t n;
	int rc;
	struct rec *old;
	bool old_finished_at_return;
};

static void test_replace_waits_for_running(void **state)
{
	struct fixture f;
	struct rec old, fresh;
	struct rt_job j1 = {
	    .name = "w", .every_ms = 100, .run = rec_run, .arg = &old, .release = rec_release};
	struct rt_job j2 = {.name = "w", .every_ms = 100, .run = rec_run, .arg = &fresh};
	struct sw_err err;
	int64_t t0;
	(void)state;
	rec_init(&old);
	rec_init(&fresh);
	old.sleep_ms = 150;
	fixture_start(&f, 2);
	set_jobs(f.rt, &j1, 1);
	assert_int_equal(rt_submit_due(f.rt), 1);
	rec_wait_started(&old);

	t0 = time_mono_ms();
	assert_int_equal(rt_jobs_replace(f.rt, &j2, 1, &err), 0);
	/* the old run finished, with its old arg, before the swap; then it was released */
	assert_true(rec_finished(&old));
	assert_int_equal(old.released, 1);
	assert_true(time_mono_ms() - t0 >= 100);
	assert_int_equal(fresh.n, 0);

	/* a same-name job whose last run started at 0 is due at 100 */
	f.now = 100;
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(fresh.n, 1);
	assert_int_equal(rec_count(&old), 1);
	rt_free(f.rt);
	rec_destroy(&old);
	rec_destroy(&fresh);
}

static void test_stop_drains(void **state)
{
	struct fixture f;
	struct rec s1, s2, third;
	struct rt_job jobs[] = {
	    {.name = "s1", .every_ms = 100, .run = rec_run, .arg = &s1},
	    {.name = "s2", .every_ms = 100, .run = rec_run, .arg = &s2},
	    {.name = "third", .every_ms = 100, .run = rec_run, .arg = &third},
	};
	struct sw_err err;
	int64_t t0, took;
	(void)state;
	rec_init(&s1);
	rec_init(&s2);
	rec_init(&third);
	s1.sleep_ms = s2.sleep_ms = 200;
	fixture_start(&f, 2);
	set_jobs(f.rt, jobs, 3);
	/* two workers take s1 and s2; third waits in the queue */
	assert_int_equal(rt_submit_due(f.rt), 3);
	rec_wait_started(&s1);
	rec_wait_started(&s2);

	t0 = time_mono_ms();
	assert_int_equal(rt_stop(f.rt, 5000), 0);
	took = time_mono_ms() - t0;
	assert_true(rec_finished(&s1));
	assert_true(rec_finished(&s2));
	assert_true(took >= 100);
	assert_true(took < 2000);
	/* the queued run was dropped, and nothing runs after stop */
	assert_int_equal(rec_count(&third), 0);
	f.now = 1000;
	assert_int_equal(rt_tick(f.rt), 0);
	assert_int_equal(rt_jobs_replace(f.rt, jobs, 1, &err), -1);
	assert_non_null(strstr(err.msg, "stopping"));
	assert_int_equal(rt_stop(f.rt, 0), 0);
	assert_int_equal(rec_count(&s1) + rec_count(&s2) + rec_count(&third), 2);
	rt_free(f.rt);
	rec_destroy(&s1);
	rec_destroy(&s2);
	rec_destroy(&third);
}

struct poller {
	struct rt *rt;
	int polls;
};

/* a long run that checks rt_stopping() between units of work */
static int long_poll(void *arg, int64_t now)
{
	struct poller *p = arg;
	(void)now;
	for (int i = 0; i < 500 && !rt_stopping(p->rt); i++) {
		p->polls++;
		sleep_ms(10);
	}
	return 0;
}

static void test_stop_early_exit(void **state)
{
	struct poller p = {0};
	struct rt_job job = {.name = "long", .every_ms = 100, .run = long_poll, .arg = &p};
	struct rt *rt;
	struct sw_err err;
	int64_t t0;
	(void)state;
	assert_int_equal(rt_start(NULL, &rt, &err), 0);
	p.rt = rt;
	assert_false(rt_stopping(rt));
	set_jobs(rt, &job, 1);
	sleep_ms(50);
	t0 = time_mono_ms();
	assert_int_equal(rt_stop(rt, 5000), 0);
	assert_true(time_mono_ms() - t0 < 1000);
	assert_true(rt_stopping(rt));
	assert_in_range(p.polls, 1, 499);
	rt_free(rt);
}

static void test_stop_timeout(void **state)
{
	struct fixture f;
	struct rec r;
	struct rt_job job = {.name = "stuck", .every_ms = 100, .run = rec_run, .arg = &r};
	int64_t t0;
	(void)state;
	rec_init(&r);
	r.use_gate = true;
	fixture_start(&f, 2);
	set_jobs(f.rt, &job, 1);
	assert_int_equal(rt_submit_due(f.rt), 1);
	rec_wait_started(&r);

	t0 = time_mono_ms();
	assert_int_equal(rt_stop(f.rt, 50), -1);
	assert_true(time_mono_ms() - t0 >= 40);
	rec_open(&r);
	assert_int_equal(rt_stop(f.rt, -1), 0);
	assert_true(rec_finished(&r));
	rt_free(f.rt);
	rec_destroy(&r);
}

static void test_real_clock(void **state)
{
	struct rec r;
	struct rt_job job = {.name = "tick", .every_ms = 50, .run = rec_run, .arg = &r};
	struct rt_opts opts = {0};
	struct rt *rt;
	struct sw_err err;
	int runs;
	(void)state;
	rec_init(&r);
	if (rt_start(&opts, &rt, &err) < 0)
		fail_msg("rt_start: %s", err.msg);
	set_jobs(rt, &job, 1);
	sleep_ms(250);
	assert_int_equal(rt_stop(rt, 2000), 0);
	runs = rec_count(&r);
	print_message("real clock: %d runs of a 50 ms job in 250 ms\n", runs);
	assert_in_range(runs, 4, 7);
	/* runs are in order and none is far late (a loaded machine may start one late and the
	 * next on its slot, so no lower bound beyond order) */
	for (int i = 1; i < runs; i++)
		assert_in_range(r.at[i] - r.at[i - 1], 0, 150);
	sleep_ms(100);
	assert_int_equal(rec_count(&r), runs);
	rt_free(rt);
	rec_destroy(&r);
}

static void test_real_clock_kick_and_replace(void **state)
{
	struct rec r, r2;
	struct rt_job job = {.name = "hourly", .every_ms = 3600000, .run = rec_run, .arg = &r};
	struct rt_job job2 = {.name = "other", .every_ms = 3600000, .run = rec_run, .arg = &r2};
	struct rt_opts opts = {.threads = 2};
	struct rt *rt;
	struct sw_err err;
	int64_t t0;
	(void)state;
	rec_init(&r);
	rec_init(&r2);
	if (rt_start(&opts, &rt, &err) < 0)
		fail_msg("rt_start: %s", err.msg);
	set_jobs(rt, &job, 1);
	/* due at once, then not for an hour; a kick wakes the sleeping scheduler */
	t0 = time_mono_ms();
	while (rec_count(&r) < 1 && time_mono_ms() - t0 < 2000)
		sleep_ms(5);
	assert_int_equal(rec_count(&r), 1);
	assert_int_equal(rt_kick(rt, "hourly"), 0);
	while (rec_count(&r) < 2 && time_mono_ms() - t0 < 2000)
		sleep_ms(5);
	assert_int_equal(rec_count(&r), 2);
	set_jobs(rt, &job2, 1);
	while (rec_count(&r2) < 1 && time_mono_ms() - t0 < 2000)
		sleep_ms(5);
	assert_int_equal(rec_count(&r2), 1);
	rt_free(rt);
	assert_int_equal(rec_count(&r), 2);
	rec_destroy(&r);
	rec_destroy(&r2);
}

static void test_kick(void **state)
{
	struct fixture f;
	struct rec r;
	struct rt_job job = {.name = "k", .every_ms = 1000, .run = rec_run, .arg = &r};
	(void)state;
	rec_init(&r);
	r.use_gate = true;
	fixture_start(&f, 2);
	set_jobs(f.rt, &job, 1);
	assert_int_equal(rt_submit_due(f.rt), 1);
	rec_wait_started(&r);
	/* kicked while running: due again as soon as it finishes */
	assert_int_equal(rt_kick(f.rt, "k"), 0);
	f.now = 10;
	rec_open(&r);
	rt_wait_idle(f.rt);
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(r.at[1], 10);
	/* kicked while idle: due now */
	f.now = 20;
	assert_int_equal(rt_tick(f.rt), 0);
	assert_int_equal(rt_kick(f.rt, "k"), 0);
	assert_int_equal(rt_tick(f.rt), 1);
	f.now = 1019;
	assert_int_equal(rt_tick(f.rt), 0);
	f.now = 1020;
	assert_int_equal(rt_tick(f.rt), 1);
	rt_free(f.rt);
	rec_destroy(&r);
}

/* rt_kick_at: due no later than the time asked, never later than the cadence slot; asked
 * during a run (a job scheduling its own next run), it applies when the run finishes. */
static void test_kick_at(void **state)
{
	struct fixture f;
	struct rec r;
	struct rt_job job = {.name = "k", .every_ms = 1000, .run = rec_run, .arg = &r};
	int64_t due;
	(void)state;
	rec_init(&r);
	r.use_gate = true;
	fixture_start(&f, 2);
	set_jobs(f.rt, &job, 1);
	assert_int_equal(rt_submit_due(f.rt), 1);
	rec_wait_started(&r);
	/* while running: the earliest time asked wins */
	assert_int_equal(rt_kick_at(f.rt, "k", 500), 0);
	assert_int_equal(rt_kick_at(f.rt, "k", 300), 0);
	assert_int_equal(rt_kick_at(f.rt, "k", 800), 0);
	f.now = 10;
	rec_open(&r);
	rt_wait_idle(f.rt);
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, 300);
	f.now = 299;
	assert_int_equal(rt_tick(f.rt), 0);
	f.now = 300;
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(r.at[1], 300);
	/* idle: a time after the next slot changes nothing, an earlier one moves it */
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, 1300);
	assert_int_equal(rt_kick_at(f.rt, "k", 5000), 0);
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, 1300);
	assert_int_equal(rt_kick_at(f.rt, "k", 700), 0);
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, 700);
	f.now = 700;
	assert_int_equal(rt_tick(f.rt), 1);
	/* a time already past while running: due at the finish */
	r.open = false;
	f.now = 1700;
	assert_int_equal(rt_submit_due(f.rt), 1);
	rec_wait_started(&r);
	assert_int_equal(rt_kick_at(f.rt, "k", 100), 0);
	f.now = 1750;
	rec_open(&r);
	rt_wait_idle(f.rt);
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, 1750);
	assert_int_equal(rt_kick_at(f.rt, "nope", 100), -1);
	rt_free(f.rt);
	rec_destroy(&r);
}

static void test_clock_steps(void **state)
{
	struct fixture f;
	struct rec r;
	struct rt_job job = {.name = "j", .every_ms = 100, .run = rec_run, .arg = &r};
	int64_t due;
	(void)state;
	rec_init(&r);
	fixture_start(&f, 2);
	f.now = 10000;
	set_jobs(f.rt, &job, 1);
	assert_int_equal(rt_tick(f.rt), 1);
	/* the wall clock steps back 5 s: the pending due time moves with it */
	f.now = 5000;
	assert_int_equal(rt_tick(f.rt), 0);
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, 5100);
	f.now = 5100;
	assert_int_equal(rt_tick(f.rt), 1);
	/* and steps forward an hour: one run, not a burst of 36000 */
	f.now = 5100 + 3600000;
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(rt_tick(f.rt), 0);
	assert_int_equal(rt_next_due(f.rt, &due), 0);
	assert_int_equal(due, f.now + 100);
	rt_free(f.rt);
	rec_destroy(&r);
}

static void test_stats_snapshot(void **state)
{
	struct fixture f;
	struct rec a, b;
	struct rt_job jobs[] = {
	    {.name = "zeta", .every_ms = 300, .run = rec_run, .arg = &a},
	    {.name = "alpha", .every_ms = 200, .run = rec_run, .arg = &b},
	};
	struct rt_job_stats *st;
	size_t n;
	(void)state;
	rec_init(&a);
	rec_init(&b);
	b.fail_mask = 1;
	b.sleep_ms = 0;
	fixture_start(&f, 0);
	f.now = 1000;
	set_jobs(f.rt, jobs, 2);

	n = rt_stats(f.rt, &st);
	assert_int_equal(n, 2);
	assert_string_equal(st[0].name, "zeta"); /* registration order */
	assert_int_equal(st[0].every_ms, 300);
	assert_int_equal(st[0].runs, 0);
	assert_int_equal(st[0].failures, 0);
	assert_int_equal(st[0].skipped, 0);
	assert_int_equal(st[0].consecutive_failures, 0);
	assert_false(st[0].running);
	assert_int_equal(st[0].last_started_at, TIME_NULL);
	assert_int_equal(st[0].last_duration_ms, -1);
	assert_int_equal(st[0].last_ok_at, TIME_NULL);
	assert_int_equal(st[0].last_error_at, TIME_NULL);
	assert_int_equal(st[0].next_due_at, 1000);
	rt_stats_free(st, n);

	assert_int_equal(rt_tick(f.rt), 2);
	n = rt_stats(f.rt, &st);
	assert_int_equal(st[0].runs, 1);
	assert_int_equal(st[0].last_started_at, 1000);
	assert_int_equal(st[0].last_duration_ms, 0);
	assert_int_equal(st[0].last_ok_at, 1000);
	assert_int_equal(st[0].next_due_at, 1300);
	assert_string_equal(st[1].name, "alpha");
	assert_int_equal(st[1].runs, 1);
	assert_int_equal(st[1].failures, 1);
	assert_int_equal(st[1].consecutive_failures, 1);
	assert_int_equal(st[1].last_rc, -1);
	assert_int_equal(st[1].last_error_at, 1000);
	assert_int_equal(st[1].next_due_at, 1400);
	rt_stats_free(st, n);
	rt_free(f.rt);
	rec_destroy(&a);
	rec_destroy(&b);
}

/* ---- signals ----------------------------------------------------------------------------------
 */

static void *send_hup_later(void *arg)
{
	(void)arg;
	sleep_ms(50);
	kill(getpid(), SIGHUP);
	return NULL;
}

/* Wait (real time, bounded) until r has run n times; false on timeout. */
static bool rec_wait_count(struct rec *r, int n, int64_t timeout_ms)
{
	int64_t t0 = time_mono_ms();
	while (rec_count(r) < n && time_mono_ms() - t0 < timeout_ms)
		sleep_ms(2);
	return rec_count(r) >= n;
}

/* Jobs stuck in slow runs (a source query running into its timeout) never delay the
 * others: in auto mode every job has a worker, and the store lane runs store_lane jobs even
 * when the jobs outnumber the cap. With one thread per core, the healthy jobs waited. */
static void test_isolation(void **state)
{
	struct fixture f;
	struct rec slow[3], healthy, validate;
	struct rt_job jobs[5];
	struct rt_opts opts = {0};
	struct sw_err err;
	(void)state;
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = {"slow_a", "slow_b", "slow_c"};
		rec_init(&slow[i]);
		slow[i].use_gate = true;
		jobs[i] = (struct rt_job){
		    .name = names[i], .every_ms = 100, .run = rec_run, .arg = &slow[i]};
	}
	rec_init(&healthy);
	rec_init(&validate);
	jobs[3] =
	    (struct rt_job){.name = "healthy", .every_ms = 100, .run = rec_run, .arg = &healthy};
	jobs[4] = (struct rt_job){.name = "validate",
	                          .every_ms = 100,
	                          .run = rec_run,
	                          .arg = &validate,
	                          .store_lane = true};

	/* no cap to speak of: a worker per job, plus the store lane */
	f.now = 0;
	f.clock.now_ms = clock_manual_now;
	f.clock.data = &f.now;
	opts.clock = &f.clock;
	opts.manual = true;
	if (rt_start(&opts, &f.rt, &err) < 0)
		fail_msg("rt_start: %s", err.msg);
	set_jobs(f.rt, jobs, 5);
	assert_true(rt_threads(f.rt) >= 6);
	assert_int_equal(rt_submit_due(f.rt), 5);
	for (int i = 0; i < 3; i++)
		rec_wait_started(&slow[i]);
	assert_true(rec_wait_count(&healthy, 1, 5000));
	assert_true(rec_wait_count(&validate, 1, 5000));
	for (int i = 0; i < 3; i++)
		rec_open(&slow[i]);
	rt_wait_idle(f.rt);
	rt_free(f.rt);

	/* capped at 3 general workers, all held by the slow jobs: the store lane still runs
	 * the validator; the healthy job waits for a general worker */
	for (int i = 0; i < 3; i++) {
		rec_destroy(&slow[i]);
		rec_init(&slow[i]);
		slow[i].use_gate = true;
	}
	rec_destroy(&healthy);
	rec_init(&healthy);
	rec_destroy(&validate);
	rec_init(&validate);
	opts.max_threads = 3;
	if (rt_start(&opts, &f.rt, &err) < 0)
		fail_msg("rt_start: %s", err.msg);
	set_jobs(f.rt, jobs, 5);
	assert_int_equal(rt_threads(f.rt), 4);
	assert_int_equal(rt_submit_due(f.rt), 5);
	for (int i = 0; i < 3; i++)
		rec_wait_started(&slow[i]);
	assert_true(rec_wait_count(&validate, 1, 5000));
	sleep_ms(50);
	assert_int_equal(rec_count(&healthy), 0);
	for (int i = 0; i < 3; i++)
		rec_open(&slow[i]);
	rt_wait_idle(f.rt);
	assert_int_equal(rec_count(&healthy), 1);
	rt_free(f.rt);

	/* a fixed thread count has no store lane */
	fixture_start(&f, 2);
	set_jobs(f.rt, jobs, 5);
	assert_int_equal(rt_threads(f.rt), 2);
	rt_free(f.rt);
	for (int i = 0; i < 3; i++)
		rec_destroy(&slow[i]);
	rec_destroy(&healthy);
	rec_destroy(&validate);
}

/* rt_kick_failing: the jobs backing off after failures are due now; the others keep
 * their slot. */
static void test_kick_failing(void **state)
{
	struct fixture f;
	struct rec bad, good;
	struct rt_job jobs[] = {
	    {.name = "bad", .every_ms = 1000, .run = rec_run, .arg = &bad},
	    {.name = "good", .every_ms = 1000, .run = rec_run, .arg = &good},
	};
	struct rt_job_stats *st;
	size_t n;
	(void)state;
	rec_init(&bad);
	rec_init(&good);
	bad.fail_mask = 0x3; /* runs 0-1 fail */
	fixture_start(&f, 2);
	set_jobs(f.rt, jobs, 2);
	assert_int_equal(rt_tick(f.rt), 2); /* t=0: bad fails, retry at 2000 */
	f.now = 1000;
	assert_int_equal(rt_tick(f.rt), 1);
	f.now = 2000;
	assert_int_equal(rt_tick(f.rt), 2); /* bad fails again: retry at 6000 */
	f.now = 3000;
	assert_int_equal(rt_tick(f.rt), 1);
	f.now = 3500;
	assert_int_equal(rt_tick(f.rt), 0);
	assert_int_equal(rt_kick_failing(f.rt), 1);
	assert_int_equal(rt_tick(f.rt), 1);
	assert_int_equal(rec_count(&bad), 3);
	n = rt_stats(f.rt, &st);
	assert_int_equal(find_stats(st, n, "bad")->consecutive_failures, 0);
	assert_int_equal(find_stats(st, n, "good")->next_due_at, 4000);
	rt_stats_free(st, n);
	assert_int_equal(rt_kick_failing(f.rt), 0);
	rt_free(f.rt);
	rec_destroy(&bad);
	rec_destroy(&good);
}

/* A clock that reads the values of a script in turn, then the last one for ever. */
static const int64_t step_script[] = {3600000, 3600000, 3600000, 3600000, 0};
static atomic_int step_reads;

static int64_t scripted_now(const struct sw_clock *c)
{
	int i = atomic_fetch_add(&step_reads, 1);
	(void)c;
	return step_script[i < (int)ARRAY_SIZE(step_script) ? i : (int)ARRAY_SIZE(step_script) - 1];
}

/* The wall clock steps back one hour between a run's last clock reading and its
 * re-scheduling: the next due time follows the clock as it reads then (within one cadence),
 * not the old time base (a watcher stalled for the whole hour under libfaketime). */
static void test_clock_step_during_rescheduling(void **state)
{
	struct sw_clock clk = {scripted_now, NULL};
	struct rt_opts opts = {.clock = &clk, .threads = 2, .manual = true};
	struct rec r;
	struct rt_job job = {.name = "watch", .every_ms = 1000, .run = rec_run, .arg = &r};
	struct rt_job_stats *st;
	struct rt *rt_;
	struct sw_err err;
	size_t n;
	(void)state;
	rec_init(&r);
	atomic_store(&step_reads, 0);
	if (rt_start(&opts, &rt_, &err) < 0)
		fail_msg("rt_start: %s", err.msg);
	set_jobs(rt_, &job, 1);            /* reads 3600000: due now */
	assert_int_equal(rt_tick(rt_), 1); /* submit, start, finish at +1h; then 0 */
	n = rt_stats(rt_, &st);
	assert_in_range(st[0].next_due_at, 0, 1000);
	rt_stats_free(st, n);
	assert_int_equal(rt_tick(rt_), 1); /* due again at once, not in an hour */
	rt_free(rt_);
	rec_destroy(&r);
}

static void test_signals(void **state)
{
	struct sw_err err;
	pthread_t th;
	int64_t t0;
	(void)state;
	assert_int_equal(signals_install(&err), 0);
	assert_int_equal(signals_install(&err), 0); /* idempotent */
	assert_false(signals_take_stop());
	assert_false(signals_take_reload());

	t0 = time_mono_ms();
	assert_int_equal(signals_wait(60), 0);
	assert_true(time_mono_ms() - t0 >= 50);

	raise(SIGHUP);
	assert_int_equal(signals_wait(1000), 1);
	assert_false(signals_take_stop());
	assert_true(signals_take_reload());
	assert_false(signals_take_reload());

	raise(SIGTERM);
	assert_true(signals_take_stop());
	assert_false(signals_take_stop());
	raise(SIGINT);
	raise(SIGINT);
	assert_true(signals_take_stop()); /* two count as one */
	assert_false(signals_take_stop());
	raise(SIGPIPE); /* ignored: still alive */

	/* a signal from elsewhere wakes a waiting main loop */
	assert_int_equal(pthread_create(&th, NULL, send_hup_later, NULL), 0);
	t0 = time_mono_ms();
	assert_int_equal(signals_wait(5000), 1);
	assert_true(time_mono_ms() - t0 < 4000);
	pthread_join(th, NULL);
	assert_true(signals_take_reload());
	assert_int_equal(signals_wait(0), 0);

	signals_uninstall();
	assert_int_equal(signals_wait(10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cadence),
	    cmocka_unit_test(test_no_overlap),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_replace_bad_input),
	    cmocka_unit_test(test_replace_waits_for_running),
	    cmocka_unit_test(test_stop_drains),
	    cmocka_unit_test(test_stop_timeout),
	    cmocka_unit_test(test_stop_early_exit),
	    cmocka_unit_test(test_real_clock),
	    cmocka_unit_test(test_real_clock_kick_and_replace),
	    cmocka_unit_test(test_kick),
	    cmocka_unit_test(test_kick_at),
	    cmocka_unit_test(test_clock_steps),
	    cmocka_unit_test(test_stats_snapshot),
	    cmocka_unit_test(test_isolation),
	    cmocka_unit_test(test_kick_failing),
	    cmocka_unit_test(test_clock_step_during_rescheduling),
	    cmocka_unit_test(test_signals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
