/*
 * cmd_alerts.c - `stepwatch alerts list|show|ack|resolve`: a client of the HTTP API
 * (GET /api/v1/alerts, GET /api/v1/alerts/{id}, POST .../ack, POST .../resolve).
 *
 * Tables for people by default, the API's JSON with --json. Option values are checked here
 * before any request (a bad state, level, limit or id is a usage error, exit 2); what only
 * the server can know (no such alert, already acked) is a runtime failure, exit 1, with the
 * API's message.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "cli/cli.h"
#include "cli/client.h"
#include <strings.h>

static const char usage[] =
    "usage: stepwatch alerts list [--state STATE] [--level P2|P1|P0] [--workflow W] [--step S]\n"
    "                             [--rule R] [--incident ID] [--user U] [--instance I] [--open]\n"
    "                             [--limit N] [--cursor C] [--all] [--json]\n"
    "       stepwatch alerts show ID [--json]\n"
    "       stepwatch alerts ack ID [--by NAME] [--note TEXT] [--json]\n"
    "       stepwatch alerts resolve ID [--by NAME] [--note TEXT] [--json]\n"
    "\n"
    "A client of the stepwatch HTTP API. Every subcommand also takes:\n"
    "  --url URL        the API (default $STEPWATCH_URL, else " CLIENT_DEFAULT_URL ")\n"
    "  --timeout SECS   give up on a request after SECS seconds (default 30)\n"
    "  --json           print the API's JSON instead of a table\n"
    "The token, if the server wants one, is read from $STEPWATCH_TOKEN.\n"
    "\n"
    "list     newest first, one page of --limit (1..1000, default 100); --all follows every\n"
    "         page. STATE: INITIATED, ESCALATION_P2, ESCALATION_P1, ESCALATION_P0, RESOLVED,\n"
    "         ABANDONED. --open: only alerts not yet resolved or abandoned.\n"
    "show     one alert and its history, oldest first.\n"
    "ack      acknowledge: stops repeat notifications, not escalation.\n"
    "resolve  close the alert by hand (resolved_by user:<token name>).\n"
    "--by is free text kept with the change (default $USER); the actor recorded is the\n"
    "token's name.\n"
    "\n"
    "Exit codes: 0 ok, 1 the server is unreachable or refused (not found, conflict, 5xx),\n"
    "2 usage error.\n";

static const char *const states[] = {"INITIATED",     "ESCALATION_P2", "ESCALATION_P1",
                                     "ESCALATION_P0", "RESOLVED",      "ABANDONED"};

/* Upper-cased copy of s if it is one of names (case-insensitive), else NULL. */
static char *pick(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(s, names[i]))
			return xstrdup(names[i]);
	return NULL;
}

static void print_alert_rows(json_t *items, int64_t now_ms)
{
	static const char *const hdr[] = {"ID",       "STATE", "ACKED", "WORKFLOW/STEP",
	                                  "INSTANCE", "USER",  "ERROR", "AGE"};
	struct client_table t;
	size_t i;
	json_t *a;
	client_table_init(&t, ARRAY_SIZE(hdr), hdr);
	json_array_foreach(items, i, a)
	{
		char idb[32], ageb[32], b1[32], b2[32];
		char *ws = xasprintf("%s/%s", client_json_str(a, "workflow", "?", b1, sizeof(b1)),
		                     client_json_str(a, "step", "?", b2, sizeof(b2)));
		const char *row[8];
		client_format_age(client_json_str(a, "opened_at", NULL, NULL, 0), now_ms, ageb,
		                  sizeof(ageb));
		row[0] = client_json_str(a, "id", "?", idb, sizeof(idb));
		row[1] = client_json_str(a, "state", "?", NULL, 0);
		row[2] = client_json_str(a, "acked_by", "-", NULL, 0);
		row[3] = ws;
		row[4] = client_json_str(a, "instance_id", "-", b1, sizeof(b1));
		row[5] = client_json_str(a, "user_id", "-", b2, sizeof(b2));
		row[6] = client_json_str(a, "error", "-", NULL, 0);
		row[7] = ageb;
		client_table_add(&t, row);
		free(ws);
	}
	client_table_print(&t, stdout, 48);
	client_table_release(&t);
	if (json_array_size(items) == 0)
		printf("(no alerts)\n");
}

