/*
 * base64.c - RFC 4648 base64 with the standard alphabet.
 */
#include "util/common.h"
#include "util/base64.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(struct strbuf *sb, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		strbuf_addch(sb, b64[v >> 18 & 63]);
		strbuf_addch(sb, b64[v >> 12 & 63]);
		strbuf_addch(sb, b64[v >> 6 & 63]);
		strbuf_addch(sb, b64[v & 63]);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		strbuf_addch(sb, b64[v >> 18 & 63]);
		strbuf_addch(sb, b64[v >> 12 & 63]);
		strbuf_addstr(sb, "==");
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		strbuf_addch(sb, b64[v >> 18 & 63]);
		strbuf_addch(sb, b64[v >> 12 & 63]);
		strbuf_addch(sb, b64[v >> 6 & 63]);
		strbuf_addch(sb, '=');
	}
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *s, size_t len, struct strbuf *out)
{
	size_t start = out->len, n = len;
	uint32_t acc = 0;
	int bits = 0, rc = 0;

	/* up to two '=' of padding, and then only where a group of four ends */
	while (n > 0 && s[n - 1] == '=' && len - n < 2)
		n--;
	if (n < len && len % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0) {
			rc = -1;
			goto out;
		}
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (int)(acc >> bits & 0xff));
		}
	}
	/* a lone trailing character carries only 6 bits: not a whole byte */
	if (n % 4 == 1)
		rc = -1;
out:
	if (rc) {
		out->len = start;
		out->buf[start] = '\0';
	}
	return rc;
}
