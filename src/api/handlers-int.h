/*
 * handlers-int.h - what the store-backed handlers (handlers_*.c) share (handlers_shared.c):
 * the mapping of store errors to statuses. The JSON forms of store objects are in forms.h.
 */
#ifndef SW_HANDLERS_INT_H
#define SW_HANDLERS_INT_H

#include "api/api.h"
#include "store/store.h"

/* Answer a store error: STORE_ENOTFOUND 404, STORE_ECONFLICT 409 (with the store's
 * message), anything else 503 "store unavailable" (the detail is logged, not sent).
 * Returns -1 so handlers can `return api_store_fail(...)`. */
int api_store_fail(struct api_resp *resp, int rc, const struct sw_err *err);

#endif
