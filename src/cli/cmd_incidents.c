/*
 * cmd_incidents.c - `stepwatch incidents list|show|ack|resolve`: a client of the HTTP API
 * (GET /api/v1/incidents, GET /api/v1/incidents/{id}, POST .../ack, POST .../resolve).
 * `show` prints the incident and then its alerts (GET /api/v1/alerts?incident=ID, newest
 * first, one page). Exit codes as for `stepwatch alerts`.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "cli/cli.h"
#include "cli/client.h"

static const char usage[] =
    "usage: stepwatch incidents list [--workflow W] [--open] [--limit N] [--cursor C] [--all]\n"
    "                                [--json]\n"
    "       stepwatch incidents show ID [--json]\n"
    "       stepwatch incidents ack ID [--by NAME] [--note TEXT] [--json]\n"
    "       stepwatch incidents resolve ID [--by NAME] [--note TEXT] [--json]\n"
    "\n"
    "A client of the stepwatch HTTP API. Every subcommand also takes:\n"
    "  --url URL        the API (default $STEPWATCH_URL, else " CLIENT_DEFAULT_URL ")\n"
    "  --timeout SECS   give up on a request after SECS seconds (default 30)\n"
    "  --json           print the API's JSON instead of a table\n"
    "The token, if the server wants one, is read from $STEPWATCH_TOKEN.\n"
    "\n"
    "list     newest first, one page of --limit (1..1000, default 100); --all follows every\n"
    "         page. --open: only open incidents.\n"
    "show     one incident and its alerts (the newest 100).\n"
    "ack      acknowledge the incident and all its open alerts.\n"
    "resolve  resolve the incident and all its open alerts (resolved_by incident).\n"
    "--by is free text kept with the change (default $USER); the actor recorded is the\n"
    "token's name.\n"
    "\n"
    "Exit codes: 0 ok, 1 the server is unreachable or refused (not found, conflict, 5xx),\n"
    "2 usage error.\n";

/* "error=TIMEOUT,channel=web" from the labels object; malloc'd. */
static char *labels_text(json_t *labels)
{
	struct strbuf sb = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v)
	{
		if (sb.len)
			strbuf_addch(&sb, ',');
		strbuf_addf(&sb, "%s=%s", k, json_is_string(v) ? json_string_value(v) : "?");
	}
	if (!sb.len)
		strbuf_addch(&sb, '-');
	return strbuf_detach(&sb, NULL);
}

static void print_incident_rows(json_t *items, int64_t now_ms)
{
	static const char *const hdr[] = {"ID",     "STATE", "LEVEL", "WORKFLOW/STEP",
	                                  "RULE",   "OPEN",  "TOTAL", "USERS",
	                                  "LABELS", "ACKED", "AGE"};
	struct client_table t;
	size_t i;
	json_t *o;
	client_table_init(&t, ARRAY_SIZE(hdr), hdr);
	json_array_foreach(items, i, o)
	{
		char idb[32], ageb[32], b1[32], b2[32], ob[32], tb[32], ub[32];
		char *ws = xasprintf("%s/%s", client_json_str(o, "workflow", "?", b1, sizeof(b1)),
		                     client_json_str(o, "step", "?", b2, sizeof(b2)));
		char *labels = labels_text(json_object_get(o, "labels"));
		const char *row[11];
		client_format_age(client_json_str(o, "opened_at", NULL, NULL, 0), now_ms, ageb,
		                  sizeof(ageb));
		row[0] = client_json_str(o, "id", "?", idb, sizeof(idb));
		row[1] = client_json_str(o, "state", "?", NULL, 0);
		row[2] = client_json_str(o, "level", "-", NULL, 0);
		row[3] = ws;
		row[4] = client_json_str(o, "rule", "-", NULL, 0);
		row[5] = client_json_str(o, "open_alerts", "-", ob, sizeof(ob));
		row[6] = client_json_str(o, "total_alerts", "-", tb, sizeof(tb));
		row[7] = client_json_str(o, "affected_users", "-", ub, sizeof(ub));
		row[8] = labels;
		row[9] = client_json_str(o, "acked_by", "-", NULL, 0);
		row[10] = ageb;
		client_table_add(&t, row);
		free(ws);
		free(labels);
	}
	client_table_print(&t, stdout, 48);
	client_table_release(&t);
	if (json_array_size(items) == 0)
		printf("(no incidents)\n");
}

static void print_alerts_of(json_t *items, int64_t now_ms)
{
	static const char *const hdr[] = {"ID",   "STATE", "ACKED", "INSTANCE",
	                                  "USER", "ERROR", "AGE"};
	struct client_table t;
	size_t i;
	json_t *a;
	client_table_init(&t, ARRAY_SIZE(hdr), hdr);
	json_array_foreach(items, i, a)
	{
		char idb[32], ageb[32], b1[32], b2[32];
		const char *row[7];
		client_format_age(client_json_str(a, "opened_at", NULL, NULL, 0), now_ms, ageb,
		                  sizeof(ageb));
		row[0] = client_json_str(a, "id", "?", idb, sizeof(idb));
		row[1] = client_json_str(a, "state", "?", NULL, 0);
		row[2] = client_json_str(a, "acked_by", "-", NULL, 0);
		row[3] = client_json_str(a, "instance_id", "-", b1, sizeof(b1));
		row[4] = client_json_str(a, "user_id", "-", b2, sizeof(b2));
		row[5] = client_json_str(a, "error", "-", NULL, 0);
		row[6] = ageb;
		client_table_add(&t, row);
	}
	client_table_print(&t, stdout, 48);
	client_table_release(&t);
}

