/*
 * test_api_parts.c - the API's pure parts without a socket: SHA-256 test vectors, token
 * checks, query-string parsing and cursors, route matching, the strict JSON decoder and
 * listen-address parsing.
 */
#include "helpers.h"
#include "util/sha256.h"
#include "util/siphash.h"
#include "api/auth.h"
#include "api/query.h"
#include "api/router.h"
#include "api/json.h"
#include "api/http.h"

static void hex(const unsigned char *h, char *out)
{
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* SipHash-2-4-128 reference vectors: key 00..0f, message 00..(len-1) */
static void test_siphash_vectors(void **state)
{
	static const struct {
		size_t len;
		const char *out;
	} v[] = {
	    {0, "a3817f04ba25a8e66df67214c7550293"},  {1, "da87c1d86b99af44347659119b22fc45"},
	    {7, "a1f1ebbed8dbc153c0b84aa61ff08239"},  {8, "3b62a9ba6258f5610f83e264f31497b4"},
	    {15, "5493e99933b0a8117e08ec0f97cfc3d9"}, {16, "6ee2a4ca67b054bbfd3315bf85230577"},
	    {63, "5150d1772f50834a503e069a973fbd7c"},
	};
	unsigned char key[SIPHASH_KEY_LEN], msg[64], k2[SIPHASH_KEY_LEN];
	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct sip128 h = siphash128(key, msg, v[i].len);
		char x[33];
		for (int b = 0; b < 16; b++)
			snprintf(
			    x + 2 * b, 3, "%02x",
			    (unsigned)((b < 8 ? h.lo >> (8 * b) : h.hi >> (8 * (b - 8))) & 0xff));
		assert_string_equal(x, v[i].out);
	}
	/* a random key: two draws differ, and the hash follows the key */
	assert_int_equal(siphash_random_key(key), 0);
	assert_int_equal(siphash_random_key(k2), 0);
	assert_memory_not_equal(key, k2, SIPHASH_KEY_LEN);
	{
		struct sip128 a = siphash128(key, "abc", 3), b = siphash128(k2, "abc", 3);
		struct sip128 c = siphash128(key, "abc", 3);
		assert_int_not_equal(sip128_cmp(&a, &b), 0);
		assert_int_equal(sip128_cmp(&a, &c), 0);
	}
}

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	     "klmnopqrlmnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	unsigned char h[SHA256_LEN];
	char x[65];
	struct sha256 c;
	char *mil = xmalloc(1000000);
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		sha256(v[i].in, strlen(v[i].in), h);
		hex(h, x);
		assert_string_equal(x, v[i].out);
	}
	/* one million 'a', fed in uneven pieces */
	memset(mil, 'a', 1000000);
	sha256_init(&c);
	for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 997 + 1)
		sha256_update(&c, mil + off, off + step > 1000000 ? 1000000 - off : step);
	sha256_final(&c, h);
	hex(h, x);
	assert_string_equal(x, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(mil);
	/* lengths around the padding boundary all differ */
	for (size_t n = 50; n < 70; n++) {
		unsigned char h2[SHA256_LEN];
		sha256("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		       n, h);
		sha256("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		       n + 1, h2);
		assert_false(sha256_equal_ct(h, h2, SHA256_LEN));
	}
}

static void test_auth(void **state)
{
	char n1[] = "a", n2[] = "b", s1[] = "s3cret", s2[] = "other", empty[] = "";
	struct sw_token t[] = {{n1, NULL, s1, SW_ROLE_VIEWER}, {n2, NULL, s2, SW_ROLE_ADMIN}};
	struct sw_token bad[] = {{n1, NULL, empty, SW_ROLE_VIEWER}};
	const struct auth_token *who;
	struct auth a;
	struct sw_err err;
	(void)state;
	assert_int_equal(auth_init(&a, t, 2, &err), 0);
	/* only hashes are kept */
	for (size_t i = 0; i < a.n; i++)
		assert_null(memmem(&a.v[i], sizeof(a.v[i]), "s3cret", 6));
	assert_int_equal(auth_check(&a, NULL, &who), AUTH_MISSING);
	assert_int_equal(auth_check(&a, "Basic czNjcmV0", &who), AUTH_MISSING);
	assert_int_equal(auth_check(&a, "Bearer ", &who), AUTH_MISSING);
	assert_int_equal(auth_check(&a, "Bearer s3cre", &who), AUTH_INVALID);
	assert_int_equal(auth_check(&a, "Bearer s3cret1", &who), AUTH_INVALID);
	assert_int_equal(auth_check(&a, "Bearer s3cret", &who), AUTH_OK);
	assert_string_equal(who->name, "a");
	assert_int_equal(who->role, SW_ROLE_VIEWER);
	assert_int_equal(auth_check(&a, "bearer   other ", &who), AUTH_OK);
	assert_string_equal(who->name, "b");
	/* a value is all of its bytes: a NUL and junk after the token make it wrong */
	assert_int_equal(auth_check_n(&a, "Bearer s3cret\0junk", 18, &who), AUTH_INVALID);
	assert_int_equal(auth_check_n(&a, "Bearer s3cret\0", 14, &who), AUTH_INVALID);
	assert_int_equal(auth_check_n(&a, "Bearer s3cret\0junk", 13, &who), AUTH_OK);
	assert_int_equal(auth_check_n(&a, NULL, 0, &who), AUTH_MISSING);
	auth_release(&a);
	assert_int_equal(auth_init(&a, bad, 1, &err), -1);
	assert_non_null(strstr(err.msg, "token 'a'"));
	assert_int_equal(auth_init(&a, NULL, 0, &err), 0);
	assert_false(auth_enabled(&a));
	auth_release(&a);
}

static void test_query_parse(void **state)
{
	struct arena a = ARENA_INIT;
	struct query q = QUERY_INIT;
	struct sw_err err;
	const char *s = "a=1&b=x+y%20z&&c&d=&e=%C3%A9%2B";
	(void)state;
	assert_int_equal(query_parse(&q, &a, s, strlen(s), &err), 0);
	assert_int_equal(q.n, 5);
	assert_string_equal(query_get(&q, "a"), "1");
	assert_string_equal(query_get(&q, "b"), "x y z");
	assert_string_equal(query_get(&q, "c"), "");
	assert_string_equal(query_get(&q, "d"), "");
	assert_string_equal(query_get(&q, "e"), "\xc3\xa9+");
	assert_null(query_get(&q, "f"));
	assert_int_equal(query_check_allowed(&q, "a b c d e", &err), 0);
	assert_int_equal(query_check_allowed(&q, "a b c d", &err), -1);
	assert_string_equal(err.msg, "unknown query parameter 'e'");
	arena_reset(&a), q = (struct query)QUERY_INIT;

	static const char *bad[] = {"a=%",    "a=%4",        "a=%zz",    "%00=1",         "a=%00",
	                            "=1",     "a=1&a=2",     "a=%FF",    "a=%C3%28",      "%FE=1",
	                            "a=\xff", "a=%ED%A0%80", "a=%C0%AF", "a=%F4%90%80%80"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(query_parse(&q, &a, bad[i], strlen(bad[i]), &err), -1);
		arena_reset(&a), q = (struct query)QUERY_INIT;
	}
	/* a length that stops before a '%' escape ends is a bad escape, not an overread */
	assert_int_equal(query_parse(&q, &a, "a=%41", 4, &err), -1);
	arena_reset(&a), q = (struct query)QUERY_INIT;
	{
		struct strbuf sb = STRBUF_INIT;
		for (int i = 0; i < QUERY_MAX_PARAMS + 1; i++)
			strbuf_addf(&sb, "k%d=v&", i);
		assert_int_equal(query_parse(&q, &a, sb.buf, sb.len, &err), -1);
		assert_non_null(strstr(err.msg, "too many"));
		arena_reset(&a), q = (struct query)QUERY_INIT;
		strbuf_release(&sb);
	}
	{
		/* empty pieces count: a few are fine, a flood is refused */
		struct strbuf sb = STRBUF_INIT;
		assert_int_equal(query_parse(&q, &a, "a=1&&&b=2&", 10, &err), 0);
		assert_int_equal(q.n, 2);
		arena_reset(&a), q = (struct query)QUERY_INIT;
		for (int i = 0; i <= QUERY_MAX_PIECES; i++)
			strbuf_addch(&sb, '&');
		assert_int_equal(query_parse(&q, &a, sb.buf, sb.len, &err), -1);
		assert_non_null(strstr(err.msg, "too many query parameters"));
		arena_reset(&a), q = (struct query)QUERY_INIT;
		strbuf_reset(&sb);
		/* and so does length */
		strbuf_addstr(&sb, "a=");
		for (int i = 0; i < QUERY_MAX_LEN; i++)
			strbuf_addch(&sb, 'x');
		assert_int_equal(query_parse(&q, &a, sb.buf, sb.len, &err), -1);
		assert_non_null(strstr(err.msg, "longer than"));
		arena_reset(&a), q = (struct query)QUERY_INIT;
		/* as many as allowed: every one kept (q.v grows in the arena) */
		strbuf_reset(&sb);
		for (int i = 0; i < QUERY_MAX_PARAMS; i++)
			strbuf_addf(&sb, "k%d=v%d&", i, i);
		assert_int_equal(query_parse(&q, &a, sb.buf, sb.len, &err), 0);
		assert_int_equal(q.n, QUERY_MAX_PARAMS);
		for (int i = 0; i < QUERY_MAX_PARAMS; i++) {
			char k[16], v[16];
			snprintf(k, sizeof(k), "k%d", i);
			snprintf(v, sizeof(v), "v%d", i);
			assert_string_equal(query_get(&q, k), v);
		}
		strbuf_release(&sb);
	}
	arena_release(&a);
}

static void test_query_limit_cursor(void **state)
{
	static const struct {
		const char *qs;
		int ok;
		size_t limit;
	} v[] = {
	    {"", 1, 100},
	    {"limit=1", 1, 1},
	    {"limit=1000", 1, 1000},
	    {"limit=0", 0, 0},
	    {"limit=1001", 0, 0},
	    {"limit=-5", 0, 0},
	    {"limit=", 0, 0},
	    {"limit=10x", 0, 0},
	    {"limit=%2B5", 0, 0},
	    {"limit=99999999999999999999", 0, 0},
	};
	struct sw_err err;
	struct arena a = ARENA_INIT;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct query q = QUERY_INIT;
		size_t limit = 0;
		assert_int_equal(query_parse(&q, &a, v[i].qs, strlen(v[i].qs), &err), 0);
		assert_int_equal(query_limit(&q, &limit, &err), v[i].ok ? 0 : -1);
		if (v[i].ok)
			assert_int_equal(limit, v[i].limit);
		else
			assert_string_equal(err.msg, "limit must be 1..1000");
		arena_reset(&a);
	}
	/* cursors round-trip for any positive id; anything else is refused */
	{
		int64_t ids[] = {1, 9, 10, 99, 100, 12345, 1000000007, INT64_MAX};
		for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
			char *c = query_cursor_encode(&a, ids[i]);
			int64_t back = 0;
			for (const char *p = c; *p; p++)
				assert_non_null(
				    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				           "0123456789-_",
				           *p));
			assert_int_equal(query_cursor_decode(c, &back), 0);
			assert_int_equal(back, ids[i]);
		}
	}
	{
		static const char *bad[] = {"",
		                            "A",
		                            "!!",
		                            "MA",
		                            "MDA",
		                            "LTE",
		                            "YWJj",
		                            "OTIyMzM3MjAzNjg1NDc3NTgwOA",
		                            "MQ==",
		                            "MR",
		                            "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
		                            "MTIzAAU"};
		int64_t id;
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			if (!query_cursor_decode(bad[i], &id))
				fail_msg("cursor '%s' decoded to %" PRId64, bad[i], id);
	}
	arena_release(&a);
}

