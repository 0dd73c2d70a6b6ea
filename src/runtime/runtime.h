/*
 * runtime.h - the in-process runtime of `stepwatch serve`: periodic jobs (watcher, validator,
 * resolver, expirer, ...) run by a due-time-driven scheduler on a pool of worker threads.
 *
 * The runtime knows nothing about tasks: a job is a name, a cadence and a callback. It
 * guarantees:
 *  - no overlap: a job is never run twice at once; a job still running when it comes due
 *    again is not queued again, its dropped slots are counted (skipped) and it runs once
 *    more as soon as it finishes (next = max(due + every, finish));
 *  - failure backoff: run() < 0 re-schedules the job after every * 2^k (k consecutive
 *    failures), capped at max_backoff_ms (default: 10 * every, at most 60 s, at least every);
 *    the first success resets it; rt_kick_failing() ends every backoff at once (the
 *    dependency they failed on came back);
 *  - isolation: with opts.threads 0 the pool has a worker for every job (at least one per
 *    core, at most RT_AUTO_MAX_THREADS), so a job stuck in a slow query never waits for, nor
 *    holds up, another; and one more worker, the store lane, runs only store_lane jobs, so
 *    those are never delayed even when the jobs outnumber the cap;
 *  - graceful stop: rt_stop() starts nothing new, waits for running jobs, joins the threads;
 *  - reload: rt_jobs_replace() swaps the whole job set; old runs finish with their old args,
 *    then the new set starts. No old and new job of the same name ever run together.
 *
 * Time comes from an injected struct sw_clock. With opts.manual the runtime has no scheduler
 * thread: the caller (a test) sets the clock and calls rt_tick() (or rt_submit_due() and
 * rt_wait_idle()), so tests drive time without sleeping. The clock is read by worker threads
 * (start and finish of a run); a manual clock must only be changed while no run is in
 * progress (rt_tick() returns with none running), or in a way that happens-after the run
 * started (the job signalled it under a mutex).
 *
 * Threads: all functions are thread-safe, but rt_jobs_replace(), rt_stop() and rt_free()
 * are meant for one controlling thread (the main loop) and must not be called from inside a
 * job's run() (they wait for running jobs). Worker threads block asynchronous signals, so
 * process signals are delivered to the main thread (see signals.h).
 *
 * docs/internals/runtime.md has the design and the reasons.
 */
#ifndef SW_RUNTIME_H
#define SW_RUNTIME_H

#include "util/common.h"
#include "util/timeutil.h"

struct rt;

/*
 * One periodic job. rt_jobs_replace() copies the struct and the name; arg is borrowed: it
 * must stay valid until the job is released, which is signalled by release(arg) when set
 * (called once, after the job's last run ended: from rt_jobs_replace() when the job is
 * replaced, or from rt_free()). Without release, arg is the caller's to free after
 * rt_jobs_replace() (that replaced it) or rt_free() returns. release is called for every
 * replaced job, even when the new set passes the same arg again: do not combine the two.
 */
struct rt_job {
	const char *name; /* unique in a set, non-empty; used in logs, stats and metrics */
	int64_t every_ms; /* cadence, > 0 */
	/* Do one run. now is the clock's time at start. Return 0 on success, < 0 on failure
	 * (the job logs its own detail; the runtime backs off). Runs on a worker thread; must
	 * bound its own duration (statement timeouts), as rt_stop() waits for it. */
	int (*run)(void *arg, int64_t now);
	void *arg;
	void (*release)(void *arg); /* optional, see above */
	int64_t max_backoff_ms;     /* 0: default cap (see top of file) */
	/* The run is bounded by the store alone (no source query): it may run on the store
	 * lane, a worker that takes nothing else (validator, resolver, expirer, notify planner). */
	bool store_lane;
};

/* The most workers opts.threads 0 starts (the store lane not counted). */
#define RT_AUTO_MAX_THREADS 128

struct rt_opts {
	const struct sw_clock *clock; /* NULL: clock_system; must outlive the runtime */
	/* workers; 0: auto: one per job of the set in force (at least one per core, at least
	 * 2, at most RT_AUTO_MAX_THREADS; grown by rt_jobs_replace), plus the store lane.
	 * A fixed count has no store lane: every worker takes every job. */
	unsigned threads;
	unsigned max_threads; /* threads 0: cap of the auto count; 0: RT_AUTO_MAX_THREADS */
	bool manual;          /* no scheduler thread: the caller drives with rt_tick() */
};

