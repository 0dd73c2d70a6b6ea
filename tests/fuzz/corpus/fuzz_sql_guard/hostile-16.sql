SELECT word FROM ts_stat('select to_tsvector(''x'')')
