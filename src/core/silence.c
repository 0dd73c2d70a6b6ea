/*
 * silence.c - silence matching (silence.h). Pure.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/silence.h"

bool silence_matches(const struct silence *s, const char *workflow, const char *step,
                     const char *error)
{
	if (s->workflow && (!workflow || strcmp(s->workflow, workflow)))
		return false;
	if (s->step && (!step || strcmp(s->step, step)))
		return false;
	if (s->error && (!error || strcmp(s->error, error)))
		return false;
	return s->workflow || s->step || s->error;
}

bool silence_active(const struct silence *s, int64_t now)
{
	return s->starts_at <= now && now < s->ends_at;
}

bool silence_mutes(const struct silence *sil, size_t n, const char *workflow, const char *step,
                   const char *error, int64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (silence_active(&sil[i], now) && silence_matches(&sil[i], workflow, step, error))
			return true;
	return false;
}

int64_t silence_pause_until(const struct silence *sil, size_t n, const char *workflow,
                            const char *step, const char *error, int64_t now)
{
	int64_t until = TIME_NULL;
	for (size_t i = 0; i < n; i++)
		if (sil[i].pause_escalation && silence_active(&sil[i], now) &&
		    silence_matches(&sil[i], workflow, step, error) &&
		    (until == TIME_NULL || sil[i].ends_at > until))
			until = sil[i].ends_at;
	if (until != TIME_NULL && until > now + SILENCE_PAUSE_RECHECK_MS)
		until = now + SILENCE_PAUSE_RECHECK_MS;
	return until;
}

void silence_release(struct silence *s)
{
	if (!s)
		return;
	free(s->workflow);
	free(s->step);
	free(s->error);
	free(s->comment);
	free(s->created_by);
	memset(s, 0, sizeof(*s));
}

void silences_free(struct silence *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		silence_release(&v[i]);
	free(v);
}
