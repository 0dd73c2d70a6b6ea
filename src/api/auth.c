/*
 * auth.c - bearer-token check against hashed tokens.
 *
 * DESIGN: the secret never stays in this module: auth_init() hashes it and keeps the hash.
 * auth_check() hashes what the client sent (bounded to 4 KiB, longer is simply wrong) and
 * compares it with every entry, never stopping at the first match, so timing reveals
 * neither which token matched nor how much of one did.
 */
#include "util/common.h"
#include "api/auth.h"
#include <strings.h>

#define TOKEN_MAX 4096

int auth_init(struct auth *a, const struct sw_token *tokens, size_t n, struct sw_err *err)
{
	a->v = n ? xcalloc(n, sizeof(*a->v)) : NULL;
	a->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (!tokens[i].token || !*tokens[i].token || strlen(tokens[i].token) > TOKEN_MAX) {
			sw_err_set(err, "token '%s' is empty or longer than %d bytes",
			           tokens[i].name ? tokens[i].name : "?", TOKEN_MAX);
			auth_release(a);
			return -1;
		}
		a->v[i].name = xstrdup(tokens[i].name ? tokens[i].name : "?");
		a->v[i].role = tokens[i].role;
		sha256(tokens[i].token, strlen(tokens[i].token), a->v[i].hash);
		a->n++;
	}
	return 0;
}

void auth_release(struct auth *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int auth_check(const struct auth *a, const char *header, const struct auth_token **who)
{
	return auth_check_n(a, header, header ? strlen(header) : 0, who);
}

int auth_check_n(const struct auth *a, const char *header, size_t header_len,
                 const struct auth_token **who)
{
	unsigned char h[SHA256_LEN];
	const char *tok, *end = header + header_len;
	size_t len, match = SIZE_MAX;
	*who = NULL;
	if (!header || header_len < 7 || strncasecmp(header, "Bearer ", 7))
		return AUTH_MISSING;
	/* "Bearer <token>\0junk" is not <token>: a value with a NUL byte is never valid */
	if (memchr(header, '\0', header_len))
		return AUTH_INVALID;
	tok = header + 7;
	while (tok < end && *tok == ' ')
		tok++;
	len = (size_t)(end - tok);
	while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		len--;
	if (!len)
		return AUTH_MISSING;
	if (len > TOKEN_MAX)
		return AUTH_INVALID;
	sha256(tok, len, h);
	for (size_t i = 0; i < a->n; i++) {
		int eq = sha256_equal_ct(h, a->v[i].hash, SHA256_LEN);
		/* first match wins, without branching on the secret's bytes */
		if (eq && match == SIZE_MAX)
			match = i;
	}
	if (match == SIZE_MAX)
		return AUTH_INVALID;
	*who = &a->v[match];
	return AUTH_OK;
}

const char *auth_role_name(enum sw_role r)
{
	switch (r) {
	case SW_ROLE_VIEWER: return "viewer";
	case SW_ROLE_RESPONDER: return "responder";
	case SW_ROLE_ADMIN: return "admin";
	}
	return "?";
}
