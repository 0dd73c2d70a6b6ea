/*
 * test_config.c - the configuration loader: the whole SPEC section 3 example loads with the
 * right values, and each kind of bad input gets its message at the right line:col.
 */
#include "helpers.h"
#include "config/config.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

#define MIN_ (60 * 1000LL)
#define H_   (60 * MIN_)
#define D_   (24 * H_)

/* SPEC.md section 3, verbatim. */
static const char spec_yaml[] =
    "store: sqlite://stepwatch.db            # or postgresql://user@host:5432/stepwatch\n"
    "broker: redis://127.0.0.1:6379/0        # optional: distributed mode (section 6)\n"
    "\n"
    "http:\n"
    "  listen: 127.0.0.1:8080\n"
    "  tokens:                               # no tokens: the API is open on loopback only\n"
    "    - { name: ops-bot, token_env: STEPWATCH_TOKEN_OPS, role: responder }  # "
    "viewer|responder|admin\n"
    "\n"
    "sources:\n"
    "  lending:\n"
    "    url: postgresql://monitor@127.0.0.1/lending   # or sqlite:///path/app.db\n"
    "    statement_timeout: 5s\n"
    "\n"
    "workflows:\n"
    "  loan_application:\n"
    "    source: lending\n"
    "    poll: 1s                            # how often the watcher reads new step records\n"
    "    overlap: 10s                        # re-read window behind the watermark\n"
    "    steps_query: |                      # must return the columns of section 3.1\n"
    "      SELECT application_id AS instance_id, user_id, step, status,\n"
    "             error_code AS error, started_at, finished_at, updated_at,\n"
    "             channel, partner\n"
    "        FROM loan_steps\n"
    "       WHERE updated_at > :since\n"
    "       ORDER BY updated_at\n"
    "    steps: [kyc, bureau_pull, bank_statement, underwriting, esign, disbursement]\n"
    "    segments: [channel, partner]        # extra columns used to slice success rates\n"
    "    tat_sla: 2d                         # turnaround target for a whole instance\n"
    "    defaults:\n"
    "      sla: { p2: 15m, p1: 1h, p0: 4h }\n"
    "      stuck_after: 30m                  # IN_PROGRESS longer than this is a problem too\n"
    "      abandon_after: 7d\n"
    "      group_by: [error]                 # incident grouping labels\n"
    "    step_overrides:\n"
    "      bureau_pull:\n"
    "        sla: { p2: 5m, p1: 30m, p0: 2h }\n"
    "        stuck_after: 10m\n"
    "        recover:                        # self-recovery: ask the application to retry\n"
    "          webhook: { url: http://127.0.0.1:9000/retry/bureau }\n"
    "          max_attempts: 3\n"
    "          backoff: 1m\n"
    "\n"
    "watchers:                               # custom detection, beyond step records\n"
    "  - name: disbursement_not_credited\n"
    "    workflow: loan_application\n"
    "    step: disbursement\n"
    "    every: 30s\n"
    "    detect: |                           # returns instance_id, user_id, occurred_at\n"
    "      SELECT d.application_id AS instance_id, d.user_id, d.sent_at AS occurred_at,\n"
    "             'NOT_CREDITED' AS error\n"
    "        FROM disbursements d\n"
    "       WHERE d.status = 'SENT' AND d.sent_at < now() - interval '10 minutes'\n"
    "    resolve: |                          # one row back = recovered\n"
    "      SELECT 1 FROM disbursements WHERE application_id = :instance_id AND status = "
    "'CREDITED'\n"
    "\n"
    "levels:                                 # who hears about each level\n"
    "  P2: { notify: [support] }\n"
    "  P1: { notify: [tech] }\n"
    "  P0: { notify: [product] }\n"
    "\n"
    "receivers:\n"
    "  support: { slack: { url_env: SLACK_SUPPORT_URL } }\n"
    "  tech:    { webhook: { url: http://127.0.0.1:9000/hook, secret_env: HOOK_SECRET }, "
    "roster: tech-oncall }\n"
    "  product: { email: { to: [product@example.com], smtp_url: smtp://127.0.0.1:2525 } }\n"
    "  pager:   { pagerduty: { routing_key_env: PD_KEY, url: "
    "https://events.pagerduty.com/v2/enqueue } }\n"
    "\n"
    "notify:                                 # noise control, per incident\n"
    "  group_wait: 30s                       # wait for more alerts before the first message\n"
    "  group_interval: 5m                    # at most one update per incident this often\n"
    "  repeat_interval: 4h                   # reminder for an unacknowledged incident\n"
    "\n"
    "rosters:\n"
    "  tech-oncall:\n"
    "    members: [asha, ben, chen]\n"
    "    rotation: 1w\n"
    "    start: 2026-01-05T09:00:00Z\n";

static int setup_env(void **state)
{
	(void)state;
	setenv("STEPWATCH_TOKEN_OPS", "ops-secret", 1);
	setenv("SLACK_SUPPORT_URL", "https://hooks.slack.example/T0/B0/xyz", 1);
	setenv("PD_KEY", "pd-routing-key", 1);
	setenv("HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
	unsetenv("SW_TEST_UNSET_VAR");
	return 0;
}

static struct sw_config *load_ok(const char *yaml)
{
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT;
	int rc = config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, &errs);
	if (rc)
		fprintf(stderr, "unexpected errors:\n%s", errs.buf);
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	assert_int_equal(errs.len, 0);
	strbuf_release(&errs);
	return cfg;
}

/* Load yaml expecting failure; returns the error text (caller frees). */
static char *load_err(const char *yaml)
{
	struct sw_config *cfg = (struct sw_config *)1;
	struct strbuf errs = STRBUF_INIT;
	int rc = config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, &errs);
	assert_int_equal(rc, -1);
	assert_null(cfg);
	assert_true(errs.len > 0);
	assert_int_equal(errs.buf[errs.len - 1], '\n');
	return strbuf_detach(&errs, NULL);
}

