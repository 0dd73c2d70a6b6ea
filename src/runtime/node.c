/*
 * node.c - wiring of one node: store migration, tasks on the runtime, the store probe,
 * distributed mode, reload, drain (node.h).
 *
 * DESIGN: a generation is a config and the tasks built from it. It is reference counted:
 * one reference per task the runtime holds (dropped by the runtime's release callback
 * when a reload or stop retires the task), one for being the generation in force, and one
 * per reader on another thread (node_config_get/put: API handlers, consumer task sets, the
 * notifier). The last reference frees it, so a reload never frees a config that a running
 * task or request still reads. Live generations are kept in a list so a config pointer
 * finds its generation.
 *
 * The store and the broker are fixed at start: a reload that changes either is refused (the
 * API, the running tasks and the other nodes would otherwise split across two of them).
 *
 * A store probe thread pings the store every STORE_PROBE_MS; when it sees the store come
 * back after being unreachable, it ends the backoff of every failing job (rt_kick_failing),
 * so the tasks, and /readyz with them, recover within about a second of the store.
 */
#include "util/common.h"
#include "util/log.h"
#include "runtime/node.h"
#include "runtime/runtime.h"
#include "runtime/broker.h"
#include "runtime/dist_pool.h"
#include "runtime/wake.h"
#include "store/store.h"
#include "tasks/tasks.h"
#include "tasks/notifier.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

struct generation {
	struct sw_config *cfg;
	struct task_env env;
	struct task **tasks;
	size_t n_tasks;
	size_t refs;
	struct generation *next; /* in the list of live generations */
};

struct node {
	struct rt *rt;
	struct health *health;
	struct generation *gen; /* in force */
	struct generation *live;
	pthread_mutex_t lock; /* refs, gen, live */
	const struct sw_clock *clock;
	struct notifier *notifier; /* outbox delivery lanes */
	/* distributed mode (cfg->broker_url at start): the scheduled jobs only enqueue, and
	 * only while this node holds the lease; a pool of consumer threads runs the tasks */
	char *broker_url;
	struct broker *enq; /* for the jobs, under enq_lock */
	pthread_mutex_t enq_lock;
	atomic_bool leader;
	atomic_bool dist_stop;
	pthread_t lease_thread;
	struct dist_pool *pool; /* consumers: run the tasks of the stream */
	bool dist_running;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	/* the store probe */
	char *store_url;
	atomic_bool probe_stop;
	pthread_t probe_thread;
	bool probe_running;
	bool started; /* node_start succeeded: the generation in force owns its config */
};

/* How often the store probe pings the store. */
#define STORE_PROBE_MS 500
/* Failure backoff cap of the store-only tasks (validate, expire, resolve, notify): the store
 * is all they wait for, and a failed run against a store that is down costs one refused
 * connection. */
#define STORE_TASK_MAX_BACKOFF_MS 2000

struct job_arg {
	struct node *node;
	struct task *task;
	struct generation *gen;
};

static void generation_put(struct node *s, struct generation *g)
{
	bool last;
	pthread_mutex_lock(&s->lock);
	last = --g->refs == 0;
	if (last) {
		struct generation **pp = &s->live;
		while (*pp != g)
			pp = &(*pp)->next;
		*pp = g->next;
	}
	pthread_mutex_unlock(&s->lock);
	if (last) {
		config_free(g->cfg);
		free(g->tasks);
		free(g);
	}
}

static int job_run(void *arg, int64_t now)
{
	struct job_arg *ja = arg;
	struct node *s = ja->node;
	struct sw_err err = {""};
	int rc;
	if (!s->broker_url)
		return wake_task_run(s->rt, ja->task, now);
	if (!atomic_load(&s->leader))
		return 0;
	pthread_mutex_lock(&s->enq_lock);
	rc = broker_enqueue(s->enq, task_name(ja->task), &err);
	pthread_mutex_unlock(&s->enq_lock);
	if (rc < 0)
		log_error("cannot enqueue a task", "task=%s error=%s", task_name(ja->task),
		          err.msg);
	return rc;
}

/* Sleep up to ms, or less when *stop is set (and stop_cond broadcast). */
static void stop_sleep(struct node *s, atomic_bool *stop, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->stop_lock);
	if (!atomic_load(stop))
		pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &ts);
	pthread_mutex_unlock(&s->stop_lock);
}

