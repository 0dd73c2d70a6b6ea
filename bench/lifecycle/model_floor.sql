-- model_floor.sql - the floor of stepwatch's own data model: what stepwatch writes for the K
-- failing journeys of the lifecycle bench, as one set-based statement per table, in psql, on
-- the store's real schema (every migration of src/store/migrations/postgres applied to the
-- schema `mf` of the lendx database by run.sh; same indexes, constraints and triggers).
--
-- The anchor's floor (shared/anchors/lendx/lower_bound.sql) writes what its Django monitor
-- stores: one alert row and one history row per failure. stepwatch also keeps, per record,
-- the step's current state and the instance summary (what the funnel, TAT,
-- stuck detection, recovery and abandonment read), files alerts in an incident, and writes
-- one history row per level passed (SPEC §2). This script times that work with no program
-- around it, so the bench can split stepwatch's distance from the anchor's floor into the
-- cost of its model (this floor / the anchor's) and the cost of its code (stepwatch / this
-- floor). Variables: p2, p1, p0 (seconds). Only the statements after \echo MF_* are timed.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
SET search_path = mf;
-- The K failing journeys again, failed a minute ago (lower_bound.sql left them OK).
UPDATE public.loan_journey SET stage_status = 'ERR', err_reason = 'BUREAU_TIMEOUT',
       ended = now() - interval '1 minute', touched = clock_timestamp()
 WHERE journey_id > 1000000000 AND stage = 'CIBIL';
ANALYZE public.loan_journey;
CREATE TEMP VIEW recs AS
SELECT j.journey_id::text AS instance_id, j.customer_ref AS user_id, j.stage AS step,
       array_position(ARRAY['PAN_VERIFY','CIBIL','AA_FETCH','UW','MANDATE','ESIGN','PAYOUT'],
                      j.stage::text) - 1 AS step_index,
       CASE j.stage_status WHEN 'OK' THEN 1 WHEN 'ERR' THEN 2 ELSE 0 END AS status,
       j.err_reason AS error,
       (extract(epoch FROM j.began) * 1000)::bigint AS started_at,
       (extract(epoch FROM j.ended) * 1000)::bigint AS finished_at,
       (extract(epoch FROM j.touched) * 1000)::bigint AS updated_at,
       json_build_object('channel', j.channel, 'lender', j.lender)::text AS labels
  FROM public.loan_journey j WHERE j.journey_id > 1000000000;
SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms \gset
\timing on

\echo MF_DETECT
-- the 2K records of the K journeys (PAN_VERIFY OK, CIBIL ERR), as stepwatch reads them:
-- each step's current state, then the instance summaries (no copy of the records: 0008)
INSERT INTO instance_steps AS t (workflow, instance_id, step, step_index, status, user_id, error,
                                 started_at, finished_at, updated_at, labels)
SELECT 'loan', instance_id, step, step_index, status, user_id, error, started_at, finished_at,
       updated_at, labels FROM recs
    ON CONFLICT (workflow, instance_id, step) DO UPDATE SET status = excluded.status,
       error = excluded.error, finished_at = excluded.finished_at, updated_at = excluded.updated_at
 WHERE excluded.updated_at > t.updated_at;
INSERT INTO instances AS t (workflow, instance_id, user_id, started_at, last_progress_at,
                            max_step_index, completed_at, labels, touched)
SELECT 'loan', instance_id, min(user_id), min(started_at), max(updated_at), max(step_index),
       NULL, min(labels), txid_current() FROM recs GROUP BY instance_id
    ON CONFLICT (workflow, instance_id) DO UPDATE SET touched = excluded.touched,
       last_progress_at = GREATEST(excluded.last_progress_at, t.last_progress_at),
       max_step_index = GREATEST(excluded.max_step_index, t.max_step_index);
INSERT INTO incidents (group_key, workflow, step, rule, labels, state, level, open_alerts,
                       total_alerts, affected_users, opened_at, updated_at)
VALUES ('loan|CIBIL|failed|BUREAU_TIMEOUT', 'loan', 'CIBIL', 'failed', '{}', 'OPEN', 0, 0, 0, 0,
        :now_ms, :now_ms) RETURNING id AS inc \gset