/* Create the runtime and start its threads, with an empty job set. opts NULL: defaults. */
int rt_start(const struct rt_opts *opts, struct rt **out, struct sw_err *err);

/*
 * Replace the whole job set with jobs[0..n) (n may be 0). Validates first: on bad input
 * (empty or duplicate name, every_ms <= 0, no run) returns -1 with err and changes nothing.
 * Otherwise: unschedules the old set, drops old runs that are queued but not started,
 * waits for old runs in progress to finish (with their old args), releases the old jobs,
 * then schedules the new set and returns 0.
 *
 * A new job with the name of an old one keeps its counters (runs, failures, skipped) and
 * its phase: it is due at the old job's last start + every (now if it was failing); a job
 * with a new name is due now. Returns -1 once rt_stop() was called.
 */
int rt_jobs_replace(struct rt *rt, const struct rt_job *jobs, size_t n, struct sw_err *err);

/* Make the named job due now (after its current run, if running). -1: no such job. */
int rt_kick(struct rt *rt, const char *name);
/* Make the named job due no later than at (clock ms): earlier than its cadence slot, never
 * later. While it runs, the earliest such time applies when the run finishes (at the
 * finish if that is already past), so a job may schedule its own next run. -1: no job. */
int rt_kick_at(struct rt *rt, const char *name, int64_t at);

/* Make every job that is backing off after failures due now (each after its current run,
 * if running). For when a shared dependency (the store) is seen back: the jobs that failed
 * on it recover at once instead of at the end of their backoff. Returns how many. */
size_t rt_kick_failing(struct rt *rt);

/* The number of worker threads (the store lane included). */
unsigned rt_threads(struct rt *rt);

/* ---- driving time by hand (opts.manual; usable, but rarely useful, in real mode) --------- */

/* Queue every job due at the clock's current time; returns how many were queued.
 * Does not wait: runs proceed on the workers. */
size_t rt_submit_due(struct rt *rt);
/* Wait until no run is queued or in progress. */
void rt_wait_idle(struct rt *rt);
/* rt_submit_due() then rt_wait_idle(): run everything due now, to completion. Returns the
 * number of runs queued. */
size_t rt_tick(struct rt *rt);
/* The earliest due time of the jobs not queued or running; -1 when there is none. */
int rt_next_due(struct rt *rt, int64_t *due);

/* ---- stop -------------------------------------------------------------------------------- */

/*
 * Stop: from now on nothing new starts (queued runs are dropped, the scheduler exits); wait
 * up to timeout_ms (-1: no limit) for runs in progress, then join all threads. Returns 0
 * when drained and joined, -1 on timeout (threads still running; call rt_stop() again, or
 * exit the process). Idempotent.
 */
int rt_stop(struct rt *rt, int64_t timeout_ms);
/* True once rt_stop() was called: a long run may check it between units of work and return
 * early, so the drain is quick. */
bool rt_stopping(struct rt *rt);
/* rt_stop(rt, -1) if needed, release every job, free the runtime. NULL is fine. */
void rt_free(struct rt *rt);

/* ---- stats (for /readyz and /metrics) --------------------------------------------------- */

struct rt_job_stats {
	char *name;
	int64_t every_ms;
	uint64_t runs;                 /* finished runs, ok or not */
	uint64_t failures;             /* runs that returned < 0 */
	uint64_t skipped;              /* cadence slots dropped because the job was running */
	uint32_t consecutive_failures; /* 0 after a success */
	bool running;                  /* queued or in progress */
	int last_rc;                   /* of the last finished run; 0 before the first */
	int64_t last_started_at;       /* clock ms; TIME_NULL before the first run */
	int64_t last_duration_ms;      /* -1 before the first run */
	int64_t last_ok_at;            /* finish of the last success; TIME_NULL if none */
	int64_t last_error_at;         /* finish of the last failure; TIME_NULL if none */
	int64_t next_due_at;           /* TIME_NULL while running */
};

/* A consistent snapshot of every job of the current set, in registration order. *out is
 * malloc'd (NULL when n is 0); free with rt_stats_free(). Returns n. */
size_t rt_stats(struct rt *rt, struct rt_job_stats **out);
void rt_stats_free(struct rt_job_stats *v, size_t n);

#endif
