/*
 * fuzz_http_headers.c - the API server's checks of Host, Origin and Content-Type values
 * (api/http.h) on arbitrary bytes. Input: a selector byte, then the value; for Origin the
 * value is "origin NUL host". Checks the answers against what must hold for any input:
 * an accepted Host starts with a loopback name, an address or the listen host; an accepted
 * Origin ends with the Host; an accepted Content-Type starts with application/json.
 */
#include "util/common.h"
#include "api/http.h"
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	char *s;

	if (!size)
		return 0;
	s = xmalloc(n + 1);
	memcpy(s, v, n);
	s[n] = '\0';
	switch (data[0] % 3) {
	case 0:
		if (http_host_allowed("stepwatch.test", s, n)) {
			const char *p = s;
			if (*p == '[')
				p++;
			if (!strncasecmp(p, "localhost", 9) ||
			    !strncasecmp(p, "stepwatch.test", 14))
				break;
			if (!((*p >= '0' && *p <= '9') || *p == ':' ||
			      (s[0] == '[' &&
			       ((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))))
				abort();
		}
		break;
	case 1: {
		const char *nul = memchr(s, '\0', n);
		const char *host = nul ? nul + 1 : "";
		size_t olen = nul ? (size_t)(nul - s) : n, hlen = nul ? n - olen - 1 : 0;
		if (http_origin_same(s, olen, host, hlen)) {
			if (strncasecmp(s, "http://", 7) && strncasecmp(s, "https://", 8))
				abort();
			if (!hlen)
				abort();
		}
		break;
	}
	case 2:
		if (http_content_type_json(s)) {
			const char *p = s + strspn(s, " \t");
			if (strncasecmp(p, "application/json", 16))
				abort();
		}
		break;
	}
	free(s);
	return 0;
}
