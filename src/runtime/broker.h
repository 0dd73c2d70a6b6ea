/*
 * broker.h - the Redis broker of distributed mode (SPEC section 6): a connection wrapper
 * (redis://host:port/db, connect timeout, reconnect after an error), the scheduler lease
 * and the task stream.
 *
 *	lease   stepwatch:leader = node id, SET NX PX 10000, renewed (compare-and-renew) every
 *	        3 s by its holder, released (compare-and-delete) on a clean stop
 *	stream  stepwatch:tasks, entries {task: name}, MAXLEN ~ 10000; consumer group
 *	        "stepwatch"; an entry is acknowledged only after its task succeeded; entries
 *	        pending more than 30 s (a crashed consumer) are claimed by another consumer
 *
 * A struct broker is one connection: not thread-safe, one per thread.
 */
#ifndef SW_BROKER_H
#define SW_BROKER_H

#include "util/common.h"

#define BROKER_LEASE_KEY     "stepwatch:leader"
#define BROKER_STREAM_KEY    "stepwatch:tasks"
#define BROKER_GROUP         "stepwatch"
#define BROKER_LEASE_MS      10000
#define BROKER_RENEW_MS      3000
#define BROKER_CLAIM_IDLE_MS 30000

struct broker;

/* Parse url and connect (timeout 2 s). On a connect failure *out is still set (with
 * err): the next call reconnects. -1 with *out NULL only on a malformed URL. */
int broker_open(const char *url, struct broker **out, struct sw_err *err);
void broker_close(struct broker *b);
/* PING: 0 when reachable. */
int broker_ping(struct broker *b, struct sw_err *err);

/* A unique id for this process: host:pid:random. Static storage. */
const char *broker_node_id(void);

/* Take or renew the lease for node_id: 1 held, 0 held by another node, -1 error. */
int broker_lease_acquire(struct broker *b, const char *node_id, struct sw_err *err);
/* Release the lease if node_id holds it. */
int broker_lease_release(struct broker *b, const char *node_id, struct sw_err *err);

/* XADD {task: name} to the stream. */
int broker_enqueue(struct broker *b, const char *task, struct sw_err *err);

/*
 * Next entry for consumer: first one pending longer than BROKER_CLAIM_IDLE_MS (claimed
 * from a dead consumer), else a new one, waiting up to block_ms. Creates the group (with
 * MKSTREAM) when missing. 1 with *id and *task malloc'd; 0 when nothing came; -1 error.
 */
int broker_next(struct broker *b, const char *consumer, int block_ms, char **id, char **task,
                struct sw_err *err);
/* XACK the entry. */
int broker_ack(struct broker *b, const char *id, struct sw_err *err);

#endif
