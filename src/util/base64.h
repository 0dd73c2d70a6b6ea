/*
 * base64.h - standard base64 (RFC 4648 section 4, with '=' padding), for webhook signatures
 * and the whsec_ secrets of Standard Webhooks.
 */
#ifndef SW_BASE64_H
#define SW_BASE64_H

#include "util/common.h"
#include "util/strbuf.h"

/* Append the base64 of data[0..len) to sb. */
void base64_encode(struct strbuf *sb, const void *data, size_t len);
/*
 * Decode s[0..len) (padding optional, no whitespace) and append the bytes to out.
 * Returns 0, or -1 when s is not base64 (out is then left as it was).
 */
int base64_decode(const char *s, size_t len, struct strbuf *out);

#endif
