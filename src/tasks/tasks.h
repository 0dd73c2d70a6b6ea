/*
 * tasks.h - the periodic tasks of stepwatch: each is a function of (config, store, sources,
 * clock) that reads, decides with core/ code, and commits its effects in one store
 * transaction, so running it twice (a retry, a restart) changes nothing the second time.
 *
 *	watch_steps   one per workflow with a steps_query, every `poll`: read step records
 *	              since the watermark minus `overlap`, store them, open "failed" and
 *	              "stuck" alerts, move the watermark — all in one transaction
 *	watch_custom  one per custom watcher, every `every`: run `detect`, open its alerts
 *	validate      escalate due alerts by SLA (reads only due alerts, by index)
 *	resolve       resolve alerts whose workflow recovered (step records), or whose custom
 *	              watcher's `resolve` query returns a row
 *	resolve:<w>   (tasks_for_config) one per custom watcher with a `resolve` query, at the
 *	              resolver's cadence: that query alone, on that watcher's source
 *	expire        ABANDONED after abandon_after without progress of the instance
 *	recover       for open alerts of steps with `recover`: call the application's retry
 *	              endpoint, up to max_attempts with backoff (only when some step has it)
 *	notify        plan notifications into the outbox (notifier.c, core/notify_policy.c)
 *
 * A task owns its connections (one store connection; one source connection where needed),
 * opened lazily and reopened after errors; the runtime never runs one task concurrently
 * with itself. A source error marks the task's component unhealthy, opens and resolves
 * nothing, and leaves the watermark where it was.
 */
#ifndef SW_TASKS_H
#define SW_TASKS_H

#include "util/common.h"
#include "util/arena.h"
#include "util/timeutil.h"
#include "config/config.h"
#include "util/health.h"

enum task_kind {
	TASK_WATCH_STEPS,
	TASK_WATCH_CUSTOM,
	TASK_VALIDATE,
	TASK_RESOLVE,
	TASK_EXPIRE,
	TASK_RECOVER,
	TASK_NOTIFY,
	TASK_RESOLVE_CUSTOM
};

struct notifier;

/* The names (task_name) of the store-wide tasks that other tasks' results wake. */
#define TASK_NAME_VALIDATE "validate"
#define TASK_NAME_RESOLVE  "resolve"
#define TASK_NAME_NOTIFY   "notify"

/* A watcher run that reads a backlog under a runtime ends after this long and reports
 * `again` (task_result); the runtime sets it as task_env.run_budget_ms. */
#define TASK_RUN_BUDGET_MS 1000

struct task_env {
	const struct sw_config *cfg; /* must outlive the tasks built from it */
	struct health *health;
	int64_t batch_limit; /* alerts per store call; default 10000 when 0 */
	/* a watcher run reading a backlog ends after this long and the next one goes on where
	 * it stopped (the run reports `again`); 0: no limit (tests), the runtime gives
	 * TASK_RUN_BUDGET_MS */
	int64_t run_budget_ms;
	/* the delivery lanes to wake after planning messages (may be NULL: they look every
	 * second anyway; a worker process has none) */
	struct notifier *notifier;
};

struct task;

/* target: the struct sw_workflow (watch_steps) or struct sw_watcher (watch_custom,
 * resolve_custom); NULL for the others. A resolve task built here runs the custom watchers'
 * resolve queries too; tasks_for_config() gives each its own resolve_custom task instead
 * ("resolve:<watcher>"), so a slow source behind one watcher delays only that watcher's
 * resolution. */
struct task *task_new(enum task_kind kind, const struct task_env *env, const void *target);
void task_free(struct task *t);
const char *task_name(const struct task *t);
int64_t task_every_ms(const struct task *t);
/* Whether a run reads and writes the store only, never a source (validate, expire, notify,
 * the resolve task of tasks_for_config, whose custom queries are tasks of their own). */
bool task_store_only(const struct task *t);
/* Run once at time now. 0 ok, -1 on failure (logged, health updated). */
int task_run(struct task *t, int64_t now);

/*
 * What a run learned that concerns other tasks. The task reports it; whoever runs the tasks
 * decides whom to wake (runtime/wake.c): the tasks know nothing of the runtime.
 */
struct task_result {
	int64_t rows_read;      /* step records read from the source by this run */
	int64_t alerts_opened;  /* alerts this run opened */
	int64_t alerts_changed; /* alerts this run moved (escalated, resolved, abandoned...) */
	bool ingested;          /* the run committed new step records (a recovery may show) */
	bool again;             /* it stopped on its time budget with more to read: due now */
	/* a validate run, or a run that opened alerts: the earliest next_escalation_at of the
	 * open alerts (TIME_NULL: none, or the lookup failed) */
	int64_t next_escalation_at;
};

/* task_run, filling *out (zeroed, next_escalation_at TIME_NULL, after a failed run). The
 * next escalation is read from the store only here: task_run skips that lookup. */
int task_run_result(struct task *t, int64_t now, struct task_result *out);

/* Every task a config calls for, in a new array (*n entries); free each with task_free. */
struct task **tasks_for_config(const struct task_env *env, size_t *n);

/* For tests and the demo: how many step records the last watch_steps run read and how many
 * alerts it opened. */
struct task_stats {
	int64_t runs, failures;
	int64_t rows_read, rows_rejected, alerts_opened, alerts_changed;
	int64_t source_reads; /* watch_steps: queries of the source (pages, tie reads) */
	/* watch_steps: records of a re-read overlap window that the last run had read, skipped
	 * before the store (the seen set) */
	int64_t rows_skipped;
};
void task_stats(const struct task *t, struct task_stats *out);

/*
 * Check a steps_query's result columns against SPEC section 3.1 (used by the watcher at
 * run time and by `stepwatch check`): 0, or -1 with
 * "workflow 'loan_application': steps_query has no column 'updated_at'".
 */
int tasks_check_steps_columns(const struct sw_workflow *wf, char *const *cols, size_t ncols,
                              struct sw_err *err);
/* The SQL of one page of wf's steps_query, as the watcher runs it (malloc'd): the query
 * wrapped in SELECT * FROM (...) sw_page WHERE sw_page.updated_at > :since
 * ORDER BY sw_page.updated_at LIMIT page_size. */
char *tasks_steps_page_sql(const struct sw_workflow *wf);
/* The same for a custom watcher's detect query (instance_id, user_id, occurred_at). */
int tasks_check_detect_columns(const struct sw_watcher *w, char *const *cols, size_t ncols,
                               struct sw_err *err);

struct store;
struct step_record;

/*
 * Ingest validated step records of wf (any order; sorted here by updated_at, stably) and
 * open a "failed" alert for each step whose current state is now a FAILED record of this
 * batch, unless the instance's last progress in the batch is abandon_after or more before
 * now (old history read on a first start or a catch-up). actor names the opener in the
 * alerts' history ("watcher", or the pusher). Runs in the caller's transaction if there is
 * one. Shared by the watcher and push ingest (POST /api/v1/step-records), so both validate
 * and deduplicate alike. The batch's temporaries come from a (the watcher's page, the
 * request's arena) and go with it: the caller releases a. *applied and *opened (each may
 * be NULL) get how many records became their step's current state and how many alerts
 * were opened.
 */
int tasks_ingest(struct store *st, struct arena *a, const struct sw_workflow *wf,
                 struct step_record *recs, size_t n, int64_t now, const char *actor,
                 size_t *applied, size_t *opened, struct sw_err *err);
#endif
