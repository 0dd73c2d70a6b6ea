/*
 * sim.c - the simulated lending business behind `stepwatch demo` (see sim.h and
 * docs/internals/demo.md).
 *
 * DESIGN: a discrete-event simulation. Everything that will happen (an application
 * arriving, a step attempt starting, a step attempt finishing) is an event in a binary
 * min-heap ordered by (time, sequence number); sim_advance() pops events up to the requested
 * time and each handler writes its row change and pushes the follow-up events, all inside
 * one write transaction. The cost is O(events log pending) and independent of how often the
 * caller advances, and the result depends only on the seed and the event times, never on
 * how the caller slices time. Outcomes are drawn when an attempt finishes, so the outage is
 * simply "a bureau_pull finishing inside the window fails". Randomness is xorshift64*
 * seeded through splitmix64; no clock is read here.
 *
 * Rows: one per (application, step), inserted when the first attempt starts and updated in
 * place; a retry upserts it back to IN_PROGRESS with a new started_at. Every delay between
 * two changes of a row is at least a second, so updated_at strictly moves forward.
 */
#include "util/common.h"
#include <math.h>
#include <sqlite3.h>
#include "demo/sim.h"
#include "util/timeutil.h"

#define MINUTE          (60 * 1000LL)
#define SECOND          1000LL
#define MAX_ATTEMPTS    3            /* a user gives up after this many failures of one step */
#define HANG_P          0.006        /* share of attempts that hang (before fail_scale) */
#define OUTAGE_DRAIN_MS (5 * MINUTE) /* held bureau pulls are retried over this window */

const char *const sim_steps[SIM_NSTEPS] = {
    "kyc", "bureau_pull", "bank_statement", "underwriting", "esign", "disbursement",
};

enum {
	STEP_KYC,
	STEP_BUREAU,
	STEP_STATEMENT,
	STEP_UNDERWRITING,
	STEP_ESIGN,
	STEP_DISBURSE
};

/* How each step behaves. Durations are in sim time; fail is the background failure rate
 * of one attempt; leave is the share of attempts a user walks away from half-way (only
 * steps the user acts in). After a failure the user (or, for system steps, the operations
 * team or the application) retries with probability retry after retry_min..retry_max. */
struct step_spec {
	int64_t min_ms, max_ms;
	double fail;
	double leave;
	double retry;
	int64_t retry_min_ms, retry_max_ms;
};

/* clang-format off */
static const struct step_spec specs[SIM_NSTEPS] = {
	/*                     min          max          fail  leave  retry after ..             */
	[STEP_KYC]          = {2 * MINUTE,  5 * MINUTE,  0.04, 0.01,  0.70, 2 * MINUTE, 20 * MINUTE},
	[STEP_BUREAU]       = {10 * SECOND, 60 * SECOND, 0.01, 0,     0.95, 1 * MINUTE, 5 * MINUTE},
	[STEP_STATEMENT]    = {5 * MINUTE,  20 * MINUTE, 0.05, 0.015, 0.60, 5 * MINUTE, 30 * MINUTE},
	[STEP_UNDERWRITING] = {10 * MINUTE, 40 * MINUTE, 0.02, 0,     0.95, 5 * MINUTE, 20 * MINUTE},
	[STEP_ESIGN]        = {2 * MINUTE,  30 * MINUTE, 0.05, 0.015, 0.65, 2 * MINUTE, 20 * MINUTE},
	[STEP_DISBURSE]     = {1 * MINUTE,  5 * MINUTE,  0.02, 0,     0.95, 2 * MINUTE, 15 * MINUTE},
};

/* A background failure's error_code: one of two, chosen evenly (NULL: only the first). */
static const char *const step_errors[SIM_NSTEPS][2] = {
	[STEP_KYC]          = {"KYC_MISMATCH", "KYC_DOC_UNREADABLE"},
	[STEP_BUREAU]       = {"BUREAU_BAD_RESPONSE", NULL},
	[STEP_STATEMENT]    = {"STATEMENT_UNREADABLE", "STATEMENT_PASSWORD_PROTECTED"},
	[STEP_UNDERWRITING] = {"UW_RULES_ENGINE_ERROR", NULL},
	[STEP_ESIGN]        = {"ESIGN_TIMEOUT", "ESIGN_OTP_FAILED"},
	[STEP_DISBURSE]     = {"IMPS_TIMEOUT", "PENNY_DROP_FAILED"},
};
/* clang-format on */

