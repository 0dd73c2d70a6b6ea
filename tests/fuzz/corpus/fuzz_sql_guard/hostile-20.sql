SELECT dblink_exec('dbname=app', 'COPY (SELECT 1) TO PROGRAM ''id''')
