/*
 * client.c - the HTTP client behind `stepwatch alerts` and `stepwatch incidents`.
 *
 * DESIGN: one libcurl easy handle per process (the commands make one to a few hundred
 * requests, sequentially, reusing the connection). Every answer is read whole, capped at
 * CLIENT_MAX_BODY, and parsed with jansson. A non-2xx answer becomes one line naming the
 * status and the API's own error message, so a person or a script sees why. Everything
 * printed for people goes through the table, which replaces control characters: alert text
 * comes from application databases and must not drive the terminal.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "util/redact.h"
#include <curl/curl.h>
#include <errno.h>
#include <strings.h>

void client_die_msg(const char *prog, const char *msg)
{
	fprintf(stderr, "stepwatch %s: %s\n", prog, msg);
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int client_open(struct client *c, const char *base_url, long timeout_s, struct sw_err *err)
{
	const char *tok = getenv("STEPWATCH_TOKEN");
	size_t len;
	memset(c, 0, sizeof(*c));
	if (!base_url || !*base_url)
		base_url = getenv("STEPWATCH_URL");
	if (!base_url || !*base_url)
		base_url = CLIENT_DEFAULT_URL;
	if ((strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)) ||
	    has_ctl(base_url) || strchr(base_url, ' ') || strchr(base_url, '?') ||
	    strchr(base_url, '#')) {
		char *shown = sw_redact_url(base_url);
		sw_err_set(err, "invalid API URL '%s': want http://HOST[:PORT]", shown);
		free(shown);
		return -1;
	}
	if (tok && has_ctl(tok))
		return sw_err_set(err, "STEPWATCH_TOKEN holds a control character");
	c->base = xstrdup(base_url);
	len = strlen(c->base);
	while (len > 0 && c->base[len - 1] == '/')
		c->base[--len] = '\0';
	c->token = tok && *tok ? xasprintf("Authorization: Bearer %s", tok) : NULL;
	c->timeout_ms = (timeout_s > 0 ? timeout_s : CLIENT_DEFAULT_TIMEOUT) * 1000L;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->curl = curl_easy_init())) {
		client_close(c);
		return sw_err_set(err, "cannot initialise libcurl");
	}
	return 0;
}

void client_close(struct client *c)
{
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	free(c->base);
	free(c->token);
	memset(c, 0, sizeof(*c));
}

struct sink {
	struct strbuf *sb;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;
	if (s->sb->len + n > CLIENT_MAX_BODY) {
		s->too_big = true;
		return 0;
	}
	strbuf_add(s->sb, ptr, n);
	return n;
}

static const char *status_text(long status)
{
	switch (status) {
	case 400: return "bad request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not found";
	case 405: return "method not allowed";
	case 409: return "conflict";
	case 413: return "payload too large";
	case 422: return "unprocessable";
	case 500: return "internal server error";
	case 502: return "bad gateway";
	case 503: return "unavailable";
	case 504: return "gateway timeout";
	default: return status >= 500 ? "server error" : "error";
	}
}

static int transport_error(struct client *c, CURLcode cc, const char *url, const char *detail,
                           struct sw_err *err)
{
	const char *why = *detail ? detail : curl_easy_strerror(cc);
	/* STEPWATCH_URL may hold a user and password: never print them */
	char *base = sw_redact_url(c->base), *shown = sw_redact_url(url);
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		sw_err_set(err, "cannot connect to '%s': %s", base, why);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		sw_err_set(err, "no answer from '%s' within %lds: %s", shown, c->timeout_ms / 1000,
		           why);
		break;
	default: sw_err_set(err, "request to '%s' failed: %s", shown, why);
	}
	free(base);
	free(shown);
	return CLIENT_ECONN;
}

