/*
 * config.c - load and validate stepwatch.yaml into a struct sw_config (SPEC section 3).
 *
 * DESIGN: ytree.c turns the YAML into a positioned tree; this file walks that tree with the
 * schema written out as code, one parse_*() per section, in dependency order (sources,
 * rosters, workflows, watchers, receivers, levels) so that references resolve as they are
 * read. A problem never stops the walk: it appends "file:line:col: message" to the error
 * buffer and the entry stays in its array (partly filled), so one mistake does not cascade
 * into "unknown workflow" errors further down. Names are found through sorted indexes and
 * the walk counts the nodes it visits, so hostile input (huge lists, alias fan-out) costs
 * bounded time. Error output stops after MAX_ERRORS lines.
 *
 * A workflow with no steps_query is push-only (its records arrive over the API) and may
 * omit source; a workflow with a steps_query must name one.
 */
#include "util/common.h"
#include "config/config.h"
#include "config/ytree.h"
#include "core/duration.h"
#include "util/timeutil.h"
#include "util/redact.h"
#include "util/base64.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_SIZE (4 * 1024 * 1024)
#define MAX_ERRORS      100
#define MAX_VISITS      2000000L

#define DEFAULT_STORE  "sqlite://stepwatch.db"
#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_PD_URL "https://events.pagerduty.com/v2/enqueue"
#define DEFAULT_FROM   "stepwatch@localhost"
#define MS_S           1000LL
#define MS_M           (60 * MS_S)
#define MS_H           (60 * MS_M)
#define MS_D           (24 * MS_H)

struct loader {
	const char *name;
	struct strbuf *errs;
	struct cfg_error {
		struct sw_pos pos;
		size_t seq;
		char *msg;
	} * errv;
	size_t alloc_errv;
	size_t n_errs;
	bool stopped;
	long visits;
	struct sw_config *cfg;
};

/* A sorted view of names for lookups and duplicate checks. */
struct name_ix {
	struct name_ent {
		const char *name;
		size_t i;
	} * ents;
	size_t n;
};

/* ------------------------------------------------------------------------------------ */
/* errors */

static void cfg_errv(struct loader *L, struct sw_pos pos, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	if (L->n_errs >= MAX_ERRORS) {
		L->stopped = true;
		return;
	}
	if (pos.line <= 0)
		pos.line = pos.col = 1;
	strbuf_vaddf(&sb, fmt, ap);
	ALLOC_GROW(L->errv, L->n_errs + 1, L->alloc_errv);
	L->errv[L->n_errs].pos = pos;
	L->errv[L->n_errs].seq = L->n_errs;
	L->errv[L->n_errs].msg = strbuf_detach(&sb, NULL);
	L->n_errs++;
}

static int cfg_error_cmp(const void *a, const void *b)
{
	const struct cfg_error *x = a, *y = b;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Write the collected errors to errs in file order, and free them. */
static void cfg_flush_errors(struct loader *L)
{
	if (L->n_errs)
		qsort(L->errv, L->n_errs, sizeof(*L->errv), cfg_error_cmp);
	for (size_t i = 0; i < L->n_errs; i++) {
		strbuf_addf(L->errs, "%s:%d:%d: %s\n", L->name, L->errv[i].pos.line,
		            L->errv[i].pos.col, L->errv[i].msg);
		free(L->errv[i].msg);
	}
	if (L->n_errs >= MAX_ERRORS && L->stopped)
		strbuf_addf(L->errs, "%s: too many errors (showing the first %d)\n", L->name,
		            MAX_ERRORS);
	free(L->errv);
	L->errv = NULL;
}

static void cfg_err_at(struct loader *L, struct sw_pos pos, const char *fmt, ...) SW_PRINTF(3, 4);
static void cfg_err_at(struct loader *L, struct sw_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_errv(L, pos, fmt, ap);
	va_end(ap);
}

static void cfg_err(struct loader *L, const struct ynode *at, const char *fmt, ...) SW_PRINTF(3, 4);
static void cfg_err(struct loader *L, const struct ynode *at, const char *fmt, ...)
{
	struct sw_pos pos = {1, 1};
	va_list ap;

	if (at)
		pos = at->pos;
	va_start(ap, fmt);
	cfg_errv(L, pos, fmt, ap);
	va_end(ap);
}

static void cfg_tree_error(void *arg, struct sw_pos pos, bool fatal, const char *msg)
{
	struct loader *L = arg;
	(void)fatal;
	cfg_err_at(L, pos, "%s", msg);
}

/* Counts work; false once the budget is spent or too many errors were reported. */
static bool cfg_visit(struct loader *L, const struct ynode *at)
{
	if (L->stopped)
		return false;
	if (++L->visits > MAX_VISITS) {
		cfg_err(L, at, "document too complex (aliases expand to more than %ld nodes)",
		        MAX_VISITS);
		L->stopped = true;
		return false;
	}
	return true;
}

/* How a node reads in "expected X, got Y". */
static const char *cfg_what(const struct ynode *n, char *buf, size_t len)
{
	if (!n || n->is_null)
		return "null";
	if (n->type == YN_MAP)
		return "a mapping";
	if (n->type == YN_SEQ)
		return "a list";
	if (n->len > 40)
		snprintf(buf, len, "'%.40s...'", n->text);
	else
		snprintf(buf, len, "'%s'", n->text);
	return buf;
}

/* ------------------------------------------------------------------------------------ */
/* did-you-mean */

static size_t cfg_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Whether candidate is close to word: edit distance <= 2, or one a prefix of the other. */
static size_t cfg_closeness(const char *word, const char *cand)
{
	size_t lw = strlen(word), lc = strlen(cand);
	size_t d = cfg_levenshtein(word, cand);

	if (d <= 2 && d < lw + lc && !(lw <= 2 && d >= lw))
		return d;
	if (lw >= 3 && lc >= 3 && !strncmp(word, cand, lw < lc ? lw : lc))
		return 3;
	return SIZE_MAX;
}

struct suggest {
	const char *best;
	size_t dist;
};

static void suggest_try(struct suggest *s, const char *word, const char *cand)
{
	size_t d = cfg_closeness(word, cand);
	if (d < s->dist) {
		s->dist = d;
		s->best = cand;
	}
}

/* " (did you mean 'x'?)" or "" into buf. */
static const char *suggest_text(const struct suggest *s, char *buf, size_t len)
{
	if (!s->best)
		return "";
	snprintf(buf, len, " (did you mean '%.64s'?)", s->best);
	return buf;
}

/* ------------------------------------------------------------------------------------ */
/* name indexes */

static int name_ent_cmp(const void *a, const void *b)
{
	const struct name_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void name_ix_build(struct name_ix *ix, size_t n, const char *(*get)(const void *, size_t),
                          const void *arr)
{
	ix->ents = xcalloc(n ? n : 1, sizeof(*ix->ents));
	ix->n = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = get(arr, i);
		if (!s)
			continue;
		ix->ents[ix->n].name = s;
		ix->ents[ix->n++].i = i;
	}
	qsort(ix->ents, ix->n, sizeof(*ix->ents), name_ent_cmp);
}

static long name_ix_find(const struct name_ix *ix, const char *name)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix->ents[mid].name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ix->n && !strcmp(ix->ents[lo].name, name))
		return (long)ix->ents[lo].i;
	return -1;
}

static void name_ix_suggest(const struct name_ix *ix, const char *word, struct suggest *s)
{
	for (size_t i = 0; i < ix->n && i < 10000; i++)
		suggest_try(s, word, ix->ents[i].name);
}

static void name_ix_release(struct name_ix *ix)
{
	free(ix->ents);
	ix->ents = NULL;
	ix->n = 0;
}

static const char *get_str_arr(const void *arr, size_t i)
{
	return ((char *const *)arr)[i];
}
static const char *get_source_name(const void *arr, size_t i)
{
	return ((const struct sw_source *)arr)[i].name;
}
static const char *get_workflow_name(const void *arr, size_t i)
{
	return ((const struct sw_workflow *)arr)[i].name;
}
static const char *get_step_name(const void *arr, size_t i)
{
	return ((const struct sw_step *)arr)[i].name;
}
static const char *get_receiver_name(const void *arr, size_t i)
{
	return ((const struct sw_receiver *)arr)[i].name;
}
static const char *get_roster_name(const void *arr, size_t i)
{
	return ((const struct sw_roster *)arr)[i].name;
}
static const char *get_watcher_name(const void *arr, size_t i)
{
	return ((const struct sw_watcher *)arr)[i].name;
}
static const char *get_token_name(const void *arr, size_t i)
{
	return ((const struct sw_token *)arr)[i].name;
}