static const char *const channels[] = {"web", "app", "partner"};
static const double channel_weights[] = {0.45, 0.35, 0.20};
/* Partners of the "partner" channel; index 0 is everybody else. RapidCash's customers
 * upload poor statement scans, so its bank_statement step fails four times as often: the
 * dashboard's segment view should flag it. */
static const char *const partners[] = {"direct", "FinEdge", "LoanKart", "RapidCash"};
static const double partner_weights[] = {0, 0.40, 0.35, 0.25};
#define PARTNER_RAPIDCASH 3

enum app_state {
	APP_ACTIVE,
	APP_DONE,
	APP_GONE
};

struct app {
	uint32_t user;
	uint8_t channel, partner;
	uint8_t step;     /* current step */
	uint8_t attempts; /* failed attempts of the current step */
	uint8_t state;    /* enum app_state */
	uint8_t held;     /* bureau_pull failed in the outage, retry pending or running */
};

enum ev_type {
	EV_ARRIVAL,
	EV_START,
	EV_FINISH
};

struct event {
	int64_t at;
	uint64_t seq;
	uint32_t app;
	uint8_t type; /* enum ev_type */
	uint8_t step;
};

struct sim {
	struct sim_opts o;
	char *path;
	sqlite3 *db;
	sqlite3_stmt *st_start, *st_finish;
	uint64_t rng;
	int64_t start_ms, now_ms;
	int64_t outage_from, outage_to; /* absolute; equal when there is no outage */
	struct event *heap;
	size_t nheap, aheap;
	uint64_t seq;
	struct app *apps;
	size_t napps, aapps;
	struct sim_stats stats;
	bool broken;
};

/* ---- randomness ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_next(struct sim *s)
{
	uint64_t x = s->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
static double rng_unit(struct sim *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static int64_t rng_range(struct sim *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static size_t rng_pick(struct sim *s, const double *weights, size_t n)
{
	double u = rng_unit(s), acc = 0;
	for (size_t i = 0; i < n; i++) {
		acc += weights[i];
		if (u < acc)
			return i;
	}
	return n - 1;
}

/* A right-skewed duration in [lo, hi]: most attempts are quick, a few take long (the
 * minimum of two uniforms has mean lo + (hi - lo) / 3). */
static int64_t rng_duration(struct sim *s, int64_t lo, int64_t hi)
{
	double a = rng_unit(s), b = rng_unit(s);
	return lo + (int64_t)((double)(hi - lo) * (a < b ? a : b));
}

/* ---- event heap ---- */

static bool ev_before(const struct event *a, const struct event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void ev_push(struct sim *s, int64_t at, enum ev_type type, uint32_t app, unsigned step)
{
	struct event e = {.at = at, .seq = s->seq++, .app = app, .type = type, .step = step};
	size_t i = s->nheap++;
	ALLOC_GROW(s->heap, s->nheap, s->aheap);
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!ev_before(&e, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = e;
}

static struct event ev_pop(struct sim *s)
{
	struct event top = s->heap[0], last = s->heap[--s->nheap];
	size_t i = 0, n = s->nheap;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && ev_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n)
		s->heap[i] = last;
	return top;
}

/* ---- rows ---- */

static void fmt_time(int64_t ms, char *buf, size_t n)
{
	/* Always three fraction digits and 'Z', so text order is time order. */
	static const struct time_style iso_ms = {.t_sep = 1, .zulu = 1, .frac = 3};
	time_format_style(ms, &iso_ms, buf, n);
}

static void fmt_app_id(uint32_t app, char *buf, size_t n)
{
	snprintf(buf, n, "LA-%06" PRIu32, app + 1);
}

static int db_fail(struct sim *s, const char *what, struct sw_err *err)
{
	sw_err_set(err, "cannot %s in '%s': %s", what, s->path, sqlite3_errmsg(s->db));
	return -1;
}

/* The step's row goes (back) to IN_PROGRESS, started now. */
static int row_start(struct sim *s, int64_t t, uint32_t app, struct sw_err *err)
{
	const struct app *a = &s->apps[app];
	char id[32], user[32], ts[40];
	sqlite3_stmt *st = s->st_start;
	int rc;
	fmt_app_id(app, id, sizeof(id));
	snprintf(user, sizeof(user), "U-%06" PRIu32, a->user);
	fmt_time(t, ts, sizeof(ts));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, sim_steps[a->step], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, channels[a->channel], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, partners[a->partner], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, "write a step start", err);
	s->stats.rows_written++;
	return 0;
}

