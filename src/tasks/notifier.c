/*
 * notifier.c - notifications: the "notify" task that plans messages into the outbox, and
 * the delivery lanes that send them (notifier.h).
 *
 * DESIGN: planning is a task like the validator. One run reads, a page at a time, every
 * incident that may need a message together with what was already sent about it
 * (notify_state), decides with core/notify_policy.c, and writes the page's outbox rows and
 * new notify_state rows in one transaction (none when nothing is due: an idle run takes no
 * write lock). Each message's idempotency key is
 * derived from (incident, message number, receiver), so a run repeated after a crash or on
 * another node inserts nothing new (the outbox's key is unique). The outbox is thus written
 * in the same transaction as the *record* of the change it reports, not inside the
 * transaction of the alert change itself: hooking every incident change inside the
 * store's alert transactions (store_alerts.c) would tie the policy to the hottest store
 * code; the planner reads the incidents' state instead, at most one cadence (1 s, or at
 * once when a task reports changed alerts: the runtime kicks "notify") after the change
 * committed.
 *
 * Delivery: lanes, one per receiver, claim due rows (store_outbox_claim takes a lease by
 * pushing next_attempt_at past the send's timeout), call send(), and record the outcome:
 * sent after a 2xx (with a "notified" history row on the incident's alerts); a retry with
 * capped, jittered exponential backoff (or the receiver's Retry-After) on timeouts, 5xx,
 * 429; failed with the reason on other answers, or after retrying for GIVE_UP_MS.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "tasks/tasks-int.h"
#include "tasks/notifier.h"
#include "store/store_notify.h"
#include "core/notify_policy.h"
#include "core/silence.h"
#include "notify/receiver.h"
#include "oncall/oncall.h"
#include "store/store_incidents.h"
#include "store/store_silences.h"
#include "store/store_stats.h"
#include "store/store_recovery.h"
#include <jansson.h>
#include <pthread.h>

#define PAGE          500
#define WAKE_MS       1000
#define LEASE_EXTRA   5000
#define BACKOFF_CAP   (10 * 60000)
#define GIVE_UP_MS    (24 * 3600000LL)
#define FAILING_LIMIT (2 * 60000) /* failing this long without a success: unhealthy */
#define USUAL_SPAN    (7 * 24 * 3600000LL)

/* ---- planning ---------------------------------------------------------------------------- */

static const struct sw_receiver *receiver_named(const struct sw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (!strcmp(cfg->receivers[i].name, name))
			return &cfg->receivers[i];
	return NULL;
}

static const char *on_call(const struct sw_roster *r, int64_t now)
{
	return r ? oncall_who(r, now, NULL, NULL) : NULL;
}

/* The receivers of an incident at level: every receiver of P2 up to level, once each. */
static size_t receivers_for(const struct sw_config *cfg, enum alert_state level, const char **out,
                            size_t max)
{
	size_t n = 0;
	for (int l = 0; l < 3 && l < (int)level; l++)
		for (size_t k = 0; k < cfg->levels[l].n_notify; k++) {
			const char *name = cfg->levels[l].notify[k];
			bool seen = false;
			for (size_t j = 0; j < n; j++)
				seen = seen || !strcmp(out[j], name);
			if (!seen && n < max)
				out[n++] = name;
		}
	return n;
}

static const char *label_error(const char *labels_json, char *buf, size_t len)
{
	json_t *j = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
	const json_t *e = json_object_get(j, "error");
	const char *r = NULL;
	if (json_is_string(e)) {
		snprintf(buf, len, "%s", json_string_value(e));
		r = buf;
	}
	json_decref(j);
	return r;
}

static bool muted_by(const struct silence *sil, size_t nsil, const struct incident *inc,
                     int64_t now)
{
	char eb[256];
	const char *error = label_error(inc->labels_json, eb, sizeof(eb));
	return silence_mutes(sil, nsil, inc->workflow, inc->step, error, now);
}

