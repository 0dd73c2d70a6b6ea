/*
 * cmd_check.c - `stepwatch check`: validate the config file, connect to each source, run
 * each query in a way that reads no data (describe), check its columns, and try the store.
 *
 * Exit codes: 2 for anything the config file must fix (syntax, types, references, a query
 * the SQL guard refuses, including a call the source's catalog marks volatile, a query with
 * a missing column, a source role that can write without allow_unsafe_role), 1 for what
 * the environment must fix (a source or the store unreachable). Every problem is printed,
 * not just the first.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "cli/cli.h"
#include "config/config.h"
#include "source/source.h"
#include "store/store.h"
#include "tasks/tasks.h"
#include <unistd.h>
#include <libgen.h>

static const char usage[] =
    "usage: stepwatch check [-c stepwatch.yaml]\n"
    "\n"
    "Validate the configuration file, connect to each source (its role must not be\n"
    "able to write), and try each query (steps_query, detect, resolve) without reading\n"
    "data: the SQL guard must accept it, every function it calls must be non-volatile in\n"
    "the source's catalog, and it must return the columns stepwatch needs. Then try the\n"
    "store.\n"
    "\n"
    "Exit codes: 0 ok, 1 a source or the store is unreachable, 2 the file needs fixing.\n";

struct outcome {
	int config_errors, runtime_errors;
};

static void problem(struct outcome *o, int config, const char *fmt, ...) SW_PRINTF(3, 4);
static void problem(struct outcome *o, int config, const char *fmt, ...)
{
	va_list ap;
	fputs("stepwatch check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (config)
		o->config_errors++;
	else
		o->runtime_errors++;
}

/* Describe sql on src and check its columns with check(); names what for messages. */
static void check_query(struct outcome *o, struct source *src, const struct sw_source *scfg,
                        const struct sw_config *cfg, const char *owner, const char *what,
                        const char *sql, struct sw_pos pos,
                        int (*check)(const void *target, char *const *cols, size_t n,
                                     struct sw_err *err),
                        const void *target)
{
	struct sw_err err = {""};
	struct source_rows rs = {0};
	if (source_guard(scfg->kind, sql, &err) < 0) {
		problem(o, 1, "%s:%d:%d: %s: %s refused: %s", cfg->path, pos.line, pos.col, owner,
		        what, err.msg);
		return;
	}
	if (!src)
		return;
	if (source_describe(src, sql, &rs, &err) < 0) {
		/* a syntax or missing-table error is the file's; an unreachable source is not */
		int is_config =
		    strstr(err.msg, "unreachable") == NULL && strstr(err.msg, "connect") == NULL;
		/* the catalog policy refused a call the text alone could not judge */
		bool refused = strstr(err.msg, ": query must ") != NULL;
		problem(o, is_config, "%s:%d:%d: %s: %s %s: %s", cfg->path, pos.line, pos.col,
		        owner, what, refused ? "refused" : "failed", err.msg);
		return;
	}
	if (check && check(target, rs.cols, rs.ncols, &err) < 0)
		problem(o, 1, "%s:%d:%d: %s", cfg->path, pos.line, pos.col, err.msg);
	else
		printf("%s: %s ok (%zu columns)\n", owner, what, rs.ncols);
	source_rows_release(&rs);
}

static int check_steps(const void *target, char *const *cols, size_t n, struct sw_err *err)
{
	return tasks_check_steps_columns(target, cols, n, err);
}

static int check_detect(const void *target, char *const *cols, size_t n, struct sw_err *err)
{
	return tasks_check_detect_columns(target, cols, n, err);
}

static void check_store(struct outcome *o, const struct sw_config *cfg)
{
	struct sw_err err = {""};
	struct store *st = NULL;
	int version = 0;
	bool creates = false;
	/* do not create the store: only say whether it could be */
	if (store_would_create(cfg->store_url, &creates, &err) < 0) {
		problem(o, 0, "store '%s': %s", cfg->store_url, err.msg);
		return;
	}
	if (creates) {
		printf(
		    "store: ok (sqlite file will be created by 'stepwatch migrate' or 'serve')\n");
		return;
	}
	if (store_open(cfg->store_url, &st, &err) < 0 || store_ping(st, &err) < 0 ||
	    store_schema_version(st, &version, &err) < 0) {
		problem(o, 0, "%s", err.msg);
	} else {
		printf("store: ok (%s, schema version %d of %d%s)\n", store_product(st), version,
		       store_schema_latest(),
		       version < store_schema_latest() ? "; run 'stepwatch migrate'" : "");
	}
	if (st)
		store_close(st);
}