int client_request(struct client *c, const char *method, const char *path, json_t *body,
                   long *status, json_t **out, struct strbuf *raw, struct sw_err *err)
{
	struct strbuf resp = STRBUF_INIT;
	struct sink sink = {&resp, false};
	struct curl_slist *hdrs = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	char *url = xasprintf("%s%s", c->base, path), *send = NULL;
	json_t *doc = NULL;
	json_error_t jerr;
	CURLcode cc;
	int rc = 0;
	CURL *h = c->curl;

	*status = 0;
	*out = NULL;
	curl_easy_reset(h);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (c->token)
		hdrs = curl_slist_append(hdrs, c->token);
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "stepwatch/" SW_VERSION);
	if (!strcmp(method, "POST")) {
		send = body ? json_dumps(body, JSON_COMPACT) : xstrdup("{}");
		if (!send)
			BUG("json_dumps failed");
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, send);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(send));
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(h);
	if (sink.too_big) {
		sw_err_set(err, "answer from '%s' is over %u MiB", url, CLIENT_MAX_BODY >> 20);
		rc = CLIENT_ECONN;
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = transport_error(c, cc, url, ebuf, err);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	doc = json_loadb(resp.buf, resp.len, JSON_REJECT_DUPLICATES, &jerr);
	if (*status < 200 || *status > 299) {
		json_t *e = json_object_get(json_object_get(doc, "error"), "message");
		if (json_is_string(e))
			sw_err_set(err, "HTTP %ld %s: %s", *status, status_text(*status),
			           json_string_value(e));
		else
			sw_err_set(err, "HTTP %ld %s from '%s'", *status, status_text(*status),
			           url);
		rc = CLIENT_EHTTP;
		goto out;
	}
	if (!doc) {
		sw_err_set(err, "answer from '%s' is not JSON: %s", url, jerr.text);
		rc = CLIENT_EHTTP;
		goto out;
	}
	*out = doc;
	doc = NULL;
	if (raw)
		strbuf_add(raw, resp.buf, resp.len);
out:
	if (rc && err) /* STEPWATCH_URL may hold a password: never print it */
		sw_scrub_secrets(c->base, err->msg, sizeof(err->msg));
	json_decref(doc);
	curl_slist_free_all(hdrs);
	/* the handle keeps pointers to these until the next reset */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	free(send);
	free(url);
	strbuf_release(&resp);
	return rc;
}

int client_exit_code(long status)
{
	return status == 400 || status == 422 ? EXIT_USAGE : EXIT_RUNTIME;
}

void client_add_query(struct strbuf *path, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	strbuf_addch(path, strchr(path->buf, '?') ? '&' : '?');
	strbuf_addstr(path, key);
	strbuf_addch(path, '=');
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			strbuf_addch(path, *p);
		} else {
			strbuf_addch(path, '%');
			strbuf_addch(path, hex[*p >> 4]);
			strbuf_addch(path, hex[*p & 15]);
		}
	}
}

int client_parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;
	if (!s || *s < '1' || *s > '9')
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

void client_format_age(const char *rfc3339, int64_t now_ms, char *buf, size_t n)
{
	int64_t t, s;
	if (!rfc3339 || time_parse(rfc3339, &t) < 0) {
		snprintf(buf, n, "-");
		return;
	}
	s = (now_ms - t) / 1000;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, n, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, n, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, n, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, n, "%lldd", (long long)(s / 86400));
}

int client_parse_opts(int argc, char **argv, int first, const struct client_opt *opts, size_t nopts,
                      const char **pos, size_t max_pos, size_t *npos, const char *prog,
                      const char *usage)
{
	bool dashdash = false;
	*npos = 0;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *eq;
		const struct client_opt *o = NULL;
		size_t nlen;
		if (!dashdash && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			fputs(usage, stdout);
			return 1;
		}
		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (dashdash || a[0] != '-' || !a[1]) {
			if (*npos >= max_pos) {
				fprintf(stderr, "stepwatch %s: unexpected argument '%s'\n%s", prog,
				        a, usage);
				return 2;
			}
			pos[(*npos)++] = a;
			continue;
		}
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		if (a[1] == '-')
			for (size_t k = 0; k < nopts; k++)
				if (strlen(opts[k].name) == nlen - 2 &&
				    !strncmp(a + 2, opts[k].name, nlen - 2))
					o = &opts[k];
		if (!o) {
			fprintf(stderr, "stepwatch %s: unknown option '%.*s'\n%s", prog, (int)nlen,
			        a, usage);
			return 2;
		}
		if (o->flag) {
			if (eq) {
				fprintf(stderr, "stepwatch %s: option '--%s' takes no value\n%s",
				        prog, o->name, usage);
				return 2;
			}
			*o->flag = true;
		} else if (eq) {
			*o->str = eq + 1;
		} else if (i + 1 < argc) {
			*o->str = argv[++i];
		} else {
			fprintf(stderr, "stepwatch %s: option '--%s' needs a value\n%s", prog,
			        o->name, usage);
			return 2;
		}
	}
	return 0;
}

