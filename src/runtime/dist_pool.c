/*
 * dist_pool.c - the consumer pool of distributed mode (see dist_pool.h and
 * docs/internals/runtime.md).
 *
 * DESIGN: one task set per pool, under the pool's mutex, with a busy flag per task. A
 * thread marks the task it runs busy, runs it without the lock, and clears the flag. After
 * a reload the next entry builds a new set; the old one is retired and freed by whichever
 * thread clears its last busy flag, so a running task's config and connections stay valid
 * to the end of its run.
 */
#include "util/common.h"
#include "util/log.h"
#include "runtime/dist_pool.h"
#include "runtime/broker.h"
#include "runtime/wake.h"
#include "tasks/tasks.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

struct dist_set {
	const struct sw_config *cfg; /* a reference from ops.get */
	struct task_env env;
	struct task **tasks;
	size_t n;
	bool *busy;
	size_t nbusy;
	bool retired;
};

struct dist_pool {
	char *url;
	struct dist_pool_ops ops;
	struct health *h;
	const struct sw_clock *clock;
	struct rt *rt;
	pthread_mutex_t lock; /* cur and every set's busy flags */
	struct dist_set *cur;
	atomic_bool stop;
	pthread_t *threads;
	unsigned n;
};

unsigned dist_threads_for(const struct sw_config *cfg)
{
	size_t n = cfg->n_workflows + cfg->n_watchers + 3 + 1; /* + validate, resolve, expire */
	return n > DIST_MAX_THREADS ? DIST_MAX_THREADS : (unsigned)n;
}

static struct dist_set *set_new(struct dist_pool *p, const struct sw_config *cfg)
{
	struct dist_set *s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->env.cfg = cfg;
	s->env.health = p->h;
	s->env.run_budget_ms = p->rt ? TASK_RUN_BUDGET_MS : 0;
	s->tasks = tasks_for_config(&s->env, &s->n);
	s->busy = xcalloc(s->n + 1, sizeof(*s->busy));
	return s;
}

static void set_free(struct dist_pool *p, struct dist_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		task_free(s->tasks[i]);
	free(s->tasks);
	free(s->busy);
	p->ops.put(p->ops.ctx, s->cfg);
	free(s);
}

static void pause_ms(struct dist_pool *p, int ms)
{
	struct timespec ts = {0, 100 * 1000000L};
	for (int i = 0; i < ms / 100 && !atomic_load(&p->stop); i++)
		nanosleep(&ts, NULL);
}

enum action {
	DROP,
	SKIP,
	RUN
};

/* Handle one entry: run its task (unless unknown or running already), ack unless it failed. */
static void handle(struct dist_pool *p, struct broker *b, const char *id, const char *name)
{
	const struct sw_config *cfg = p->ops.get(p->ops.ctx);
	struct dist_set *set, *old = NULL, *done = NULL;
	struct sw_err err = {""};
	enum action act = DROP;
	size_t idx = 0;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (!p->cur || p->cur->cfg != cfg) {
		old = p->cur;
		p->cur = set_new(p, cfg);
		cfg = NULL; /* the set holds the reference now */
		if (old) {
			old->retired = true;
			if (old->nbusy)
				old = NULL; /* freed by the thread that ends its last run */
		}
	}
	set = p->cur;
	for (size_t i = 0; name && i < set->n; i++)
		if (!strcmp(task_name(set->tasks[i]), name)) {
			idx = i;
			act = set->busy[i] ? SKIP : RUN;
			break;
		}
	if (act == RUN) {
		set->busy[idx] = true;
		set->nbusy++;
	}
	pthread_mutex_unlock(&p->lock);
	if (cfg)
		p->ops.put(p->ops.ctx, cfg);
	set_free(p, old);

	if (act == DROP) {
		log_warn("no task of that name in this configuration: dropped", "id=%s task=%s", id,
		         name ? name : "");
	} else if (act == SKIP) {
		log_debug("task already running in this process: entry dropped", "id=%s task=%s",
		          id, name);
	} else {
		rc = wake_task_run(p->rt, set->tasks[idx], clock_now(p->clock));
		pthread_mutex_lock(&p->lock);
		set->busy[idx] = false;
		if (!--set->nbusy && set->retired)
			done = set;
		pthread_mutex_unlock(&p->lock);
		set_free(p, done);
	}
	/* a failed task is not acknowledged: it stays pending and is claimed again later */
	if (rc >= 0 && broker_ack(b, id, &err) < 0) {
		log_error("cannot acknowledge a task", "id=%s error=%s", id, err.msg);
		health_set(p->h, "broker", false, err.msg, clock_now(p->clock));
	}
}

static void *consumer_main(void *arg)
{
	struct dist_pool *p = arg;
	struct broker *b = NULL;
	struct sw_err err = {""};
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	broker_open(p->url, &b, &err); /* a URL error was caught at start */
	while (!atomic_load(&p->stop)) {
		char *id = NULL, *name = NULL;
		int rc = broker_next(b, broker_node_id(), 1000, &id, &name, &err);
		if (rc < 0) {
			log_error("broker unavailable", "error=%s", err.msg);
			health_set(p->h, "broker", false, err.msg, clock_now(p->clock));
			pause_ms(p, 1000);
		} else if (rc > 0) {
			handle(p, b, id, name);
		}
		free(id);
		free(name);
	}
	broker_close(b);
	return NULL;
}

int dist_pool_start(const char *url, unsigned threads, const struct dist_pool_ops *ops,
                    struct health *h, const struct sw_clock *clock, struct rt *rt,
                    struct dist_pool **out, struct sw_err *err)
{
	struct dist_pool *p = xcalloc(1, sizeof(*p));
	p->url = xstrdup(url);
	p->ops = *ops;
	p->h = h;
	p->clock = clock ? clock : &clock_system;
	p->rt = rt;
	pthread_mutex_init(&p->lock, NULL);
	p->threads = xcalloc(threads ? threads : 1, sizeof(*p->threads));
	for (p->n = 0; p->n < (threads ? threads : 1); p->n++) {
		int e = pthread_create(&p->threads[p->n], NULL, consumer_main, p);
		if (e) {
			sw_err_set(err, "cannot start a consumer thread: %s", strerror(e));
			dist_pool_stop(p);
			*out = NULL;
			return -1;
		}
	}
	*out = p;
	return 0;
}

void dist_pool_stop(struct dist_pool *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	set_free(p, p->cur);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p->url);
	free(p);
}
