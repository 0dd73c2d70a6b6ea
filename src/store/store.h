/*
 * store.h - stepwatch's own database: step records, instances, alerts and their history,
 * incidents, watermarks, the notification outbox. Public interface; the handle is opaque.
 *
 * Two backends behind one interface (store-int.h): SQLite in WAL mode (the zero-setup
 * default, "sqlite:///path/stepwatch.db" or "sqlite://stepwatch.db" relative) and
 * PostgreSQL ("postgresql://..."), chosen by URL. Both pass tests/store/ unchanged.
 *
 * Invariants live in the schema, not in callers:
 *  - one open alert per (rule, workflow, instance_id, step): a unique partial index; opening
 *    the same problem twice, from two threads or two nodes, yields one alert;
 *  - one open incident per group_key: a unique partial index;
 *  - state changes are compare-and-set on the current state ("UPDATE ... WHERE state = from"),
 *    so a transition applied twice changes nothing the second time;
 *  - alert history is append-only and written in the same transaction as the change.
 *
 * Times are int64 milliseconds since the epoch (TIME_NULL for NULL). Every function returns
 * 0 on success or a negative STORE_E* code with err filled. Calls may be grouped in one
 * transaction with store_tx_begin/commit; outside a transaction each call is atomic on its
 * own. A struct store is one connection: use one per thread.
 */
#ifndef SW_STORE_H
#define SW_STORE_H

#include "util/common.h"
#include "util/timeutil.h"
#include "config/config.h"
#include "core/alert.h"

struct store;

enum {
	STORE_OK = 0,
	STORE_ERROR = -1,     /* database error (connection, SQL) */
	STORE_ENOTFOUND = -2, /* no such id */
	STORE_ECONFLICT = -3, /* compare-and-set lost: the row is not in the expected state */
	STORE_EBUSY = -4,     /* locked or unreachable: retry later */
};

int store_open(const char *url, struct store **out, struct sw_err *err);
void store_close(struct store *st);
enum sw_db_kind store_kind(const struct store *st);
/* Apply pending migrations (embedded SQL, versioned, each in its own transaction, safe
 * against two processes migrating at once). *applied gets the number applied (may be NULL). */
int store_migrate(struct store *st, int *applied, struct sw_err *err);
/* Current schema version (0 = empty) and the latest this binary knows. */
int store_schema_version(struct store *st, int *version, struct sw_err *err);
int store_schema_latest(void);
int store_ping(struct store *st, struct sw_err *err);

int store_tx_begin(struct store *st, struct sw_err *err);
int store_tx_commit(struct store *st, struct sw_err *err);
void store_tx_rollback(struct store *st);

/* ---- watermarks ------------------------------------------------------------------------ */

/* key: "workflow:<name>" or "watcher:<name>". *ms is TIME_NULL when unset; *raw (may be
 * NULL) receives a malloc'd copy of the raw source text of the value, or NULL. */
int store_watermark_get(struct store *st, const char *key, int64_t *ms, char **raw,
                        struct sw_err *err);
/* now: when it moved (the caller's clock), kept beside it. */
int store_watermark_set(struct store *st, const char *key, int64_t ms, const char *raw, int64_t now,
                        struct sw_err *err);

/* ---- step records and instances -------------------------------------------------------- */

enum step_status {
	STEP_IN_PROGRESS = 0,
	STEP_SUCCESS = 1,
	STEP_FAILED = 2
};
const char *step_status_name(enum step_status s);
/* Case-insensitive "IN_PROGRESS" / "SUCCESS" / "FAILED"; -1 otherwise. */
int step_status_parse(const char *s);

struct step_record {
	const char *instance_id;
	const char *user_id;
	const char *step;
	int step_index; /* position of step in the workflow */
	enum step_status status;
	const char *error;  /* NULL unless failed */
	int64_t started_at; /* TIME_NULL when absent */
	int64_t finished_at;
	int64_t updated_at;
	const char *labels_json; /* segment values as a JSON object, or NULL */
};