/* A step's conversion over the last hour and its usual one, looked up once per run. */
struct conv {
	char *workflow, *step;
	double last, usual;
};

static double rate(const struct funnel_step *f)
{
	return f->entered > 0 ? (double)f->succeeded / (double)f->entered : -1;
}

static const struct conv *conversion(struct store *st, struct conv **cache, size_t *n,
                                     const char *workflow, const char *step, int64_t now)
{
	struct funnel_step a, b;
	struct conv *c;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*cache)[i].workflow, workflow) && !strcmp((*cache)[i].step, step))
			return &(*cache)[i];
	*cache = xreallocarray(*cache, *n + 1, sizeof(**cache));
	c = &(*cache)[(*n)++];
	c->workflow = xstrdup(workflow);
	c->step = xstrdup(step);
	c->last = c->usual = -1;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (!store_stats_funnel_step(st, workflow, step, now - 3600000, TIME_NULL, TIME_NULL, &a,
	                             NULL))
		c->last = rate(&a);
	if (!store_stats_funnel_step(st, workflow, step, now - USUAL_SPAN, now - 3600000, TIME_NULL,
	                             &b, NULL))
		c->usual = rate(&b);
	return c;
}

static char *payload_json(const struct sw_config *cfg, const struct incident *inc,
                          const struct notify_decision *d, const struct conv *cv,
                          const struct sw_receiver *rc, int64_t now)
{
	json_t *o = json_object(), *labels;
	char dk[64];
	char *s;
	labels = inc->labels_json ? json_loads(inc->labels_json, 0, NULL) : NULL;
	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}
	notify_dedup_key(inc->id, dk, sizeof(dk));
	json_object_set_new(o, "event", json_string(np_event_name(d->event)));
	json_object_set_new(o, "summary", json_string(d->summary));
	json_object_set_new(o, "incident_id", json_integer(inc->id));
	json_object_set_new(o, "workflow", json_string(inc->workflow));
	json_object_set_new(o, "step", json_string(inc->step));
	json_object_set_new(o, "rule", json_string(inc->rule));
	json_object_set_new(o, "labels", labels);
	json_object_set_new(o, "level", json_string(alert_state_name(d->level)));
	json_object_set_new(o, "state", json_string(inc->open ? "OPEN" : "RESOLVED"));
	json_object_set_new(o, "open_alerts", json_integer(inc->open_alerts));
	json_object_set_new(o, "affected_users", json_integer(inc->affected_users));
	json_object_set_new(o, "conv_last_hour", json_real(cv ? cv->last : -1));
	json_object_set_new(o, "conv_usual", json_real(cv ? cv->usual : -1));
	json_object_set_new(o, "opened_at", json_integer(inc->opened_at));
	json_object_set_new(o, "at", json_integer(now));
	json_object_set_new(o, "dedup_key", json_string(dk));
	if (cfg->http.listen) {
		char *u = xasprintf("http://%s/", cfg->http.listen);
		json_object_set_new(o, "dashboard_url", json_string(u));
		free(u);
		u = xasprintf("http://%s/api/v1/incidents/%" PRId64, cfg->http.listen, inc->id);
		json_object_set_new(o, "api_url", json_string(u));
		free(u);
	}
	if (rc->roster && on_call(rc->roster, now))
		json_object_set_new(o, "oncall", json_string(on_call(rc->roster, now)));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s ? s : xstrdup("{}");
}

/* notify_after_recovery: whether the incident's first message waits for self-recovery. */
static int recovering(struct store *st, const struct sw_config *cfg, const struct incident *inc,
                      int64_t now, bool *out, struct sw_err *err)
{
	const struct sw_step_policy *pol = task__policy(cfg, inc->workflow, inc->step);
	*out = false;
	if (!pol || !pol->recover.enabled || !pol->notify_after_recovery)
		return 0;
	return store_incident_recovery_pending(st, inc->id, pol->recover.max_attempts, now, out,
	                                       err) < 0
	           ? -1
	           : 0;
}

