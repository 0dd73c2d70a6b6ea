-- 0007: cheaper state changes and history rows (every escalation and resolve writes both;
-- at 100,000 alerts a pass they were most of the validator's and the resolver's time).
--
-- 1. alerts_open_workflow_idx (workflow, id) WHERE state < 4 goes: the resolver's sweep of
--    every open alert now walks alerts_open_step_idx (workflow, step, id) in (step, id)
--    order, and a state change that is not HOT (every one: state is indexed) writes one
--    index entry less.
-- 2. alert_history.alert_id is checked once per statement instead of once per row. The
--    foreign key ran its check (a key-share lock of the alert through alerts_pkey, one SPI
--    query) for every history row: ~40 % of the cost of a 30,000-row history insert. The
--    same rule now: an insert whose alert does not exist fails (foreign_key_violation), the
--    alerts of inserted rows are key-share locked as the foreign key did (a concurrent delete
--    waits, then the check fails), an alert with history rows cannot be deleted, and
--    alerts.id is never updated. The check probes alerts_pkey per row (join methods off), so
--    one statement costs its own size, never a scan of alerts.
DROP INDEX alerts_open_workflow_idx;

ALTER TABLE alert_history DROP CONSTRAINT alert_history_alert_id_fkey;

CREATE FUNCTION alert_history_alert_exists() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
	nrows BIGINT;
	nfound BIGINT;
BEGIN
	SELECT count(*) INTO nrows FROM new_rows;
	SELECT count(*) INTO nfound FROM (SELECT 1 FROM new_rows n JOIN alerts a
		ON a.id = n.alert_id FOR KEY SHARE OF a) f;
	IF nfound <> nrows THEN
		RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
			MESSAGE = 'insert or update on table "alert_history": alert_id is not present in table "alerts"';
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER alert_history_alert_exists AFTER INSERT ON alert_history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION alert_history_alert_exists();

CREATE FUNCTION alerts_keep_history() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM old_rows o JOIN alert_history h ON h.alert_id = o.id) THEN
		RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
			MESSAGE = 'delete on table "alerts": the alert is still referenced from table "alert_history"';
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER alerts_keep_history AFTER DELETE ON alerts
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
	EXECUTE FUNCTION alerts_keep_history();

CREATE FUNCTION alerts_id_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
		MESSAGE = 'update on table "alerts": alerts.id never changes';
END;
$$;
CREATE TRIGGER alerts_id_fixed BEFORE UPDATE OF id ON alerts
	FOR EACH STATEMENT EXECUTE FUNCTION alerts_id_fixed();