/*
 * Record step records of one workflow. A record already stored (same workflow, instance,
 * step, status and updated_at) is dropped. is_new[i] (caller-allocated, n entries, may be
 * NULL) is 0 for a record seen before, 1 for a new record older than the step's stored
 * current state (a late-committing transaction), 2 for a new record that became the step's
 * current state. Records are applied in array order. For new records it updates the instance's
 * current step state (the record with the latest updated_at wins, so a late-committing older record
 * never overwrites a newer state) and the instance: user_id, started_at (earliest), last progress
 * (latest updated_at), furthest step index reached, completed_at when the last step
 * (n_steps - 1) succeeded.
 */
int store_steps_ingest(struct store *st, const char *workflow, int n_steps,
                       const struct step_record *recs, size_t n, unsigned char *is_new,
                       struct sw_err *err);

/* Current state of one step of one instance. */
struct instance_step {
	char *workflow, *instance_id, *user_id, *step, *error, *labels_json;
	int step_index;
	enum step_status status;
	int64_t started_at, finished_at, updated_at;
};
void instance_step_release(struct instance_step *s);
void instance_steps_free(struct instance_step *v, size_t n);

/* Steps IN_PROGRESS since started_before or earlier and last updated after updated_after
 * (TIME_NULL: any time), with no "stuck" alert of this attempt: none open, and no closed one
 * that occurred at or after the step's started_at (one stuck episode is one alert, however
 * it was closed; a new attempt, with a later started_at, may open another); oldest first,
 * at most limit. */
int store_steps_stuck(struct store *st, const char *workflow, const char *step,
                      int64_t started_before, int64_t updated_after, size_t limit,
                      struct instance_step **out, size_t *n, struct sw_err *err);
/* Current step states of one instance, in step order. */
int store_instance_steps(struct store *st, const char *workflow, const char *instance_id,
                         struct instance_step **out, size_t *n, struct sw_err *err);

/* ---- alerts ---------------------------------------------------------------------------- */

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
 * and joined to the open incident of its group_key, created if there is none (incident
 * total_alerts, open_alerts and affected_users updated).
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

