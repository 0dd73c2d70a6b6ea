-- schema.sql - the application database of a lending business, as examples/lending/stepwatch.yaml
-- watches it. PostgreSQL 12 or later.
--
-- One row per (application, step) in loan_steps, updated in place as the step moves from
-- IN_PROGRESS to SUCCESS or FAILED; updated_at moves forward on every change (the trigger
-- below), and the index on it is what stepwatch's steps_query polls. disbursements tracks
-- money sent to the borrower's bank, which a custom watcher checks for credit confirmation.
--
--   createdb lending && psql -d lending -f schema.sql

CREATE TABLE loan_applications (
	application_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id        bigint      NOT NULL,
	amount_cents   bigint      NOT NULL CHECK (amount_cents > 0),
	channel        text        NOT NULL DEFAULT 'web',     -- web, android, ios, partner_api
	partner        text,                                   -- referring partner, if any
	created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE loan_steps (
	application_id bigint      NOT NULL REFERENCES loan_applications (application_id),
	user_id        bigint      NOT NULL,
	step           text        NOT NULL CHECK (step IN ('kyc', 'bureau_pull', 'bank_statement',
	                                                    'underwriting', 'esign', 'disbursement')),
	status         text        NOT NULL CHECK (status IN ('IN_PROGRESS', 'SUCCESS', 'FAILED')),
	error_code     text,                                   -- set when status = 'FAILED'
	started_at     timestamptz NOT NULL DEFAULT now(),
	finished_at    timestamptz,                            -- set on SUCCESS or FAILED
	updated_at     timestamptz NOT NULL DEFAULT now(),
	channel        text        NOT NULL DEFAULT 'web',
	partner        text,
	PRIMARY KEY (application_id, step)
);

-- stepwatch reads "WHERE updated_at > :since ORDER BY updated_at": keep that an index scan.
CREATE INDEX loan_steps_updated_at_idx ON loan_steps (updated_at);

CREATE FUNCTION loan_steps_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := clock_timestamp();
	RETURN NEW;
END $$;

CREATE TRIGGER loan_steps_touch BEFORE UPDATE ON loan_steps
	FOR EACH ROW EXECUTE FUNCTION loan_steps_touch();

CREATE TABLE disbursements (
	disbursement_id bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	application_id  bigint      NOT NULL REFERENCES loan_applications (application_id),
	user_id         bigint      NOT NULL,
	amount_cents    bigint      NOT NULL CHECK (amount_cents > 0),
	status          text        NOT NULL CHECK (status IN ('PENDING', 'SENT', 'CREDITED',
	                                                       'RETURNED')),
	bank_reference  text,
	sent_at         timestamptz,
	credited_at     timestamptz,
	updated_at      timestamptz NOT NULL DEFAULT now()
);

-- the custom watcher looks for SENT disbursements older than ten minutes
CREATE INDEX disbursements_sent_idx ON disbursements (sent_at) WHERE status = 'SENT';
CREATE INDEX disbursements_application_idx ON disbursements (application_id);

-- stepwatch connects as a read-only role
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitor') THEN
		CREATE ROLE monitor LOGIN;
	END IF;
END $$;
GRANT SELECT ON loan_applications, loan_steps, disbursements TO monitor;
