/*
 * fuzz_notify_bodies.c - libFuzzer harness for the messages built from data that comes from
 * outside (the sources' error codes and labels, step names, summaries): the webhook,
 * Slack, PagerDuty and e-mail bodies. The input is split at NUL bytes into labels JSON,
 * step, summary and on-call. Checks: every JSON body parses; Slack stays within its limits
 * and its mrkdwn carries no "<!" from the data; the PagerDuty summary fits 1024 bytes; the
 * e-mail header block has only CRLF line ends and no header line injected from the data.
 */
#include "util/common.h"
#include <jansson.h>
#include "notify/receiver-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const struct strbuf *sb, const char *what)
{
	json_t *j = json_loadb(sb->buf, sb->len, 0, NULL);
	if (!j)
		BUG("%s body is not JSON", what);
	json_decref(j);
}

static void check_slack(const struct strbuf *sb)
{
	json_t *j = json_loadb(sb->buf, sb->len, 0, NULL), *blocks, *b;
	size_t i;

	if (!j)
		BUG("slack body is not JSON");
	blocks = json_object_get(j, "blocks");
	if (json_array_size(blocks) > SLACK_MAX_BLOCKS)
		BUG("too many blocks");
	if (strlen(json_string_value(json_object_get(j, "text"))) > SLACK_MAX_FALLBACK)
		BUG("fallback text too long");
	json_array_foreach(blocks, i, b)
	{
		json_t *t = json_object_get(b, "text");
		const char *s = t ? json_string_value(json_object_get(t, "text")) : NULL;
		if (s && strlen(s) > SLACK_MAX_SECTION_TEXT)
			BUG("block text too long");
		if (s && !strcmp(json_string_value(json_object_get(t, "type")), "mrkdwn") &&
		    strstr(s, "<!"))
			BUG("a mention in mrkdwn");
	}
	json_decref(j);
}

static void check_email(const struct strbuf *sb)
{
	const char *end = strstr(sb->buf, "\r\n\r\n");
	static const char *const allowed[] = {"From:",
	                                      "To:",
	                                      "Subject:",
	                                      "Date:",
	                                      "Message-ID:",
	                                      "MIME-Version:",
	                                      "Content-Type:",
	                                      "Content-Transfer-Encoding:",
	                                      "Auto-Submitted:",
	                                      "X-Stepwatch-Incident:",
	                                      "X-Stepwatch-Event:",
	                                      NULL};

	if (!end)
		BUG("no end of headers");
	for (const char *p = sb->buf; p < end;) {
		const char *nl = strstr(p, "\r\n");
		bool ok = *p == ' ';
		for (size_t i = 0; !ok && allowed[i]; i++)
			ok = !strncmp(p, allowed[i], strlen(allowed[i]));
		if (!ok)
			BUG("unexpected header line '%.40s'", p);
		for (const char *q = p; q < nl; q++)
			if (*q == '\r' || *q == '\n')
				BUG("bare CR or LF in a header");
		p = nl + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = xmalloc(size + 1), *field[4] = {NULL};
	struct notify_msg m = {0};
	struct strbuf sb = STRBUF_INIT;
	struct sw_receiver rc = {0};
	char name[] = "fuzz", from[] = "stepwatch@example.com", to0[] = "a@example.com";
	char *to[] = {to0};
	size_t k = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	field[k++] = buf;
	for (size_t i = 0; i < size && k < 4; i++)
		if (!buf[i])
			field[k++] = buf + i + 1;
	m.key = "fuzz-key";
	m.dedup_key = "fuzz-incident";
	m.event = (enum notify_event)(size % 7);
	m.incident_id = 1;
	m.workflow = "wf";
	m.step = field[1] ? field[1] : "step";
	m.rule = "failed";
	m.labels_json = field[0];
	m.level = size % 2 ? "ESCALATION_P1" : "INITIATED";
	m.state = "OPEN";
	m.summary = field[2];
	m.oncall = field[3];
	m.conv_last_hour = -1;
	m.conv_usual = 0.5;
	m.at_ms = 1764500000000LL;

	webhook_body(&m, &sb);
	check_json(&sb, "webhook");
	strbuf_reset(&sb);
	slack_body(&m, &sb);
	check_slack(&sb);
	strbuf_reset(&sb);
	pagerduty_body(&m, "key", &sb);
	check_json(&sb, "pagerduty");
	strbuf_reset(&sb);
	rc.name = name;
	rc.kind = SW_RECV_EMAIL;
	rc.from = from;
	rc.to = to;
	rc.n_to = 1;
	email_message(&rc, &m, m.at_ms, "example.com", &sb);
	check_email(&sb);
	strbuf_release(&sb);
	free(buf);
	return 0;
}
