/*
 * handlers-int.h - what the store-backed handlers (handlers_*.c) share (handlers_shared.c):
 * the mapping of store errors to statuses and the next-page cursor. The JSON forms of store
 * objects are in forms.h.
 */
#ifndef SW_HANDLERS_INT_H
#define SW_HANDLERS_INT_H

#include "api/api.h"
#include "store/store.h"

/* Answer a store error: STORE_ENOTFOUND 404, STORE_ECONFLICT 409 (with the store's
 * message), anything else 503 "store unavailable" (the detail is logged, not sent).
 * Returns -1 so handlers can `return api_store_fail(...)`. */
int api_store_fail(struct api_resp *resp, int rc, const struct sw_err *err);
/* The next_cursor of a page of n items (limit asked) whose last id is last_id, after
 * checking with more(st, last_id) whether anything follows; NULL on the last page. */
char *api_next_cursor(size_t n, size_t limit, int64_t last_id, bool more);

#endif
