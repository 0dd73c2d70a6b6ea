/*
 * runtime-int.h - what scheduler.c and pool.c share: the runtime struct, the job entries and
 * the pool's entry points. Not for use outside src/runtime/.
 *
 * Locking: one mutex (rt->lock) guards everything below that is not marked immutable. Jobs
 * run without it. A run's life: IDLE in the heap -> QUEUED in the pool's FIFO -> RUNNING on
 * a worker -> back to IDLE (re-inserted in the heap, or left out when retired/stopping).
 */
#ifndef SW_RUNTIME_INT_H
#define SW_RUNTIME_INT_H

#include "util/common.h"
#include "runtime/runtime.h"
#include <pthread.h>

enum rt_state {
	RT_IDLE,
	RT_QUEUED,
	RT_RUNNING
};

struct rt_entry {
	struct rt_job job; /* immutable; job.name points to name */
	char *name;        /* immutable, owned */
	uint64_t seq;      /* immutable; breaks due-time ties: registration order */
	enum rt_state state;
	bool in_heap;
	bool retired;    /* no longer in the set: never re-scheduled */
	bool kicked;     /* rt_kick()/rt_kick_at() while running: due at max(kick_at, finish) */
	int64_t kick_at; /* with kicked: the earliest time asked for */
	size_t heap_idx;
	int64_t due;
	struct rt_entry *qnext;
	/* stats */
	uint64_t runs, failures, skipped;
	uint32_t consecutive_failures;
	int last_rc;
	int64_t last_started_at, last_duration_ms, last_ok_at, last_error_at;
};

struct rt {
	const struct sw_clock *clock; /* immutable */
	bool manual;                  /* immutable */
	pthread_mutex_t lock;
	pthread_cond_t sched_cond; /* scheduler: the heap or the state changed */
	pthread_cond_t work_cond;  /* workers: queue non-empty or exiting */
	pthread_cond_t lane_cond;  /* the store lane: a store_lane entry queued, or exiting */
	pthread_cond_t idle_cond;  /* waiters: a run finished or was dropped */

	struct rt_entry **jobs; /* the current set, registration order */
	size_t n_jobs, alloc_jobs;
	struct rt_entry **heap; /* min-heap on (due, seq) of IDLE entries */
	size_t n_heap, alloc_heap;
	struct rt_entry *qhead, *qtail; /* the pool's FIFO of QUEUED entries */
	size_t n_queued, n_running;

	bool stopping;  /* rt_stop() called: start nothing new */
	bool exiting;   /* workers: leave once the queue is empty */
	bool replacing; /* a rt_jobs_replace() is waiting for old runs */
	bool joined;
	int64_t last_now; /* last clock reading of rt_submit_due, to see the clock step back */
	uint64_t seq;

	bool has_sched;
	pthread_t sched;
	pthread_t *workers;
	unsigned n_workers, alloc_workers;
	bool auto_threads;    /* immutable: opts.threads was 0; the pool grows with the job set */
	unsigned min_threads; /* immutable: general workers to keep (auto: cores, at least 2) */
	unsigned max_threads; /* immutable: auto: the most general workers */
	bool has_lane;        /* workers[0] is the store lane */
};

/* pool.c */
/* Start n general workers, and the store lane first when lane is true. */
int rt__pool_start(struct rt *rt, unsigned n, bool lane, struct sw_err *err);
/* Locked: start general workers until there are n (the store lane not counted); a failure
 * to start one is logged and leaves the pool as it is. */
void rt__pool_grow(struct rt *rt, unsigned n);
/* Locked: append e (IDLE, not in the heap) to the FIFO and wake a worker. */
void rt__pool_push(struct rt *rt, struct rt_entry *e);
/* Locked: remove queued entries (all of them, or only retired ones); they become IDLE. */
void rt__pool_drop(struct rt *rt, bool all);
/* Not locked: make the workers exit once the queue is empty and join them. */
void rt__pool_join(struct rt *rt);

/* scheduler.c, locked: a run of e ended with rc between started and finished (clock ms). */
void rt__run_done(struct rt *rt, struct rt_entry *e, int rc, int64_t started, int64_t finished);

/* Wait on cond until the monotonic deadline (ms; -1: none). Returns false on timeout. */
bool rt__cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t deadline_mono);
/* Initialise a condition variable on CLOCK_MONOTONIC. */
void rt__cond_init(pthread_cond_t *cond);

#endif