/* The step's row ends: SUCCESS (error NULL) or FAILED with error. */
static int row_finish(struct sim *s, int64_t t, uint32_t app, const char *error, struct sw_err *err)
{
	const struct app *a = &s->apps[app];
	char id[32], ts[40];
	sqlite3_stmt *st = s->st_finish;
	int rc;
	fmt_app_id(app, id, sizeof(id));
	fmt_time(t, ts, sizeof(ts));
	sqlite3_bind_text(st, 1, error ? "FAILED" : "SUCCESS", -1, SQLITE_STATIC);
	if (error)
		sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, sim_steps[a->step], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || sqlite3_changes(s->db) != 1)
		return db_fail(s, "write a step end", err);
	s->stats.rows_written++;
	return 0;
}

/* ---- the business ---- */

static bool in_outage(const struct sim *s, int64_t t)
{
	return t >= s->outage_from && t < s->outage_to;
}

static void app_leave(struct sim *s, struct app *a)
{
	a->state = APP_GONE;
	s->stats.abandoned++;
	s->stats.active--;
}

static void on_arrival(struct sim *s, int64_t t)
{
	struct app *a;
	uint32_t id = (uint32_t)s->napps++;
	double gap_min;
	int64_t gap;

	ALLOC_GROW(s->apps, s->napps, s->aapps);
	a = &s->apps[id];
	memset(a, 0, sizeof(*a));
	a->user = (uint32_t)rng_range(s, 100000, 999999);
	a->channel = (uint8_t)rng_pick(s, channel_weights, ARRAY_SIZE(channel_weights));
	if (strcmp(channels[a->channel], "partner") == 0)
		a->partner = (uint8_t)rng_pick(s, partner_weights, ARRAY_SIZE(partner_weights));
	a->state = APP_ACTIVE;
	s->stats.started++;
	s->stats.active++;
	ev_push(s, t, EV_START, id, STEP_KYC);

	/* Poisson arrivals: exponential gaps with mean 1 / rate. */
	gap_min = -log(1.0 - rng_unit(s)) / s->o.arrivals_per_min;
	gap = (int64_t)(gap_min * (double)MINUTE);
	ev_push(s, t + (gap < 1 ? 1 : gap), EV_ARRIVAL, 0, 0);
}

static int on_start(struct sim *s, int64_t t, uint32_t app, struct sw_err *err)
{
	struct app *a = &s->apps[app];
	const struct step_spec *sp = &specs[a->step];
	int64_t dur;

	if (row_start(s, t, app, err))
		return -1;
	if (a->attempts || a->held)
		s->stats.retries++;
	if (a->held) {
		/* The application's retry of a pull held during the outage: the bureau is
		 * back and answers normally (no hang, no failure; see on_finish). */
		ev_push(s, t + rng_duration(s, sp->min_ms, sp->max_ms), EV_FINISH, app, a->step);
		return 0;
	}
	if (rng_unit(s) < sp->leave * s->o.fail_scale) {
		/* The user walks away half-way: the row stays IN_PROGRESS for good. */
		app_leave(s, a);
		return 0;
	}
	dur = rng_duration(s, sp->min_ms, sp->max_ms);
	if (rng_unit(s) < HANG_P * s->o.fail_scale) {
		/* Hangs well past any stuck_after, then completes after all. */
		dur += rng_range(s, 35 * MINUTE, 90 * MINUTE);
		s->stats.hangs++;
	}
	ev_push(s, t + dur, EV_FINISH, app, a->step);
	return 0;
}

