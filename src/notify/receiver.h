/*
 * receiver.h - the receivers of notifications: one method table per kind (webhook, Slack,
 * PagerDuty Events v2, e-mail over SMTP), each in its own file.
 *
 * A receiver turns one struct notify_msg into its protocol's request, sends it with a
 * bounded time, and says what happened in a struct notify_result. It knows nothing of the
 * store, the outbox or retries: the notifier task claims due outbox rows, calls send(),
 * and records the outcome (and schedules the retry) itself.
 *
 * DESIGN: every attempt of one message carries the same msg->key (webhook-id for webhooks,
 * dedup_key for PagerDuty, the Message-ID's local part for e-mail), so a retry after a lost
 * answer is recognisable as the same message by the receiving side.
 */
#ifndef SW_NOTIFY_RECEIVER_H
#define SW_NOTIFY_RECEIVER_H

#include "config/config.h"
#include "util/common.h"

/* What happened to an incident, as the message says it. */
enum notify_event {
	NOTIFY_EV_OPENED,       /* first message of an incident (after group_wait) */
	NOTIFY_EV_ESCALATED,    /* its level rose */
	NOTIFY_EV_UPDATED,      /* affected users grew past the threshold */
	NOTIFY_EV_REMINDER,     /* repeat_interval passed, not acknowledged */
	NOTIFY_EV_ACKNOWLEDGED, /* acknowledged through the API (PagerDuty: acknowledge) */
	NOTIFY_EV_RESOLVED,     /* closed (PagerDuty: resolve) */
	NOTIFY_EV_TEST          /* `stepwatch notify test` */
};

/* Lower-case name of ev ("opened", "escalated", ...). */
const char *notify_event_name(enum notify_event ev);

/* One message. All strings are borrowed for the duration of send(); none is NULL unless
 * said so. */
struct notify_msg {
	const char *key;       /* idempotency key, stable across every attempt of this message */
	const char *dedup_key; /* per incident, the same for all its messages (PagerDuty) */
	enum notify_event event;
	int64_t incident_id;
	const char *workflow;
	const char *step;
	const char *rule;
	const char *labels_json; /* a JSON object's text, e.g. {"error":"BUREAU_TIMEOUT"} */
	const char *level;       /* INITIATED, ESCALATION_P2, ESCALATION_P1, ESCALATION_P0 */
	const char *state;       /* OPEN or RESOLVED */
	int64_t open_alerts;
	int64_t affected_users;
	const char *summary; /* one line saying what changed: "+40 users since the last message" */
	double conv_last_hour;     /* the step's conversion over the last hour, 0..1; < 0 unknown */
	double conv_usual;         /* its usual conversion, 0..1; < 0 unknown */
	int64_t opened_at_ms;      /* the incident's opened_at, ms since the epoch */
	int64_t at_ms;             /* when the change this message reports happened */
	const char *dashboard_url; /* may be NULL */
	const char *api_url;       /* link to the incident in the API; may be NULL */
	const char *oncall;        /* who is on call on the receiver's roster now; may be NULL */
};

enum notify_outcome {
	NOTIFY_OK,       /* a 2xx (PagerDuty 202; SMTP 250 after DATA): mark sent */
	NOTIFY_RETRY,    /* timeout, connection error, 5xx, 429: try again later */
	NOTIFY_PERMANENT /* any other 4xx, or a refused message: give up, reason recorded */
};

struct notify_result {
	enum notify_outcome outcome;
	int status;             /* HTTP status or SMTP reply code; 0 when none came back */
	int64_t retry_after_ms; /* from Retry-After, clamped to [0, 1h]; 0 when absent */
	bool gone;              /* the receiver answered 410 Gone: mark it unhealthy */
	char detail[256];       /* the reason or the start of the answer, valid UTF-8, no CR/LF */
};

struct receiver_ops {
	const char *kind; /* "webhook", "slack", "pagerduty", "email" */
	/*
	 * Deliver m to rc within timeout_ms (connect + send + answer; a slow-dripping or huge
	 * answer is cut off and counts as NOTIFY_RETRY). now_ms is the wall clock for headers
	 * such as webhook-timestamp or Date. Fills *out; never blocks longer than timeout_ms
	 * plus a small constant; thread-safe (the notifier calls it from several threads).
	 */
	void (*send)(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
	             int64_t timeout_ms, struct notify_result *out);
};

extern const struct receiver_ops receiver_webhook;
extern const struct receiver_ops receiver_slack;
extern const struct receiver_ops receiver_pagerduty;
extern const struct receiver_ops receiver_email;

/* The method table for a configured receiver's kind. */
const struct receiver_ops *receiver_ops_for(enum sw_receiver_kind kind);

#endif