/* ------------------------------------------------------------------------------------ */
/* tree access */

static const struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	size_t kl = strlen(key);
	if (!map || map->type != YN_MAP)
		return NULL;
	for (size_t i = 0; i < ynode_n_pairs(map); i++) {
		const struct ynode *k = map->kids[2 * i];
		if (k->type == YN_SCALAR && k->len == kl && !memcmp(k->text, key, kl))
			return map->kids[2 * i + 1];
	}
	return NULL;
}

static const struct ynode *ymap_key(const struct ynode *map, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < ynode_n_pairs(map); i++) {
		const struct ynode *k = map->kids[2 * i];
		if (k->type == YN_SCALAR && k->len == kl && !memcmp(k->text, key, kl))
			return k;
	}
	return NULL;
}

static bool want_map(struct loader *L, const struct ynode *n, const char *path, const char *what)
{
	char b[64];
	if (n && n->type == YN_MAP && cfg_visit(L, n))
		return true;
	if (n && n->type == YN_MAP)
		return false;
	cfg_err(L, n, "%s: expected %s, got %s", path, what, cfg_what(n, b, sizeof(b)));
	return false;
}

static bool want_seq(struct loader *L, const struct ynode *n, const char *path, const char *what)
{
	char b[64];
	if (n && n->type == YN_SEQ && cfg_visit(L, n))
		return true;
	if (n && n->type == YN_SEQ)
		return false;
	cfg_err(L, n, "%s: expected %s, got %s", path, what, cfg_what(n, b, sizeof(b)));
	return false;
}

/* A non-empty string scalar without NUL bytes. */
static bool want_str(struct loader *L, const struct ynode *n, const char *path, const char *what)
{
	char b[64];
	if (!n || n->is_null || n->type != YN_SCALAR) {
		cfg_err(L, n, "%s: expected %s, got %s", path, what, cfg_what(n, b, sizeof(b)));
		return false;
	}
	if (!cfg_visit(L, n))
		return false;
	if (!n->len) {
		cfg_err(L, n, "%s: must not be empty", path);
		return false;
	}
	if (strlen(n->text) != n->len) {
		cfg_err(L, n, "%s: must not contain NUL bytes", path);
		return false;
	}
	return true;
}

/* Every key of map is in allowed[] (NULL-terminated); what is "in workflow 'x'". */
static void check_keys(struct loader *L, const struct ynode *map, const char *const *allowed,
                       const char *what)
{
	char b[64], sb[96];
	for (size_t i = 0; i < ynode_n_pairs(map) && !L->stopped; i++) {
		const struct ynode *k = map->kids[2 * i];
		struct suggest s = {NULL, SIZE_MAX};
		bool ok = false;

		if (!cfg_visit(L, k))
			return;
		if (k->type != YN_SCALAR || k->is_null) {
			cfg_err(L, k, "expected a key name %s, got %s", what,
			        cfg_what(k, b, sizeof(b)));
			continue;
		}
		for (size_t j = 0; allowed[j]; j++)
			if (k->len == strlen(allowed[j]) && !memcmp(k->text, allowed[j], k->len))
				ok = true;
		if (ok)
			continue;
		for (size_t j = 0; allowed[j]; j++)
			suggest_try(&s, k->text, allowed[j]);
		cfg_err(L, k, "unknown key '%.64s' %s%s", k->text, what,
		        suggest_text(&s, sb, sizeof(sb)));
	}
}

/* Name keys of a name -> entry mapping: non-empty strings. */
static bool check_name_key(struct loader *L, const struct ynode *k, const char *path)
{
	char b[64];
	if (k->type != YN_SCALAR || k->is_null || !k->len || strlen(k->text) != k->len) {
		cfg_err(L, k, "%s: expected a name, got %s", path, cfg_what(k, b, sizeof(b)));
		return false;
	}
	return true;
}

static void missing(struct loader *L, const struct ynode *map, const char *path, const char *key,
                    const char *why)
{
	cfg_err(L, map, "%s: missing required key '%s'%s", path, key, why ? why : "");
}

/* ------------------------------------------------------------------------------------ */
/* scalar getters: return 1 when set, 0 when absent, -1 on error */

