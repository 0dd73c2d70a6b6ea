SELECT application_id AS instance_id, user_id, step, status,
       error_code AS error, started_at, finished_at, updated_at,
       channel, partner
  FROM loan_steps
 WHERE updated_at > :since
 ORDER BY updated_at
