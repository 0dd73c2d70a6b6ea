/*
 * store_alerts.h - alerts (tickets) and their history: opening idempotently, state changes
 * by compare-and-set, acks, reads (copies and zero-copy visits), and the candidate queries
 * of the tasks (due for escalation, recovered, abandonable, open by rule).
 */
#ifndef SW_STORE_ALERTS_H
#define SW_STORE_ALERTS_H

#include "store/store.h"
#include "core/alert.h"

struct alert {
	int64_t id;
	char *rule; /* "failed", "stuck" or a custom watcher's name */
	char *workflow, *step, *instance_id, *user_id;
	int step_index;
	enum alert_state state;
	char *error;       /* may be NULL */
	char *labels_json; /* JSON object, never NULL ("{}") */
	char *group_key;
	int64_t occurred_at, opened_at, updated_at, next_escalation_at;
	int64_t abandon_after_ms; /* 0: never abandoned */
	char *acked_by;           /* NULL unless acked */
	int64_t acked_at;
	int64_t resolved_at;
	char *resolved_by; /* "resolver", "user:<name>", "incident"; NULL unless RESOLVED */
	int64_t incident_id;
	int64_t reopen_of; /* 0 if none */
};
void alert_release(struct alert *a);
void alerts_free(struct alert *v, size_t n);

struct alert_event {
	int64_t id, alert_id, at;
	char *actor, *event, *reason;
	int from_state, to_state; /* -1 when not a state change */
};
void alert_events_free(struct alert_event *v, size_t n);

/* An alert to open. */
struct alert_new {
	const char *rule, *workflow, *step;
	const char *actor; /* who opened it, for its history; NULL: "watcher" */
	int step_index;
	const char *instance_id, *user_id;
	const char *error;                /* may be NULL */
	const char *labels_json;          /* may be NULL: {} */
	const char *group_key;            /* incident key (core/grouping) */
	const char *incident_labels_json; /* the group_by label values, for the incident */
	int64_t occurred_at;
	int64_t next_escalation_at; /* TIME_NULL: never escalates */
	int64_t abandon_after_ms;
	/* Born escalated: the SLA levels already passed when the alert opens (a late detection,
	 * as core/escalation.c's escalation_plan says), in order, each its own "escalated"
	 * history row by the opener; the alert opens in the last one's `to` state, and
	 * next_escalation_at is the time after it. nlevels 0: it opens INITIATED. */
	int nlevels;
	struct alert_level {
		enum alert_state from, to;
		const char *reason;
	} levels[3];
};
struct alert_opened {
	int64_t alert_id;
	int64_t incident_id;
	int64_t reopen_of; /* 0 unless this reopened a closed alert of the same key */
	bool created;      /* false: an open alert for the key existed; alert_id is that one */
};

/*
 * Open alerts, idempotently. For each one, in one transaction: if an open alert exists for
 * (rule, workflow, instance_id, step), nothing changes and out[i] names it. Otherwise the
 * alert is inserted INITIATED with a history row (event "opened", or "reopened" with
 * reopen_of set to the newest closed alert of the same key, whose rule flap count rises),
 * or, born escalated (nlevels > 0), in its last level's state with one "escalated" row more
 * per level, and joined to the open incident of its group_key, created if there is none
 * (incident total_alerts, open_alerts, affected_users and level updated).
 */
int store_alerts_open(struct store *st, int64_t now, const struct alert_new *a, size_t n,
                      struct alert_opened *out, struct sw_err *err);

/* A state change, compare-and-set on `from`. */
struct alert_change {
	int64_t alert_id;
	enum alert_state from, to;
	const char *event;          /* "escalated", "resolved", "abandoned" */
	const char *actor;          /* "validator", "resolver", "expirer", "user:<name>" */
	const char *reason;         /* free text, may be NULL */
	int64_t next_escalation_at; /* for open targets; TIME_NULL when none */
	const char *resolved_by;    /* for RESOLVED */
};

/*
 * Apply changes in order, in one transaction. applied[i] (may be NULL) is set to whether
 * change i took effect; one whose alert is not in state `from` is skipped (not an error),
 * so replaying a batch is harmless. Each applied change writes one history row and updates
 * the alert's incident: its level (highest open state), open_alerts, and, when its last
 * open alert closes, state RESOLVED and resolved_at.
 * A change with from == to and event NULL only re-arms next_escalation_at (no history row):
 * the validator uses it when an alert is due by a stale time.
 */
int store_alerts_change(struct store *st, int64_t now, const struct alert_change *c, size_t n,
                        bool *applied, struct sw_err *err);

/* Append a history row that is not a state change ("notified", "recovery_attempt", ...). */
int store_alert_event_add(struct store *st, int64_t alert_id, int64_t at, const char *event,
                          const char *actor, const char *reason, struct sw_err *err);

/* Acknowledge: sets acked_by/acked_at and writes an "acked" history row (reason = note).
 * STORE_ENOTFOUND for an unknown id, STORE_ECONFLICT when closed or already acked. */
int store_alert_ack(struct store *st, int64_t id, int64_t now, const char *by, const char *note,
                    struct sw_err *err);

/* One alert, and (if hist != NULL) its history oldest first. STORE_ENOTFOUND if none. */
int store_alert_get(struct store *st, int64_t id, struct alert *out, struct alert_event **hist,
                    size_t *nhist, struct sw_err *err);

