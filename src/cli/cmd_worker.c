/*
 * cmd_worker.c - `stepwatch worker`: the tasks only, for distributed mode (SPEC section 6).
 *
 * The worker builds the task set of its own config and takes task entries from the
 * broker's stream on a pool of consumer threads (runtime/broker.h, cli/dist.h): each runs
 * the named task and acknowledges the entry only once the task has committed; a task runs
 * on one thread at a time, so a slow source holds one thread and the others go on. SIGTERM/SIGINT
 * finish the task in progress and exit 0; SIGHUP reloads the file (a bad file, or one with another
 * store or broker, keeps the old one).
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/cli.h"
#include "cli/dist.h"
#include "runtime/broker.h"
#include "runtime/signals.h"
#include "tasks/tasks.h"
#include <pthread.h>

static const char usage[] =
    "usage: stepwatch worker [-c stepwatch.yaml]\n"
    "\n"
    "Run the tasks of distributed mode: take task entries from the Redis stream of the\n"
    "configuration's broker (stepwatch:tasks, consumer group stepwatch), run each with\n"
    "this configuration's store and sources, and acknowledge it once its effects are\n"
    "committed. Tasks of a crashed worker are claimed by the others after 30 s. Needs\n"
    "broker: redis://host:port/db in the file; a `stepwatch serve` with the same broker\n"
    "schedules the tasks.\n"
    "\n"
    "Signals: SIGTERM or SIGINT finish the running task and exit; SIGHUP reloads the file.\n"
    "Logs: one logfmt line per event on stderr; STEPWATCH_LOG_LEVEL=debug|info|warn|error.\n";

/* The configs a worker has loaded, reference counted: one reference for the one in force,
 * one per consumer task set built from it (dist_pool_ops). */
struct wgen {
	struct sw_config *cfg;
	size_t refs;
	struct wgen *next;
};

struct wconfigs {
	pthread_mutex_t lock;
	struct wgen *cur, *live;
};

static const struct sw_config *wcfg_get(void *ctx)
{
	struct wconfigs *w = ctx;
	const struct sw_config *cfg;
	pthread_mutex_lock(&w->lock);
	w->cur->refs++;
	cfg = w->cur->cfg;
	pthread_mutex_unlock(&w->lock);
	return cfg;
}

static void wcfg_put(void *ctx, const struct sw_config *cfg)
{
	struct wconfigs *w = ctx;
	struct wgen **pp, *g = NULL;
	pthread_mutex_lock(&w->lock);
	for (pp = &w->live; *pp && (*pp)->cfg != cfg; pp = &(*pp)->next)
		;
	if (!*pp)
		BUG("wcfg_put of a config that is not live");
	if (!--(*pp)->refs) {
		g = *pp;
		*pp = g->next;
	}
	pthread_mutex_unlock(&w->lock);
	if (g) {
		config_free(g->cfg);
		free(g);
	}
}

/* Make cfg the config in force (taking it over) and drop the old one's reference. */
static void wcfg_set(struct wconfigs *w, struct sw_config *cfg)
{
	struct wgen *g = xcalloc(1, sizeof(*g)), *old;
	g->cfg = cfg;
	g->refs = 1;
	pthread_mutex_lock(&w->lock);
	old = w->cur;
	g->next = w->live;
	w->live = g;
	w->cur = g;
	pthread_mutex_unlock(&w->lock);
	if (old)
		wcfg_put(w, old->cfg);
}

static void reload(struct wconfigs *w, const char *path)
{
	struct strbuf errs = STRBUF_INIT;
	struct sw_config *cfg = NULL;
	const struct sw_config *cur = w->cur->cfg; /* only this thread changes cur */
	if (config_load(path, &cfg, &errs) < 0 || !cfg->broker_url) {
		log_error("reload refused: keeping the old configuration", "problem=%s",
		          cfg ? "no broker in the new file" : errs.buf);
		strbuf_release(&errs);
		config_free(cfg);
		return;
	}
	strbuf_release(&errs);
	/* the store and the broker apply at the next start: a worker on another store than
	 * the scheduler's would split the service (the URLs may hold passwords: not logged) */
	if (strcmp(cfg->store_url, cur->store_url) || strcmp(cfg->broker_url, cur->broker_url)) {
		log_error("reload refused: keeping the old configuration", "problem=%s",
		          strcmp(cfg->store_url, cur->store_url)
		              ? "'store' changed: a reload cannot move to another store (restart "
		                "to apply it)"
		              : "'broker' changed: a reload cannot change the broker (restart to "
		                "apply it)");
		config_free(cfg);
		return;
	}
	wcfg_set(w, cfg);
	log_info("configuration reloaded", "config=%s", path);
}

int cmd_worker(int argc, char **argv)
{
	struct sw_config *cfg = NULL;
	struct sw_err err = {""};
	struct broker *b = NULL;
	struct health *h = NULL;
	struct wconfigs w = {0};
	struct dist_pool *pool = NULL;
	unsigned threads;
	const char *path;
	int rc = cli_load_config(argc, argv, usage, &path, &cfg);
	if (rc || !cfg)
		return rc; /* a usage error, or --help was printed */
	if (!cfg->broker_url) {
		fprintf(stderr,
		        "stepwatch worker: '%s' has no broker: a worker needs 'broker: "
		        "redis://host:port/db' (distributed mode)\n",
		        path);
		config_free(cfg);
		return EXIT_USAGE;
	}
	if (broker_open(cfg->broker_url, &b, &err) < 0) {
		if (!b) {
			fprintf(stderr, "stepwatch worker: %s\n", err.msg);
			config_free(cfg);
			return EXIT_USAGE;
		}
		log_warn("broker unavailable: retrying", "error=%s", err.msg);
	}
	if (signals_install(&err) < 0) {
		log_error("cannot start", "error=%s", err.msg);
		broker_close(b);
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	h = health_new();
	pthread_mutex_init(&w.lock, NULL);
	threads = dist_threads_for(cfg);
	wcfg_set(&w, cfg);
	{
		struct dist_pool_ops ops = {wcfg_get, wcfg_put, &w};
		if (dist_pool_start(w.cur->cfg->broker_url, threads, &ops, h, &clock_system, NULL,
		                    &pool, &err) < 0) {
			log_error("cannot start", "error=%s", err.msg);
			rc = EXIT_RUNTIME;
		}
	}
	if (pool)
		log_info("worker started", "config=%s node=%s consumers=%u", path, broker_node_id(),
		         threads);
	while (pool && !signals_take_stop()) {
		if (signals_take_reload())
			reload(&w, path);
		signals_wait(1000);
	}
	log_line(LOG_INFO, "stopped");
	dist_pool_stop(pool);
	wcfg_put(&w, w.cur->cfg);
	pthread_mutex_destroy(&w.lock);
	health_free(h);
	broker_close(b);
	signals_uninstall();
	return rc ? rc : EXIT_OK;
}