struct plan_buf {
	struct outbox_new *o;
	char **keys, **payloads;
	size_t n, alloc;
};

static void plan_buf_clear(struct plan_buf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->keys[i]);
		free(b->payloads[i]);
	}
	b->n = 0;
}

static void plan_buf_free(struct plan_buf *b)
{
	plan_buf_clear(b);
	free(b->o);
	free(b->keys);
	free(b->payloads);
}

static void plan_add(struct plan_buf *b, const char *key, const char *receiver,
                     const struct incident *inc, const char *event, char *payload, int64_t now)
{
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 64;
		b->o = xreallocarray(b->o, b->alloc, sizeof(*b->o));
		b->keys = xreallocarray(b->keys, b->alloc, sizeof(*b->keys));
		b->payloads = xreallocarray(b->payloads, b->alloc, sizeof(*b->payloads));
	}
	b->keys[b->n] = xstrdup(key);
	b->payloads[b->n] = payload;
	b->o[b->n].idem_key = b->keys[b->n];
	b->o[b->n].receiver = receiver;
	b->o[b->n].incident_id = inc->id;
	b->o[b->n].event = event;
	b->o[b->n].payload = payload;
	b->o[b->n].next_attempt_at = now;
	b->n++;
}

int task__notify(struct task *t, int64_t now, struct sw_err *err)
{
	const struct sw_config *cfg = t->env->cfg;
	struct notify_policy pol = {cfg->notify.group_wait_ms, cfg->notify.group_interval_ms,
	                            cfg->notify.repeat_interval_ms, NOTIFY_GROWTH_MIN_USERS,
	                            NOTIFY_GROWTH_PERCENT};
	struct silence *sil = NULL;
	struct notify_row *rows = NULL;
	struct conv *cv = NULL;
	struct plan_buf pb = {0};
	int64_t *st_ids = NULL;
	struct notify_sent *st_new = NULL;
	size_t nsil = 0, nrows = 0, ncv = 0, planned = 0;
	int64_t after = 0;
	int rc = -1;

	if (task__store(t, now, err) < 0)
		return -1;
	if (store_silences_active(t->store, now, &sil, &nsil, err) < 0)
		return -1;
	for (;;) {
		size_t added = 0, nst = 0;
		if (store_notify_candidates(t->store, after, PAGE, &rows, &nrows, err) < 0)
			goto out;
		st_ids = xreallocarray(st_ids, nrows ? nrows : 1, sizeof(*st_ids));
		st_new = xreallocarray(st_new, nrows ? nrows : 1, sizeof(*st_new));
		for (size_t i = 0; i < nrows; i++) {
			struct incident *inc = &rows[i].inc;
			struct notify_incident ni = {inc->id,
			                             inc->open,
			                             inc->level,
			                             inc->open_alerts,
			                             inc->affected_users,
			                             inc->opened_at,
			                             inc->resolved_at,
			                             inc->acked_by != NULL,
			                             inc->acked_by,
			                             false};
			struct notify_decision d;
			if (!rows[i].sent.done && rows[i].sent.level < ALERT_P2 && inc->open &&
			    inc->level >= ALERT_P2 &&
			    recovering(t->store, cfg, inc, now, &ni.recovering, err) < 0)
				goto out;
			notify_decide(&pol, &ni, &rows[i].sent,
			              inc->open && muted_by(sil, nsil, inc, now), now, &d);
			if (d.send) {
				const char *names[64];
				size_t nr = receivers_for(cfg, d.level, names, ARRAY_SIZE(names));
				const struct conv *c =
				    conversion(t->store, &cv, &ncv, inc->workflow, inc->step, now);
				for (size_t k = 0; k < nr; k++) {
					const struct sw_receiver *r = receiver_named(cfg, names[k]);
					char key[256];
					if (!r)
						continue;
					notify_key(inc->id, d.next.seq, r->name, key, sizeof(key));
					plan_add(&pb, key, r->name, inc, np_event_name(d.event),
					         payload_json(cfg, inc, &d, c, r, now), now);
				}
				log_info("notification planned",
				         "incident=%" PRId64
				         " event=%s level=%s receivers=%zu summary=%s",
				         inc->id, np_event_name(d.event), alert_state_name(d.level),
				         nr, d.summary);
			}
			if (d.changed) {
				st_ids[nst] = inc->id;
				st_new[nst++] = d.next;
			}
		}
		/* the page's messages and new states together, or none of them */
		if (nst || pb.n) {
			if (store_tx_begin(t->store, err) < 0)
				goto out;
			for (size_t k = 0; k < nst; k++)
				if (store_notify_state_put(t->store, st_ids[k], &st_new[k], now,
				                           err) < 0)
					goto out;
			if (pb.n && store_outbox_add(t->store, now, pb.o, pb.n, &added, err) < 0)
				goto out;
			if (store_tx_commit(t->store, err) < 0)
				goto out;
		}
		planned += added;
		plan_buf_clear(&pb);
		if (nrows)
			after = rows[nrows - 1].inc.id;
		notify_rows_free(rows, nrows);
		rows = NULL;
		if (nrows < PAGE)
			break;
		nrows = 0;
	}
	rc = 0;
	if (planned)
		notifier_kick(t->env->notifier);
out:
	if (rc < 0)
		store_tx_rollback(t->store);
	plan_buf_free(&pb);
	free(st_ids);
	free(st_new);
	notify_rows_free(rows, nrows);
	for (size_t i = 0; i < ncv; i++) {
		free(cv[i].workflow);
		free(cv[i].step);
	}
	free(cv);
	silences_free(sil, nsil);
	return rc;
}

