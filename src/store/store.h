/*
 * store.h - stepwatch's own database: step records, instances, alerts and their history,
 * incidents, watermarks, the notification outbox. This header is the handle: opening by
 * URL, migrations and transactions. Each subject has its own header, which includes this
 * one (store_steps.h, store_watermarks.h, store_alerts.h, store_incidents.h,
 * store_silences.h, store_stats.h, store_recovery.h, store_notify.h): include the ones you
 * use.
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
/*
 * Whether opening url would create the store, creating nothing (for `stepwatch check`):
 * *creates is set when url names an SQLite file that does not exist yet and can be created;
 * STORE_ERROR with err "directory '<dir>' is not writable: <reason>" when it cannot. A
 * PostgreSQL store (or an unknown scheme, which store_open refuses) gives false.
 */
int store_would_create(const char *url, bool *creates, struct sw_err *err);
/* What the store is, for people: "sqlite" or "postgresql". */
const char *store_product(const struct store *st);

int store_tx_begin(struct store *st, struct sw_err *err);
int store_tx_commit(struct store *st, struct sw_err *err);
void store_tx_rollback(struct store *st);

#endif
