/*
 * health.c - the health registry: a small array under a mutex (a handful of components).
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "util/health.h"
#include <pthread.h>

struct health {
	pthread_mutex_t lock;
	struct health_entry *v;
	size_t n, alloc;
};

struct health *health_new(void)
{
	struct health *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	health_entries_free(h->v, h->n);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The entry of name, created (in state !ok, so the caller's state counts as a change) if
 * missing. Under h->lock. */
static struct health_entry *entry_of(struct health *h, const char *name, bool ok, bool *created)
{
	struct health_entry *e;
	*created = false;
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].name, name))
			return &h->v[i];
	*created = true;
	ALLOC_GROW(h->v, h->n + 1, h->alloc);
	e = &h->v[h->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->ok = !ok;
	e->last_ok = TIME_NULL;
	e->watermark = TIME_NULL;
	return e;
}

void health_set(struct health *h, const char *name, bool ok, const char *message, int64_t now)
{
	struct health_entry *e;
	bool created;
	pthread_mutex_lock(&h->lock);
	e = entry_of(h, name, ok, &created);
	if (e->ok != ok)
		e->since = now;
	e->ok = ok;
	free(e->message);
	e->message = !ok && message ? xstrdup(message) : NULL;
	if (ok)
		e->last_ok = now;
	pthread_mutex_unlock(&h->lock);
}

void health_progress(struct health *h, const char *name, const struct health_reading *r,
                     int64_t now)
{
	struct health_entry *e;
	bool created;
	pthread_mutex_lock(&h->lock);
	e = entry_of(h, name, true, &created);
	if (created) {
		e->ok = true;
		e->since = now;
	}
	e->has_progress = true;
	e->rows_read = r->rows_read;
	e->rows_skipped = r->rows_skipped;
	e->watermark = r->watermark;
	e->final = r->final;
	e->catching_up = r->catching_up;
	pthread_mutex_unlock(&h->lock);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct health_entry *)a)->name,
	              ((const struct health_entry *)b)->name);
}

size_t health_snapshot(struct health *h, struct health_entry **out)
{
	size_t n;
	pthread_mutex_lock(&h->lock);
	n = h->n;
	*out = xcalloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		(*out)[i] = h->v[i];
		(*out)[i].name = xstrdup(h->v[i].name);
		(*out)[i].message = xstrdup_or_null(h->v[i].message);
	}
	pthread_mutex_unlock(&h->lock);
	qsort(*out, n, sizeof(**out), cmp_entry);
	return n;
}

void health_entries_free(struct health_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].message);
	}
	free(v);
}
