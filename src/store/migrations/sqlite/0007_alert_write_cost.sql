-- 0007: alerts_open_workflow_idx (workflow, id) WHERE state < 4 goes: the resolver's sweep
-- of every open alert now walks alerts_open_step_idx (workflow, step, id) in (step, id)
-- order, and every state change writes one index entry less. (PostgreSQL's 0007 also checks
-- alert_history.alert_id once per statement instead of per row; SQLite keeps its foreign
-- key, a rowid probe per row.)
DROP INDEX alerts_open_workflow_idx;