static int on_finish(struct sim *s, int64_t t, uint32_t app, struct sw_err *err)
{
	struct app *a = &s->apps[app];
	const struct step_spec *sp = &specs[a->step];
	double fail = sp->fail * s->o.fail_scale;

	if (a->step == STEP_BUREAU && in_outage(s, t)) {
		/* The bureau is down: every pull times out. The lender holds the
		 * application and retries once the bureau is back; a user facing a long wait
		 * may give up first. */
		if (row_finish(s, t, app, "BUREAU_TIMEOUT", err))
			return -1;
		s->stats.failed_steps++;
		s->stats.outage_failures++;
		a->held = 1;
		if (s->outage_to - t > s->o.walkaway_wait_ms && rng_unit(s) < s->o.walkaway)
			app_leave(s, a);
		else
			ev_push(s, s->outage_to + rng_range(s, SECOND, OUTAGE_DRAIN_MS), EV_START,
			        app, a->step);
		return 0;
	}

	if (a->step == STEP_STATEMENT && a->partner == PARTNER_RAPIDCASH)
		fail *= 4;
	if (a->held)
		fail = 0; /* the held pull's retry succeeds, so the outage's alerts resolve */
	a->held = 0;
	if (rng_unit(s) < fail) {
		const char *const *errs = step_errors[a->step];
		const char *e = errs[errs[1] && rng_unit(s) < 0.5 ? 1 : 0];
		if (row_finish(s, t, app, e, err))
			return -1;
		s->stats.failed_steps++;
		a->attempts++;
		if (a->attempts < MAX_ATTEMPTS && rng_unit(s) < sp->retry)
			ev_push(s, t + rng_range(s, sp->retry_min_ms, sp->retry_max_ms), EV_START,
			        app, a->step);
		else
			app_leave(s, a);
		return 0;
	}

	if (row_finish(s, t, app, NULL, err))
		return -1;
	if (a->step == SIM_NSTEPS - 1) {
		a->state = APP_DONE;
		s->stats.completed++;
		s->stats.active--;
		return 0;
	}
	a->step++;
	a->attempts = 0;
	ev_push(s, t + rng_range(s, SECOND, 90 * SECOND), EV_START, app, a->step);
	return 0;
}

static int sim_process(struct sim *s, const struct event *e, struct sw_err *err)
{
	if (e->type == EV_ARRIVAL) {
		on_arrival(s, e->at);
		return 0;
	}
	if (e->app >= s->napps || s->apps[e->app].state != APP_ACTIVE ||
	    s->apps[e->app].step != e->step)
		BUG("event %d for application %" PRIu32 " step %d does not match its state",
		    e->type, e->app, e->step);
	if (e->type == EV_START)
		return on_start(s, e->at, e->app, err);
	return on_finish(s, e->at, e->app, err);
}

/* ---- public ---- */

void sim_opts_init(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->arrivals_per_min = 5;
	o->outage_start_ms = 20 * MINUTE;
	o->outage_len_ms = 60 * MINUTE;
	o->fail_scale = 1;
	o->walkaway = 0.15;
	o->walkaway_wait_ms = 30 * MINUTE;
}

