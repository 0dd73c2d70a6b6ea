/*
 * apitest.c - shared by the API tests: requests through a real socket (libcurl) whose
 * answers are checked against the OpenAPI document's schema for their route, method and
 * status, by a JSON-schema subset validator (type, properties, required, items, enum,
 * nullable, oneOf, allOf, $ref, additionalProperties).
 */
#include "helpers.h"
#include "apitest.h"
#include "util/assets.h"
#include "cli/server.h"
#include "config/config.h"
#include <ctype.h>
#include <curl/curl.h>

static json_t *doc;

json_t *apitest_doc(void)
{
	if (!doc) {
		const struct sw_asset *a = asset_find("api/openapi.json");
		doc = a ? json_loadb((const char *)a->data, a->size, 0, NULL) : NULL;
		if (!doc)
			fail_msg("cannot read the OpenAPI document");
	}
	return doc;
}

void apitest_doc_free(void)
{
	json_decref(doc);
	doc = NULL;
}

/* ---- a JSON-schema subset validator ---------------------------------------------------- */

const json_t *apitest_resolve_ref(const json_t *s)
{
	const json_t *ref = json_object_get(s, "$ref");
	const char *p;
	const json_t *cur = apitest_doc();
	char key[128];
	if (!json_is_string(ref))
		return s;
	p = json_string_value(ref);
	if (strncmp(p, "#/", 2))
		fail_msg("unsupported $ref '%s'", p);
	p += 2;
	while (*p) {
		size_t n = strcspn(p, "/");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		cur = json_object_get(cur, key);
		if (!cur)
			fail_msg("dangling $ref '%s'", json_string_value(ref));
		p += n + (p[n] == '/');
	}
	return apitest_resolve_ref(cur);
}

static int check_type(const char *t, const json_t *v)
{
	if (!strcmp(t, "object"))
		return json_is_object(v);
	if (!strcmp(t, "array"))
		return json_is_array(v);
	if (!strcmp(t, "string"))
		return json_is_string(v);
	if (!strcmp(t, "integer"))
		return json_is_integer(v);
	if (!strcmp(t, "number"))
		return json_is_number(v);
	if (!strcmp(t, "boolean"))
		return json_is_boolean(v);
	fail_msg("unsupported type '%s'", t);
	return 0;
}

