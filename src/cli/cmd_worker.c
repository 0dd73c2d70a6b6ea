/*
 * cmd_worker.c - `stepwatch worker`: the tasks only, for distributed mode (SPEC section 6).
 *
 * The worker (runtime/worker.h) builds the task set of its own config and takes task entries
 * from the broker's stream on a pool of consumer threads (runtime/dist_pool.h): each runs
 * the named task and acknowledges the entry only once the task has committed; a task runs
 * on one thread at a time, so a slow source holds one thread and the others go on. SIGTERM/SIGINT
 * finish the task in progress and exit 0; SIGHUP reloads the file (a bad file, or one with another
 * store or broker, keeps the old one).
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/cli.h"
#include "runtime/broker.h"
#include "runtime/signals.h"
#include "runtime/worker.h"

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

static void reload(struct worker *w, const char *path)
{
	struct strbuf errs = STRBUF_INIT;
	struct sw_config *cfg = NULL;
	struct sw_err err = {""};
	if (config_load(path, &cfg, &errs) < 0) {
		log_error("reload refused: keeping the old configuration", "problem=%s", errs.buf);
		strbuf_release(&errs);
		config_free(cfg);
		return;
	}
	strbuf_release(&errs);
	if (worker_reload(w, cfg, &err) < 0) {
		log_error("reload refused: keeping the old configuration", "problem=%s", err.msg);
		config_free(cfg);
		return;
	}
	log_info("configuration reloaded", "config=%s", path);
}

int cmd_worker(int argc, char **argv)
{
	struct sw_config *cfg = NULL;
	struct sw_err err = {""};
	struct broker *b = NULL;
	struct worker *w = NULL;
	unsigned threads = 0;
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
	if (worker_start(cfg, &w, &threads, &err) < 0) {
		log_error("cannot start", "error=%s", err.msg);
		config_free(cfg);
		rc = EXIT_RUNTIME;
	} else {
		log_info("worker started", "config=%s node=%s consumers=%u", path, broker_node_id(),
		         threads);
	}
	while (w && !signals_take_stop()) {
		if (signals_take_reload())
			reload(w, path);
		signals_wait(1000);
	}
	log_line(LOG_INFO, "stopped");
	worker_stop(w);
	broker_close(b);
	signals_uninstall();
	return rc ? rc : EXIT_OK;
}