static int opts_check(const struct sim_opts *o, struct sw_err *err)
{
	if (!o->db_path || !*o->db_path)
		return sw_err_set(err, "no database path for the simulator");
	if (!isfinite(o->arrivals_per_min) || o->arrivals_per_min <= 0 ||
	    o->arrivals_per_min > 100000)
		return sw_err_set(err, "arrival rate '%g' per minute is not in (0, 100000]",
		                  o->arrivals_per_min);
	if (o->outage_start_ms < 0 || o->outage_len_ms < 0 || o->outage_start_ms > INT64_MAX / 4 ||
	    o->outage_len_ms > INT64_MAX / 4)
		return sw_err_set(err, "outage start and length must be >= 0");
	if (!isfinite(o->fail_scale) || o->fail_scale < 0 || o->fail_scale > 20)
		return sw_err_set(err, "failure scale '%g' is not in [0, 20]", o->fail_scale);
	if (!isfinite(o->walkaway) || o->walkaway < 0 || o->walkaway > 1)
		return sw_err_set(err, "walk-away share '%g' is not in [0, 1]", o->walkaway);
	if (o->walkaway_wait_ms < 0)
		return sw_err_set(err, "walk-away wait must be >= 0");
	return 0;
}

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS loan_steps (\n"
    "  application_id TEXT NOT NULL,\n"
    "  user_id TEXT NOT NULL,\n"
    "  step TEXT NOT NULL,\n"
    "  status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'SUCCESS', 'FAILED')),\n"
    "  error_code TEXT,\n"
    "  started_at TEXT NOT NULL,\n"
    "  finished_at TEXT,\n"
    "  updated_at TEXT NOT NULL,\n"
    "  channel TEXT,\n"
    "  partner TEXT,\n"
    "  PRIMARY KEY (application_id, step)\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS loan_steps_updated_at ON loan_steps (updated_at);\n";

static const char start_sql[] =
    "INSERT INTO loan_steps (application_id, user_id, step, status, error_code, started_at,"
    " finished_at, updated_at, channel, partner)"
    " VALUES (?1, ?2, ?3, 'IN_PROGRESS', NULL, ?4, NULL, ?4, ?5, ?6)"
    " ON CONFLICT (application_id, step) DO UPDATE SET status = 'IN_PROGRESS',"
    " error_code = NULL, started_at = excluded.started_at, finished_at = NULL,"
    " updated_at = excluded.updated_at";

static const char finish_sql[] = "UPDATE loan_steps SET status = ?1, error_code = ?2,"
                                 " finished_at = ?3, updated_at = ?3"
                                 " WHERE application_id = ?4 AND step = ?5";

/* WAL so a read-only stepwatch can read while we write; check it took (":memory:" or a
 * read-only directory would silently stay in another mode). */
static int db_setup(struct sim *s, struct sw_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	bool wal;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_fail(s, "set the journal mode", err);
		goto out;
	}
	wal = sqlite3_column_text(st, 0) &&
	      strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	if (!wal) {
		sw_err_set(err, "cannot put '%s' in WAL mode", s->path);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(s, "create the schema", err);
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT EXISTS (SELECT 1 FROM loan_steps)", -1, &st, NULL) !=
	        SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_fail(s, "read loan_steps", err);
		goto out;
	}
	if (sqlite3_column_int(st, 0)) {
		sw_err_set(err,
		           "'%s' already holds loan_steps rows; the simulator needs a new file",
		           s->path);
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, start_sql, -1, &s->st_start, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, finish_sql, -1, &s->st_finish, NULL) != SQLITE_OK) {
		db_fail(s, "prepare the simulator's statements", err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int sim_open(const struct sim_opts *o, int64_t now_ms, struct sim **out, struct sw_err *err)
{
	struct sim *s;
	uint64_t seed;
	int rc;

	*out = NULL;
	if (opts_check(o, err))
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->o = *o;
	s->path = xstrdup(o->db_path);
	s->o.db_path = s->path;
	seed = o->seed;
	s->rng = splitmix64(&seed);
	if (!s->rng)
		s->rng = 0x9e3779b97f4a7c15ULL;
	s->start_ms = s->now_ms = now_ms;
	s->outage_from = s->outage_to = now_ms + o->outage_start_ms;
	s->outage_to += o->outage_len_ms;
	s->stats.now_ms = now_ms;

	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		sw_err_set(err, "cannot open '%s': %s", s->path,
		           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (db_setup(s, err))
		goto fail;

	ev_push(s, now_ms, EV_ARRIVAL, 0, 0);
	*out = s;
	return 0;
fail:
	sim_close(s);
	return -1;
}

int sim_advance(struct sim *s, int64_t now_ms, struct sw_err *err)
{
	int rc = 0;

	if (s->broken)
		return sw_err_set(err, "simulator on '%s' stopped after an earlier error", s->path);
	if (now_ms < s->now_ms)
		return sw_err_set(err, "sim time went backwards (%" PRId64 " < %" PRId64 ")",
		                  now_ms, s->now_ms);
	if (!s->nheap || s->heap[0].at > now_ms)
		goto done;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		/* Nothing happened yet: the caller may try again later. */
		return db_fail(s, "begin a transaction", err);
	}
	while (s->nheap && s->heap[0].at <= now_ms) {
		struct event e = ev_pop(s);
		s->stats.events++;
		rc = sim_process(s, &e, err);
		if (rc)
			break;
	}
	if (!rc && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(s, "commit", err);
	if (rc) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->broken = true;
		return rc;
	}
done:
	s->now_ms = now_ms;
	s->stats.now_ms = now_ms;
	return 0;
}

void sim_stats(const struct sim *s, struct sim_stats *out)
{
	*out = s->stats;
	out->in_outage = in_outage(s, s->now_ms);
}

void sim_close(struct sim *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->st_start);
	sqlite3_finalize(s->st_finish);
	sqlite3_close(s->db);
	free(s->heap);
	free(s->apps);
	free(s->path);
	free(s);
}

const char *sim_steps_query(void)
{
	return "SELECT application_id AS instance_id, user_id, step, status,\n"
	       "       error_code AS error, started_at, finished_at, updated_at,\n"
	       "       channel, partner\n"
	       "  FROM loan_steps\n"
	       " WHERE updated_at > :since\n"
	       " ORDER BY updated_at";
}
