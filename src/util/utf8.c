/*
 * utf8.c - UTF-8 validation and lossy copies.
 */
#include "util/common.h"
#include "util/utf8.h"

size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0], cp;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = c & (0xFFu >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void strbuf_add_utf8_lossy(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		const unsigned char *run = p;
		size_t l = 0;
		while (p < end && (l = utf8_len(p, (size_t)(end - p))) > 0)
			p += l;
		strbuf_add(sb, run, (size_t)(p - run));
		if (p < end) {
			strbuf_add(sb, "\xEF\xBF\xBD", 3);
			p++;
		}
	}
}