static int incidents_show(struct client *c, int64_t id, bool json)
{
	static const char *const fields[] = {"id",          "state",        "level",
	                                     "workflow",    "step",         "rule",
	                                     "open_alerts", "total_alerts", "affected_users",
	                                     "opened_at",   "resolved_at",  "acked_by"};
	struct strbuf path = STRBUF_INIT, raw = STRBUF_INIT;
	struct sw_err err = {""};
	struct client_table t;
	json_t *doc = NULL, *alerts = NULL;
	int64_t now = time_now_ms();
	char *labels, age[32], idb[32];
	long status;
	int rc = EXIT_OK;
	strbuf_addf(&path, "/api/v1/incidents/%lld", (long long)id);
	if (client_request(c, "GET", path.buf, NULL, &status, &doc, &raw, &err) < 0) {
		client_die_msg("incidents", err.msg);
		rc = status ? client_exit_code(status) : EXIT_RUNTIME;
		goto out;
	}
	if (json) {
		fwrite(raw.buf, 1, raw.len, stdout);
		if (!raw.len || raw.buf[raw.len - 1] != '\n')
			fputc('\n', stdout);
		goto out;
	}
	client_table_init(&t, 2, (const char *const[]){"field", "value"});
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		char b[32];
		const char *row[2] = {fields[i],
		                      client_json_str(doc, fields[i], "-", b, sizeof(b))};
		client_table_add(&t, row);
	}
	labels = labels_text(json_object_get(doc, "labels"));
	client_table_add(&t, (const char *const[]){"labels", labels});
	free(labels);
	client_format_age(client_json_str(doc, "opened_at", NULL, NULL, 0), now, age, sizeof(age));
	client_table_add(&t, (const char *const[]){"age", age});
	{
		struct client_table body = t; /* skip the header row */
		body.cells += 2;
		body.n -= 2;
		client_table_print(&body, stdout, 200);
	}
	client_table_release(&t);

	strbuf_reset(&path);
	snprintf(idb, sizeof(idb), "%lld", (long long)id);
	strbuf_addstr(&path, "/api/v1/alerts");
	client_add_query(&path, "incident", idb);
	if (client_request(c, "GET", path.buf, NULL, &status, &alerts, NULL, &err) < 0) {
		client_die_msg("incidents", err.msg);
		rc = status ? client_exit_code(status) : EXIT_RUNTIME;
		goto out;
	}
	printf("\nalerts:\n");
	print_alerts_of(json_object_get(alerts, "items"), now);
	if (json_is_string(json_object_get(alerts, "next_cursor")))
		printf("(more: stepwatch alerts list --incident %lld --all)\n", (long long)id);
out:
	json_decref(doc);
	json_decref(alerts);
	strbuf_release(&path);
	strbuf_release(&raw);
	return rc;
}

int cmd_incidents(int argc, char **argv)
{
	const char *sub, *url = NULL, *timeout = NULL, *by = NULL, *note = NULL;
	const char *workflow = NULL, *limit = NULL, *cursor = NULL, *pos[1];
	bool json = false, open = false, all = false;
	struct client c = {0};
	struct strbuf path = STRBUF_INIT;
	int64_t id = 0;
	size_t npos;
	int rc;
	bool is_list, is_change;

	rc = client_subcommand("incidents", argc, argv, usage, &sub, &is_list, &is_change);
	if (!sub)
		return rc;
	{
		const struct client_opt common[] = {
		    {"url", &url, NULL}, {"timeout", &timeout, NULL}, {"json", NULL, &json}};
		const struct client_opt list[] = {
		    {"url", &url, NULL},     {"timeout", &timeout, NULL},
		    {"json", NULL, &json},   {"workflow", &workflow, NULL},
		    {"limit", &limit, NULL}, {"cursor", &cursor, NULL},
		    {"open", NULL, &open},   {"all", NULL, &all}};
		const struct client_opt change[] = {{"url", &url, NULL},
		                                    {"timeout", &timeout, NULL},
		                                    {"json", NULL, &json},
		                                    {"by", &by, NULL},
		                                    {"note", &note, NULL}};
		if (is_list)
			rc = client_parse_opts(argc, argv, 2, list, ARRAY_SIZE(list), pos, 0, &npos,
			                       "incidents", usage);
		else if (is_change)
			rc = client_parse_opts(argc, argv, 2, change, ARRAY_SIZE(change), pos, 1,
			                       &npos, "incidents", usage);
		else
			rc = client_parse_opts(argc, argv, 2, common, ARRAY_SIZE(common), pos, 1,
			                       &npos, "incidents", usage);
	}
	if (rc)
		return rc == 1 ? EXIT_OK : EXIT_USAGE;
	if (limit) {
		int64_t l;
		if (client_parse_id(limit, &l) < 0 || l > 1000) {
			fprintf(stderr, "stepwatch incidents: invalid limit '%s': want 1..1000\n",
			        limit);
			return EXIT_USAGE;
		}
	}
	rc = client_setup("incidents", "incident", sub, usage, !is_list, npos, pos, timeout, url,
	                  is_change, &by, &id, &c);
	if (rc)
		return rc;
	if (is_list) {
		strbuf_addstr(&path, "/api/v1/incidents");
		if (workflow)
			client_add_query(&path, "workflow", workflow);
		if (open)
			client_add_query(&path, "open", "true");
		if (limit)
			client_add_query(&path, "limit", limit);
		rc = client_list(&c, "incidents", &path, cursor, all, json, print_incident_rows);
	} else if (is_change) {
		rc = client_change(&c, "incidents", "incidents", "incident", sub, id, by, note,
		                   json);
	} else {
		rc = incidents_show(&c, id, json);
	}
	strbuf_release(&path);
	client_close(&c);
	return rc;
}