/* Open alerts with next_escalation_at <= now, oldest due first, at most limit. */
int store_alerts_due(struct store *st, int64_t now, size_t limit, struct alert **out, size_t *n,
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

/* ---- incidents ------------------------------------------------------------------------- */

struct incident {
	int64_t id;
	char *workflow, *step, *rule, *group_key;
	char *labels_json;
	bool open;              /* state OPEN or RESOLVED */
	enum alert_state level; /* highest state among its open alerts (last one when closed) */
	int64_t open_alerts, total_alerts, affected_users;
	int64_t opened_at, resolved_at;
	char *acked_by;
	int64_t acked_at;
};
void incident_release(struct incident *i);
void incidents_free(struct incident *v, size_t n);

int store_incident_get(struct store *st, int64_t id, struct incident *out, struct sw_err *err);
struct incident_filter {
	bool open_only;
	const char *workflow; /* NULL: any */
	int64_t before_id;    /* cursor, 0: newest */
	size_t limit;
};
int store_incidents_list(struct store *st, const struct incident_filter *f, struct incident **out,
                         size_t *n, struct sw_err *err);

/* ---- counts for the demo, readiness and metrics ------------------------------------------ */

struct alert_counts {
	int64_t by_state[ALERT_STATE_COUNT]; /* every alert, by current state */
	int64_t resolved_by_resolver;        /* RESOLVED with resolved_by = "resolver" */
	int64_t open_incidents;
	int64_t affected_users_open; /* distinct users with an open alert */
};
int store_alert_counts(struct store *st, struct alert_counts *out, struct sw_err *err);

/* Flap count of a rule in a workflow (times a closed problem came back). */
int store_rule_flaps(struct store *st, const char *workflow, const char *rule, int64_t *flaps,
                     struct sw_err *err);

/* ---- added with the store implementation ---------------------------------------------- */

/* What the store knows of one instance (from its ingested step records). */
struct instance_info {
	char *workflow, *instance_id, *user_id, *labels_json;
	int64_t started_at;       /* earliest started_at; TIME_NULL when none */
	int64_t last_progress_at; /* latest updated_at */
	int max_step_index;       /* furthest step reached */
	int64_t completed_at;     /* TIME_NULL until the last step succeeded */
};
void instance_info_release(struct instance_info *i);
/* STORE_ENOTFOUND when the instance has no step record. */
int store_instance_get(struct store *st, const char *workflow, const char *instance_id,
                       struct instance_info *out, struct sw_err *err);

/* ---- added for the API handlers (store_api.c) -------------------------------------------- */

/*
 * Silences: mute notifications for alerts matching workflow/step/error (NULL: any; at least
 * one set) between starts_at (inclusive) and ends_at (exclusive). Active-ness is computed
 * from the time asked about, so a silence expires, or starts, by itself.
 */
struct silence {
	int64_t id;
	char *workflow, *step, *error; /* NULL: any */
	int64_t starts_at, ends_at, created_at;
	bool pause_escalation; /* also stop escalation of matched alerts meanwhile */
	char *comment;         /* may be NULL */
	char *created_by;
};
void silence_release(struct silence *s);
void silences_free(struct silence *v, size_t n);
/* Whether s matches an alert of workflow/step/error (exact, case-sensitive compares). */
bool silence_matches(const struct silence *s, const char *workflow, const char *step,
                     const char *error);
/* Is s active at now. */
bool silence_active(const struct silence *s, int64_t now);

/* Insert s (id and created_at ignored; created_at = now): *id gets the new id. STORE_ERROR
 * when no matcher is set, ends_at is not after starts_at, or created_by is empty. */
int store_silence_create(struct store *st, int64_t now, const struct silence *s, int64_t *id,
                         struct sw_err *err);
/* STORE_ENOTFOUND if none. */
int store_silence_get(struct store *st, int64_t id, struct silence *out, struct sw_err *err);
struct silence_filter {
	bool active_only; /* only silences active at now */
	int64_t now;
	int64_t before_id; /* cursor, 0: newest */
	size_t limit;      /* 1..1000 */
};
/* Silences matching f, newest (highest id) first. */
int store_silences_list(struct store *st, const struct silence_filter *f, struct silence **out,
                        size_t *n, struct sw_err *err);
/* Every silence active at now (few by nature; at most 10000), oldest first. */
int store_silences_active(struct store *st, int64_t now, struct silence **out, size_t *n,
                          struct sw_err *err);
/* End a silence now: ends_at = now (and starts_at = now if it had not started) unless it
 * already ended. STORE_ENOTFOUND for an unknown id. */
int store_silence_expire(struct store *st, int64_t id, int64_t now, struct sw_err *err);

/*
 * Acknowledge an incident: every open, unacked alert of it is acked (as store_alert_ack,
 * one "acked" history row each) and the incident's acked_by/acked_at set, in one
 * transaction. *acked (may be NULL) gets how many alerts were acked. STORE_ENOTFOUND for an
 * unknown id, STORE_ECONFLICT when the incident is resolved or already acked.
 */
int store_incident_ack(struct store *st, int64_t id, int64_t now, const char *by, const char *note,
                       size_t *acked, struct sw_err *err);
/*
 * Resolve an incident by hand: every open alert of it goes to RESOLVED with resolved_by
 * "incident" (actor and reason as given, one history row each), in one transaction; the
 * incident then closes through the usual refresh. *resolved (may be NULL) gets the count.
 * STORE_ENOTFOUND for an unknown id, STORE_ECONFLICT when the incident is resolved.
 */
int store_incident_resolve(struct store *st, int64_t id, int64_t now, const char *actor,
                           const char *note, size_t *resolved, struct sw_err *err);

/* Instances of one user (any workflow), most recent progress first, at most limit. */
int store_user_instances(struct store *st, const char *user_id, size_t limit,
                         struct instance_info **out, size_t *n, struct sw_err *err);
void instance_infos_free(struct instance_info *v, size_t n);

/* How many of recs (records of workflow) are already stored, by their identity (instance,
 * step, status, updated_at). */
int store_step_records_known(struct store *st, const char *workflow, const struct step_record *recs,
                             size_t n, size_t *known, struct sw_err *err);

/* ---- added for the stats API (store_stats.c) ---------------------------------------------- */
/*
 * Ranges: from (inclusive) and to (exclusive) bound an instance's started_at (funnel, TAT,
 * segments) or an alert's opened_at (alert figures); TIME_NULL leaves that side open. An
 * instance without started_at counts as started at 0.
 */
/* One step of the funnel (SPEC section 7). */
struct funnel_step {
	int64_t entered;   /* instances with a record for the step */
	int64_t succeeded; /* ... whose step is SUCCESS now */
	int64_t failed;    /* ... FAILED now */
	int64_t stuck;     /* ... IN_PROGRESS since stuck_before or earlier (0 if disabled) */
	int64_t abandoned; /* ... with an ABANDONED alert at the step */
};
/* The funnel row of one step; stuck_before TIME_NULL: stuck detection off (stuck = 0). */
int store_stats_funnel_step(struct store *st, const char *workflow, const char *step, int64_t from,
                            int64_t to, int64_t stuck_before, struct funnel_step *out,
                            struct sw_err *err);
/* Durations in ms, unsorted: with step NULL, completed_at - started_at of the completed
 * instances; else finished_at - started_at of the SUCCESS records of that step (current
 * state). Caller frees *out. */
int store_stats_durations(struct store *st, const char *workflow, const char *step, int64_t from,
                          int64_t to, int64_t **out, size_t *n, struct sw_err *err);
/* Instances started and completed per value of segment `by` (value NULL: no value). */
struct segment_count {
	char *value;
	int64_t started, completed;
};
void segment_counts_free(struct segment_count *v, size_t n);
/* Sorted by value, the NULL value last. */
int store_stats_segments(struct store *st, const char *workflow, const char *by, int64_t from,
                         int64_t to, struct segment_count **out, size_t *n, struct sw_err *err);
/* Alert figures over alerts opened in [from, to). */
struct alert_stats {
	int64_t opened;
	int64_t auto_resolved;     /* RESOLVED by "resolver" */
	int64_t manually_resolved; /* RESOLVED by anyone else (a user, an incident) */
	int64_t abandoned;
	int64_t acked;          /* with acked_at */
	int64_t ack_ms_sum;     /* sum of acked_at - opened_at */
	int64_t resolve_ms_sum; /* sum of resolved_at - opened_at over RESOLVED */
	int64_t escalations[3]; /* history rows "escalated" to P2, P1, P0 */
};
int store_stats_alerts(struct store *st, int64_t from, int64_t to, struct alert_stats *out,
                       struct sw_err *err);
/* ---- added for self-recovery (store_recovery.c) ------------------------------------------ */

/* An open alert as the recovery task needs it. */
struct recovery_row {
	int64_t alert_id;
	char *workflow, *step, *instance_id, *user_id;
	char *error;       /* may be NULL */
	char *labels_json; /* never NULL */
	int attempts;      /* recovery attempts made so far */
	int64_t next_at;   /* next_recovery_at; TIME_NULL: due at once */
};
void recovery_rows_free(struct recovery_row *v, size_t n);
/* Open alerts of workflow/step with fewer than max_attempts recovery attempts that are due
 * at now (next_recovery_at NULL or <= now), ids > after_id, lowest id first, at most limit. */
int store_recovery_due(struct store *st, const char *workflow, const char *step, int max_attempts,
                       int64_t now, int64_t after_id, size_t limit, struct recovery_row **out,
                       size_t *n, struct sw_err *err);
/*
 * Record recovery attempt `attempt` (1-based) of an alert, in one transaction: compare-and-set
 * recovery_attempts from attempt - 1 to attempts_after, next_recovery_at = next_at, and one
 * history row (event "recovery_attempt", actor "recovery", reason). *applied (may be NULL)
 * is false, and nothing is written, when that attempt was already recorded.
 * STORE_ENOTFOUND for an unknown alert.
 */
int store_recovery_record(struct store *st, int64_t alert_id, int attempt, int attempts_after,
                          int64_t next_at, int64_t now, const char *reason, bool *applied,
                          struct sw_err *err);
/* One alert's recovery counters: *open, *attempts, *next_at (TIME_NULL when unset). */
int store_recovery_get(struct store *st, int64_t alert_id, bool *open, int *attempts,
                       int64_t *next_at, struct sw_err *err);
/*
 * For notify_after_recovery: *pending is true when an open alert of the incident is still
 * in recovery at now under max_attempts (core/recovery.h recovery_pending: fewer attempts
 * than max_attempts, or next_recovery_at after now). The caller checks that the incident's
 * step has recover enabled and notify_after_recovery set.
 */
int store_incident_recovery_pending(struct store *st, int64_t incident_id, int max_attempts,
                                    int64_t now, bool *pending, struct sw_err *err);
#endif
