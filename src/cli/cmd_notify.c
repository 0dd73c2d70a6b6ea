/*
 * cmd_notify.c - `stepwatch notify test RECEIVER`: send one test message to a configured
 * receiver, now, through the same method table the notifier uses, and print its answer.
 * Nothing is written to the store.
 *
 * Exit codes: 0 the receiver accepted it, 1 it did not (the answer says why), 2 usage or
 * configuration error (unknown receiver included).
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "cli/cli.h"
#include "core/duration.h"
#include "config/config.h"
#include "notify/receiver.h"
#include "tasks/notifier.h"

static const char usage[] =
    "usage: stepwatch notify test RECEIVER [-c stepwatch.yaml] [--timeout 10s]\n"
    "\n"
    "Send a test message to RECEIVER (a name under 'receivers' in the config) and print\n"
    "the receiver's answer: the outcome, the status (HTTP or SMTP code) and its detail.\n"
    "\n"
    "Exit codes: 0 accepted, 1 refused or unreachable, 2 usage or configuration error.\n";

static const char *const outcome_names[] = {"sent", "retry", "refused"};

int cmd_notify(int argc, char **argv)
{
	struct sw_config *cfg = NULL;
	struct notify_result res;
	const char *path, *pos[3] = {NULL, NULL, NULL};
	char **opts = xcalloc((size_t)argc + 1, sizeof(*opts));
	int nopts = 0, npos = 0, rc;
	int64_t timeout_ms = 10000;
	const struct sw_receiver *rc_cfg = NULL;

	opts[nopts++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--timeout") && i + 1 < argc) {
			if (duration_parse(argv[++i], &timeout_ms, NULL, 0) < 0 ||
			    timeout_ms <= 0) {
				fprintf(stderr, "stepwatch notify: bad --timeout '%s'\n%s", argv[i],
				        usage);
				free(opts);
				return EXIT_USAGE;
			}
		} else if (a[0] == '-') {
			opts[nopts++] = argv[i];
			if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc)
				opts[nopts++] = argv[++i];
		} else if (npos < 3) {
			pos[npos++] = a;
		} else {
			npos++;
		}
	}
	rc = cli_load_config(nopts, opts, usage, &path, &cfg);
	free(opts);
	if (rc || !cfg)
		return rc;
	if (npos != 2 || strcmp(pos[0], "test")) {
		fprintf(stderr, "%s", usage);
		config_free(cfg);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (!strcmp(cfg->receivers[i].name, pos[1]))
			rc_cfg = &cfg->receivers[i];
	if (!rc_cfg) {
		fprintf(stderr, "stepwatch notify: %s: no receiver '%s'\n", path, pos[1]);
		config_free(cfg);
		return EXIT_USAGE;
	}
	notifier_send_test(cfg, rc_cfg, time_now_ms(), timeout_ms, &res);
	printf("receiver: %s\noutcome: %s\nstatus: %d\n", rc_cfg->name,
	       outcome_names[res.outcome <= NOTIFY_PERMANENT ? res.outcome : NOTIFY_PERMANENT],
	       res.status);
	if (res.retry_after_ms > 0)
		printf("retry_after_ms: %" PRId64 "\n", res.retry_after_ms);
	if (res.gone)
		printf("gone: true\n");
	printf("detail: %s\n", res.detail);
	config_free(cfg);
	return res.outcome == NOTIFY_OK ? EXIT_OK : EXIT_RUNTIME;
}
