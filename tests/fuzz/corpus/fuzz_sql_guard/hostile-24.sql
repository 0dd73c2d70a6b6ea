WITH c AS (SELECT set_config('a.b', 'c', false) v) SELECT v FROM c WHERE 2 = ANY (SELECT x.f())