static int match(const char *method, const char *path, struct route_match *m)
{
	return router_match(api_routes, api_n_routes, method, path, strlen(path), m);
}

static void test_router(void **state)
{
	struct route_match m;
	(void)state;
	assert_int_equal(match("GET", "/healthz", &m), ROUTE_OK);
	assert_string_equal(m.route->pattern, "/healthz");
	route_match_release(&m);
	assert_int_equal(match("HEAD", "/healthz", &m), ROUTE_OK);
	route_match_release(&m);
	assert_int_equal(match("GET", "/", &m), ROUTE_OK);
	assert_string_equal(m.route->pattern, "/");
	route_match_release(&m);
	assert_int_equal(match("POST", "/api/v1/alerts/42/ack", &m), ROUTE_OK);
	assert_int_equal(m.n_params, 1);
	assert_string_equal(m.names[0], "id");
	assert_string_equal(m.params[0], "42");
	route_match_release(&m);
	/* an encoded '/' stays inside its segment */
	assert_int_equal(match("GET", "/api/v1/instances/loan%20app/abc%2F7", &m), ROUTE_OK);
	assert_int_equal(m.n_params, 2);
	assert_string_equal(m.names[0], "workflow");
	assert_string_equal(m.params[0], "loan app");
	assert_string_equal(m.names[1], "instance_id");
	assert_string_equal(m.params[1], "abc/7");
	route_match_release(&m);
	assert_int_equal(match("GET", "/api/v1/alerts/", &m), ROUTE_NOT_FOUND);
	assert_int_equal(match("GET", "/api/v1//alerts", &m), ROUTE_NOT_FOUND);
	assert_int_equal(match("GET", "/api/v1/alerts/1/ack/x", &m), ROUTE_NOT_FOUND);
	assert_int_equal(match("GET", "api/v1/alerts", &m), ROUTE_NOT_FOUND);
	assert_int_equal(match("GET", "", &m), ROUTE_NOT_FOUND);
	assert_int_equal(match("GET", "/api/v1/users/%", &m), ROUTE_BAD_PATH);
	assert_int_equal(match("GET", "/api/v1/users/%00", &m), ROUTE_BAD_PATH);
	assert_int_equal(match("PATCH", "/api/v1/silences", &m), ROUTE_BAD_METHOD);
	assert_string_equal(m.allow, "GET, POST");
	assert_int_equal(match("get", "/healthz", &m), ROUTE_BAD_METHOD);
	{
		struct strbuf deep = STRBUF_INIT;
		for (int i = 0; i < 100; i++)
			strbuf_addstr(&deep, "/a");
		assert_int_equal(match("GET", deep.buf, &m), ROUTE_NOT_FOUND);
		strbuf_release(&deep);
	}
	/* every route matches its own pattern with sample parameters */
	for (size_t i = 0; i < api_n_routes; i++) {
		char path[256];
		size_t o = 0;
		for (const char *p = api_routes[i].pattern; *p && o < sizeof(path) - 2; p++) {
			if (*p == '{') {
				while (*p && *p != '}')
					p++;
				path[o++] = '7';
			} else {
				path[o++] = *p;
			}
		}
		path[o] = '\0';
		assert_int_equal(match(api_routes[i].method, path, &m), ROUTE_OK);
		assert_ptr_equal(m.route, &api_routes[i]);
		route_match_release(&m);
	}
}

