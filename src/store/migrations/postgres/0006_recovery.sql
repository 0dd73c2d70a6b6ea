-- 0006: self-recovery. recovery_attempts counts the recovery calls made for an alert (each
-- also a "recovery_attempt" history row); next_recovery_at is when the next one is due, or,
-- after the last one, until when recovery is still under way (notify_after_recovery holds
-- the first page until then). The recovery task reads the open alerts of one step by index.
-- Constants (src/store/sql_names.h): state < 4 (open) is state < SQL_ALERT_RESOLVED.
ALTER TABLE alerts ADD COLUMN recovery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN next_recovery_at BIGINT;
CREATE INDEX alerts_open_step_idx ON alerts (workflow, step, id) WHERE state < 4;
