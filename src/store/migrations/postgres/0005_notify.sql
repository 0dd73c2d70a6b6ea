-- 0005: notifications. What was already sent about each incident (the notifier's planner
-- reads it with the incident and writes it in the same transaction as the outbox rows it
-- plans, so planning again never plans a message twice), and the outbox's delivery state.
-- outbox.status: 'pending' (due at next_attempt_at; a row being sent is pending with
-- next_attempt_at pushed past the send's lease, so a crash makes it due again), 'sent',
-- 'failed' (gave up: last_error says why).
-- Constants (src/store/sql_names.h): 'pending' is SQL_OUTBOX_PENDING, 'OPEN' SQL_INCIDENT_OPEN.
CREATE TABLE notify_state (
	incident_id BIGINT PRIMARY KEY REFERENCES incidents (id),
	seq BIGINT NOT NULL DEFAULT 0,
	level INTEGER NOT NULL DEFAULT 0,
	users BIGINT NOT NULL DEFAULT 0,
	last_at BIGINT,
	acked INTEGER NOT NULL DEFAULT 0,
	muted INTEGER NOT NULL DEFAULT 0,
	done INTEGER NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL
);
CREATE INDEX notify_state_live_idx ON notify_state (incident_id) WHERE done = 0;

ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE outbox ADD COLUMN event TEXT;
ALTER TABLE outbox ADD COLUMN last_status INTEGER;
ALTER TABLE outbox ADD COLUMN last_attempt_at BIGINT;
CREATE INDEX outbox_due_idx ON outbox (receiver, next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_incident_idx ON outbox (incident_id, id);
CREATE INDEX incidents_open_idx ON incidents (id) WHERE state = 'OPEN';
