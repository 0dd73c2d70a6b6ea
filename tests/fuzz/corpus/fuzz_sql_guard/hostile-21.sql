SELECT txid_current(), pg_stat_reset(), pg_backup_start('x')
