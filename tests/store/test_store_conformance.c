/*
 * test_store_conformance.c - the store conformance suite: every function of store.h, run
 * unchanged against SQLite (a file in a temp dir) and PostgreSQL (a fresh database on the
 * server of scripts/test-services). Each test gets a freshly migrated store.
 */
#include "helpers.h"
#include "storetest.h"
#include "util/timeutil.h"
#include "store/store_watermarks.h"
#include "store/store_steps.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_stats.h"
#include "store/sql_names.h"
#include "core/step.h"
#include "util/assets.h"
#include <pthread.h>
#include <sqlite3.h>
#include <libpq-fe.h>

/* the shared fixture (storetest.c) */
#define teardown     storetest_teardown
#define setup_sqlite storetest_setup_sqlite
#define setup_pg     storetest_setup_pg

/* First cell of each row of sql, run directly on the database (not through the store),
 * joined by newlines. For EXPLAIN and for poking at the schema. Returns malloc'd text, or
 * NULL when the statement failed. */
static char *raw_query(const struct fx *f, const char *sql)
{
	struct strbuf sb = STRBUF_INIT;
	if (f->pg) {
		PGconn *c = PQconnectdb(f->url);
		PGresult *r = PQexec(c, sql);
		bool ok =
		    PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
		for (int i = 0; ok && i < PQntuples(r); i++) {
			strbuf_addstr(&sb, PQgetvalue(r, i, 0));
			strbuf_addch(&sb, '\n');
		}
		PQclear(r);
		PQfinish(c);
		if (!ok) {
			strbuf_release(&sb);
			return NULL;
		}
	} else {
		sqlite3 *db;
		sqlite3_stmt *s;
		int rc, col;
		assert_int_equal(sqlite3_open(strchr(f->url + 9, '/'), &db), SQLITE_OK);
		rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
		col = rc == SQLITE_OK && !strncmp(sql, "EXPLAIN QUERY PLAN", 18) ? 3 : 0;
		while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(s, col);
			strbuf_addstr(&sb, t ? (const char *)t : "NULL");
			strbuf_addch(&sb, '\n');
			rc = SQLITE_OK;
		}
		sqlite3_finalize(s);
		sqlite3_close(db);
		if (rc != SQLITE_DONE) {
			strbuf_release(&sb);
			return NULL;
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- builders -------------------------------------------------------------------------- */

static struct alert_new mk(const char *rule, const char *inst, const char *step, int idx,
                           const char *user, const char *group)
{
	struct alert_new a = {0};
	a.rule = rule;
	a.workflow = "loan";
	a.step = step;
	a.step_index = idx;
	a.instance_id = inst;
	a.user_id = user;
	a.error = "bureau timeout";
	a.labels_json = "{\"bureau\":\"cibil\"}";
	a.group_key = group;
	a.incident_labels_json = "{\"error\":\"bureau timeout\"}";
	a.occurred_at = 1000;
	a.next_escalation_at = 5000;
	a.abandon_after_ms = 0;
	return a;
}

static int64_t open1(struct store *st, const struct alert_new *a, int64_t now, bool *created)
{
	struct alert_opened o;
	OK(store_alerts_open(st, now, a, 1, &o, &E));
	if (created)
		*created = o.created;
	return o.alert_id;
}

static struct step_record rec(const char *inst, const char *user, const char *step, int idx,
                              enum step_status status, int64_t started, int64_t updated)
{
	struct step_record r = {0};
	r.instance_id = inst;
	r.user_id = user;
	r.step = step;
	r.step_index = idx;
	r.status = status;
	r.error = status == STEP_FAILED ? "boom" : NULL;
	r.started_at = started;
	r.finished_at = status == STEP_IN_PROGRESS ? TIME_NULL : updated;
	r.updated_at = updated;
	r.labels_json = NULL;
	return r;
}

static void change1(struct store *st, int64_t id, enum alert_state from, enum alert_state to,
                    const char *event, bool want_applied)
{
	struct alert_change c = {id, from, to, event, "validator", "sla passed", 9000, NULL};
	bool applied;
	if (to == ALERT_RESOLVED) {
		c.actor = "resolver";
		c.resolved_by = "resolver";
	}
	OK(store_alerts_change(st, 2000, &c, 1, &applied, &E));
	assert_int_equal(applied, want_applied);
}

static size_t history_len(struct store *st, int64_t id)
{
	struct alert a;
	struct alert_event *h;
	size_t n;
	OK(store_alert_get(st, id, &a, &h, &n, &E));
	alert_release(&a);
	alert_events_free(h, n);
	return n;
}

/* ---- handle and migrations ------------------------------------------------------------- */

/* How many migrations are embedded for dialect (versions may have gaps: 0004, 0006). */
static int migrations_embedded(const char *dialect)
{
	char *prefix = xasprintf("store/migrations/%s/", dialect);
	int n = 0;
	for (const struct sw_asset *a = sw_assets; a->name; a++)
		n += !strncmp(a->name, prefix, strlen(prefix)) && strstr(a->name, ".sql");
	free(prefix);
	return n;
}

static void test_migrate(void **state)
{
	FX();
	int v, applied = -1;
	assert_true(store_schema_latest() >= 1);
	OK(store_schema_version(st, &v, &E));
	assert_int_equal(v, store_schema_latest());
	OK(store_migrate(st, &applied, &E));
	assert_int_equal(applied, 0);
	OK(store_schema_version(st, &v, &E));
	assert_int_equal(v, store_schema_latest());
	assert_int_equal(store_kind(st), f->pg ? SW_DB_POSTGRES : SW_DB_SQLITE);
	OK(store_ping(st, &E));
}

struct migrator {
	const char *url;
	int applied, rc;
	pthread_barrier_t *bar;
	struct sw_err err;
};

static void *migrate_thread(void *arg)
{
	struct migrator *m = arg;
	struct store *s;
	m->rc = store_open(m->url, &s, &m->err);
	pthread_barrier_wait(m->bar);
	if (!m->rc) {
		m->rc = store_migrate(s, &m->applied, &m->err);
		store_close(s);
	}
	return NULL;
}

/* Two processes migrating an empty database at once apply each migration exactly once. */
static void test_migrate_concurrent(void **state)
{
	FX();
	struct fx g = {0};
	struct migrator m[4];
	pthread_t t[4];
	pthread_barrier_t bar;
	struct store *s;
	int v, total = 0;

	if (f->pg) {
		g.url = test_pg_create_db("swstore");
	} else {
		g.dir = test_tmpdir();
		g.url = xasprintf("sqlite://%s/fresh.db", g.dir);
	}
	OK(store_open(g.url, &s, &E));
	OK(store_schema_version(s, &v, &E));
	assert_int_equal(v, 0);
	pthread_barrier_init(&bar, NULL, 4);
	for (int i = 0; i < 4; i++) {
		m[i] = (struct migrator){.url = g.url, .bar = &bar};
		pthread_create(&t[i], NULL, migrate_thread, &m[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (m[i].rc)
			fail_msg("migrate: %s", m[i].err.msg);
		total += m[i].applied;
	}
	pthread_barrier_destroy(&bar);
	assert_int_equal(total, migrations_embedded(f->pg ? "postgres" : "sqlite"));
	OK(store_schema_version(s, &v, &E));
	assert_int_equal(v, store_schema_latest());
	store_close(s);
	if (g.dir) {
		test_rmtree(g.dir);
		free(g.dir);
	}
	free(g.url);
}

static void test_open_errors(void **state)
{
	FX();
	struct store *s = (struct store *)1;
	assert_int_not_equal(store_open("sqlite:///nonexistent/dir/x.db", &s, &E), 0);
	assert_null(s);
	assert_string_equal(E.msg, "cannot open store 'sqlite:///nonexistent/dir/x.db': unable "
	                           "to open database file");
	assert_int_equal(store_open("mysql://x", &s, &E), STORE_ERROR);
	assert_non_null(strstr(E.msg, "unknown scheme"));
	if (f->pg) {
		/* nothing listens on port 1 */
		assert_int_equal(store_open("postgresql://postgres@127.0.0.1:1/x", &s, &E),
		                 STORE_EBUSY);
		assert_non_null(strstr(E.msg, "cannot open store 'postgresql://"));
	}
}

/* A PostgreSQL connection killed under the store comes back at the next call (outside a
 * transaction); the call that finds it broken fails with STORE_EBUSY, never crashes. */
static void test_reconnect(void **state)
{
	FX();
	int rc;
	OK(store_ping(st, &E));
	if (f->pg) {
		char *r =
		    raw_query(f, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		                 " WHERE datname = current_database() AND pid <> pg_backend_pid()");
		assert_non_null(r);
		free(r);
		rc = store_ping(st, &E);
		assert_true(rc == 0 || rc == STORE_EBUSY);
	}
	OK(store_ping(st, &E));
	OK(store_watermark_set(st, "k", 1, NULL, 1000, &E));
}

/* ---- transactions ---------------------------------------------------------------------- */

static void test_transactions(void **state)
{
	FX();
	struct alert_new a = mk("failed", "tx-1", "kyc", 0, "u1", "g1");
	struct alert_filter fl = {.state = -1, .limit = 100};
	struct alert *v;
	size_t n;
	int64_t ms;

	/* rolled back: nothing stays, the incident neither */
	OK(store_tx_begin(st, &E));
	OK(store_watermark_set(st, "workflow:loan", 42, "42", 1000, &E));
	open1(st, &a, 1000, NULL);
	store_tx_rollback(st);
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 0);
	alerts_free(v, n);
	OK(store_watermark_get(st, "workflow:loan", &ms, NULL, &E));
	assert_true(ms == TIME_NULL);

	/* committed: both, and the nested ops joined the outer transaction */
	OK(store_tx_begin(st, &E));
	OK(store_tx_begin(st, &E));
	OK(store_watermark_set(st, "workflow:loan", 43, NULL, 1000, &E));
	OK(store_tx_commit(st, &E));
	open1(st, &a, 1000, NULL);
	OK(store_tx_commit(st, &E));
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 1);
	alerts_free(v, n);
	OK(store_watermark_get(st, "workflow:loan", &ms, NULL, &E));
	assert_int_equal(ms, 43);

	/* an SQL error inside a transaction makes its commit fail and roll back */
	OK(store_tx_begin(st, &E));
	OK(store_watermark_set(st, "workflow:x", 1, NULL, 1000, &E));
	assert_int_not_equal(store_alerts_list(st, &(struct alert_filter){.state = -1}, &v, &n, &E),
	                     0); /* limit 0: refused before SQL, does not poison */
	OK(store_tx_commit(st, &E));
	OK(store_watermark_get(st, "workflow:x", &ms, NULL, &E));
	assert_int_equal(ms, 1);
}

/* ---- watermarks ------------------------------------------------------------------------ */

static void test_watermarks(void **state)
{
	FX();
	int64_t ms = 0;
	static char junk[] = "x";
	char *raw = junk;
	OK(store_watermark_get(st, "workflow:loan", &ms, &raw, &E));
	assert_true(ms == TIME_NULL);
	assert_null(raw);
	OK(store_watermark_set(st, "workflow:loan", 1763719025123, "2025-11-21 09:57:05.123", 1000,
	                       &E));
	OK(store_watermark_get(st, "workflow:loan", &ms, &raw, &E));
	assert_int_equal(ms, 1763719025123);
	assert_string_equal(raw, "2025-11-21 09:57:05.123");
	free(raw);
	OK(store_watermark_set(st, "workflow:loan", 1763719099000, NULL, 1000, &E));
	OK(store_watermark_get(st, "workflow:loan", &ms, &raw, &E));
	assert_int_equal(ms, 1763719099000);
	assert_null(raw);
	OK(store_watermark_get(st, "watcher:other", &ms, NULL, &E));
	assert_true(ms == TIME_NULL);
}

/* ---- step records ---------------------------------------------------------------------- */

static void test_step_status_names(void **state)
{
	(void)state;
	assert_string_equal(step_status_name(STEP_IN_PROGRESS), "IN_PROGRESS");
	assert_string_equal(step_status_name(STEP_FAILED), "FAILED");
	assert_int_equal(step_status_parse("success"), STEP_SUCCESS);
	assert_int_equal(step_status_parse("In_Progress"), STEP_IN_PROGRESS);
	assert_int_equal(step_status_parse("FAILED"), STEP_FAILED);
	assert_int_equal(step_status_parse("FAILEDX"), -1);
	assert_int_equal(step_status_parse(""), -1);
	assert_int_equal(step_status_parse(NULL), -1);
}

static int64_t raw_int(const struct fx *f, const char *sql);

/* A batch holding keys more than once: the outcome of applying its records one by one, in
 * (on PostgreSQL) as many upserts of instance_steps as the most repeated key has records;
 * before, a new statement started at every repeated key (4 here). */
static void test_ingest_repeated_keys(void **state)
{
	FX();
	struct step_record r[6] = {
	    rec("i4", "u4", "kyc", 0, STEP_IN_PROGRESS, 100, 600),
	    rec("i4", "u4", "kyc", 0, STEP_FAILED, 100, 700),
	    rec("i5", "u5", "kyc", 0, STEP_FAILED, 100, 600),
	    rec("i5", "u5", "kyc", 0, STEP_SUCCESS, 100, 700),
	    rec("i6", "u6", "kyc", 0, STEP_SUCCESS, 100, 800),
	    rec("i6", "u6", "kyc", 0, STEP_IN_PROGRESS, 100, 750), /* older: not current */
	};
	const enum step_status want[3] = {STEP_FAILED, STEP_SUCCESS, STEP_SUCCESS};
	const int64_t want_at[3] = {700, 700, 800};
	const char *inst[3] = {"i4", "i5", "i6"};
	bool cur[6];
	struct instance_step *s;
	size_t n;
	char *q;

	if (f->pg) {
		q = raw_query(f,
		              "CREATE TABLE st_count (n BIGINT NOT NULL); INSERT INTO st_count"
		              " VALUES (0); CREATE FUNCTION st_count_fn() RETURNS trigger"
		              " LANGUAGE plpgsql AS $$ BEGIN UPDATE st_count SET n = n + 1;"
		              " RETURN NULL; END $$; CREATE TRIGGER st_count_tr AFTER INSERT ON"
		              " instance_steps FOR EACH STATEMENT EXECUTE FUNCTION st_count_fn()");
		assert_non_null(q);
		free(q);
	}
	OK(store_steps_ingest(st, "loan", 3, r, 6, cur, &E));
	for (int i = 0; i < 5; i++)
		assert_true(cur[i]); /* each became current when applied */
	assert_false(cur[5]);
	for (int i = 0; i < 3; i++) {
		OK(store_instance_steps(st, "loan", inst[i], &s, &n, &E));
		assert_int_equal(n, 1);
		assert_int_equal(s[0].status, want[i]);
		assert_int_equal(s[0].updated_at, want_at[i]);
		instance_steps_free(s, n);
	}
	if (f->pg)
		assert_int_equal(raw_int(f, "SELECT n FROM st_count"), 2);
}

/* ANALYZE of the step tables happens once the ingest's transaction has committed, never
 * inside it (where its lock would be held, and the alerts the transaction makes visible
 * would wait for it); batches below the threshold add up until one is worth a look. */
static void test_ingest_statistics_after_commit(void **state)
{
	FX();
	enum {
		N = 1500,
		SMALL = 400
	};
	struct step_record *r = xcalloc(N, sizeof(*r));
	char(*ids)[16] = xcalloc(N + 3 * SMALL, sizeof(*ids));
	const char *locks = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
	                    " WHERE c.relname IN ('instances', 'instance_steps') AND l.mode ="
	                    " 'ShareUpdateExclusiveLock' AND l.database = (SELECT oid FROM"
	                    " pg_database WHERE datname = current_database())";
	const char *tuples = "SELECT reltuples::bigint FROM pg_class WHERE relname = 'instances'"
	                     " AND relnamespace = current_schema()::regnamespace";

	for (int i = 0; i < N + 3 * SMALL; i++)
		snprintf(ids[i], sizeof(ids[i]), "st%d", i);
	for (int i = 0; i < N; i++)
		r[i] = rec(ids[i], "u", "kyc", 0, STEP_SUCCESS, 100, 200 + i);
	OK(store_tx_begin(st, &E));
	OK(store_steps_ingest(st, "loan", 3, r, N, NULL, &E));
	if (f->pg)
		assert_int_equal(raw_int(f, locks), 0); /* no ANALYZE inside the transaction */
	OK(store_tx_commit(st, &E));
	if (f->pg)
		assert_int_equal(raw_int(f, tuples), N); /* analyzed once committed */
	/* three batches of 400 (each below the threshold of 1,000), each committed: the third
	 * brings the count since the ANALYZE to 1,200, over half the 1,500 it counted */
	for (int b = 0; b < 3; b++) {
		for (int i = 0; i < SMALL; i++)
			r[i] =
			    rec(ids[N + b * SMALL + i], "u", "kyc", 0, STEP_SUCCESS, 100, 5000 + i);
		OK(store_steps_ingest(st, "loan", 3, r, SMALL, NULL, &E));
		if (f->pg)
			assert_int_equal(raw_int(f, tuples), b < 2 ? N : N + 3 * SMALL);
	}
	/* what the statistics follow is growth: a batch that updates every step and instance
	 * (a later record of each) inserts nothing and analyzes nothing */
	if (f->pg) {
		const char *analyzed = "SELECT analyze_count FROM pg_stat_user_tables WHERE"
		                       " relname = 'instances' AND schemaname = current_schema()";
		int64_t before = raw_int(f, analyzed);
		for (int i = 0; i < N; i++)
			r[i] = rec(ids[i], "u", "kyc", 0, STEP_SUCCESS, 100, 90000 + i);
		OK(store_steps_ingest(st, "loan", 3, r, N, NULL, &E));
		assert_int_equal(raw_int(f, analyzed), before);
		assert_true(before >= 2);
	}
	free(ids);
	free(r);
}

static void test_ingest_dedupe(void **state)
{
	FX();
	struct step_record r[4] = {
	    rec("i1", "u1", "kyc", 0, STEP_SUCCESS, 100, 200),
	    rec("i1", "u1", "kyc", 0, STEP_SUCCESS, 100, 200),        /* same record twice */
	    rec("i1", "u1", "bureau", 1, STEP_IN_PROGRESS, 200, 200), /* equal timestamp */
	    rec("i2", "u2", "kyc", 0, STEP_IN_PROGRESS, 150, 150),
	};
	bool cur[4];
	struct instance_step *s;
	size_t n;

	OK(store_steps_ingest(st, "loan", 3, r, 4, cur, &E));
	assert_true(cur[0]); /* now the step's current state */
	assert_false(cur[1]);
	assert_true(cur[2]);
	assert_true(cur[3]);
	/* read again (the watermark overlap): nothing new, and no instance written or marked
	 * changed for the resolver */
	int64_t marks = raw_int(f, "SELECT sum(touched) FROM instances");
	OK(store_steps_ingest(st, "loan", 3, r, 4, cur, &E));
	for (int i = 0; i < 4; i++)
		assert_false(cur[i]);
	assert_int_equal(raw_int(f, "SELECT sum(touched) FROM instances"), marks);
	/* an older record that changes no step but brings an earlier start: the instance moves */
	struct step_record early = rec("i2", "u2", "kyc", 0, STEP_IN_PROGRESS, 120, 140);
	OK(store_steps_ingest(st, "loan", 3, &early, 1, cur, &E));
	assert_false(cur[0]);
	assert_int_equal(raw_int(f, "SELECT started_at FROM instances WHERE instance_id = 'i2'"),
	                 120);
	assert_true(raw_int(f, "SELECT touched FROM instances WHERE instance_id = 'i2'") >
	            raw_int(f, "SELECT touched FROM instances WHERE instance_id = 'i1'"));
	marks = raw_int(f, "SELECT sum(touched) FROM instances");
	OK(store_steps_ingest(st, "loan", 3, &early, 1, cur, &E)); /* and again: nothing */
	assert_int_equal(raw_int(f, "SELECT sum(touched) FROM instances"), marks);

	/* i2's kyc succeeds at 300; then a late transaction commits IN_PROGRESS at 250 */
	struct step_record later[2] = {
	    rec("i2", "u2", "kyc", 0, STEP_SUCCESS, 150, 300),
	    rec("i2", "u2", "kyc", 0, STEP_IN_PROGRESS, 150, 250),
	};
	OK(store_steps_ingest(st, "loan", 3, &later[0], 1, cur, &E));
	assert_true(cur[0]);
	OK(store_steps_ingest(st, "loan", 3, &later[1], 1, cur, &E));
	assert_false(cur[0]); /* a late record, older than the current state */
	OK(store_instance_steps(st, "loan", "i2", &s, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].status, STEP_SUCCESS);
	assert_int_equal(s[0].updated_at, 300);
	assert_int_equal(s[0].finished_at, 300);
	instance_steps_free(s, n);

	/* same step, same updated_at, different status: both kept, the further one current */
	struct step_record tie[2] = {
	    rec("i3", "u3", "kyc", 0, STEP_FAILED, 100, 500),
	    rec("i3", "u3", "kyc", 0, STEP_IN_PROGRESS, 100, 500),
	};
	OK(store_steps_ingest(st, "loan", 3, tie, 2, cur, &E));
	assert_true(cur[0]);
	assert_false(cur[1]); /* FAILED stays current on the tie */
	OK(store_instance_steps(st, "loan", "i3", &s, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].status, STEP_FAILED);
	assert_string_equal(s[0].error, "boom");
	instance_steps_free(s, n);

	/* i1: steps in order, with their fields */
	OK(store_instance_steps(st, "loan", "i1", &s, &n, &E));
	assert_int_equal(n, 2);
	assert_string_equal(s[0].step, "kyc");
	assert_string_equal(s[1].step, "bureau");
	assert_string_equal(s[1].workflow, "loan");
	assert_string_equal(s[1].instance_id, "i1");
	assert_string_equal(s[1].user_id, "u1");
	assert_int_equal(s[1].step_index, 1);
	assert_int_equal(s[1].status, STEP_IN_PROGRESS);
	assert_int_equal(s[1].started_at, 200);
	assert_true(s[1].finished_at == TIME_NULL);
	assert_null(s[1].error);
	instance_steps_free(s, n);

	/* another workflow with the same instance id is separate */
	OK(store_steps_ingest(st, "card", 2, r, 1, cur, &E));
	assert_true(cur[0]);
	OK(store_instance_steps(st, "nosuch", "i1", &s, &n, &E));
	assert_int_equal(n, 0);
	instance_steps_free(s, n);
}

static void test_ingest_bad_input(void **state)
{
	FX();
	struct step_record r = rec("i1", "u1", "kyc", 0, STEP_SUCCESS, 100, 200);
	struct step_record bad = r;
	bad.step_index = 3;
	assert_int_equal(store_steps_ingest(st, "loan", 3, &bad, 1, NULL, &E), STORE_ERROR);
	assert_non_null(strstr(E.msg, "step index"));
	bad = r;
	bad.instance_id = NULL;
	assert_int_equal(store_steps_ingest(st, "loan", 3, &bad, 1, NULL, &E), STORE_ERROR);
	bad = r;
	bad.updated_at = TIME_NULL;
	assert_int_equal(store_steps_ingest(st, "loan", 3, &bad, 1, NULL, &E), STORE_ERROR);
	bad = r;
	bad.status = (enum step_status)7;
	assert_int_equal(store_steps_ingest(st, "loan", 3, &bad, 1, NULL, &E), STORE_ERROR);
	OK(store_steps_ingest(st, "loan", 3, &r, 0, NULL, &E));
}

static void test_instance_progress(void **state)
{
	FX();
	struct instance_info in;
	struct step_record r[] = {
	    rec("i1", "u1", "kyc", 0, STEP_IN_PROGRESS, 100, 100),
	    rec("i1", "u1", "kyc", 0, STEP_SUCCESS, 100, 180),
	    rec("i1", "u1", "bureau", 1, STEP_IN_PROGRESS, 190, 190),
	};
	OK(store_steps_ingest(st, "loan", 3, r, 3, NULL, &E));
	OK(store_instance_get(st, "loan", "i1", &in, &E));
	assert_string_equal(in.user_id, "u1");
	assert_int_equal(in.started_at, 100);
	assert_int_equal(in.last_progress_at, 190);
	assert_int_equal(in.max_step_index, 1);
	assert_true(in.completed_at == TIME_NULL);
	instance_info_release(&in);

	/* the last step failing is not completion; succeeding is */
	struct step_record more[] = {
	    rec("i1", "u1", "bureau", 1, STEP_SUCCESS, 190, 250),
	    rec("i1", "u1", "disburse", 2, STEP_FAILED, 260, 270),
	};
	OK(store_steps_ingest(st, "loan", 3, more, 2, NULL, &E));
	OK(store_instance_get(st, "loan", "i1", &in, &E));
	assert_int_equal(in.max_step_index, 2);
	assert_true(in.completed_at == TIME_NULL);
	assert_int_equal(in.last_progress_at, 270);
	instance_info_release(&in);
	struct step_record done = rec("i1", "u1", "disburse", 2, STEP_SUCCESS, 260, 400);
	OK(store_steps_ingest(st, "loan", 3, &done, 1, NULL, &E));
	/* a late, older record moves nothing back */
	struct step_record old = rec("i1", "u1", "kyc", 0, STEP_FAILED, 50, 60);
	OK(store_steps_ingest(st, "loan", 3, &old, 1, NULL, &E));
	OK(store_instance_get(st, "loan", "i1", &in, &E));
	assert_int_equal(in.completed_at, 400);
	assert_int_equal(in.last_progress_at, 400);
	assert_int_equal(in.started_at, 50); /* earliest started_at seen */
	assert_int_equal(in.max_step_index, 2);
	instance_info_release(&in);

	assert_int_equal(store_instance_get(st, "loan", "nope", &in, &E), STORE_ENOTFOUND);
}

static void test_steps_stuck(void **state)
{
	FX();
	struct step_record r[] = {
	    rec("i1", "u1", "bureau", 1, STEP_IN_PROGRESS, 300, 300),
	    rec("i2", "u2", "bureau", 1, STEP_IN_PROGRESS, 100, 100),
	    rec("i3", "u3", "bureau", 1, STEP_IN_PROGRESS, 200, 200),
	    rec("i4", "u4", "bureau", 1, STEP_IN_PROGRESS, 900, 900), /* too recent */
	    rec("i5", "u5", "bureau", 1, STEP_SUCCESS, 50, 60),       /* done */
	    rec("i6", "u6", "kyc", 0, STEP_IN_PROGRESS, 50, 50),      /* other step */
	};
	struct instance_step *s;
	size_t n;
	OK(store_steps_ingest(st, "loan", 3, r, ARRAY_SIZE(r), NULL, &E));
	OK(store_steps_stuck(st, "loan", "bureau", 500, TIME_NULL, 10, &s, &n, &E));
	assert_int_equal(n, 3);
	assert_string_equal(s[0].instance_id, "i2");
	assert_string_equal(s[1].instance_id, "i3");
	assert_string_equal(s[2].instance_id, "i1");
	instance_steps_free(s, n);
	OK(store_steps_stuck(st, "loan", "bureau", 500, TIME_NULL, 2, &s, &n, &E));
	assert_int_equal(n, 2);
	instance_steps_free(s, n);

	/* an open stuck alert hides its step; a failed-rule alert does not */
	struct alert_new a = mk("stuck", "i2", "bureau", 1, "u2", "g");
	struct alert_new b = mk("failed", "i3", "bureau", 1, "u3", "g");
	open1(st, &a, 1000, NULL);
	open1(st, &b, 1000, NULL);
	OK(store_steps_stuck(st, "loan", "bureau", 500, TIME_NULL, 10, &s, &n, &E));
	assert_int_equal(n, 2);
	assert_string_equal(s[0].instance_id, "i3");
	assert_string_equal(s[1].instance_id, "i1");
	instance_steps_free(s, n);
}

/* ---- opening --------------------------------------------------------------------------- */

/* An alert born escalated (a late detection) is inserted at its level with one history row
 * per level passed, its incident at that level; levels that are no escalation chain are
 * refused before anything is written. */
static void test_open_born_escalated(void **state)
{
	FX();
	struct alert_new a[2] = {mk("failed", "b1", "bureau", 1, "u1", "born"),
	                         mk("failed", "b2", "bureau", 1, "u2", "born")};
	struct alert_opened o[2];
	struct alert al;
	struct alert_event *h;
	struct incident inc;
	size_t nh;
	a[0].nlevels = 2;
	a[0].levels[0] = (struct alert_level){ALERT_INITIATED, ALERT_P2, "sla P2 passed"};
	a[0].levels[1] = (struct alert_level){ALERT_P2, ALERT_P1, "sla P1 passed"};
	a[0].next_escalation_at = 9000;
	OK(store_alerts_open(st, 7000, a, 2, o, &E));
	assert_true(o[0].created && o[1].created);
	OK(store_alert_get(st, o[0].alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_P1);
	assert_int_equal(al.next_escalation_at, 9000);
	assert_int_equal(nh, 3);
	assert_string_equal(h[0].event, "opened");
	assert_int_equal(h[0].to_state, ALERT_INITIATED);
	for (int l = 1; l <= 2; l++) {
		assert_string_equal(h[l].event, "escalated");
		assert_string_equal(h[l].actor, "watcher");
		assert_int_equal(h[l].from_state, l - 1);
		assert_int_equal(h[l].to_state, l);
		assert_int_equal(h[l].at, 7000);
	}
	assert_string_equal(h[2].reason, "sla P1 passed");
	alert_events_free(h, nh);
	alert_release(&al);
	OK(store_alert_get(st, o[1].alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_INITIATED);
	assert_int_equal(nh, 1);
	alert_events_free(h, nh);
	alert_release(&al);
	OK(store_incident_get(st, o[0].incident_id, &inc, &E));
	assert_int_equal(inc.level, ALERT_P1);
	assert_int_equal(inc.open_alerts, 2);
	incident_release(&inc);
	/* opened again: the open alert is named, nothing written */
	OK(store_alerts_open(st, 7100, a, 1, o, &E));
	assert_false(o[0].created);
	OK(store_alert_get(st, o[0].alert_id, &al, &h, &nh, &E));
	assert_int_equal(nh, 3);
	alert_events_free(h, nh);
	alert_release(&al);

	/* a chain that skips, goes back, closes or has no reason: refused */
	struct alert_new bad = mk("failed", "b3", "bureau", 1, "u3", "born");
	bad.nlevels = 1;
	bad.levels[0] = (struct alert_level){ALERT_P2, ALERT_P1, "x"};
	assert_int_equal(store_alerts_open(st, 7000, &bad, 1, o, &E), STORE_ERROR);
	bad.levels[0] = (struct alert_level){ALERT_INITIATED, ALERT_RESOLVED, "x"};
	assert_int_equal(store_alerts_open(st, 7000, &bad, 1, o, &E), STORE_ERROR);
	bad.levels[0] = (struct alert_level){ALERT_INITIATED, ALERT_P2, NULL};
	assert_int_equal(store_alerts_open(st, 7000, &bad, 1, o, &E), STORE_ERROR);
	bad.nlevels = 4;
	assert_int_equal(store_alerts_open(st, 7000, &bad, 1, o, &E), STORE_ERROR);
	bad.nlevels = 0;
	OK(store_alerts_open(st, 7000, &bad, 1, o, &E));
	assert_true(o[0].created);
}

static void test_open_idempotent(void **state)
{
	FX();
	struct alert_new a = mk("failed", "i1", "bureau", 1, "u1", "loan/bureau/failed/x");
	struct alert_opened o[3];
	struct alert al;
	struct alert_event *h;
	size_t nh;
	bool created;
	int64_t id = open1(st, &a, 1100, &created);
	assert_true(created);
	assert_true(id > 0);
	assert_int_equal(open1(st, &a, 1200, &created), id);
	assert_false(created);

	/* a batch holding the same key twice and a new key */
	struct alert_new batch[3] = {a, mk("failed", "i2", "bureau", 1, "u2", "other"), a};
	batch[1].next_escalation_at = TIME_NULL;
	batch[1].labels_json = NULL;
	batch[1].error = NULL;
	OK(store_alerts_open(st, 1300, batch, 3, o, &E));
	assert_int_equal(o[0].alert_id, id);
	assert_false(o[0].created);
	assert_true(o[1].created);
	assert_int_equal(o[2].alert_id, id);
	assert_false(o[2].created);
	int64_t bare = o[1].alert_id;
	struct alert_new twice[2] = {mk("stuck", "i9", "kyc", 0, "u9", "s"),
	                             mk("stuck", "i9", "kyc", 0, "u9", "s")};
	OK(store_alerts_open(st, 1300, twice, 2, o, &E));
	assert_true(o[0].created);
	assert_false(o[1].created);
	assert_int_equal(o[0].alert_id, o[1].alert_id);
	assert_int_equal(o[0].incident_id, o[1].incident_id);

	OK(store_alert_get(st, id, &al, &h, &nh, &E));
	assert_int_equal(al.id, id);
	assert_string_equal(al.rule, "failed");
	assert_string_equal(al.workflow, "loan");
	assert_string_equal(al.step, "bureau");
	assert_string_equal(al.instance_id, "i1");
	assert_string_equal(al.user_id, "u1");
	assert_int_equal(al.step_index, 1);
	assert_int_equal(al.state, ALERT_INITIATED);
	assert_string_equal(al.error, "bureau timeout");
	assert_string_equal(al.labels_json, "{\"bureau\":\"cibil\"}");
	assert_string_equal(al.group_key, "loan/bureau/failed/x");
	assert_int_equal(al.occurred_at, 1000);
	assert_int_equal(al.opened_at, 1100);
	assert_int_equal(al.updated_at, 1100);
	assert_int_equal(al.next_escalation_at, 5000);
	assert_int_equal(al.abandon_after_ms, 0);
	assert_null(al.acked_by);
	assert_true(al.acked_at == TIME_NULL);
	assert_true(al.resolved_at == TIME_NULL);
	assert_null(al.resolved_by);
	assert_true(al.incident_id > 0);
	assert_int_equal(al.reopen_of, 0);
	assert_int_equal(nh, 1);
	assert_string_equal(h[0].event, "opened");
	assert_int_equal(h[0].alert_id, id);
	assert_int_equal(h[0].at, 1100);
	assert_int_equal(h[0].from_state, -1);
	assert_int_equal(h[0].to_state, ALERT_INITIATED);
	alert_release(&al);
	alert_events_free(h, nh);

	OK(store_alert_get(st, bare, &al, NULL, NULL, &E));
	assert_string_equal(al.labels_json, "{}");
	assert_null(al.error);
	assert_true(al.next_escalation_at == TIME_NULL);
	alert_release(&al);

	assert_int_equal(store_alert_get(st, 999999, &al, NULL, NULL, &E), STORE_ENOTFOUND);

	/* bad input */
	struct alert_new bad = a;
	bad.group_key = NULL;
	assert_int_equal(store_alerts_open(st, 1, &bad, 1, o, &E), STORE_ERROR);
	OK(store_alerts_open(st, 1, &bad, 0, o, &E));
}

static void test_reopen(void **state)
{
	FX();
	struct alert_new a = mk("failed", "i1", "bureau", 1, "u1", "g");
	struct alert_opened o;
	struct alert al;
	struct alert_event *h;
	size_t nh;
	int64_t flaps = -1;

	int64_t first = open1(st, &a, 1100, NULL);
	OK(store_rule_flaps(st, "loan", "failed", &flaps, &E));
	assert_int_equal(flaps, 0);
	change1(st, first, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);

	OK(store_alerts_open(st, 3000, &a, 1, &o, &E));
	assert_true(o.created);
	assert_int_not_equal(o.alert_id, first);
	assert_int_equal(o.reopen_of, first);
	OK(store_alert_get(st, o.alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.reopen_of, first);
	assert_int_equal(nh, 1);
	assert_string_equal(h[0].event, "reopened");
	alert_release(&al);
	alert_events_free(h, nh);
	OK(store_rule_flaps(st, "loan", "failed", &flaps, &E));
	assert_int_equal(flaps, 1);

	/* opening it again while open is not a flap */
	int64_t second = o.alert_id;
	OK(store_alerts_open(st, 3100, &a, 1, &o, &E));
	assert_false(o.created);
	assert_int_equal(o.reopen_of, 0);
	OK(store_rule_flaps(st, "loan", "failed", &flaps, &E));
	assert_int_equal(flaps, 1);

	/* abandoned, then back: links to the newest closed one */
	change1(st, second, ALERT_INITIATED, ALERT_ABANDONED, "abandoned", true);
	OK(store_alerts_open(st, 4000, &a, 1, &o, &E));
	assert_true(o.created);
	assert_int_equal(o.reopen_of, second);
	OK(store_rule_flaps(st, "loan", "failed", &flaps, &E));
	assert_int_equal(flaps, 2);
	OK(store_rule_flaps(st, "loan", "stuck", &flaps, &E));
	assert_int_equal(flaps, 0);
}

static void test_incident_grouping(void **state)
{
	FX();
	struct alert_new a[200];
	struct alert_opened o[200];
	char inst[200][16], user[200][16];
	struct incident in;

	for (int i = 0; i < 200; i++) {
		snprintf(inst[i], sizeof(inst[i]), "inst-%d", i);
		snprintf(user[i], sizeof(user[i]), "user-%d", i % 37);
		a[i] = mk("failed", inst[i], "bureau", 1, user[i], "loan|bureau|failed|timeout");
	}
	OK(store_alerts_open(st, 1500, a, 200, o, &E));
	for (int i = 0; i < 200; i++) {
		assert_true(o[i].created);
		assert_int_equal(o[i].incident_id, o[0].incident_id);
	}
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_true(in.open);
	assert_int_equal(in.total_alerts, 200);
	assert_int_equal(in.open_alerts, 200);
	assert_int_equal(in.affected_users, 37);
	assert_int_equal(in.level, ALERT_INITIATED);
	assert_string_equal(in.workflow, "loan");
	assert_string_equal(in.step, "bureau");
	assert_string_equal(in.rule, "failed");
	assert_string_equal(in.group_key, "loan|bureau|failed|timeout");
	assert_string_equal(in.labels_json, "{\"error\":\"bureau timeout\"}");
	assert_int_equal(in.opened_at, 1500);
	assert_true(in.resolved_at == TIME_NULL);
	assert_null(in.acked_by);
	incident_release(&in);

	/* later alerts of the key join it, one by one; a user seen before is not counted again */
	struct alert_new more =
	    mk("failed", "inst-x", "bureau", 1, "user-3", "loan|bureau|failed|timeout");
	struct alert_opened om;
	OK(store_alerts_open(st, 1600, &more, 1, &om, &E));
	assert_int_equal(om.incident_id, o[0].incident_id);
	more = mk("failed", "inst-y", "bureau", 1, "user-new", "loan|bureau|failed|timeout");
	OK(store_alerts_open(st, 1600, &more, 1, &om, &E));
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_int_equal(in.total_alerts, 202);
	assert_int_equal(in.affected_users, 38);
	incident_release(&in);

	/* another key: another incident */
	more = mk("failed", "inst-z", "bureau", 1, "user-1", "loan|bureau|failed|5xx");
	OK(store_alerts_open(st, 1600, &more, 1, &om, &E));
	assert_int_not_equal(om.incident_id, o[0].incident_id);
	assert_int_equal(store_incident_get(st, 424242, &in, &E), STORE_ENOTFOUND);
}

/* ---- changes --------------------------------------------------------------------------- */

static void test_change_cas(void **state)
{
	FX();
	struct alert_new a = mk("failed", "i1", "bureau", 1, "u1", "g");
	struct alert al;
	int64_t id = open1(st, &a, 1100, NULL);

	change1(st, id, ALERT_INITIATED, ALERT_P2, "escalated", true);
	assert_int_equal(history_len(st, id), 2);
	/* replay: not applied, no second history row */
	change1(st, id, ALERT_INITIATED, ALERT_P2, "escalated", false);
	assert_int_equal(history_len(st, id), 2);
	/* wrong from, unknown id */
	change1(st, id, ALERT_P1, ALERT_P0, "escalated", false);
	change1(st, 987654, ALERT_INITIATED, ALERT_P2, "escalated", false);
	OK(store_alert_get(st, id, &al, NULL, NULL, &E));
	assert_int_equal(al.state, ALERT_P2);
	assert_int_equal(al.updated_at, 2000);
	assert_int_equal(al.next_escalation_at, 9000);
	alert_release(&al);

	/* a batch where some apply and some do not */
	struct alert_change c[3] = {
	    {id, ALERT_P2, ALERT_P1, "escalated", "validator", NULL, 10000, NULL},
	    {id, ALERT_P2, ALERT_P1, "escalated", "validator", NULL, 10000, NULL},
	    {id, ALERT_P1, ALERT_P0, "escalated", "validator", NULL, TIME_NULL, NULL},
	};
	bool applied[3];
	OK(store_alerts_change(st, 3000, c, 3, applied, &E));
	assert_true(applied[0]);
	assert_false(applied[1]);
	assert_true(applied[2]);
	assert_int_equal(history_len(st, id), 4);
	OK(store_alert_get(st, id, &al, NULL, NULL, &E));
	assert_int_equal(al.state, ALERT_P0);
	assert_true(al.next_escalation_at == TIME_NULL);
	alert_release(&al);

	/* bad input */
	c[0].event = NULL;
	assert_int_equal(store_alerts_change(st, 1, c, 1, applied, &E), STORE_ERROR);
	OK(store_alerts_change(st, 1, c, 0, applied, &E));
}

static void test_escalation_history(void **state)
{
	FX();
	struct alert_new a = mk("failed", "i1", "bureau", 1, "u1", "g");
	struct alert_opened o;
	struct alert al;
	struct alert_event *h;
	struct incident in;
	size_t nh;
	OK(store_alerts_open(st, 1100, &a, 1, &o, &E));

	/* a late detection passes three levels in one validator run: three rows */
	struct alert_change c[3] = {
	    {o.alert_id, ALERT_INITIATED, ALERT_P2, "escalated", "validator", "sla.p2 passed", 2000,
	     NULL},
	    {o.alert_id, ALERT_P2, ALERT_P1, "escalated", "validator", "sla.p1 passed", 3000, NULL},
	    {o.alert_id, ALERT_P1, ALERT_P0, "escalated", "validator", "sla.p0 passed", TIME_NULL,
	     NULL},
	};
	bool applied[3];
	OK(store_alerts_change(st, 50000, c, 3, applied, &E));
	assert_true(applied[0] && applied[1] && applied[2]);
	OK(store_alert_get(st, o.alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_P0);
	assert_int_equal(nh, 4);
	for (int i = 1; i < 4; i++) {
		assert_string_equal(h[i].event, "escalated");
		assert_string_equal(h[i].actor, "validator");
		assert_int_equal(h[i].from_state, i - 1);
		assert_int_equal(h[i].to_state, i);
		assert_int_equal(h[i].at, 50000);
		assert_true(h[i].id > h[i - 1].id);
	}
	assert_string_equal(h[2].reason, "sla.p1 passed");
	alert_release(&al);
	alert_events_free(h, nh);
	OK(store_incident_get(st, o.incident_id, &in, &E));
	assert_int_equal(in.level, ALERT_P0);
	incident_release(&in);
}

static void test_resolve_closes_incident(void **state)
{
	FX();
	struct alert_new a[2] = {mk("failed", "i1", "bureau", 1, "u1", "g"),
	                         mk("failed", "i2", "bureau", 1, "u2", "g")};
	struct alert_opened o[2];
	struct incident in;
	struct alert al;
	OK(store_alerts_open(st, 1100, a, 2, o, &E));
	change1(st, o[1].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", true);
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_int_equal(in.level, ALERT_P2);
	incident_release(&in);

	/* the escalated one resolves: level falls back to the highest open one */
	change1(st, o[1].alert_id, ALERT_P2, ALERT_RESOLVED, "resolved", true);
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_true(in.open);
	assert_int_equal(in.open_alerts, 1);
	assert_int_equal(in.total_alerts, 2);
	assert_int_equal(in.level, ALERT_INITIATED);
	incident_release(&in);
	OK(store_alert_get(st, o[1].alert_id, &al, NULL, NULL, &E));
	assert_int_equal(al.state, ALERT_RESOLVED);
	assert_string_equal(al.resolved_by, "resolver");
	assert_int_equal(al.resolved_at, 2000);
	assert_true(al.next_escalation_at == TIME_NULL);
	alert_release(&al);

	/* the last one closes (abandoned): the incident resolves */
	change1(st, o[0].alert_id, ALERT_INITIATED, ALERT_ABANDONED, "abandoned", true);
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_false(in.open);
	assert_int_equal(in.open_alerts, 0);
	assert_int_equal(in.resolved_at, 2000);
	incident_release(&in);
	OK(store_alert_get(st, o[0].alert_id, &al, NULL, NULL, &E));
	assert_null(al.resolved_by);
	assert_true(al.resolved_at == TIME_NULL);
	alert_release(&al);

	/* the same key again: a new incident */
	struct alert_new b = mk("failed", "i3", "bureau", 1, "u3", "g");
	struct alert_opened ob;
	OK(store_alerts_open(st, 5000, &b, 1, &ob, &E));
	assert_int_not_equal(ob.incident_id, o[0].incident_id);
}

static void test_ack(void **state)
{
	FX();
	struct alert_new a = mk("failed", "i1", "bureau", 1, "u1", "g");
	struct alert al;
	struct alert_event *h;
	size_t nh;
	int64_t id = open1(st, &a, 1100, NULL);

	OK(store_alert_ack(st, id, 1500, "user:asha", "looking", &E));
	OK(store_alert_get(st, id, &al, &h, &nh, &E));
	assert_string_equal(al.acked_by, "user:asha");
	assert_int_equal(al.acked_at, 1500);
	assert_int_equal(al.state, ALERT_INITIATED); /* a flag, not a state */
	assert_int_equal(nh, 2);
	assert_string_equal(h[1].event, "acked");
	assert_string_equal(h[1].actor, "user:asha");
	assert_string_equal(h[1].reason, "looking");
	assert_int_equal(h[1].from_state, -1);
	assert_int_equal(h[1].to_state, -1);
	alert_release(&al);
	alert_events_free(h, nh);

	assert_int_equal(store_alert_ack(st, id, 1600, "user:bo", NULL, &E), STORE_ECONFLICT);
	assert_non_null(strstr(E.msg, "user:asha"));
	assert_int_equal(history_len(st, id), 2);
	assert_int_equal(store_alert_ack(st, 777777, 1600, "user:bo", NULL, &E), STORE_ENOTFOUND);
	assert_int_equal(store_alert_ack(st, id, 1600, NULL, NULL, &E), STORE_ERROR);

	/* escalation goes on after an ack; a closed alert cannot be acked */
	change1(st, id, ALERT_INITIATED, ALERT_P2, "escalated", true);
	struct alert_new b = mk("failed", "i2", "bureau", 1, "u2", "g");
	int64_t id2 = open1(st, &b, 1100, NULL);
	change1(st, id2, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	assert_int_equal(store_alert_ack(st, id2, 1600, "user:bo", NULL, &E), STORE_ECONFLICT);

	/* an ack inside a caller's transaction that conflicts does not spoil it */
	OK(store_tx_begin(st, &E));
	assert_int_equal(store_alert_ack(st, id, 1600, "user:bo", NULL, &E), STORE_ECONFLICT);
	OK(store_watermark_set(st, "k", 5, NULL, 1000, &E));
	OK(store_tx_commit(st, &E));
}

static void test_event_add(void **state)
{
	FX();
	struct alert_new a = mk("failed", "i1", "bureau", 1, "u1", "g");
	struct alert al;
	struct alert_event *h;
	size_t nh;
	int64_t id = open1(st, &a, 1100, NULL);
	OK(store_alert_event_add(st, id, 1200, "notified", "notifier", "slack #ops", &E));
	OK(store_alert_event_add(st, id, 1300, "recovery_attempt", "recovery", NULL, &E));
	OK(store_alert_get(st, id, &al, &h, &nh, &E));
	assert_int_equal(nh, 3);
	assert_string_equal(h[1].event, "notified");
	assert_string_equal(h[1].reason, "slack #ops");
	assert_int_equal(h[1].at, 1200);
	assert_int_equal(h[1].from_state, -1);
	assert_string_equal(h[2].event, "recovery_attempt");
	assert_null(h[2].reason);
	assert_int_equal(al.state, ALERT_INITIATED);
	alert_release(&al);
	alert_events_free(h, nh);
	assert_int_equal(store_alert_event_add(st, 555555, 1, "notified", "n", NULL, &E),
	                 STORE_ENOTFOUND);
	assert_int_equal(store_alert_event_add(st, id, 1, NULL, "n", NULL, &E), STORE_ERROR);

	/* history is append-only, enforced by the database */
	char *r = raw_query(f, "UPDATE alert_history SET event = 'x'");
	assert_null(r);
	r = raw_query(f, "DELETE FROM alert_history");
	assert_null(r);
	assert_int_equal(history_len(st, id), 3);

	/* every history row names an existing alert, and an alert with history stays (a
	 * foreign key; on PostgreSQL a check per statement since 0007). A raw SQLite
	 * connection does not turn foreign keys on, so this part runs on PostgreSQL. */
	if (f->pg) {
		char sql[256];
		r = raw_query(f, "INSERT INTO alert_history (alert_id, at, actor, event)"
		                 " VALUES (555555, 1, 'x', 'noted')");
		assert_null(r);
		/* one missing alert among existing ones fails the whole statement */
		snprintf(sql, sizeof(sql),
		         "INSERT INTO alert_history (alert_id, at, actor, event)"
		         " SELECT v, 1, 'x', 'noted' FROM unnest(ARRAY[%" PRId64
		         ", 555555, %" PRId64 "]::bigint[]) AS v",
		         id, id);
		r = raw_query(f, sql);
		assert_null(r);
		assert_int_equal(history_len(st, id), 3);
		/* the same alert many times in one statement is fine */
		snprintf(sql, sizeof(sql),
		         "INSERT INTO alert_history (alert_id, at, actor, event)"
		         " SELECT %" PRId64 ", 1, 'x', 'noted' FROM generate_series(1, 3)",
		         id);
		r = raw_query(f, sql);
		assert_non_null(r);
		free(r);
		assert_int_equal(history_len(st, id), 6);
		snprintf(sql, sizeof(sql), "DELETE FROM alerts WHERE id = %" PRId64, id);
		r = raw_query(f, sql);
		assert_null(r);
		snprintf(sql, sizeof(sql), "UPDATE alerts SET id = id + 1000 WHERE id = %" PRId64,
		         id);
		r = raw_query(f, sql);
		assert_null(r);
		OK(store_alert_get(st, id, &al, &h, &nh, &E));
		assert_int_equal(nh, 6);
		alert_release(&al);
		alert_events_free(h, nh);
	}
}

/* ---- queries --------------------------------------------------------------------------- */

static void test_due(void **state)
{
	FX();
	struct alert_new a[5] = {
	    mk("failed", "i1", "s", 0, "u", "g"), mk("failed", "i2", "s", 0, "u", "g"),
	    mk("failed", "i3", "s", 0, "u", "g"), mk("failed", "i4", "s", 0, "u", "g"),
	    mk("failed", "i5", "s", 0, "u", "g"),
	};
	struct alert_opened o[5];
	struct alert_due *d;
	size_t n;
	a[0].next_escalation_at = 3000;
	a[1].next_escalation_at = 1000;
	a[2].next_escalation_at = TIME_NULL; /* never */
	a[3].next_escalation_at = 9000;      /* not yet */
	a[4].next_escalation_at = 2000;      /* closed below */
	OK(store_alerts_open(st, 500, a, 5, o, &E));
	change1(st, o[4].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);

	OK(store_alerts_due(st, 5000, 100, &d, &n, &E));
	assert_int_equal(n, 2);
	assert_int_equal(d[0].id, o[1].alert_id);
	assert_int_equal(d[1].id, o[0].alert_id);
	/* what the escalation plan and silences read */
	assert_int_equal(d[0].state, ALERT_INITIATED);
	assert_int_equal(d[0].occurred_at, a[1].occurred_at);
	assert_string_equal(d[0].workflow, a[1].workflow);
	assert_string_equal(d[0].step, "s");
	if (a[1].error)
		assert_string_equal(d[0].error, a[1].error);
	else
		assert_null(d[0].error);
	alert_dues_free(d, n);
	OK(store_alerts_due(st, 5000, 1, &d, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(d[0].id, o[1].alert_id);
	alert_dues_free(d, n);
	OK(store_alerts_due(st, 999, 10, &d, &n, &E));
	assert_int_equal(n, 0);
	alert_dues_free(d, n);
	OK(store_alerts_due(st, 1000, 10, &d, &n, &E)); /* due at exactly now */
	assert_int_equal(n, 1);
	alert_dues_free(d, n);

	/* the due query reads the partial index on next_escalation_at */
	char *plan = raw_query(
	    f, f->pg ? "SET enable_seqscan = off; EXPLAIN SELECT id FROM alerts a WHERE a.state < "
	               "4 AND a.next_escalation_at <= 5000 ORDER BY a.next_escalation_at, "
	               "a.id LIMIT 10"
	             : "EXPLAIN QUERY PLAN SELECT id FROM alerts a WHERE a.state < 4 AND "
	               "a.next_escalation_at <= 5000 ORDER BY a.next_escalation_at, a.id "
	               "LIMIT 10");
	assert_non_null(plan);
	if (!strstr(plan, "alerts_due_idx"))
		fail_msg("due query does not use alerts_due_idx:\n%s", plan);
	free(plan);
}

static void test_recovered(void **state)
{
	FX();
	struct step_record r[] = {
	    rec("i1", "u1", "bureau", 1, STEP_FAILED, 100, 110),
	    rec("i2", "u2", "bureau", 1, STEP_FAILED, 100, 110),
	    rec("i3", "u3", "bureau", 1, STEP_IN_PROGRESS, 100, 100),
	    rec("i4", "u4", "bureau", 1, STEP_FAILED, 100, 110),
	    rec("i5", "u5", "bureau", 1, STEP_IN_PROGRESS, 100, 100),
	};
	struct alert_new a[] = {
	    mk("failed", "i1", "bureau", 1, "u1", "g"), /* step succeeds later */
	    mk("failed", "i2", "bureau", 1, "u2", "g"), /* later step reached */
	    mk("stuck", "i3", "bureau", 1, "u3", "g"),  /* step leaves IN_PROGRESS */
	    mk("failed", "i4", "bureau", 1, "u4", "g"), /* still failed */
	    mk("stuck", "i5", "bureau", 1, "u5", "g"),  /* still stuck */
	    mk("custom", "i1", "bureau", 1, "u1", "g"), /* other rules: never */
	    mk("failed", "i9", "bureau", 1, "u9", "g"), /* unknown instance */
	};
	struct alert_opened o[ARRAY_SIZE(a)];
	struct alert *v;
	size_t n;
	OK(store_steps_ingest(st, "loan", 3, r, ARRAY_SIZE(r), NULL, &E));
	OK(store_alerts_open(st, 500, a, ARRAY_SIZE(a), o, &E));
	OK(store_alerts_recovered(st, "loan", 100, &v, &n, &E));
	assert_int_equal(n, 0);
	alerts_free(v, n);

	struct step_record later[] = {
	    rec("i1", "u1", "bureau", 1, STEP_SUCCESS, 100, 200),
	    rec("i2", "u2", "underwriting", 2, STEP_IN_PROGRESS, 200, 200),
	    rec("i3", "u3", "bureau", 1, STEP_FAILED, 100, 200),
	    rec("i4", "u4", "bureau", 1, STEP_IN_PROGRESS, 190, 200), /* retrying */
	};
	OK(store_steps_ingest(st, "loan", 3, later, ARRAY_SIZE(later), NULL, &E));
	OK(store_alerts_recovered(st, "loan", 100, &v, &n, &E));
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, o[0].alert_id);
	assert_int_equal(v[1].id, o[1].alert_id);
	assert_int_equal(v[2].id, o[2].alert_id);
	alerts_free(v, n);
	OK(store_alerts_recovered(st, "loan", 2, &v, &n, &E));
	assert_int_equal(n, 2);
	alerts_free(v, n);
	OK(store_alerts_recovered(st, "card", 100, &v, &n, &E));
	assert_int_equal(n, 0);
	alerts_free(v, n);

	/* resolved ones are no longer listed */
	change1(st, o[0].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	OK(store_alerts_recovered(st, "loan", 100, &v, &n, &E));
	assert_int_equal(n, 2);
	alerts_free(v, n);
}

/* Whether id is among v[0..n). */
static bool has_id(const struct alert *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return true;
	return false;
}

/* The incremental form: only instances changed since a mark, including a change that was
 * not committed yet when the mark was taken. */
static void test_recovered_since(void **state)
{
	FX();
	struct step_record r[] = {
	    rec("i1", "u1", "bureau", 1, STEP_FAILED, 100, 110),
	    rec("i2", "u2", "bureau", 1, STEP_FAILED, 100, 110),
	    rec("i3", "u3", "bureau", 1, STEP_IN_PROGRESS, 100, 100),
	};
	struct alert_new a[] = {
	    mk("failed", "i1", "bureau", 1, "u1", "g"),
	    mk("failed", "i2", "bureau", 1, "u2", "g"),
	    mk("stuck", "i3", "bureau", 1, "u3", "g"),
	};
	struct alert_opened o[ARRAY_SIZE(a)];
	struct alert *v;
	size_t n;
	int64_t m0, m1, m2;
	struct store *st2;

	OK(store_steps_ingest(st, "loan", 3, r, ARRAY_SIZE(r), NULL, &E));
	OK(store_alerts_open(st, 500, a, ARRAY_SIZE(a), o, &E));
	OK(store_recovery_mark(st, "loan", &m0, &E));
	OK(store_alerts_recovered_since(st, "loan", m0, 100, &v, &n, &E));
	assert_int_equal(n, 0);
	alerts_free(v, n);

	/* i1 succeeds: seen from m0, and by the full check */
	struct step_record ok1[] = {rec("i1", "u1", "bureau", 1, STEP_SUCCESS, 100, 200)};
	OK(store_steps_ingest(st, "loan", 3, ok1, 1, NULL, &E));
	OK(store_alerts_recovered_since(st, "loan", m0, 100, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, o[0].alert_id);
	alerts_free(v, n);
	OK(store_alerts_recovered_since(st, "loan", -1, 100, &v, &n, &E));
	assert_int_equal(n, 1);
	alerts_free(v, n);
	OK(store_recovery_mark(st, "loan", &m1, &E));
	assert_true(m1 >= m0);
	if (!f->pg) {
		/* nothing changed since m1 (on PostgreSQL another session of the cluster may
		 * hold the snapshot xmin back: more is re-checked, never less) */
		OK(store_alerts_recovered_since(st, "loan", m1, 100, &v, &n, &E));
		assert_int_equal(n, 0);
		alerts_free(v, n);
	}

	/* a writer still in its transaction when the mark is taken is not missed */
	OK(store_open(f->url, &st2, &E));
	OK(store_tx_begin(st2, &E));
	struct step_record more[] = {
	    rec("i2", "u2", "underwriting", 2, STEP_IN_PROGRESS, 200, 200),
	    rec("i3", "u3", "bureau", 1, STEP_FAILED, 100, 200),
	};
	OK(store_steps_ingest(st2, "loan", 3, more, ARRAY_SIZE(more), NULL, &E));
	OK(store_recovery_mark(st, "loan", &m2, &E));
	OK(store_tx_commit(st2, &E));
	store_close(st2);
	OK(store_alerts_recovered_since(st, "loan", m2, 100, &v, &n, &E));
	assert_true(has_id(v, n, o[1].alert_id)); /* later step reached */
	assert_true(has_id(v, n, o[2].alert_id)); /* stuck step left IN_PROGRESS */
	alerts_free(v, n);
	OK(store_alerts_recovered_since(st, "loan", m2, 1, &v, &n, &E)); /* limit */
	assert_int_equal(n, 1);
	alerts_free(v, n);
}

/* Count the row updates of alerts (a trigger, through a second connection). */
static void count_alert_updates(const struct fx *f)
{
	char *r;
	if (f->pg) {
		r = raw_query(f, "CREATE TABLE upd_count (n BIGINT NOT NULL); INSERT INTO upd_count"
		                 " VALUES (0); CREATE FUNCTION upd_count_fn() RETURNS trigger"
		                 " LANGUAGE plpgsql AS $$ BEGIN UPDATE upd_count SET n = n + 1;"
		                 " RETURN NEW; END $$; CREATE TRIGGER upd_count_tr AFTER UPDATE ON"
		                 " alerts FOR EACH ROW EXECUTE FUNCTION upd_count_fn()");
		assert_non_null(r);
		free(r);
		return;
	}
	r = raw_query(f, "CREATE TABLE upd_count (n BIGINT NOT NULL)");
	assert_non_null(r);
	free(r);
	r = raw_query(f, "INSERT INTO upd_count VALUES (0)");
	assert_non_null(r);
	free(r);
	r = raw_query(f, "CREATE TRIGGER upd_count_tr AFTER UPDATE ON alerts"
	                 " BEGIN UPDATE upd_count SET n = n + 1; END");
	assert_non_null(r);
	free(r);
}

static int64_t raw_int(const struct fx *f, const char *sql)
{
	char *r = raw_query(f, sql);
	int64_t v;
	assert_non_null(r);
	v = strtoll(r, NULL, 10);
	free(r);
	return v;
}

/* The incident's counters equal a count of its alerts. */
static void assert_incident_counts(const struct fx *f, struct store *st, int64_t id)
{
	struct incident in;
	char sql[256];
	OK(store_incident_get(st, id, &in, &E));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE incident_id = %" PRId64, id);
	assert_int_equal(in.total_alerts, raw_int(f, sql));
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM alerts WHERE incident_id = %" PRId64 " AND state < 4", id);
	assert_int_equal(in.open_alerts, raw_int(f, sql));
	snprintf(sql, sizeof(sql),
	         "SELECT count(DISTINCT user_id) FROM alerts WHERE incident_id = %" PRId64, id);
	assert_int_equal(in.affected_users, raw_int(f, sql));
	snprintf(sql, sizeof(sql),
	         "SELECT COALESCE(max(state), -1) FROM alerts WHERE incident_id = %" PRId64
	         " AND state < 4",
	         id);
	if (raw_int(f, sql) >= 0)
		assert_int_equal(in.level, raw_int(f, sql));
	assert_int_equal(in.open, in.open_alerts > 0 || in.total_alerts == 0);
	incident_release(&in);
	/* the closed counts (0010_closed_counts.sql) */
	snprintf(sql, sizeof(sql),
	         "SELECT (SELECT count(*) FROM alerts WHERE incident_id = %" PRId64
	         " AND state = 4) - resolved_alerts FROM incidents WHERE id = %" PRId64,
	         id, id);
	assert_int_equal(raw_int(f, sql), 0);
	snprintf(sql, sizeof(sql),
	         "SELECT (SELECT count(*) FROM alerts WHERE incident_id = %" PRId64
	         " AND state = 5) - abandoned_alerts FROM incidents WHERE id = %" PRId64,
	         id, id);
	assert_int_equal(raw_int(f, sql), 0);
	snprintf(sql, sizeof(sql),
	         "SELECT (SELECT count(*) FROM alerts WHERE incident_id = %" PRId64
	         " AND state = 4 AND resolved_by = 'resolver') - self_resolved_alerts"
	         " FROM incidents WHERE id = %" PRId64,
	         id, id);
	assert_int_equal(raw_int(f, sql), 0);
}

/* store_alert_counts equals a count of the alerts, state by state. */
static void assert_alert_counts(const struct fx *f, struct store *st)
{
	struct alert_counts c;
	char sql[128];
	OK(store_alert_counts(st, &c, &E));
	for (int s = 0; s < ALERT_STATE_COUNT; s++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE state = %d", s);
		assert_int_equal(c.by_state[s], raw_int(f, sql));
	}
	assert_int_equal(c.resolved_by_resolver,
	                 raw_int(f, "SELECT count(*) FROM alerts WHERE state = 4"
	                            " AND resolved_by = 'resolver'"));
	assert_int_equal(c.open_incidents,
	                 raw_int(f, "SELECT count(*) FROM incidents WHERE state = 'OPEN'"));
	assert_int_equal(c.affected_users_open,
	                 raw_int(f, "SELECT count(DISTINCT user_id) FROM alerts WHERE state < 4"));
}

/* Changes of one alert that follow each other apply as one update of its row, with a
 * history row each; a chain whose first change does not apply still applies its later
 * changes one by one, as if applied in order. */
static void test_change_chains(void **state)
{
	FX();
	struct alert_new a[4] = {
	    mk("failed", "c1", "bureau", 1, "u1", "g"), mk("failed", "c2", "bureau", 1, "u2", "g"),
	    mk("failed", "c3", "bureau", 1, "u3", "g"), mk("failed", "c4", "bureau", 1, "u4", "g")};
	struct alert_opened o[4];
	struct alert al;
	struct alert_event *h;
	size_t nh;
	bool applied[9];

	OK(store_alerts_open(st, 1000, a, 4, o, &E));
	change1(st, o[1].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", true);
	count_alert_updates(f);
	struct alert_change c[9] = {
	    /* c1: 0 -> 1 -> 2 -> 3, interleaved with the others */
	    {o[0].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", "validator", "p2", 5000, NULL},
	    /* c2 is at P2: its chain's first change fails, the second applies */
	    {o[1].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", "validator", "p2", 5000, NULL},
	    {o[0].alert_id, ALERT_P2, ALERT_P1, "escalated", "validator", "p1", 6000, NULL},
	    {o[1].alert_id, ALERT_P2, ALERT_P1, "escalated", "validator", "p1", 6000, NULL},
	    {o[0].alert_id, ALERT_P1, ALERT_P0, "escalated", "validator", "p0", TIME_NULL, NULL},
	    /* c3: escalated, then resolved: the chain ends at RESOLVED */
	    {o[2].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", "validator", "p2", 5000, NULL},
	    {o[2].alert_id, ALERT_P2, ALERT_RESOLVED, "resolved", "resolver", NULL, TIME_NULL,
	     "resolver"},
	    /* c4: a re-arm after an escalation: one row update, one history row */
	    {o[3].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", "validator", "p2", 5000, NULL},
	    {o[3].alert_id, ALERT_P2, ALERT_P2, NULL, NULL, NULL, 8000, NULL},
	};
	OK(store_alerts_change(st, 3000, c, 9, applied, &E));
	for (int i = 0; i < 9; i++)
		assert_int_equal(applied[i], i != 1);
	/* c1: one update; c2: the failed try updates nothing, then one; c3: one; c4: one */
	assert_int_equal(raw_int(f, "SELECT n FROM upd_count"), 4);

	OK(store_alert_get(st, o[0].alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_P0);
	assert_true(al.next_escalation_at == TIME_NULL);
	assert_int_equal(nh, 4);
	for (size_t i = 1; i < nh; i++) {
		assert_int_equal(h[i].from_state, (int)i - 1);
		assert_int_equal(h[i].to_state, (int)i);
		assert_true(h[i].id > h[i - 1].id);
	}
	assert_string_equal(h[3].reason, "p0");
	alert_release(&al);
	alert_events_free(h, nh);

	OK(store_alert_get(st, o[1].alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_P1);
	assert_int_equal(al.next_escalation_at, 6000);
	assert_int_equal(nh, 3);
	alert_release(&al);
	alert_events_free(h, nh);

	OK(store_alert_get(st, o[2].alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_RESOLVED);
	assert_int_equal(al.resolved_at, 3000);
	assert_string_equal(al.resolved_by, "resolver");
	assert_int_equal(nh, 3);
	assert_int_equal(h[1].to_state, ALERT_P2);
	assert_int_equal(h[2].from_state, ALERT_P2);
	assert_int_equal(h[2].to_state, ALERT_RESOLVED);
	alert_release(&al);
	alert_events_free(h, nh);
	/* a closed alert never changes state again: a change out of RESOLVED is refused
	 * whole, before anything is written */
	{
		struct alert_change again[2] = {{o[1].alert_id, ALERT_P1, ALERT_P0, "escalated",
		                                 "validator", "p0", TIME_NULL, NULL},
		                                {o[2].alert_id, ALERT_RESOLVED, ALERT_P2,
		                                 "escalated", "validator", "again", 7000, NULL}};
		assert_int_equal(store_alerts_change(st, 3500, again, 2, applied, &E), STORE_ERROR);
		assert_false(applied[0] || applied[1]);
		OK(store_alert_get(st, o[1].alert_id, &al, NULL, NULL, &E));
		assert_int_equal(al.state, ALERT_P1);
		alert_release(&al);
	}

	OK(store_alert_get(st, o[3].alert_id, &al, &h, &nh, &E));
	assert_int_equal(al.state, ALERT_P2);
	assert_int_equal(al.next_escalation_at, 8000);
	assert_int_equal(nh, 2);
	alert_release(&al);
	alert_events_free(h, nh);
	assert_incident_counts(f, st, o[0].incident_id);
}

/* The incident counters follow opens in several batches (users seen before or not, the same
 * user twice in a batch, reopens) and changes in batches, and equal a recount throughout. */
static void test_incident_counters(void **state)
{
	FX();
	enum {
		N = 60
	};
	struct alert_new a[N];
	struct alert_opened o[N];
	struct alert_change c[N];
	char inst[N][16], user[N][16];
	int64_t inc;
	size_t nc = 0;

	for (int i = 0; i < N; i++) {
		snprintf(inst[i], sizeof(inst[i]), "n%d", i);
		snprintf(user[i], sizeof(user[i]), "u%d", i % 7);
		a[i] = mk("failed", inst[i], "bureau", 1, user[i], "gc");
	}
	/* three batches of 20: users u0..u6 recur across and within batches */
	for (int b = 0; b < 3; b++) {
		OK(store_alerts_open(st, 1000 + b, a + b * 20, 20, o + b * 20, &E));
		assert_incident_counts(f, st, o[0].incident_id);
	}
	inc = o[0].incident_id;
	/* escalate some, resolve some, in one batch */
	for (int i = 0; i < N; i += 2)
		c[nc++] = (struct alert_change){
		    o[i].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", "validator", NULL, 5000,
		    NULL};
	for (int i = 1; i < N; i += 3)
		c[nc++] = (struct alert_change){o[i].alert_id, ALERT_INITIATED, ALERT_RESOLVED,
		                                "resolved",    "resolver",      NULL,
		                                TIME_NULL,     "resolver"};
	/* closed three ways: by the resolver (above), by a person, and abandoned after an
	 * escalation earlier in the batch */
	c[nc++] = (struct alert_change){o[5].alert_id, ALERT_INITIATED, ALERT_RESOLVED,
	                                "resolved",    "user:ops",      NULL,
	                                TIME_NULL,     "user:ops"};
	c[nc++] = (struct alert_change){o[8].alert_id, ALERT_P2, ALERT_ABANDONED, "abandoned",
	                                "expirer",     NULL,     TIME_NULL,       NULL};
	OK(store_alerts_change(st, 2000, c, nc, NULL, &E));
	assert_incident_counts(f, st, inc);
	assert_alert_counts(f, st);
	/* a resolved alert's key opens again: a reopen in the same incident */
	OK(store_alerts_open(st, 3000, &a[1], 1, &o[1], &E));
	assert_true(o[1].created && o[1].reopen_of);
	assert_int_equal(o[1].incident_id, inc);
	assert_incident_counts(f, st, inc);
	/* resolve everything still open: the incident closes */
	nc = 0;
	for (int i = 0; i < N; i++) {
		struct alert al;
		OK(store_alert_get(st, o[i].alert_id, &al, NULL, NULL, &E));
		if (al.state < ALERT_RESOLVED)
			c[nc++] =
			    (struct alert_change){al.id,      al.state, ALERT_RESOLVED, "resolved",
			                          "resolver", NULL,     TIME_NULL,      "resolver"};
		alert_release(&al);
	}
	OK(store_alerts_change(st, 4000, c, nc, NULL, &E));
	assert_incident_counts(f, st, inc);
	assert_alert_counts(f, st);

	/* the new-user probe goes along alerts_incident_idx (incident_id, state, user_id) with
	 * user_id in the index condition: on a large incident one exact key per state (the
	 * plans at 10^6 alerts are in docs/internals/store.md), never a walk of the incident's
	 * rows or of all the user's alerts */
	char *plan = raw_query(
	    f, f->pg ? "SET enable_seqscan = off; EXPLAIN SELECT count(*) FROM (SELECT 1 FROM "
	               "alerts a WHERE a.incident_id = 1 AND a.state IN (" SQL_ALERT_EVERY_STATE
	               ") AND a.user_id = 'u1' LIMIT 3) x"
	             : "EXPLAIN QUERY PLAN SELECT count(*) FROM (SELECT 1 FROM alerts WHERE "
	               "incident_id = 1 AND state IN (" SQL_ALERT_EVERY_STATE
	               ") AND user_id = 'u1' LIMIT 3) x");
	assert_non_null(plan);
	const char *cond = strstr(plan, f->pg ? "Index Cond: " : "alerts_incident_idx (");
	const char *eol = cond ? strchr(cond, '\n') : NULL;
	const char *ucol = cond ? strstr(cond, "user_id") : NULL;
	if (!strstr(plan, "alerts_incident_idx") || !ucol || (eol && ucol > eol))
		fail_msg("new-user probe does not find the user in alerts_incident_idx:\n%s", plan);
	free(plan);
}

/* The resolver's walk: pages of changed instances in (change mark, instance) order, each
 * page at most `limit` instances, resolving between pages, until done; the sweep walks
 * the open alerts by id. Together they find what store_alerts_recovered_since finds. */
static void test_recovered_page(void **state)
{
	FX();
	enum {
		N = 25
	};
	struct step_record r[N], ok[N];
	struct alert_new a[N];
	struct alert_opened o[N];
	char inst[N][16];
	int64_t m0;
	bool seen[N] = {false};
	size_t pages = 0, total = 0;

	for (int i = 0; i < N; i++) {
		snprintf(inst[i], sizeof(inst[i]), "p%02d", i);
		r[i] = rec(inst[i], inst[i], "bureau", 1, STEP_FAILED, 100, 110);
		/* every third instance recovers; all are changed (touched) by that ingest */
		ok[i] = i % 3 ? rec(inst[i], inst[i], "kyc", 0, STEP_SUCCESS, 90, 120)
		              : rec(inst[i], inst[i], "bureau", 1, STEP_SUCCESS, 100, 120);
		a[i] = mk("failed", inst[i], "bureau", 1, inst[i], "gp");
	}
	OK(store_steps_ingest(st, "loan", 3, r, N, NULL, &E));
	OK(store_alerts_open(st, 500, a, N, o, &E));
	OK(store_recovery_mark(st, "loan", &m0, &E));
	OK(store_steps_ingest(st, "loan", 3, ok, N, NULL, &E)); /* one ingest: one mark */

	struct recovery_cursor cur = {0};
	while (!cur.done) {
		struct alert *v;
		size_t n;
		struct alert_change c[N];
		OK(store_alerts_recovered_page(st, "loan", m0, &cur, 4, &v, &n, &E));
		assert_true(n <= 4);
		for (size_t k = 0; k < n; k++) {
			int i = atoi(v[k].instance_id + 1);
			assert_int_equal(i % 3, 0);
			assert_false(seen[i]);
			seen[i] = true;
			c[k] = (struct alert_change){v[k].id,    v[k].state, ALERT_RESOLVED,
			                             "resolved", "resolver", NULL,
			                             TIME_NULL,  "resolver"};
		}
		/* resolving between pages does not disturb the walk */
		OK(store_alerts_change(st, 1000, c, n, NULL, &E));
		total += n;
		pages++;
		alerts_free(v, n);
		assert_true(pages < 100);
	}
	recovery_cursor_release(&cur);
	assert_int_equal(total, (N + 2) / 3);
	assert_true(pages >= N / 4); /* 4 instances a page, recovered or not */

	/* nothing is left for the sweep; new recoveries are found by it, in (step, id) order:
	 * an alert of an earlier id on a later step ("kyc" > "bureau") comes after */
	struct alert_new a2 = mk("failed", inst[5], "kyc", 0, inst[5], "gp");
	struct alert_opened o2;
	OK(store_alerts_open(st, 600, &a2, 1, &o2, &E)); /* kyc of p05 succeeded at 120 */
	struct step_record ok2[] = {rec(inst[1], inst[1], "bureau", 1, STEP_SUCCESS, 100, 130),
	                            rec(inst[2], inst[2], "bureau", 1, STEP_SUCCESS, 100, 130)};
	OK(store_steps_ingest(st, "loan", 3, ok2, 2, NULL, &E));
	memset(&cur, 0, sizeof(cur));
	total = 0;
	int64_t last = 0;
	char last_step[16] = "";
	while (!cur.done) {
		struct alert *v;
		size_t n;
		OK(store_alerts_recovered_page(st, "loan", -1, &cur, 1, &v, &n, &E));
		for (size_t k = 0; k < n; k++) {
			int c = strcmp(v[k].step, last_step);
			assert_true(c > 0 || (c == 0 && v[k].id > last));
			snprintf(last_step, sizeof(last_step), "%s", v[k].step);
			last = v[k].id;
		}
		total += n;
		alerts_free(v, n);
	}
	recovery_cursor_release(&cur);
	assert_int_equal(total, 3);
	assert_string_equal(last_step, "kyc");
	assert_int_equal(last, o2.alert_id);

	/* the sweep reads a range of alerts_open_step_idx from where the last page ended */
	char *sweep = raw_query(
	    f, f->pg ? "SET enable_seqscan = off; EXPLAIN SELECT id FROM alerts WHERE"
	               " workflow = 'loan' AND state < 4 AND (step, id) > ('bureau', 7)"
	               " ORDER BY step, id LIMIT 4"
	             : "EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE workflow = 'loan'"
	               " AND state < 4 AND (step, id) > ('bureau', 7) ORDER BY step, id LIMIT 4");
	assert_non_null(sweep);
	if (!strstr(sweep, "alerts_open_step_idx") || strstr(sweep, "TEMP B-TREE") ||
	    strstr(sweep, "Sort"))
		fail_msg("the sweep does not read a range of alerts_open_step_idx:\n%s", sweep);
	free(sweep);

	/* a page is a range of instances_touched_idx, (touched, instance_id) included, so it
	 * starts where the last one ended however many instances share one mark */
	char *plan = raw_query(
	    f, f->pg ? "SET enable_seqscan = off; EXPLAIN SELECT instance_id FROM instances"
	               " WHERE workflow = 'loan' AND touched >= 5 AND (touched, instance_id) >"
	               " (5, 'p07') ORDER BY touched, instance_id LIMIT 4"
	             : "EXPLAIN QUERY PLAN SELECT instance_id FROM instances WHERE workflow ="
	               " 'loan' AND touched >= 5 AND (touched, instance_id) > (5, 'p07')"
	               " ORDER BY touched, instance_id LIMIT 4");
	assert_non_null(plan);
	if (!strstr(plan, "instances_touched_idx") ||
	    (f->pg && !strstr(plan, "ROW(touched, instance_id) > ROW(")))
		fail_msg("the page does not read a range of instances_touched_idx:\n%s", plan);
	free(plan);
}

static void test_next_escalation(void **state)
{
	FX();
	struct alert_new a[3] = {
	    mk("failed", "i1", "s", 0, "u", "g"),
	    mk("failed", "i2", "s", 0, "u", "g"),
	    mk("failed", "i3", "s", 0, "u", "g"),
	};
	struct alert_opened o[3];
	int64_t at;
	OK(store_alerts_next_escalation(st, &at, &E));
	assert_true(at == TIME_NULL); /* no alert */
	a[0].next_escalation_at = 7000;
	a[1].next_escalation_at = 4000;
	a[2].next_escalation_at = TIME_NULL;
	OK(store_alerts_open(st, 500, a, 3, o, &E));
	OK(store_alerts_next_escalation(st, &at, &E));
	assert_int_equal(at, 4000);
	change1(st, o[1].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	OK(store_alerts_next_escalation(st, &at, &E)); /* closed alerts do not count */
	assert_int_equal(at, 7000);
}

static void test_open_by_rule(void **state)
{
	FX();
	struct alert_new a[4] = {
	    mk("bureau_down", "i1", "s", 0, "u", "g"),
	    mk("bureau_down", "i2", "s", 0, "u", "g"),
	    mk("failed", "i3", "s", 0, "u", "g"),
	    mk("bureau_down", "i4", "s", 0, "u", "g"),
	};
	struct alert_opened o[4];
	struct alert *v;
	size_t n;
	OK(store_alerts_open(st, 500, a, 4, o, &E));
	change1(st, o[1].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	OK(store_alerts_open_by_rule(st, "bureau_down", 0, 10, &v, &n, &E));
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, o[0].alert_id);
	assert_int_equal(v[1].id, o[3].alert_id);
	alerts_free(v, n);
	OK(store_alerts_open_by_rule(st, "bureau_down", o[0].alert_id, 10, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, o[3].alert_id);
	alerts_free(v, n);
	OK(store_alerts_open_by_rule(st, "bureau_down", 0, 1, &v, &n, &E));
	assert_int_equal(n, 1);
	alerts_free(v, n);
}

static void test_abandonable(void **state)
{
	FX();
	const int64_t DAY = 86400000;
	struct step_record r[] = {
	    rec("i1", "u1", "bureau", 1, STEP_FAILED, 100, 1 * DAY),
	    rec("i2", "u2", "bureau", 1, STEP_FAILED, 100, 1 * DAY),
	    rec("i2", "u2", "bureau", 1, STEP_IN_PROGRESS, 100, 5 * DAY), /* came back */
	};
	struct alert_new a[] = {
	    mk("failed", "i1", "bureau", 1, "u1", "g"), mk("failed", "i2", "bureau", 1, "u2", "g"),
	    mk("failed", "i3", "bureau", 1, "u3", "g"), /* unknown instance: occurred_at */
	    mk("failed", "i4", "bureau", 1, "u4", "g"), /* never abandoned */
	};
	struct alert_opened o[4];
	struct alert *v;
	size_t n;
	OK(store_steps_ingest(st, "loan", 3, r, ARRAY_SIZE(r), NULL, &E));
	for (int i = 0; i < 3; i++)
		a[i].abandon_after_ms = 7 * DAY;
	a[2].occurred_at = 2 * DAY;
	OK(store_alerts_open(st, DAY, a, 4, o, &E));

	OK(store_alerts_abandonable(st, 8 * DAY - 1, 10, &v, &n, &E));
	assert_int_equal(n, 0);
	alerts_free(v, n);
	OK(store_alerts_abandonable(st, 8 * DAY, 10, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, o[0].alert_id);
	alerts_free(v, n);
	OK(store_alerts_abandonable(st, 12 * DAY, 10, &v, &n, &E));
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, o[0].alert_id);
	assert_int_equal(v[1].id, o[1].alert_id);
	assert_int_equal(v[2].id, o[2].alert_id);
	alerts_free(v, n);
	OK(store_alerts_abandonable(st, 12 * DAY, 2, &v, &n, &E));
	assert_int_equal(n, 2);
	alerts_free(v, n);
	change1(st, o[0].alert_id, ALERT_INITIATED, ALERT_ABANDONED, "abandoned", true);
	OK(store_alerts_abandonable(st, 12 * DAY, 10, &v, &n, &E));
	assert_int_equal(n, 2);
	alerts_free(v, n);
}

static void test_lists(void **state)
{
	FX();
	char inst[30][16], user[30][16];
	struct alert_new a[30];
	struct alert_opened o[30];
	struct alert *v;
	size_t n;

	for (int i = 0; i < 30; i++) {
		snprintf(inst[i], sizeof(inst[i]), "i%d", i);
		snprintf(user[i], sizeof(user[i]), "u%d", i % 3);
		a[i] = mk(i % 2 ? "stuck" : "failed", inst[i], i % 5 ? "bureau" : "kyc", 1, user[i],
		          i < 20 ? "g1" : "g2");
	}
	a[29].workflow = "card";
	OK(store_alerts_open(st, 500, a, 30, o, &E));
	change1(st, o[0].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", true);
	change1(st, o[1].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);

	struct alert_filter fl = {.state = -1, .limit = 1000};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 30);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i].id < v[i - 1].id);
	alerts_free(v, n);

	/* paging with the cursor visits every alert once */
	int64_t seen = 0, before = 0;
	for (int page = 0;; page++) {
		fl = (struct alert_filter){.state = -1, .limit = 7, .before_id = before};
		OK(store_alerts_list(st, &fl, &v, &n, &E));
		seen += (int64_t)n;
		if (n)
			before = v[n - 1].id;
		alerts_free(v, n);
		if (n < 7)
			break;
		assert_true(page < 10);
	}
	assert_int_equal(seen, 30);

	fl = (struct alert_filter){.state = ALERT_P2, .limit = 10};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, o[0].alert_id);
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .open_only = true, .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 29);
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .rule = "stuck", .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 15);
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .workflow = "card", .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 1);
	assert_string_equal(v[0].instance_id, "i29");
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .step = "kyc", .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 6);
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .user_id = "u1", .open_only = true, .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 9); /* 10 of u1, one resolved */
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .instance_id = "i7", .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 1);
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1, .incident_id = o[25].incident_id, .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 10);
	alerts_free(v, n);
	fl = (struct alert_filter){.state = -1,
	                           .rule = "failed",
	                           .step = "bureau",
	                           .workflow = "loan",
	                           .before_id = o[10].alert_id,
	                           .limit = 100};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, 4); /* 2, 4, 6, 8 */
	alerts_free(v, n);

	fl = (struct alert_filter){.state = -1, .limit = 0};
	assert_int_equal(store_alerts_list(st, &fl, &v, &n, &E), STORE_ERROR);
	fl.limit = 1001;
	assert_int_equal(store_alerts_list(st, &fl, &v, &n, &E), STORE_ERROR);

	/* incidents */
	struct incident *iv;
	struct incident_filter ifl = {.limit = 100};
	OK(store_incidents_list(st, &ifl, &iv, &n, &E));
	assert_int_equal(n, 2);
	assert_true(iv[0].id > iv[1].id);
	assert_string_equal(iv[0].group_key, "g2");
	assert_int_equal(iv[0].total_alerts, 10);
	incidents_free(iv, n);
	ifl = (struct incident_filter){.limit = 1, .before_id = o[25].incident_id};
	OK(store_incidents_list(st, &ifl, &iv, &n, &E));
	assert_int_equal(n, 1);
	assert_string_equal(iv[0].group_key, "g1");
	incidents_free(iv, n);
	ifl = (struct incident_filter){.limit = 100, .workflow = "nope"};
	OK(store_incidents_list(st, &ifl, &iv, &n, &E));
	assert_int_equal(n, 0);
	incidents_free(iv, n);
	/* close every alert of g2: it drops out of the open list */
	for (int i = 20; i < 30; i++)
		change1(st, o[i].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	ifl = (struct incident_filter){.limit = 100, .open_only = true};
	OK(store_incidents_list(st, &ifl, &iv, &n, &E));
	assert_int_equal(n, 1);
	assert_string_equal(iv[0].group_key, "g1");
	incidents_free(iv, n);
	ifl.limit = 0;
	assert_int_equal(store_incidents_list(st, &ifl, &iv, &n, &E), STORE_ERROR);
}

/* Whether alert x passes filter f (what the list's SQL must select). */
static bool list_match(const struct alert *x, const struct alert_filter *f)
{
	return (f->state < 0 || (int)x->state == f->state) &&
	       (!f->open_only || x->state < ALERT_RESOLVED) &&
	       (!f->user_id || !strcmp(x->user_id, f->user_id)) &&
	       (!f->step || !strcmp(x->step, f->step)) &&
	       (!f->workflow || !strcmp(x->workflow, f->workflow)) &&
	       (!f->instance_id || !strcmp(x->instance_id, f->instance_id)) &&
	       (!f->rule || !strcmp(x->rule, f->rule)) &&
	       (!f->incident_id || x->incident_id == f->incident_id) &&
	       (!f->before_id || x->id < f->before_id);
}

/* The lists whose SQL reads open and closed alerts apart (a state on either side, a user
 * or an instance over both sides: two branches merged) give what a plain filter of every alert
 * gives, newest first, page by page, on both stores. */
static void test_lists_open_closed(void **state)
{
	FX();
	enum {
		N = 40
	};
	char inst[N][16], user[N][16];
	static const char *const steps[] = {"kyc", "bureau", "payout", "esign"};
	struct alert_new a[N];
	struct alert_opened o[N];
	struct alert all[N];
	struct alert_change c[N];
	size_t nc = 0;

	for (int i = 0; i < N; i++) {
		/* four alerts per instance, one per step */
		snprintf(inst[i], sizeof(inst[i]), "i%d", i % 10);
		snprintf(user[i], sizeof(user[i]), "u%d", i % 3);
		a[i] = mk("failed", inst[i], steps[i / 10], 1, user[i], "g");
	}
	OK(store_alerts_open(st, 500, a, N, o, &E));
	/* every state on both sides, interleaved in id order */
	for (int i = 0; i < N; i++) {
		enum alert_state to = (enum alert_state)(i % 6);
		if (to != ALERT_INITIATED)
			c[nc++] = (struct alert_change){o[i].alert_id,
			                                ALERT_INITIATED,
			                                to,
			                                "changed",
			                                "validator",
			                                NULL,
			                                TIME_NULL,
			                                to == ALERT_RESOLVED ? "resolver" : NULL};
	}
	OK(store_alerts_change(st, 600, c, nc, NULL, &E));
	for (int i = 0; i < N; i++)
		OK(store_alert_get(st, o[i].alert_id, &all[i], NULL, NULL, &E));

	const struct alert_filter filters[] = {
	    {.state = -1, .user_id = "u1"},
	    {.state = -1, .user_id = "u2", .step = "bureau"},
	    {.state = -1, .user_id = "u0", .open_only = true},
	    {.state = ALERT_P0},
	    {.state = ALERT_INITIATED, .user_id = "u1"},
	    {.state = ALERT_RESOLVED},
	    {.state = ALERT_ABANDONED, .user_id = "u2"},
	    {.state = -1, .open_only = true},
	    {.state = -1, .user_id = "nobody"},
	    {.state = -1, .workflow = "loan", .instance_id = "i7"},
	    {.state = -1, .workflow = "loan", .instance_id = "i4", .user_id = "u1"},
	    {.state = ALERT_RESOLVED, .workflow = "loan", .instance_id = "i3"},
	    {.state = -1, .workflow = "card", .instance_id = "i3"},
	    {.state = -1, .open_only = true, .workflow = "loan", .step = "payout"},
	    {.state = -1, .open_only = true, .rule = "failed"},
	    {.state = -1, .open_only = true, .incident_id = -1},
	    {.state = ALERT_P2, .workflow = "loan"},
	};
	for (size_t k = 0; k < ARRAY_SIZE(filters); k++) {
		for (size_t limit = 1; limit <= 5; limit += 2) {
			struct alert_filter fl = filters[k];
			if (fl.incident_id < 0) /* the incident of the alerts */
				fl.incident_id = o[0].incident_id;
			size_t got = 0, want = 0;
			fl.limit = limit;
			for (int i = 0; i < N; i++)
				want += list_match(&all[i], &fl);
			for (;;) {
				struct alert *v;
				size_t n;
				int64_t expect = fl.before_id;
				OK(store_alerts_list(st, &fl, &v, &n, &E));
				assert_true(n <= limit);
				for (size_t j = 0; j < n; j++) {
					/* the next match below the cursor, newest first */
					int64_t next = 0;
					for (int i = 0; i < N; i++)
						if (list_match(&all[i], &fl) &&
						    (!expect || all[i].id < expect) &&
						    all[i].id > next)
							next = all[i].id;
					assert_int_equal(v[j].id, next);
					expect = next;
				}
				got += n;
				if (n)
					fl.before_id = v[n - 1].id;
				alerts_free(v, n);
				if (n < limit)
					break;
			}
			assert_int_equal(got, want);
		}
	}
	for (int i = 0; i < N; i++)
		alert_release(&all[i]);
}

static void test_counts(void **state)
{
	FX();
	struct alert_counts c;
	struct alert_new a[5] = {
	    mk("failed", "i1", "s", 0, "u1", "g1"), mk("failed", "i2", "s", 0, "u1", "g1"),
	    mk("failed", "i3", "s", 0, "u2", "g2"), mk("failed", "i4", "s", 0, "u3", "g3"),
	    mk("failed", "i5", "s", 0, "u4", "g3"),
	};
	struct alert_opened o[5];
	OK(store_alert_counts(st, &c, &E));
	assert_int_equal(c.by_state[0], 0);
	assert_int_equal(c.open_incidents, 0);
	OK(store_alerts_open(st, 500, a, 5, o, &E));
	change1(st, o[0].alert_id, ALERT_INITIATED, ALERT_P2, "escalated", true);
	change1(st, o[2].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	change1(st, o[3].alert_id, ALERT_INITIATED, ALERT_ABANDONED, "abandoned", true);
	struct alert_change man = {o[4].alert_id, ALERT_INITIATED, ALERT_RESOLVED,
	                           "resolved",    "user:asha",     NULL,
	                           TIME_NULL,     "user:asha"};
	OK(store_alerts_change(st, 600, &man, 1, NULL, &E));
	OK(store_alert_counts(st, &c, &E));
	assert_int_equal(c.by_state[ALERT_INITIATED], 1);
	assert_int_equal(c.by_state[ALERT_P2], 1);
	assert_int_equal(c.by_state[ALERT_P1], 0);
	assert_int_equal(c.by_state[ALERT_RESOLVED], 2);
	assert_int_equal(c.by_state[ALERT_ABANDONED], 1);
	assert_int_equal(c.resolved_by_resolver, 1);
	assert_int_equal(c.open_incidents, 1); /* g1 */
	assert_int_equal(c.affected_users_open, 1);
}

/* 0010 on a store that already holds closed alerts (as 0009 left it): the closed counts of
 * each incident are taken from its alerts, and kept from there on. */
static void test_closed_counts_upgrade(void **state)
{
	FX();
	static const char *const undo[] = {
	    "ALTER TABLE incidents DROP COLUMN resolved_alerts",
	    "ALTER TABLE incidents DROP COLUMN abandoned_alerts",
	    "ALTER TABLE incidents DROP COLUMN self_resolved_alerts",
	    "DELETE FROM schema_migrations WHERE version = 10",
	};
	struct alert_new a[4] = {mk("failed", "q1", "bureau", 1, "u1", "ga"),
	                         mk("failed", "q2", "bureau", 1, "u2", "ga"),
	                         mk("failed", "q3", "bureau", 1, "u3", "gb"),
	                         mk("failed", "q4", "bureau", 1, "u4", "gb")};
	struct alert_opened o[4];
	struct alert_change man = {0,    ALERT_INITIATED, ALERT_RESOLVED, "resolved", "user:asha",
	                           NULL, TIME_NULL,       "user:asha"};
	int applied = 0;

	OK(store_alerts_open(st, 500, a, 4, o, &E));
	change1(st, o[1].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	change1(st, o[2].alert_id, ALERT_INITIATED, ALERT_ABANDONED, "abandoned", true);
	man.alert_id = o[0].alert_id;
	OK(store_alerts_change(st, 600, &man, 1, NULL, &E));
	for (size_t i = 0; i < sizeof(undo) / sizeof(undo[0]); i++) {
		char *r = raw_query(f, undo[i]);
		assert_non_null(r);
		free(r);
	}
	OK(store_migrate(st, &applied, &E));
	assert_int_equal(applied, 1);
	assert_incident_counts(f, st, o[0].incident_id);
	assert_incident_counts(f, st, o[2].incident_id);
	assert_alert_counts(f, st);
	/* and they move with the next close */
	change1(st, o[3].alert_id, ALERT_INITIATED, ALERT_RESOLVED, "resolved", true);
	assert_incident_counts(f, st, o[2].incident_id);
	assert_alert_counts(f, st);
}

/* The stats' ranges are read through an index (0011): the instances of [from, to) by
 * COALESCE(started_at, 0), as store_stats.c writes it, and the alerts by opened_at; the
 * abandoned of a funnel step by a probe per instance. Before, each read the whole
 * workflow whatever the range. */
static void test_stats_ranges_indexed(void **state)
{
	FX();
	static const struct {
		const char *sql, *index;
	} reads[] = {
	    {"SELECT count(*) FROM instances WHERE workflow = 'w'"
	     " AND COALESCE(started_at, 0) >= 10 AND COALESCE(started_at, 0) < 20",
	     "instances_started_idx"},
	    {"SELECT count(*) FROM alerts WHERE opened_at >= 10 AND opened_at < 20",
	     "alerts_opened_idx"},
	    {"SELECT count(*) FROM instances ai WHERE ai.workflow = 'w'"
	     " AND COALESCE(ai.started_at, 0) >= 10 AND COALESCE(ai.started_at, 0) < 20"
	     " AND EXISTS (SELECT 1 FROM alerts a WHERE a.workflow = ai.workflow"
	     " AND a.instance_id = ai.instance_id AND a.step = 's' AND a.state = 5"
	     " AND a.state >= 4)",
	     "alerts_closed_key_idx"},
	};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		char sql[512];
		char *plan;
		snprintf(sql, sizeof(sql), "%s%s",
		         f->pg ? "SET enable_seqscan = off; EXPLAIN " : "EXPLAIN QUERY PLAN ",
		         reads[i].sql);
		plan = raw_query(f, sql);
		assert_non_null(plan);
		if (!strstr(plan, reads[i].index))
			fail_msg("%s does not use %s:\n%s", reads[i].sql, reads[i].index, plan);
		free(plan);
	}
}

/* Quotes, SQL metacharacters and unicode go in and come back byte for byte. */
static void test_hostile_input(void **state)
{
	FX();
	static const char *const evil[] = {
	    "'; DROP TABLE alerts; --",
	    "Robert'); DELETE FROM incidents WHERE ('1'='1",
	    "\"quoted\" \\backslash\\ $1 ?1 :name @x %s %n",
	    "ünïcödé — 日本語 — 🚀 — עברית",
	    "tab\tnewline\nreturn\r",
	    "",
	};
	for (size_t i = 0; i < ARRAY_SIZE(evil); i++) {
		const char *s = evil[i];
		struct alert_new a = mk(s, s, s, 0, s, s);
		struct alert_opened o;
		struct alert al;
		struct alert_event *h;
		struct incident in;
		size_t nh;
		char *key = xasprintf("workflow:%s", s), *raw;
		int64_t ms;
		a.workflow = s;
		a.error = s;
		a.incident_labels_json = s;
		a.labels_json = s;
		OK(store_alerts_open(st, 1000, &a, 1, &o, &E));
		assert_true(o.created);
		OK(store_alert_event_add(st, o.alert_id, 1100, s, s, s, &E));
		OK(store_alert_get(st, o.alert_id, &al, &h, &nh, &E));
		assert_string_equal(al.rule, s);
		assert_string_equal(al.workflow, s);
		assert_string_equal(al.step, s);
		assert_string_equal(al.instance_id, s);
		assert_string_equal(al.user_id, s);
		assert_string_equal(al.error, s);
		assert_string_equal(al.labels_json, s);
		assert_string_equal(al.group_key, s);
		assert_int_equal(nh, 2);
		assert_string_equal(h[1].event, s);
		assert_string_equal(h[1].actor, s);
		assert_string_equal(h[1].reason, s);
		alert_release(&al);
		alert_events_free(h, nh);
		OK(store_incident_get(st, o.incident_id, &in, &E));
		assert_string_equal(in.group_key, s);
		assert_string_equal(in.labels_json, s);
		incident_release(&in);
		OK(store_watermark_set(st, key, 7, s, 1000, &E));
		OK(store_watermark_get(st, key, &ms, &raw, &E));
		assert_string_equal(raw, s);
		free(raw);
		free(key);

		struct step_record r = rec(s, s, s, 0, STEP_FAILED, 1, 2);
		struct instance_step *is;
		size_t n;
		r.error = s;
		r.labels_json = s;
		OK(store_steps_ingest(st, s, 1, &r, 1, NULL, &E));
		OK(store_instance_steps(st, s, s, &is, &n, &E));
		assert_int_equal(n, 1);
		assert_string_equal(is[0].error, s);
		assert_string_equal(is[0].labels_json, s);
		assert_string_equal(is[0].step, s);
		instance_steps_free(is, n);

		struct alert_filter fl = {.state = -1, .rule = s, .user_id = s, .limit = 10};
		struct alert *v;
		OK(store_alerts_list(st, &fl, &v, &n, &E));
		assert_int_equal(n, 1);
		alerts_free(v, n);
	}
	struct alert_counts c;
	OK(store_alert_counts(st, &c, &E));
	assert_int_equal(c.by_state[ALERT_INITIATED], ARRAY_SIZE(evil));
}

/* ---- races ----------------------------------------------------------------------------- */

enum {
	RACE_THREADS = 8,
	RACE_ALERTS = 100
};

struct racer {
	const char *url;
	const struct alert_new *a;
	pthread_barrier_t *bar;
	int rc, created;
	struct sw_err err;
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;
	struct alert_opened o[RACE_ALERTS];
	struct store *s;
	r->rc = store_open(r->url, &s, &r->err);
	pthread_barrier_wait(r->bar);
	if (r->rc)
		return NULL;
	for (int attempt = 0; attempt < 20; attempt++) {
		r->rc = store_alerts_open(s, 1000, r->a, RACE_ALERTS, o, &r->err);
		if (r->rc != STORE_EBUSY)
			break;
	}
	for (int i = 0; !r->rc && i < RACE_ALERTS; i++)
		r->created += o[i].created;
	store_close(s);
	return NULL;
}

static void test_race_open(void **state)
{
	FX();
	struct alert_new a[RACE_ALERTS];
	char inst[RACE_ALERTS][16], group[RACE_ALERTS][16];
	struct racer r[RACE_THREADS];
	pthread_t t[RACE_THREADS];
	pthread_barrier_t bar;
	struct alert *v;
	struct incident *iv;
	size_t n;
	int created = 0;

	for (int i = 0; i < RACE_ALERTS; i++) {
		snprintf(inst[i], sizeof(inst[i]), "r%d", i);
		snprintf(group[i], sizeof(group[i]), "grp%d", i % 10);
		a[i] = mk("failed", inst[i], "bureau", 1, inst[i], group[i]);
	}
	pthread_barrier_init(&bar, NULL, RACE_THREADS);
	for (int i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct racer){.url = f->url, .a = a, .bar = &bar};
		pthread_create(&t[i], NULL, race_thread, &r[i]);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(t[i], NULL);
		if (r[i].rc)
			fail_msg("racer %d: %s", i, r[i].err.msg);
		created += r[i].created;
	}
	pthread_barrier_destroy(&bar);
	assert_int_equal(created, RACE_ALERTS);

	struct alert_filter fl = {.state = -1, .limit = 1000};
	OK(store_alerts_list(st, &fl, &v, &n, &E));
	assert_int_equal(n, RACE_ALERTS);
	size_t opened = 0;
	for (size_t i = 0; i < n; i++) {
		struct alert al;
		struct alert_event *h;
		size_t nh;
		OK(store_alert_get(st, v[i].id, &al, &h, &nh, &E));
		for (size_t k = 0; k < nh; k++)
			opened += !strcmp(h[k].event, "opened");
		assert_int_equal(nh, 1);
		alert_release(&al);
		alert_events_free(h, nh);
	}
	assert_int_equal(opened, RACE_ALERTS);
	alerts_free(v, n);

	struct incident_filter ifl = {.limit = 100};
	OK(store_incidents_list(st, &ifl, &iv, &n, &E));
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(iv[i].total_alerts, 10);
		assert_int_equal(iv[i].open_alerts, 10);
		assert_int_equal(iv[i].affected_users, 10);
	}
	incidents_free(iv, n);
}

/* ---- size ------------------------------------------------------------------------------ */

/* 10,000 alerts in one call, 10,000 step records in one call: timed, and printed for the
 * record (docs/internals/store.md). The bound is loose: this runs under sanitizers. */
static void test_bulk(void **state)
{
	FX();
	enum {
		N = 10000
	};
	struct alert_new *a = xcalloc(N, sizeof(*a));
	struct alert_opened *o = xcalloc(N, sizeof(*o));
	struct step_record *r = xcalloc(N, sizeof(*r));
	bool *cur = xcalloc(N, sizeof(*cur));
	char(*inst)[16] = xcalloc(N, sizeof(*inst));
	struct incident in;
	int64_t t0, t_open, t_ingest, t_change;
	struct alert_change *c = xcalloc(N, sizeof(*c));

	for (int i = 0; i < N; i++) {
		snprintf(inst[i], sizeof(inst[i]), "b%d", i);
		a[i] = mk("failed", inst[i], "bureau", 1, inst[i], i % 2 ? "bulk-a" : "bulk-b");
		r[i] = rec(inst[i / 3], inst[i / 3],
		           i % 3 == 0   ? "kyc"
		           : i % 3 == 1 ? "bureau"
		                        : "uw",
		           i % 3, STEP_SUCCESS, 100 + i, 200 + i);
	}
	t0 = time_mono_ms();
	OK(store_alerts_open(st, 1000, a, N, o, &E));
	t_open = time_mono_ms() - t0;
	for (int i = 0; i < N; i++)
		assert_true(o[i].created);
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_int_equal(in.total_alerts, N / 2);
	assert_int_equal(in.affected_users, N / 2);
	incident_release(&in);

	t0 = time_mono_ms();
	OK(store_steps_ingest(st, "loan", 3, r, N, cur, &E));
	t_ingest = time_mono_ms() - t0;
	for (int i = 0; i < N; i++)
		assert_true(cur[i]);

	for (int i = 0; i < N; i++)
		c[i] = (struct alert_change){o[i].alert_id, ALERT_INITIATED, ALERT_RESOLVED,
		                             "resolved",    "resolver",      NULL,
		                             TIME_NULL,     "resolver"};
	t0 = time_mono_ms();
	OK(store_alerts_change(st, 2000, c, N, NULL, &E));
	t_change = time_mono_ms() - t0;
	OK(store_incident_get(st, o[0].incident_id, &in, &E));
	assert_false(in.open);
	incident_release(&in);

	print_message("[ %s ] open 10000 alerts: %" PRId64 " ms; ingest 10000 records: %" PRId64
	              " ms; resolve 10000 alerts: %" PRId64 " ms\n",
	              f->pg ? "postgres" : "sqlite", t_open, t_ingest, t_change);
	assert_true(t_open < 20000 && t_ingest < 20000 && t_change < 20000);
	free(a);
	free(o);
	free(r);
	free(c);
	free(cur);
	free(inst);
}

#define STORE_TESTS(setup)                                                                         \
	cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),                            \
	    cmocka_unit_test_setup_teardown(test_migrate_concurrent, setup, teardown),             \
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),                    \
	    cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),                      \
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),                   \
	    cmocka_unit_test_setup_teardown(test_ingest_statistics_after_commit, setup, teardown), \
	    cmocka_unit_test_setup_teardown(test_watermarks, setup, teardown),                     \
	    cmocka_unit_test(test_step_status_names),                                              \
	    cmocka_unit_test_setup_teardown(test_ingest_dedupe, setup, teardown),                  \
	    cmocka_unit_test_setup_teardown(test_ingest_repeated_keys, setup, teardown),           \
	    cmocka_unit_test_setup_teardown(test_ingest_bad_input, setup, teardown),               \
	    cmocka_unit_test_setup_teardown(test_instance_progress, setup, teardown),              \
	    cmocka_unit_test_setup_teardown(test_steps_stuck, setup, teardown),                    \
	    cmocka_unit_test_setup_teardown(test_open_idempotent, setup, teardown),                \
	    cmocka_unit_test_setup_teardown(test_open_born_escalated, setup, teardown),            \
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),                         \
	    cmocka_unit_test_setup_teardown(test_incident_grouping, setup, teardown),              \
	    cmocka_unit_test_setup_teardown(test_change_cas, setup, teardown),                     \
	    cmocka_unit_test_setup_teardown(test_escalation_history, setup, teardown),             \
	    cmocka_unit_test_setup_teardown(test_resolve_closes_incident, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(test_ack, setup, teardown),                            \
	    cmocka_unit_test_setup_teardown(test_event_add, setup, teardown),                      \
	    cmocka_unit_test_setup_teardown(test_due, setup, teardown),                            \
	    cmocka_unit_test_setup_teardown(test_recovered, setup, teardown),                      \
	    cmocka_unit_test_setup_teardown(test_recovered_since, setup, teardown),                \
	    cmocka_unit_test_setup_teardown(test_change_chains, setup, teardown),                  \
	    cmocka_unit_test_setup_teardown(test_incident_counters, setup, teardown),              \
	    cmocka_unit_test_setup_teardown(test_lists_open_closed, setup, teardown),              \
	    cmocka_unit_test_setup_teardown(test_recovered_page, setup, teardown),                 \
	    cmocka_unit_test_setup_teardown(test_next_escalation, setup, teardown),                \
	    cmocka_unit_test_setup_teardown(test_open_by_rule, setup, teardown),                   \
	    cmocka_unit_test_setup_teardown(test_abandonable, setup, teardown),                    \
	    cmocka_unit_test_setup_teardown(test_lists, setup, teardown),                          \
	    cmocka_unit_test_setup_teardown(test_counts, setup, teardown),                         \
	    cmocka_unit_test_setup_teardown(test_closed_counts_upgrade, setup, teardown),          \
	    cmocka_unit_test_setup_teardown(test_stats_ranges_indexed, setup, teardown),           \
	    cmocka_unit_test_setup_teardown(test_hostile_input, setup, teardown),                  \
	    cmocka_unit_test_setup_teardown(test_race_open, setup, teardown),                      \
	    cmocka_unit_test_setup_teardown(test_bulk, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {STORE_TESTS(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {STORE_TESTS(setup_pg)};
	int failed = cmocka_run_group_tests_name("store/sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("store/postgres", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
