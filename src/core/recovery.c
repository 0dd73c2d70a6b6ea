/*
 * recovery.c - the self-recovery schedule (recovery.h). Pure.
 */
#include "util/common.h"
#include "core/recovery.h"

#define RECOVERY_NO_TIME INT64_MIN

int64_t recovery_delay_ms(int64_t backoff_ms, int attempt)
{
	int shift = attempt <= 1 ? 0 : attempt - 1;

	if (backoff_ms <= 0)
		return 0;
	if (shift > 4)
		shift = 4;
	if (backoff_ms > INT64_MAX / 16)
		return backoff_ms;
	return backoff_ms << shift;
}

int recovery_due(const struct recovery_policy *p, const struct recovery_state *s, int64_t now)
{
	if (!p->enabled || !s->open || s->attempts < 0 || s->attempts >= p->max_attempts)
		return 0;
	if (s->next_at != RECOVERY_NO_TIME && now < s->next_at)
		return 0;
	return s->attempts + 1;
}

void recovery_after(const struct recovery_policy *p, int attempt, enum recovery_result r,
                    int64_t retry_after_ms, int64_t now, struct recovery_state *out)
{
	int64_t delay = recovery_delay_ms(p->backoff_ms, attempt);

	out->open = true;
	if (r == RECOVERY_REFUSED) {
		/* the application will not retry this one: no more attempts, nothing under way */
		out->attempts = p->max_attempts > attempt ? p->max_attempts : attempt;
		out->next_at = now;
		return;
	}
	if (retry_after_ms > delay)
		delay = retry_after_ms;
	out->attempts = attempt;
	out->next_at = now > INT64_MAX - delay ? INT64_MAX : now + delay;
}

bool recovery_pending(const struct recovery_policy *p, const struct recovery_state *s, int64_t now)
{
	if (!p->enabled || !s->open)
		return false;
	if (s->attempts < p->max_attempts)
		return true;
	return s->next_at != RECOVERY_NO_TIME && now < s->next_at;
}
