/*
 * server.c - wiring of one node: store migration, tasks on the runtime, reload, drain.
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/server.h"
#include "runtime/runtime.h"
#include "store/store.h"
#include "tasks/tasks.h"

/* A config and the tasks built from it. Freed when the runtime releases its last task. */
struct generation {
	struct sw_config *cfg;
	struct task_env env;
	struct task **tasks;
	size_t n_tasks;
	size_t live; /* tasks not yet released by the runtime */
};

struct server {
	struct rt *rt;
	struct health *health;
	struct generation *gen;
	const struct sw_clock *clock;
};

static void generation_free(struct generation *g)
{
	config_free(g->cfg);
	free(g->tasks);
	free(g);
}

/* Runtime callbacks: arg is a task; its generation is freed with its last task. */
struct job_arg {
	struct task *task;
	struct generation *gen;
};

static int job_run(void *arg, int64_t now)
{
	return task_run(((struct job_arg *)arg)->task, now);
}

static void job_release(void *arg)
{
	struct job_arg *ja = arg;
	struct generation *g = ja->gen;
	task_free(ja->task);
	free(ja);
	/* releases happen on the controlling thread (rt_jobs_replace / rt_free) */
	if (--g->live == 0)
		generation_free(g);
}

static struct generation *generation_new(struct sw_config *cfg, struct health *health)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	g->cfg = cfg;
	g->env.cfg = cfg;
	g->env.health = health;
	g->tasks = tasks_for_config(&g->env, &g->n_tasks);
	g->live = g->n_tasks;
	return g;
}

static int install(struct server *s, struct generation *g, struct sw_err *err)
{
	struct rt_job *jobs = xcalloc(g->n_tasks + 1, sizeof(*jobs));
	int rc;
	for (size_t i = 0; i < g->n_tasks; i++) {
		struct job_arg *ja = xmalloc(sizeof(*ja));
		ja->task = g->tasks[i];
		ja->gen = g;
		jobs[i].name = task_name(g->tasks[i]);
		jobs[i].every_ms = task_every_ms(g->tasks[i]);
		jobs[i].run = job_run;
		jobs[i].arg = ja;
		jobs[i].release = job_release;
	}
	rc = rt_jobs_replace(s->rt, jobs, g->n_tasks, err);
	if (rc < 0) {
		for (size_t i = 0; i < g->n_tasks; i++)
			free(jobs[i].arg);
	}
	free(jobs);
	return rc;
}

int server_start(struct sw_config *cfg, const struct server_opts *opts, struct server **out,
                 struct sw_err *err)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct rt_opts ro = {0};
	struct store *st = NULL;
	struct generation *g;
	int applied = 0;

	s->clock = opts && opts->clock ? opts->clock : &clock_system;
	if (store_open(cfg->store_url, &st, err) < 0 || store_migrate(st, &applied, err) < 0) {
		if (st)
			store_close(st);
		free(s);
		return -1;
	}
	store_close(st);
	if (applied)
		log_info("store migrated", "store=%s applied=%d",
		         cfg->store_kind == SW_DB_SQLITE ? "sqlite" : "postgresql", applied);
	s->health = health_new();
	ro.clock = s->clock;
	ro.threads = opts ? opts->threads : 0;
	if (rt_start(&ro, &s->rt, err) < 0) {
		health_free(s->health);
		free(s);
		return -1;
	}
	g = generation_new(cfg, s->health);
	if (install(s, g, err) < 0) {
		g->cfg = NULL; /* stays the caller's */
		for (size_t i = 0; i < g->n_tasks; i++)
			task_free(g->tasks[i]);
		generation_free(g);
		rt_free(s->rt);
		health_free(s->health);
		free(s);
		return -1;
	}
	s->gen = g;
	*out = s;
	return 0;
}

int server_reload(struct server *s, struct sw_config *newcfg, struct sw_err *err)
{
	struct generation *g = generation_new(newcfg, s->health);
	if (install(s, g, err) < 0) {
		g->cfg = NULL;
		for (size_t i = 0; i < g->n_tasks; i++)
			task_free(g->tasks[i]);
		generation_free(g);
		return -1;
	}
	s->gen = g;
	return 0;
}

int server_stop(struct server *s, int64_t timeout_ms)
{
	int rc;
	if (!s)
		return 0;
	rc = rt_stop(s->rt, timeout_ms);
	rt_free(s->rt); /* releases the last generation */
	health_free(s->health);
	free(s);
	return rc;
}

struct health *server_health(struct server *s)
{
	return s->health;
}

const struct sw_config *server_config(struct server *s)
{
	return s->gen->cfg;
}

int server_http_port(struct server *s)
{
	(void)s;
	return 0;
}