int apitest_check(const json_t *schema, const json_t *v, const char *path, struct strbuf *why)
{
	const json_t *s = apitest_resolve_ref(schema), *t, *x;
	size_t i;
	const char *k;
	if (json_is_null(v) && json_is_true(json_object_get(s, "nullable")))
		return 0;
	if ((x = json_object_get(s, "allOf"))) {
		json_t *sub;
		json_array_foreach(x, i, sub)
		{
			if (apitest_check(sub, v, path, why))
				return -1;
		}
	}
	if ((x = json_object_get(s, "oneOf"))) {
		json_t *sub;
		int ok = 0;
		struct strbuf tmp = STRBUF_INIT;
		json_array_foreach(x, i, sub) ok += !apitest_check(sub, v, path, &tmp);
		strbuf_release(&tmp);
		if (ok != 1)
			return strbuf_addf(why, "%s: matches %d of oneOf", path, ok), -1;
	}
	if ((t = json_object_get(s, "type")) && !check_type(json_string_value(t), v))
		return strbuf_addf(why, "%s: not a %s", path, json_string_value(t)), -1;
	if ((x = json_object_get(s, "enum"))) {
		json_t *e;
		int found = 0;
		json_array_foreach(x, i, e) found |= json_equal(e, v);
		if (!found)
			return strbuf_addf(why, "%s: not one of the enum", path), -1;
	}
	if (json_is_object(v)) {
		const json_t *props = json_object_get(s, "properties"),
		             *addl = json_object_get(s, "additionalProperties"), *req, *e;
		json_t *val;
		json_array_foreach((req = json_object_get(s, "required")), i, e)
		{
			if (!json_object_get(v, json_string_value(e)))
				return strbuf_addf(why, "%s: missing '%s'", path,
				                   json_string_value(e)),
				       -1;
		}
		json_object_foreach((json_t *)(uintptr_t)v, k, val)
		{
			char sub[256];
			const json_t *ps = props ? json_object_get(props, k) : NULL;
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			if (ps) {
				if (apitest_check(ps, val, sub, why))
					return -1;
			} else if (json_is_false(addl)) {
				return strbuf_addf(why, "%s: not allowed", sub), -1;
			} else if (json_is_object(addl) && apitest_check(addl, val, sub, why)) {
				return -1;
			}
		}
	}
	if (json_is_array(v) && (x = json_object_get(s, "items"))) {
		json_t *e;
		json_array_foreach(v, i, e)
		{
			char sub[256];
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (apitest_check(x, e, sub, why))
				return -1;
		}
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	strbuf_add(&((struct apitest_res *)ud)->body, p, size * n);
	return size * n;
}

void apitest_res_release(struct apitest_res *r)
{
	strbuf_release(&r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request to the route pattern (for the schema lookup) at path; the answer must be
 * JSON valid against the document's schema for (pattern, method, status).
 */
long apitest_call(int port, const char *method, const char *pattern, const char *path,
                  const char *token, const char *body, struct apitest_res *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[2048], auth[256], lm[16], st[8];
	const json_t *resp, *schema;
	struct strbuf why = STRBUF_INIT;
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r->json = json_loadb(r->body.buf, r->body.len, 0, NULL);
	if (!r->json)
		fail_msg("%s %s: %ld, not JSON: %s", method, path, r->status, r->body.buf);
	for (size_t i = 0; method[i] && i < sizeof(lm) - 1; i++)
		lm[i] = (char)tolower((unsigned char)method[i]), lm[i + 1] = '\0';
	snprintf(st, sizeof(st), "%ld", r->status);
	resp = json_object_get(
	    json_object_get(json_object_get(json_object_get(apitest_doc(), "paths"), pattern), lm),
	    "responses");
	if (!resp || !json_object_get(resp, st))
		fail_msg("%s %s: status %ld is not in the document", method, pattern, r->status);
	resp = apitest_resolve_ref(json_object_get(resp, st));
	schema = json_object_get(
	    json_object_get(json_object_get(resp, "content"), "application/json"), "schema");
	assert_non_null(schema);
	if (apitest_check(schema, r->json, "$", &why))
		fail_msg("%s %s (%ld): %s\n%s", method, path, r->status, why.buf, r->body.buf);
	strbuf_release(&why);
	return r->status;
}

/* ---- a node ---------------------------------------------------------------------------- */

static int start(void **state, const char *store_url, char *dir, const char *yaml)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT, y = STRBUF_INIT;
	struct sw_err err = {""};
	struct server_opts o = {0};
	f->dir = dir;
	f->store_url = xstrdup(store_url);
	setenv("SWT_ADMIN", ADMIN, 1);
	setenv("SWT_RESP", RESPONDER, 1);
	setenv("SWT_VIEW", VIEWER, 1);
	strbuf_addf(&y,
	            "store: \"%s\"\n"
	            "http:\n  listen: 127.0.0.1:0\n  tokens:\n"
	            "    - { name: alice, token_env: SWT_ADMIN, role: admin }\n"
	            "    - { name: rob, token_env: SWT_RESP, role: responder }\n"
	            "    - { name: vic, token_env: SWT_VIEW, role: viewer }\n"
	            "%s",
	            store_url, yaml);
	if (config_load_buffer("test.yaml", y.buf, y.len, &cfg, &errs) < 0)
		fail_msg("config: %s", errs.buf);
	o.threads = 2;
	if (server_start(cfg, &o, &f->srv, &err) < 0)
		fail_msg("server_start: %s", err.msg);
	f->port = server_http_port(f->srv);
	assert_true(f->port > 0);
	strbuf_release(&errs);
	strbuf_release(&y);
	*state = f;
	return 0;
}

int apitest_setup_sqlite(void **state, const char *yaml)
{
	char *dir = test_tmpdir(), *url = xasprintf("sqlite://%s/store.db", dir);
	int rc = start(state, url, dir, yaml);
	free(url);
	return rc;
}

int apitest_setup_pg(void **state, const char *yaml)
{
	char *url = test_pg_create_db("swapi");
	int rc;
	if (!url) {
		if (getenv("CI"))
			fail_msg("STEPWATCH_TEST_PG is not set (CI requires PostgreSQL)");
		*state = NULL;
		return 0;
	}
	rc = start(state, url, NULL, yaml);
	free(url);
	return rc;
}

int apitest_teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	server_stop(f->srv, 5000);
	if (f->dir) {
		test_rmtree(f->dir);
		free(f->dir);
	}
	free(f->store_url);
	free(f);
	return 0;
}