int cmd_check(int argc, char **argv)
{
	struct sw_config *cfg = NULL;
	struct outcome o = {0, 0};
	struct source **srcs = NULL;
	const char *path;
	int rc = cli_load_config(argc, argv, usage, &path, &cfg);
	if (rc || !cfg)
		return rc; /* a usage error, or --help was printed */
	printf("config: ok (%s: %zu sources, %zu workflows, %zu watchers, %zu receivers)\n", path,
	       cfg->n_sources, cfg->n_workflows, cfg->n_watchers, cfg->n_receivers);

	srcs = xcalloc(cfg->n_sources + 1, sizeof(*srcs));
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct sw_err err = {""};
		int64_t t0 = time_mono_ms();
		if (source_open(&cfg->sources[i], &srcs[i], &err) < 0 ||
		    source_ping(srcs[i], &err) < 0) {
			/* a role that can write is the file's to fix (its URL, or the opt-out) */
			if (source_role_refused(srcs[i]))
				problem(&o, 1, "%s:%d:%d: %s", cfg->path, cfg->sources[i].pos.line,
				        cfg->sources[i].pos.col, err.msg);
			else
				problem(&o, 0, "source '%s': %s", cfg->sources[i].name, err.msg);
			if (srcs[i])
				source_close(srcs[i]);
			srcs[i] = NULL;
			continue;
		}
		printf("source '%s': ok (%" PRId64 " ms)\n", cfg->sources[i].name,
		       time_mono_ms() - t0);
	}
	for (size_t i = 0; i < cfg->n_workflows; i++) {
		const struct sw_workflow *wf = &cfg->workflows[i];
		char owner[300];
		struct source *src = NULL;
		if (!wf->steps_query || !wf->source)
			continue;
		for (size_t k = 0; k < cfg->n_sources; k++)
			if (&cfg->sources[k] == wf->source)
				src = srcs[k];
		snprintf(owner, sizeof(owner), "workflow '%s'", wf->name);
		check_query(&o, src, wf->source, cfg, owner, "steps_query", wf->steps_query,
		            wf->steps_query_pos, check_steps, wf);
		if (src) {
			/* the watcher reads it in pages: that form must work too */
			char *paged = tasks_steps_page_sql(wf);
			struct source_rows rs = {0};
			struct sw_err err = {""};
			if (source_describe(src, paged, &rs, &err) < 0)
				problem(&o, 1,
				        "%s:%d:%d: %s: steps_query cannot be read in pages (as "
				        "SELECT * FROM (steps_query) ... ORDER BY updated_at LIMIT "
				        "n): %s",
				        cfg->path, wf->steps_query_pos.line,
				        wf->steps_query_pos.col, owner, err.msg);
			source_rows_release(&rs);
			free(paged);
		}
	}
	for (size_t i = 0; i < cfg->n_watchers; i++) {
		const struct sw_watcher *w = &cfg->watchers[i];
		const struct sw_source *scfg = w->workflow->source;
		struct source *src = NULL;
		char owner[300];
		if (!scfg) {
			problem(&o, 1, "%s:%d:%d: watcher '%s': workflow '%s' has no source",
			        cfg->path, w->pos.line, w->pos.col, w->name, w->workflow->name);
			continue;
		}
		for (size_t k = 0; k < cfg->n_sources; k++)
			if (&cfg->sources[k] == scfg)
				src = srcs[k];
		snprintf(owner, sizeof(owner), "watcher '%s'", w->name);
		check_query(&o, src, scfg, cfg, owner, "detect", w->detect, w->detect_pos,
		            check_detect, w);
		if (w->resolve)
			check_query(&o, src, scfg, cfg, owner, "resolve", w->resolve,
			            w->resolve_pos, NULL, NULL);
	}
	check_store(&o, cfg);
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (srcs[i])
			source_close(srcs[i]);
	free(srcs);
	config_free(cfg);
	if (o.config_errors || o.runtime_errors) {
		fprintf(stderr,
		        "stepwatch check: %d problem(s) in the file, %d in the environment\n",
		        o.config_errors, o.runtime_errors);
		return o.config_errors ? EXIT_USAGE : EXIT_RUNTIME;
	}
	printf("all checks passed\n");
	return EXIT_OK;
}
