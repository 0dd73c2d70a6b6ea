/*
 * fuzz_sql_guard.c - libFuzzer harness for the SQL guard (both kinds of database) and the
 * ":name" parameter rewrite, on arbitrary bytes (a NUL-terminated copy of the input).
 */
#include "util/common.h"
#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"since", "instance_id"};
	struct sw_err err;
	int order[2];
	size_t norder = 0, i;
	char *sql, *out;

	if (size > 65536)
		return 0;
	sql = xmalloc(size + 1);
	memcpy(sql, data, size);
	sql[size] = '\0';

	(void)source_guard(SW_DB_POSTGRES, sql, &err);
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
	free(sql);
	return 0;
}
