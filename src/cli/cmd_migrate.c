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
	struct sw_config *cfg = NULL;
	struct store *st = NULL;
	struct sw_err err = {""};
	const char *path;
	int applied = 0, version = 0, rc = cli_load_config(argc, argv, usage, &path, &cfg);
	if (rc || !cfg)
		return rc; /* a usage error, or --help was printed */
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
