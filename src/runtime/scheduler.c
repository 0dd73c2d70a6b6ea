/*
 * scheduler.c - the runtime's public interface (runtime.h): the job set, a min-heap of due
 * times, the scheduler thread, re-scheduling after each run (no overlap, backoff), reload,
 * stop and stats.
 *
 * DESIGN: a job is in exactly one place: the heap (IDLE), the pool's FIFO (QUEUED) or a
 * worker (RUNNING). The scheduler only pops from the heap, so a job that is queued or running
 * cannot be queued twice; it goes back into the heap when its run ends, at
 *
 *	next = max(anchor + interval, finish)
 *
 * where interval is every (or the backoff after a failure) and anchor is the slot it was due
 * at, or its start when it started more than one interval late (the process was suspended,
 * the clock stepped forward, the pool was saturated): late slots are not "caught up" in a
 * burst. The slots that passed during the run beyond the one run at finish are counted as
 * skipped. The scheduler thread sleeps on a CLOCK_MONOTONIC condition variable until the
 * earliest due time, at most one second so that a step of the wall clock is noticed; a
 * backward step shifts every pending due time by the same amount so cadences hold.
 */
#include "util/common.h"
#include "runtime/runtime-int.h"
#include "runtime/signals.h"
#include "util/log.h"
#include <unistd.h>

#define RT_MAX_THREADS    1024
#define RT_MAX_EVERY_MS   (366LL * 86400 * 1000)
#define RT_MAX_NAME       200
#define RT_DEFAULT_CAP_MS 60000
#define RT_SCHED_MAX_WAIT 1000

/* ---- condition variables on the monotonic clock ----------------------------------------- */

void rt__cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

bool rt__cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t deadline_mono)
{
	struct timespec ts;

	if (deadline_mono < 0) {
		pthread_cond_wait(cond, lock);
		return true;
	}
	ts.tv_sec = (time_t)(deadline_mono / 1000);
	ts.tv_nsec = (long)(deadline_mono % 1000) * 1000000;
	return pthread_cond_timedwait(cond, lock, &ts) != ETIMEDOUT;
}

/* ---- the heap of IDLE entries, ordered by (due, seq) ------------------------------------ */

static bool before(const struct rt_entry *a, const struct rt_entry *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(struct rt *rt, size_t i, struct rt_entry *e)
{
	rt->heap[i] = e;
	e->heap_idx = i;
}

static void heap_up(struct rt *rt, size_t i)
{
	struct rt_entry *e = rt->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(e, rt->heap[parent]))
			break;
		heap_set(rt, i, rt->heap[parent]);
		i = parent;
	}
	heap_set(rt, i, e);
}

static void heap_down(struct rt *rt, size_t i)
{
	struct rt_entry *e = rt->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= rt->n_heap)
			break;
		if (c + 1 < rt->n_heap && before(rt->heap[c + 1], rt->heap[c]))
			c++;
		if (!before(rt->heap[c], e))
			break;
		heap_set(rt, i, rt->heap[c]);
		i = c;
	}
	heap_set(rt, i, e);
}

static void heap_push(struct rt *rt, struct rt_entry *e)
{
	ALLOC_GROW(rt->heap, rt->n_heap + 1, rt->alloc_heap);
	rt->heap[rt->n_heap++] = e;
	e->in_heap = true;
	heap_up(rt, rt->n_heap - 1);
}

static struct rt_entry *heap_pop(struct rt *rt)
{
	struct rt_entry *top = rt->heap[0];

	rt->n_heap--;
	if (rt->n_heap) {
		heap_set(rt, 0, rt->heap[rt->n_heap]);
		heap_down(rt, 0);
	}
	top->in_heap = false;
	return top;
}

/* ---- submitting and re-scheduling --------------------------------------------------------- */

