-- 0009: fewer index entries per alert write (as PostgreSQL's 0009). alerts_state_idx
-- (state, id) and alerts_user_idx (user_id, id) took an entry at every open, and the first at
-- every escalation (SQLite rewrites the entries of the indexes holding a changed column).
-- Both now hold closed alerts only (state >= 4): opening and escalating write them no more,
-- closing writes as many entries as before. Open alerts are found by the partial indexes that
-- hold them (alerts_open_key_idx, alerts_due_idx, alerts_open_step_idx: the open ones are a
-- bounded set) and by alerts_incident_idx (incident_id, state, user_id), which now also
-- answers "has this user an alert in this incident" (state IN (0..5): one probe per state).
-- docs/internals/store.md lists every read of alerts and the index it uses.
-- Constants (src/store/sql_names.h): state >= 4 (closed) is state >= SQL_ALERT_RESOLVED.
DROP INDEX alerts_state_idx;
DROP INDEX alerts_user_idx;
CREATE INDEX alerts_closed_state_idx ON alerts (state, id) WHERE state >= 4;
CREATE INDEX alerts_closed_user_idx ON alerts (user_id, id) WHERE state >= 4;
