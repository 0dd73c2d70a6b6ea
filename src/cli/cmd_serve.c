/*
 * cmd_serve.c - `stepwatch serve`: API, scheduler and tasks in one process.
 *
 * The main thread only waits for signals: SIGTERM/SIGINT drain running tasks and exit 0;
 * SIGHUP reloads the config file, keeping the old config running when the new one is bad or
 * names another store or broker (those apply at the next start).
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/cli.h"
#include "cli/server.h"
#include "runtime/signals.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

static const char usage[] =
    "usage: stepwatch serve [-c stepwatch.yaml]\n"
    "\n"
    "Run the watchers, validator, resolver and expirer of the configuration, and the\n"
    "HTTP API and dashboard on http.listen, in one process. Creates or upgrades the\n"
    "store schema first.\n"
    "\n"
    "Signals: SIGTERM or SIGINT drain running tasks and exit; SIGHUP reloads the file\n"
    "(a bad file, or one naming another store or broker, keeps the old configuration\n"
    "running and logs why).\n"
    "Logs: one logfmt line per event on stderr; STEPWATCH_LOG_LEVEL=debug|info|warn|error.\n";

static void reload(struct server *srv, const char *path)
{
	struct strbuf errs = STRBUF_INIT;
	struct sw_config *cfg = NULL;
	struct sw_err err = {""};
	if (config_load(path, &cfg, &errs) < 0) {
		/* one line per problem, keeping logfmt */
		char *line = errs.buf, *nl;
		while (line && *line) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			log_error("reload refused: keeping the old configuration", "problem=%s",
			          line);
			line = nl ? nl + 1 : NULL;
		}
		strbuf_release(&errs);
		return;
	}
	strbuf_release(&errs);
	if (server_reload(srv, cfg, &err) < 0) {
		log_error("reload refused: keeping the old configuration", "problem=%s", err.msg);
		config_free(cfg);
		return;
	}
	log_info("configuration reloaded", "config=%s", path);
}

int cmd_serve(int argc, char **argv)
{
	struct sw_config *cfg = NULL;
	struct server *srv = NULL;
	struct sw_err err = {""};
	const char *path;
	int rc;
#ifdef __GLIBC__
	/* glibc gives each thread that allocates its own malloc arena (up to 8 per core), and
	 * an arena keeps its freed pages: the peaks of the tasks on the worker threads then
	 * add up. Two arenas, unless MALLOC_ARENA_MAX says otherwise (bench/README.md:
	 * K = 100,000, peak RSS 50 MB with two, 58-67 MB without) */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 2);
	/* A batch's arrays (10,000 alerts' changes, history rows, their parameters: 1-3 MB each)
	 * go to mmap and back to the kernel when freed. glibc's default threshold rises to the
	 * largest block freed, after which such arrays come from the arenas and stay there:
	 * K = 100,000, peak RSS 61-69 MB in the escalate phase with it, 45 MB with a fixed one
	 * (bench/README.md). Setting it also turns the moving threshold off. */
	if (!getenv("MALLOC_MMAP_THRESHOLD_"))
		mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	rc = cli_load_config(argc, argv, usage, &path, &cfg);
	if (rc || !cfg)
		return rc; /* a usage error, or --help was printed */
	if (signals_install(&err) < 0 || server_start(cfg, NULL, &srv, &err) < 0) {
		log_error("cannot start", "error=%s", err.msg);
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	log_info("serving", "config=%s workflows=%zu watchers=%zu", path, cfg->n_workflows,
	         cfg->n_watchers);
	for (;;) {
		signals_wait(1000);
		if (signals_take_stop())
			break;
		if (signals_take_reload())
			reload(srv, path);
	}
	log_line(LOG_INFO, "stopping: draining running tasks");
	rc = server_stop(srv, 30000) < 0 ? EXIT_RUNTIME : EXIT_OK;
	log_line(LOG_INFO, "stopped");
	return rc;
}
