/*
 * store_incidents.h - incidents (the open alerts of one group_key): reads, and the
 * incident-wide ack and resolve of the API.
 */
#ifndef SW_STORE_INCIDENTS_H
#define SW_STORE_INCIDENTS_H

#include "store/store.h"
#include "core/alert.h"

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

#endif