static char *subpath(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

static int get_str(struct loader *L, const struct ynode *map, const char *key, const char *path,
                   char **out)
{
	const struct ynode *v = ymap_get(map, key);
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	p = subpath(path, key);
	if (want_str(L, v, p, "a string")) {
		free(*out);
		*out = xstrdup(v->text);
		rc = 1;
	} else {
		rc = -1;
	}
	free(p);
	return rc;
}

static int parse_duration_node(struct loader *L, const struct ynode *v, const char *p, int64_t *out)
{
	char b[64], why[128];
	int64_t ms;

	if (!v || v->is_null || v->type != YN_SCALAR) {
		cfg_err(L, v, "%s: expected a duration like '30s', got %s", p,
		        cfg_what(v, b, sizeof(b)));
		return -1;
	}
	if (strlen(v->text) != v->len || duration_parse(v->text, &ms, why, sizeof(why))) {
		if (strlen(v->text) != v->len)
			snprintf(why, sizeof(why), "contains a NUL byte");
		cfg_err(L, v, "%s: invalid duration %s: %s", p, cfg_what(v, b, sizeof(b)), why);
		return -1;
	}
	*out = ms;
	return 1;
}

static int get_dur(struct loader *L, const struct ynode *map, const char *key, const char *path,
                   int64_t *out, bool positive)
{
	const struct ynode *v = ymap_get(map, key);
	char *p;
	int rc;

	if (!v)
		return 0;
	p = subpath(path, key);
	rc = parse_duration_node(L, v, p, out);
	if (rc > 0 && positive && *out <= 0) {
		cfg_err(L, v, "%s: must be greater than 0s", p);
		rc = -1;
	}
	free(p);
	return rc;
}

/* A list of unique non-empty strings. nonempty: the list needs at least one item. */
static int get_strlist(struct loader *L, const struct ynode *map, const char *key, const char *path,
                       const char *item, bool nonempty, char ***out, size_t *n_out)
{
	const struct ynode *v = ymap_get(map, key);
	char *p, what[80];
	char **arr = NULL;
	size_t n = 0;
	int rc = 1;

	if (!v)
		return 0;
	p = subpath(path, key);
	snprintf(what, sizeof(what), "a list of %ss", item);
	if (!want_seq(L, v, p, what)) {
		rc = -1;
		goto out;
	}
	if (nonempty && !v->n_kids) {
		cfg_err(L, v, "%s: must list at least one %s", p, item);
		rc = -1;
		goto out;
	}
	arr = xcalloc(v->n_kids ? v->n_kids : 1, sizeof(*arr));
	for (size_t i = 0; i < v->n_kids; i++) {
		char *ip = xasprintf("%s[%zu]", p, i);
		char w[64];
		snprintf(w, sizeof(w), "a %s", item);
		if (want_str(L, v->kids[i], ip, w))
			arr[n++] = xstrdup(v->kids[i]->text);
		else
			rc = -1;
		free(ip);
		if (L->stopped)
			break;
	}
	if (rc > 0) {
		struct name_ix ix;
		name_ix_build(&ix, n, get_str_arr, arr);
		for (size_t i = 1; i < ix.n; i++)
			if (!strcmp(ix.ents[i].name, ix.ents[i - 1].name)) {
				cfg_err(L, v->kids[ix.ents[i].i], "%s: duplicate %s '%.64s'", p,
				        item, ix.ents[i].name);
				rc = -1;
			}
		name_ix_release(&ix);
	}
	if (rc > 0) {
		*out = arr;
		*n_out = n;
		arr = NULL;
	}
out:
	for (size_t i = 0; arr && i < n; i++)
		free(arr[i]);
	free(arr);
	free(p);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **dup_strv(char *const *v, size_t n)
{
	char **r = xcalloc(n ? n : 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

/* ------------------------------------------------------------------------------------ */
/* URLs and secrets */

/* The URL for messages, with any password replaced by "***". Caller frees. */
static char *redact_url(const char *url)
{
	return sw_redact_url(url);
}

int config_db_kind(const char *url)
{
	if (!url)
		return -1;
	if (!strncmp(url, "sqlite:", 7))
		return SW_DB_SQLITE;
	if (!strncmp(url, "postgresql:", 11) || !strncmp(url, "postgres:", 9))
		return SW_DB_POSTGRES;
	return -1;
}

static bool check_db_url(struct loader *L, const struct ynode *at, const char *path,
                         const char *url, enum sw_db_kind *kind)
{
	char *shown = redact_url(url);
	bool ok = true;

	if (!strncmp(url, "sqlite://", 9)) {
		if (!url[9]) {
			cfg_err(L, at,
			        "%s: '%s' names no file (use sqlite:///abs/path.db or "
			        "sqlite://relative/path.db)",
			        path, shown);
			ok = false;
		}
		*kind = SW_DB_SQLITE;
	} else if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
		*kind = SW_DB_POSTGRES;
	} else {
		cfg_err(L, at,
		        "%s: unsupported database URL '%.80s' (use sqlite:///path.db or "
		        "postgresql://user@host/db)",
		        path, shown);
		ok = false;
	}
	free(shown);
	return ok;
}

static bool url_has_scheme(const char *url, const char *const *schemes)
{
	for (size_t i = 0; schemes[i]; i++) {
		size_t n = strlen(schemes[i]);
		if (!strncmp(url, schemes[i], n) && url[n] && url[n] != '/')
			return true;
	}
	return false;
}

static const char *const http_schemes[] = {"http://", "https://", NULL};
static const char *const smtp_schemes[] = {"smtp://", "smtps://", NULL};

static bool valid_env_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* map[key] names an environment variable; its value goes to *val, the name to *name. */
static int get_env(struct loader *L, const struct ynode *map, const char *key, const char *path,
                   char **name, char **val)
{
	const struct ynode *v = ymap_get(map, key);
	char *p;
	const char *e;
	int rc = -1;

	if (!v)
		return 0;
	p = subpath(path, key);
	if (!want_str(L, v, p, "the name of an environment variable"))
		goto out;
	if (!valid_env_name(v->text)) {
		cfg_err(L, v, "%s: '%.64s' is not a valid environment variable name", p, v->text);
		goto out;
	}
	e = getenv(v->text);
	if (!e) {
		cfg_err(L, v, "environment variable '%s' named by %s is not set", v->text, p);
		goto out;
	}
	if (!*e) {
		cfg_err(L, v, "environment variable '%s' named by %s is empty", v->text, p);
		goto out;
	}
	if (name) {
		free(*name);
		*name = xstrdup(v->text);
	}
	free(*val);
	*val = xstrdup(e);
	rc = 1;
out:
	free(p);
	return rc;
}

/*
 * A URL given as map[key] or through map[key_env]; exactly one. The scheme must be one of
 * schemes. Returns 1 set, 0 neither given, -1 error.
 */
static int get_url_or_env(struct loader *L, const struct ynode *map, const char *key,
                          const char *path, const char *const *schemes, const char *want,
                          char **url, char **env_name)
{
	char env_key[32];
	const struct ynode *lit = ymap_get(map, key), *env;
	int rc;

	snprintf(env_key, sizeof(env_key), "%s_env", key);
	env = ymap_get(map, env_key);
	if (lit && env) {
		cfg_err(L, ymap_key(map, env_key), "%s: give '%s' or '%s', not both", path, key,
		        env_key);
		return -1;
	}
	if (lit) {
		rc = get_str(L, map, key, path, url);
		if (rc > 0 && schemes && !url_has_scheme(*url, schemes)) {
			char *shown = redact_url(*url);
			cfg_err(L, lit, "%s.%s: expected %s, got '%.80s'", path, key, want, shown);
			free(shown);
			rc = -1;
		}
		return rc;
	}
	if (env) {
		rc = get_env(L, map, env_key, path, env_name, url);
		if (rc > 0 && schemes && !url_has_scheme(*url, schemes)) {
			cfg_err(L, env, "environment variable '%s' named by %s.%s does not hold %s",
			        env->text, path, env_key, want);
			rc = -1;
		}
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* top-level scalars and http */

static bool valid_listen(const char *s)
{
	const char *colon;
	char *end;
	long port;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb == s + 1 || rb[1] != ':')
			return false;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s || memchr(s, ':', (size_t)(colon - s)))
			return false;
	}
	if (!isdigit((unsigned char)colon[1]))
		return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return !errno && !*end && port >= 0 && port <= 65535;
}

static void parse_http(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"listen", "tokens", "request_timeout", NULL};
	static const char *const tkeys[] = {"name", "token_env", "role", NULL};
	struct sw_http *h = &L->cfg->http;
	const struct ynode *toks, *v;

	if (!want_map(L, n, "http", "a mapping"))
		return;
	check_keys(L, n, keys, "in 'http'");
	if (get_str(L, n, "listen", "http", &h->listen) > 0 && !valid_listen(h->listen))
		cfg_err(L, ymap_get(n, "listen"),
		        "http.listen: expected host:port like '127.0.0.1:8080', got '%.64s'",
		        h->listen);
	if (get_dur(L, n, "request_timeout", "http", &h->request_timeout_ms, true) > 0 &&
	    (h->request_timeout_ms < 1000 || h->request_timeout_ms > 3600 * 1000))
		cfg_err(L, ymap_get(n, "request_timeout"), "http.request_timeout: must be 1s..1h");
	toks = ymap_get(n, "tokens");
	if (!toks || !want_seq(L, toks, "http.tokens", "a list of tokens"))
		return;
	h->tokens = xcalloc(toks->n_kids ? toks->n_kids : 1, sizeof(*h->tokens));
	for (size_t i = 0; i < toks->n_kids && !L->stopped; i++) {
		const struct ynode *t = toks->kids[i];
		struct sw_token *tok = &h->tokens[h->n_tokens++];
		char *p = xasprintf("http.tokens[%zu]", i);
		char *what = xasprintf("in %s", p);

		tok->role = SW_ROLE_VIEWER;
		if (want_map(L, t, p, "a mapping with name, token_env and role")) {
			check_keys(L, t, tkeys, what);
			if (!get_str(L, t, "name", p, &tok->name))
				missing(L, t, p, "name", NULL);
			if (!get_env(L, t, "token_env", p, &tok->token_env, &tok->token))
				missing(L, t, p, "token_env", NULL);
			v = ymap_get(t, "role");
			char *rp = subpath(p, "role");
			if (v && want_str(L, v, rp, "viewer, responder or admin")) {
				if (!strcmp(v->text, "viewer"))
					tok->role = SW_ROLE_VIEWER;
				else if (!strcmp(v->text, "responder"))
					tok->role = SW_ROLE_RESPONDER;
				else if (!strcmp(v->text, "admin"))
					tok->role = SW_ROLE_ADMIN;
				else
					cfg_err(L, v,
					        "%s.role: unknown role '%.64s' (use viewer, "
					        "responder or admin)",
					        p, v->text);
			}
			free(rp);
		}
		free(what);
		free(p);
	}
	struct name_ix ix;
	name_ix_build(&ix, h->n_tokens, get_token_name, h->tokens);
	for (size_t i = 1; i < ix.n; i++)
		if (!strcmp(ix.ents[i].name, ix.ents[i - 1].name))
			cfg_err(L, toks->kids[ix.ents[i].i],
			        "http.tokens[%zu]: duplicate token name '%s'", ix.ents[i].i,
			        ix.ents[i].name);
	name_ix_release(&ix);
}

/* ------------------------------------------------------------------------------------ */
/* sources */

/* map[key] as true or false into *out (left alone when absent). */
static void get_flag(struct loader *L, const struct ynode *map, const char *key, const char *path,
                     bool *out)
{
	const struct ynode *v = ymap_get(map, key);
	char b[64];

	if (!v)
		return;
	if (v->type == YN_SCALAR && !strcmp(v->text, "true"))
		*out = true;
	else if (v->type == YN_SCALAR && !strcmp(v->text, "false"))
		*out = false;
	else
		cfg_err(L, v, "%s.%s: expected true or false, got %s", path, key,
		        cfg_what(v, b, sizeof(b)));
}

static void parse_sources(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"url", "url_env", "statement_timeout",
	                                   "allow_unsafe_role", NULL};
	struct sw_config *cfg = L->cfg;

	if (!want_map(L, n, "sources", "a mapping of source names to sources"))
		return;
	cfg->sources = xcalloc(ynode_n_pairs(n) + 1, sizeof(*cfg->sources));
	for (size_t i = 0; i < ynode_n_pairs(n) && !L->stopped; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
		struct sw_source *s;
		char *p, *what;

		if (!cfg_visit(L, k) || !check_name_key(L, k, "sources"))
			continue;
		s = &cfg->sources[cfg->n_sources++];
		s->name = xstrdup(k->text);
		s->pos = k->pos;
		s->statement_timeout_ms = 5 * MS_S;
		s->kind = SW_DB_POSTGRES;
		p = xasprintf("sources.%s", s->name);
		what = xasprintf("in source '%s'", s->name);
		if (want_map(L, v, p, "a mapping with url")) {
			check_keys(L, v, keys, what);
			int rc = get_url_or_env(L, v, "url", p, NULL, NULL, &s->url, NULL);
			if (!rc)
				missing(L, v, p, "url", NULL);
			else if (rc > 0 && ymap_get(v, "url"))
				check_db_url(L, ymap_get(v, "url"), p, s->url, &s->kind);
			else if (rc > 0)
				check_db_url(L, ymap_get(v, "url_env"), p, s->url, &s->kind);
			get_dur(L, v, "statement_timeout", p, &s->statement_timeout_ms, true);
			get_flag(L, v, "allow_unsafe_role", p, &s->allow_unsafe_role);
		}
		free(what);
		free(p);
	}
}

