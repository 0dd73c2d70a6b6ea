-- 0011: the stats read the instances and alerts of their range, not every one ever stored.
-- /api/v1/stats (and the dashboard, every 5 s) select instances by COALESCE(started_at, 0)
-- in [from, to) and alerts by opened_at in [from, to); neither had an index, so each funnel
-- step, the durations, the segments and the alert figures read the whole workflow (every
-- instance, every abandoned alert, every escalation ever written) however short the range.
-- With these two the reads follow the range: the instances started in it, their steps by
-- instance_steps_pkey, their abandoned alerts by alerts_closed_key_idx, the alerts opened in
-- it and their escalations by alert_history_alert_idx (docs/internals/store.md).
-- The expression is the one the statements use (store_stats.c): an instance without
-- started_at counts as started at 0.
CREATE INDEX instances_started_idx ON instances (workflow, (COALESCE(started_at, 0)));
CREATE INDEX alerts_opened_idx ON alerts (opened_at);
