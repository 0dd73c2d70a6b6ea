/*
 * notifier.h - delivery of the outbox: per receiver, a few threads claim due messages,
 * send them through the receiver's method table (notify/receiver.h) and record the
 * outcome. The planning of messages is the "notify" task (tasks.h, notifier.c).
 *
 * DESIGN: one lane per receiver, each with its own threads and store connections, so a
 * slow or hanging receiver holds only its own lane: every other receiver's messages go
 * out meanwhile. Threads wake when the planner kicks them and at least once a second (for
 * retries, and for messages planned by another node). docs/internals/notify.md.
 */
#ifndef SW_NOTIFIER_H
#define SW_NOTIFIER_H

#include "util/common.h"
#include "util/timeutil.h"
#include "config/config.h"
#include "util/health.h"

struct notifier;

struct notifier_opts {
	const char *store_url;
	struct health *health; /* "receiver:<name>" entries; may be NULL */
	/* store times (next_attempt_at, leases, backoff); NULL: system. A scaled clock (the
	 * demo's) scales leases and backoff too, while sends take real time */
	const struct sw_clock *clock;
	/* the config in force, held by one send (receivers may change on reload) */
	const struct sw_config *(*cfg_get)(void *arg);
	void (*cfg_put)(void *arg, const struct sw_config *cfg);
	void *arg;
	unsigned per_receiver; /* concurrent sends per receiver; 0: 4 */
	int64_t timeout_ms;    /* per send; 0: 10 s */
};

/* Create; no thread runs until notifier_start. */
struct notifier *notifier_new(const struct notifier_opts *o);
/* Start a lane for every receiver of cfg not yet served (call again after a reload). */
void notifier_start(struct notifier *n, const struct sw_config *cfg);
/* Messages were planned: let every lane look now. Thread-safe; n may be NULL. */
void notifier_kick(struct notifier *n);
/* Stop every lane (sends in progress finish, bounded by timeout_ms) and free. NULL ok. */
void notifier_free(struct notifier *n);

/* Per receiver, this process's delivery figures (for /metrics and the dashboard). */
struct notifier_stat {
	char *receiver;
	bool healthy;
	char *why; /* when !healthy */
	int64_t sent, retried, failed;
	int64_t in_flight;
};
size_t notifier_stats(struct notifier *n, struct notifier_stat **out);
void notifier_stats_free(struct notifier_stat *v, size_t n);

/* Send one test message to receiver rc now (stepwatch notify test), synchronously. */
struct notify_result;
void notifier_send_test(const struct sw_config *cfg, const struct sw_receiver *rc, int64_t now,
                        int64_t timeout_ms, struct notify_result *out);

#endif
