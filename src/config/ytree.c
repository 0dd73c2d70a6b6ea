/*
 * ytree.c - build a positioned YAML tree from libfyaml events.
 *
 * DESIGN: libfyaml 0.7 gives no public start mark for a document's mapping and sequence
 * nodes, and its document builder checks neither nesting depth nor alias fan-out. So we
 * read events (fy_parser_parse), which carry marks, and build our own small tree: every
 * node gets its position, aliases become shared pointers (no copies, so "billion laughs"
 * input stays small), depth and node count are bounded, and duplicate keys are found by
 * sorting each mapping's keys. libfyaml's diagnostics are collected, never printed.
 */
#include "util/common.h"
#include "config/ytree.h"
#include "util/strbuf.h"
#include <libfyaml.h>

struct anchor {
	char *name;
	struct ynode *node;
};

struct frame {
	struct ynode *node;
	char *anchor;
};

struct builder {
	struct ytree *t;
	ytree_error_fn fn;
	void *arg;
	struct anchor *anchors; /* open-addressing hash table, power-of-two size */
	size_t n_anchors, cap_anchors;
	struct frame *stack;
	size_t depth, alloc_stack;
	struct sw_pos last;
	bool fatal;
	const char *buf;
	size_t len;
};

static void ytree__error(struct builder *b, struct sw_pos pos, bool fatal, const char *fmt, ...)
    SW_PRINTF(4, 5);

static void ytree__error(struct builder *b, struct sw_pos pos, bool fatal, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos.line <= 0)
		pos = b->last;
	if (fatal)
		b->fatal = true;
	b->fn(b->arg, pos, fatal, msg);
}

