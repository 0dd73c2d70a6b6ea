/*
 * pagerduty.c - the pagerduty receiver (being written).
 */
#include "util/common.h"
#include "notify/receiver-int.h"

static void pagerduty_send(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                           int64_t timeout_ms, struct notify_result *out)
{
	(void)rc;
	(void)m;
	(void)now_ms;
	(void)timeout_ms;
	memset(out, 0, sizeof(*out));
	out->outcome = NOTIFY_RETRY;
	snprintf(out->detail, sizeof(out->detail), "the pagerduty receiver is not built yet");
}

const struct receiver_ops receiver_pagerduty = {"pagerduty", pagerduty_send};
