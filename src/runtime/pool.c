/*
 * pool.c - the runtime's worker threads: a FIFO of queued job entries under the runtime's
 * mutex, N threads that take one, run it without the lock, and hand the result back to the
 * scheduler (rt__run_done) to be re-scheduled.
 *
 * The store lane (auto mode): one more worker that takes only store_lane jobs, the first
 * such one in the FIFO, so they always have a thread even when every general worker is
 * held by a slow source query. It waits on its own condition variable, signalled when such
 * a job is queued; general workers take any job, store_lane ones included.
 *
 * DESIGN: one mutex for the scheduler and the pool. Jobs run for milliseconds to seconds and
 * there are a handful of them, so the lock is taken a few times per run and never contended
 * in a way that matters; one lock makes "not queued twice", "drop on stop" and "wait until
 * idle" plain state checks instead of a protocol between two locks.
 */
#include "util/common.h"
#include "runtime/runtime-int.h"
#include "runtime/signals.h"
#include "util/log.h"

/* Locked: take the next entry this worker may run, or NULL. A general worker takes the head
 * of the FIFO; the store lane the first store_lane entry. */
static struct rt_entry *take(struct rt *rt, bool lane)
{
	struct rt_entry **pp = &rt->qhead, *prev = NULL, *e;

	while (*pp && lane && !(*pp)->job.store_lane) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	e = *pp;
	if (!e)
		return NULL;
	*pp = e->qnext;
	if (rt->qtail == e)
		rt->qtail = prev;
	e->qnext = NULL;
	rt->n_queued--;
	return e;
}

static void worker_loop(struct rt *rt, bool lane)
{
	pthread_cond_t *cond = lane ? &rt->lane_cond : &rt->work_cond;

	pthread_mutex_lock(&rt->lock);
	for (;;) {
		struct rt_entry *e;
		int64_t started, finished;
		int rc;

		while (!(e = take(rt, lane)) && !rt->exiting)
			pthread_cond_wait(cond, &rt->lock);
		if (!e)
			break;
		e->state = RT_RUNNING;
		rt->n_running++;
		started = clock_now(rt->clock);
		e->last_started_at = started;
		pthread_mutex_unlock(&rt->lock);

		rc = e->job.run(e->job.arg, started);
		finished = clock_now(rt->clock);

		pthread_mutex_lock(&rt->lock);
		rt__run_done(rt, e, rc, started, finished);
	}
	pthread_mutex_unlock(&rt->lock);
}

static void *worker_main(void *arg)
{
	worker_loop(arg, false);
	return NULL;
}

static void *lane_main(void *arg)
{
	worker_loop(arg, true);
	return NULL;
}

/* Start one more worker (locked, or before any other thread exists). */
static int spawn(struct rt *rt, bool lane)
{
	sigset_t old;
	int e;

	ALLOC_GROW(rt->workers, rt->n_workers + 1, rt->alloc_workers);
	signals_block_async(&old);
	e = pthread_create(&rt->workers[rt->n_workers], NULL, lane ? lane_main : worker_main, rt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!e)
		rt->n_workers++;
	return e;
}

int rt__pool_start(struct rt *rt, unsigned n, bool lane, struct sw_err *err)
{
	int e;

	if (lane) {
		if ((e = spawn(rt, true)))
			return sw_err_set(err, "cannot start worker thread: %s", strerror(e));
		rt->has_lane = true;
	}
	for (unsigned i = 0; i < n; i++)
		if ((e = spawn(rt, false)))
			return sw_err_set(err, "cannot start worker thread: %s", strerror(e));
	return 0;
}

void rt__pool_grow(struct rt *rt, unsigned n)
{
	unsigned have = rt->n_workers - (rt->has_lane ? 1 : 0);
	unsigned before = have;

	for (; have < n; have++) {
		int e = spawn(rt, false);
		if (e) {
			log_warn("cannot start another worker thread", "threads=%u error=%s",
			         rt->n_workers, strerror(e));
			break;
		}
	}
	if (have > before)
		log_debug("worker threads added", "threads=%u", rt->n_workers);
}

void rt__pool_push(struct rt *rt, struct rt_entry *e)
{
	e->state = RT_QUEUED;
	e->qnext = NULL;
	if (rt->qtail)
		rt->qtail->qnext = e;
	else
		rt->qhead = e;
	rt->qtail = e;
	rt->n_queued++;
	pthread_cond_signal(&rt->work_cond);
	if (e->job.store_lane && rt->has_lane)
		pthread_cond_signal(&rt->lane_cond);
}

void rt__pool_drop(struct rt *rt, bool all)
{
	struct rt_entry **pp = &rt->qhead;

	rt->qtail = NULL;
	while (*pp) {
		struct rt_entry *e = *pp;
		if (all || e->retired) {
			*pp = e->qnext;
			e->qnext = NULL;
			e->state = RT_IDLE;
			rt->n_queued--;
		} else {
			rt->qtail = e;
			pp = &e->qnext;
		}
	}
	pthread_cond_broadcast(&rt->idle_cond);
}

void rt__pool_join(struct rt *rt)
{
	pthread_mutex_lock(&rt->lock);
	rt->exiting = true;
	pthread_cond_broadcast(&rt->work_cond);
	pthread_cond_broadcast(&rt->lane_cond);
	pthread_mutex_unlock(&rt->lock);
	for (unsigned i = 0; i < rt->n_workers; i++)
		pthread_join(rt->workers[i], NULL);
	rt->n_workers = 0;
}
