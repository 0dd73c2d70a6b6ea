/*
 * handlers-int.h - what the store-backed handlers (handlers_*.c) share: the JSON forms of
 * store objects (SPEC section 5 "Objects") and the mapping of store errors to statuses.
 */
#ifndef SW_HANDLERS_INT_H
#define SW_HANDLERS_INT_H

#include "api/api.h"
#include "store/store.h"

/* RFC 3339 UTC string, or JSON null for TIME_NULL. */
json_t *api_time_json(int64_t ms);
/* A string, or JSON null for NULL. */
json_t *api_str_json(const char *s);
/* A labels column (JSON object text) as an object of its string values; {} when absent
 * or unreadable. Null values are left out. */
json_t *api_labels_json(const char *labels_json);
/* The alert object of SPEC section 5; with_history adds "history" (hist, oldest first). */
json_t *api_alert_json(const struct alert *a, bool with_history, const struct alert_event *hist,
                       size_t nhist);
json_t *api_incident_json(const struct incident *i);
json_t *api_silence_json(const struct silence *s);
/* Answer a store error: STORE_ENOTFOUND 404, STORE_ECONFLICT 409 (with the store's
 * message), anything else 503 "store unavailable" (the detail is logged, not sent).
 * Returns -1 so handlers can `return api_store_fail(...)`. */
int api_store_fail(struct api_resp *resp, int rc, const struct sw_err *err);
/* The next_cursor of a page of n items (limit asked) whose last id is last_id, after
 * checking with more(st, last_id) whether anything follows; NULL on the last page. */
char *api_next_cursor(size_t n, size_t limit, int64_t last_id, bool more);

#endif
