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
-- alerts_opened_idx is a BRIN index here: alerts are appended in about the order they open,
-- so the block ranges of an opened_at range are few, and the index is a few kB. A B-tree
-- took an entry at every write of an alert (no update of alerts is HOT: state is indexed),
-- and an escalation pass of 100,000 alerts went from 1.8x to 2.3-2.5x the anchor's floor.
-- A BRIN entry is written only when a new version falls outside its block range's
-- summary. SQLite's 0011 has a B-tree: SQLite rewrites only the entries of the indexes
-- whose columns an UPDATE changes, and opened_at never changes.
CREATE INDEX alerts_opened_idx ON alerts USING brin (opened_at) WITH (autosummarize = on);
