/*
 * server.c - wiring of one node: store migration, tasks on the runtime, the HTTP API,
 * reload, drain.
 *
 * DESIGN: a generation is a config and the tasks built from it. It is reference counted:
 * one reference per task the runtime holds (dropped by the runtime's release callback
 * when a reload or stop retires the task), one for being the generation in force, and one
 * per API handler reading it (server_config_get/put). The last reference frees it, so a
 * reload never frees a config that a running task or request still reads. Live
 * generations are kept in a list so a config pointer finds its generation.
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/server.h"
#include "runtime/runtime.h"
#include "store/store.h"
#include "tasks/tasks.h"
#include "tasks/notifier.h"
#include "api/app.h"
#include "api/http.h"
#include "runtime/broker.h"
#include "cli/dist.h"
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

struct server {
	struct rt *rt;
	struct health *health;
	struct generation *gen; /* in force */
	struct generation *live;
	pthread_mutex_t lock; /* refs, gen, live */
	const struct sw_clock *clock;
	struct http_server *http;
	struct api_app app;
	struct notifier *notifier; /* outbox delivery lanes */
	/* distributed mode (cfg->broker_url at start): the scheduled jobs only enqueue, and
	 * only while this node holds the lease; a consumer thread runs the tasks */
	char *broker_url;
	struct broker *enq; /* for the jobs, under enq_lock */
	pthread_mutex_t enq_lock;
	atomic_bool leader;
	atomic_bool dist_stop;
	pthread_t lease_thread, consumer_thread;
	bool dist_running;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
};

struct job_arg {
	struct server *srv;
	struct task *task;
	struct generation *gen;
};

static void generation_put(struct server *s, struct generation *g)
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
	struct server *s = ja->srv;
	struct sw_err err = {""};
	int rc;
	if (!s->broker_url)
		return task_run(ja->task, now);
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

/* Sleep up to ms, or less when the distributed threads are told to stop. */
static void dist_sleep(struct server *s, int64_t ms)
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
	if (!atomic_load(&s->dist_stop))
		pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &ts);
	pthread_mutex_unlock(&s->stop_lock);
}

/* Hold the lease while possible (renewed every BROKER_RENEW_MS); release it at stop. */
static void *lease_main(void *arg)
{
	struct server *s = arg;
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

/* Run the tasks of the stream with a task set of the config in force (rebuilt on reload). */
static void *consumer_main(void *arg)
{
	struct server *s = arg;
	struct broker *b = NULL;
	struct sw_err err = {""};
	const struct sw_config *cfg = NULL;
	struct task_env env = {0};
	struct task **tasks = NULL;
	size_t n = 0;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	broker_open(s->broker_url, &b, &err);
	while (!atomic_load(&s->dist_stop)) {
		bool changed;
		pthread_mutex_lock(&s->lock);
		changed = !cfg || s->gen->cfg != cfg;
		pthread_mutex_unlock(&s->lock);
		if (changed) {
			for (size_t i = 0; i < n; i++)
				task_free(tasks[i]);
			free(tasks);
			if (cfg)
				server_config_put(s, cfg);
			cfg = server_config_get(s);
			env.cfg = cfg;
			env.health = s->health;
			env.rt = s->rt;
			tasks = tasks_for_config(&env, &n);
		}
		if (dist_consume_one(b, broker_node_id(), tasks, n, s->clock, 1000, s->health) < 0)
			dist_sleep(s, 1000);
	}
	for (size_t i = 0; i < n; i++)
		task_free(tasks[i]);
	free(tasks);
	if (cfg)
		server_config_put(s, cfg);
	broker_close(b);
	return NULL;
}

static int dist_start(struct server *s, const struct sw_config *cfg, struct sw_err *err)
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
	if (pthread_create(&s->consumer_thread, NULL, consumer_main, s)) {
		atomic_store(&s->dist_stop, true);
		pthread_join(s->lease_thread, NULL);
		sw_err_set(err, "cannot start the consumer thread");
		return -1;
	}
	s->dist_running = true;
	log_info("distributed mode", "node=%s", broker_node_id());
	return 0;
}