static size_t submit_due_locked(struct rt *rt, int64_t now)
{
	size_t n = 0;

	if (rt->stopping)
		return 0;
	if (rt->last_now != TIME_NULL && now < rt->last_now) {
		int64_t back = rt->last_now - now;
		for (size_t i = 0; i < rt->n_heap; i++)
			rt->heap[i]->due -= back; /* same shift for all: still a heap */
		if (back >= 1000)
			log_warn("clock stepped back, shifting schedule", "by_ms=%" PRId64, back);
	}
	rt->last_now = now;
	while (rt->n_heap && rt->heap[0]->due <= now) {
		rt__pool_push(rt, heap_pop(rt));
		n++;
	}
	return n;
}

static int64_t backoff_ms(const struct rt_entry *e)
{
	int64_t every = e->job.every_ms;
	int64_t cap = e->job.max_backoff_ms;
	int64_t d = every;

	if (cap <= 0) {
		cap = every * 10;
		if (cap > RT_DEFAULT_CAP_MS)
			cap = RT_DEFAULT_CAP_MS;
	}
	if (cap < every)
		cap = every;
	for (uint32_t k = 0; k < e->consecutive_failures && d < cap; k++)
		d = d > cap / 2 ? cap : d * 2;
	return d;
}

void rt__run_done(struct rt *rt, struct rt_entry *e, int rc, int64_t started, int64_t finished)
{
	int64_t interval, anchor, next, now;

	e->state = RT_IDLE;
	rt->n_running--;
	e->runs++;
	e->last_rc = rc;
	if (finished < started) /* the clock stepped back during the run */
		started = finished;
	e->last_duration_ms = finished - started;
	if (rc < 0) {
		e->failures++;
		e->consecutive_failures++;
		e->last_error_at = finished;
		interval = backoff_ms(e);
		if (e->consecutive_failures == 1)
			log_warn("job failed, backing off", "job=%s rc=%d retry_in_ms=%" PRId64,
			         e->job.name, rc, interval);
	} else {
		if (e->consecutive_failures)
			log_info("job recovered", "job=%s failures=%u", e->job.name,
			         (unsigned)e->consecutive_failures);
		e->consecutive_failures = 0;
		e->last_ok_at = finished;
		interval = e->job.every_ms;
	}

	anchor = e->due;
	if (started - anchor >= e->job.every_ms || started < anchor)
		anchor = started;
	next = anchor + interval;
	if (finished >= next) {
		/* slots in (anchor, finished]: one runs now, the others are dropped */
		e->skipped += (uint64_t)((finished - anchor) / interval - 1);
		next = finished;
	}
	if (e->kicked) {
		e->kicked = false;
		if (e->kick_at < next)
			next = e->kick_at > finished ? e->kick_at : finished;
	}
	/* never more than one interval ahead of the clock as it reads now: when it stepped
	 * back between the run's last reading and here, next is in the old time base, and the
	 * scheduler may already have shifted the heap (it would wait for the whole step) */
	now = clock_now(rt->clock);
	if (next > now + interval)
		next = now + interval;
	e->due = next;
	if (!e->retired && !rt->stopping) {
		heap_push(rt, e);
		pthread_cond_signal(&rt->sched_cond);
	}
	pthread_cond_broadcast(&rt->idle_cond);
}

