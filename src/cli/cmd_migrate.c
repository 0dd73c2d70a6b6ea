/*
 * cmd_migrate.c - `stepwatch migrate`: create or upgrade the store schema.
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

static const char usage[] =
    "usage: stepwatch migrate [-c stepwatch.yaml]\n"
    "\n"
    "Create or upgrade the schema of the store named by the config's 'store' URL.\n"
    "Safe to run while other stepwatch processes run, and to run twice.\n";

int cmd_migrate(int argc, char **argv)
{
	struct strbuf errs = STRBUF_INIT;
	struct sw_config *cfg = NULL;
	struct store *st = NULL;
	struct sw_err err = {""};
	const char *path;
	int applied = 0, version = 0, rc = cli_config_opts(argc, argv, usage, &path);
	if (rc)
		return rc == 1 ? EXIT_OK : EXIT_USAGE;
	if (config_load(path, &cfg, &errs) < 0) {
		fputs(errs.buf, stderr);
		strbuf_release(&errs);
		return EXIT_USAGE;
	}
	strbuf_release(&errs);
	rc = EXIT_RUNTIME;
	if (store_open(cfg->store_url, &st, &err) < 0 || store_migrate(st, &applied, &err) < 0 ||
	    store_schema_version(st, &version, &err) < 0) {
		fprintf(stderr, "stepwatch migrate: %s\n", err.msg);
		goto out;
	}
	printf("store schema at version %d (%d migration%s applied)\n", version, applied,
	       applied == 1 ? "" : "s");
	rc = EXIT_OK;
out:
	if (st)
		store_close(st);
	config_free(cfg);
	return rc;
}
