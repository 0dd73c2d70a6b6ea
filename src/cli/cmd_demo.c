/*
 * cmd_demo.c - `stepwatch demo`: a simulated lending business on an embedded SQLite
 * source, watched by a real stepwatch on an embedded SQLite store, with a live summary.
 *
 * DESIGN: time is compressed by a scaled clock (start + real elapsed * speed) that both
 * the simulator and stepwatch's runtime read, so every SLA, stuck and abandon threshold of
 * the written config plays out speed times faster without changing any code path. The
 * config is a real file in a temp dir, printed at start; stepwatch loads it the way
 * `serve` does. Its receivers are webhooks to the demo's own receiver on loopback
 * (demo/hook.c), whose newest messages the screen shows as they go out.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "cli/cli.h"
#include "cli/server.h"
#include "demo/sim.h"
#include "demo/hook.h"
#include "runtime/signals.h"
#include "store/store_incidents.h"
#include "store/store_stats.h"
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: stepwatch demo [--port 8080] [--speed N] [--duration SECONDS] [--seed N]\n"
    "                      [--dir DIR]\n"
    "\n"
    "Run a simulated lending business (six steps, continuous applications, retries,\n"
    "users who walk away, a credit-bureau outage that starts and ends on its own) on an\n"
    "embedded SQLite source, watched by a real stepwatch on an embedded store.\n"
    "\n"
    "  --port N         dashboard and API port on 127.0.0.1 (default 8080; 0 picks one)\n"
    "  --speed N        time compression (default 60: the story takes about two minutes)\n"
    "  --duration S     stop after S real seconds (default: run until Ctrl-C)\n"
    "  --seed N         simulator seed (default 1)\n"
    "  --dir DIR        keep the config and databases in DIR (default: a temp dir)\n";

struct scaled {
	int64_t real0, sim0;
	double speed;
};

static int64_t scaled_now(const struct sw_clock *c)
{
	const struct scaled *s = c->data;
	return s->sim0 + (int64_t)((double)(time_now_ms() - s->real0) * s->speed);
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double d;
	if (!v) {
		fprintf(stderr, "stepwatch demo: option '%s' needs a value\n", opt);
		return -1;
	}
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || d < lo || d > hi) {
		fprintf(stderr,
		        "stepwatch demo: option '%s' must be a number from %g to %g, not '%s'\n",
		        opt, lo, hi, v);
		return -1;
	}
	*out = d;
	return 0;
}

static char *write_config(const char *dir, int port, int hook_port)
{
	struct strbuf sb = STRBUF_INIT;
	const char *q = sim_steps_query(), *p;
	char *path = xasprintf("%s/stepwatch.yaml", dir);
	FILE *f;
	strbuf_addf(
	    &sb,
	    "# written by `stepwatch demo`: a real configuration, loaded like `serve` does\n"
	    "store: sqlite://%s/stepwatch.db\n"
	    "http:\n"
	    "  listen: 127.0.0.1:%d\n"
	    "sources:\n"
	    "  lending:\n"
	    "    url: sqlite://%s/lending.db\n"
	    "    statement_timeout: 5s\n"
	    "workflows:\n"
	    "  loan_application:\n"
	    "    source: lending\n"
	    "    poll: 250ms\n"
	    "    overlap: 30s\n"
	    "    steps_query: |\n",
	    dir, port, dir);
	for (p = q; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		strbuf_addstr(&sb, "      ");
		strbuf_add(&sb, p, len);
		strbuf_addch(&sb, '\n');
		p += len + (nl ? 1 : 0);
	}
	strbuf_addstr(
	    &sb,
	    "    steps: [kyc, bureau_pull, bank_statement, underwriting, esign, disbursement]\n"
	    "    segments: [channel, partner]\n"
	    "    tat_sla: 3h\n"
	    "    defaults:\n"
	    "      sla: { p2: 15m, p1: 1h, p0: 4h }\n"
	    "      stuck_after: 90m\n"
	    "      abandon_after: 2h\n"
	    "      group_by: [error]\n"
	    "    step_overrides:\n"
	    "      bureau_pull:\n"
	    "        sla: { p2: 5m, p1: 30m, p0: 2h }\n"
	    "        stuck_after: 20m\n"
	    "        abandon_after: 90m\n");
	strbuf_addf(&sb,
	            "levels:\n"
	            "  P2: { notify: [support] }\n"
	            "  P1: { notify: [tech] }\n"
	            "  P0: { notify: [product] }\n"
	            "receivers:                  # the demo's own webhook receiver\n"
	            "  support: { webhook: { url: http://127.0.0.1:%d/support } }\n"
	            "  tech: { webhook: { url: http://127.0.0.1:%d/tech }, roster: tech-oncall }\n"
	            "  product: { webhook: { url: http://127.0.0.1:%d/product } }\n"
	            "notify: { group_wait: 30s, group_interval: 5m, repeat_interval: 4h }\n"
	            "rosters:\n"
	            "  tech-oncall: { members: [asha, ben, chen], rotation: 1d, "
	            "start: 2026-01-05T09:00:00Z }\n",
	            hook_port, hook_port, hook_port);
	f = fopen(path, "w");
	if (!f || fwrite(sb.buf, 1, sb.len, f) != sb.len) {
		fprintf(stderr, "stepwatch demo: cannot write '%s': %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		free(path);
		strbuf_release(&sb);
		return NULL;
	}
	fclose(f);
	printf("--- %s\n%s---\n", path, sb.buf);
	strbuf_release(&sb);
	return path;
}

static void summary(struct store *st, const struct sim *sim, const struct scaled *sc, int64_t now,
                    int port, const char *cfgpath, bool tty, struct demo_hook *hook)
{
	struct alert_counts c = {{0}, 0, 0, 0};
	struct incident *inc = NULL;
	struct incident_filter f = {true, NULL, 0, 5};
	struct sim_stats ss;
	struct sw_err err = {""};
	size_t n = 0;
	int64_t el = (now - sc->sim0) / 1000;
	sim_stats(sim, &ss);
	if (store_alert_counts(st, &c, &err) < 0 ||
	    store_incidents_list(st, &f, &inc, &n, &err) < 0) {
		log_warn("demo summary", "error=%s", err.msg);
		return;
	}
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("stepwatch demo   sim +%02" PRId64 ":%02" PRId64 ":%02" PRId64
	       " (%gx)   credit bureau: %s\n",
	       el / 3600, el / 60 % 60, el % 60, sc->speed, ss.in_outage ? "DOWN" : "up");
	printf("applications  %" PRIu64 " started, %" PRIu64 " completed, %" PRIu64
	       " walked away, %" PRIu64 " in flight\n",
	       ss.started, ss.completed, ss.abandoned, ss.active);
	printf("open alerts   INITIATED %" PRId64 "  P2 %" PRId64 "  P1 %" PRId64 "  P0 %" PRId64
	       "\n",
	       c.by_state[ALERT_INITIATED], c.by_state[ALERT_P2], c.by_state[ALERT_P1],
	       c.by_state[ALERT_P0]);
	printf("closed        auto-resolved %" PRId64 "  resolved by hand %" PRId64
	       "  abandoned %" PRId64 "\n",
	       c.resolved_by_resolver, c.by_state[ALERT_RESOLVED] - c.resolved_by_resolver,
	       c.by_state[ALERT_ABANDONED]);
	printf("incidents     %" PRId64 " open, %" PRId64 " users affected\n", c.open_incidents,
	       c.affected_users_open);
	for (size_t i = 0; i < n; i++)
		printf("  #%-4" PRId64 " %-13s %4" PRId64 " alerts %4" PRId64 " users  %s\n",
		       inc[i].id, alert_state_name(inc[i].level), inc[i].open_alerts,
		       inc[i].affected_users, inc[i].group_key);
	if (hook) {
		const char *lines[5];
		int64_t total = 0;
		size_t nl = demo_hook_recent(hook, lines, ARRAY_SIZE(lines), &total);
		printf("notifications %" PRId64
		       " received at http://127.0.0.1:%d/ (newest first)\n",
		       total, demo_hook_port(hook));
		for (size_t i = 0; i < nl; i++)
			printf("  %s\n", lines[i]);
	}
	if (port > 0)
		printf("dashboard     http://127.0.0.1:%d/\n", port);
	printf("config        %s   (Ctrl-C stops)\n", cfgpath);
	if (!tty)
		puts("");
	fflush(stdout);
	incidents_free(inc, n);
}

int cmd_demo(int argc, char **argv)
{
	double speed = 60, duration = 0, seed = 1, port = 8080;
	const char *dir_opt = NULL;
	char *dir = NULL, *cfgpath = NULL, *dbpath = NULL;
	struct scaled sc;
	struct sw_clock clock = {scaled_now, &sc};
	struct sim_opts so;
	struct sim *sim = NULL;
	struct sw_config *cfg = NULL;
	struct server *srv = NULL;
	struct store *st = NULL;
	struct strbuf errs = STRBUF_INIT;
	struct sw_err err = {""};
	struct server_opts sopts = {&clock, 0, false};
	struct demo_hook *hook = NULL;
	int rc = EXIT_RUNTIME;
	int64_t real_end, last_summary = 0;
	bool tty = isatty(STDOUT_FILENO);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--port")) {
			bad = parse_num(a, v, 0, 65535, &port);
			i++;
		} else if (!strcmp(a, "--speed")) {
			bad = parse_num(a, v, 1, 100000, &speed);
			i++;
		} else if (!strcmp(a, "--duration")) {
			bad = parse_num(a, v, 0, 1e7, &duration);
			i++;
		} else if (!strcmp(a, "--seed")) {
			bad = parse_num(a, v, 0, 1e15, &seed);
			i++;
		} else if (!strcmp(a, "--dir")) {
			if (!v) {
				fprintf(stderr, "stepwatch demo: option '--dir' needs a value\n");
				bad = -1;
			}
			dir_opt = v;
			i++;
		} else {
			fprintf(stderr, "stepwatch demo: unknown option '%s'\n%s", a, usage);
			return EXIT_USAGE;
		}
		if (bad)
			return EXIT_USAGE;
	}

	if (dir_opt) {
		dir = xstrdup(dir_opt);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "stepwatch demo: cannot create '%s': %s\n", dir,
			        strerror(errno));
			rc = EXIT_USAGE;
			goto out;
		}
	} else {
		const char *tmp = getenv("TMPDIR");
		dir = xasprintf("%s/stepwatch-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "stepwatch demo: cannot create a temp dir: %s\n",
			        strerror(errno));
			goto out;
		}
	}
	dbpath = xasprintf("%s/lending.db", dir);
	if (!access(dbpath, F_OK)) {
		fprintf(stderr, "stepwatch demo: '%s' exists: use an empty --dir\n", dbpath);
		rc = EXIT_USAGE;
		goto out;
	}
	hook = demo_hook_start(&err);
	if (!hook) {
		fprintf(stderr, "stepwatch demo: %s\n", err.msg);
		goto out;
	}
	cfgpath = write_config(dir, (int)port, demo_hook_port(hook));
	if (!cfgpath)
		goto out;
	if (config_load(cfgpath, &cfg, &errs) < 0) {
		fputs(errs.buf, stderr);
		goto out;
	}

	sc.real0 = time_now_ms();
	sc.sim0 = sc.real0;
	sc.speed = speed;
	sim_opts_init(&so);
	so.db_path = dbpath;
	so.seed = (uint64_t)seed;
	if (sim_open(&so, clock_now(&clock), &sim, &err) < 0 ||
	    sim_advance(sim, clock_now(&clock), &err) < 0) {
		fprintf(stderr, "stepwatch demo: %s\n", err.msg);
		goto out;
	}
	if (signals_install(&err) < 0 || server_start(cfg, &sopts, &srv, &err) < 0) {
		fprintf(stderr, "stepwatch demo: %s\n", err.msg);
		if (strstr(err.msg, "in use"))
			fprintf(
			    stderr,
			    "stepwatch demo: pick another port with --port N (0: any free one)\n");
		goto out;
	}
	cfg = NULL; /* the server's now */
	if (store_open(server_config(srv)->store_url, &st, &err) < 0) {
		fprintf(stderr, "stepwatch demo: %s\n", err.msg);
		goto out;
	}
	real_end = duration > 0 ? time_now_ms() + (int64_t)(duration * 1000) : INT64_MAX;
	while (time_now_ms() < real_end) {
		int64_t now = clock_now(&clock);
		signals_wait(200);
		if (signals_take_stop())
			break;
		signals_take_reload();
		if (sim_advance(sim, clock_now(&clock), &err) < 0) {
			fprintf(stderr, "stepwatch demo: %s\n", err.msg);
			goto out;
		}
		if (time_now_ms() - last_summary >= (tty ? 1000 : 5000)) {
			last_summary = time_now_ms();
			summary(st, sim, &sc, now,
			        server_http_port(srv) ? server_http_port(srv) : (int)port, cfgpath,
			        tty, hook);
		}
	}
	summary(st, sim, &sc, clock_now(&clock), (int)port, cfgpath, false, hook);
	rc = EXIT_OK;
out:
	if (st)
		store_close(st);
	if (srv && server_stop(srv, 10000) < 0)
		rc = EXIT_RUNTIME;
	demo_hook_stop(hook); /* after the notifier stopped sending to it */
	sim_close(sim);
	config_free(cfg);
	strbuf_release(&errs);
	free(cfgpath);
	free(dbpath);
	free(dir);
	return rc;
}
