/*
 * pool.c - the runtime's worker threads: a FIFO of queued job entries under the runtime's
 * mutex, N threads that take one, run it without the lock, and hand the result back to the
 * scheduler (rt__run_done) to be re-scheduled.
 *
 * DESIGN: one mutex for the scheduler and the pool. Jobs run for milliseconds to seconds and
 * there are a handful of them, so the lock is taken a few times per run and never contended
 * in a way that matters; one lock makes "not queued twice", "drop on stop" and "wait until
 * idle" plain state checks instead of a protocol between two locks.
 */
#include "util/common.h"
#include "runtime/runtime-int.h"
#include "runtime/signals.h"

static void *worker_main(void *arg)
{
	struct rt *rt = arg;

	pthread_mutex_lock(&rt->lock);
	for (;;) {
		struct rt_entry *e;
		int64_t started, finished;
		int rc;

		while (!rt->qhead && !rt->exiting)
			pthread_cond_wait(&rt->work_cond, &rt->lock);
		if (!rt->qhead)
			break;
		e = rt->qhead;
		rt->qhead = e->qnext;
		if (!rt->qhead)
			rt->qtail = NULL;
		e->qnext = NULL;
		rt->n_queued--;
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
	return NULL;
}

int rt__pool_start(struct rt *rt, unsigned n, struct sw_err *err)
{
	sigset_t old;
	int rc = 0;

	rt->workers = xcalloc(n, sizeof(*rt->workers));
	signals_block_async(&old);
	for (rt->n_workers = 0; rt->n_workers < n; rt->n_workers++) {
		int e = pthread_create(&rt->workers[rt->n_workers], NULL, worker_main, rt);
		if (e) {
			rc = sw_err_set(err, "cannot start worker thread: %s", strerror(e));
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc < 0 ? -1 : 0;
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
	pthread_mutex_unlock(&rt->lock);
	for (unsigned i = 0; i < rt->n_workers; i++)
		pthread_join(rt->workers[i], NULL);
	rt->n_workers = 0;
}
