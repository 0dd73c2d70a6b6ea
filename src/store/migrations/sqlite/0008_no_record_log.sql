-- 0008: the store keeps the current state of each step (instance_steps) and of each
-- instance (instances), not a copy of every step record. step_records was written once per
-- record read (at 10^5 failures a quarter of the ingest's statement time, and the largest
-- table of a store fed 10^7 records, never pruned) and read by nothing but a duplicate count
-- of push ingest. A record read again is now told apart from a new one by the step's stored
-- state (it does not supersede it), which is the rule that decides what opens alerts anyway.
-- The records themselves stay where they always were: in the source.
DROP TABLE step_records;
