/*
 * grouping.h - incident grouping keys. Pure.
 *
 * Open alerts with the same workflow, step, rule and values of the step's group_by labels
 * share one incident. The key is a readable, canonical string in Prometheus' style:
 *
 *	loan_application/bureau_pull/failed{error="BUREAU_TIMEOUT",partner="acme"}
 *
 * Label values are looked up in the alert: "error" is the alert's error; any other name is
 * a label (a segment column of the step record or an extra column of a custom watcher).
 * A label with no value (absent, null or empty) is left out of the key and the labels, so a
 * "stuck" alert, which has no error, groups as loan_application/kyc/stuck{}. Names keep the
 * order of group_by.
 */
#ifndef SW_GROUPING_H
#define SW_GROUPING_H

#include "util/common.h"
#include "util/strbuf.h"

struct group_label {
	const char *name;
	const char *value; /* NULL = empty */
};

/* Lookup of a label's value; returns NULL when absent. */
typedef const char *(*group_lookup_fn)(void *ctx, const char *name);

/*
 * Build the key into key (reset first) and the incident's labels as a JSON object into
 * labels_json (reset first; may be NULL).
 */
void grouping_key(const char *workflow, const char *step, const char *rule,
                  const char *const *group_by, size_t n_group_by, const char *error,
                  group_lookup_fn lookup, void *ctx, struct strbuf *key,
                  struct strbuf *labels_json);

#endif