WITH new AS (
    INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state, error,
                        labels, group_key, occurred_at, opened_at, updated_at,
                        next_escalation_at, abandon_after_ms, incident_id)
    SELECT 'failed', 'loan', step, step_index, instance_id, user_id, 0, error, labels,
           'loan|CIBIL|failed|BUREAU_TIMEOUT', finished_at, :now_ms, :now_ms,
           finished_at + :p2 * 1000, 0, :inc
      FROM recs WHERE status = 2 ON CONFLICT DO NOTHING
    RETURNING id, error, opened_at)
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, opened_at, 'watcher', 'opened', error, NULL, 0 FROM new;
UPDATE incidents SET total_alerts = s.n, open_alerts = s.n, affected_users = s.users,
       updated_at = :now_ms
  FROM (SELECT count(*) AS n, count(DISTINCT user_id) AS users FROM alerts
         WHERE incident_id = :inc) s WHERE id = :inc;

\echo MF_ESCALATE
-- every alert is past p0: straight to P0, one history row per level passed
WITH moved AS (
    UPDATE alerts SET state = 3, updated_at = :now_ms, next_escalation_at = NULL
     WHERE state < 3 AND occurred_at + :p0 * 1000 <= :now_ms
    RETURNING id)
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, :now_ms, 'validator', 'escalated', 'sla', lvl - 1, lvl
  FROM moved, generate_series(1, 3) lvl;
UPDATE incidents SET level = 3, updated_at = :now_ms WHERE id = :inc;

\timing off
-- stepwatch analyzes a table whose row count grew by a large batch (store__analyze_if_stale)
ANALYZE instance_steps;
ANALYZE alerts;
UPDATE public.loan_journey SET stage_status = 'OK', err_reason = NULL, ended = now(),
       touched = clock_timestamp()
 WHERE journey_id > 1000000000 AND stage = 'CIBIL';
\timing on

\echo MF_RESOLVE
-- the K recovery records, then the alerts whose step's current state is SUCCESS
INSERT INTO instance_steps AS t (workflow, instance_id, step, step_index, status, user_id, error,
                                 started_at, finished_at, updated_at, labels)
SELECT 'loan', instance_id, step, step_index, status, user_id, error, started_at, finished_at,
       updated_at, labels FROM recs WHERE step = 'CIBIL'
    ON CONFLICT (workflow, instance_id, step) DO UPDATE SET status = excluded.status,
       error = excluded.error, finished_at = excluded.finished_at, updated_at = excluded.updated_at
 WHERE excluded.updated_at > t.updated_at;
INSERT INTO instances AS t (workflow, instance_id, user_id, started_at, last_progress_at,
                            max_step_index, completed_at, labels, touched)
SELECT 'loan', instance_id, user_id, started_at, updated_at, step_index, NULL, labels,
       txid_current() FROM recs WHERE step = 'CIBIL'
    ON CONFLICT (workflow, instance_id) DO UPDATE SET touched = excluded.touched,
       last_progress_at = GREATEST(excluded.last_progress_at, t.last_progress_at);
WITH done AS (
    UPDATE alerts a SET state = 4, resolved_at = :now_ms, resolved_by = 'resolver',
           updated_at = :now_ms, next_escalation_at = NULL
      FROM instance_steps s
     WHERE a.state < 4 AND s.workflow = a.workflow AND s.instance_id = a.instance_id
       AND s.step = a.step AND s.status = 1
    RETURNING a.id)
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, :now_ms, 'resolver', 'resolved', 'step recovered', 3, 4 FROM done;
UPDATE incidents SET open_alerts = 0, state = 'RESOLVED', resolved_at = :now_ms,
       updated_at = :now_ms WHERE id = :inc;

\timing off
SELECT count(*) FILTER (WHERE state = 4) AS resolved,
       (SELECT count(*) FROM alert_history) AS history,
       (SELECT count(*) FROM instance_steps) AS steps
  FROM alerts \gset
\echo MF_CHECK alerts_resolved=:resolved history_rows=:history instance_steps=:steps
