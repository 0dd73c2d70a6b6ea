/*
 * json.h - strict decoding of JSON request bodies (jansson). A body is parsed with
 * duplicate keys rejected, then checked against a field table: every field known, of the
 * right type and size, required ones present. Pure: the HTTP layer turns the outcome into
 * 400 (not JSON, with the byte offset) or 422 (wrong shape, naming the field).
 *
 * The field tables of every body the API takes are here too, so handlers, tests and the
 * fuzz harness share them.
 */
#ifndef SW_API_JSON_H
#define SW_API_JSON_H

#include "util/common.h"
#include <jansson.h>

enum api_ftype {
	API_FT_STRING, /* JSON string */
	API_FT_ID,     /* string or integer (instance and user ids) */
	API_FT_INT,    /* integer */
	API_FT_NUMBER, /* integer or real */
	API_FT_BOOL,   /* true or false */
	API_FT_TIME,   /* string that time_parse() accepts (RFC 3339) */
	API_FT_LABELS, /* object of string values */
};

struct api_field {
	const char *name;
	enum api_ftype type;
	bool required; /* absent or null is an error; optional fields may be null */
	size_t max;    /* strings: bytes; labels: keys; 0: no limit but the body's */
};

enum {
	API_JSON_OK = 0,
	API_JSON_MALFORMED = 400,
	API_JSON_INVALID = 422
};

/* Parse a whole body. An empty (or all-whitespace) body is the empty object.
 * API_JSON_MALFORMED with "malformed JSON at offset N: <what>". */
int api_json_parse(const char *buf, size_t len, json_t **out, struct sw_err *err);
/* Check an object against spec; where prefixes messages ("item 3: ...") when not NULL.
 * API_JSON_INVALID with "unknown field 'x'", "field 'by' must be a string", ... */
int api_json_check(const json_t *obj, const struct api_field *spec, size_t n, const char *where,
                   struct sw_err *err);
/* Parse and check a body that is one object. */
int api_json_decode(const char *buf, size_t len, const struct api_field *spec, size_t n,
                    json_t **out, struct sw_err *err);
/* Parse and check a body that is an array of 1..max_items such objects. */
int api_json_decode_array(const char *buf, size_t len, const struct api_field *spec, size_t n,
                          size_t max_items, json_t **out, struct sw_err *err);

/* Bodies of the API (SPEC section 5). */
/* POST /api/v1/{alerts,incidents}/{id}/{ack,resolve}: {"by", "note"} */
extern const struct api_field api_body_ack[];
extern const size_t api_body_ack_n;
/* POST /api/v1/silences */
extern const struct api_field api_body_silence[];
extern const size_t api_body_silence_n;
/* POST /api/v1/step-records: an array of these */
extern const struct api_field api_body_step_record[];
extern const size_t api_body_step_record_n;
#define API_STEP_RECORDS_MAX 10000

#endif