static void *sched_main(void *arg)
{
	struct rt *rt = arg;

	pthread_mutex_lock(&rt->lock);
	while (!rt->stopping) {
		int64_t now = clock_now(rt->clock);
		int64_t wait = RT_SCHED_MAX_WAIT;

		submit_due_locked(rt, now);
		if (rt->n_heap) {
			int64_t d = rt->heap[0]->due - now;
			if (d < wait)
				wait = d < 1 ? 1 : d;
		}
		rt__cond_wait(&rt->sched_cond, &rt->lock, time_mono_ms() + wait);
	}
	pthread_mutex_unlock(&rt->lock);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void entry_free(struct rt_entry *e)
{
	if (!e)
		return;
	if (e->job.release)
		e->job.release(e->job.arg);
	free(e->name);
	free(e);
}

static void rt_destroy(struct rt *rt)
{
	for (size_t i = 0; i < rt->n_jobs; i++)
		entry_free(rt->jobs[i]);
	free(rt->jobs);
	free(rt->heap);
	free(rt->workers);
	pthread_cond_destroy(&rt->sched_cond);
	pthread_cond_destroy(&rt->work_cond);
	pthread_cond_destroy(&rt->lane_cond);
	pthread_cond_destroy(&rt->idle_cond);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

int rt_start(const struct rt_opts *opts, struct rt **out, struct sw_err *err)
{
	static const struct rt_opts defaults;
	struct rt *rt;
	unsigned n;
	bool auto_threads = false;
	int rc = 0;

	if (!opts)
		opts = &defaults;
	n = opts->threads;

	*out = NULL;
	if (n == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores < 2 ? 2 : cores > 64 ? 64 : (unsigned)cores;
		auto_threads = true;
	}
	if (n > RT_MAX_THREADS)
		return sw_err_set(err, "too many worker threads (%u, at most %d)", n,
		                  RT_MAX_THREADS);

	rt = xcalloc(1, sizeof(*rt));
	rt->clock = opts->clock ? opts->clock : &clock_system;
	rt->manual = opts->manual;
	rt->auto_threads = auto_threads;
	rt->max_threads = opts->max_threads ? opts->max_threads : RT_AUTO_MAX_THREADS;
	if (rt->max_threads > RT_MAX_THREADS)
		rt->max_threads = RT_MAX_THREADS;
	if (auto_threads && n > rt->max_threads)
		n = rt->max_threads;
	rt->min_threads = n;
	rt->last_now = TIME_NULL;
	pthread_mutex_init(&rt->lock, NULL);
	rt__cond_init(&rt->sched_cond);
	rt__cond_init(&rt->work_cond);
	rt__cond_init(&rt->lane_cond);
	rt__cond_init(&rt->idle_cond);

	if ((rc = rt__pool_start(rt, n, auto_threads, err)) < 0)
		goto out;
	if (!rt->manual) {
		sigset_t old;
		int e;
		signals_block_async(&old);
		e = pthread_create(&rt->sched, NULL, sched_main, rt);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (e)
			rc = sw_err_set(err, "cannot start scheduler thread: %s", strerror(e));
		else
			rt->has_sched = true;
	}
out:
	if (rc < 0) {
		rt->stopping = true;
		rt__pool_join(rt);
		rt_destroy(rt);
		return -1;
	}
	*out = rt;
	return 0;
}

int rt_stop(struct rt *rt, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : time_mono_ms() + timeout_ms;
	bool drained = true, join;

	pthread_mutex_lock(&rt->lock);
	if (!rt->stopping) {
		rt->stopping = true;
		rt__pool_drop(rt, true);
		pthread_cond_broadcast(&rt->sched_cond);
	}
	while (rt->n_running) {
		/* a timeout is believed only once the monotonic clock says so (an interposed
		 * pthread_cond_timedwait, as libfaketime's, may time out early) */
		if (!rt__cond_wait(&rt->idle_cond, &rt->lock, deadline) &&
		    time_mono_ms() >= deadline) {
			drained = rt->n_running == 0;
			break;
		}
	}
	join = drained && !rt->joined;
	if (join)
		rt->joined = true;
	pthread_mutex_unlock(&rt->lock);

	if (join) {
		if (rt->has_sched)
			pthread_join(rt->sched, NULL);
		rt__pool_join(rt);
	}
	return drained ? 0 : -1;
}

bool rt_stopping(struct rt *rt)
{
	bool s;

	pthread_mutex_lock(&rt->lock);
	s = rt->stopping;
	pthread_mutex_unlock(&rt->lock);
	return s;
}

void rt_free(struct rt *rt)
{
	bool joined;

	if (!rt)
		return;
	pthread_mutex_lock(&rt->lock);
	joined = rt->joined;
	pthread_mutex_unlock(&rt->lock);
	if (!joined)
		rt_stop(rt, -1);
	rt_destroy(rt);
}

/* ---- the job set ---------------------------------------------------------------------------- */

static int jobs_validate(const struct rt_job *jobs, size_t n, struct sw_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct rt_job *j = &jobs[i];
		if (!j->name || !*j->name)
			return sw_err_set(err, "job %zu has no name", i);
		if (strlen(j->name) > RT_MAX_NAME)
			return sw_err_set(err, "job name '%.40s...' is too long (at most %d bytes)",
			                  j->name, RT_MAX_NAME);
		if (!j->run)
			return sw_err_set(err, "job '%s' has no run function", j->name);
		if (j->every_ms <= 0 || j->every_ms > RT_MAX_EVERY_MS)
			return sw_err_set(err,
			                  "job '%s' has a bad cadence (%" PRId64
			                  " ms; must be 1 ms to 366 days)",
			                  j->name, j->every_ms);
		if (j->max_backoff_ms < 0 || j->max_backoff_ms > RT_MAX_EVERY_MS)
			return sw_err_set(err, "job '%s' has a bad backoff cap (%" PRId64 " ms)",
			                  j->name, j->max_backoff_ms);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(jobs[k].name, j->name))
				return sw_err_set(err, "job '%s' is defined twice", j->name);
	}
	return 0;
}

