/*
 * json.c - strict request-body decoding and the body field tables.
 *
 * DESIGN: jansson parses (JSON_REJECT_DUPLICATES, no NUL in strings, valid UTF-8 only);
 * this file then walks the object once per field in the table and once per key in the
 * object, so unknown keys are found without a hash set. Objects are small (a dozen keys),
 * so the quadratic walk is cheaper than anything cleverer. Client-given names are quoted
 * in messages cut to 64 bytes.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "api/json.h"

const struct api_field api_body_ack[] = {
    {"by", API_FT_STRING, false, 200},
    {"note", API_FT_STRING, false, 2000},
};
const size_t api_body_ack_n = ARRAY_SIZE(api_body_ack);

const struct api_field api_body_silence[] = {
    {"workflow", API_FT_STRING, false, 200}, {"step", API_FT_STRING, false, 200},
    {"error", API_FT_STRING, false, 500},    {"starts_at", API_FT_TIME, false, 64},
    {"ends_at", API_FT_TIME, true, 64},      {"pause_escalation", API_FT_BOOL, false, 0},
    {"comment", API_FT_STRING, false, 2000},
};
const size_t api_body_silence_n = ARRAY_SIZE(api_body_silence);

const struct api_field api_body_step_record[] = {
    {"workflow", API_FT_STRING, true, 200}, {"instance_id", API_FT_ID, true, 200},
    {"user_id", API_FT_ID, true, 200},      {"step", API_FT_STRING, true, 200},
    {"status", API_FT_STRING, true, 32},    {"error", API_FT_STRING, false, 500},
    {"started_at", API_FT_TIME, true, 64},  {"finished_at", API_FT_TIME, false, 64},
    {"updated_at", API_FT_TIME, true, 64},  {"labels", API_FT_LABELS, false, 32},
};
const size_t api_body_step_record_n = ARRAY_SIZE(api_body_step_record);

static int invalid(struct sw_err *err, const char *fmt, ...) SW_PRINTF(2, 3);
static int invalid(struct sw_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return API_JSON_INVALID;
}

static int shown(const char *s)
{
	size_t n = strlen(s);
	return n > 64 ? 64 : (int)n;
}

int api_json_parse(const char *buf, size_t len, json_t **out, struct sw_err *err)
{
	json_error_t je;
	size_t i;
	*out = NULL;
	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]) || !buf[i])
			break;
	if (i == len) {
		*out = json_object();
		return API_JSON_OK;
	}
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!*out) {
		sw_err_set(err, "malformed JSON at offset %d: %s", je.position, je.text);
		return API_JSON_MALFORMED;
	}
	return API_JSON_OK;
}

static const char *type_phrase(enum api_ftype t)
{
	switch (t) {
	case API_FT_STRING: return "a string";
	case API_FT_ID: return "a string or an integer";
	case API_FT_INT: return "an integer";
	case API_FT_NUMBER: return "a number";
	case API_FT_BOOL: return "true or false";
	case API_FT_TIME: return "an RFC 3339 time string";
	case API_FT_LABELS: return "an object of strings";
	}
	return "?";
}

static int check_value(const json_t *v, const struct api_field *f, const char *where,
                       struct sw_err *err)
{
	const char *pre = where ? where : "", *sep = where ? ": " : "";
	bool ok = false;
	size_t len = 0;
	switch (f->type) {
	case API_FT_STRING:
		ok = json_is_string(v);
		len = ok ? json_string_length(v) : 0;
		break;
	case API_FT_ID:
		ok = json_is_string(v) || json_is_integer(v);
		len = json_is_string(v) ? json_string_length(v) : 0;
		if (json_is_string(v) && !len)
			return invalid(err, "%s%sfield '%s' must not be empty", pre, sep, f->name);
		break;
	case API_FT_INT: ok = json_is_integer(v); break;
	case API_FT_NUMBER: ok = json_is_number(v); break;
	case API_FT_BOOL: ok = json_is_boolean(v); break;
	case API_FT_TIME: {
		int64_t ms;
		ok = json_is_string(v) && json_string_length(v) <= 64 &&
		     !time_parse(json_string_value(v), &ms);
		break;
	}
	case API_FT_LABELS: {
		const char *k;
		const json_t *lv;
		ok = json_is_object(v);
		if (!ok)
			break;
		if (f->max && json_object_size(v) > f->max)
			return invalid(err, "%s%sfield '%s' has more than %zu labels", pre, sep,
			               f->name, f->max);
		json_object_foreach((json_t *)(uintptr_t)v, k, lv)
		{
			if (!json_is_string(lv))
				return invalid(err, "%s%slabel '%.*s' of '%s' must be a string",
				               pre, sep, shown(k), k, f->name);
			if (json_string_length(lv) > 500)
				return invalid(err,
				               "%s%slabel '%.*s' of '%s' is longer than 500 bytes",
				               pre, sep, shown(k), k, f->name);
		}
		break;
	}
	}
	if (!ok)
		return invalid(err, "%s%sfield '%s' must be %s", pre, sep, f->name,
		               type_phrase(f->type));
	if (f->max && len > f->max)
		return invalid(err, "%s%sfield '%s' is longer than %zu bytes", pre, sep, f->name,
		               f->max);
	return API_JSON_OK;
}

int api_json_check(const json_t *obj, const struct api_field *spec, size_t n, const char *where,
                   struct sw_err *err)
{
	const char *pre = where ? where : "", *sep = where ? ": " : "";
	const char *key;
	const json_t *v;
	int rc;
	if (!json_is_object(obj))
		return invalid(err, "%s%sexpected a JSON object", pre, sep);
	json_object_foreach((json_t *)(uintptr_t)obj, key, v)
	{
		size_t i;
		for (i = 0; i < n; i++)
			if (!strcmp(spec[i].name, key))
				break;
		if (i == n)
			return invalid(err, "%s%sunknown field '%.*s'", pre, sep, shown(key), key);
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, spec[i].name);
		if (!v || json_is_null(v)) {
			if (spec[i].required)
				return invalid(err, "%s%sfield '%s' is required", pre, sep,
				               spec[i].name);
			continue;
		}
		rc = check_value(v, &spec[i], where, err);
		if (rc)
			return rc;
	}
	return API_JSON_OK;
}

int api_json_decode(const char *buf, size_t len, const struct api_field *spec, size_t n,
                    json_t **out, struct sw_err *err)
{
	int rc = api_json_parse(buf, len, out, err);
	if (rc)
		return rc;
	rc = api_json_check(*out, spec, n, NULL, err);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int api_json_decode_array(const char *buf, size_t len, const struct api_field *spec, size_t n,
                          size_t max_items, json_t **out, struct sw_err *err)
{
	size_t i;
	json_t *v;
	int rc = api_json_parse(buf, len, out, err);
	if (rc)
		return rc;
	if (!json_is_array(*out)) {
		rc = invalid(err, "expected a JSON array");
		goto out;
	}
	if (json_array_size(*out) == 0 || json_array_size(*out) > max_items) {
		rc = invalid(err, "expected 1..%zu items, got %zu", max_items,
		             json_array_size(*out));
		goto out;
	}
	json_array_foreach(*out, i, v)
	{
		char where[32];
		snprintf(where, sizeof(where), "item %zu", i);
		rc = api_json_check(v, spec, n, where, err);
		if (rc)
			goto out;
	}
out:
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
