/*
 * handlers_metrics.c - GET /metrics: Prometheus text exposition (format 0.0.4) of what a
 * node knows now: alerts by state, open incidents and affected users, the health of each
 * component, and every task's runs, failures, skipped slots and last duration.
 *
 * Names follow Prometheus' rules (stepwatch_ prefix, _total for counters, base units) and
 * pass `promtool check metrics` (tests/integration/metrics.sh). Counts of alerts come from
 * the store, so every node of a cluster reports the same store-wide figures; task figures
 * are this process's own.
 */
#include "util/common.h"
#include "util/strbuf.h"
#include "api/app.h"
#include "api/handlers.h"
#include "runtime/runtime.h"
#include "store/store_stats.h"
#include "store/store_notify.h"
#include "tasks/notifier.h"

static void label_value(struct strbuf *sb, const char *v)
{
	strbuf_addch(sb, '"');
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_addch(sb, '\\');
		if (*v == '\n') {
			strbuf_addstr(sb, "\\n");
			continue;
		}
		strbuf_addch(sb, *v);
	}
	strbuf_addch(sb, '"');
}

static void family(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	strbuf_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct strbuf *sb, const char *name, const char *label, const char *value,
                   double v)
{
	strbuf_addstr(sb, name);
	if (label) {
		strbuf_addf(sb, "{%s=", label);
		label_value(sb, value);
		strbuf_addch(sb, '}');
	}
	strbuf_addf(sb, " %.17g\n", v);
}

/* The watchers' reading, one value per workflow (health entries with progress): false
 * when the entry has none (no watermark yet, say). */
typedef bool reading_fn(const struct health_entry *e, int64_t now, double *v);

static bool rows_read_of(const struct health_entry *e, int64_t now, double *v)
{
	(void)now;
	*v = (double)e->rows_read;
	return true;
}

static bool rows_skipped_of(const struct health_entry *e, int64_t now, double *v)
{
	(void)now;
	*v = (double)e->rows_skipped;
	return true;
}

static bool window_of(const struct health_entry *e, int64_t now, double *v)
{
	(void)now;
	if (e->watermark == TIME_NULL || e->final == TIME_NULL)
		return false;
	*v = e->final >= e->watermark ? 0.0 : (double)(e->watermark - e->final) / 1000.0;
	return true;
}

static bool lag_of(const struct health_entry *e, int64_t now, double *v)
{
	if (e->watermark == TIME_NULL)
		return false;
	*v = (double)(now - e->watermark) / 1000.0;
	return true;
}

static bool catching_up_of(const struct health_entry *e, int64_t now, double *v)
{
	(void)now;
	*v = e->catching_up;
	return true;
}

static void watcher_family(struct strbuf *sb, const char *name, const char *type, const char *help,
                           const struct health_entry *he, size_t nh, int64_t now, reading_fn *value)
{
	family(sb, name, type, help);
	for (size_t i = 0; i < nh; i++) {
		double v;
		if (he[i].has_progress && value(&he[i], now, &v))
			sample(sb, name, "component", he[i].name, v);
	}
}

