SELECT db.sch.fn(a) FILTER (WHERE b > :since) OVER () FROM t GROUP BY 1 HAVING f(x) > 0
