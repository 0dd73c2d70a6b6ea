/*
 * fuzz_query.c - the query-string parser and the list getters on arbitrary bytes (a parse
 * that succeeds stays within the parameter and length limits), and the cursor decoder (a
 * decoded cursor must encode back to the same text).
 */
#include "util/common.h"
#include "api/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = ARENA_INIT;
	struct query q = QUERY_INIT;
	struct sw_err err;
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	if (!query_parse(&q, &a, (const char *)data, size, &err)) {
		size_t limit;
		int64_t id, t = 0, n = 0;
		bool b;
		if (q.n > QUERY_MAX_PARAMS || size > QUERY_MAX_LEN)
			abort();
		for (size_t i = 0; i < q.n; i++)
			if (!q.v[i].key[0] || query_get(&q, q.v[i].key) != q.v[i].value)
				abort();
		if (!query_limit(&q, &limit, &err) && (limit < 1 || limit > QUERY_LIMIT_MAX))
			abort();
		if (!query_cursor(&q, &id, &err) && id < 0)
			abort();
		query_bool(&q, "open", &b, &err);
		query_time(&q, "from", &t, &err);
		query_int64(&q, "incident", 1, INT64_MAX, &n, &err);
		query_check_allowed(&q, "state level limit cursor", &err);
	}
	{
		int64_t id;
		if (!query_cursor_decode(s, &id)) {
			char *back = query_cursor_encode(&a, id);
			if (id < 1 || strcmp(back, s))
				abort();
		}
	}
	arena_release(&a);
	free(s);
	return 0;
}