static void dist_stop(struct server *s)
{
	if (s->dist_running) {
		pthread_mutex_lock(&s->stop_lock);
		atomic_store(&s->dist_stop, true);
		pthread_cond_broadcast(&s->stop_cond);
		pthread_mutex_unlock(&s->stop_lock);
		pthread_join(s->consumer_thread, NULL);
		pthread_join(s->lease_thread, NULL);
		s->dist_running = false;
	}
}

/* After the runtime stopped: the jobs no longer enqueue. */
static void dist_free(struct server *s)
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
	generation_put(ja->srv, ja->gen);
	free(ja);
}

/* A new generation for cfg, with one reference per task plus one for being in force. */
static struct generation *generation_new(struct server *s, struct sw_config *cfg)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	g->cfg = cfg;
	g->env.cfg = cfg;
	g->env.health = s->health;
	g->env.rt = s->rt;
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
static void generation_abandon(struct server *s, struct generation *g)
{
	for (size_t i = 0; i < g->n_tasks; i++)
		task_free(g->tasks[i]);
	g->cfg = NULL;
	g->refs = 1;
	generation_put(s, g);
}

static int install(struct server *s, struct generation *g, struct sw_err *err)
{
	struct rt_job *jobs = xcalloc(g->n_tasks + 1, sizeof(*jobs));
	int rc;
	for (size_t i = 0; i < g->n_tasks; i++) {
		struct job_arg *ja = xmalloc(sizeof(*ja));
		ja->srv = s;
		ja->task = g->tasks[i];
		ja->gen = g;
		jobs[i].name = task_name(g->tasks[i]);
		jobs[i].every_ms = task_every_ms(g->tasks[i]);
		jobs[i].run = job_run;
		jobs[i].arg = ja;
		jobs[i].release = job_release;
	}
	rc = rt_jobs_replace(s->rt, jobs, g->n_tasks, err);
	if (rc < 0)
		for (size_t i = 0; i < g->n_tasks; i++)
			free(jobs[i].arg);
	free(jobs);
	return rc;
}

/*
 * The API keeps only SHA-256 hashes of the tokens (api/auth.c); wipe the secrets the config
 * read from the environment so they do not linger in memory. Tokens and http.listen take
 * effect at start: a reload keeps the ones in force (docs/cli.md).
 */
static void wipe_tokens(struct sw_config *cfg)
{
	for (size_t i = 0; i < cfg->http.n_tokens; i++)
		if (cfg->http.tokens[i].token)
			explicit_bzero(cfg->http.tokens[i].token,
			               strlen(cfg->http.tokens[i].token));
}

static const struct sw_config *notifier_cfg_get(void *arg)
{
	return server_config_get(arg);
}

static void notifier_cfg_put(void *arg, const struct sw_config *cfg)
{
	server_config_put(arg, cfg);
}

static int start_http(struct server *s, const struct sw_config *cfg, struct sw_err *err)
{
	struct http_opts ho = {0};
	s->app.srv = s;
	s->app.clock = s->clock;
	s->app.store_url = xstrdup(cfg->store_url);
	ho.listen = cfg->http.listen;
	ho.tokens = cfg->http.tokens;
	ho.n_tokens = cfg->http.n_tokens;
	ho.request_timeout_ms = (unsigned)cfg->http.request_timeout_ms;
	ho.app = &s->app;
	ho.worker_init = api_worker_init;
	ho.worker_fini = api_worker_fini;
	if (http_start(&ho, &s->http, err) < 0) {
		s->http = NULL;
		return -1;
	}
	log_info("listening", "listen=%s port=%d", cfg->http.listen, http_port(s->http));
	return 0;
}

