/*
 * grouping.c - incident grouping keys.
 */
#include "util/common.h"
#include "core/grouping.h"

static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(sb, '\\');
		if (*s == '\n') {
			strbuf_addstr(sb, "\\n");
			continue;
		}
		strbuf_addch(sb, *s);
	}
}

void grouping_key(const char *workflow, const char *step, const char *rule,
                  const char *const *group_by, size_t n_group_by, const char *error,
                  group_lookup_fn lookup, void *ctx, struct strbuf *key, struct strbuf *labels_json)
{
	strbuf_reset(key);
	strbuf_addf(key, "%s/%s/%s{", workflow, step, rule);
	if (labels_json) {
		strbuf_reset(labels_json);
		strbuf_addch(labels_json, '{');
	}
	for (size_t i = 0, k = 0; i < n_group_by; i++) {
		const char *name = group_by[i];
		const char *v =
		    !strcmp(name, "error") ? error : (lookup ? lookup(ctx, name) : NULL);
		if (!v || !*v)
			continue; /* absent and empty values group together, and read better left
			             out */
		if (k++) {
			strbuf_addch(key, ',');
			if (labels_json)
				strbuf_addch(labels_json, ',');
		}
		strbuf_addf(key, "%s=\"", name);
		add_escaped(key, v);
		strbuf_addch(key, '"');
		if (labels_json) {
			strbuf_add_json_str(labels_json, name);
			strbuf_addch(labels_json, ':');
			strbuf_add_json_str(labels_json, v);
		}
	}
	strbuf_addch(key, '}');
	if (labels_json)
		strbuf_addch(labels_json, '}');
}