static uint64_t ytree__hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct anchor *ytree__anchor_slot(struct anchor *tab, size_t cap, const char *name)
{
	size_t i = (size_t)ytree__hash(name) & (cap - 1);
	while (tab[i].name && strcmp(tab[i].name, name))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static void ytree__anchor_set(struct builder *b, char *name, struct ynode *node)
{
	struct anchor *a;

	if ((b->n_anchors + 1) * 2 > b->cap_anchors) {
		size_t ncap = b->cap_anchors ? b->cap_anchors * 2 : 64;
		struct anchor *ntab = xcalloc(ncap, sizeof(*ntab));
		for (size_t i = 0; i < b->cap_anchors; i++)
			if (b->anchors[i].name)
				*ytree__anchor_slot(ntab, ncap, b->anchors[i].name) = b->anchors[i];
		free(b->anchors);
		b->anchors = ntab;
		b->cap_anchors = ncap;
	}
	a = ytree__anchor_slot(b->anchors, b->cap_anchors, name);
	if (a->name) {
		free(name); /* redefined: the latest definition wins, as in YAML */
	} else {
		a->name = name;
		b->n_anchors++;
	}
	a->node = node;
}

static struct ynode *ytree__anchor_get(struct builder *b, const char *name)
{
	if (!b->cap_anchors)
		return NULL;
	return ytree__anchor_slot(b->anchors, b->cap_anchors, name)->node;
}

static struct sw_pos ytree__pos(struct builder *b, struct fy_event *ev)
{
	const struct fy_mark *m = fy_event_start_mark(ev);
	struct sw_pos p = b->last;

	if (m && m->line >= 0 && m->column >= 0) {
		p.line = m->line + 1;
		p.col = m->column + 1;
		b->last = p;
	}
	return p;
}

/*
 * The token's text, unescaped, as a NUL-terminated copy. Read through the chunk iterator:
 * libfyaml 0.7.12's fy_token_get_text() leaks its buffer on some scalars (found by
 * fuzz_config: a single-quoted scalar of 200 "''").
 */
static char *ytree__token_text(struct fy_token *tok, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	struct fy_token_iter *it;
	const struct fy_iter_chunk *c = NULL;
	int err = 0;

	if (tok && (it = fy_token_iter_create(tok)) != NULL) {
		while ((c = fy_token_iter_chunk_next(it, c, &err)) != NULL)
			strbuf_add(&sb, c->str, c->len);
		fy_token_iter_destroy(it);
	}
	return strbuf_detach(&sb, len);
}

/*
 * A single-quoted scalar from its raw text in the input: "''" is a quote, and line breaks
 * fold (one break is a space, n blank lines are n newlines; spaces around breaks go). Done
 * here because libfyaml 0.7.12 gets runs of "''" wrong (five pairs come back as nine
 * quotes; found by fuzz_config).
 */
static char *ytree__single_quoted(const char *raw, size_t n, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i = 0, empties = 0;
	bool first = true;

	while (i <= n) {
		const char *line = raw + i;
		const char *nl = memchr(line, '\n', n - i);
		size_t ll = nl ? (size_t)(nl - line) : n - i;
		bool last = !nl;

		i += ll + 1;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (!first)
			while (ll && (*line == ' ' || *line == '\t'))
				line++, ll--;
		if (!last)
			while (ll && (line[ll - 1] == ' ' || line[ll - 1] == '\t'))
				ll--;
		if (!first) {
			if (!ll && !last) {
				empties++;
				continue;
			}
			if (empties)
				while (empties--)
					strbuf_addch(&sb, '\n');
			else
				strbuf_addch(&sb, ' ');
			empties = 0;
		}
		for (size_t j = 0; j < ll; j++) {
			strbuf_addch(&sb, line[j]);
			if (line[j] == '\'' && j + 1 < ll && line[j + 1] == '\'')
				j++;
		}
		first = false;
		if (last)
			break;
	}
	return strbuf_detach(&sb, len);
}

static char *ytree__scalar_text(struct builder *b, struct fy_token *tok, size_t *len)
{
	const struct fy_mark *s, *e;

	if (tok && fy_token_scalar_style(tok) == FYSS_SINGLE_QUOTED) {
		s = fy_token_start_mark(tok);
		e = fy_token_end_mark(tok);
		if (s && e && s->input_pos <= e->input_pos && e->input_pos <= b->len)
			return ytree__single_quoted(b->buf + s->input_pos,
			                            e->input_pos - s->input_pos, len);
	}
	return ytree__token_text(tok, len);
}

static struct ynode *ytree__new(struct builder *b, enum ynode_type type, struct sw_pos pos)
{
	struct ynode *n;

	if (b->t->n_all >= YTREE_MAX_NODES) {
		ytree__error(b, pos, true, "document too large (more than %d YAML nodes)",
		             YTREE_MAX_NODES);
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->pos = pos;
	ALLOC_GROW(b->t->all, b->t->n_all + 1, b->t->alloc_all);
	b->t->all[b->t->n_all++] = n;
	return n;
}

static void ytree__add(struct builder *b, struct ynode *child)
{
	struct ynode *parent;

	if (!b->depth) {
		if (!b->t->root)
			b->t->root = child;
		return;
	}
	parent = b->stack[b->depth - 1].node;
	ALLOC_GROW(parent->kids, parent->n_kids + 1, parent->alloc_kids);
	parent->kids[parent->n_kids++] = child;
}

struct keyref {
	const struct ynode *key;
	size_t pair;
};

static int ytree__keycmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
	int c = memcmp(x->key->text, y->key->text, n);
	if (c)
		return c;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	return x->pair < y->pair ? -1 : x->pair > y->pair;
}

/* Drop merge keys and the later of duplicate keys, reporting each. */
static void ytree__check_map(struct builder *b, struct ynode *map)
{
	size_t np = ynode_n_pairs(map), nk = 0, out = 0;
	struct keyref *refs = xcalloc(np ? np : 1, sizeof(*refs));
	bool *drop = xcalloc(np ? np : 1, sizeof(*drop));

	for (size_t i = 0; i < np; i++) {
		const struct ynode *k = map->kids[2 * i];
		if (k->type != YN_SCALAR)
			continue;
		if (k->len == 2 && !memcmp(k->text, "<<", 2)) {
			ytree__error(
			    b, k->pos, false,
			    "merge keys ('<<') are not supported; repeat the keys instead");
			drop[i] = true;
			continue;
		}
		refs[nk].key = k;
		refs[nk++].pair = i;
	}
	qsort(refs, nk, sizeof(*refs), ytree__keycmp);
	for (size_t i = 1; i < nk; i++) {
		const struct ynode *k = refs[i].key;
		if (k->len == refs[i - 1].key->len &&
		    !memcmp(k->text, refs[i - 1].key->text, k->len)) {
			ytree__error(b, k->pos, false, "duplicate key '%.*s'",
			             (int)(k->len > 64 ? 64 : k->len), k->text);
			drop[refs[i].pair] = true;
		}
	}
	for (size_t i = 0; i < np; i++) {
		if (drop[i])
			continue;
		map->kids[2 * out] = map->kids[2 * i];
		map->kids[2 * out + 1] = map->kids[2 * i + 1];
		out++;
	}
	map->n_kids = 2 * out;
	free(refs);
	free(drop);
}

static bool ytree__is_null(enum fy_scalar_style style, const char *s, size_t len)
{
	if (style != FYSS_PLAIN)
		return false;
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 &&
	        (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static void ytree__event(struct builder *b, struct fy_event *ev, int *docs)
{
	struct sw_pos pos = ytree__pos(b, ev);
	struct fy_token *anchor_tok = NULL;
	struct ynode *n;
	size_t len;

	switch (ev->type) {
	case FYET_DOCUMENT_START:
		if (++*docs > 1)
			ytree__error(
			    b, pos, true,
			    "more than one YAML document in the file (only one is allowed)");
		return;
	case FYET_SCALAR: {
		struct fy_token *tok = ev->scalar.value;
		enum fy_scalar_style st = tok ? fy_token_scalar_style(tok) : FYSS_PLAIN;
		/* a quoted scalar's mark is past its opening quote: point at the quote */
		if ((st == FYSS_SINGLE_QUOTED || st == FYSS_DOUBLE_QUOTED) && pos.col > 1)
			pos.col--;
		n = ytree__new(b, YN_SCALAR, pos);
		if (!n)
			return;
		n->text = ytree__scalar_text(b, tok, &n->len);
		n->is_null = ytree__is_null(st, n->text, n->len);
		ytree__add(b, n);
		if (ev->scalar.anchor)
			ytree__anchor_set(b, ytree__token_text(ev->scalar.anchor, &len), n);
		return;
	}
	case FYET_ALIAS: {
		char *name = ytree__token_text(ev->alias.anchor, &len);
		if (pos.col > 1)
			pos.col--; /* the mark is past the '*' */
		n = ytree__anchor_get(b, name);
		if (!n) {
			ytree__error(b, pos, false, "unknown alias '*%.64s'", name);
			n = ytree__new(b, YN_SCALAR, pos);
			if (n) {
				n->text = xstrdup("");
				n->is_null = true;
			}
		}
		free(name);
		if (n)
			ytree__add(b, n);
		return;
	}
	case FYET_SEQUENCE_START:
	case FYET_MAPPING_START:
		if (b->depth >= YTREE_MAX_DEPTH) {
			ytree__error(b, pos, true, "nesting too deep (more than %d levels)",
			             YTREE_MAX_DEPTH);
			return;
		}
		n = ytree__new(b, ev->type == FYET_MAPPING_START ? YN_MAP : YN_SEQ, pos);
		if (!n)
			return;
		anchor_tok = ev->type == FYET_MAPPING_START ? ev->mapping_start.anchor
		                                            : ev->sequence_start.anchor;
		ytree__add(b, n);
		ALLOC_GROW(b->stack, b->depth + 1, b->alloc_stack);
		b->stack[b->depth].node = n;
		b->stack[b->depth].anchor = anchor_tok ? ytree__token_text(anchor_tok, &len) : NULL;
		b->depth++;
		return;
	case FYET_SEQUENCE_END:
	case FYET_MAPPING_END: {
		struct frame *f;
		if (!b->depth)
			return;
		f = &b->stack[--b->depth];
		if (f->node->type == YN_MAP)
			ytree__check_map(b, f->node);
		if (f->anchor)
			ytree__anchor_set(b, f->anchor, f->node);
		f->anchor = NULL;
		return;
	}
	default: return;
	}
}

static void ytree__diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/*
 * Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid (overlong forms,
 * surrogates and code points past U+10FFFF included).
 */
static size_t ytree__utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * The input must be UTF-8 without NUL bytes. Checked before libfyaml sees it: besides
 * giving a clear message, this keeps bytes away from a libfyaml 0.7.12 scanner loop
 * ("%" followed by an invalid byte never returns; found by fuzz_config).
 */
static int ytree__check_bytes(struct builder *b, const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	struct sw_pos pos = {1, 1};
	size_t i = 0, n;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3; /* a UTF-8 byte order mark */
	while (i < len) {
		if (!p[i]) {
			ytree__error(b, pos, true, "NUL byte in the file (expected UTF-8 text)");
			return -1;
		}
		n = ytree__utf8_len(p + i, len - i);
		if (!n) {
			ytree__error(b, pos, true,
			             "invalid UTF-8 byte 0x%02x (the file must be UTF-8)", p[i]);
			return -1;
		}
		if (p[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else {
			pos.col++;
		}
		i += n;
	}
	return 0;
}

int ytree_parse(struct ytree *t, const char *buf, size_t len, ytree_error_fn fn, void *arg)
{
	struct builder b = {.t = t, .fn = fn, .arg = arg, .last = {1, 1}, .buf = buf, .len = len};
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag = NULL;
	struct fy_parse_cfg pcfg = {0};
	struct fy_parser *fyp = NULL;
	struct fy_event *ev;
	int docs = 0, rc = 0;

	memset(t, 0, sizeof(*t));
	if (ytree__check_bytes(&b, buf, len))
		return -1;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = ytree__diag_out;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag)
		BUG("fy_diag_create failed");
	fy_diag_set_collect_errors(diag, true);
	pcfg.flags = FYPCF_QUIET;
	pcfg.diag = diag;
	fyp = fy_parser_create(&pcfg);
	if (!fyp)
		BUG("fy_parser_create failed");
	if (fy_parser_set_string(fyp, buf, len)) {
		ytree__error(&b, b.last, true, "cannot read the YAML input");
		goto out;
	}
	while (!b.fatal && (ev = fy_parser_parse(fyp))) {
		ytree__event(&b, ev, &docs);
		fy_parser_event_free(fyp, ev);
	}
	if (!b.fatal && fy_parser_get_stream_error(fyp)) {
		void *it = NULL;
		struct fy_diag_error *de;
		bool any = false;
		while ((de = fy_diag_errors_iterate(diag, &it))) {
			struct sw_pos p = {de->line > 0 ? de->line : 1,
			                   de->column > 0 ? de->column : 1};
			if (de->type < FYET_ERROR)
				continue;
			ytree__error(&b, p, true, "invalid YAML: %s",
			             de->msg ? de->msg : "syntax error");
			any = true;
		}
		if (!any)
			ytree__error(&b, b.last, true, "invalid YAML");
	}
out:
	if (b.fatal)
		rc = -1;
	for (size_t i = 0; i < b.depth; i++)
		free(b.stack[i].anchor);
	free(b.stack);
	for (size_t i = 0; i < b.cap_anchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	return rc;
}

void ytree_release(struct ytree *t)
{
	for (size_t i = 0; i < t->n_all; i++) {
		free(t->all[i]->text);
		free(t->all[i]->kids);
		free(t->all[i]);
	}
	free(t->all);
	memset(t, 0, sizeof(*t));
}
