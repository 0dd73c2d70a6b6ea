/*
 * test_core_recovery.c - the self-recovery schedule (core/recovery.h), time driven by hand:
 * the first attempt at once, backoff doubling (capped), Retry-After honoured, a refusal
 * stops, max_attempts stops, a closed alert stops, and "still under way" for
 * notify_after_recovery.
 */
#include "helpers.h"
#include "core/recovery.h"
#include "util/timeutil.h"

#define T0  1764500000000LL
#define MIN 60000LL

static void test_delay(void **state)
{
	(void)state;
	assert_int_equal(recovery_delay_ms(MIN, 1), MIN);
	assert_int_equal(recovery_delay_ms(MIN, 2), 2 * MIN);
	assert_int_equal(recovery_delay_ms(MIN, 3), 4 * MIN);
	assert_int_equal(recovery_delay_ms(MIN, 5), 16 * MIN);
	assert_int_equal(recovery_delay_ms(MIN, 50), 16 * MIN); /* capped */
	assert_int_equal(recovery_delay_ms(MIN, 0), MIN);
	assert_int_equal(recovery_delay_ms(0, 3), 0);
	assert_int_equal(recovery_delay_ms(INT64_MAX / 2, 9), INT64_MAX / 2); /* no overflow */
}

/* A whole run: three attempts, failing, with backoff, then nothing more. */
static void test_schedule(void **state)
{
	const struct recovery_policy p = {true, 3, MIN};
	struct recovery_state s = {true, 0, TIME_NULL};
	(void)state;
	assert_int_equal(recovery_due(&p, &s, T0), 1); /* at once */
	assert_true(recovery_pending(&p, &s, T0));
	recovery_after(&p, 1, RECOVERY_FAILED, 0, T0, &s);
	assert_int_equal(s.attempts, 1);
	assert_int_equal(s.next_at, T0 + MIN);
	assert_int_equal(recovery_due(&p, &s, T0 + MIN - 1), 0);
	assert_int_equal(recovery_due(&p, &s, T0 + MIN), 2);
	recovery_after(&p, 2, RECOVERY_ACCEPTED, 0, T0 + MIN, &s);
	assert_int_equal(s.next_at, T0 + 3 * MIN); /* doubled */
	assert_int_equal(recovery_due(&p, &s, T0 + 3 * MIN - 1), 0);
	assert_int_equal(recovery_due(&p, &s, T0 + 3 * MIN), 3);
	recovery_after(&p, 3, RECOVERY_FAILED, 0, T0 + 3 * MIN, &s);
	assert_int_equal(s.attempts, 3);
	/* max_attempts reached: never due again */
	assert_int_equal(recovery_due(&p, &s, T0 + 1000 * MIN), 0);
	/* ...but still under way for one more delay after the last attempt */
	assert_true(recovery_pending(&p, &s, T0 + 3 * MIN + 4 * MIN - 1));
	assert_false(recovery_pending(&p, &s, T0 + 3 * MIN + 4 * MIN));
}

static void test_retry_after_and_refusal(void **state)
{
	const struct recovery_policy p = {true, 5, MIN};
	struct recovery_state s = {true, 0, TIME_NULL};
	(void)state;
	/* a longer Retry-After wins over the backoff; a shorter one does not shorten it */
	recovery_after(&p, 1, RECOVERY_FAILED, 10 * MIN, T0, &s);
	assert_int_equal(s.next_at, T0 + 10 * MIN);
	recovery_after(&p, 2, RECOVERY_FAILED, 1000, T0 + 10 * MIN, &s);
	assert_int_equal(s.next_at, T0 + 12 * MIN);
	/* a refusal (4xx) stops at once, and nothing is under way */
	recovery_after(&p, 3, RECOVERY_REFUSED, 0, T0 + 12 * MIN, &s);
	assert_int_equal(s.attempts, 5);
	assert_int_equal(recovery_due(&p, &s, T0 + 100 * MIN), 0);
	assert_false(recovery_pending(&p, &s, T0 + 12 * MIN));
}

static void test_closed_or_off(void **state)
{
	const struct recovery_policy on = {true, 3, MIN}, off = {false, 3, MIN};
	struct recovery_state open = {true, 1, T0}, closed = {false, 1, T0};
	(void)state;
	assert_int_equal(recovery_due(&on, &open, T0), 2);
	assert_int_equal(recovery_due(&on, &closed, T0), 0);
	assert_int_equal(recovery_due(&off, &open, T0), 0);
	assert_false(recovery_pending(&on, &closed, T0));
	assert_false(recovery_pending(&off, &open, T0));
	assert_true(recovery_pending(&on, &open, T0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay),
	    cmocka_unit_test(test_schedule),
	    cmocka_unit_test(test_retry_after_and_refusal),
	    cmocka_unit_test(test_closed_or_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
