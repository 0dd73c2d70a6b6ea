-- 0010: the closed alerts counted where they close. /metrics reported every state by counting
-- alerts: the closed ones (every alert ever closed, never deleted) along
-- alerts_closed_state_idx and the resolver's share by reading each RESOLVED row. At
-- 10,000,000 closed alerts that was 2.0 s of every scrape, growing with the history. Each
-- incident now counts the alerts that closed in it, by how they closed, in the same UPDATE
-- that already moves its open_alerts at every state change (store_alerts_change, under the
-- incident's row lock: no new row to contend on). A closed alert never changes state again
-- (core/alert.c, alert_transition_allowed) and alerts are never deleted, so the counts only
-- grow. /metrics sums them over the incidents: its cost follows the incidents, not the alerts.
-- Existing stores: the counts are taken once here, from the alerts.
ALTER TABLE incidents ADD COLUMN resolved_alerts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN abandoned_alerts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN self_resolved_alerts BIGINT NOT NULL DEFAULT 0;
UPDATE incidents i SET resolved_alerts = c.resolved, abandoned_alerts = c.abandoned,
	self_resolved_alerts = c.self_resolved
	FROM (SELECT incident_id, count(*) FILTER (WHERE state = 4) AS resolved,
		count(*) FILTER (WHERE state = 5) AS abandoned,
		count(*) FILTER (WHERE state = 4 AND resolved_by = 'resolver') AS self_resolved
		FROM alerts WHERE state >= 4 GROUP BY incident_id) c
	WHERE i.id = c.incident_id;
