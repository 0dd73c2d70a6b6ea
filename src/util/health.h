/*
 * health.h - what is healthy right now: one entry per component ("store", "source:lending",
 * "workflow:loan_application", "watcher:disbursement_not_credited"), set by the tasks and
 * read by /readyz, the API, the dashboard and the demo. Thread-safe.
 *
 * It sits in util/ (it needs nothing else) so that every layer that records or reads health
 * reaches it by calling down: the tasks and the broker threads of runtime/ set entries, the
 * API reads them (docs/internals/layers.md).
 */
#ifndef SW_HEALTH_H
#define SW_HEALTH_H

#include "util/common.h"

struct health;

struct health_entry {
	char *name;
	bool ok;
	char *message;   /* last error when !ok, else NULL */
	int64_t since;   /* when it entered this state */
	int64_t last_ok; /* last successful run, TIME_NULL if never */
	/* a workflow's watcher only (has_progress): step records read since the process
	 * started, and of those the ones read again behind the watermark and skipped (read
	 * before), its watermark (TIME_NULL before the first), the point before which every
	 * row is known read (final; TIME_NULL: none), and whether it is reading a backlog (its
	 * last page was full) */
	bool has_progress, catching_up;
	int64_t rows_read, rows_skipped, watermark, final;
};

/* What a watcher reports of its reading (health_progress). */
struct health_reading {
	int64_t rows_read, rows_skipped, watermark, final;
	bool catching_up;
};

struct health *health_new(void);
void health_free(struct health *h);
/* Record the outcome of a run of component name at now; message only when !ok. */
void health_set(struct health *h, const char *name, bool ok, const char *message, int64_t now);
/* Record a watcher's reading progress (entry created if missing, as healthy). */
void health_progress(struct health *h, const char *name, const struct health_reading *r,
                     int64_t now);
/* A copy of every entry, sorted by name; free with health_entries_free. */
size_t health_snapshot(struct health *h, struct health_entry **out);
void health_entries_free(struct health_entry *v, size_t n);

#endif
