-- 0007: nothing to change on SQLite. PostgreSQL's 0007 replaces the row-by-row foreign key
-- check of alert_history.alert_id by one check per statement; SQLite keeps its foreign key,
-- a rowid probe per row, which is cheap there. Kept so both dialects number alike.
SELECT 1;
