/*
 * worker.c - a worker process's consumer pool and its reference-counted configs (worker.h).
 */
#include "util/common.h"
#include "util/health.h"
#include "runtime/worker.h"
#include "runtime/dist_pool.h"
#include <pthread.h>

/* A config the worker has loaded: one reference for being in force, one per consumer task
 * set built from it (dist_pool_ops). */
struct wgen {
	struct sw_config *cfg;
	size_t refs;
	struct wgen *next;
};

struct worker {
	pthread_mutex_t lock; /* cur, live, refs */
	struct wgen *cur, *live;
	struct health *health;
	struct dist_pool *pool;
};

static const struct sw_config *wcfg_get(void *ctx)
{
	struct worker *w = ctx;
	const struct sw_config *cfg;
	pthread_mutex_lock(&w->lock);
	w->cur->refs++;
	cfg = w->cur->cfg;
	pthread_mutex_unlock(&w->lock);
	return cfg;
}

static void wcfg_put(void *ctx, const struct sw_config *cfg)
{
	struct worker *w = ctx;
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
static void wcfg_set(struct worker *w, struct sw_config *cfg)
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

int worker_start(struct sw_config *cfg, struct worker **out, unsigned *threads, struct sw_err *err)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	struct dist_pool_ops ops = {wcfg_get, wcfg_put, NULL};
	unsigned n = dist_threads_for(cfg);
	pthread_mutex_init(&w->lock, NULL);
	w->health = health_new();
	wcfg_set(w, cfg);
	ops.ctx = w;
	if (dist_pool_start(cfg->broker_url, n, &ops, w->health, &clock_system, NULL, &w->pool,
	                    err) < 0) {
		/* cfg stays the caller's */
		w->cur->cfg = NULL;
		wcfg_put(w, NULL);
		health_free(w->health);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -1;
	}
	if (threads)
		*threads = n;
	*out = w;
	return 0;
}

int worker_reload(struct worker *w, struct sw_config *cfg, struct sw_err *err)
{
	const struct sw_config *cur = w->cur->cfg; /* only the caller's thread changes cur */
	if (!cfg->broker_url)
		return sw_err_set(err, "no broker in the new file");
	/* a worker on another store than the scheduler's would split the service (the URLs
	 * may hold passwords: not named) */
	if (strcmp(cfg->store_url, cur->store_url))
		return sw_err_set(err, "'store' changed: a reload cannot move to another store "
		                       "(restart to apply it)");
	if (strcmp(cfg->broker_url, cur->broker_url))
		return sw_err_set(err, "'broker' changed: a reload cannot change the broker "
		                       "(restart to apply it)");
	wcfg_set(w, cfg);
	return 0;
}

void worker_stop(struct worker *w)
{
	if (!w)
		return;
	dist_pool_stop(w->pool);
	wcfg_put(w, w->cur->cfg);
	health_free(w->health);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
