/*
 * store_silences.h - silences: mute notifications (and optionally escalation) of matching
 * alerts for a time window.
 */
#ifndef SW_STORE_SILENCES_H
#define SW_STORE_SILENCES_H

#include "store/store.h"
#include "core/silence.h"

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

#endif
