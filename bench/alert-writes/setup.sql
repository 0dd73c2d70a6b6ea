SET client_min_messages = warning;
TRUNCATE alert_history, alerts, incidents RESTART IDENTITY CASCADE;
INSERT INTO incidents (group_key, workflow, step, rule, opened_at, updated_at, open_alerts, total_alerts)
 VALUES ('g', 'loan', 'CIBIL', 'failed', 1, 1, 100000, 100000);
INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state, error, group_key,
  occurred_at, opened_at, updated_at, next_escalation_at, incident_id)
SELECT 'failed', 'loan', 'CIBIL', 1, (1000000000+g)::text, 'cust' || g, 0, 'BUREAU_TIMEOUT', 'g',
  1000, 2000, 2000, 3000, 1 FROM generate_series(1, 100000) g;
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, 2000, 'watcher', 'opened', 'x', NULL, 0 FROM alerts;
ANALYZE alerts; ANALYZE alert_history;
CHECKPOINT;
