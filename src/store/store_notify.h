/*
 * store_notify.h - the store's side of notifications: the per-incident notification state
 * the planner keeps, and the outbox of messages the notifier delivers (store_notify.c).
 *
 * Same conventions as store.h: 0 or a negative STORE_E* code with err filled; calls may be
 * grouped in one transaction with store_tx_begin/commit.
 */
#ifndef SW_STORE_NOTIFY_H
#define SW_STORE_NOTIFY_H

#include "store/store.h"
#include "store/store_incidents.h"
#include "core/notify_policy.h"

/* An incident with what was already sent about it. */
struct notify_row {
	struct incident inc;
	struct notify_sent sent; /* notify_sent_init'ed when there is no state row yet */
};
void notify_rows_free(struct notify_row *v, size_t n);

/*
 * Incidents the planner must look at, by id > after_id, ascending, at most limit: every
 * open incident, and every incident whose notification state is not done (a resolved
 * incident whose resolution is not planned yet).
 */
int store_notify_candidates(struct store *st, int64_t after_id, size_t limit,
                            struct notify_row **out, size_t *n, struct sw_err *err);
/* Insert or replace the notification state of an incident. */
int store_notify_state_put(struct store *st, int64_t incident_id, const struct notify_sent *s,
                           int64_t now, struct sw_err *err);

/* A message to deliver. */
struct outbox_new {
	const char *idem_key; /* unique: a second insert of the same key is dropped */
	const char *receiver;
	int64_t incident_id;
	const char *event;   /* "opened", "escalated", ... */
	const char *payload; /* JSON text (tasks/notifier.c) */
	int64_t next_attempt_at;
};
/* Insert messages; those whose key is already in the outbox are skipped. *added (may be
 * NULL) gets how many were new. */
int store_outbox_add(struct store *st, int64_t now, const struct outbox_new *o, size_t n,
                     size_t *added, struct sw_err *err);

struct outbox_row {
	int64_t id;
	char *idem_key, *receiver, *event, *payload, *status, *last_error;
	int64_t incident_id;
	int64_t created_at, next_attempt_at, delivered_at, last_attempt_at;
	int attempts;
	int last_status; /* HTTP status or SMTP code of the last answer; 0 when none */
};
void outbox_row_release(struct outbox_row *r);
void outbox_rows_free(struct outbox_row *v, size_t n);

/*
 * Claim the earliest due pending message of receiver (next_attempt_at <= now), atomically:
 * its attempts rise by one and next_attempt_at moves to now + lease_ms, so no one else
 * claims it meanwhile and, should this process die before recording the outcome, it comes
 * due again after the lease. *got tells whether one was claimed (then *out is filled).
 * Messages of one incident go to a receiver in order: a message is not claimed while an
 * earlier one of its incident for that receiver is still pending (backing off, or leased).
 */
int store_outbox_claim(struct store *st, const char *receiver, int64_t now, int64_t lease_ms,
                       struct outbox_row *out, bool *got, struct sw_err *err);

enum outbox_outcome {
	OUTBOX_SENT,  /* delivered: status 'sent', and a "notified" history row */
	OUTBOX_RETRY, /* stays pending, due at next_attempt_at */
	OUTBOX_FAILED /* gave up: status 'failed' */
};
/*
 * Record the outcome of an attempt of a claimed message, in one transaction. For SENT, the
 * "notified" history row (actor "notifier", reason `reason`) goes to every open alert of
 * the message's incident (for a resolution: to the alerts that closed with it).
 */
int store_outbox_done(struct store *st, int64_t id, int64_t now, enum outbox_outcome oc,
                      int64_t next_attempt_at, int last_status, const char *last_error,
                      const char *reason, struct sw_err *err);

struct outbox_filter {
	const char *receiver; /* NULL: any */
	const char *status;   /* NULL: any */
	int64_t incident_id;  /* 0: any */
	int64_t before_id;    /* cursor: ids < before_id; 0: newest */
	size_t limit;         /* 1..1000 */
};
/* Messages matching f, newest first. */
int store_outbox_list(struct store *st, const struct outbox_filter *f, struct outbox_row **out,
                      size_t *n, struct sw_err *err);

/* Per receiver: messages by status, for /metrics. */
struct outbox_count {
	char *receiver;
	int64_t pending, sent, failed;
};
void outbox_counts_free(struct outbox_count *v, size_t n);
int store_outbox_counts(struct store *st, struct outbox_count **out, size_t *n, struct sw_err *err);

#endif
