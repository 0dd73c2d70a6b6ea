-- 0003: the resolver re-checks only instances changed since its last run. touched is set by
-- every ingest that writes the instance: the writing transaction's id (txid_current()), so
-- a reader can tell, from its snapshot's xmin, which changes it may not have seen yet.
ALTER TABLE instances ADD COLUMN touched BIGINT NOT NULL DEFAULT 0;
CREATE INDEX instances_touched_idx ON instances (workflow, touched);
