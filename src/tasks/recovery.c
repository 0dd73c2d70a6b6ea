/*
 * recovery.c - the recover task: for open alerts of a step whose policy has `recover`,
 * POST {instance_id, user_id, workflow, step, alert_id, attempt, max_attempts, error} to
 * the application's retry endpoint, up to max_attempts with backoff (core/recovery.h), and
 * record each attempt and its outcome as a "recovery_attempt" history row. Success of the
 * call does not resolve the alert: the resolver does, when the step records show recovery.
 *
 * DESIGN: the call is made outside any transaction and recorded after it (compare-and-set
 * on the attempt count), so a crash in between repeats the call once, with the same
 * Idempotency-Key ("stepwatch-recovery-<alert id>-<attempt>"). A run handles at most
 * RECOVER_PER_RUN calls, and stops calling an endpoint for the rest of the run after one
 * call to it got no HTTP answer or timed out, so a hanging application costs one timeout per
 * run, not one per alert; those alerts stay due for the next run.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "core/duration.h"
#include "core/recovery.h"
#include "notify/http_post.h"
#include "tasks/tasks-int.h"
#include "store/store_recovery.h"

#include <jansson.h>

#define RECOVER_PER_RUN    200
#define RECOVER_PAGE       100
#define RECOVER_TIMEOUT_MS 5000

static struct recovery_policy policy_of(const struct sw_recover *r)
{
	struct recovery_policy p = {r->enabled && r->webhook_url, r->max_attempts, r->backoff_ms};
	return p;
}

static char *request_body(const struct recovery_row *r, int attempt, int max_attempts)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "instance_id", json_string(r->instance_id));
	json_object_set_new(o, "user_id", json_string(r->user_id));
	json_object_set_new(o, "workflow", json_string(r->workflow));
	json_object_set_new(o, "step", json_string(r->step));
	json_object_set_new(o, "alert_id", json_integer(r->alert_id));
	json_object_set_new(o, "attempt", json_integer(attempt));
	json_object_set_new(o, "max_attempts", json_integer(max_attempts));
	json_object_set_new(o, "error", r->error ? json_string(r->error) : json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s ? s : xstrdup("{}");
}

/* One call and its record. Returns 0, -1 on a store error; *unreachable is set when the
 * endpoint timed out or refused the connection. */
static int attempt_one(struct task *t, const struct sw_recover *rc, const struct recovery_row *r,
                       int64_t now, bool *unreachable, struct sw_err *err)
{
	const struct recovery_policy pol = policy_of(rc);
	const struct recovery_state st = {true, r->attempts, r->next_at};
	int attempt = recovery_due(&pol, &st, now);
	struct recovery_state next;
	struct notify_result res;
	struct http_post req = {0};
	enum recovery_result outcome;
	char *body, *key_hdr;
	const char *hdrs[2];
	struct strbuf reason = STRBUF_INIT;
	char d[32];
	bool applied = false;
	int rc_store;
	int64_t t0;

	if (!attempt)
		return 0;
	body = request_body(r, attempt, pol.max_attempts);
	key_hdr =
	    xasprintf("Idempotency-Key: stepwatch-recovery-%" PRId64 "-%d", r->alert_id, attempt);
	hdrs[0] = key_hdr;
	hdrs[1] = NULL;
	req.url = rc->webhook_url;
	req.headers = hdrs;
	req.body = body;
	req.body_len = strlen(body);
	req.timeout_ms = RECOVER_TIMEOUT_MS;
	t0 = time_mono_ms();
	http_post(&req, time_now_ms(), &res, NULL);
	now += time_mono_ms() - t0; /* the call's own time, on the task's clock */
	if (res.outcome == NOTIFY_OK)
		outcome = RECOVERY_ACCEPTED;
	else if (res.outcome == NOTIFY_RETRY)
		outcome = RECOVERY_FAILED;
	else
		outcome = RECOVERY_REFUSED;
	/* no HTTP answer at all, or one that did not finish in time (a slow drip) */
	*unreachable = res.outcome == NOTIFY_RETRY &&
	               (res.status == 0 || !strncmp(res.detail, "timed out", 9));
	recovery_after(&pol, attempt, outcome, res.retry_after_ms, now, &next);
	strbuf_addf(&reason, "attempt %d/%d: %s (%s)", attempt, pol.max_attempts,
	            outcome == RECOVERY_ACCEPTED ? "accepted"
	            : outcome == RECOVERY_FAILED ? "failed"
	                                         : "refused",
	            res.detail);
	if (next.attempts < pol.max_attempts)
		strbuf_addf(&reason, "; next in %s",
		            duration_format(next.next_at - now, d, sizeof(d)));
	else
		strbuf_addstr(&reason, "; no more attempts");
	rc_store = store_recovery_record(t->store, r->alert_id, attempt, next.attempts,
	                                 next.next_at, now, reason.buf, &applied, err);
	if (rc_store == STORE_ENOTFOUND)
		rc_store = 0;
	if (!rc_store && applied) {
		t->stats.alerts_changed++;
		log_info("recovery attempt", "alert=%" PRId64 " attempt=%d outcome=%s status=%d",
		         r->alert_id, attempt,
		         outcome == RECOVERY_ACCEPTED ? "accepted"
		         : outcome == RECOVERY_FAILED ? "failed"
		                                      : "refused",
		         res.status);
	}
	strbuf_release(&reason);
	free(key_hdr);
	free(body);
	return rc_store ? -1 : 0;
}

int task__recover(struct task *t, int64_t now, struct sw_err *err)
{
	const struct sw_config *cfg = t->env->cfg;
	int calls = 0;

	for (size_t w = 0; w < cfg->n_workflows; w++) {
		const struct sw_workflow *wf = &cfg->workflows[w];
		for (size_t s = 0; s < wf->n_steps && calls < RECOVER_PER_RUN; s++) {
			const struct sw_recover *rc = &wf->steps[s].policy.recover;
			int64_t after = 0;
			bool unreachable = false;

			if (!rc->enabled || !rc->webhook_url)
				continue;
			if (task__store(t, now, err) < 0)
				return -1;
			while (!unreachable && calls < RECOVER_PER_RUN) {
				struct recovery_row *v = NULL;
				size_t n = 0, i;
				if (store_recovery_due(t->store, wf->name, wf->steps[s].name,
				                       rc->max_attempts, now, after, RECOVER_PAGE,
				                       &v, &n, err) < 0)
					return -1;
				for (i = 0; i < n && !unreachable && calls < RECOVER_PER_RUN; i++) {
					calls++;
					if (attempt_one(t, rc, &v[i], now, &unreachable, err) < 0) {
						recovery_rows_free(v, n);
						return -1;
					}
					after = v[i].alert_id;
				}
				recovery_rows_free(v, n);
				if (n < RECOVER_PAGE)
					break;
			}
		}
	}
	return 0;
}
