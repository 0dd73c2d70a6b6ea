-- 0004: indexes that keep each batch read of the validator and the resolver proportional to
-- the batch, not to the table. The validator reads the due alerts in (next_escalation_at, id)
-- order: with id in the index the first `limit` are read along it instead of sorting every
-- due alert. The resolver pages through the instances changed since its last run in
-- (touched, instance_id) order: one ingest marks all its instances with the same touched.
-- Constants (src/store/sql_names.h): state < 4 (open) is state < SQL_ALERT_RESOLVED.
DROP INDEX alerts_due_idx;
CREATE INDEX alerts_due_idx ON alerts (next_escalation_at, id) WHERE state < 4;
DROP INDEX instances_touched_idx;
CREATE INDEX instances_touched_idx ON instances (workflow, touched, instance_id);
