SET client_min_messages = warning;
TRUNCATE alert_history, alerts, incidents RESTART IDENTITY CASCADE;
INSERT INTO incidents (group_key, workflow, step, rule, opened_at, updated_at, open_alerts, total_alerts)
 VALUES ('g', 'loan', 'CIBIL', 'failed', 1, 1, 100000, 100000);
CHECKPOINT;
