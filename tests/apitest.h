/*
 * apitest.h - shared by the API tests (apitest.c).
 */
#ifndef SW_TEST_APITEST_H
#define SW_TEST_APITEST_H

#include "util/common.h"
#include "util/strbuf.h"
#include <jansson.h>

/* The embedded OpenAPI document (loaded once); apitest_doc_free at the end of main. */
json_t *apitest_doc(void);
void apitest_doc_free(void);
/* Follow a "$ref" (JSON pointer into the document) to the schema it names. */
const json_t *apitest_resolve_ref(const json_t *s);
/* 0 when v matches schema, else -1 with the reason appended to why (path-qualified). */
int apitest_check(const json_t *schema, const json_t *v, const char *path, struct strbuf *why);

struct apitest_res {
	long status;
	struct strbuf body;
	json_t *json;
};
void apitest_res_release(struct apitest_res *r);
/*
 * One request to 127.0.0.1:port at path (route pattern for the schema lookup), with a
 * bearer token and a JSON body when not NULL. The answer must be JSON valid against the
 * document's schema for (pattern, method, status); the test fails otherwise.
 */
long apitest_call(int port, const char *method, const char *pattern, const char *path,
                  const char *token, const char *body, struct apitest_res *r);

/* A whole stepwatch node (server_start) on 127.0.0.1:0, with three tokens. */
#define ADMIN     "adm-secret-123"
#define RESPONDER "resp-secret-456"
#define VIEWER    "view-secret-789"

struct server;
struct fx {
	struct server *srv;
	char *dir, *store_url;
	int port;
};

/*
 * cmocka setups: *state becomes a struct fx serving a config made of the store, the HTTP
 * listener with the tokens alice (admin), rob (responder) and vic (viewer), and the test's
 * own YAML (workflows: ... and anything after). With PostgreSQL unavailable outside CI,
 * *state is NULL and the test skips.
 */
int apitest_setup_sqlite(void **state, const char *yaml);
int apitest_setup_pg(void **state, const char *yaml);
int apitest_teardown(void **state);

#endif
