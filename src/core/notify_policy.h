/*
 * notify_policy.h - noise control for notifications, per incident. Pure: no I/O, time
 * comes in as an argument.
 *
 * Given an incident as it is now, what was already sent for it (struct notify_sent, kept
 * in the store beside the incident), whether a silence mutes it, and now, notify_decide()
 * says whether one message is due, which event it reports, the one-line summary of what
 * changed, and the state to keep once the message is in the outbox. The notifier fans
 * the message out to the receivers of the level (tasks/notifier.c).
 *
 * The rules (docs/internals/notify.md):
 *  - nothing is sent about an incident below P2 (INITIATED: the support team's level is P2);
 *  - the first message (opened) waits until group_wait has passed since the incident opened,
 *    and, with notify_after_recovery, while self-recovery of its alerts is under way;
 *  - afterwards a message goes out only when something changed: the level rose (at once:
 *    a new team must hear), it was acknowledged (once), a silence that muted it ended while
 *    it is still open, affected users grew by at least max(growth_min_users, growth_ratio
 *    of the last count) (at most once per group_interval), or it resolved (at once);
 *  - a reminder after repeat_interval without any message, unless acknowledged;
 *  - a muted incident gets nothing while the silence lasts, except its resolution when
 *    something was sent about it before (it closes what the receivers were told is open);
 *  - an incident that closes before anything was sent about it stays silent.
 */
#ifndef SW_NOTIFY_POLICY_H
#define SW_NOTIFY_POLICY_H

#include "util/common.h"
#include "core/alert.h"

/* The events, in the order of enum notify_event (notify/receiver.h). */
enum np_event {
	NP_OPENED,
	NP_ESCALATED,
	NP_UPDATED,
	NP_REMINDER,
	NP_ACKNOWLEDGED,
	NP_RESOLVED
};

struct notify_policy {
	int64_t group_wait_ms;
	int64_t group_interval_ms;
	int64_t repeat_interval_ms; /* <= 0: no reminders */
	int64_t growth_min_users;   /* an update needs at least this many more users ... */
	int growth_percent;         /* ... and this percentage of the last count */
};

/* Defaults of the growth threshold (the intervals come from the config). */
#define NOTIFY_GROWTH_MIN_USERS 10
#define NOTIFY_GROWTH_PERCENT   20

/* An incident as the notifier sees it now. */
struct notify_incident {
	int64_t id;
	bool open;
	enum alert_state level; /* highest open level (when closed: the last one) */
	int64_t open_alerts;
	int64_t affected_users;
	int64_t opened_at;
	int64_t resolved_at; /* TIME_NULL while open */
	bool acked;
	const char *acked_by; /* may be NULL */
	bool recovering;      /* notify_after_recovery: self-recovery still under way, so the
	                       * first message waits (later ones do not) */
};

/* What was already sent about one incident. A zeroed struct (with last_at TIME_NULL) is
 * "nothing yet". */
struct notify_sent {
	int64_t seq;            /* messages planned so far */
	enum alert_state level; /* level of the highest message; INITIATED: none yet */
	int64_t users;          /* affected users the last message reported */
	int64_t last_at;        /* when the last message was planned; TIME_NULL: none */
	bool acked;             /* the acknowledgement was reported */
	bool muted;             /* a silence muted it when last looked at */
	bool done;              /* nothing more will ever be sent (resolved) */
};
void notify_sent_init(struct notify_sent *s);

struct notify_decision {
	bool send;
	enum np_event event;
	/* the level whose receivers (with every lower level's) get the message */
	enum alert_state level;
	char summary[192];
	struct notify_sent next; /* to store (also when !send: muted, done) */
	int64_t recheck_at;      /* when a message may come due with no change; TIME_NULL */
	bool changed;            /* next differs from the state passed in */
};

/* Decide for one incident at now. */
void notify_decide(const struct notify_policy *p, const struct notify_incident *inc,
                   const struct notify_sent *sent, bool muted, int64_t now,
                   struct notify_decision *out);

/* "opened", "escalated", ... */
const char *np_event_name(enum np_event ev);

/* Idempotency key of message seq of an incident to one receiver: "sw-<incident>-<seq>-<receiver>".
 * Stable: planning the same message again yields the same key. */
void notify_key(int64_t incident_id, int64_t seq, const char *receiver, char *buf, size_t len);
/* PagerDuty dedup_key of an incident: "stepwatch-incident-<id>". */
void notify_dedup_key(int64_t incident_id, char *buf, size_t len);

/*
 * Delivery retry schedule: the delay before attempt number `attempt` + 1 after `attempt`
 * failed ones (1-based): 5 s, 10 s, 20 s, ... capped at cap_ms, each scaled by a jitter
 * factor in [0.8, 1.2) taken from rnd (any uint32; callers pass a random number).
 * A Retry-After (retry_after_ms > 0) replaces the computed delay, clamped to [1 s, 1 h].
 */
int64_t notify_backoff_ms(int attempt, int64_t cap_ms, int64_t retry_after_ms, uint32_t rnd);

#endif