/* The error text contains line (a whole "t.yaml:L:C: message" line). */
static void expect_err(const char *yaml, const char *line)
{
	char *e = load_err(yaml);
	char *want = xasprintf("%s\n", line);
	if (!strstr(e, want))
		fprintf(stderr, "expected line:\n  %s\ngot:\n%s", line, e);
	assert_non_null(strstr(e, want));
	free(want);
	free(e);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_spec_example(void **state)
{
	struct sw_config *cfg = load_ok(spec_yaml);
	const struct sw_workflow *wf;
	const struct sw_step *bp, *kyc;
	int64_t start;
	(void)state;

	assert_string_equal(cfg->path, "t.yaml");
	assert_string_equal(cfg->store_url, "sqlite://stepwatch.db");
	assert_int_equal(cfg->store_kind, SW_DB_SQLITE);
	assert_string_equal(cfg->broker_url, "redis://127.0.0.1:6379/0");
	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_int_equal(cfg->http.n_tokens, 1);
	assert_string_equal(cfg->http.tokens[0].name, "ops-bot");
	assert_string_equal(cfg->http.tokens[0].token_env, "STEPWATCH_TOKEN_OPS");
	assert_string_equal(cfg->http.tokens[0].token, "ops-secret");
	assert_int_equal(cfg->http.tokens[0].role, SW_ROLE_RESPONDER);

	assert_int_equal(cfg->n_sources, 1);
	assert_string_equal(cfg->sources[0].name, "lending");
	assert_string_equal(cfg->sources[0].url, "postgresql://monitor@127.0.0.1/lending");
	assert_int_equal(cfg->sources[0].kind, SW_DB_POSTGRES);
	assert_int_equal(cfg->sources[0].statement_timeout_ms, 5000);
	assert_int_equal(cfg->sources[0].pos.line, 10);
	assert_int_equal(cfg->sources[0].pos.col, 3);
	assert_ptr_equal(config_source(cfg, "lending"), &cfg->sources[0]);
	assert_null(config_source(cfg, "nope"));

	assert_int_equal(cfg->n_workflows, 1);
	wf = config_workflow(cfg, "loan_application");
	assert_non_null(wf);
	assert_null(config_workflow(cfg, "nope"));
	assert_string_equal(wf->source_name, "lending");
	assert_ptr_equal(wf->source, &cfg->sources[0]);
	assert_int_equal(wf->poll_ms, 1000);
	assert_int_equal(wf->overlap_ms, 10000);
	assert_int_equal(wf->tat_sla_ms, 2 * D_);
	assert_non_null(strstr(wf->steps_query, "WHERE updated_at > :since\n"));
	assert_int_equal(strncmp(wf->steps_query, "SELECT application_id AS instance_id", 36), 0);
	assert_int_equal(wf->steps_query_pos.line, 20);
	assert_int_equal(wf->n_steps, 6);
	assert_string_equal(wf->steps[0].name, "kyc");
	assert_string_equal(wf->steps[5].name, "disbursement");
	assert_int_equal(config_step_index(wf, "underwriting"), 3);
	assert_int_equal(config_step_index(wf, "nope"), -1);
	assert_int_equal(wf->n_segments, 2);
	assert_string_equal(wf->segments[0], "channel");
	assert_string_equal(wf->segments[1], "partner");
	assert_int_equal(wf->pos.line, 15);

	kyc = &wf->steps[0];
	assert_int_equal(kyc->policy.sla.p2_ms, 15 * MIN_);
	assert_int_equal(kyc->policy.sla.p1_ms, H_);
	assert_int_equal(kyc->policy.sla.p0_ms, 4 * H_);
	assert_int_equal(kyc->policy.stuck_after_ms, 30 * MIN_);
	assert_int_equal(kyc->policy.abandon_after_ms, 7 * D_);
	assert_int_equal(kyc->policy.n_group_by, 1);
	assert_string_equal(kyc->policy.group_by[0], "error");
	assert_false(kyc->policy.recover.enabled);

	bp = &wf->steps[1];
	assert_string_equal(bp->name, "bureau_pull");
	assert_int_equal(bp->policy.sla.p2_ms, 5 * MIN_);
	assert_int_equal(bp->policy.sla.p1_ms, 30 * MIN_);
	assert_int_equal(bp->policy.sla.p0_ms, 2 * H_);
	assert_int_equal(bp->policy.stuck_after_ms, 10 * MIN_);
	assert_int_equal(bp->policy.abandon_after_ms, 7 * D_);
	assert_string_equal(bp->policy.group_by[0], "error");
	assert_true(bp->policy.recover.enabled);
	assert_string_equal(bp->policy.recover.webhook_url, "http://127.0.0.1:9000/retry/bureau");
	assert_int_equal(bp->policy.recover.max_attempts, 3);
	assert_int_equal(bp->policy.recover.backoff_ms, MIN_);
	/* group_by is owned per step */
	assert_ptr_not_equal(bp->policy.group_by, kyc->policy.group_by);

	assert_int_equal(cfg->n_watchers, 1);
	assert_string_equal(cfg->watchers[0].name, "disbursement_not_credited");
	assert_ptr_equal(cfg->watchers[0].workflow, wf);
	assert_string_equal(cfg->watchers[0].step, "disbursement");
	assert_int_equal(cfg->watchers[0].step_index, 5);
	assert_int_equal(cfg->watchers[0].every_ms, 30000);
	assert_non_null(strstr(cfg->watchers[0].detect, "FROM disbursements d"));
	assert_non_null(strstr(cfg->watchers[0].resolve, ":instance_id"));
	assert_int_equal(cfg->watchers[0].detect_pos.line, 49);

	assert_int_equal(cfg->levels[0].n_notify, 1);
	assert_string_equal(cfg->levels[0].notify[0], "support");
	assert_string_equal(cfg->levels[1].notify[0], "tech");
	assert_string_equal(cfg->levels[2].notify[0], "product");

	assert_int_equal(cfg->n_receivers, 4);
	assert_string_equal(cfg->receivers[0].name, "support");
	assert_int_equal(cfg->receivers[0].kind, SW_RECV_SLACK);
	assert_string_equal(cfg->receivers[0].url, "https://hooks.slack.example/T0/B0/xyz");
	assert_string_equal(cfg->receivers[0].url_env, "SLACK_SUPPORT_URL");
	assert_int_equal(cfg->receivers[1].kind, SW_RECV_WEBHOOK);
	assert_string_equal(cfg->receivers[1].url, "http://127.0.0.1:9000/hook");
	assert_null(cfg->receivers[1].url_env);
	assert_string_equal(cfg->receivers[1].secret_env, "HOOK_SECRET");
	assert_string_equal(cfg->receivers[1].secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_string_equal(cfg->receivers[1].roster_name, "tech-oncall");
	assert_ptr_equal(cfg->receivers[1].roster, &cfg->rosters[0]);
	assert_int_equal(cfg->receivers[2].kind, SW_RECV_EMAIL);
	assert_int_equal(cfg->receivers[2].n_to, 1);
	assert_string_equal(cfg->receivers[2].to[0], "product@example.com");
	assert_string_equal(cfg->receivers[2].smtp_url, "smtp://127.0.0.1:2525");
	assert_string_equal(cfg->receivers[2].from, "stepwatch@localhost");
	assert_int_equal(cfg->receivers[3].kind, SW_RECV_PAGERDUTY);
	assert_string_equal(cfg->receivers[3].routing_key, "pd-routing-key");
	assert_string_equal(cfg->receivers[3].routing_key_env, "PD_KEY");
	assert_string_equal(cfg->receivers[3].url, "https://events.pagerduty.com/v2/enqueue");

	assert_int_equal(cfg->notify.group_wait_ms, 30000);
	assert_int_equal(cfg->notify.group_interval_ms, 5 * MIN_);
	assert_int_equal(cfg->notify.repeat_interval_ms, 4 * H_);

	assert_int_equal(cfg->n_rosters, 1);
	assert_string_equal(cfg->rosters[0].name, "tech-oncall");
	assert_int_equal(cfg->rosters[0].n_members, 3);
	assert_string_equal(cfg->rosters[0].members[2], "chen");
	assert_int_equal(cfg->rosters[0].rotation_ms, 7 * D_);
	assert_int_equal(time_parse("2026-01-05T09:00:00Z", &start), 0);
	assert_int_equal(cfg->rosters[0].start_ms, start);
	config_free(cfg);
}

static void test_spec_example_from_file(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_file(dir, "stepwatch.yaml", spec_yaml);
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT;
	(void)state;

	assert_int_equal(config_load(path, &cfg, &errs), 0);
	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->workflows[0].n_steps, 6);
	config_free(cfg);
	strbuf_release(&errs);
	test_rmtree(dir);
	free(path);
	free(dir);
}

static void test_defaults(void **state)
{
	/* a push-only workflow: no steps_query, so no source either */
	struct sw_config *cfg = load_ok("workflows:\n  signup:\n    steps: [email, phone]\n");
	const struct sw_step_policy *pol;
	(void)state;

	assert_string_equal(cfg->store_url, "sqlite://stepwatch.db");
	assert_int_equal(cfg->store_kind, SW_DB_SQLITE);
	assert_null(cfg->broker_url);
	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_int_equal(cfg->http.n_tokens, 0);
	assert_int_equal(cfg->n_sources, 0);
	assert_null(cfg->workflows[0].source);
	assert_null(cfg->workflows[0].source_name);
	assert_null(cfg->workflows[0].steps_query);
	assert_int_equal(cfg->workflows[0].poll_ms, 1000);
	assert_int_equal(cfg->workflows[0].overlap_ms, 10000);
	assert_int_equal(cfg->workflows[0].page_size, 5000);
	assert_int_equal(cfg->workflows[0].backfill_ms, 7 * 24 * H_);
	assert_int_equal(cfg->workflows[0].tat_sla_ms, 0);
	assert_int_equal(cfg->workflows[0].n_segments, 0);
	pol = &cfg->workflows[0].steps[1].policy;
	assert_int_equal(pol->sla.p2_ms, 15 * MIN_);
	assert_int_equal(pol->sla.p1_ms, H_);
	assert_int_equal(pol->sla.p0_ms, 4 * H_);
	assert_int_equal(pol->stuck_after_ms, 30 * MIN_);
	assert_int_equal(pol->abandon_after_ms, 7 * D_);
	assert_int_equal(pol->n_group_by, 1);
	assert_string_equal(pol->group_by[0], "error");
	assert_false(pol->recover.enabled);
	assert_int_equal(cfg->notify.group_wait_ms, 30000);
	assert_int_equal(cfg->notify.group_interval_ms, 5 * MIN_);
	assert_int_equal(cfg->notify.repeat_interval_ms, 4 * H_);
	assert_int_equal(cfg->levels[0].n_notify, 0);
	config_free(cfg);
}

static void test_override_merge(void **state)
{
	struct sw_config *cfg = load_ok(
	    "workflows:\n"
	    "  w:\n"
	    "    steps: [a, b, c]\n"
	    "    defaults:\n"
	    "      sla: { p1: 2h }\n"
	    "      abandon_after: 3d\n"
	    "      group_by: [error, partner]\n"
	    "      recover: { webhook: { url: 'https://app.example/retry' }, backoff: 2m }\n"
	    "    step_overrides:\n"
	    "      b:\n"
	    "        sla: { p2: 5m }\n"
	    "        recover: { max_attempts: 7 }\n"
	    "      c:\n"
	    "        stuck_after: 0s\n"
	    "        group_by: []\n"
	    "        recover: { enabled: false }\n");
	const struct sw_workflow *wf = &cfg->workflows[0];
	(void)state;

	/* a: the workflow defaults over the built-in ones */
	assert_int_equal(wf->steps[0].policy.sla.p2_ms, 15 * MIN_);
	assert_int_equal(wf->steps[0].policy.sla.p1_ms, 2 * H_);
	assert_int_equal(wf->steps[0].policy.sla.p0_ms, 4 * H_);
	assert_int_equal(wf->steps[0].policy.abandon_after_ms, 3 * D_);
	assert_int_equal(wf->steps[0].policy.n_group_by, 2);
	assert_string_equal(wf->steps[0].policy.group_by[1], "partner");
	assert_true(wf->steps[0].policy.recover.enabled);
	assert_int_equal(wf->steps[0].policy.recover.max_attempts, 3);
	assert_int_equal(wf->steps[0].policy.recover.backoff_ms, 2 * MIN_);
	/* b: only p2 overridden; p1/p0 kept; recover merged per key */
	assert_int_equal(wf->steps[1].policy.sla.p2_ms, 5 * MIN_);
	assert_int_equal(wf->steps[1].policy.sla.p1_ms, 2 * H_);
	assert_int_equal(wf->steps[1].policy.sla.p0_ms, 4 * H_);
	assert_int_equal(wf->steps[1].policy.stuck_after_ms, 30 * MIN_);
	assert_true(wf->steps[1].policy.recover.enabled);
	assert_string_equal(wf->steps[1].policy.recover.webhook_url, "https://app.example/retry");
	assert_int_equal(wf->steps[1].policy.recover.max_attempts, 7);
	assert_int_equal(wf->steps[1].policy.recover.backoff_ms, 2 * MIN_);
	/* c: stuck detection off, no grouping labels, recovery off */
	assert_int_equal(wf->steps[2].policy.stuck_after_ms, 0);
	assert_int_equal(wf->steps[2].policy.n_group_by, 0);
	assert_false(wf->steps[2].policy.recover.enabled);
	config_free(cfg);
}

static void test_malformed_yaml(void **state)
{
	char *e;
	(void)state;
	expect_err("workflows:\n  w: [a, b\n", "t.yaml:3:1: invalid YAML: flow sequence without a "
	                                       "closing bracket");
	e = load_err("a: b: c\n");
	assert_int_equal(strncmp(e, "t.yaml:1:5: invalid YAML: ", 26), 0);
	assert_int_equal(count_lines(e), 1);
	free(e);
	expect_err("x: \"\\q\"\n",
	           "t.yaml:1:5: invalid YAML: invalid escape 'q' in double-quoted string");
	expect_err("workflows: {}\n---\nworkflows: {}\n",
	           "t.yaml:2:1: more than one YAML document in the file (only one is allowed)");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_err("workflows:\n  w:\n    steps: [a]\n    poll: { every: 1s }\n",
	           "t.yaml:4:11: workflows.w.poll: expected a duration like '30s', got a mapping");
	expect_err("workflows:\n  w:\n    steps: a\n",
	           "t.yaml:3:12: workflows.w.steps: expected a list of steps, got 'a'");
	expect_err("workflows: [a]\n",
	           "t.yaml:1:12: workflows: expected a mapping of workflow names to workflows, "
	           "got a list");
	expect_err("store: [x]\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:8: store: expected a string, got a list");
	expect_err("workflows:\n  w:\n    steps: [a, [b], ~]\n",
	           "t.yaml:3:16: workflows.w.steps[1]: expected a step, got a list");
	expect_err("workflows:\n  w:\n    steps: [a, [b], ~]\n",
	           "t.yaml:3:21: workflows.w.steps[2]: expected a step, got null");
	expect_err("workflows:\n  w:\n    steps: []\n",
	           "t.yaml:3:12: workflows.w.steps: must list at least one step");
	expect_err("workflows:\n  w:\n    steps: ['', b]\n",
	           "t.yaml:3:13: workflows.w.steps[0]: must not be empty");
	expect_err("- a\n", "t.yaml:1:1: expected a mapping at the top level, got a list");
	expect_err("just text\n",
	           "t.yaml:1:1: expected a mapping at the top level, got 'just text'");
	expect_err(
	    "workflows:\n  w:\n    steps: [a]\n    defaults: { recover: { webhook: { url: "
	    "'http://x/' }, max_attempts: 0 } }\n",
	    "t.yaml:4:73: workflows.w.defaults.recover.max_attempts: expected a whole number "
	    "from 1 to 100, got '0'");
	expect_err("workflows:\n  w:\n    steps: [a]\n    page_size: 5\n",
	           "t.yaml:4:16: workflows.w.page_size: expected a whole number from 10 to "
	           "1000000, got '5'");
	expect_err("workflows:\n  w:\n    steps: [a]\n    page_size: lots\n",
	           "t.yaml:4:16: workflows.w.page_size: expected a whole number from 10 to "
	           "1000000, got 'lots'");
	expect_err("workflows:\n  w:\n    steps: [a]\n    backfill: 3x\n",
	           "t.yaml:4:15: workflows.w.backfill: invalid duration '3x': unknown unit 'x' "
	           "(use ms, s, m, h, d or w)");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_err("workflows:\n  loan_application:\n    steps: [a]\n    pol: 1s\n",
	           "t.yaml:4:5: unknown key 'pol' in workflow 'loan_application' (did you mean "
	           "'poll'?)");
	expect_err(
	    "workflow:\n  w: {}\n",
	    "t.yaml:1:1: unknown key 'workflow' at the top level (did you mean 'workflows'?)");
	expect_err("workflows:\n  w:\n    steps: [a]\n    defaults: { stuk_after: 1m }\n",
	           "t.yaml:4:17: unknown key 'stuk_after' in the defaults of workflow 'w' (did you "
	           "mean 'stuck_after'?)");
	expect_err("workflows:\n  w:\n    steps: [a]\n    frobnicate: 1\n",
	           "t.yaml:4:5: unknown key 'frobnicate' in workflow 'w'");
	expect_err(
	    "http: { tokens: [{ name: a, token: xyz }] }\nworkflows: {w: {steps: [a]}}\n",
	    "t.yaml:1:29: unknown key 'token' in http.tokens[0] (did you mean 'token_env'?)");
	expect_err("levels: { p2: { notify: [] } }\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:11: unknown key 'p2' in 'levels' (did you mean 'P2'?)");
}

static void test_bad_durations(void **state)
{
	(void)state;
	expect_err(
	    "workflows:\n  w:\n    steps: [a]\n    poll: 5x\n",
	    "t.yaml:4:11: workflows.w.poll: invalid duration '5x': unknown unit 'x' (use ms, "
	    "s, m, h, d or w)");
	expect_err("workflows:\n  w:\n    steps: [a]\n    poll: ''\n",
	           "t.yaml:4:11: workflows.w.poll: invalid duration '': empty duration");
	expect_err("workflows:\n  w:\n    steps: [a]\n    poll:\n",
	           "t.yaml:4:5: workflows.w.poll: expected a duration like '30s', got null");
	expect_err("workflows:\n  w:\n    steps: [a]\n    overlap: -1s\n",
	           "t.yaml:4:14: workflows.w.overlap: invalid duration '-1s': expected a number at "
	           "'-1s'");
	expect_err("workflows:\n  w:\n    steps: [a]\n    tat_sla: 1m1h\n",
	           "t.yaml:4:14: workflows.w.tat_sla: invalid duration '1m1h': units must go from "
	           "largest to smallest, once each");
	expect_err("workflows:\n  w:\n    steps: [a]\n    poll: 30\n",
	           "t.yaml:4:11: workflows.w.poll: invalid duration '30': missing unit after '30' "
	           "(use ms, s, m, h, d or w)");
	/* a huge SLA would overflow occurred_at + sla in the validator */
	expect_err("workflows:\n  w:\n    steps: [a]\n    defaults:\n"
	           "      sla: { p2: 106751991160d, p1: 106751991165d, p0: 106751991167d }\n",
	           "t.yaml:5:18: workflows.w.defaults.sla.p2: invalid duration '106751991160d': "
	           "duration too large (at most 5200w, 100 years)");
	expect_err("workflows:\n  w:\n    steps: [a]\n    poll: 0s\n",
	           "t.yaml:4:11: workflows.w.poll: must be greater than 0s");
	expect_err("workflows:\n  w:\n    steps: [a]\n    step_overrides:\n      a:\n"
	           "        sla: { p2: 2h }\n",
	           "t.yaml:6:14: workflows.w.step_overrides.a.sla: p2 (2h) must not be longer than "
	           "p1 (1h)");
}

static void test_dangling_references(void **state)
{
	const char *base_src = "sources:\n  lending: { url: 'sqlite:///tmp/x.db' }\n";
	char *y;
	(void)state;

	y = xasprintf("%sworkflows:\n  w:\n    source: lendng\n    steps_query: SELECT 1\n"
	              "    steps: [a]\n",
	              base_src);
	expect_err(y, "t.yaml:5:13: workflows.w.source: unknown source 'lendng' (did you mean "
	              "'lending'?)");
	free(y);
	expect_err("workflows:\n  w:\n    steps_query: SELECT 1\n    steps: [a]\n",
	           "t.yaml:3:5: workflows.w: missing required key 'source' (a workflow with a "
	           "steps_query reads it from a source)");
	expect_err("workflows:\n  w: { steps: [a] }\nlevels:\n  P1: { notify: [tech] }\n",
	           "t.yaml:4:18: levels.P1.notify: unknown receiver 'tech'");
	expect_err("workflows:\n  w: { steps: [a] }\nreceivers:\n  tech: { webhook: { url: "
	           "'http://127.0.0.1/h' }, roster: oncall }\nrosters:\n  on-call: { members: [a], "
	           "rotation: 1w, start: 2026-01-05 }\n",
	           "t.yaml:4:59: receivers.tech.roster: unknown roster 'oncall' (did you mean "
	           "'on-call'?)");
	expect_err("workflows:\n  w: { steps: [a] }\nwatchers:\n  - { name: x, workflow: ww, step: "
	           "a, detect: SELECT 1 }\n",
	           "t.yaml:4:26: watchers.x.workflow: unknown workflow 'ww' (did you mean 'w'?)");
	expect_err("workflows:\n  w: { steps: [kyc, esign] }\nwatchers:\n  - { name: x, workflow: "
	           "w, step: esgn, detect: SELECT 1 }\n",
	           "t.yaml:4:35: watchers.x.step: 'esgn' is not a step of workflow 'w' (did you "
	           "mean 'esign'?)");
	expect_err(
	    "workflows:\n  w:\n    steps: [kyc]\n    step_overrides:\n      ky: { "
	    "stuck_after: 1m }\n",
	    "t.yaml:5:7: workflows.w.step_overrides: 'ky' is not a step of workflow 'w' (did "
	    "you mean 'kyc'?)");
	expect_err("workflows:\n  w: { steps: [a] }\nwatchers:\n  - { workflow: w, step: a }\n",
	           "t.yaml:4:5: watchers[0]: missing required key 'detect' (a SELECT returning "
	           "instance_id, user_id, occurred_at, error)");
}

static void test_secrets(void **state)
{
	struct sw_config *cfg;
	(void)state;

	expect_err("workflows: {w: {steps: [a]}}\nreceivers:\n  support: { slack: { url_env: "
	           "SW_TEST_UNSET_VAR } }\n",
	           "t.yaml:3:32: environment variable 'SW_TEST_UNSET_VAR' named by "
	           "receivers.support.slack.url_env is not set");
	setenv("SW_TEST_EMPTY_VAR", "", 1);
	expect_err("workflows: {w: {steps: [a]}}\nhttp: { tokens: [{ name: a, token_env: "
	           "SW_TEST_EMPTY_VAR }] }\n",
	           "t.yaml:2:40: environment variable 'SW_TEST_EMPTY_VAR' named by "
	           "http.tokens[0].token_env is empty");
	expect_err("workflows: {w: {steps: [a]}}\nreceivers:\n  s: { webhook: { url: "
	           "'http://a/', url_env: PD_KEY } }\n",
	           "t.yaml:3:37: receivers.s.webhook: give 'url' or 'url_env', not both");
	expect_err(
	    "workflows: {w: {steps: [a]}}\nreceivers:\n  s: { webhook: { url_env: PD_KEY } "
	    "}\n",
	    "t.yaml:3:28: environment variable 'PD_KEY' named by receivers.s.webhook.url_env "
	    "does not hold an http(s) URL");
	/* a source URL may come from the environment too */
	setenv("SW_TEST_SRC_URL", "postgresql://u:pw@db/app", 1);
	cfg = load_ok("sources: { app: { url_env: SW_TEST_SRC_URL } }\n"
	              "workflows: {w: {source: app, steps_query: SELECT 1, steps: [a]}}\n");
	assert_string_equal(cfg->sources[0].url, "postgresql://u:pw@db/app");
	assert_int_equal(cfg->sources[0].kind, SW_DB_POSTGRES);
	config_free(cfg);
}

static void test_urls(void **state)
{
	char *e;
	struct sw_config *cfg;
	(void)state;

	expect_err("store: mysql://u:hunter2@h/db\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:8: store: unsupported database URL 'mysql://u:***@h/db' (use "
	           "sqlite:///path.db or postgresql://user@host/db)");
	e = load_err("store: mysql://u:hunter2@h/db\nworkflows: {w: {steps: [a]}}\n");
	assert_null(strstr(e, "hunter2"));
	free(e);
	/* no '/' after the host, and a password in the query: masked too */
	expect_err("store: mysql://u:hunter2@h\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:8: store: unsupported database URL 'mysql://u:***@h' (use "
	           "sqlite:///path.db or postgresql://user@host/db)");
	expect_err(
	    "sources: { s: { url: 'pg://u@h/d?password=hunter2' } }\n"
	    "workflows: {w: {steps: [a]}}\n",
	    "t.yaml:1:22: sources.s: unsupported database URL 'pg://u@h/d?password=***' (use "
	    "sqlite:///path.db or postgresql://user@host/db)");
	/* the opt-out of the source role check */
	cfg = load_ok("sources: { a: { url: 'postgresql://h/d', allow_unsafe_role: true },"
	              " b: { url: 'postgresql://h/d' } }\nworkflows: {w: {steps: [a]}}\n");
	assert_true(cfg->sources[0].allow_unsafe_role);
	assert_false(cfg->sources[1].allow_unsafe_role);
	config_free(cfg);
	expect_err("sources: { a: { url: 'postgresql://h/d', allow_unsafe_role: yes } }\n"
	           "workflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:61: sources.a.allow_unsafe_role: expected true or false, got 'yes'");
	expect_err("store: 'sqlite://'\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:8: store: 'sqlite://' names no file (use sqlite:///abs/path.db or "
	           "sqlite://relative/path.db)");
	expect_err("sources: { s: { url: 'file:///x.db' } }\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:22: sources.s: unsupported database URL 'file:///x.db' (use "
	           "sqlite:///path.db or postgresql://user@host/db)");
	expect_err("broker: 'http://r:6379'\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:9: broker: unsupported broker URL 'http://r:6379' (use "
	           "redis://host:port/db)");
	expect_err("workflows: {w: {steps: [a]}}\nreceivers: { h: { webhook: { url: "
	           "'ftp://x/' } } }\n",
	           "t.yaml:2:35: receivers.h.webhook.url: expected an http(s) URL, got 'ftp://x/'");
	expect_err("workflows: {w: {steps: [a]}}\nreceivers: { m: { email: { to: [a@b], "
	           "smtp_url: 'http://x' } } }\n",
	           "t.yaml:2:49: receivers.m.email.smtp_url: expected an smtp:// or smtps:// URL, "
	           "got 'http://x'");
	expect_err(
	    "http: { listen: 8080 }\nworkflows: {w: {steps: [a]}}\n",
	    "t.yaml:1:17: http.listen: expected host:port like '127.0.0.1:8080', got '8080'");
	expect_err("http: { listen: 'h:99999' }\nworkflows: {w: {steps: [a]}}\n",
	           "t.yaml:1:17: http.listen: expected host:port like '127.0.0.1:8080', got "
	           "'h:99999'");
	cfg = load_ok("store: postgres://sw@db/sw\nbroker: redis://r:6379/1\nhttp: { listen: "
	              "'[::1]:9000' }\nworkflows: {w: {steps: [a]}}\n");
	assert_int_equal(cfg->store_kind, SW_DB_POSTGRES);
	assert_string_equal(cfg->http.listen, "[::1]:9000");
	config_free(cfg);
	cfg = load_ok("store: sqlite://data/sw.db\nworkflows: {w: {steps: [a]}}\n");
	assert_int_equal(cfg->store_kind, SW_DB_SQLITE);
	config_free(cfg);

	assert_int_equal(config_db_kind("sqlite:///a.db"), SW_DB_SQLITE);
	assert_int_equal(config_db_kind("postgresql://x"), SW_DB_POSTGRES);
	assert_int_equal(config_db_kind("postgres://x"), SW_DB_POSTGRES);
	assert_int_equal(config_db_kind("mysql://x"), -1);
	assert_int_equal(config_db_kind(""), -1);
	assert_int_equal(config_db_kind(NULL), -1);
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_err("workflows:\n  w:\n    steps: [kyc, esign, kyc]\n",
	           "t.yaml:3:25: workflows.w.steps: duplicate step 'kyc'");
	expect_err("workflows:\n  w: { steps: [a] }\n  w: { steps: [b] }\n",
	           "t.yaml:3:3: duplicate key 'w'");
	expect_err("workflows: {w: {steps: [a]}}\nhttp:\n  tokens:\n    - { name: a, token_env: "
	           "PD_KEY }\n    - { name: a, token_env: PD_KEY }\n",
	           "t.yaml:5:7: http.tokens[1]: duplicate token name 'a'");
	expect_err("workflows: {w: {steps: [a]}}\nwatchers:\n  - { name: x, workflow: w, step: "
	           "a, detect: S }\n  - { name: x, workflow: w, step: a, detect: S }\n",
	           "t.yaml:4:5: watchers[1]: duplicate watcher name 'x'");
}

static void test_receivers_and_rosters(void **state)
{
	struct sw_config *cfg;
	(void)state;

	expect_err("workflows: {w: {steps: [a]}}\nreceivers:\n  r: { webhook: { url: 'http://a/' "
	           "}, slack: { url: 'https://b/' } }\n",
	           "t.yaml:3:39: receivers.r: both 'webhook' and 'slack' given; a receiver has "
	           "exactly one kind");
	expect_err("workflows: {w: {steps: [a]}}\nreceivers:\n  r: { roster: x }\n",
	           "t.yaml:3:6: receivers.r: expected one of 'webhook', 'slack', 'pagerduty' or "
	           "'email'");
	expect_err("workflows: {w: {steps: [a]}}\nreceivers:\n  r: { pagerduty: {} }\n",
	           "t.yaml:3:19: receivers.r.pagerduty: missing required key 'routing_key_env'");
	expect_err("workflows: {w: {steps: [a]}}\nreceivers:\n  r: { email: { smtp_url: "
	           "'smtp://h' } }\n",
	           "t.yaml:3:15: receivers.r.email: missing required key 'to'");
	expect_err("workflows: {w: {steps: [a]}}\nhttp: { tokens: [{ name: a, token_env: PD_KEY, "
	           "role: root }] }\n",
	           "t.yaml:2:54: http.tokens[0].role: unknown role 'root' (use viewer, responder "
	           "or admin)");
	expect_err("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [], rotation: 0s, "
	           "start: 'monday' }\n",
	           "t.yaml:3:17: rosters.r.members: must list at least one member");
	expect_err("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [], rotation: 0s, "
	           "start: 'monday' }\n",
	           "t.yaml:3:31: rosters.r.rotation: must be greater than 0s");
	expect_err("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [], rotation: 0s, "
	           "start: 'monday' }\n",
	           "t.yaml:3:42: rosters.r.start: invalid time 'monday' (expected an RFC 3339 time "
	           "like '2026-01-05T09:00:00Z')");

	/* roster overrides */
	expect_err("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [a], rotation: 1d, "
	           "start: '2026-01-05T09:00:00Z', overrides: [{ member: b, from: "
	           "'2026-02-02T00:00:00Z', to: '2026-02-01T00:00:00Z' }] }\n",
	           "t.yaml:3:79: rosters.r.overrides[0]: 'to' must be after 'from'");
	expect_err("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [a], rotation: 1d, "
	           "start: '2026-01-05T09:00:00Z', overrides: [{ from: 'x', to: "
	           "'2026-02-01T00:00:00Z' }] }\n",
	           "t.yaml:3:87: rosters.r.overrides[0].from: invalid time 'x' (expected an RFC "
	           "3339 time like '2026-01-05T09:00:00Z')");
	expect_err("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [a], rotation: 1d, "
	           "start: '2026-01-05T09:00:00Z', overrides: [{ from: 'x', to: "
	           "'2026-02-01T00:00:00Z' }] }\n",
	           "t.yaml:3:79: rosters.r.overrides[0]: missing required key 'member'");
	cfg = load_ok("workflows: {w: {steps: [a]}}\nrosters:\n  r: { members: [a], rotation: 1d, "
	              "start: '2026-01-05T09:00:00Z', overrides: [{ member: b, from: "
	              "'2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z' }] }\n");
	assert_int_equal(cfg->rosters[0].n_overrides, 1);
	assert_string_equal(cfg->rosters[0].overrides[0].member, "b");
	assert_int_equal(cfg->rosters[0].overrides[0].to_ms - cfg->rosters[0].overrides[0].from_ms,
	                 86400000);
	config_free(cfg);

	cfg = load_ok("workflows: {w: {steps: [a]}}\nhttp: { tokens: [{ name: a, token_env: "
	              "PD_KEY }] }\nreceivers:\n  p: { pagerduty: { routing_key_env: PD_KEY } }\n"
	              "  m: { email: { to: [a@b, c@d], smtp_url: 'smtps://h:465', from: x@y } }\n");
	assert_int_equal(cfg->http.tokens[0].role, SW_ROLE_VIEWER);
	assert_string_equal(cfg->http.tokens[0].token, "pd-routing-key");
	assert_string_equal(cfg->receivers[0].url, "https://events.pagerduty.com/v2/enqueue");
	assert_int_equal(cfg->receivers[1].n_to, 2);
	assert_string_equal(cfg->receivers[1].from, "x@y");
	config_free(cfg);
}

/* Webhook signing secrets, STARTTLS opt-out for loopback only, notify_after_recovery. */
static void test_receiver_secret_tls_recovery(void **state)
{
	struct sw_config *cfg;
	char *e;
	(void)state;
	setenv("SW_TEST_HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
	setenv("SW_TEST_BAD_SECRET", "whsec_not base64!", 1);
	cfg =
	    load_ok("workflows:\n  w:\n    steps: [a, b]\n    step_overrides:\n"
	            "      b: { notify_after_recovery: true, recover: { webhook: { url: "
	            "'http://127.0.0.1:1/r' } } }\n"
	            "receivers:\n"
	            "  h: { webhook: { url: 'http://a/', secret_env: SW_TEST_HOOK_SECRET } }\n"
	            "  u: { webhook: { url: 'http://a/' } }\n"
	            "  m: { email: { to: [a@b], smtp_url: 'smtp://127.0.0.1:2525', starttls: "
	            "false } }\n"
	            "  n: { email: { to: [a@b], smtp_url: 'smtp://[::1]:25', starttls: false } }\n"
	            "  t: { email: { to: [a@b], smtp_url: 'smtp://mail.example.com' } }\n");
	assert_string_equal(cfg->receivers[0].secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_string_equal(cfg->receivers[0].secret_env, "SW_TEST_HOOK_SECRET");
	assert_null(cfg->receivers[1].secret);
	assert_true(cfg->receivers[2].smtp_plain);
	assert_true(cfg->receivers[3].smtp_plain);
	assert_false(cfg->receivers[4].smtp_plain); /* STARTTLS required by default */
	assert_false(cfg->workflows[0].steps[0].policy.notify_after_recovery);
	assert_true(cfg->workflows[0].steps[1].policy.notify_after_recovery);
	config_free(cfg);

	e = load_err("workflows: {w: {steps: [a]}}\nreceivers:\n"
	             "  h: { webhook: { url: 'http://a/', secret_env: SW_TEST_BAD_SECRET } }\n");
	assert_non_null(strstr(e, "receivers.h.webhook.secret_env: the secret starts with 'whsec_' "
	                          "but what follows is not base64"));
	assert_null(strstr(e, "not base64!")); /* the secret itself is never printed */
	free(e);
	e = load_err("workflows: {w: {steps: [a]}}\nreceivers:\n"
	             "  m: { email: { to: [a@b], smtp_url: 'smtp://mail.example.com', starttls: "
	             "false } }\n");
	assert_non_null(strstr(e, "receivers.m.email.starttls: false is allowed only for an SMTP "
	                          "server on a loopback address"));
	free(e);
	e = load_err("workflows: {w: {steps: [a]}}\nreceivers:\n"
	             "  m: { email: { to: [a@b], smtp_url: 'smtp://127.0.0.1.evil.com', "
	             "starttls: false } }\n");
	assert_non_null(strstr(e, "loopback"));
	free(e);
	/* a slack receiver takes no secret_env */
	e = load_err("workflows: {w: {steps: [a]}}\nreceivers:\n"
	             "  s: { slack: { url: 'https://a/', secret_env: SW_TEST_HOOK_SECRET } }\n");
	assert_non_null(strstr(e, "unknown key 'secret_env'"));
	free(e);
	e = load_err("workflows:\n  w:\n    steps: [a]\n    defaults: { notify_after_recovery: "
	             "maybe }\n");
	assert_non_null(strstr(e, "notify_after_recovery: expected true or false"));
	free(e);
}

static void test_sizes_and_empty(void **state)
{
	size_t big = 4 * 1024 * 1024 + 1;
	char *buf = xmalloc(big + 1), *dir, *path;
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT, y = STRBUF_INIT;
	FILE *f;
	(void)state;

	memset(buf, '#', big);
	buf[big] = '\0';
	assert_int_equal(config_load_buffer("t.yaml", buf, big, &cfg, &errs), -1);
	assert_null(cfg);
	assert_string_equal(errs.buf,
	                    "t.yaml:1:1: file too large (4194305 bytes; the limit is 4 MiB)\n");
	strbuf_reset(&errs);

	dir = test_tmpdir();
	path = xasprintf("%s/big.yaml", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, big, f), big);
	fclose(f);
	assert_int_equal(config_load(path, &cfg, &errs), -1);
	assert_non_null(strstr(errs.buf, "file too large"));
	strbuf_reset(&errs);
	free(path);

	path = test_write_file(dir, "empty.yaml", "");
	assert_int_equal(config_load(path, &cfg, &errs), -1);
	assert_non_null(strstr(errs.buf, ":1:1: the file is empty (expected a mapping with at "
	                                 "least 'workflows')\n"));
	strbuf_reset(&errs);
	free(path);

	path = xasprintf("%s/missing.yaml", dir);
	assert_int_equal(config_load(path, &cfg, &errs), -1);
	assert_non_null(strstr(errs.buf, "cannot open"));
	assert_non_null(strstr(errs.buf, "No such file or directory"));
	strbuf_reset(&errs);
	free(path);

	expect_err("# nothing but a comment\n",
	           "t.yaml:1:1: the file is empty (expected a mapping with at least 'workflows')");
	expect_err("store: sqlite://x.db\n", "t.yaml:1:1: missing required key 'workflows' at the "
	                                     "top level");
	/* bytes libfyaml mishandles: found by fuzz_config */
	expect_err("%\x8a", "t.yaml:1:2: invalid UTF-8 byte 0x8a (the file must be UTF-8)");
	strbuf_reset(&y);
	strbuf_addstr(&y, "workflows: {w: {steps: ['");
	for (int i = 0; i < 200; i++)
		strbuf_addstr(&y, "''");
	strbuf_addstr(&y, "']}}\n");
	cfg = load_ok(y.buf);
	assert_int_equal(strlen(cfg->workflows[0].steps[0].name), 200);
	assert_int_equal(strspn(cfg->workflows[0].steps[0].name, "'"), 200);
	config_free(cfg);
	cfg = NULL;
	/* NUL bytes inside the buffer */
	assert_int_equal(config_load_buffer("t.yaml", "a: \0b\n", 6, &cfg, &errs), -1);
	assert_null(cfg);
	assert_non_null(strstr(errs.buf, "t.yaml:1:4: NUL byte in the file"));
	strbuf_release(&errs);
	strbuf_release(&y);
	test_rmtree(dir);
	free(dir);
	free(buf);
}

static void test_anchors_aliases_nesting(void **state)
{
	struct sw_config *cfg;
	struct strbuf y = STRBUF_INIT;
	char *e;
	(void)state;

	/* aliases are followed */
	cfg = load_ok("workflows:\n"
	              "  a: { steps: &steps [s1, s2], defaults: &pol { stuck_after: 5m } }\n"
	              "  b: { steps: *steps, defaults: *pol }\n");
	assert_int_equal(cfg->workflows[1].n_steps, 2);
	assert_string_equal(cfg->workflows[1].steps[1].name, "s2");
	assert_int_equal(cfg->workflows[1].steps[0].policy.stuck_after_ms, 5 * MIN_);
	config_free(cfg);

	expect_err("workflows:\n  a: { steps: *nope }\n", "t.yaml:2:15: unknown alias '*nope'");
	expect_err("workflows: &w { a: *w }\n", "t.yaml:1:20: unknown alias '*w'");
	expect_err("workflows:\n  <<: { a: { steps: [x] } }\n",
	           "t.yaml:2:3: merge keys ('<<') are not supported; repeat the keys instead");

	/* billion laughs: shared nodes, bounded work */
	strbuf_addstr(&y, "l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
	for (int i = 1; i < 12; i++) {
		strbuf_addf(&y, "l%d: &l%d [", i, i);
		for (int j = 0; j < 10; j++)
			strbuf_addf(&y, "%s*l%d", j ? ", " : "", i - 1);
		strbuf_addstr(&y, "]\n");
	}
	strbuf_addstr(&y, "workflows: { w: { steps: *l11, segments: *l11 } }\n");
	e = load_err(y.buf);
	assert_non_null(strstr(e, "t.yaml:1:1: unknown key 'l0' at the top level\n"));
	assert_non_null(strstr(e, "workflows.w.steps[0]: expected a step, got a list\n"));
	free(e);

	/* a huge map of workflows all aliasing one big workflow: the visit budget stops it */
	strbuf_reset(&y);
	strbuf_addstr(&y, "x: &big\n  steps: [");
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&y, "%ss%d", i ? ", " : "", i);
	strbuf_addstr(&y, "]\nworkflows:\n");
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&y, "  w%d: *big\n", i);
	e = load_err(y.buf);
	assert_non_null(strstr(e, "document too complex"));
	free(e);

	/* deep nesting */
	strbuf_reset(&y);
	strbuf_addstr(&y, "workflows: ");
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&y, '[');
	e = load_err(y.buf);
	assert_non_null(strstr(e, "nesting too deep (more than 64 levels)"));
	free(e);
	strbuf_release(&y);
}