/* Sleep up to ms, or less when the distributed threads are told to stop. */
static void dist_sleep(struct node *s, int64_t ms)
{
	stop_sleep(s, &s->dist_stop, ms);
}

/* Ping the store; when it comes back after being seen unreachable, retry the failing jobs
 * now rather than at the end of their backoff. */
static void *probe_main(void *arg)
{
	struct node *s = arg;
	struct store *st = NULL;
	struct sw_err err = {""};
	bool down = false;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!atomic_load(&s->probe_stop)) {
		int rc;
		err.msg[0] = '\0';
		if (st && store_ping(st, &err) < 0) {
			store_close(st);
			st = NULL;
		}
		rc = st ? 0 : store_open(s->store_url, &st, &err);
		if (rc < 0) {
			st = NULL;
			if (!down)
				log_warn("store unreachable", "error=%s", err.msg);
			down = true;
		} else if (down) {
			size_t n = rt_kick_failing(s->rt);
			down = false;
			log_info("store reachable again: retrying the failing tasks now",
			         "tasks=%zu", n);
		}
		stop_sleep(s, &s->probe_stop, STORE_PROBE_MS);
	}
	store_close(st);
	return NULL;
}

static int probe_start(struct node *s, struct sw_err *err)
{
	if (pthread_create(&s->probe_thread, NULL, probe_main, s))
		return sw_err_set(err, "cannot start the store probe thread");
	s->probe_running = true;
	return 0;
}

static void probe_stop(struct node *s)
{
	if (s->probe_running) {
		pthread_mutex_lock(&s->stop_lock);
		atomic_store(&s->probe_stop, true);
		pthread_cond_broadcast(&s->stop_cond);
		pthread_mutex_unlock(&s->stop_lock);
		pthread_join(s->probe_thread, NULL);
		s->probe_running = false;
	}
}

/* Hold the lease while possible (renewed every BROKER_RENEW_MS); release it at stop. */
static void *lease_main(void *arg)
{
	struct node *s = arg;
	struct broker *b = NULL;
	const char *me = broker_node_id();
	struct sw_err err = {""};
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	broker_open(s->broker_url, &b, &err); /* a URL error was caught at start */
	while (!atomic_load(&s->dist_stop)) {
		int rc = broker_lease_acquire(b, me, &err);
		bool was = atomic_load(&s->leader);
		health_set(s->health, "broker", rc >= 0, rc < 0 ? err.msg : NULL,
		           clock_now(s->clock));
		if (rc < 0)
			log_error("broker unavailable", "error=%s", err.msg);
		atomic_store(&s->leader, rc == 1);
		if (rc == 1 && !was)
			log_info("leader: running the scheduler", "node=%s", me);
		else if (rc != 1 && was)
			log_warn("leadership lost", "node=%s", me);
		dist_sleep(s, BROKER_RENEW_MS);
	}
	if (atomic_load(&s->leader)) {
		atomic_store(&s->leader, false);
		if (broker_lease_release(b, me, &err) < 0)
			log_warn("cannot release the lease", "error=%s", err.msg);
		else
			log_info("lease released", "node=%s", me);
	}
	broker_close(b);
	return NULL;
}

static const struct sw_config *pool_cfg_get(void *ctx)
{
	return node_config_get(ctx);
}

static void pool_cfg_put(void *ctx, const struct sw_config *cfg)
{
	node_config_put(ctx, cfg);
}

static int dist_start(struct node *s, const struct sw_config *cfg, struct sw_err *err)
{
	struct broker *probe = NULL;
	s->broker_url = xstrdup(cfg->broker_url);
	if (broker_open(s->broker_url, &probe, err) < 0 && !probe)
		return -1; /* malformed URL; an unreachable broker is retried by the threads */
	broker_close(probe);
	broker_open(s->broker_url, &s->enq, err);
	if (pthread_create(&s->lease_thread, NULL, lease_main, s)) {
		sw_err_set(err, "cannot start the lease thread");
		return -1;
	}
	{
		struct dist_pool_ops ops = {pool_cfg_get, pool_cfg_put, s};
		unsigned n = dist_threads_for(cfg);
		if (dist_pool_start(s->broker_url, n, &ops, s->health, s->clock, s->rt, &s->pool,
		                    err) < 0) {
			atomic_store(&s->dist_stop, true);
			pthread_join(s->lease_thread, NULL);
			return -1;
		}
		s->dist_running = true;
		log_info("distributed mode", "node=%s consumers=%u", broker_node_id(), n);
	}
	return 0;
}

