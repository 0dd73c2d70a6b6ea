/*
 * silence.h - silence matching, pure: whether a silence is active at a time, whether it
 * matches an alert (or incident) of workflow/step/error, whether silences mute a
 * notification, and until when they pause an alert's escalation.
 *
 * A silence has matchers workflow, step and error (NULL: any; at least one is set, so a
 * silence with none matches nothing); each set matcher compares exactly, case-sensitive.
 * It is active from starts_at (inclusive) to ends_at (exclusive). The store's
 * store_silences_active reads only the silences active at now (SQL pre-filter); matching is
 * done here, in C, always.
 */
#ifndef SW_CORE_SILENCE_H
#define SW_CORE_SILENCE_H

#include "util/common.h"
#include "util/timeutil.h"

/*
 * Silences: mute notifications for alerts matching workflow/step/error (NULL: any; at least
 * one set) between starts_at (inclusive) and ends_at (exclusive). Active-ness is computed
 * from the time asked about, so a silence expires, or starts, by itself.
 */
struct silence {
	int64_t id;
	char *workflow, *step, *error; /* NULL: any */
	int64_t starts_at, ends_at, created_at;
	bool pause_escalation; /* also stop escalation of matched alerts meanwhile */
	char *comment;         /* may be NULL */
	char *created_by;
};
void silence_release(struct silence *s);
void silences_free(struct silence *v, size_t n);

/* A pause_escalation silence is looked at again at least this often, so one ended early
 * (DELETE) lets escalation resume within that time. */
#define SILENCE_PAUSE_RECHECK_MS 60000

/* Whether s matches an alert of workflow/step/error (exact, case-sensitive compares). */
bool silence_matches(const struct silence *s, const char *workflow, const char *step,
                     const char *error);
/* Is s active at now. */
bool silence_active(const struct silence *s, int64_t now);

/* Whether one of sil[0..n) is active at now and matches workflow/step/error. */
bool silence_mutes(const struct silence *sil, size_t n, const char *workflow, const char *step,
                   const char *error, int64_t now);

/*
 * Until when escalation of an alert of workflow/step/error is paused at now: the latest
 * ends_at of the active, matching silences with pause_escalation, but at most
 * now + SILENCE_PAUSE_RECHECK_MS; TIME_NULL when none pauses it.
 */
int64_t silence_pause_until(const struct silence *sil, size_t n, const char *workflow,
                            const char *step, const char *error, int64_t now);

#endif
