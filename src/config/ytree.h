/*
 * ytree.h - a YAML document as a small tree with a 1-based position on every node, built
 * from libfyaml's event parser. Internal to src/config/.
 *
 * Aliases point at their anchored node (the tree is a DAG, never a cycle: an anchor is
 * defined when its node ends, so a node cannot contain an alias to itself). Duplicate keys,
 * unknown aliases, merge keys ('<<'), nesting deeper than YTREE_MAX_DEPTH and documents of
 * more than YTREE_MAX_NODES nodes are reported through the error callback.
 */
#ifndef SW_CONFIG_YTREE_H
#define SW_CONFIG_YTREE_H

#include "util/common.h"
#include "config/config.h"

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 500000

enum ynode_type {
	YN_SCALAR,
	YN_SEQ,
	YN_MAP
};

struct ynode {
	enum ynode_type type;
	bool is_null; /* a plain scalar "", "~" or "null" (or an empty value) */
	char *text;   /* scalars: NUL-terminated copy (may hold NUL bytes before len) */
	size_t len;
	struct ynode **kids; /* sequence: items; mapping: key, value, key, value, ... */
	size_t n_kids, alloc_kids;
	struct sw_pos pos;
};

struct ytree {
	struct ynode *root; /* NULL for an empty stream */
	struct ynode **all; /* every node, for freeing */
	size_t n_all, alloc_all;
};

/* Called for each problem; fatal is true when parsing stopped (the tree is unusable). */
typedef void (*ytree_error_fn)(void *arg, struct sw_pos pos, bool fatal, const char *msg);

/* Parse buf. Returns 0, or -1 after a fatal error. Non-fatal errors leave a usable tree. */
int ytree_parse(struct ytree *t, const char *buf, size_t len, ytree_error_fn fn, void *arg);
void ytree_release(struct ytree *t);

static inline size_t ynode_n_pairs(const struct ynode *n)
{
	return n->n_kids / 2;
}

#endif