static int alerts_list(struct client *c, bool json, const char *const *v, bool open, bool all)
{
	/* v: state level workflow step rule incident user instance limit cursor */
	static const char *const keys[] = {"state",    "level",   "workflow",    "step", "rule",
	                                   "incident", "user_id", "instance_id", "limit"};
	static const char *const levels[] = {"P2", "P1", "P0"};
	struct strbuf path = STRBUF_INIT;
	char *state = NULL, *level = NULL;
	int64_t n;
	int rc = EXIT_USAGE;
	if (v[0] && !(state = pick(v[0], states, ARRAY_SIZE(states)))) {
		fprintf(stderr,
		        "stepwatch alerts: invalid state '%s': want one of INITIATED, "
		        "ESCALATION_P2, ESCALATION_P1, ESCALATION_P0, RESOLVED, ABANDONED\n",
		        v[0]);
		goto out;
	}
	if (v[1] && !(level = pick(v[1], levels, ARRAY_SIZE(levels)))) {
		fprintf(stderr, "stepwatch alerts: invalid level '%s': want P2, P1 or P0\n", v[1]);
		goto out;
	}
	if (v[5] && client_parse_id(v[5], &n) < 0) {
		fprintf(stderr, "stepwatch alerts: invalid incident id '%s'\n", v[5]);
		goto out;
	}
	if (v[8] && (client_parse_id(v[8], &n) < 0 || n > 1000)) {
		fprintf(stderr, "stepwatch alerts: invalid limit '%s': want 1..1000\n", v[8]);
		goto out;
	}
	strbuf_addstr(&path, "/api/v1/alerts");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *val = i == 0 ? state : i == 1 ? level : v[i];
		if (val)
			client_add_query(&path, keys[i], val);
	}
	if (open)
		client_add_query(&path, "open", "true");
	rc = client_list(c, "alerts", &path, v[9], all, json, print_alert_rows);
out:
	free(state);
	free(level);
	strbuf_release(&path);
	return rc;
}

static void print_alert(json_t *a, int64_t now_ms)
{
	static const char *const fields[] = {"id",          "state",       "rule",
	                                     "workflow",    "step",        "instance_id",
	                                     "user_id",     "error",       "occurred_at",
	                                     "opened_at",   "updated_at",  "next_escalation_at",
	                                     "acked_by",    "acked_at",    "resolved_at",
	                                     "resolved_by", "incident_id", "reopen_of"};
	static const char *const hhdr[] = {"AT", "ACTOR", "EVENT", "FROM", "TO", "REASON"};
	struct client_table t;
	json_t *labels = json_object_get(a, "labels"), *hist = json_object_get(a, "history"), *h;
	const char *k;
	char age[32];
	size_t i;
	client_table_init(&t, 2, (const char *const[]){"FIELD", "VALUE"});
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		char b[32];
		const char *row[2] = {fields[i], client_json_str(a, fields[i], "-", b, sizeof(b))};
		client_table_add(&t, row);
	}
	json_object_foreach(labels, k, h)
	{
		char *name = xasprintf("labels.%s", k);
		const char *row[2] = {name, json_is_string(h) ? json_string_value(h) : "?"};
		client_table_add(&t, row);
		free(name);
	}
	client_format_age(client_json_str(a, "opened_at", NULL, NULL, 0), now_ms, age, sizeof(age));
	client_table_add(&t, (const char *const[]){"age", age});
	/* the header row of this table is only for widths: print from the second row */
	{
		struct client_table body = t;
		body.cells += 2;
		body.n -= 2;
		client_table_print(&body, stdout, 200);
	}
	client_table_release(&t);

	printf("\nhistory:\n");
	client_table_init(&t, ARRAY_SIZE(hhdr), hhdr);
	json_array_foreach(hist, i, h)
	{
		const char *row[6] = {client_json_str(h, "at", "-", NULL, 0),
		                      client_json_str(h, "actor", "-", NULL, 0),
		                      client_json_str(h, "event", "-", NULL, 0),
		                      client_json_str(h, "from", "-", NULL, 0),
		                      client_json_str(h, "to", "-", NULL, 0),
		                      client_json_str(h, "reason", "-", NULL, 0)};
		client_table_add(&t, row);
	}
	client_table_print(&t, stdout, 80);
	client_table_release(&t);
}

