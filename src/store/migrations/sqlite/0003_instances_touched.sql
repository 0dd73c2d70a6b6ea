-- 0003: the resolver re-checks only instances changed since its last run. touched is set by
-- every ingest that writes the instance: one more than the workflow's highest touched (a
-- counter). SQLite has one writer at a time, so a write not yet committed always gets a
-- higher value than every committed one.
ALTER TABLE instances ADD COLUMN touched BIGINT NOT NULL DEFAULT 0;
CREATE INDEX instances_touched_idx ON instances (workflow, touched);
