SELECT 1 AS instance_id, (query_to_xml('select pg_advisory_lock(2)', true, false, ''))::text AS error
