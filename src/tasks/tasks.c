/*
 * tasks.c - the task objects: construction from config, connections, run bookkeeping.
 */
#include "util/common.h"
#include "util/log.h"
#include "tasks/tasks-int.h"
#include "store/store_alerts.h"
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static const char *const kind_names[] = {"watch",           "detect",         TASK_NAME_VALIDATE,
                                         TASK_NAME_RESOLVE, "expire",         "recover",
                                         TASK_NAME_NOTIFY,  TASK_NAME_RESOLVE};

/* The resolver follows the fastest poll, at most 1 s, so recovery is seen within one poll. */
static int64_t resolve_every_ms(const struct sw_config *cfg)
{
	int64_t every = 1000;
	for (size_t i = 0; i < cfg->n_workflows; i++)
		if (cfg->workflows[i].poll_ms > 0 && cfg->workflows[i].poll_ms < every)
			every = cfg->workflows[i].poll_ms;
	return every;
}

/* The key of a watcher's seen set: random; should the kernel refuse, the clock, the pid and
 * an address (weaker against a chosen collision, still a working set). */
static void seen_key_init(unsigned char key[SIPHASH_KEY_LEN])
{
	struct timespec ts;
	uint64_t a, b;
	if (siphash_random_key(key) == 0)
		return;
	log_warn("no random bytes from the kernel; the seen set's key falls back to the clock",
	         "errno=%d", errno);
	clock_gettime(CLOCK_REALTIME, &ts);
	a = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
	b = (uint64_t)(uintptr_t)key ^ (uint64_t)clock() << 17;
	memcpy(key, &a, 8);
	memcpy(key + 8, &b, 8);
}

struct task *task_new(enum task_kind kind, const struct task_env *env, const void *target)
{
	struct task *t = xcalloc(1, sizeof(*t));
	t->fin = t->fin_stored = t->seen_fin = INT64_MIN;
	t->src_off = INT64_MIN;
	t->win_at = TIME_NULL;
	t->kind = kind;
	t->env = env;
	switch (kind) {
	case TASK_WATCH_STEPS:
		t->wf = target;
		t->name = xasprintf("watch:%s", t->wf->name);
		t->component = xasprintf("workflow:%s", t->wf->name);
		t->every_ms = t->wf->poll_ms;
		t->source_cfg = t->wf->source;
		seen_key_init(t->seen_key);
		break;
	case TASK_WATCH_CUSTOM:
		t->watcher = target;
		t->name = xasprintf("detect:%s", t->watcher->name);
		t->component = xasprintf("watcher:%s", t->watcher->name);
		t->every_ms = t->watcher->every_ms;
		t->source_cfg = t->watcher->workflow->source;
		break;
	case TASK_VALIDATE:
	case TASK_RESOLVE:
	case TASK_EXPIRE:
	case TASK_RECOVER:
	case TASK_NOTIFY:
		t->name = xstrdup(kind_names[kind]);
		t->component = xasprintf("task:%s", kind_names[kind]);
		t->every_ms = kind == TASK_EXPIRE    ? 10000
		              : kind == TASK_RESOLVE ? resolve_every_ms(env->cfg)
		                                     : 1000;
		break;
	case TASK_RESOLVE_CUSTOM:
		t->watcher = target;
		t->name = xasprintf("resolve:%s", t->watcher->name);
		t->component = xasprintf("watcher:%s:resolve", t->watcher->name);
		t->every_ms = resolve_every_ms(env->cfg);
		t->source_cfg = t->watcher->workflow->source;
		break;
	}
	if (t->every_ms <= 0)
		t->every_ms = 1000;
	return t;
}

void task_free(struct task *t)
{
	if (!t)
		return;
	if (t->store)
		store_close(t->store);
	if (t->source)
		source_close(t->source);
	free(t->seen);
	free(t->wmkey);
	free(t->resume);
	free(t->win_resume);
	free(t->finkey);
	free(t->tie.at);
	free(t->win_tie.at);
	for (size_t k = 0; k < 3; k++) {
		free(t->tie.key[k]);
		free(t->win_tie.key[k]);
	}
	free(t->marks);
	free(t->name);
	free(t->component);
	free(t);
}

const char *task_name(const struct task *t)
{
	return t->name;
}

int64_t task_every_ms(const struct task *t)
{
	return t->every_ms;
}

bool task_store_only(const struct task *t)
{
	return t->kind == TASK_VALIDATE || t->kind == TASK_EXPIRE || t->kind == TASK_NOTIFY ||
	       (t->kind == TASK_RESOLVE && t->no_custom);
}

void task_stats(const struct task *t, struct task_stats *out)
{
	*out = t->stats;
}

size_t task__batch(const struct task *t)
{
	return t->env->batch_limit > 0 ? (size_t)t->env->batch_limit : 10000;
}

int task__store(struct task *t, int64_t now, struct sw_err *err)
{
	(void)now;
	if (t->store)
		return 0;
	if (store_open(t->env->cfg->store_url, &t->store, err) < 0) {
		t->store = NULL;
		return -1;
	}
	return 0;
}

void task__reset_store(struct task *t)
{
	if (t->store) {
		store_tx_rollback(t->store);
		if (store_ping(t->store, NULL) < 0) {
			store_close(t->store);
			t->store = NULL;
		}
	}
}

int task__source(struct task *t, struct sw_err *err)
{
	if (t->source)
		return 0;
	if (!t->source_cfg)
		return sw_err_set(err, "'%s' has no source", t->name);
	return source_open(t->source_cfg, &t->source, err);
}

