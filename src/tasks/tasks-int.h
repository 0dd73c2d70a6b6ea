/*
 * tasks-int.h - what the task files share: struct task and its connection helpers.
 */
#ifndef SW_TASKS_INT_H
#define SW_TASKS_INT_H

#include "tasks/tasks.h"
#include "store/store.h"
#include "source/source.h"
#include "util/siphash.h"

struct task {
	enum task_kind kind;
	char *name;      /* "watch:loan_application", "validate", ... */
	char *component; /* health entry name */
	int64_t every_ms;
	const struct task_env *env;
	const struct sw_workflow *wf;     /* watch_steps */
	const struct sw_watcher *watcher; /* watch_custom */
	struct store *store;
	struct source *source;
	const struct sw_source *source_cfg;
	struct task_stats stats;
	bool armed; /* validate: every open alert was re-armed under this config */
	/* watch_steps: the rows read past `fin` (below), which a later read of the overlap
	 * window reads again, as 128-bit SipHash values of their identity under seen_key
	 * (random per task: no one who writes source rows can make two collide) with their
	 * updated_at, in an open-addressing table of seen_slots slots (none when 0), nseen in
	 * use; seen_mix picks the slot (drawn again at each rebuild), seen_fin is fin as of
	 * the last rebuild. A re-read row is skipped before it is parsed or sent to the store */
	struct seen_slot {
		int64_t ms;
		struct sip128 key; /* {0, 0}: an empty slot */
	} * seen;
	size_t nseen, seen_slots;
	uint64_t seen_mix, seen_draws;
	int64_t seen_fin;
	unsigned char seen_key[SIPHASH_KEY_LEN];
	char *wmkey;  /* watch_steps: "workflow:<name>" */
	char *finkey; /* watch_steps: "final:workflow:<name>", where fin is stored */
	/* watch_steps: the cursor (a raw updated_at) where a run that spent its time budget
	 * stopped; the next run goes on from it, as that run would have (resume_chained: and
	 * as a read that reaches back to fin, see below) */
	char *resume;
	bool resume_chained;
	/* watch_steps, the overlap window (docs/internals/tasks.md): a transaction commits
	 * within `overlap` of its updated_at, by the source's clock.
	 * fin: every row whose updated_at is at or before fin has been read since it became
	 * visible, so no read needs to go back past it (fin_known: loaded from the store,
	 * fin_stored: the value there);
	 * src_off: the source's clock is at least the run's clock plus src_off (from the
	 * newest updated_at read and when; INT64_MIN: nothing read yet), src_probed: the
	 * newest row was asked for once since the start;
	 * win_at: when the last read from fin (a read of the window) began; one begins every
	 * overlap / 4 while fin is behind the watermark, the runs between read past it only */
	bool fin_known, src_probed;
	int64_t fin, fin_stored, src_off, win_at;
	/* watch_steps: a read of the window that spent its slice (WINDOW_SLICE_MS) re-reading
	 * rows at or behind the watermark stops there (win_cut; win_resume: its cursor, a raw
	 * updated_at, or NULL: fin; win_resume_chained: as resume_chained); the next run reads
	 * past the watermark only (win_fresh: done), and the one after goes on with the
	 * window. A burst re-read whole held back the rows that came after it */
	char *win_resume;
	bool win_cut, win_resume_chained, win_fresh;
	/* watch_steps: a tie read that stopped part way (it failed, or the window's slice was
	 * spent): its updated_at (raw) and the tie-order key of the last row of its last
	 * committed batch; the next read of that tie goes on after it (NULL at: none). The
	 * window keeps its own (win_tie): a tie read past the watermark between two slices
	 * does not make the window start its tie again */
	struct tie_resume {
		char *at, *key[3];
	} tie, win_tie;
	/* watch_steps: reading a backlog (a run read a full page and more), over one or more
	 * runs: since when (monotonic ms), rows and alerts so far, the last progress log */
	bool backlog;
	int64_t backlog_t0, backlog_rows, backlog_opened, backlog_log;
	/* resolve: per workflow of the config, the change mark taken before its last successful
	 * check (store_recovery_mark), so the next one looks only at instances changed since;
	 * -1 until the first. last_sweep: when every open alert was last checked. */
	int64_t *marks;
	int64_t last_sweep;
	bool ingested;  /* watch_steps: this run committed new step records */
	bool again;     /* watch_steps: this run stopped on its budget with more to read */
	bool no_custom; /* resolve: leave the custom watchers to their resolve_custom tasks */
};

/* Open (or reuse) the store connection; on failure the component is marked unhealthy. */
int task__store(struct task *t, int64_t now, struct sw_err *err);
/* Open (or reuse) the source connection of t->source_cfg. */
int task__source(struct task *t, struct sw_err *err);
/* Drop connections after an error so the next run starts clean. */
void task__reset_store(struct task *t);
/* The effective policy of a workflow's step by name; NULL when unknown. */
const struct sw_step_policy *task__policy(const struct sw_config *cfg, const char *workflow,
                                          const char *step);
size_t task__batch(const struct task *t);

int task__watch_steps(struct task *t, int64_t now, struct sw_err *err);
int task__watch_custom(struct task *t, int64_t now, struct sw_err *err);
int task__validate(struct task *t, int64_t now, struct sw_err *err);
int task__resolve(struct task *t, int64_t now, struct sw_err *err);
int task__resolve_custom(struct task *t, int64_t now, struct sw_err *err);
int task__expire(struct task *t, int64_t now, struct sw_err *err);
int task__recover(struct task *t, int64_t now, struct sw_err *err);
int task__notify(struct task *t, int64_t now, struct sw_err *err);

#endif
