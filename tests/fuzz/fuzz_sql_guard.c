/*
 * fuzz_sql_guard.c - libFuzzer harness for the SQL guard (both kinds of database), the
 * collection of called functions and operators with the catalog policy over a small fixed
 * catalog, the ":name" parameter rewrite, and the URL secret scanner (redaction and
 * scrubbing), on arbitrary bytes (a NUL-terminated copy of the input).
 */
#include "util/common.h"
#include "source/source.h"
#include "source/source-int.h"
#include "util/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"since", "instance_id"};
	static const struct source_proc cat[] = {
	    {"pg_catalog", "now", 's', 's', true, false},
	    {"pg_catalog", "random", 'v', 'r', true, false},
	    {"pg_catalog", "txid_current", 's', 'u', true, false},
	    {"public", "f", 'i', 's', true, false},
	    {"pg_catalog", "=", 'i', 's', true, true},
	};
	struct source_calls calls = {0};
	struct sw_err err;
	int order[2];
	size_t norder = 0, i;
	char *sql, *out, msg[256];

	if (size > 65536)
		return 0;
	sql = xmalloc(size + 1);
	memcpy(sql, data, size);
	sql[size] = '\0';

	if (source__guard_pg(sql, &calls, &err) == 0)
		(void)source__pg_policy(&calls, cat, ARRAY_SIZE(cat), &err);
	for (i = 0; i < calls.n; i++)
		if (!calls.v[i].name || !calls.v[i].schema)
			abort();
	source__calls_release(&calls);
	(void)source_guard(SW_DB_SQLITE, sql, &err);
	out = source_rewrite_params(sql, names, 2, order, &norder, &err);
	if (out) {
		if (norder > 2)
			abort();
		for (i = 0; i < norder; i++)
			if (order[i] < 0 || order[i] > 1)
				abort();
		free(out);
	}
	out = sw_redact_url(sql);
	free(out);
	snprintf(msg, sizeof(msg), "error near \"%.200s\"", sql);
	sw_scrub_secrets(sql, msg, sizeof(msg));
	free(sql);
	return 0;
}
