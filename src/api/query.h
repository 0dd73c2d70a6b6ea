/*
 * query.h - URL query strings: parsing with percent-decoding and '+' as space, the list
 * parameters every list route shares (limit, cursor) and typed getters. Pure and total:
 * any bytes in, a result or an error out, never a crash. Errors are phrased for the
 * client ("limit must be 1..1000"); the HTTP layer answers them with 400.
 */
#ifndef SW_QUERY_H
#define SW_QUERY_H

#include "util/common.h"
#include "util/arena.h"

#define QUERY_MAX_PARAMS    64
#define QUERY_MAX_PIECES    (2 * QUERY_MAX_PARAMS) /* '&'-separated pieces, empty ones too */
#define QUERY_MAX_LEN       8192
#define QUERY_LIMIT_DEFAULT 100
#define QUERY_LIMIT_MAX     1000

struct query_param {
	const char *key, *value; /* decoded; value "" for "key" and "key=" */
};

struct query {
	struct query_param *v;
	size_t n, alloc;
};

#define QUERY_INIT         \
	{                  \
		NULL, 0, 0 \
	}

/*
 * Parse s (len bytes, no leading '?') into q, which must be empty; the names, values and
 * q->v are allocated in a, so q lives as long as a and needs no release. Pairs are separated by
 * '&'; empty pairs are skipped. Rejects a bad %-escape, a decoded NUL byte, an empty name,
 * a name given twice, more than QUERY_MAX_PARAMS pairs, more than QUERY_MAX_PIECES pieces
 * (empty ones included) and more than QUERY_MAX_LEN bytes. Returns 0 or -1 with err.
 */
int query_parse(struct query *q, struct arena *a, const char *s, size_t len, struct sw_err *err);
/* The value of key, or NULL. */
const char *query_get(const struct query *q, const char *key);
/* Every name must be one of allowed (space-separated; NULL or "" allows none). */
int query_check_allowed(const struct query *q, const char *allowed, struct sw_err *err);

/* limit: default QUERY_LIMIT_DEFAULT, must be an integer 1..QUERY_LIMIT_MAX. */
int query_limit(const struct query *q, size_t *limit, struct sw_err *err);
/* cursor: *id = 0 when absent, else the id it encodes (> 0); a bad cursor is an error. */
int query_cursor(const struct query *q, int64_t *id, struct sw_err *err);
/* Optional typed values; *out unchanged when absent. */
int query_bool(const struct query *q, const char *key, bool *out, struct sw_err *err);
int query_time(const struct query *q, const char *key, int64_t *out, struct sw_err *err);
int query_int64(const struct query *q, const char *key, int64_t min, int64_t max, int64_t *out,
                struct sw_err *err);

/* Strict decimal (optional '-', digits only) within min..max; 0 or -1. */
int query_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Cursors are opaque to clients: base64url (no padding) of the decimal id, in a. */
char *query_cursor_encode(struct arena *a, int64_t id);
/* Decode a cursor; 0 on success, -1 when s is not one this server made. */
int query_cursor_decode(const char *s, int64_t *id);

/* Percent-decode s (len bytes) into a new malloc'd string; plus_space turns '+' into ' '.
 * Returns NULL on a bad escape, a decoded NUL byte, or a result that is not UTF-8. */
char *query_unescape(const char *s, size_t len, bool plus_space);

#endif