struct alert_filter {
	int state; /* -1: any */
	bool open_only;
	const char *rule, *workflow, *step, *user_id, *instance_id; /* NULL: any */
	int64_t incident_id;                                        /* 0: any */
	int64_t before_id; /* cursor: only ids < before_id; 0: from the newest */
	size_t limit;      /* 1..1000 */
};
/* Alerts matching f, newest (highest id) first. */
int store_alerts_list(struct store *st, const struct alert_filter *f, struct alert **out, size_t *n,
                      struct sw_err *err);

/*
 * Zero-copy reads for the API's hot paths (store_read.c). The alert and events handed to
 * the callbacks borrow their strings from the backend's row buffer: they are valid only
 * during the call, and must not be freed. A callback returning nonzero stops the read.
 */
struct alert_visit {
	int (*alert)(void *arg, const struct alert *a);
	int (*event)(void *arg, const struct alert_event *e); /* NULL: no history is read */
	void *arg;
};
/* store_alerts_list, one alert at a time to v->alert (newest first, at most f->limit);
 * *more (may be NULL) tells whether another alert matches after the last one visited.
 * One statement. */
int store_alerts_list_visit(struct store *st, const struct alert_filter *f,
                            const struct alert_visit *v, bool *more, struct sw_err *err);
/* store_alert_get: v->alert gets the alert, then v->event (when not NULL) each history
 * event, oldest first. One statement. STORE_ENOTFOUND when there is no such alert. */
int store_alert_get_visit(struct store *st, int64_t id, const struct alert_visit *v,
                          struct sw_err *err);

/* Make every open alert below P0 due at now (next_escalation_at = now unless it is already
 * due): at start and after a reload the validator then recomputes each alert's next
 * escalation from the SLA in force. *n (may be NULL) gets how many changed. */
int store_alerts_rearm(struct store *st, int64_t now, int64_t *n, struct sw_err *err);

/* What the validator needs of an alert that is due: what its plan and a silence look at. */
struct alert_due {
	int64_t id;
	enum alert_state state;
	int64_t occurred_at;
	char *workflow, *step;
	char *error; /* may be NULL */
};
void alert_dues_free(struct alert_due *v, size_t n);

/* Open alerts with next_escalation_at <= now, oldest due first, at most limit. */
int store_alerts_due(struct store *st, int64_t now, size_t limit, struct alert_due **out, size_t *n,
                     struct sw_err *err);

/* The earliest next_escalation_at of the open alerts into *at; TIME_NULL when none. */
int store_alerts_next_escalation(struct store *st, int64_t *at, struct sw_err *err);

/*
 * Open alerts of rules "failed" and "stuck" in workflow whose instance shows recovery in the
 * stored step states: the alert's step is now SUCCESS (for "stuck": no longer IN_PROGRESS),
 * or the instance has a record for a later step (step_index greater than the alert's).
 */
int store_alerts_recovered(struct store *st, const char *workflow, size_t limit, struct alert **out,
                           size_t *n, struct sw_err *err);

/*
 * For an incremental resolver: *mark gets a bound such that every change to the instances of
 * workflow not yet visible to this connection will carry a change mark >= *mark (PostgreSQL:
 * the xmin of the current snapshot, instances carrying their writer's transaction id;
 * SQLite: one more than the workflow's newest change mark, a counter each write raises,
 * writers being serialised). store_alerts_recovered_since(..., since = a mark taken before
 * an earlier successful call, ...) then returns what store_alerts_recovered would,
 * restricted to the instances changed since (change mark >= since). since < 0: every one.
 */
int store_recovery_mark(struct store *st, const char *workflow, int64_t *mark, struct sw_err *err);
int store_alerts_recovered_since(struct store *st, const char *workflow, int64_t since,
                                 size_t limit, struct alert **out, size_t *n, struct sw_err *err);

/* A position in a walk of store_alerts_recovered_page: start zeroed, release after. */
struct recovery_cursor {
	int64_t touched;   /* since >= 0: the change mark of the last instance read */
	char *instance_id; /* since >= 0: the last instance read (owned) */
	char *step;        /* since < 0: the step of the last alert read (owned) */
	int64_t after_id;  /* since < 0: the last alert read */
	bool done;         /* the last page was read */
};
void recovery_cursor_release(struct recovery_cursor *c);

/*
 * store_alerts_recovered_since's answer page by page, each page costing its own size, not
 * the whole answer's: since >= 0 walks the instances changed since in (change mark,
 * instance_id) order, limit instances a page, and returns the recovered open alerts of
 * those; since < 0 walks the open alerts of workflow in (step, id) order, at most limit a
 * page. Call
 * until cur->done. Resolving the returned alerts between pages is fine.
 */
int store_alerts_recovered_page(struct store *st, const char *workflow, int64_t since,
                                struct recovery_cursor *cur, size_t limit, struct alert **out,
                                size_t *n, struct sw_err *err);

/* Open alerts of one rule (any workflow), oldest first, ids > after_id, at most limit. */
int store_alerts_open_by_rule(struct store *st, const char *rule, int64_t after_id, size_t limit,
                              struct alert **out, size_t *n, struct sw_err *err);

/*
 * Open alerts with abandon_after_ms > 0 whose instance made no progress since
 * now - abandon_after_ms (last progress = the instance's latest step record, or the alert's
 * occurred_at when the instance is unknown), at most limit.
 */
int store_alerts_abandonable(struct store *st, int64_t now, size_t limit, struct alert **out,
                             size_t *n, struct sw_err *err);

#endif