/* A copy of s fit for a table cell: control characters (and invalid UTF-8 lead bytes) as
 * '?', cut at max_width code points with "...". */
static char *cell_clean(const char *s, size_t max_width)
{
	struct strbuf sb = STRBUF_INIT;
	size_t width = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t len = 1;
		if (*p >= 0xc0 && *p < 0xf8) {
			len = *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
			for (size_t k = 1; k < len; k++)
				if ((p[k] & 0xc0) != 0x80) {
					len = 0;
					break;
				}
		} else if (*p >= 0x80) {
			len = 0; /* a stray continuation byte */
		}
		if (width + 1 > max_width && max_width >= 3) {
			/* cut: replace the last three cells by "..." */
			struct strbuf cut = STRBUF_INIT;
			size_t w = 0;
			const unsigned char *q = (const unsigned char *)sb.buf;
			while (*q && w < max_width - 3) {
				size_t l = 1;
				while (q[l] && (q[l] & 0xc0) == 0x80)
					l++;
				strbuf_add(&cut, q, l);
				q += l;
				w++;
			}
			strbuf_addstr(&cut, "...");
			strbuf_release(&sb);
			return strbuf_detach(&cut, NULL);
		}
		if (len == 0) {
			strbuf_addch(&sb, '?');
			p++;
		} else if (len == 1) {
			strbuf_addch(&sb, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
			p++;
		} else {
			strbuf_add(&sb, p, len);
			p += len;
		}
		width++;
	}
	return strbuf_detach(&sb, NULL);
}

static size_t cell_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

void client_table_init(struct client_table *t, size_t ncols, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	client_table_add(t, headers);
}

void client_table_add(struct client_table *t, const char *const *row)
{
	ALLOC_GROW(t->cells, t->n + t->ncols, t->alloc);
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->n++] = xstrdup(row[i] ? row[i] : "-");
}

void client_table_print(const struct client_table *t, FILE *f, size_t max_width)
{
	size_t rows = t->ncols ? t->n / t->ncols : 0;
	size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof(*w));
	char **clean = xcalloc(t->n ? t->n : 1, sizeof(*clean));
	for (size_t i = 0; i < t->n; i++) {
		size_t cw;
		clean[i] = cell_clean(t->cells[i], max_width);
		cw = cell_width(clean[i]);
		if (cw > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t col = 0; col < t->ncols; col++) {
			const char *s = clean[r * t->ncols + col];
			bool last = col + 1 == t->ncols;
			fputs(s, f);
			if (!last)
				for (size_t k = cell_width(s); k < w[col] + 2; k++)
					fputc(' ', f);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < t->n; i++)
		free(clean[i]);
	free(clean);
	free(w);
}

void client_table_release(struct client_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

const char *client_json_str(json_t *obj, const char *key, const char *dflt, char *buf, size_t n)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	return dflt;
}

