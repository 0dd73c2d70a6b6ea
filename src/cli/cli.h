/*
 * cli.h - the commands of the stepwatch binary, one file each (src/cli/cmd_*.c), dispatched
 * from the table in main.c. Each takes argc/argv with argv[0] the command name and returns
 * the process exit code: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2
};

int cmd_version(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_incidents(int argc, char **argv);
int cmd_notify(int argc, char **argv);

/* Shared option handling: "-c FILE"/"--config FILE"/"--config=FILE" and "-h"/"--help".
 * Returns 0 and sets *config (default "stepwatch.yaml"), 1 when help was printed, or 2
 * after printing a usage error. Unknown options are usage errors. */
int cli_config_opts(int argc, char **argv, const char *usage, const char **config);

struct sw_config;
/* cli_config_opts, then load the file: 0 with *cfg set; or, with *cfg NULL, the exit code
 * to return (EXIT_OK after --help, EXIT_USAGE after printing the usage or every problem of
 * the file). */
int cli_load_config(int argc, char **argv, const char *usage, const char **path,
                    struct sw_config **cfg);

#endif