/* ---- delivery ---------------------------------------------------------------------------- */

struct lane {
	char *name;
	char *component; /* "receiver:<name>" */
	struct notifier *n;
	pthread_t *threads;
	unsigned nthreads;
	/* under n->lock */
	int64_t failing_since; /* TIME_NULL while fine */
	bool healthy;
	char *why;
	int64_t sent, retried, failed, in_flight;
	struct lane *next;
};

struct notifier {
	struct notifier_opts o;
	char *store_url;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t kicks;
	bool stop;
	struct lane *lanes;
};

struct notifier *notifier_new(const struct notifier_opts *o)
{
	struct notifier *n = xcalloc(1, sizeof(*n));
	n->o = *o;
	n->store_url = xstrdup(o->store_url);
	n->o.store_url = n->store_url;
	if (!n->o.clock)
		n->o.clock = &clock_system;
	if (!n->o.per_receiver)
		n->o.per_receiver = 4;
	if (n->o.timeout_ms <= 0)
		n->o.timeout_ms = 10000;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	return n;
}

void notifier_kick(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->kicks++;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static const char *const event_names[] = {"opened",       "escalated", "updated", "reminder",
                                          "acknowledged", "resolved",  "test"};

static enum notify_event event_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(event_names); i++)
		if (!strcmp(s, event_names[i]))
			return (enum notify_event)i;
	return NOTIFY_EV_UPDATED;
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static double jreal(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : -1;
}

