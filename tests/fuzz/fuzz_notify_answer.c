/*
 * fuzz_notify_answer.c - libFuzzer harness for what a notification receiver sends back and
 * stepwatch reads: Retry-After values (delay-seconds or an HTTP date), the answer text
 * that becomes a delivery's detail, and base64 (whsec_ secrets). Checks: a Retry-After is
 * -1 or within [0, 1 h]; a detail is valid UTF-8 without control characters and fits;
 * base64 decodes to bytes that encode back to the same text (after padding).
 */
#include "util/common.h"
#include "notify/http_post.h"
#include "util/base64.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int64_t ms = http_retry_after_parse(s, size, 1764500000000LL);
	char detail[256];
	struct strbuf dec = STRBUF_INIT, enc = STRBUF_INIT, again = STRBUF_INIT;
	size_t n;

	if (ms != -1 && (ms < 0 || ms > HTTP_RETRY_AFTER_MAX_MS))
		BUG("Retry-After out of range: %" PRId64, ms);

	notify_detail_set(detail, sizeof(detail), s, size);
	n = strlen(detail);
	if (n >= sizeof(detail))
		BUG("detail overflows");
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)detail + i, n - i);
		if (!l)
			BUG("detail is not valid UTF-8 at %zu", i);
		if ((unsigned char)detail[i] < 0x20 || detail[i] == 0x7f)
			BUG("control character in detail at %zu", i);
		i += l;
	}

	if (base64_decode(s, size, &dec) == 0) {
		base64_encode(&enc, dec.buf, dec.len);
		if (base64_decode(enc.buf, enc.len, &again) || again.len != dec.len ||
		    memcmp(again.buf, dec.buf, dec.len))
			BUG("base64 does not round-trip");
	}
	strbuf_release(&dec);
	strbuf_release(&enc);
	strbuf_release(&again);
	return 0;
}
