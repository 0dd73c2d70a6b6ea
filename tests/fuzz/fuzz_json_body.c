/*
 * fuzz_json_body.c - the strict body decoder on arbitrary bytes with every body spec of
 * the API (ack/resolve, silence, step records). A success must hold only known fields of
 * the right types; a failure must say 400 or 422 with a message.
 */
#include "util/common.h"
#include "api/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, json_t *out, const struct sw_err *err)
{
	if (rc == API_JSON_OK) {
		if (!out)
			abort();
		json_decref(out);
		return;
	}
	if ((rc != API_JSON_MALFORMED && rc != API_JSON_INVALID) || out || !err->msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sw_err err;
	json_t *out;
	int rc;

	err.msg[0] = '\0';
	rc = api_json_decode(buf, size, api_body_ack, api_body_ack_n, &out, &err);
	check(rc, out, &err);
	err.msg[0] = '\0';
	rc = api_json_decode(buf, size, api_body_silence, api_body_silence_n, &out, &err);
	check(rc, out, &err);
	err.msg[0] = '\0';
	rc = api_json_decode_array(buf, size, api_body_step_record, api_body_step_record_n,
	                           API_STEP_RECORDS_MAX, &out, &err);
	check(rc, out, &err);
	return 0;
}