static void dist_stop(struct node *s)
{
	if (s->dist_running) {
		pthread_mutex_lock(&s->stop_lock);
		atomic_store(&s->dist_stop, true);
		pthread_cond_broadcast(&s->stop_cond);
		pthread_mutex_unlock(&s->stop_lock);
		dist_pool_stop(s->pool);
		s->pool = NULL;
		pthread_join(s->lease_thread, NULL);
		s->dist_running = false;
	}
}

/* After the runtime stopped: the jobs no longer enqueue. */
static void dist_free(struct node *s)
{
	broker_close(s->enq);
	s->enq = NULL;
	free(s->broker_url);
	s->broker_url = NULL;
}

static void job_release(void *arg)
{
	struct job_arg *ja = arg;
	task_free(ja->task);
	generation_put(ja->node, ja->gen);
	free(ja);
}

/* A new generation for cfg, with one reference per task plus one for being in force. */
static struct generation *generation_new(struct node *s, struct sw_config *cfg)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	g->cfg = cfg;
	g->env.cfg = cfg;
	g->env.health = s->health;
	g->env.run_budget_ms = TASK_RUN_BUDGET_MS;
	g->env.notifier = s->notifier;
	g->tasks = tasks_for_config(&g->env, &g->n_tasks);
	g->refs = g->n_tasks + 1;
	pthread_mutex_lock(&s->lock);
	g->next = s->live;
	s->live = g;
	pthread_mutex_unlock(&s->lock);
	return g;
}

/* Undo generation_new when installing failed: the config stays the caller's. */
static void generation_abandon(struct node *s, struct generation *g)
{
	for (size_t i = 0; i < g->n_tasks; i++)
		task_free(g->tasks[i]);
	g->cfg = NULL;
	g->refs = 1;
	generation_put(s, g);
}

static int install(struct node *s, struct generation *g, struct sw_err *err)
{
	struct rt_job *jobs = xcalloc(g->n_tasks + 1, sizeof(*jobs));
	int rc;
	for (size_t i = 0; i < g->n_tasks; i++) {
		struct job_arg *ja = xmalloc(sizeof(*ja));
		ja->node = s;
		ja->task = g->tasks[i];
		ja->gen = g;
		jobs[i].name = task_name(g->tasks[i]);
		jobs[i].every_ms = task_every_ms(g->tasks[i]);
		jobs[i].run = job_run;
		jobs[i].arg = ja;
		jobs[i].release = job_release;
		if (task_store_only(g->tasks[i])) {
			jobs[i].store_lane = true;
			jobs[i].max_backoff_ms = STORE_TASK_MAX_BACKOFF_MS;
		}
	}
	rc = rt_jobs_replace(s->rt, jobs, g->n_tasks, err);
	if (rc < 0)
		for (size_t i = 0; i < g->n_tasks; i++)
			free(jobs[i].arg);
	free(jobs);
	return rc;
}

static const struct sw_config *notifier_cfg_get(void *arg)
{
	return node_config_get(arg);
}

static void notifier_cfg_put(void *arg, const struct sw_config *cfg)
{
	node_config_put(arg, cfg);
}

/* Free what node_open made (after node_start failed or never ran, or after the stop). */
static void node_free(struct node *s)
{
	rt_free(s->rt); /* releases the tasks, and with them their references */
	notifier_free(s->notifier);
	dist_free(s);
	if (s->gen) {
		if (s->started)
			generation_put(s, s->gen);
		else
			generation_abandon(s, s->gen);
	}
	health_free(s->health);
	free(s->store_url);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->enq_lock);
	pthread_mutex_destroy(&s->stop_lock);
	pthread_cond_destroy(&s->stop_cond);
	free(s);
}