/* The message of an outbox row; *labels is the labels' text to free after sending. */
static void msg_from_payload(const json_t *p, const struct outbox_row *row, char **labels,
                             struct notify_msg *m)
{
	memset(m, 0, sizeof(*m));
	*labels = json_dumps(json_object_get(p, "labels"), JSON_COMPACT);
	m->key = row->idem_key;
	m->dedup_key = jstr(p, "dedup_key") ? jstr(p, "dedup_key") : row->idem_key;
	m->event = event_parse(jstr(p, "event"));
	m->incident_id = jint(p, "incident_id");
	m->workflow = jstr(p, "workflow") ? jstr(p, "workflow") : "";
	m->step = jstr(p, "step") ? jstr(p, "step") : "";
	m->rule = jstr(p, "rule") ? jstr(p, "rule") : "";
	m->labels_json = *labels ? *labels : "{}";
	m->level = jstr(p, "level") ? jstr(p, "level") : "";
	m->state = jstr(p, "state") ? jstr(p, "state") : "";
	m->open_alerts = jint(p, "open_alerts");
	m->affected_users = jint(p, "affected_users");
	m->summary = jstr(p, "summary") ? jstr(p, "summary") : "";
	m->conv_last_hour = jreal(p, "conv_last_hour");
	m->conv_usual = jreal(p, "conv_usual");
	m->opened_at_ms = jint(p, "opened_at");
	m->at_ms = jint(p, "at");
	m->dashboard_url = jstr(p, "dashboard_url");
	m->api_url = jstr(p, "api_url");
	m->oncall = jstr(p, "oncall");
}

static void lane_health(struct lane *l, bool ok, const char *why, int64_t now)
{
	struct notifier *n = l->n;
	bool changed;
	pthread_mutex_lock(&n->lock);
	changed = l->healthy != ok || (!ok && (!l->why || strcmp(l->why, why)));
	l->healthy = ok;
	free(l->why);
	l->why = ok ? NULL : xstrdup(why);
	pthread_mutex_unlock(&n->lock);
	if (changed) {
		if (ok)
			log_info("receiver healthy", "receiver=%s", l->name);
		else
			log_warn("receiver unhealthy", "receiver=%s reason=%s", l->name, why);
	}
	if (n->o.health)
		health_set(n->o.health, l->component, ok, ok ? NULL : why, now);
}

