-- 0009: fewer index entries per alert write (as PostgreSQL's 0009). Opening an alert writes an
-- entry in every index whose predicate the row satisfies; an escalation rewrites the entries
-- of the indexes holding state or next_escalation_at or naming state in their WHERE. Three
-- indexes took an entry at every open and every close, alerts_state_idx (state, id) also at
-- every escalation: alerts_state_idx, alerts_user_idx (user_id, id) and alerts_instance_idx
-- (workflow, instance_id, step, rule, id). Each now holds closed alerts only (state >= 4):
-- opening writes three entries less, escalating one, closing as many as before. Open alerts
-- are found by the partial indexes that hold them (a bounded set):
-- - alerts_open_key_idx, the one open alert per problem, now keyed (workflow, instance_id,
--   step, rule): the same unique key, with the instance first, so it also finds the open
--   alerts of an instance (the resolver, the key lookups, an instance's alert list);
-- - alerts_due_idx, alerts_open_step_idx as before;
-- - alerts_incident_idx (incident_id, state, user_id), on every alert as before, now also
--   answers "has this user an alert in this incident" (state IN (0..5): one key per state).
-- docs/internals/store.md lists every read of alerts and the index it uses.
-- Constants (src/store/sql_names.h): state < 4 (open) is state < SQL_ALERT_RESOLVED, state >= 4
-- (closed) is state >= SQL_ALERT_RESOLVED.
DROP INDEX alerts_state_idx;
DROP INDEX alerts_user_idx;
DROP INDEX alerts_instance_idx;
DROP INDEX alerts_open_key_idx;
CREATE UNIQUE INDEX alerts_open_key_idx ON alerts (workflow, instance_id, step, rule)
	WHERE state < 4;
CREATE INDEX alerts_closed_state_idx ON alerts (state, id) WHERE state >= 4;
CREATE INDEX alerts_closed_user_idx ON alerts (user_id, id) WHERE state >= 4;
CREATE INDEX alerts_closed_key_idx ON alerts (workflow, instance_id, step, rule, id)
	WHERE state >= 4;