static void test_quoted_scalars(void **state)
{
	struct sw_config *cfg =
	    load_ok("workflows:\n  w:\n    steps: ['a  \n     b', 'x\n\n      y', "
	            "'it''s', \"dq\\tx\", ''''\n      ]\n");
	(void)state;
	assert_int_equal(cfg->workflows[0].n_steps, 5);
	assert_string_equal(cfg->workflows[0].steps[0].name, "a b");
	assert_string_equal(cfg->workflows[0].steps[1].name, "x\ny");
	assert_string_equal(cfg->workflows[0].steps[2].name, "it's");
	assert_string_equal(cfg->workflows[0].steps[3].name, "dq\tx");
	assert_string_equal(cfg->workflows[0].steps[4].name, "'");
	config_free(cfg);
}

static void test_lending_example(void **state)
{
	const char *src = getenv("SW_SOURCE_DIR");
	char *path = xasprintf("%s/examples/lending/stepwatch.yaml", src ? src : ".");
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT;
	const struct sw_workflow *wf;
	(void)state;

	if (config_load(path, &cfg, &errs))
		fprintf(stderr, "%s", errs.buf);
	assert_non_null(cfg);
	assert_int_equal(cfg->sources[0].kind, SW_DB_POSTGRES);
	wf = config_workflow(cfg, "loan_application");
	assert_non_null(wf);
	assert_ptr_equal(wf->source, &cfg->sources[0]);
	assert_int_equal(wf->steps[config_step_index(wf, "disbursement")].policy.sla.p0_ms, H_);
	assert_int_equal(cfg->watchers[0].step_index, 5);
	config_free(cfg);
	strbuf_release(&errs);
	free(path);
}

