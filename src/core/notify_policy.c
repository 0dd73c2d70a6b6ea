/*
 * notify_policy.c - noise control per incident (notify_policy.h). One message per decision
 * at most: when several things changed at once, the most important one is reported and the
 * summary says the rest (a level raise also says how many users were added); anything left
 * (say, an acknowledgement behind an escalation) is decided again at the next look.
 */
#include "util/common.h"
#include "util/timeutil.h"
#include "core/duration.h"
#include "core/notify_policy.h"

static const char *const event_names[] = {"opened",   "escalated",    "updated",
                                          "reminder", "acknowledged", "resolved"};

const char *np_event_name(enum np_event ev)
{
	return (unsigned)ev < ARRAY_SIZE(event_names) ? event_names[ev] : "unknown";
}

void notify_sent_init(struct notify_sent *s)
{
	memset(s, 0, sizeof(*s));
	s->level = ALERT_INITIATED;
	s->last_at = TIME_NULL;
}

void notify_key(int64_t incident_id, int64_t seq, const char *receiver, char *buf, size_t len)
{
	snprintf(buf, len, "sw-%" PRId64 "-%" PRId64 "-%s", incident_id, seq, receiver);
}

void notify_dedup_key(int64_t incident_id, char *buf, size_t len)
{
	snprintf(buf, len, "stepwatch-incident-%" PRId64, incident_id);
}

