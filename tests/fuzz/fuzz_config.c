/*
 * fuzz_config.c - libFuzzer harness for the configuration loader: any bytes in, either a
 * config or error lines out, never a crash, a leak or unbounded time.
 */
#include "util/common.h"
#include "config/config.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_config *cfg = NULL;
	struct strbuf errs = STRBUF_INIT;

	if (config_load_buffer("fuzz.yaml", (const char *)data, size, &cfg, &errs) == 0) {
		if (!cfg || errs.len)
			BUG("success with errors or without a config");
	} else if (cfg || !errs.len) {
		BUG("failure without an error message");
	}
	config_free(cfg);
	strbuf_release(&errs);
	return 0;
}