const struct sw_step_policy *task__policy(const struct sw_config *cfg, const char *workflow,
                                          const char *step)
{
	const struct sw_workflow *wf = config_workflow(cfg, workflow);
	int i;
	if (!wf)
		return NULL;
	i = config_step_index(wf, step);
	return i < 0 ? NULL : &wf->steps[i].policy;
}

/* The earliest next escalation of the open alerts, for the runtime to wake the validator
 * then; TIME_NULL when there is none or it cannot be read. */
static int64_t next_escalation(struct task *t)
{
	struct sw_err err = {""};
	int64_t at;
	if (!t->store)
		return TIME_NULL;
	if (store_alerts_next_escalation(t->store, &at, &err) < 0) {
		log_warn("cannot read the next escalation time", "task=%s error=%s", t->name,
		         err.msg);
		return TIME_NULL;
	}
	return at;
}

int task_run(struct task *t, int64_t now)
{
	return task_run_result(t, now, NULL);
}

int task_run_result(struct task *t, int64_t now, struct task_result *out)
{
	struct sw_err err = {""};
	struct task_stats before = t->stats;
	int64_t t0 = time_mono_ms();
	int rc;
	t->stats.runs++;
	t->ingested = false;
	t->again = false;
	switch (t->kind) {
	case TASK_WATCH_STEPS: rc = task__watch_steps(t, now, &err); break;
	case TASK_WATCH_CUSTOM: rc = task__watch_custom(t, now, &err); break;
	case TASK_VALIDATE: rc = task__validate(t, now, &err); break;
	case TASK_RESOLVE: rc = task__resolve(t, now, &err); break;
	case TASK_RESOLVE_CUSTOM: rc = task__resolve_custom(t, now, &err); break;
	case TASK_EXPIRE: rc = task__expire(t, now, &err); break;
	case TASK_RECOVER: rc = task__recover(t, now, &err); break;
	case TASK_NOTIFY: rc = task__notify(t, now, &err); break;
	default: BUG("task kind %d", (int)t->kind);
	}
	if (rc < 0) {
		t->stats.failures++;
		if (t->store)
			task__reset_store(t);
		log_warn("task failed", "task=%s error=%s", t->name, err.msg);
	}
	if (t->stats.alerts_opened != before.alerts_opened ||
	    t->stats.alerts_changed != before.alerts_changed)
		log_info("task run",
		         "task=%s duration_ms=%" PRId64 " rows=%" PRId64 " opened=%" PRId64
		         " changed=%" PRId64,
		         t->name, time_mono_ms() - t0, t->stats.rows_read - before.rows_read,
		         t->stats.alerts_opened - before.alerts_opened,
		         t->stats.alerts_changed - before.alerts_changed);
#ifdef __GLIBC__
	/* a bulk run frees what it held, but each worker thread's malloc arena keeps its pages:
	 * hand them back, so the peaks of tasks on different threads do not add up */
	if (t->stats.rows_read - before.rows_read + t->stats.alerts_opened - before.alerts_opened +
	        t->stats.alerts_changed - before.alerts_changed >=
	    1000)
		malloc_trim(0);
#endif
	if (out) {
		memset(out, 0, sizeof(*out));
		out->next_escalation_at = TIME_NULL;
		if (rc >= 0) {
			out->rows_read = t->stats.rows_read - before.rows_read;
			out->alerts_opened = t->stats.alerts_opened - before.alerts_opened;
			out->alerts_changed = t->stats.alerts_changed - before.alerts_changed;
			out->ingested = t->ingested;
			out->again = t->again;
			if (t->kind == TASK_VALIDATE || out->alerts_opened)
				out->next_escalation_at = next_escalation(t);
		}
	}
	health_set(t->env->health, t->component, rc >= 0, rc < 0 ? err.msg : NULL, now);
	return rc < 0 ? -1 : 0;
}

/* Some step of some workflow has recover on. */
static bool tasks__any_recover(const struct sw_config *cfg)
{
	for (size_t w = 0; w < cfg->n_workflows; w++)
		for (size_t s = 0; s < cfg->workflows[w].n_steps; s++)
			if (cfg->workflows[w].steps[s].policy.recover.enabled &&
			    cfg->workflows[w].steps[s].policy.recover.webhook_url)
				return true;
	return false;
}

struct task **tasks_for_config(const struct task_env *env, size_t *n)
{
	const struct sw_config *cfg = env->cfg;
	size_t cap = cfg->n_workflows + 2 * cfg->n_watchers + 5, k = 0;
	struct task **v = xcalloc(cap, sizeof(*v));
	for (size_t i = 0; i < cfg->n_workflows; i++)
		/* push-only workflows too: their stuck steps come from the stored states */
		if (!cfg->workflows[i].steps_query || cfg->workflows[i].source)
			v[k++] = task_new(TASK_WATCH_STEPS, env, &cfg->workflows[i]);
	for (size_t i = 0; i < cfg->n_watchers; i++)
		v[k++] = task_new(TASK_WATCH_CUSTOM, env, &cfg->watchers[i]);
	v[k++] = task_new(TASK_VALIDATE, env, NULL);
	v[k] = task_new(TASK_RESOLVE, env, NULL);
	v[k++]->no_custom = true;
	for (size_t i = 0; i < cfg->n_watchers; i++)
		if (cfg->watchers[i].resolve)
			v[k++] = task_new(TASK_RESOLVE_CUSTOM, env, &cfg->watchers[i]);
	v[k++] = task_new(TASK_EXPIRE, env, NULL);
	if (tasks__any_recover(cfg))
		v[k++] = task_new(TASK_RECOVER, env, NULL);
	v[k++] = task_new(TASK_NOTIFY, env, NULL);
	*n = k;
	return v;
}