int64_t notify_backoff_ms(int attempt, int64_t cap_ms, int64_t retry_after_ms, uint32_t rnd)
{
	int64_t d = 5000;
	if (retry_after_ms > 0) {
		if (retry_after_ms < 1000)
			return 1000;
		return retry_after_ms > 3600000 ? 3600000 : retry_after_ms;
	}
	if (cap_ms < 1000)
		cap_ms = 1000;
	for (int i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	/* jitter in [0.8, 1.2): spreads the retries of many messages failing together */
	return d * (800 + (int64_t)(rnd % 400)) / 1000;
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (a == TIME_NULL)
		return b;
	if (b == TIME_NULL)
		return a;
	return a < b ? a : b;
}

static int64_t after(int64_t t, int64_t d)
{
	return d > INT64_MAX - t ? INT64_MAX : t + d;
}

/* Whether users grew enough since the last message to be worth one. */
static bool grown(const struct notify_policy *p, int64_t last, int64_t now_users)
{
	int64_t need = last * p->growth_percent / 100;
	if (need < p->growth_min_users)
		need = p->growth_min_users;
	if (need < 1)
		need = 1;
	return now_users - last >= need;
}

static const char *users_word(int64_t n)
{
	return n == 1 ? "user" : "users";
}

static void say(struct notify_decision *d, enum np_event ev, enum alert_state level,
                const char *fmt, ...) SW_PRINTF(4, 5);

static void say(struct notify_decision *d, enum np_event ev, enum alert_state level,
                const char *fmt, ...)
{
	va_list ap;
	d->send = true;
	d->event = ev;
	d->level = level;
	va_start(ap, fmt);
	vsnprintf(d->summary, sizeof(d->summary), fmt, ap);
	va_end(ap);
}

/* Mark a message as planned in d->next. */
static void planned(struct notify_decision *d, const struct notify_incident *inc, int64_t now)
{
	d->next.seq++;
	d->next.last_at = now;
	d->next.users = inc->affected_users;
	d->next.muted = false;
}

void notify_decide(const struct notify_policy *p, const struct notify_incident *inc,
                   const struct notify_sent *sent, bool muted, int64_t now,
                   struct notify_decision *out)
{
	const struct notify_sent *s = sent;
	int64_t du = inc->affected_users - s->users;
	char grow[64] = "";
	char d[32];

	memset(out, 0, sizeof(*out));
	out->next = *s;
	out->recheck_at = TIME_NULL;
	if (s->done)
		goto out;

	if (!inc->open) {
		/* resolved: tell whoever was told it is open; else stay silent */
		out->next.done = true;
		if (s->level >= ALERT_P2) {
			int64_t took = inc->resolved_at != TIME_NULL
			                   ? inc->resolved_at - inc->opened_at
			                   : now - inc->opened_at;
			say(out, NP_RESOLVED, s->level,
			    "resolved after %s; %" PRId64 " %s affected",
			    duration_format(took < 0 ? 0 : took / 1000 * 1000, d, sizeof(d)),
			    inc->affected_users, users_word(inc->affected_users));
			planned(out, inc, now);
		}
		goto out;
	}
	if (muted) {
		out->next.muted = true;
		goto out;
	}
	if (inc->level < ALERT_P2)
		goto out; /* nobody's level yet: the level raise is the change to report */

	if (s->level < ALERT_P2) {
		int64_t due = after(inc->opened_at, p->group_wait_ms);
		if (now < due) {
			out->recheck_at = due;
			goto out;
		}
		if (inc->recovering)
			goto out; /* a blip that the retries heal pages no one */
		say(out, NP_OPENED, inc->level,
		    "%" PRId64 " %s affected, %" PRId64 " open %s, level %s", inc->affected_users,
		    users_word(inc->affected_users), inc->open_alerts,
		    inc->open_alerts == 1 ? "alert" : "alerts", alert_level_name(inc->level));
		out->next.level = inc->level;
		out->next.acked = inc->acked; /* an acknowledged incident needs no separate ack */
		planned(out, inc, now);
		goto out;
	}

	if (du > 0)
		snprintf(grow, sizeof(grow), "; +%" PRId64 " %s since the last message", du,
		         users_word(du));
	if (inc->level > s->level) {
		say(out, NP_ESCALATED, inc->level,
		    "escalated to %s (was %s); %" PRId64 " %s affected%s",
		    alert_level_name(inc->level), alert_level_name(s->level), inc->affected_users,
		    users_word(inc->affected_users), grow);
		out->next.level = inc->level;
		planned(out, inc, now);
		goto out;
	}
	if (inc->acked && !s->acked) {
		say(out, NP_ACKNOWLEDGED, s->level, "acknowledged by %s; %" PRId64 " %s affected",
		    inc->acked_by ? inc->acked_by : "someone", inc->affected_users,
		    users_word(inc->affected_users));
		out->next.acked = true;
		planned(out, inc, now);
		goto out;
	}
	if (s->muted) {
		say(out, NP_UPDATED, s->level,
		    "silence ended; still open, %" PRId64 " %s affected%s", inc->affected_users,
		    users_word(inc->affected_users), grow);
		planned(out, inc, now);
		goto out;
	}
	if (grown(p, s->users, inc->affected_users)) {
		int64_t due =
		    s->last_at == TIME_NULL ? now : after(s->last_at, p->group_interval_ms);
		if (now >= due) {
			say(out, NP_UPDATED, s->level,
			    "+%" PRId64 " %s since the last message; %" PRId64 " affected", du,
			    users_word(du), inc->affected_users);
			planned(out, inc, now);
			goto out;
		}
		out->recheck_at = due;
	}
	if (!inc->acked && p->repeat_interval_ms > 0 && s->last_at != TIME_NULL) {
		int64_t due = after(s->last_at, p->repeat_interval_ms);
		if (now >= due) {
			say(out, NP_REMINDER, s->level,
			    "still open at %s and not acknowledged, %s since the last message; "
			    "%" PRId64 " %s affected",
			    alert_level_name(inc->level) ? alert_level_name(inc->level) : "?",
			    duration_format((now - s->last_at) / 1000 * 1000, d, sizeof(d)),
			    inc->affected_users, users_word(inc->affected_users));
			planned(out, inc, now);
			out->recheck_at = TIME_NULL;
			goto out;
		}
		out->recheck_at = earliest(out->recheck_at, due);
	}
out:
	out->changed = out->next.seq != s->seq || out->next.level != s->level ||
	               out->next.users != s->users || out->next.last_at != s->last_at ||
	               out->next.acked != s->acked || out->next.muted != s->muted ||
	               out->next.done != s->done;
}