static void test_json_decoder(void **state)
{
	static const struct {
		const char *body;
		int rc;
		const char *msg;
	} v[] = {
	    {"", 0, NULL},
	    {"  \n", 0, NULL},
	    {"{}", 0, NULL},
	    {"{\"by\":\"me\",\"note\":null}", 0, NULL},
	    {"{\"by\":", 400, "malformed JSON at offset 6"},
	    {"nul", 400, "malformed JSON at offset"},
	    {"{\"by\":\"a\",\"by\":\"b\"}", 400, "duplicate"},
	    {"{\"by\":\"\\u0000\"}", 400, "malformed"},
	    {"{\"by\":\"\xff\"}", 400, "malformed"},
	    {"[]", 422, "expected a JSON object"},
	    {"\"x\"", 422, "expected a JSON object"},
	    {"{\"by\":1}", 422, "field 'by' must be a string"},
	    {"{\"by\":true}", 422, "field 'by' must be a string"},
	    {"{\"who\":\"x\"}", 422, "unknown field 'who'"},
	};
	struct sw_err err;
	json_t *out;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		int rc = api_json_decode(v[i].body, strlen(v[i].body), api_body_ack, api_body_ack_n,
		                         &out, &err);
		if (rc != v[i].rc)
			fail_msg("'%s': rc %d, want %d (%s)", v[i].body, rc, v[i].rc, err.msg);
		if (v[i].msg && !strstr(err.msg, v[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", v[i].body, err.msg, v[i].msg);
		if (!rc) {
			assert_true(json_is_object(out));
			json_decref(out);
		} else {
			assert_null(out);
		}
	}
	{
		struct strbuf long_note = STRBUF_INIT;
		strbuf_addstr(&long_note, "{\"note\":\"");
		for (int i = 0; i < 2001; i++)
			strbuf_addch(&long_note, 'x');
		strbuf_addstr(&long_note, "\"}");
		assert_int_equal(api_json_decode(long_note.buf, long_note.len, api_body_ack,
		                                 api_body_ack_n, &out, &err),
		                 422);
		assert_string_equal(err.msg, "field 'note' is longer than 2000 bytes");
		strbuf_release(&long_note);
	}
	/* silences: required and typed fields */
	{
		const char *ok =
		    "{\"ends_at\":\"2026-01-01T00:00:00Z\",\"pause_escalation\":false}";
		assert_int_equal(api_json_decode(ok, strlen(ok), api_body_silence,
		                                 api_body_silence_n, &out, &err),
		                 0);
		json_decref(out);
		ok = "{\"ends_at\":\"2026-01-01T00:00:00Z\",\"pause_escalation\":\"yes\"}";
		assert_int_equal(api_json_decode(ok, strlen(ok), api_body_silence,
		                                 api_body_silence_n, &out, &err),
		                 422);
		assert_string_equal(err.msg, "field 'pause_escalation' must be true or false");
	}
	/* step records: an array of objects, each checked, ids string or integer */
	{
		const char *rec =
		    "[{\"workflow\":\"w\",\"instance_id\":7,\"user_id\":\"u\","
		    "\"step\":\"kyc\",\"status\":\"SUCCESS\","
		    "\"started_at\":\"2026-01-01 00:00:00\",\"updated_at\":\"1763719025\","
		    "\"labels\":{\"channel\":\"web\"}},"
		    "{\"workflow\":\"w\",\"instance_id\":\"8\",\"user_id\":\"u\","
		    "\"step\":\"kyc\",\"status\":\"FAILED\",\"error\":\"E\","
		    "\"started_at\":\"2026-01-01T00:00:00Z\",\"finished_at\":null,"
		    "\"updated_at\":\"2026-01-01T00:00:01Z\"}]";
		const char *bad = "[{\"workflow\":\"w\",\"instance_id\":1.5,\"user_id\":\"u\","
		                  "\"step\":\"kyc\",\"status\":\"SUCCESS\","
		                  "\"started_at\":\"2026-01-01T00:00:00Z\","
		                  "\"updated_at\":\"2026-01-01T00:00:00Z\"}]";
		const char *bad_label =
		    "[{\"workflow\":\"w\",\"instance_id\":1,\"user_id\":\"u\","
		    "\"step\":\"kyc\",\"status\":\"SUCCESS\","
		    "\"started_at\":\"2026-01-01T00:00:00Z\","
		    "\"updated_at\":\"2026-01-01T00:00:00Z\",\"labels\":{\"a\":1}}]";
		assert_int_equal(api_json_decode_array(rec, strlen(rec), api_body_step_record,
		                                       api_body_step_record_n, 10, &out, &err),
		                 0);
		assert_int_equal(json_array_size(out), 2);
		json_decref(out);
		assert_int_equal(api_json_decode_array(bad, strlen(bad), api_body_step_record,
		                                       api_body_step_record_n, 10, &out, &err),
		                 422);
		assert_string_equal(err.msg,
		                    "item 0: field 'instance_id' must be a string or an integer");
		assert_int_equal(api_json_decode_array(bad_label, strlen(bad_label),
		                                       api_body_step_record, api_body_step_record_n,
		                                       10, &out, &err),
		                 422);
		assert_non_null(strstr(err.msg, "label 'a' of 'labels' must be a string"));
		assert_int_equal(api_json_decode_array("[]", 2, api_body_step_record,
		                                       api_body_step_record_n, 10, &out, &err),
		                 422);
		assert_int_equal(api_json_decode_array("[{}]", 4, api_body_step_record,
		                                       api_body_step_record_n, 10, &out, &err),
		                 422);
		assert_string_equal(err.msg, "item 0: field 'workflow' is required");
	}
}

static void test_split_listen(void **state)
{
	static const struct {
		const char *in, *host, *port;
	} v[] = {
	    {"127.0.0.1:8080", "127.0.0.1", "8080"},
	    {"[::1]:0", "::1", "0"},
	    {"localhost:65535", "localhost", "65535"},
	    {"0.0.0.0:80", "0.0.0.0", "80"},
	    {"127.0.0.1", NULL, NULL},
	    {"::1:80", NULL, NULL},
	    {"[::1]80", NULL, NULL},
	    {":80", NULL, NULL},
	    {"h:65536", NULL, NULL},
	    {"h:-1", NULL, NULL},
	    {"h:", NULL, NULL},
	    {"", NULL, NULL},
	    {"[::1:80", NULL, NULL},
	};
	struct sw_err err;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *h, *p;
		int rc = http_split_listen(v[i].in, &h, &p, &err);
		if (!v[i].host) {
			if (rc != -1)
				fail_msg("'%s' accepted", v[i].in);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(h, v[i].host);
		assert_string_equal(p, v[i].port);
		free(h);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_query_parse),
	    cmocka_unit_test(test_query_limit_cursor),
	    cmocka_unit_test(test_router),
	    cmocka_unit_test(test_json_decoder),
	    cmocka_unit_test(test_split_listen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
