/*
 * config.h - stepwatch.yaml (SPEC section 3) parsed into one immutable struct sw_config.
 *
 * config_load() reads and validates the whole file: types, durations, unknown keys (with a
 * did-you-mean), references between sections (a workflow's source, a watcher's workflow and
 * step, a level's receivers, a receiver's roster), and *_env secrets (the environment
 * variable must be set and non-empty). Every problem is reported as one line
 *
 *	stepwatch.yaml:12:5: unknown key 'pol' in workflow 'loan_application' (did you mean 'poll'?)
 *
 * and all problems found are reported, not just the first. The struct is never modified
 * after loading; a reload builds a new one and swaps it in whole (config_free the old one
 * when no task uses it anymore).
 *
 * Every duration is int64 milliseconds. Every string is owned by the config. Effective
 * per-step policies (defaults merged with step_overrides) are precomputed in steps[].policy.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include "util/common.h"
#include "util/strbuf.h"
#include "core/alert.h"

/* A position in the config file, 1-based; 0 when unknown. */
struct sw_pos {
	int line, col;
};

enum sw_db_kind {
	SW_DB_SQLITE,
	SW_DB_POSTGRES
};

enum sw_role {
	SW_ROLE_VIEWER = 0,
	SW_ROLE_RESPONDER = 1,
	SW_ROLE_ADMIN = 2
};

struct sw_token {
	char *name;
	char *token_env;
	char *token; /* the secret, read from token_env at load */
	enum sw_role role;
};

struct sw_http {
	char *listen;               /* "127.0.0.1:8080" (default) */
	int64_t request_timeout_ms; /* headers and body within this; 0: the server's default */
	struct sw_token *tokens;
	size_t n_tokens;
};

struct sw_source {
	char *name;
	char *url; /* postgresql://... or sqlite:///path */
	enum sw_db_kind kind;
	int64_t statement_timeout_ms; /* default 5s */
	bool allow_unsafe_role;       /* run even as a superuser or a role that can write */
	struct sw_pos pos;
};

struct sw_recover {
	bool enabled;
	char *webhook_url;
	int max_attempts;   /* default 3 */
	int64_t backoff_ms; /* default 1m */
};

/* The effective policy of one step: workflow defaults with the step's override on top. */
struct sw_step_policy {
	struct alert_sla sla;     /* default p2 15m, p1 1h, p0 4h */
	int64_t stuck_after_ms;   /* default 30m; 0 disables stuck detection */
	int64_t abandon_after_ms; /* default 7d; 0 disables abandonment */
	char **group_by;          /* incident grouping labels; default ["error"] */
	size_t n_group_by;
	struct sw_recover recover;
	bool notify_after_recovery; /* hold the first page while recovery is under way */
};

struct sw_step {
	char *name;
	struct sw_step_policy policy;
};

struct sw_workflow {
	char *name;
	char *source_name;
	const struct sw_source *source; /* resolved reference into config->sources */
	int64_t poll_ms;                /* default 1s */
	int64_t overlap_ms;             /* default 10s */
	int64_t backfill_ms;            /* first start reads this much history; default 7d */
	int page_size;                  /* steps_query rows per page; default 5000 */
	char *steps_query;              /* NULL for push-only workflows */
	struct sw_pos steps_query_pos;
	struct sw_step *steps; /* in workflow order */
	size_t n_steps;
	char **segments;
	size_t n_segments;
	int64_t tat_sla_ms; /* 0 when not set */
	struct sw_pos pos;
};

struct sw_watcher {
	char *name;
	char *workflow_name;
	const struct sw_workflow *workflow;
	char *step;
	int step_index;   /* index into workflow->steps */
	int64_t every_ms; /* default 30s */
	char *detect;
	struct sw_pos detect_pos;
	char *resolve; /* may be NULL: then alerts of this watcher resolve by hand only */
	struct sw_pos resolve_pos;
	struct sw_pos pos;
};

struct sw_level {
	char **notify; /* receiver names */
	size_t n_notify;
};

enum sw_receiver_kind {
	SW_RECV_WEBHOOK,
	SW_RECV_SLACK,
	SW_RECV_PAGERDUTY,
	SW_RECV_EMAIL
};

struct sw_receiver {
	char *name;
	enum sw_receiver_kind kind;
	char *url; /* webhook/slack/pagerduty endpoint, literal or from url_env */
	char *url_env;
	char *routing_key; /* pagerduty, from routing_key_env */
	char *routing_key_env;
	char **to; /* email */
	size_t n_to;
	char *from;     /* email, default "stepwatch@localhost" */
	char *smtp_url; /* email */
	char *roster_name;
	const struct sw_roster *roster;
	struct sw_pos pos;
	char *secret_env; /* webhook: signing secret (Standard Webhooks), from secret_env */
	char *secret;     /* "whsec_<base64>" or raw bytes; NULL: deliveries are unsigned */
	bool smtp_plain;  /* email: starttls: false, allowed for loopback SMTP servers only */
};

struct sw_notify {
	int64_t group_wait_ms;      /* default 30s */
	int64_t group_interval_ms;  /* default 5m */
	int64_t repeat_interval_ms; /* default 4h */
};

/* Someone on call in place of the rotation over [from_ms, to_ms). */
struct sw_roster_override {
	char *member;
	int64_t from_ms, to_ms;
};

struct sw_roster {
	char *name;
	char **members;
	size_t n_members;
	int64_t rotation_ms;
	int64_t start_ms;
	struct sw_pos pos;
	struct sw_roster_override *overrides; /* in file order; the last one active wins */
	size_t n_overrides;
};

struct sw_config {
	char *path;
	char *store_url; /* default "sqlite://stepwatch.db" */
	enum sw_db_kind store_kind;
	char *broker_url; /* NULL: single node */
	struct sw_http http;
	struct sw_source *sources;
	size_t n_sources;
	struct sw_workflow *workflows;
	size_t n_workflows;
	struct sw_watcher *watchers;
	size_t n_watchers;
	struct sw_level levels[3]; /* index: 0 = P2, 1 = P1, 2 = P0 */
	struct sw_receiver *receivers;
	size_t n_receivers;
	struct sw_notify notify;
	struct sw_roster *rosters;
	size_t n_rosters;
};

/*
 * Load and validate path. On success returns 0 and *out; on failure returns -1 and appends
 * one line per problem ("file:line:col: message\n") to errs. Never prints.
 */
int config_load(const char *path, struct sw_config **out, struct strbuf *errs);
/* The same from a buffer; name is used in messages in place of the file name. */
int config_load_buffer(const char *name, const char *buf, size_t len, struct sw_config **out,
                       struct strbuf *errs);
void config_free(struct sw_config *cfg);

const struct sw_workflow *config_workflow(const struct sw_config *cfg, const char *name);
const struct sw_source *config_source(const struct sw_config *cfg, const char *name);
/* Index of step in wf->steps, or -1. */
int config_step_index(const struct sw_workflow *wf, const char *step);

/* URL scheme -> kind: "sqlite:" and "postgresql:"/"postgres:"; -1 otherwise. */
int config_db_kind(const char *url);

#endif