/* Send one claimed row and record the outcome. */
static void deliver(struct lane *l, struct store *st, struct outbox_row *row, unsigned *seed)
{
	struct notifier *n = l->n;
	const struct sw_config *cfg = n->o.cfg_get(n->o.arg);
	const struct sw_receiver *rc = receiver_named(cfg, row->receiver);
	const struct receiver_ops *ops = rc ? receiver_ops_for(rc->kind) : NULL;
	struct notify_result res;
	struct notify_msg m;
	struct sw_err err = {""};
	enum outbox_outcome oc;
	json_t *p = json_loads(row->payload ? row->payload : "", 0, NULL);
	char *labels = NULL, *reason = NULL, *last_error = NULL;
	int64_t now, next = 0, failing_since;

	memset(&res, 0, sizeof(res));
	if (!ops || !ops->send) {
		res.outcome = NOTIFY_PERMANENT;
		snprintf(res.detail, sizeof(res.detail), "receiver '%s' is not configured",
		         row->receiver);
	} else if (!json_is_object(p)) {
		res.outcome = NOTIFY_PERMANENT;
		snprintf(res.detail, sizeof(res.detail), "the stored message is not a JSON object");
	} else {
		msg_from_payload(p, row, &labels, &m);
		pthread_mutex_lock(&n->lock);
		l->in_flight++;
		pthread_mutex_unlock(&n->lock);
		ops->send(rc, &m, time_now_ms(), n->o.timeout_ms, &res);
		pthread_mutex_lock(&n->lock);
		l->in_flight--;
		pthread_mutex_unlock(&n->lock);
	}
	now = clock_now(n->o.clock);
	oc = res.outcome == NOTIFY_OK                                            ? OUTBOX_SENT
	     : res.outcome == NOTIFY_RETRY && now - row->created_at < GIVE_UP_MS ? OUTBOX_RETRY
	                                                                         : OUTBOX_FAILED;
	if (oc == OUTBOX_SENT) {
		reason =
		    xasprintf("sent '%s' to %s (key %s), answer %d", row->event ? row->event : "?",
		              row->receiver, row->idem_key, res.status);
	} else {
		last_error = xasprintf("%s%s",
		                       oc == OUTBOX_FAILED && res.outcome == NOTIFY_RETRY
		                           ? "gave up after retrying for a day: "
		                           : "",
		                       res.detail[0] ? res.detail : "failed");
		if (oc == OUTBOX_RETRY)
			next = now + notify_backoff_ms(row->attempts, BACKOFF_CAP,
			                               res.retry_after_ms, (uint32_t)rand_r(seed));
	}
	if (store_outbox_done(st, row->id, now, oc,
	                      oc == OUTBOX_RETRY ? next : row->next_attempt_at, res.status,
	                      last_error, reason, &err) < 0)
		log_warn("cannot record a delivery", "receiver=%s key=%s error=%s", row->receiver,
		         row->idem_key, err.msg);
	log_info(oc == OUTBOX_SENT    ? "notification sent"
	         : oc == OUTBOX_RETRY ? "notification will be retried"
	                              : "notification failed",
	         "receiver=%s key=%s event=%s attempt=%d status=%d detail=%s", row->receiver,
	         row->idem_key, row->event ? row->event : "?", row->attempts, res.status,
	         res.detail);

	pthread_mutex_lock(&n->lock);
	if (oc == OUTBOX_SENT) {
		l->sent++;
		l->failing_since = TIME_NULL;
	} else {
		if (oc == OUTBOX_RETRY)
			l->retried++;
		else
			l->failed++;
		if (l->failing_since == TIME_NULL)
			l->failing_since = now;
	}
	failing_since = l->failing_since;
	pthread_mutex_unlock(&n->lock);
	if (res.gone) {
		lane_health(l, false, "the receiver answered 410 Gone", now);
	} else if (oc == OUTBOX_SENT) {
		lane_health(l, true, NULL, now);
	} else if (rc && now - failing_since >= FAILING_LIMIT) {
		char *why = xasprintf("failing for %" PRId64 "s: %s", (now - failing_since) / 1000,
		                      res.detail);
		lane_health(l, false, why, now);
		free(why);
	}
	n->o.cfg_put(n->o.arg, cfg);
	free(labels);
	free(reason);
	free(last_error);
	json_decref(p);
}

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct notifier *n = l->n;
	struct store *st = NULL;
	unsigned seed = (unsigned)time_mono_ms() ^ (unsigned)(uintptr_t)&st;

	for (;;) {
		struct sw_err err = {""};
		struct outbox_row row;
		bool got = false;
		uint64_t kicks;
		pthread_mutex_lock(&n->lock);
		kicks = n->kicks;
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			break;
		}
		pthread_mutex_unlock(&n->lock);
		if (!st && store_open(n->store_url, &st, &err) < 0)
			st = NULL;
		else if (store_outbox_claim(st, l->name, clock_now(n->o.clock),
		                            n->o.timeout_ms + LEASE_EXTRA, &row, &got, &err) < 0) {
			log_warn("cannot claim notifications", "receiver=%s error=%s", l->name,
			         err.msg);
			store_close(st);
			st = NULL;
		}
		if (got) {
			deliver(l, st, &row, &seed);
			outbox_row_release(&row);
			continue;
		}
		/* nothing due: sleep until kicked, or a while (retries come due by time) */
		pthread_mutex_lock(&n->lock);
		if (!n->stop && n->kicks == kicks) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += WAKE_MS / 1000;
			pthread_cond_timedwait(&n->cond, &n->lock, &ts);
		}
		pthread_mutex_unlock(&n->lock);
	}
	if (st)
		store_close(st);
	return NULL;
}

