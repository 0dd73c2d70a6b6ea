-- What the indexes of alerts cost each write on SQLite (run by sqlite.sh): 100,000 alerts
-- opened with their history rows, escalated three times with history, resolved; one
-- set-based statement each (the SQLite store runs one statement per item in the same
-- transaction: the index work per row is the same).
.timer on
INSERT INTO incidents (group_key, workflow, step, rule, opened_at, updated_at, open_alerts, total_alerts) VALUES ('g', 'loan', 'CIBIL', 'failed', 1, 1, 100000, 100000);
BEGIN;
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 100000)
INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state, error, group_key, occurred_at, opened_at, updated_at, next_escalation_at, incident_id)
SELECT 'failed', 'loan', 'CIBIL', 1, (1000000000 + g), 'cust' || g, 0, 'BUREAU_TIMEOUT', 'g', 1000, 2000, 2000, 3000, 1 FROM s;
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state) SELECT id, 2000, 'watcher', 'opened', 'x', NULL, 0 FROM alerts;
COMMIT;
BEGIN; UPDATE alerts SET state = 1, next_escalation_at = 4000, updated_at = 9000 WHERE state = 0; INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state) SELECT id, 9000, 'validator', 'escalated', 'x', 0, 1 FROM alerts; COMMIT;
BEGIN; UPDATE alerts SET state = 2, next_escalation_at = 5000, updated_at = 9000 WHERE state = 1; INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state) SELECT id, 9000, 'validator', 'escalated', 'x', 1, 2 FROM alerts; COMMIT;
BEGIN; UPDATE alerts SET state = 3, next_escalation_at = NULL, updated_at = 9000 WHERE state = 2; INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state) SELECT id, 9000, 'validator', 'escalated', 'x', 2, 3 FROM alerts; COMMIT;
BEGIN; UPDATE alerts SET state = 4, resolved_at = 9000, resolved_by = 'resolver', updated_at = 9000 WHERE state = 3; COMMIT;
