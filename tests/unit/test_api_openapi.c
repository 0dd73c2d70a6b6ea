/*
 * test_api_openapi.c - src/api/openapi.json and the route table agree: every route is a
 * path and operation in the document, every operation of the document is a route, and
 * each route's allowed query parameters are exactly the document's query parameters.
 */
#include "helpers.h"
#include "util/assets.h"
#include "util/strbuf.h"
#include "api/router.h"
#include <jansson.h>
#include <ctype.h>

static json_t *load_doc(void)
{
	const struct sw_asset *a = asset_find("api/openapi.json");
	json_error_t je;
	json_t *doc;
	assert_non_null(a);
	doc = json_loadb((const char *)a->data, a->size, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		fail_msg("openapi.json: %d: %s", je.line, je.text);
	return doc;
}

static void lower(const char *in, char *out, size_t n)
{
	size_t i;
	for (i = 0; in[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* Resolve a {"$ref": "#/components/parameters/x"}. */
static json_t *deref(json_t *doc, json_t *p)
{
	const char *ref = json_string_value(json_object_get(p, "$ref"));
	const char *pre = "#/components/parameters/";
	if (!ref)
		return p;
	assert_true(!strncmp(ref, pre, strlen(pre)));
	p = json_object_get(json_object_get(json_object_get(doc, "components"), "parameters"),
	                    ref + strlen(pre));
	assert_non_null(p);
	return p;
}

static bool in_words(const char *list, const char *w)
{
	size_t wl = strlen(w);
	for (const char *p = list ? list : ""; *p;) {
		size_t l = strcspn(p, " ");
		if (l == wl && !memcmp(p, w, l))
			return true;
		p += l;
		while (*p == ' ')
			p++;
	}
	return false;
}

static void test_routes_in_document(void **state)
{
	json_t *doc = load_doc(), *paths = json_object_get(doc, "paths");
	(void)state;
	assert_non_null(paths);
	for (size_t i = 0; i < api_n_routes; i++) {
		const struct api_route *r = &api_routes[i];
		char m[16];
		json_t *op, *params, *p;
		size_t k, nq = 0, nallowed = 0;
		lower(r->method, m, sizeof(m));
		op = json_object_get(json_object_get(paths, r->pattern), m);
		if (!op)
			fail_msg("route %s %s is not in openapi.json", r->method, r->pattern);
		/* public routes say so; others inherit the bearer requirement */
		if (r->access == API_PUBLIC) {
			json_t *sec = json_object_get(op, "security");
			if (!json_is_array(sec) || json_array_size(sec) != 0)
				fail_msg("%s %s is public but the document requires a token",
				         r->method, r->pattern);
		} else if (json_object_get(op, "security")) {
			fail_msg("%s %s overrides security", r->method, r->pattern);
		}
		params = json_object_get(op, "parameters");
		json_array_foreach(params, k, p)
		{
			json_t *d = deref(doc, p);
			const char *in = json_string_value(json_object_get(d, "in"));
			const char *name = json_string_value(json_object_get(d, "name"));
			if (strcmp(in, "query"))
				continue;
			nq++;
			if (!in_words(r->query, name))
				fail_msg("%s %s: the document has query parameter '%s', the route "
				         "does not",
				         r->method, r->pattern, name);
		}
		for (const char *p2 = r->query ? r->query : ""; *p2;) {
			size_t l = strcspn(p2, " ");
			if (l)
				nallowed++;
			p2 += l;
			while (*p2 == ' ')
				p2++;
		}
		if (nq != nallowed)
			fail_msg("%s %s: route allows %zu query parameters, the document lists %zu",
			         r->method, r->pattern, nallowed, nq);
		/* body routes document their body */
		if ((r->flags & API_R_BODY) && !json_object_get(op, "requestBody"))
			fail_msg("%s %s takes a body but documents none", r->method, r->pattern);
	}
	json_decref(doc);
}

static void test_document_in_routes(void **state)
{
	json_t *doc = load_doc(), *paths = json_object_get(doc, "paths"), *item;
	const char *path;
	size_t ops = 0;
	(void)state;
	json_object_foreach(paths, path, item)
	{
		const char *method;
		json_t *op;
		json_object_foreach(item, method, op)
		{
			size_t i;
			char m[16];
			for (i = 0; i < api_n_routes; i++) {
				lower(api_routes[i].method, m, sizeof(m));
				if (!strcmp(api_routes[i].pattern, path) && !strcmp(m, method))
					break;
			}
			if (i == api_n_routes)
				fail_msg("openapi.json has %s %s, the router does not", method,
				         path);
			ops++;
		}
	}
	assert_int_equal(ops, api_n_routes);
	json_decref(doc);
}

/* Every $ref in the document points at something that exists. */
static void check_refs(json_t *doc, json_t *v)
{
	const char *k;
	json_t *c;
	size_t i;
	if (json_is_object(v)) {
		json_t *ref = json_object_get(v, "$ref");
		if (ref) {
			char path[256];
			json_t *t = doc;
			const char *s = json_string_value(ref);
			assert_true(s && !strncmp(s, "#/", 2));
			snprintf(path, sizeof(path), "%s", s + 2);
			for (char *seg = path, *e; seg; seg = e) {
				e = strchr(seg, '/');
				if (e)
					*e++ = '\0';
				t = json_object_get(t, seg);
				if (!t)
					fail_msg("dangling $ref '%s'", s);
			}
		}
		json_object_foreach(v, k, c) check_refs(doc, c);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) check_refs(doc, c);
	}
}

static void test_refs_resolve(void **state)
{
	json_t *doc = load_doc();
	(void)state;
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	assert_non_null(json_object_get(
	    json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearer"));
	check_refs(doc, doc);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes_in_document),
	    cmocka_unit_test(test_document_in_routes),
	    cmocka_unit_test(test_refs_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
