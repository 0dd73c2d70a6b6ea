/*
 * main.c - argv to a command from the table (git.c style).
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/cli.h"
#include <sqlite3.h>

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd commands[] = {
    {"serve", cmd_serve, "API, scheduler and tasks in one process"},
    {"worker", cmd_worker, "tasks only, for distributed mode (needs broker)"},
    {"demo", cmd_demo, "a simulated lending business watched by a real stepwatch"},
    {"check", cmd_check, "validate config and try each query against its source"},
    {"migrate", cmd_migrate, "create or upgrade the store schema"},
    {"alerts", cmd_alerts, "list, show, ack and resolve alerts (a client of the API)"},
    {"incidents", cmd_incidents, "list, show, ack and resolve incidents (a client of the API)"},
    {"notify", cmd_notify, "send a test message to a receiver (notify test RECEIVER)"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: stepwatch <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'stepwatch <command> --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	const char *lvl = getenv("STEPWATCH_LOG_LEVEL");
	/* SQLite keeps memory statistics under one process-wide mutex taken on every allocation
	 * of every connection (the store's, the sources', the guard's); nothing here reads them.
	 * Only possible before SQLite's first use. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (lvl && log_level_parse(lvl) >= 0)
		log_set_level((enum log_level)log_level_parse(lvl));
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "stepwatch: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