int client_list(struct client *c, const char *prog, const struct strbuf *path, const char *cursor,
                bool all, bool json, void (*print_rows)(json_t *items, int64_t now_ms))
{
	struct strbuf raw = STRBUF_INIT, page = STRBUF_INIT;
	struct sw_err err = {""};
	json_t *items = json_array(), *doc = NULL;
	int rc = EXIT_OK;
	long status;
	strbuf_addstr(&page, path->buf);
	if (cursor)
		client_add_query(&page, "cursor", cursor);
	for (;;) {
		json_t *got, *next;
		strbuf_reset(&raw);
		if (client_request(c, "GET", page.buf, NULL, &status, &doc, &raw, &err) < 0) {
			client_die_msg(prog, err.msg);
			rc = status ? client_exit_code(status) : EXIT_RUNTIME;
			goto out;
		}
		got = json_object_get(doc, "items");
		next = json_object_get(doc, "next_cursor");
		if (!json_is_array(got) || !(json_is_string(next) || json_is_null(next))) {
			client_die_msg(prog, "answer is not a list: no 'items' or 'next_cursor'");
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (json && !all) {
			fwrite(raw.buf, 1, raw.len, stdout);
			if (!raw.len || raw.buf[raw.len - 1] != '\n')
				fputc('\n', stdout);
			goto out;
		}
		json_array_extend(items, got);
		if (!all || !json_is_string(next))
			break;
		strbuf_reset(&page);
		strbuf_addstr(&page, path->buf);
		client_add_query(&page, "cursor", json_string_value(next));
		json_decref(doc);
		doc = NULL;
	}
	if (json) {
		json_t *o = json_pack("{s:O,s:n}", "items", items, "next_cursor");
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		print_rows(items, time_now_ms());
	}
out:
	json_decref(doc);
	json_decref(items);
	strbuf_release(&raw);
	strbuf_release(&page);
	return rc;
}

int client_change(struct client *c, const char *prog, const char *noun, const char *one,
                  const char *verb, int64_t id, const char *by, const char *note, bool json)
{
	struct strbuf path = STRBUF_INIT, raw = STRBUF_INIT;
	struct sw_err err = {""};
	json_t *body = json_object(), *doc = NULL;
	char nb[32];
	long status;
	int rc = EXIT_OK;
	if (by)
		json_object_set_new(body, "by", json_string(by));
	if (note)
		json_object_set_new(body, "note", json_string(note));
	strbuf_addf(&path, "/api/v1/%s/%lld/%s", noun, (long long)id, verb);
	if (client_request(c, "POST", path.buf, body, &status, &doc, &raw, &err) < 0) {
		client_die_msg(prog, err.msg);
		rc = status ? client_exit_code(status) : EXIT_RUNTIME;
		goto out;
	}
	if (json) {
		fwrite(raw.buf, 1, raw.len, stdout);
		if (!raw.len || raw.buf[raw.len - 1] != '\n')
			fputc('\n', stdout);
	} else {
		const char *state = client_json_str(doc, "state", "-", nb, sizeof(nb));
		char *clean = cell_clean(state, 40);
		printf("%s %s %lld, now %s\n", !strcmp(verb, "ack") ? "acked" : "resolved", one,
		       (long long)id, clean);
		free(clean);
	}
out:
	json_decref(body);
	json_decref(doc);
	strbuf_release(&path);
	strbuf_release(&raw);
	return rc;
}

int client_subcommand(const char *prog, int argc, char **argv, const char *usage, const char **sub,
                      bool *is_list, bool *is_change)
{
	const char *s;
	*sub = NULL;
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	s = argv[1];
	if (!strcmp(s, "-h") || !strcmp(s, "--help") || !strcmp(s, "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	*is_list = !strcmp(s, "list");
	*is_change = !strcmp(s, "ack") || !strcmp(s, "resolve");
	if (!*is_list && !*is_change && strcmp(s, "show")) {
		fprintf(stderr, "stepwatch %s: unknown subcommand '%s'\n%s", prog, s, usage);
		return EXIT_USAGE;
	}
	*sub = s;
	return 0;
}

int client_setup(const char *prog, const char *noun, const char *sub, const char *usage,
                 bool needs_id, size_t npos, const char *const *pos, const char *timeout,
                 const char *url, bool is_change, const char **by, int64_t *id, struct client *c)
{
	struct sw_err err = {""};
	int64_t tmo = 0;
	if (needs_id) {
		if (npos != 1) {
			fprintf(stderr, "stepwatch %s %s: missing %s id\n%s", prog, sub, noun,
			        usage);
			return EXIT_USAGE;
		}
		if (client_parse_id(pos[0], id) < 0) {
			fprintf(stderr,
			        "stepwatch %s %s: invalid %s id '%s': want a positive integer\n",
			        prog, sub, noun, pos[0]);
			return EXIT_USAGE;
		}
	}
	if (timeout && (client_parse_id(timeout, &tmo) < 0 || tmo > 86400)) {
		fprintf(stderr, "stepwatch %s: invalid timeout '%s': want 1..86400 seconds\n", prog,
		        timeout);
		return EXIT_USAGE;
	}
	if (is_change && !*by) {
		*by = getenv("USER");
		if (*by && !**by)
			*by = NULL;
	}
	if (client_open(c, url, (long)tmo, &err) < 0) {
		client_die_msg(prog, err.msg);
		return EXIT_USAGE;
	}
	return 0;
}
