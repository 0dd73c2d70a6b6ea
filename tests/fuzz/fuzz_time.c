/*
 * fuzz_time.c - libFuzzer harness for the parsers of values that come from outside:
 * timestamps read from sources and the API (time_parse, time_style_of) and durations
 * (duration_parse). Checks round trips: a parsed timestamp formats back to one that parses
 * to the same instant, in RFC 3339 and in the learned style.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	char buf[96], why[128];
	struct time_style st;
	int64_t ms, back, d;

	memcpy(s, data, size);
	s[size] = '\0';

	if (time_parse(s, &ms) == 0 && ms > -62135596800000LL && ms < 253402300799000LL) {
		time_format_rfc3339(ms, buf, sizeof(buf));
		if (time_parse(buf, &back) < 0 || back != ms)
			BUG("'%s' -> %" PRId64 " -> '%s' does not round-trip", s, ms, buf);
		if (time_style_of(s, &st) < 0)
			BUG("'%s' parses but has no style", s);
		time_format_style(ms, &st, buf, sizeof(buf));
		if (time_parse(buf, &back) < 0)
			BUG("style format '%s' of '%s' does not parse", buf, s);
	}
	if (duration_parse(s, &d, why, sizeof(why)) == 0) {
		duration_format(d, buf, sizeof(buf));
		if (duration_parse(buf, &back, NULL, 0) < 0 || back != d)
			BUG("duration '%s' -> '%s' does not round-trip", s, buf);
	} else if (!why[0]) {
		BUG("duration '%s' refused without a reason", s);
	}
	free(s);
	return 0;
}
