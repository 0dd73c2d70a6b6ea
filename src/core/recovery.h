/*
 * recovery.h - self-recovery decisions (SPEC section 3, `recover`), pure: which recovery
 * attempt of an open alert is due, what to store after one, and whether recovery is still
 * under way (for `notify_after_recovery`). No I/O; the recovery task and the store do that.
 *
 * Schedule: attempt 1 is due as soon as the alert is open; after attempt k the next is due
 * backoff * 2^(k-1) later (capped at 16 * backoff, and at least the receiver's Retry-After);
 * no attempt after max_attempts, after the application refused the request for good (a 4xx
 * other than 408/429), or once the alert closed. After the last attempt, recovery counts as
 * under way for one more delay, so the resolver can see the retried step succeed before
 * anyone is paged.
 */
#ifndef SW_CORE_RECOVERY_H
#define SW_CORE_RECOVERY_H

#include "util/common.h"

struct recovery_policy {
	bool enabled;
	int max_attempts;   /* >= 1 */
	int64_t backoff_ms; /* > 0 */
};

/* What the store holds for one alert. */
struct recovery_state {
	bool open;       /* the alert is not RESOLVED or ABANDONED */
	int attempts;    /* attempts made so far */
	int64_t next_at; /* TIME_NULL (INT64_MIN): due at once */
};

enum recovery_result {
	RECOVERY_ACCEPTED, /* the application answered 2xx (the alert stays open) */
	RECOVERY_FAILED,   /* timeout, connection error, 5xx, 408, 429: try again */
	RECOVERY_REFUSED   /* any other answer: stop trying */
};

/* The wait after attempt k (1-based) before the next: backoff * 2^(k-1), at most 16x. */
int64_t recovery_delay_ms(int64_t backoff_ms, int attempt);

/* The number (1..max_attempts) of the attempt due at now, or 0 when none is. */
int recovery_due(const struct recovery_policy *p, const struct recovery_state *s, int64_t now);

/* The state to store after attempt `attempt` ended with r at now; retry_after_ms is the
 * receiver's Retry-After (0 when none). */
void recovery_after(const struct recovery_policy *p, int attempt, enum recovery_result r,
                    int64_t retry_after_ms, int64_t now, struct recovery_state *out);

/* Recovery is still being tried for this alert at now: more attempts will come, or the last
 * one is younger than its delay. False when the policy is off or the alert closed. */
bool recovery_pending(const struct recovery_policy *p, const struct recovery_state *s, int64_t now);

#endif
