/*
 * fuzz_router.c - route matching on arbitrary method and path bytes. Input: method, a NUL
 * byte, then the path (any bytes). Checks that a match names a route of the table with as
 * many parameters as its pattern has.
 */
#include "util/common.h"
#include "api/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	char *method, *path;
	size_t mlen = nul ? (size_t)(nul - (const char *)data) : 0;
	size_t plen = nul ? size - mlen - 1 : size;
	struct route_match m;
	int rc;

	method = xstrndup(nul ? (const char *)data : "GET", nul ? mlen : 3);
	path = xmalloc(plen + 1);
	memcpy(path, nul ? nul + 1 : (const char *)data, plen);
	path[plen] = '\0';
	rc = router_match(api_routes, api_n_routes, method, path, plen, &m);
	if (rc == ROUTE_OK) {
		size_t braces = 0;
		if (m.route < api_routes || m.route >= api_routes + api_n_routes)
			abort();
		for (const char *p = m.route->pattern; *p; p++)
			braces += *p == '{';
		if (braces != m.n_params)
			abort();
		for (size_t i = 0; i < m.n_params; i++)
			if (!m.params[i] || !m.params[i][0])
				abort();
	}
	route_match_release(&m);
	free(method);
	free(path);
	return 0;
}