void notifier_start(struct notifier *n, const struct sw_config *cfg)
{
	for (size_t i = 0; i < cfg->n_receivers; i++) {
		const char *name = cfg->receivers[i].name;
		struct lane *l;
		pthread_mutex_lock(&n->lock);
		for (l = n->lanes; l && strcmp(l->name, name); l = l->next)
			;
		pthread_mutex_unlock(&n->lock);
		if (l)
			continue;
		l = xcalloc(1, sizeof(*l));
		l->name = xstrdup(name);
		l->component = xasprintf("receiver:%s", name);
		l->n = n;
		l->healthy = true;
		l->failing_since = TIME_NULL;
		l->threads = xcalloc(n->o.per_receiver, sizeof(*l->threads));
		if (n->o.health)
			health_set(n->o.health, l->component, true, NULL, clock_now(n->o.clock));
		for (unsigned k = 0; k < n->o.per_receiver; k++) {
			if (pthread_create(&l->threads[l->nthreads], NULL, lane_main, l) != 0) {
				log_error("cannot start a notification thread", "receiver=%s",
				          name);
				break;
			}
			l->nthreads++;
		}
		pthread_mutex_lock(&n->lock);
		l->next = n->lanes;
		n->lanes = l;
		pthread_mutex_unlock(&n->lock);
	}
}

void notifier_free(struct notifier *n)
{
	struct lane *l, *next;
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	for (l = n->lanes; l; l = next) {
		next = l->next;
		for (unsigned k = 0; k < l->nthreads; k++)
			pthread_join(l->threads[k], NULL);
		free(l->threads);
		free(l->name);
		free(l->component);
		free(l->why);
		free(l);
	}
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n->store_url);
	free(n);
}

size_t notifier_stats(struct notifier *n, struct notifier_stat **out)
{
	size_t k = 0, cnt = 0;
	*out = NULL;
	if (!n)
		return 0;
	pthread_mutex_lock(&n->lock);
	for (struct lane *l = n->lanes; l; l = l->next)
		cnt++;
	*out = xcalloc(cnt ? cnt : 1, sizeof(**out));
	for (struct lane *l = n->lanes; l; l = l->next, k++) {
		struct notifier_stat *s = &(*out)[cnt - 1 - k]; /* in config order */
		s->receiver = xstrdup(l->name);
		s->healthy = l->healthy;
		s->why = xstrdup_or_null(l->why);
		s->sent = l->sent;
		s->retried = l->retried;
		s->failed = l->failed;
		s->in_flight = l->in_flight;
	}
	pthread_mutex_unlock(&n->lock);
	return cnt;
}

void notifier_stats_free(struct notifier_stat *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].receiver);
		free(v[i].why);
	}
	free(v);
}

void notifier_send_test(const struct sw_config *cfg, const struct sw_receiver *rc, int64_t now,
                        int64_t timeout_ms, struct notify_result *out)
{
	const struct receiver_ops *ops = receiver_ops_for(rc->kind);
	struct notify_msg m;
	char key[96], *dash = NULL, *api = NULL;
	memset(&m, 0, sizeof(m));
	memset(out, 0, sizeof(*out));
	snprintf(key, sizeof(key), "sw-test-%" PRId64, now);
	if (cfg->http.listen) {
		dash = xasprintf("http://%s/", cfg->http.listen);
		api = xasprintf("http://%s/api/v1/incidents", cfg->http.listen);
	}
	m.key = key;
	m.dedup_key = key;
	m.event = NOTIFY_EV_TEST;
	m.workflow = "stepwatch";
	m.step = "test";
	m.rule = "test";
	m.labels_json = "{}";
	m.level = "INITIATED";
	m.state = "OPEN";
	m.summary = "a test message from stepwatch notify test";
	m.conv_last_hour = m.conv_usual = -1;
	m.opened_at_ms = now;
	m.at_ms = now;
	m.dashboard_url = dash;
	m.api_url = api;
	m.oncall = on_call(rc->roster, now);
	if (!ops || !ops->send) {
		out->outcome = NOTIFY_PERMANENT;
		snprintf(out->detail, sizeof(out->detail), "no sender for this receiver kind");
	} else {
		ops->send(rc, &m, now, timeout_ms, out);
	}
	free(dash);
	free(api);
}