/* ------------------------------------------------------------------------------------ */
/* rosters */

/* A time key of an override: true with *ms set, or false after reporting the problem. */
static bool override_time(struct loader *L, const struct ynode *o, const char *path,
                          const char *key, int64_t *ms)
{
	const struct ynode *t = ymap_get(o, key);
	char *sp = subpath(path, key);
	bool ok = false;
	if (!t)
		missing(L, o, path, key, " (an RFC 3339 time like '2026-01-05T09:00:00Z')");
	else if (want_str(L, t, sp, "an RFC 3339 time like '2026-01-05T09:00:00Z'")) {
		ok = !time_parse(t->text, ms);
		if (!ok)
			cfg_err(L, t,
			        "%s: invalid time '%.64s' (expected an RFC 3339 time like "
			        "'2026-01-05T09:00:00Z')",
			        sp, t->text);
	}
	free(sp);
	return ok;
}

/* rosters.<name>.overrides: [{member, from, to}, ...] */
static void parse_overrides(struct loader *L, const struct ynode *n, const char *path,
                            struct sw_roster *r)
{
	static const char *const keys[] = {"member", "from", "to", NULL};
	char *p = subpath(path, "overrides");
	if (!want_seq(L, n, p, "a list of {member, from, to}")) {
		free(p);
		return;
	}
	r->overrides = xcalloc(n->n_kids + 1, sizeof(*r->overrides));
	for (size_t i = 0; i < n->n_kids && !L->stopped; i++) {
		const struct ynode *o = n->kids[i];
		struct sw_roster_override ov = {NULL, 0, 0};
		char *ip = xasprintf("%s[%zu]", p, i);
		bool ok;
		if (!want_map(L, o, ip, "a mapping with member, from and to")) {
			free(ip);
			continue;
		}
		check_keys(L, o, keys, "in a roster override");
		{
			int g = get_str(L, o, "member", ip, &ov.member);
			if (!g)
				missing(L, o, ip, "member", NULL);
			ok = g > 0;
		}
		ok = override_time(L, o, ip, "from", &ov.from_ms) && ok;
		ok = override_time(L, o, ip, "to", &ov.to_ms) && ok;
		if (ok && ov.to_ms <= ov.from_ms) {
			cfg_err(L, o, "%s: 'to' must be after 'from'", ip);
			ok = false;
		}
		if (ok)
			r->overrides[r->n_overrides++] = ov;
		else
			free(ov.member);
		free(ip);
	}
	free(p);
}

static void parse_rosters(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"members", "rotation", "start", "overrides", NULL};
	struct sw_config *cfg = L->cfg;

	if (!want_map(L, n, "rosters", "a mapping of roster names to rosters"))
		return;
	cfg->rosters = xcalloc(ynode_n_pairs(n) + 1, sizeof(*cfg->rosters));
	for (size_t i = 0; i < ynode_n_pairs(n) && !L->stopped; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1], *st;
		struct sw_roster *r;
		char *p, *what;

		if (!cfg_visit(L, k) || !check_name_key(L, k, "rosters"))
			continue;
		r = &cfg->rosters[cfg->n_rosters++];
		r->name = xstrdup(k->text);
		r->pos = k->pos;
		p = xasprintf("rosters.%s", r->name);
		what = xasprintf("in roster '%s'", r->name);
		if (want_map(L, v, p, "a mapping with members, rotation and start")) {
			check_keys(L, v, keys, what);
			if (!get_strlist(L, v, "members", p, "member", true, &r->members,
			                 &r->n_members))
				missing(L, v, p, "members", NULL);
			if (!get_dur(L, v, "rotation", p, &r->rotation_ms, true))
				missing(L, v, p, "rotation", NULL);
			st = ymap_get(v, "start");
			if (!st) {
				missing(L, v, p, "start",
				        " (an RFC 3339 time like '2026-01-05T09:00:00Z')");
			} else {
				char *sp = subpath(p, "start");
				if (want_str(L, st, sp,
				             "an RFC 3339 time like '2026-01-05T09:00:00Z'") &&
				    time_parse(st->text, &r->start_ms))
					cfg_err(
					    L, st,
					    "%s: invalid time '%.64s' (expected an RFC 3339 time "
					    "like '2026-01-05T09:00:00Z')",
					    sp, st->text);
				free(sp);
			}
			if ((st = ymap_get(v, "overrides")))
				parse_overrides(L, st, p, r);
		}
		free(what);
		free(p);
	}
}

/* ------------------------------------------------------------------------------------ */
/* step policies */

static void policy_defaults(struct sw_step_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->sla.p2_ms = 15 * MS_M;
	pol->sla.p1_ms = MS_H;
	pol->sla.p0_ms = 4 * MS_H;
	pol->stuck_after_ms = 30 * MS_M;
	pol->abandon_after_ms = 7 * MS_D;
	pol->group_by = xcalloc(1, sizeof(char *));
	pol->group_by[0] = xstrdup("error");
	pol->n_group_by = 1;
	pol->recover.max_attempts = 3;
	pol->recover.backoff_ms = MS_M;
}

static void policy_copy(struct sw_step_policy *dst, const struct sw_step_policy *src)
{
	*dst = *src;
	dst->group_by = dup_strv(src->group_by, src->n_group_by);
	dst->recover.webhook_url = xstrdup_or_null(src->recover.webhook_url);
}

static void policy_release(struct sw_step_policy *pol)
{
	free_strv(pol->group_by, pol->n_group_by);
	free(pol->recover.webhook_url);
	pol->group_by = NULL;
	pol->n_group_by = 0;
	pol->recover.webhook_url = NULL;
}

static void check_sla(struct loader *L, const struct ynode *at, const char *path,
                      const struct alert_sla *sla)
{
	const int64_t v[3] = {sla->p2_ms, sla->p1_ms, sla->p0_ms};
	static const char *const names[3] = {"p2", "p1", "p0"};
	char a[32], b[32];

	for (int i = 0; i < 3; i++) {
		for (int j = i + 1; j < 3; j++) {
			if (v[i] <= 0 || v[j] <= 0 || v[i] <= v[j])
				continue;
			cfg_err(L, at, "%s: %s (%s) must not be longer than %s (%s)", path,
			        names[i], duration_format(v[i], a, sizeof(a)), names[j],
			        duration_format(v[j], b, sizeof(b)));
			return;
		}
	}
}

static void parse_recover(struct loader *L, const struct ynode *n, const char *path,
                          struct sw_recover *rec)
{
	static const char *const keys[] = {"webhook", "max_attempts", "backoff", "enabled", NULL};
	static const char *const wkeys[] = {"url", "url_env", NULL};
	const struct ynode *v;
	char *what = xasprintf("in %s", path);

