SELECT lo_export(lo_create(0), '/tmp/x')
