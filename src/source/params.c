/*
 * params.c - named query parameters (":since", ":instance_id") for PostgreSQL.
 *
 * SPEC section 3 queries use named parameters; libpq wants "$1", "$2". A small lexer finds
 * ":name" outside the places where a colon is not a parameter: '...' strings (with ''
 * escapes), E'...' strings (with backslash escapes), "..." identifiers, -- and (nested)
 * slash-star comments, $tag$...$tag$ dollar quotes, and "::" casts. An unterminated string,
 * identifier, comment or dollar quote runs to the end of the input: the parser reports it.
 * Every read is bounds-checked against len (fuzzed by tests/fuzz/fuzz_sql_guard.c).
 *
 * Known limit: an array slice written with a name after the colon ("a[1:n]") reads as a
 * parameter; write "a[1 : n]" or "a[1:(n)]".
 */
#include "util/common.h"
#include "source/source-int.h"

static bool ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool param_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool param_char(unsigned char c)
{
	return param_start(c) || (c >= '0' && c <= '9');
}

/* Skip a quoted run starting at s[i] == q; doubled q continues; backslashes escape if esc. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q, bool esc)
{
	i++;
	while (i < len) {
		if (esc && s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) {
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return len;
}

/* s[i] == '$'. Returns the end of a dollar quote, or 0 if this '$' does not open one. */
static size_t skip_dollar_quote(const char *s, size_t len, size_t i)
{
	size_t j = i + 1, taglen, k;

	if (j < len && !ident_start((unsigned char)s[j]) && s[j] != '$')
		return 0;
	while (j < len && s[j] != '$') {
		if (!ident_char((unsigned char)s[j]) || s[j] == '$')
			return 0;
		j++;
	}
	if (j >= len)
		return 0;
	taglen = j - i + 1; /* "$tag$" */
	for (k = j + 1; k + taglen <= len; k++)
		if (s[k] == '$' && !memcmp(s + k, s + i, taglen))
			return k + taglen;
	return len;
}

int source__scan_params(const char *sql, size_t len, int (*fn)(void *ctx, size_t off, size_t len),
                        void *ctx)
{
	size_t i = 0, j;
	int rc;

	while (i < len) {
		unsigned char c = (unsigned char)sql[i];
		unsigned char n = i + 1 < len ? (unsigned char)sql[i + 1] : 0;

		if (c == '\'') {
			i = skip_quoted(sql, len, i, '\'', false);
		} else if ((c == 'E' || c == 'e') && n == '\'') {
			i = skip_quoted(sql, len, i + 1, '\'', true);
		} else if (ident_start(c)) {
			while (i < len && ident_char((unsigned char)sql[i]))
				i++;
		} else if (c == '"') {
			i = skip_quoted(sql, len, i, '"', false);
		} else if (c == '-' && n == '-') {
			while (i < len && sql[i] != '\n')
				i++;
		} else if (c == '/' && n == '*') {
			int depth = 1;
			i += 2;
			while (i < len && depth > 0) {
				if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*') {
					depth++;
					i += 2;
				} else if (sql[i] == '*' && i + 1 < len && sql[i + 1] == '/') {
					depth--;
					i += 2;
				} else {
					i++;
				}
			}
		} else if (c == '$') {
			j = skip_dollar_quote(sql, len, i);
			if (j) {
				i = j;
			} else {
				i++;
				while (i < len && sql[i] >= '0' && sql[i] <= '9')
					i++;
			}
		} else if (c == ':' && n == ':') {
			i += 2;
		} else if (c == ':' && param_start(n)) {
			j = i + 1;
			while (j < len && param_char((unsigned char)sql[j]))
				j++;
			rc = fn(ctx, i, j - i);
			if (rc)
				return rc;
			i = j;
		} else if (c >= '0' && c <= '9') {
			/* a number; "1e5" and "1.5" carry no parameters */
			while (i < len && (ident_char((unsigned char)sql[i]) || sql[i] == '.'))
				i++;
		} else {
			i++;
		}
	}
	return 0;
}

struct rewrite {
	const char *sql;
	struct strbuf out;
	size_t done; /* bytes of sql copied to out */
	const char *const *names;
	size_t nnames;
	bool any;
	char **seen; /* any: the distinct names so far */
	size_t nseen, alloc;
	int *order;
	size_t norder;
	struct sw_err *err;
};

static int rewrite_one(void *ctx, size_t off, size_t len)
{
	struct rewrite *rw = ctx;
	const char *name = rw->sql + off + 1;
	size_t namelen = len - 1, k, idx = 0;
	bool found = false;

	strbuf_add(&rw->out, rw->sql + rw->done, off - rw->done);
	rw->done = off + len;
	if (rw->any) {
		for (k = 0; k < rw->nseen; k++)
			if (strlen(rw->seen[k]) == namelen && !memcmp(rw->seen[k], name, namelen))
				break;
		if (k == rw->nseen) {
			ALLOC_GROW(rw->seen, rw->nseen + 1, rw->alloc);
			rw->seen[rw->nseen++] = xstrndup(name, namelen);
		}
		strbuf_addf(&rw->out, "$%zu", k + 1);
		return 0;
	}
	for (k = 0; k < rw->nnames; k++) {
		if (strlen(rw->names[k]) == namelen && !memcmp(rw->names[k], name, namelen)) {
			found = true;
			break;
		}
	}
	if (!found) {
		sw_err_set(rw->err, "unknown parameter ':%.*s'", (int)(namelen > 64 ? 64 : namelen),
		           name);
		return -1;
	}
	for (idx = 0; idx < rw->norder; idx++)
		if (rw->order[idx] == (int)k)
			break;
	if (idx == rw->norder)
		rw->order[rw->norder++] = (int)k;
	strbuf_addf(&rw->out, "$%zu", idx + 1);
	return 0;
}

static char *rewrite_run(struct rewrite *rw)
{
	size_t len = strlen(rw->sql), k;
	char *res = NULL;

	strbuf_init(&rw->out, len + 16);
	if (!source__scan_params(rw->sql, len, rewrite_one, rw)) {
		strbuf_add(&rw->out, rw->sql + rw->done, len - rw->done);
		res = strbuf_detach(&rw->out, NULL);
	}
	strbuf_release(&rw->out);
	for (k = 0; k < rw->nseen; k++)
		free(rw->seen[k]);
	free(rw->seen);
	return res;
}

char *source_rewrite_params(const char *sql, const char *const *names, size_t nnames, int *order,
                            size_t *norder, struct sw_err *err)
{
	struct rewrite rw = {0};
	int dummy[1];
	char *res;

	rw.sql = sql;
	rw.names = names;
	rw.nnames = nnames;
	rw.order = order ? order : dummy;
	rw.err = err;
	if (!order && nnames > 0)
		BUG("source_rewrite_params: order is NULL with %zu names", nnames);
	res = rewrite_run(&rw);
	if (norder)
		*norder = res ? rw.norder : 0;
	return res;
}

char *source__rewrite_any(const char *sql, size_t *nparams)
{
	struct rewrite rw = {0};
	char *res;

	rw.sql = sql;
	rw.any = true;
	res = rewrite_run(&rw);
	*nparams = rw.nseen;
	return res;
}