	if (!want_map(L, n, path, "a mapping with webhook, max_attempts and backoff"))
		goto out;
	check_keys(L, n, keys, what);
	if (!rec->enabled) {
		free(rec->webhook_url);
		rec->webhook_url = NULL;
		rec->max_attempts = 3;
		rec->backoff_ms = MS_M;
	}
	rec->enabled = true;
	v = ymap_get(n, "webhook");
	if (v) {
		char *wp = subpath(path, "webhook");
		char *ww = xasprintf("in %s", wp);
		if (want_map(L, v, wp, "a mapping with url")) {
			check_keys(L, v, wkeys, ww);
			if (!get_url_or_env(L, v, "url", wp, http_schemes, "an http(s) URL",
			                    &rec->webhook_url, NULL))
				missing(L, v, wp, "url", NULL);
		}
		free(ww);
		free(wp);
	}
	v = ymap_get(n, "max_attempts");
	if (v) {
		char b[64], *end = NULL;
		long x = 0;
		if (v->type == YN_SCALAR && !v->is_null) {
			errno = 0;
			x = strtol(v->text, &end, 10);
		}
		if (!end || *end || errno || end == v->text || x < 1 || x > 100)
			cfg_err(L, v,
			        "%s.max_attempts: expected a whole number from 1 to 100, got %s",
			        path, cfg_what(v, b, sizeof(b)));
		else
			rec->max_attempts = (int)x;
	}
	get_dur(L, n, "backoff", path, &rec->backoff_ms, false);
	v = ymap_get(n, "enabled");
	if (v) {
		char b[64];
		if (v->type == YN_SCALAR && !strcmp(v->text, "true"))
			rec->enabled = true;
		else if (v->type == YN_SCALAR && !strcmp(v->text, "false"))
			rec->enabled = false;
		else
			cfg_err(L, v, "%s.enabled: expected true or false, got %s", path,
			        cfg_what(v, b, sizeof(b)));
	}
	if (rec->enabled && !rec->webhook_url && !ymap_get(n, "webhook"))
		missing(L, n, path, "webhook", NULL);
out:
	free(what);
}

/* Apply the keys present in n on top of pol. Returns the sla node when sla was given. */
static const struct ynode *parse_policy(struct loader *L, const struct ynode *n, const char *path,
                                        const char *what, struct sw_step_policy *pol)
{
	static const char *const keys[] = {"sla",      "stuck_after", "abandon_after",
	                                   "group_by", "recover",     "notify_after_recovery",
	                                   NULL};
	static const char *const slakeys[] = {"p2", "p1", "p0", NULL};
	const struct ynode *sla, *rec;
	char **gb = NULL;
	size_t ngb = 0;

	if (!want_map(L, n, path, "a mapping of step settings"))
		return NULL;
	check_keys(L, n, keys, what);
	sla = ymap_get(n, "sla");
	if (sla) {
		char *sp = subpath(path, "sla");
		char *sw = xasprintf("in %s", sp);
		if (want_map(L, sla, sp, "a mapping with p2, p1 and p0")) {
			check_keys(L, sla, slakeys, sw);
			get_dur(L, sla, "p2", sp, &pol->sla.p2_ms, false);
			get_dur(L, sla, "p1", sp, &pol->sla.p1_ms, false);
			get_dur(L, sla, "p0", sp, &pol->sla.p0_ms, false);
		}
		free(sw);
		free(sp);
	}
	get_dur(L, n, "stuck_after", path, &pol->stuck_after_ms, false);
	get_dur(L, n, "abandon_after", path, &pol->abandon_after_ms, false);
	if (get_strlist(L, n, "group_by", path, "label", false, &gb, &ngb) > 0) {
		free_strv(pol->group_by, pol->n_group_by);
		pol->group_by = gb;
		pol->n_group_by = ngb;
	}
	rec = ymap_get(n, "recover");
	if (rec) {
		char *rp = subpath(path, "recover");
		parse_recover(L, rec, rp, &pol->recover);
		free(rp);
	}
	rec = ymap_get(n, "notify_after_recovery");
	if (rec) {
		char b[64];
		if (rec->type == YN_SCALAR && !strcmp(rec->text, "true"))
			pol->notify_after_recovery = true;
		else if (rec->type == YN_SCALAR && !strcmp(rec->text, "false"))
			pol->notify_after_recovery = false;
		else
			cfg_err(L, rec, "%s.notify_after_recovery: expected true or false, got %s",
			        path, cfg_what(rec, b, sizeof(b)));
	}
	return sla;
}

/* ------------------------------------------------------------------------------------ */
/* workflows */

static void parse_step_overrides(struct loader *L, const struct ynode *n, const char *path,
                                 struct sw_workflow *wf, const struct ynode **ovr)
{
	struct name_ix ix;
	char sb[96];

	if (!want_map(L, n, path, "a mapping of step names to settings"))
		return;
	name_ix_build(&ix, wf->n_steps, get_step_name, wf->steps);
	for (size_t i = 0; i < ynode_n_pairs(n) && !L->stopped; i++) {
		const struct ynode *k = n->kids[2 * i];
		long si;

		if (!cfg_visit(L, k) || !check_name_key(L, k, path))
			continue;
		si = name_ix_find(&ix, k->text);
		if (si < 0) {
			struct suggest s = {NULL, SIZE_MAX};
			name_ix_suggest(&ix, k->text, &s);
			cfg_err(L, k, "%s: '%.64s' is not a step of workflow '%s'%s", path, k->text,
			        wf->name, suggest_text(&s, sb, sizeof(sb)));
			continue;
		}
		ovr[si] = n->kids[2 * i + 1];
	}
	name_ix_release(&ix);
}

/* page_size: a whole number from 10 to 1,000,000. */
static void get_page_size(struct loader *L, const struct ynode *map, const char *path, int *out)
{
	const struct ynode *v = ymap_get(map, "page_size");
	char b[64], *end = NULL;
	long x = 0;
	if (!v)
		return;
	if (v->type == YN_SCALAR && !v->is_null) {
		errno = 0;
		x = strtol(v->text, &end, 10);
	}
	if (!end || *end || errno || end == v->text || x < 10 || x > 1000000)
		cfg_err(L, v, "%s.page_size: expected a whole number from 10 to 1000000, got %s",
		        path, cfg_what(v, b, sizeof(b)));
	else
		*out = (int)x;
}