static struct rt_entry *find_entry(struct rt_entry **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i]->job.name, name))
			return v[i];
	return NULL;
}

static bool any_running(struct rt_entry **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->state == RT_RUNNING)
			return true;
	return false;
}

int rt_jobs_replace(struct rt *rt, const struct rt_job *jobs, size_t n, struct sw_err *err)
{
	struct rt_entry **old = NULL, **fresh = NULL;
	size_t n_old = 0;
	int64_t now;
	int rc;

	if ((rc = jobs_validate(jobs, n, err)) < 0)
		return -1;

	pthread_mutex_lock(&rt->lock);
	while (rt->replacing)
		pthread_cond_wait(&rt->idle_cond, &rt->lock);
	if (rt->stopping) {
		rc = sw_err_set(err, "cannot replace jobs: the runtime is stopping");
		goto out;
	}
	rt->replacing = true;

	/* unschedule the old set; drop its queued runs; let its running ones finish */
	old = rt->jobs;
	n_old = rt->n_jobs;
	for (size_t i = 0; i < n_old; i++) {
		old[i]->retired = true;
		old[i]->in_heap = false;
	}
	rt->n_heap = 0;
	rt__pool_drop(rt, false);
	while (any_running(old, n_old))
		pthread_cond_wait(&rt->idle_cond, &rt->lock);

	now = clock_now(rt->clock);
	fresh = n ? xcalloc(n, sizeof(*fresh)) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct rt_entry *e = xcalloc(1, sizeof(*e));
		const struct rt_entry *o = find_entry(old, n_old, jobs[i].name);

		e->job = jobs[i];
		e->name = xstrdup(jobs[i].name);
		e->job.name = e->name;
		e->seq = rt->seq++;
		e->last_started_at = TIME_NULL;
		e->last_duration_ms = -1;
		e->last_ok_at = TIME_NULL;
		e->last_error_at = TIME_NULL;
		e->due = now;
		if (o) {
			e->runs = o->runs;
			e->failures = o->failures;
			e->skipped = o->skipped;
			e->last_rc = o->last_rc;
			e->last_started_at = o->last_started_at;
			e->last_duration_ms = o->last_duration_ms;
			e->last_ok_at = o->last_ok_at;
			e->last_error_at = o->last_error_at;
			/* a failing job gets a fresh start: the reload may be its fix */
			if (!o->consecutive_failures && o->last_started_at != TIME_NULL &&
			    o->last_started_at + e->job.every_ms > now)
				e->due = o->last_started_at + e->job.every_ms;
		}
		fresh[i] = e;
		if (!rt->stopping)
			heap_push(rt, e);
	}
	rt->jobs = fresh;
	rt->n_jobs = rt->alloc_jobs = n;
	if (rt->auto_threads && !rt->stopping)
		rt__pool_grow(rt, n > rt->max_threads   ? rt->max_threads
		                  : n > rt->min_threads ? (unsigned)n
		                                        : rt->min_threads);
	rt->replacing = false;
	pthread_cond_broadcast(&rt->idle_cond);
	pthread_cond_signal(&rt->sched_cond);