int api_metrics(struct api_req *req, struct api_resp *resp)
{
	struct api_app *app = req->app;
	struct alert_counts c;
	struct health_entry *he = NULL;
	struct rt_job_stats *js = NULL;
	struct sw_err err = {""};
	struct strbuf sb = STRBUF_INIT;
	struct store *st;
	size_t nh, nj;
	int rc;

	if (!app)
		return api_error(resp, 503, "no server behind this API");
	st = api_store(req, resp);
	if (!st)
		return -1;
	memset(&c, 0, sizeof(c));
	if (store_alert_counts(st, &c, &err) < 0)
		return api_error(resp, 503, "store unavailable");

	family(&sb, "stepwatch_build_info", "gauge", "Version of this stepwatch binary.");
	sample(&sb, "stepwatch_build_info", "version", SW_VERSION, 1);

	family(&sb, "stepwatch_alerts", "gauge", "Alerts in the store, by state.");
	for (int s = 0; s < ALERT_STATE_COUNT; s++)
		sample(&sb, "stepwatch_alerts", "state", alert_state_name((enum alert_state)s),
		       (double)c.by_state[s]);
	family(&sb, "stepwatch_alerts_auto_resolved", "gauge",
	       "Alerts resolved by the resolver (the workflow recovered by itself).");
	sample(&sb, "stepwatch_alerts_auto_resolved", NULL, NULL, (double)c.resolved_by_resolver);
	family(&sb, "stepwatch_incidents_open", "gauge", "Incidents with at least one open alert.");
	sample(&sb, "stepwatch_incidents_open", NULL, NULL, (double)c.open_incidents);
	family(&sb, "stepwatch_affected_users_open", "gauge",
	       "Distinct users with at least one open alert.");
	sample(&sb, "stepwatch_affected_users_open", NULL, NULL, (double)c.affected_users_open);

	{
		struct outbox_count *oc = NULL;
		struct notifier_stat *ns = NULL;
		size_t no = 0, nn;
		int64_t depth = 0;
		if (store_outbox_counts(st, &oc, &no, &err) < 0)
			return strbuf_release(&sb), api_error(resp, 503, "store unavailable");
		family(&sb, "stepwatch_notifications_sent_total", "counter",
		       "Notifications delivered (a 2xx), per receiver, store-wide.");
		for (size_t i = 0; i < no; i++)
			sample(&sb, "stepwatch_notifications_sent_total", "receiver",
			       oc[i].receiver, (double)oc[i].sent);
		family(&sb, "stepwatch_notifications_failed_total", "counter",
		       "Notifications given up on (a permanent error, or retried for a day), per "
		       "receiver, store-wide.");
		for (size_t i = 0; i < no; i++)
			sample(&sb, "stepwatch_notifications_failed_total", "receiver",
			       oc[i].receiver, (double)oc[i].failed);
		family(&sb, "stepwatch_outbox_pending", "gauge",
		       "Notifications waiting in the outbox (due, being sent, or retrying), per "
		       "receiver.");
		for (size_t i = 0; i < no; i++) {
			sample(&sb, "stepwatch_outbox_pending", "receiver", oc[i].receiver,
			       (double)oc[i].pending);
			depth += oc[i].pending;
		}
		family(&sb, "stepwatch_outbox_depth", "gauge",
		       "Notifications waiting in the outbox, all receivers.");
		sample(&sb, "stepwatch_outbox_depth", NULL, NULL, (double)depth);
		outbox_counts_free(oc, no);
		nn = notifier_stats(app->notifier, &ns);
		family(&sb, "stepwatch_notification_retries_total", "counter",
		       "Delivery attempts of this process that will be retried, per receiver.");
		for (size_t i = 0; i < nn; i++)
			sample(&sb, "stepwatch_notification_retries_total", "receiver",
			       ns[i].receiver, (double)ns[i].retried);
		family(&sb, "stepwatch_receiver_healthy", "gauge",
		       "0 when the receiver answered 410 Gone or kept failing, else 1.");
		for (size_t i = 0; i < nn; i++)
			sample(&sb, "stepwatch_receiver_healthy", "receiver", ns[i].receiver,
			       ns[i].healthy);
		notifier_stats_free(ns, nn);
	}

	nh = health_snapshot(app->health, &he);
	family(&sb, "stepwatch_component_healthy", "gauge",
	       "1 when the component's last run succeeded (workflow, watcher, task), else 0.");
	for (size_t i = 0; i < nh; i++)
		sample(&sb, "stepwatch_component_healthy", "component", he[i].name, he[i].ok);
	watcher_family(&sb, "stepwatch_watcher_rows_read_total", "counter",
	               "Step records a workflow's watcher has read since this process started.", he,
	               nh, api_now(req), rows_read_of);
	watcher_family(&sb, "stepwatch_watcher_rows_skipped_total", "counter",
	               "Step records read again behind the watermark and skipped, read before "
	               "(part of rows_read).",
	               he, nh, api_now(req), rows_skipped_of);
	watcher_family(&sb, "stepwatch_watcher_window_seconds", "gauge",
	               "How far behind the watermark the point is before which every step record "
	               "is known read (what the next read of the overlap window goes back over; 0 "
	               "when none is needed).",
	               he, nh, api_now(req), window_of);
	watcher_family(
	    &sb, "stepwatch_watcher_lag_seconds", "gauge",
	    "How far a workflow's watermark is behind now (the newest step record read).", he, nh,
	    api_now(req), lag_of);
	watcher_family(
	    &sb, "stepwatch_watcher_catching_up", "gauge",
	    "1 while a workflow's watcher reads a backlog (its last page was full), else 0.", he,
	    nh, api_now(req), catching_up_of);
	health_entries_free(he, nh);

	nj = app->job_stats(app->host, &js);
	family(&sb, "stepwatch_task_runs_total", "counter", "Finished runs of each task.");
	for (size_t i = 0; i < nj; i++)
		sample(&sb, "stepwatch_task_runs_total", "task", js[i].name, (double)js[i].runs);
	family(&sb, "stepwatch_task_failures_total", "counter", "Runs of each task that failed.");
	for (size_t i = 0; i < nj; i++)
		sample(&sb, "stepwatch_task_failures_total", "task", js[i].name,
		       (double)js[i].failures);
	family(&sb, "stepwatch_task_skipped_total", "counter",
	       "Cadence slots of each task dropped because its previous run was still going.");
	for (size_t i = 0; i < nj; i++)
		sample(&sb, "stepwatch_task_skipped_total", "task", js[i].name,
		       (double)js[i].skipped);
	family(&sb, "stepwatch_task_last_duration_seconds", "gauge",
	       "Duration of each task's last finished run.");
	for (size_t i = 0; i < nj; i++)
		if (js[i].last_duration_ms >= 0)
			sample(&sb, "stepwatch_task_last_duration_seconds", "task", js[i].name,
			       (double)js[i].last_duration_ms / 1000.0);
	rt_stats_free(js, nj);

	rc = api_raw(resp, 200, "text/plain; version=0.0.4; charset=utf-8", sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}