static void parse_workflow(struct loader *L, const struct ynode *v, struct sw_workflow *wf,
                           const struct name_ix *sources)
{
	static const char *const keys[] = {"source",   "poll",      "overlap",        "steps_query",
	                                   "steps",    "segments",  "tat_sla",        "defaults",
	                                   "backfill", "page_size", "step_overrides", NULL};
	char *p = xasprintf("workflows.%s", wf->name);
	char *what = xasprintf("in workflow '%s'", wf->name);
	struct sw_step_policy defaults;
	const struct ynode *src, *dn, *on, *sla = NULL, **ovr = NULL;
	char **steps = NULL;
	size_t n_steps = 0;
	int steps_rc;

	policy_defaults(&defaults);
	wf->poll_ms = MS_S;
	wf->overlap_ms = 10 * MS_S;
	wf->backfill_ms = 7 * 86400 * MS_S;
	wf->page_size = 5000;
	if (!want_map(L, v, p, "a mapping with source, steps_query and steps"))
		goto out;
	check_keys(L, v, keys, what);

	if (get_str(L, v, "steps_query", p, &wf->steps_query) > 0)
		wf->steps_query_pos = ymap_get(v, "steps_query")->pos;
	src = ymap_get(v, "source");
	if (get_str(L, v, "source", p, &wf->source_name) > 0) {
		long si = name_ix_find(sources, wf->source_name);
		if (si >= 0) {
			wf->source = &L->cfg->sources[si];
		} else {
			struct suggest s = {NULL, SIZE_MAX};
			char sb[96];
			name_ix_suggest(sources, wf->source_name, &s);
			cfg_err(L, src, "%s.source: unknown source '%.64s'%s", p, wf->source_name,
			        suggest_text(&s, sb, sizeof(sb)));
		}
	} else if (!src && wf->steps_query) {
		missing(L, v, p, "source",
		        " (a workflow with a steps_query reads it from a source)");
	}
	get_dur(L, v, "poll", p, &wf->poll_ms, true);
	get_dur(L, v, "overlap", p, &wf->overlap_ms, false);
	get_dur(L, v, "tat_sla", p, &wf->tat_sla_ms, false);
	get_dur(L, v, "backfill", p, &wf->backfill_ms, false);
	get_page_size(L, v, p, &wf->page_size);
	get_strlist(L, v, "segments", p, "segment", false, &wf->segments, &wf->n_segments);
	steps_rc = get_strlist(L, v, "steps", p, "step", true, &steps, &n_steps);
	if (!steps_rc)
		missing(L, v, p, "steps", NULL);

	dn = ymap_get(v, "defaults");
	if (dn) {
		char *dp = subpath(p, "defaults");
		char *dw = xasprintf("in the defaults of workflow '%s'", wf->name);
		char *slap = subpath(dp, "sla");
		sla = parse_policy(L, dn, dp, dw, &defaults);
		check_sla(L, sla ? sla : dn, sla ? slap : dp, &defaults.sla);
		free(slap);
		free(dw);
		free(dp);
	}

	if (steps_rc > 0) {
		wf->steps = xcalloc(n_steps, sizeof(*wf->steps));
		for (size_t i = 0; i < n_steps; i++) {
			wf->steps[i].name = steps[i];
			steps[i] = NULL;
		}
		wf->n_steps = n_steps;
		ovr = xcalloc(n_steps, sizeof(*ovr));
		on = ymap_get(v, "step_overrides");
		if (on) {
			char *op = subpath(p, "step_overrides");
			parse_step_overrides(L, on, op, wf, ovr);
			free(op);
		}
		for (size_t i = 0; i < n_steps; i++) {
			struct sw_step_policy *pol = &wf->steps[i].policy;
			policy_copy(pol, &defaults);
			if (ovr[i] && !L->stopped) {
				char *sp = xasprintf("%s.step_overrides.%s", p, wf->steps[i].name);
				char *sw = xasprintf("in step_overrides '%s' of workflow '%s'",
				                     wf->steps[i].name, wf->name);
				const struct ynode *s = parse_policy(L, ovr[i], sp, sw, pol);
				if (s) {
					char *slap = subpath(sp, "sla");
					check_sla(L, s, slap, &pol->sla);
					free(slap);
				}
				free(sw);
				free(sp);
			}
		}
	}
out:
	free(ovr);
	free_strv(steps, n_steps);
	policy_release(&defaults);
	free(what);
	free(p);
}

static void parse_workflows(struct loader *L, const struct ynode *n)
{
	struct sw_config *cfg = L->cfg;
	struct name_ix sources;

	if (!n) {
		cfg_err(L, NULL, "missing required key 'workflows' at the top level");
		return;
	}
	if (!want_map(L, n, "workflows", "a mapping of workflow names to workflows"))
		return;
	name_ix_build(&sources, cfg->n_sources, get_source_name, cfg->sources);
	cfg->workflows = xcalloc(ynode_n_pairs(n) + 1, sizeof(*cfg->workflows));
	for (size_t i = 0; i < ynode_n_pairs(n) && !L->stopped; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
		struct sw_workflow *wf;

		if (!cfg_visit(L, k) || !check_name_key(L, k, "workflows"))
			continue;
		wf = &cfg->workflows[cfg->n_workflows++];
		wf->name = xstrdup(k->text);
		wf->pos = k->pos;
		parse_workflow(L, v, wf, &sources);
	}
	name_ix_release(&sources);
}

/* ------------------------------------------------------------------------------------ */
/* watchers */

static void parse_watchers(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"name",   "workflow", "step", "every",
	                                   "detect", "resolve",  NULL};
	struct sw_config *cfg = L->cfg;
	struct name_ix wfs, names;

	if (!want_seq(L, n, "watchers", "a list of watchers"))
		return;
	name_ix_build(&wfs, cfg->n_workflows, get_workflow_name, cfg->workflows);
	cfg->watchers = xcalloc(n->n_kids + 1, sizeof(*cfg->watchers));
	for (size_t i = 0; i < n->n_kids && !L->stopped; i++) {
		const struct ynode *v = n->kids[i];
		struct sw_watcher *w = &cfg->watchers[cfg->n_watchers++];
		char *p = xasprintf("watchers[%zu]", i), *what;
		char sb[96];

		w->every_ms = 30 * MS_S;
		w->step_index = -1;
		if (!want_map(L, v, p, "a mapping with name, workflow, step and detect")) {
			free(p);
			continue;
		}
		if (get_str(L, v, "name", p, &w->name) > 0) {
			free(p);
			p = xasprintf("watchers.%s", w->name);
		}
		w->pos = v->pos;
		what = w->name ? xasprintf("in watcher '%s'", w->name) : xasprintf("in %s", p);
		check_keys(L, v, keys, what);
		if (!ymap_get(v, "name"))
			missing(L, v, p, "name", NULL);
		if (get_str(L, v, "workflow", p, &w->workflow_name) > 0) {
			long wi = name_ix_find(&wfs, w->workflow_name);
			if (wi >= 0) {
				w->workflow = &cfg->workflows[wi];
			} else {
				struct suggest s = {NULL, SIZE_MAX};
				name_ix_suggest(&wfs, w->workflow_name, &s);
				cfg_err(L, ymap_get(v, "workflow"),
				        "%s.workflow: unknown workflow '%.64s'%s", p,
				        w->workflow_name, suggest_text(&s, sb, sizeof(sb)));
			}
		} else if (!ymap_get(v, "workflow")) {
			missing(L, v, p, "workflow", NULL);
		}
		if (get_str(L, v, "step", p, &w->step) > 0) {
			if (w->workflow && w->workflow->n_steps) {
				w->step_index = config_step_index(w->workflow, w->step);
				if (w->step_index < 0) {
					struct suggest s = {NULL, SIZE_MAX};
					for (size_t j = 0; j < w->workflow->n_steps && j < 10000;
					     j++)
						suggest_try(&s, w->step,
						            w->workflow->steps[j].name);
					cfg_err(L, ymap_get(v, "step"),
					        "%s.step: '%.64s' is not a step of workflow '%s'%s",
					        p, w->step, w->workflow->name,
					        suggest_text(&s, sb, sizeof(sb)));
				}
			}
		} else if (!ymap_get(v, "step")) {
			missing(L, v, p, "step", NULL);
		}
		get_dur(L, v, "every", p, &w->every_ms, true);
		if (get_str(L, v, "detect", p, &w->detect) > 0)
			w->detect_pos = ymap_get(v, "detect")->pos;
		else if (!ymap_get(v, "detect"))
			missing(L, v, p, "detect",
			        " (a SELECT returning instance_id, user_id, "
			        "occurred_at, error)");
		if (get_str(L, v, "resolve", p, &w->resolve) > 0)
			w->resolve_pos = ymap_get(v, "resolve")->pos;
		free(what);
		free(p);
	}
	name_ix_build(&names, cfg->n_watchers, get_watcher_name, cfg->watchers);
	for (size_t i = 1; i < names.n; i++)
		if (!strcmp(names.ents[i].name, names.ents[i - 1].name))
			cfg_err(L, n->kids[names.ents[i].i],
			        "watchers[%zu]: duplicate watcher name '%s'", names.ents[i].i,
			        names.ents[i].name);
	name_ix_release(&names);
	name_ix_release(&wfs);
}

/* ------------------------------------------------------------------------------------ */
/* receivers and levels */

/* A "whsec_" secret must be base64 (Standard Webhooks); any other value is raw key bytes. */
static void check_webhook_secret(struct loader *L, const struct ynode *at, const char *p,
                                 const char *secret)
{
	struct strbuf key = STRBUF_INIT;

	if (!strncmp(secret, "whsec_", 6) &&
	    (base64_decode(secret + 6, strlen(secret + 6), &key) || key.len == 0))
		cfg_err(L, at,
		        "%s.secret_env: the secret starts with 'whsec_' but what follows is not "
		        "base64",
		        p);
	memset(key.buf, 0, key.len);
	strbuf_release(&key);
}