out:
	pthread_mutex_unlock(&rt->lock);
	if (rc >= 0) {
		for (size_t i = 0; i < n_old; i++)
			entry_free(old[i]);
		free(old);
	}
	return rc < 0 ? -1 : 0;
}

int rt_kick_at(struct rt *rt, const char *name, int64_t at)
{
	struct rt_entry *e;
	int rc = 0;

	pthread_mutex_lock(&rt->lock);
	e = find_entry(rt->jobs, rt->n_jobs, name);
	if (!e) {
		rc = -1;
	} else if (e->state != RT_IDLE) {
		if (!e->kicked || at < e->kick_at)
			e->kick_at = at;
		e->kicked = true;
	} else if (e->in_heap && at < e->due) {
		e->due = at;
		heap_up(rt, e->heap_idx);
		pthread_cond_signal(&rt->sched_cond);
	}
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

int rt_kick(struct rt *rt, const char *name)
{
	return rt_kick_at(rt, name, clock_now(rt->clock));
}

size_t rt_kick_failing(struct rt *rt)
{
	int64_t now = clock_now(rt->clock);
	size_t n = 0;

	pthread_mutex_lock(&rt->lock);
	for (size_t i = 0; i < rt->n_jobs; i++) {
		struct rt_entry *e = rt->jobs[i];
		if (!e->consecutive_failures)
			continue;
		if (e->state != RT_IDLE) {
			if (!e->kicked || now < e->kick_at)
				e->kick_at = now;
			e->kicked = true;
			n++;
		} else if (e->in_heap && now < e->due) {
			e->due = now;
			heap_up(rt, e->heap_idx);
			n++;
		}
	}
	if (n)
		pthread_cond_signal(&rt->sched_cond);
	pthread_mutex_unlock(&rt->lock);
	return n;
}

unsigned rt_threads(struct rt *rt)
{
	unsigned n;

	pthread_mutex_lock(&rt->lock);
	n = rt->n_workers;
	pthread_mutex_unlock(&rt->lock);
	return n;
}

/* ---- driving by hand --------------------------------------------------------------------------
 */

size_t rt_submit_due(struct rt *rt)
{
	size_t n;

	pthread_mutex_lock(&rt->lock);
	n = submit_due_locked(rt, clock_now(rt->clock));
	pthread_mutex_unlock(&rt->lock);
	return n;
}

void rt_wait_idle(struct rt *rt)
{
	pthread_mutex_lock(&rt->lock);
	while (rt->n_queued || rt->n_running)
		pthread_cond_wait(&rt->idle_cond, &rt->lock);
	pthread_mutex_unlock(&rt->lock);
}

size_t rt_tick(struct rt *rt)
{
	size_t n = rt_submit_due(rt);

	rt_wait_idle(rt);
	return n;
}

int rt_next_due(struct rt *rt, int64_t *due)
{
	int rc = -1;

	pthread_mutex_lock(&rt->lock);
	if (rt->n_heap) {
		*due = rt->heap[0]->due;
		rc = 0;
	}
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

/* ---- stats ------------------------------------------------------------------------------------
 */

size_t rt_stats(struct rt *rt, struct rt_job_stats **out)
{
	struct rt_job_stats *v = NULL;
	size_t n;

	pthread_mutex_lock(&rt->lock);
	n = rt->n_jobs;
	if (n)
		v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct rt_entry *e = rt->jobs[i];
		struct rt_job_stats *s = &v[i];
		s->name = xstrdup(e->job.name);
		s->every_ms = e->job.every_ms;
		s->runs = e->runs;
		s->failures = e->failures;
		s->skipped = e->skipped;
		s->consecutive_failures = e->consecutive_failures;
		s->running = e->state != RT_IDLE;
		s->last_rc = e->last_rc;
		s->last_started_at = e->last_started_at;
		s->last_duration_ms = e->last_duration_ms;
		s->last_ok_at = e->last_ok_at;
		s->last_error_at = e->last_error_at;
		s->next_due_at = e->in_heap ? e->due : TIME_NULL;
	}
	pthread_mutex_unlock(&rt->lock);
	*out = v;
	return n;
}

void rt_stats_free(struct rt_job_stats *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
