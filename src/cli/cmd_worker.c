/*
 * cmd_worker.c - `stepwatch worker`: the tasks only, for distributed mode (SPEC section 6).
 *
 * The worker builds the task set of its own config and takes task entries from the
 * broker's stream one at a time (runtime/broker.h, cli/dist.h): it runs the named task and
 * acknowledges the entry only once the task has committed. SIGTERM/SIGINT finish the task
 * in progress and exit 0; SIGHUP reloads the file (a bad file, or one with another store
 * or broker, keeps the old one).
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/cli.h"
#include "cli/dist.h"
#include "runtime/broker.h"
#include "runtime/signals.h"
#include "tasks/tasks.h"

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

struct taskset {
	struct sw_config *cfg;
	struct task_env env;
	struct task **tasks;
	size_t n;
};

static void taskset_build(struct taskset *ts, struct sw_config *cfg, struct health *h)
{
	ts->cfg = cfg;
	memset(&ts->env, 0, sizeof(ts->env));
	ts->env.cfg = cfg;
	ts->env.health = h;
	ts->tasks = tasks_for_config(&ts->env, &ts->n);
}

static void taskset_release(struct taskset *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		task_free(ts->tasks[i]);
	free(ts->tasks);
	config_free(ts->cfg);
	memset(ts, 0, sizeof(*ts));
}

static void reload(struct taskset *ts, struct health *h, const char *path)
{
	struct strbuf errs = STRBUF_INIT;
	struct sw_config *cfg = NULL;
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
	if (strcmp(cfg->store_url, ts->cfg->store_url) ||
	    strcmp(cfg->broker_url, ts->cfg->broker_url)) {
		log_error("reload refused: keeping the old configuration", "problem=%s",
		          strcmp(cfg->store_url, ts->cfg->store_url)
		              ? "'store' changed: a reload cannot move to another store (restart "
		                "to apply it)"
		              : "'broker' changed: a reload cannot change the broker (restart to "
		                "apply it)");
		config_free(cfg);
		return;
	}
	taskset_release(ts);
	taskset_build(ts, cfg, h);
	log_info("configuration reloaded", "config=%s", path);
}

int cmd_worker(int argc, char **argv)
{
	struct sw_config *cfg = NULL;
	struct sw_err err = {""};
	struct broker *b = NULL;
	struct health *h = NULL;
	struct taskset ts = {0};
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
	taskset_build(&ts, cfg, h);
	log_info("worker started", "config=%s node=%s tasks=%zu", path, broker_node_id(), ts.n);
	while (!signals_take_stop()) {
		if (signals_take_reload())
			reload(&ts, h, path);
		if (dist_consume_one(b, broker_node_id(), ts.tasks, ts.n, &clock_system, 1000, h) <
		    0)
			signals_wait(1000);
	}
	log_line(LOG_INFO, "stopped");
	taskset_release(&ts);
	health_free(h);
	broker_close(b);
	signals_uninstall();
	return EXIT_OK;
}