/* The host of an smtp:// URL is a loopback address (127.0.0.0/8, ::1, localhost). */
static bool smtp_url_loopback(const char *url)
{
	const char *h = strstr(url, "://"), *at, *end;
	char host[64];
	size_t n;

	if (!h)
		return false;
	h += 3;
	end = h + strcspn(h, "/?#");
	at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return false;
		h++;
	} else {
		end = h + strcspn(h, ":/?#");
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	/* 127.0.0.0/8, as a dotted-quad literal only ("127.0.0.1.example.com" is a name) */
	{
		struct in_addr a;
		return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
	}
}

/* starttls: true (the default) requires TLS on smtp://; false is for a loopback relay. */
static void parse_starttls(struct loader *L, const struct ynode *kn, const char *p,
                           struct sw_receiver *r)
{
	const struct ynode *v = ymap_get(kn, "starttls");
	char b[64];

	if (!v)
		return;
	if (v->type == YN_SCALAR && !strcmp(v->text, "true")) {
		r->smtp_plain = false;
	} else if (v->type == YN_SCALAR && !strcmp(v->text, "false")) {
		if (r->smtp_url && strncmp(r->smtp_url, "smtp://", 7) == 0 &&
		    !smtp_url_loopback(r->smtp_url))
			cfg_err(L, v,
			        "%s.starttls: false is allowed only for an SMTP server on a "
			        "loopback address (127.0.0.1, ::1, localhost); mail to another "
			        "host must use STARTTLS or smtps://",
			        p);
		else
			r->smtp_plain = true;
	} else {
		cfg_err(L, v, "%s.starttls: expected true or false, got %s", p,
		        cfg_what(v, b, sizeof(b)));
	}
}

static void parse_receiver_kind(struct loader *L, const struct ynode *kn, const char *p,
                                struct sw_receiver *r)
{
	static const char *const url_keys[] = {"url", "url_env", NULL};
	static const char *const hook_keys[] = {"url", "url_env", "secret_env", NULL};
	static const char *const pd_keys[] = {"routing_key_env", "url", "url_env", NULL};
	static const char *const mail_keys[] = {"to",   "smtp_url", "smtp_url_env",
	                                        "from", "starttls", NULL};
	char *what = xasprintf("in %s", p);

	if (!want_map(L, kn, p, "a mapping"))
		goto out;
	switch (r->kind) {
	case SW_RECV_WEBHOOK:
	case SW_RECV_SLACK:
		check_keys(L, kn, r->kind == SW_RECV_WEBHOOK ? hook_keys : url_keys, what);
		if (!get_url_or_env(L, kn, "url", p, http_schemes, "an http(s) URL", &r->url,
		                    &r->url_env))
			missing(L, kn, p, "url", " (or url_env)");
		if (r->kind == SW_RECV_WEBHOOK &&
		    get_env(L, kn, "secret_env", p, &r->secret_env, &r->secret) > 0)
			check_webhook_secret(L, ymap_get(kn, "secret_env"), p, r->secret);
		break;
	case SW_RECV_PAGERDUTY:
		check_keys(L, kn, pd_keys, what);
		if (!get_env(L, kn, "routing_key_env", p, &r->routing_key_env, &r->routing_key))
			missing(L, kn, p, "routing_key_env", NULL);
		if (get_url_or_env(L, kn, "url", p, http_schemes, "an http(s) URL", &r->url,
		                   NULL) == 0)
			r->url = xstrdup(DEFAULT_PD_URL);
		break;
	case SW_RECV_EMAIL:
		check_keys(L, kn, mail_keys, what);
		if (!get_strlist(L, kn, "to", p, "address", true, &r->to, &r->n_to))
			missing(L, kn, p, "to", NULL);
		if (!get_url_or_env(L, kn, "smtp_url", p, smtp_schemes,
		                    "an smtp:// or smtps:// URL", &r->smtp_url, NULL))
			missing(L, kn, p, "smtp_url", NULL);
		if (get_str(L, kn, "from", p, &r->from) <= 0 && !r->from)
			r->from = xstrdup(DEFAULT_FROM);
		parse_starttls(L, kn, p, r);
		break;
	}
out:
	free(what);
}

static void parse_receivers(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"webhook", "slack",  "pagerduty",
	                                   "email",   "roster", NULL};
	static const char *const kinds[] = {"webhook", "slack", "pagerduty", "email"};
	struct sw_config *cfg = L->cfg;
	struct name_ix rosters;

	if (!want_map(L, n, "receivers", "a mapping of receiver names to receivers"))
		return;
	name_ix_build(&rosters, cfg->n_rosters, get_roster_name, cfg->rosters);
	cfg->receivers = xcalloc(ynode_n_pairs(n) + 1, sizeof(*cfg->receivers));
	for (size_t i = 0; i < ynode_n_pairs(n) && !L->stopped; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1], *kn = NULL;
		struct sw_receiver *r;
		char *p, *what;
		int kind = -1;

		if (!cfg_visit(L, k) || !check_name_key(L, k, "receivers"))
			continue;
		r = &cfg->receivers[cfg->n_receivers++];
		r->name = xstrdup(k->text);
		r->pos = k->pos;
		p = xasprintf("receivers.%s", r->name);
		what = xasprintf("in receiver '%s'", r->name);
		if (!want_map(L, v, p, "a mapping with one of webhook, slack, pagerduty, email"))
			goto next;
		check_keys(L, v, keys, what);
		for (int j = 0; j < (int)ARRAY_SIZE(kinds); j++) {
			const struct ynode *x = ymap_get(v, kinds[j]);
			if (!x)
				continue;
			if (kind >= 0) {
				cfg_err(
				    L, ymap_key(v, kinds[j]),
				    "%s: both '%s' and '%s' given; a receiver has exactly one kind",
				    p, kinds[kind], kinds[j]);
				continue;
			}
			kind = j;
			kn = x;
		}
		if (kind < 0) {
			cfg_err(L, v,
			        "%s: expected one of 'webhook', 'slack', 'pagerduty' or 'email'",
			        p);
		} else {
			char *kp = subpath(p, kinds[kind]);
			r->kind = (enum sw_receiver_kind)kind;
			parse_receiver_kind(L, kn, kp, r);
			free(kp);
		}
		if (get_str(L, v, "roster", p, &r->roster_name) > 0) {
			long ri = name_ix_find(&rosters, r->roster_name);
			if (ri >= 0) {
				r->roster = &cfg->rosters[ri];
			} else {
				struct suggest s = {NULL, SIZE_MAX};
				char sb[96];
				name_ix_suggest(&rosters, r->roster_name, &s);
				cfg_err(L, ymap_get(v, "roster"),
				        "%s.roster: unknown roster '%.64s'%s", p, r->roster_name,
				        suggest_text(&s, sb, sizeof(sb)));
			}
		}
	next:
		free(what);
		free(p);
	}
	name_ix_release(&rosters);
}

static void parse_levels(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"P2", "P1", "P0", NULL};
	static const char *const lkeys[] = {"notify", NULL};
	struct sw_config *cfg = L->cfg;
	struct name_ix recv;

	if (!want_map(L, n, "levels", "a mapping with P2, P1 and P0"))
		return;
	check_keys(L, n, keys, "in 'levels'");
	name_ix_build(&recv, cfg->n_receivers, get_receiver_name, cfg->receivers);
	for (int i = 0; i < 3 && !L->stopped; i++) {
		const struct ynode *v = ymap_get(n, keys[i]), *nl;
		struct sw_level *lv = &cfg->levels[i];
		char *p, *what;

		if (!v)
			continue;
		p = xasprintf("levels.%s", keys[i]);
		what = xasprintf("in level '%s'", keys[i]);
		if (want_map(L, v, p, "a mapping with notify")) {
			check_keys(L, v, lkeys, what);
			if (!get_strlist(L, v, "notify", p, "receiver", false, &lv->notify,
			                 &lv->n_notify))
				missing(L, v, p, "notify", NULL);
			nl = ymap_get(v, "notify");
			for (size_t j = 0; j < lv->n_notify && !L->stopped; j++) {
				if (name_ix_find(&recv, lv->notify[j]) >= 0)
					continue;
				struct suggest s = {NULL, SIZE_MAX};
				char sb[96];
				name_ix_suggest(&recv, lv->notify[j], &s);
				cfg_err(L, nl->kids[j], "%s.notify: unknown receiver '%.64s'%s", p,
				        lv->notify[j], suggest_text(&s, sb, sizeof(sb)));
			}
		}
		free(what);
		free(p);
	}
	name_ix_release(&recv);
}

