-- 0009: fewer index entries per alert write. An UPDATE of state or next_escalation_at (every
-- escalation; both columns are indexed, so none is HOT) writes one entry in every index of
-- alerts whose predicate the new row satisfies. alerts_state_idx (state, id) and
-- alerts_user_idx (user_id, id) took one at every open, every escalation and every close.
-- Both now hold closed alerts only (state >= 4): opening and escalating write two entries
-- less, closing writes as many as before. Open alerts are found by the partial indexes that
-- hold them (alerts_open_key_idx, alerts_due_idx, alerts_open_step_idx: the open ones are a
-- bounded set) and by alerts_incident_idx (incident_id, state, user_id), which now also
-- answers "has this user an alert in this incident" (state IN (0..5): one probe per state).
-- docs/internals/store.md lists every read of alerts and the index it uses.
-- Constants (src/store/sql_names.h): state >= 4 (closed) is state >= SQL_ALERT_RESOLVED.
DROP INDEX alerts_state_idx;
DROP INDEX alerts_user_idx;
CREATE INDEX alerts_closed_state_idx ON alerts (state, id) WHERE state >= 4;
CREATE INDEX alerts_closed_user_idx ON alerts (user_id, id) WHERE state >= 4;
