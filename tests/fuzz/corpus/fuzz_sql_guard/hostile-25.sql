SELECT * FROM generate_series(1, 2), LATERAL pg_ls_dir('.') d ORDER BY pg_notify('c', 'x')