static void parse_notify(struct loader *L, const struct ynode *n)
{
	static const char *const keys[] = {"group_wait", "group_interval", "repeat_interval", NULL};
	struct sw_notify *nt = &L->cfg->notify;

	if (!want_map(L, n, "notify", "a mapping"))
		return;
	check_keys(L, n, keys, "in 'notify'");
	get_dur(L, n, "group_wait", "notify", &nt->group_wait_ms, false);
	get_dur(L, n, "group_interval", "notify", &nt->group_interval_ms, true);
	get_dur(L, n, "repeat_interval", "notify", &nt->repeat_interval_ms, true);
}

/* ------------------------------------------------------------------------------------ */
/* load */

static void parse_root(struct loader *L, const struct ynode *root)
{
	static const char *const keys[] = {"store",     "broker",   "http",   "sources",
	                                   "workflows", "watchers", "levels", "receivers",
	                                   "notify",    "rosters",  NULL};
	struct sw_config *cfg = L->cfg;
	const struct ynode *v;
	char b[64];

	if (!root) {
		cfg_err(L, NULL,
		        "the file is empty (expected a mapping with at least 'workflows')");
		return;
	}
	if (root->type != YN_MAP || root->is_null) {
		cfg_err(L, root, "expected a mapping at the top level, got %s",
		        cfg_what(root, b, sizeof(b)));
		return;
	}
	check_keys(L, root, keys, "at the top level");
	if (get_str(L, root, "store", "", &cfg->store_url) > 0)
		check_db_url(L, ymap_get(root, "store"), "store", cfg->store_url, &cfg->store_kind);
	if (get_str(L, root, "broker", "", &cfg->broker_url) > 0 &&
	    (strncmp(cfg->broker_url, "redis://", 8) || !cfg->broker_url[8])) {
		char *shown = redact_url(cfg->broker_url);
		cfg_err(L, ymap_get(root, "broker"),
		        "broker: unsupported broker URL '%.80s' (use redis://host:port/db)", shown);
		free(shown);
	}
	if ((v = ymap_get(root, "http")))
		parse_http(L, v);
	if ((v = ymap_get(root, "sources")))
		parse_sources(L, v);
	if ((v = ymap_get(root, "rosters")))
		parse_rosters(L, v);
	parse_workflows(L, ymap_get(root, "workflows"));
	if ((v = ymap_get(root, "watchers")))
		parse_watchers(L, v);
	if ((v = ymap_get(root, "receivers")))
		parse_receivers(L, v);
	if ((v = ymap_get(root, "levels")))
		parse_levels(L, v);
	if ((v = ymap_get(root, "notify")))
		parse_notify(L, v);
}

static struct sw_config *config_new(const char *name)
{
	struct sw_config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(name);
	cfg->notify.group_wait_ms = 30 * MS_S;
	cfg->notify.group_interval_ms = 5 * MS_M;
	cfg->notify.repeat_interval_ms = 4 * MS_H;
	return cfg;
}

static void config_fill_defaults(struct sw_config *cfg)
{
	if (!cfg->store_url) {
		cfg->store_url = xstrdup(DEFAULT_STORE);
		cfg->store_kind = SW_DB_SQLITE;
	}
	if (!cfg->http.listen)
		cfg->http.listen = xstrdup(DEFAULT_LISTEN);
}

int config_load_buffer(const char *name, const char *buf, size_t len, struct sw_config **out,
                       struct strbuf *errs)
{
	struct loader L = {.name = name ? name : "<config>", .errs = errs};
	struct ytree tree;
	int rc = 0;

	*out = NULL;
	if (len > CONFIG_MAX_SIZE) {
		strbuf_addf(errs, "%s:1:1: file too large (%zu bytes; the limit is 4 MiB)\n",
		            L.name, len);
		return -1;
	}
	L.cfg = config_new(L.name);
	if (ytree_parse(&tree, buf, len, cfg_tree_error, &L) == 0 && !L.stopped)
		parse_root(&L, tree.root);
	ytree_release(&tree);
	cfg_flush_errors(&L);
	config_fill_defaults(L.cfg);
	if (L.n_errs) {
		config_free(L.cfg);
		rc = -1;
	} else {
		*out = L.cfg;
	}
	return rc;
}

int config_load(const char *path, struct sw_config **out, struct strbuf *errs)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int fd = -1, rc = -1;
	ssize_t n;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(errs, "%s:1:1: cannot open '%s': %s\n", path, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		strbuf_addf(errs, "%s:1:1: cannot read '%s': is a directory\n", path, path);
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > CONFIG_MAX_SIZE) {
		strbuf_addf(errs, "%s:1:1: file too large (%jd bytes; the limit is 4 MiB)\n", path,
		            (intmax_t)st.st_size);
		goto out;
	}
	for (;;) {
		strbuf_grow(&sb, 65536);
		n = read(fd, sb.buf + sb.len, sb.alloc - sb.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(errs, "%s:1:1: cannot read '%s': %s\n", path, path,
			            strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		sb.buf[sb.len] = '\0';
		if (sb.len > CONFIG_MAX_SIZE) {
			strbuf_addf(errs, "%s:1:1: file too large (more than 4 MiB)\n", path);
			goto out;
		}
	}
	rc = config_load_buffer(path, sb.buf, sb.len, out, errs);
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&sb);
	return rc;
}

void config_free(struct sw_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->store_url);
	free(cfg->broker_url);
	free(cfg->http.listen);
	for (size_t i = 0; i < cfg->http.n_tokens; i++) {
		free(cfg->http.tokens[i].name);
		free(cfg->http.tokens[i].token_env);
		free(cfg->http.tokens[i].token);
	}
	free(cfg->http.tokens);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		free(cfg->sources[i].name);
		free(cfg->sources[i].url);
	}
	free(cfg->sources);
	for (size_t i = 0; i < cfg->n_workflows; i++) {
		struct sw_workflow *wf = &cfg->workflows[i];
		free(wf->name);
		free(wf->source_name);
		free(wf->steps_query);
		for (size_t j = 0; j < wf->n_steps; j++) {
			free(wf->steps[j].name);
			policy_release(&wf->steps[j].policy);
		}
		free(wf->steps);
		free_strv(wf->segments, wf->n_segments);
	}
	free(cfg->workflows);
	for (size_t i = 0; i < cfg->n_watchers; i++) {
		struct sw_watcher *w = &cfg->watchers[i];
		free(w->name);
		free(w->workflow_name);
		free(w->step);
		free(w->detect);
		free(w->resolve);
	}
	free(cfg->watchers);
	for (size_t i = 0; i < 3; i++)
		free_strv(cfg->levels[i].notify, cfg->levels[i].n_notify);
	for (size_t i = 0; i < cfg->n_receivers; i++) {
		struct sw_receiver *r = &cfg->receivers[i];
		free(r->name);
		free(r->url);
		free(r->url_env);
		free(r->routing_key);
		free(r->routing_key_env);
		free_strv(r->to, r->n_to);
		free(r->from);
		free(r->smtp_url);
		free(r->roster_name);
		free(r->secret_env);
		if (r->secret)
			memset(r->secret, 0, strlen(r->secret));
		free(r->secret);
	}
	free(cfg->receivers);
	for (size_t i = 0; i < cfg->n_rosters; i++) {
		free(cfg->rosters[i].name);
		free_strv(cfg->rosters[i].members, cfg->rosters[i].n_members);
		for (size_t k = 0; k < cfg->rosters[i].n_overrides; k++)
			free(cfg->rosters[i].overrides[k].member);
		free(cfg->rosters[i].overrides);
	}
	free(cfg->rosters);
	free(cfg);
}

const struct sw_workflow *config_workflow(const struct sw_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->n_workflows; i++)
		if (!strcmp(cfg->workflows[i].name, name))
			return &cfg->workflows[i];
	return NULL;
}

const struct sw_source *config_source(const struct sw_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->n_sources; i++)
		if (!strcmp(cfg->sources[i].name, name))
			return &cfg->sources[i];
	return NULL;
}

int config_step_index(const struct sw_workflow *wf, const char *step)
{
	for (size_t i = 0; step && i < wf->n_steps; i++)
		if (!strcmp(wf->steps[i].name, step))
			return (int)i;
	return -1;
}
