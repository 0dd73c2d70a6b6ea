/*
 * opts.c - option handling shared by the commands that take a config file.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "config/config.h"

int cli_config_opts(int argc, char **argv, const char *usage, const char **config)
{
	*config = "stepwatch.yaml";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "stepwatch %s: option '%s' needs a file\n%s",
				        argv[0], a, usage);
				return 2;
			}
			*config = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			*config = a + 9;
		} else {
			fprintf(stderr, "stepwatch %s: unknown option '%s'\n%s", argv[0], a, usage);
			return 2;
		}
	}
	return 0;
}

int cli_load_config(int argc, char **argv, const char *usage, const char **path,
                    struct sw_config **cfg)
{
	struct strbuf errs = STRBUF_INIT;
	int rc = cli_config_opts(argc, argv, usage, path);
	*cfg = NULL;
	if (rc)
		return rc == 1 ? EXIT_OK : EXIT_USAGE;
	if (config_load(*path, cfg, &errs) < 0) {
		fputs(errs.buf, stderr);
		strbuf_release(&errs);
		return EXIT_USAGE;
	}
	strbuf_release(&errs);
	return 0;
}