static void test_multiple_errors(void **state)
{
	char *e = load_err("store: mysql://x\n"
	                   "workflows:\n"
	                   "  w:\n"
	                   "    pol: 1s\n"
	                   "    steps: [a, a]\n"
	                   "    overlap: 5x\n"
	                   "levels: { P0: { notify: [nobody] } }\n");
	(void)state;
	assert_string_equal(e, "t.yaml:1:8: store: unsupported database URL 'mysql://x' (use "
	                       "sqlite:///path.db or postgresql://user@host/db)\n"
	                       "t.yaml:4:5: unknown key 'pol' in workflow 'w' (did you mean "
	                       "'poll'?)\n"
	                       "t.yaml:5:16: workflows.w.steps: duplicate step 'a'\n"
	                       "t.yaml:6:14: workflows.w.overlap: invalid duration '5x': unknown "
	                       "unit 'x' (use ms, s, m, h, d or w)\n"
	                       "t.yaml:7:26: levels.P0.notify: unknown receiver 'nobody'\n");
	free(e);
}

static void test_too_many_errors(void **state)
{
	struct strbuf y = STRBUF_INIT;
	char *e;
	(void)state;
	strbuf_addstr(&y, "workflows:\n  w:\n    steps: [a]\n");
	for (int i = 0; i < 300; i++)
		strbuf_addf(&y, "    bad%d: 1\n", i);
	e = load_err(y.buf);
	assert_int_equal(count_lines(e), 101);
	assert_non_null(strstr(e, "t.yaml: too many errors (showing the first 100)\n"));
	free(e);
	strbuf_release(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_example),
	    cmocka_unit_test(test_spec_example_from_file),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_override_merge),
	    cmocka_unit_test(test_malformed_yaml),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_bad_durations),
	    cmocka_unit_test(test_dangling_references),
	    cmocka_unit_test(test_secrets),
	    cmocka_unit_test(test_urls),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_receivers_and_rosters),
	    cmocka_unit_test(test_receiver_secret_tls_recovery),
	    cmocka_unit_test(test_sizes_and_empty),
	    cmocka_unit_test(test_anchors_aliases_nesting),
	    cmocka_unit_test(test_quoted_scalars),
	    cmocka_unit_test(test_lending_example),
	    cmocka_unit_test(test_multiple_errors),
	    cmocka_unit_test(test_too_many_errors),
	};
	return cmocka_run_group_tests(tests, setup_env, NULL);
}