int node_open(struct sw_config *cfg, const struct node_opts *opts, struct node **out,
              struct sw_err *err)
{
	struct node *s = xcalloc(1, sizeof(*s));
	struct rt_opts ro = {0};
	struct store *st = NULL;
	int applied = 0;

	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->enq_lock, NULL);
	pthread_mutex_init(&s->stop_lock, NULL);
	pthread_cond_init(&s->stop_cond, NULL);
	s->clock = opts && opts->clock ? opts->clock : &clock_system;
	s->health = health_new();
	s->store_url = xstrdup(cfg->store_url);
	if (store_open(cfg->store_url, &st, err) < 0 || store_migrate(st, &applied, err) < 0) {
		if (st)
			store_close(st);
		node_free(s);
		return -1;
	}
	store_close(st);
	if (applied)
		log_info("store migrated", "applied=%d", applied);
	ro.clock = s->clock;
	ro.threads = opts ? opts->threads : 0;
	if (rt_start(&ro, &s->rt, err) < 0) {
		s->rt = NULL;
		node_free(s);
		return -1;
	}
	{
		struct notifier_opts no = {0};
		no.store_url = cfg->store_url;
		no.health = s->health;
		no.clock = s->clock;
		no.cfg_get = notifier_cfg_get;
		no.cfg_put = notifier_cfg_put;
		no.arg = s;
		s->notifier = notifier_new(&no);
	}
	/* an API may be asked from the instant it listens: the runtime and the generation in
	 * force exist before it starts */
	s->gen = generation_new(s, cfg);
	*out = s;
	return 0;
}

int node_start(struct node *s, struct sw_err *err)
{
	const struct sw_config *cfg = s->gen->cfg;
	if ((cfg->broker_url && dist_start(s, cfg, err) < 0) || probe_start(s, err) < 0 ||
	    install(s, s->gen, err) < 0) {
		probe_stop(s);
		dist_stop(s);
		return -1;
	}
	s->started = true;
	notifier_start(s->notifier, cfg);
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int node_reload(struct node *s, struct sw_config *newcfg, struct sw_err *err)
{
	struct generation *g, *old;
	const struct sw_config *cur;
	bool store_same, broker_same;
	pthread_mutex_lock(&s->lock);
	cur = s->gen->cfg;
	store_same = same_str(cur->store_url, newcfg->store_url);
	broker_same = same_str(cur->broker_url, newcfg->broker_url);
	pthread_mutex_unlock(&s->lock);
	/* the URLs may hold passwords: name the key, not the value */
	if (!store_same)
		return sw_err_set(err, "'store' changed: a reload cannot move to another store "
		                       "(restart to apply it)");
	if (!broker_same)
		return sw_err_set(err, "'broker' changed: a reload cannot change the broker "
		                       "(restart to apply it)");
	g = generation_new(s, newcfg);
	if (install(s, g, err) < 0) {
		generation_abandon(s, g);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	old = s->gen;
	s->gen = g;
	pthread_mutex_unlock(&s->lock);
	generation_put(s, old);
	notifier_start(s->notifier, newcfg);
	return 0;
}

int node_stop(struct node *s, int64_t timeout_ms)
{
	int rc;
	if (!s)
		return 0;
	probe_stop(s); /* before the runtime goes: it kicks jobs */
	dist_stop(s);  /* finishes the task being consumed, releases the lease */
	rc = rt_stop(s->rt, timeout_ms);
	notifier_free(s->notifier); /* sends in progress finish; they hold configs */
	s->notifier = NULL;
	node_free(s);
	return rc;
}

struct notifier *node_notifier(struct node *s)
{
	return s->notifier;
}

struct health *node_health(struct node *s)
{
	return s->health;
}

const struct sw_config *node_config(struct node *s)
{
	return s->gen->cfg;
}

const struct sw_config *node_config_get(struct node *s)
{
	const struct sw_config *cfg;
	pthread_mutex_lock(&s->lock);
	s->gen->refs++;
	cfg = s->gen->cfg;
	pthread_mutex_unlock(&s->lock);
	return cfg;
}

void node_config_put(struct node *s, const struct sw_config *cfg)
{
	struct generation *g;
	pthread_mutex_lock(&s->lock);
	for (g = s->live; g && g->cfg != cfg; g = g->next)
		;
	pthread_mutex_unlock(&s->lock);
	if (!g)
		BUG("node_config_put of a config that is not live");
	generation_put(s, g);
}

size_t node_job_stats(struct node *s, struct rt_job_stats **out)
{
	return rt_stats(s->rt, out);
}
