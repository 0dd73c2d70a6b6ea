/*
 * auth.h - bearer tokens of http.tokens, kept in memory only as SHA-256 hashes. A
 * presented token is hashed and compared with every known hash in constant time, so
 * neither the comparison nor the position of the match leaks through timing.
 */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include "util/common.h"
#include "util/sha256.h"
#include "config/config.h"

struct auth_token {
	char *name;
	enum sw_role role;
	unsigned char hash[SHA256_LEN];
};

struct auth {
	struct auth_token *v;
	size_t n;
};

enum {
	AUTH_OK = 0,
	AUTH_MISSING = -1,
	AUTH_INVALID = -2
};

/* Hash the tokens; an empty secret is an error. The secrets themselves are not kept. */
int auth_init(struct auth *a, const struct sw_token *tokens, size_t n, struct sw_err *err);
void auth_release(struct auth *a);
static inline bool auth_enabled(const struct auth *a)
{
	return a->n > 0;
}
/*
 * Check an Authorization header value (NULL when absent): "Bearer <token>", scheme
 * case-insensitive. AUTH_OK with *who set, AUTH_MISSING (no header, or not Bearer) or
 * AUTH_INVALID (unknown token).
 */
int auth_check(const struct auth *a, const char *header, const struct auth_token **who);
/* The same for a value of header_len bytes that may hold NUL bytes (a value with one is
 * AUTH_INVALID, never the token before it). */
int auth_check_n(const struct auth *a, const char *header, size_t header_len,
                 const struct auth_token **who);
/* "viewer", "responder", "admin". */
const char *auth_role_name(enum sw_role r);

#endif