int server_start(struct sw_config *cfg, const struct server_opts *opts, struct server **out,
                 struct sw_err *err)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct rt_opts ro = {0};
	struct store *st = NULL;
	struct generation *g;
	int applied = 0;

	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->enq_lock, NULL);
	pthread_mutex_init(&s->stop_lock, NULL);
	pthread_cond_init(&s->stop_cond, NULL);
	s->clock = opts && opts->clock ? opts->clock : &clock_system;
	s->health = health_new();
	if (store_open(cfg->store_url, &st, err) < 0 || store_migrate(st, &applied, err) < 0)
		goto fail;
	store_close(st);
	st = NULL;
	if (applied)
		log_info("store migrated", "applied=%d", applied);
	ro.clock = s->clock;
	ro.threads = opts ? opts->threads : 0;
	if (rt_start(&ro, &s->rt, err) < 0)
		goto fail;
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
	/* the API may be asked from the instant it listens: the runtime and the generation
	 * in force exist before it starts */
	g = generation_new(s, cfg);
	s->gen = g;
	if (!(opts && opts->no_http) && start_http(s, cfg, err) < 0)
		goto fail_gen;
	wipe_tokens(cfg);
	if ((cfg->broker_url && dist_start(s, cfg, err) < 0) || install(s, g, err) < 0) {
		http_stop(s->http); /* drains the handlers holding g */
		s->http = NULL;
		dist_stop(s);
		goto fail_gen;
	}
	notifier_start(s->notifier, cfg);
	*out = s;
	return 0;
fail_gen:
	s->gen = NULL;
	generation_abandon(s, g);
fail:
	if (st)
		store_close(st);
	http_stop(s->http);
	rt_free(s->rt);
	notifier_free(s->notifier);
	dist_free(s);
	health_free(s->health);
	free(s->app.store_url);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->enq_lock);
	pthread_mutex_destroy(&s->stop_lock);
	pthread_cond_destroy(&s->stop_cond);
	free(s);
	return -1;
}

int server_reload(struct server *s, struct sw_config *newcfg, struct sw_err *err)
{
	struct generation *g, *old;
	wipe_tokens(newcfg);
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

int server_stop(struct server *s, int64_t timeout_ms)
{
	int rc;
	if (!s)
		return 0;
	http_stop(s->http); /* first: handlers may hold a generation */
	dist_stop(s);       /* finishes the task being consumed, releases the lease */
	rc = rt_stop(s->rt, timeout_ms);
	notifier_free(s->notifier); /* sends in progress finish; they hold configs */
	rt_free(s->rt);             /* releases the tasks, and with them their references */
	dist_free(s);
	if (s->gen)
		generation_put(s, s->gen);
	health_free(s->health);
	free(s->app.store_url);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->enq_lock);
	pthread_mutex_destroy(&s->stop_lock);
	pthread_cond_destroy(&s->stop_cond);
	free(s);
	return rc;
}

struct notifier *server_notifier(struct server *s)
{
	return s->notifier;
}

struct health *server_health(struct server *s)
{
	return s->health;
}

const struct sw_config *server_config(struct server *s)
{
	return s->gen->cfg;
}

const struct sw_config *server_config_get(struct server *s)
{
	const struct sw_config *cfg;
	pthread_mutex_lock(&s->lock);
	s->gen->refs++;
	cfg = s->gen->cfg;
	pthread_mutex_unlock(&s->lock);
	return cfg;
}

void server_config_put(struct server *s, const struct sw_config *cfg)
{
	struct generation *g;
	pthread_mutex_lock(&s->lock);
	for (g = s->live; g && g->cfg != cfg; g = g->next)
		;
	pthread_mutex_unlock(&s->lock);
	if (!g)
		BUG("server_config_put of a config that is not live");
	generation_put(s, g);
}

size_t server_job_stats(struct server *s, struct rt_job_stats **out)
{
	return rt_stats(s->rt, out);
}

int server_http_port(struct server *s)
{
	return s->http ? http_port(s->http) : 0;
}
