-- 0001_init.sql (SQLite) - the first schema. Keep in step with postgres/0001_init.sql:
-- same tables, columns, indexes and meaning; only types and id generation differ.
-- Times are BIGINT milliseconds since the epoch. alerts.state is enum alert_state
-- (0 INITIATED, 1 P2, 2 P1, 3 P0, 4 RESOLVED, 5 ABANDONED; open = state < 4).
-- Constants (src/store/sql_names.h): alerts.state is enum alert_state (SQL_ALERT_*), open
-- is state < SQL_ALERT_RESOLVED; status is enum step_status (SQL_STEP_*); 'OPEN' and
-- 'RESOLVED' are SQL_INCIDENT_OPEN and SQL_INCIDENT_RESOLVED. Queries spell the predicates
-- of partial indexes the same way.

CREATE TABLE watermarks (
	key TEXT PRIMARY KEY,
	value_ms BIGINT,
	raw TEXT,
	updated_at BIGINT NOT NULL
);

-- Every step record seen, once: the unique key is what drops re-read records.
CREATE TABLE step_records (
	id INTEGER PRIMARY KEY,
	workflow TEXT NOT NULL,
	instance_id TEXT NOT NULL,
	step TEXT NOT NULL,
	status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2),
	updated_at BIGINT NOT NULL,
	user_id TEXT,
	error TEXT,
	started_at BIGINT,
	finished_at BIGINT,
	labels TEXT,
	UNIQUE (workflow, instance_id, step, status, updated_at)
);

-- Current state of each step of each instance (the record with the latest updated_at).
CREATE TABLE instance_steps (
	workflow TEXT NOT NULL,
	instance_id TEXT NOT NULL,
	step TEXT NOT NULL,
	step_index INTEGER NOT NULL,
	status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2),
	user_id TEXT,
	error TEXT,
	started_at BIGINT,
	finished_at BIGINT,
	updated_at BIGINT NOT NULL,
	labels TEXT,
	PRIMARY KEY (workflow, instance_id, step)
);
CREATE INDEX instance_steps_status_idx ON instance_steps (workflow, step, status, started_at);

CREATE TABLE instances (
	workflow TEXT NOT NULL,
	instance_id TEXT NOT NULL,
	user_id TEXT,
	started_at BIGINT,
	last_progress_at BIGINT NOT NULL,
	max_step_index INTEGER NOT NULL,
	completed_at BIGINT,
	labels TEXT,
	PRIMARY KEY (workflow, instance_id)
);

CREATE TABLE incidents (
	id INTEGER PRIMARY KEY,
	group_key TEXT NOT NULL,
	workflow TEXT NOT NULL,
	step TEXT NOT NULL,
	rule TEXT NOT NULL,
	labels TEXT NOT NULL DEFAULT '{}',
	state TEXT NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'RESOLVED')),
	level INTEGER NOT NULL DEFAULT 0,
	open_alerts BIGINT NOT NULL DEFAULT 0,
	total_alerts BIGINT NOT NULL DEFAULT 0,
	affected_users BIGINT NOT NULL DEFAULT 0,
	opened_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	resolved_at BIGINT,
	acked_by TEXT,
	acked_at BIGINT
);
-- One open incident per group_key.
CREATE UNIQUE INDEX incidents_open_key_idx ON incidents (group_key) WHERE state = 'OPEN';
CREATE INDEX incidents_workflow_idx ON incidents (workflow, id);

CREATE TABLE alerts (
	id INTEGER PRIMARY KEY,
	rule TEXT NOT NULL,
	workflow TEXT NOT NULL,
	step TEXT NOT NULL,
	step_index INTEGER NOT NULL,
	instance_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5),
	error TEXT,
	labels TEXT NOT NULL DEFAULT '{}',
	group_key TEXT NOT NULL,
	occurred_at BIGINT NOT NULL,
	opened_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	next_escalation_at BIGINT,
	abandon_after_ms BIGINT NOT NULL DEFAULT 0,
	acked_by TEXT,
	acked_at BIGINT,
	resolved_at BIGINT,
	resolved_by TEXT,
	incident_id BIGINT NOT NULL REFERENCES incidents (id),
	reopen_of BIGINT REFERENCES alerts (id)
);
-- One open alert per problem: the invariant that makes opening idempotent.
CREATE UNIQUE INDEX alerts_open_key_idx ON alerts (rule, workflow, instance_id, step)
	WHERE state < 4;
-- The validator reads only due alerts.
CREATE INDEX alerts_due_idx ON alerts (next_escalation_at) WHERE state < 4;
-- Every alert of a key (the newest closed one is what a reopen links to) and of an instance.
CREATE INDEX alerts_instance_idx ON alerts (workflow, instance_id, step, rule, id);
-- Incident counters (open alerts, level, distinct users) read this index only.
CREATE INDEX alerts_incident_idx ON alerts (incident_id, state, user_id);
CREATE INDEX alerts_user_idx ON alerts (user_id, id);
CREATE INDEX alerts_state_idx ON alerts (state, id);
-- (open alerts by rule use alerts_open_key_idx, whose first column is rule)
CREATE INDEX alerts_open_workflow_idx ON alerts (workflow, id) WHERE state < 4;

-- Append-only: the triggers refuse updates and deletes.
CREATE TABLE alert_history (
	id INTEGER PRIMARY KEY,
	alert_id BIGINT NOT NULL REFERENCES alerts (id),
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	event TEXT NOT NULL,
	reason TEXT,
	from_state INTEGER,
	to_state INTEGER
);
CREATE INDEX alert_history_alert_idx ON alert_history (alert_id, id);
CREATE TRIGGER alert_history_no_update BEFORE UPDATE ON alert_history
BEGIN
	SELECT RAISE(ABORT, 'alert_history is append-only');
END;
CREATE TRIGGER alert_history_no_delete BEFORE DELETE ON alert_history
BEGIN
	SELECT RAISE(ABORT, 'alert_history is append-only');
END;

CREATE TABLE rule_flaps (
	workflow TEXT NOT NULL,
	rule TEXT NOT NULL,
	flaps BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (workflow, rule)
);

-- Notifications to deliver (written with the change that caused them), retried with backoff.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	idem_key TEXT NOT NULL UNIQUE,
	receiver TEXT NOT NULL,
	incident_id BIGINT REFERENCES incidents (id),
	alert_id BIGINT REFERENCES alerts (id),
	payload TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	delivered_at BIGINT,
	last_error TEXT
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE silences (
	id INTEGER PRIMARY KEY,
	matchers TEXT NOT NULL,
	starts_at BIGINT NOT NULL,
	ends_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	comment TEXT,
	pause_escalation INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX silences_ends_idx ON silences (ends_at);