static int alerts_show(struct client *c, int64_t id, bool json)
{
	struct strbuf path = STRBUF_INIT, raw = STRBUF_INIT;
	struct sw_err err = {""};
	json_t *doc = NULL;
	long status;
	int rc = EXIT_OK;
	strbuf_addf(&path, "/api/v1/alerts/%lld", (long long)id);
	if (client_request(c, "GET", path.buf, NULL, &status, &doc, &raw, &err) < 0) {
		client_die_msg("alerts", err.msg);
		rc = status ? client_exit_code(status) : EXIT_RUNTIME;
		goto out;
	}
	if (json) {
		fwrite(raw.buf, 1, raw.len, stdout);
		if (!raw.len || raw.buf[raw.len - 1] != '\n')
			fputc('\n', stdout);
	} else {
		print_alert(doc, time_now_ms());
	}
out:
	json_decref(doc);
	strbuf_release(&path);
	strbuf_release(&raw);
	return rc;
}

int cmd_alerts(int argc, char **argv)
{
	const char *sub, *url = NULL, *timeout = NULL, *by = NULL, *note = NULL;
	const char *v[10] = {NULL}, *pos[1];
	bool json = false, open = false, all = false;
	struct client c = {0};
	int64_t id = 0;
	size_t npos;
	int rc;
	bool is_list, is_change;

	rc = client_subcommand("alerts", argc, argv, usage, &sub, &is_list, &is_change);
	if (!sub)
		return rc;
	{
		const struct client_opt common[] = {
		    {"url", &url, NULL}, {"timeout", &timeout, NULL}, {"json", NULL, &json}};
		const struct client_opt list[] = {
		    {"url", &url, NULL},     {"timeout", &timeout, NULL}, {"json", NULL, &json},
		    {"state", &v[0], NULL},  {"level", &v[1], NULL},      {"workflow", &v[2], NULL},
		    {"step", &v[3], NULL},   {"rule", &v[4], NULL},       {"incident", &v[5], NULL},
		    {"user", &v[6], NULL},   {"instance", &v[7], NULL},   {"limit", &v[8], NULL},
		    {"cursor", &v[9], NULL}, {"open", NULL, &open},       {"all", NULL, &all}};
		const struct client_opt change[] = {{"url", &url, NULL},
		                                    {"timeout", &timeout, NULL},
		                                    {"json", NULL, &json},
		                                    {"by", &by, NULL},
		                                    {"note", &note, NULL}};
		if (is_list)
			rc = client_parse_opts(argc, argv, 2, list, ARRAY_SIZE(list), pos, 0, &npos,
			                       "alerts", usage);
		else if (is_change)
			rc = client_parse_opts(argc, argv, 2, change, ARRAY_SIZE(change), pos, 1,
			                       &npos, "alerts", usage);
		else
			rc = client_parse_opts(argc, argv, 2, common, ARRAY_SIZE(common), pos, 1,
			                       &npos, "alerts", usage);
	}
	if (rc)
		return rc == 1 ? EXIT_OK : EXIT_USAGE;
	rc = client_setup("alerts", "alert", sub, usage, !is_list, npos, pos, timeout, url,
	                  is_change, &by, &id, &c);
	if (rc)
		return rc;
	if (is_list)
		rc = alerts_list(&c, json, v, open, all);
	else if (is_change)
		rc = client_change(&c, "alerts", "alerts", "alert", sub, id, by, note, json);
	else
		rc = alerts_show(&c, id, json);
	client_close(&c);
	return rc;
}
