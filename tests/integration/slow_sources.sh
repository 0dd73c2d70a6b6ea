#!/usr/bin/env bash
# slow_sources.sh - two workflows whose queries always run into their statement_timeout (a
# view that sleeps) must not delay a healthy workflow: its detection latency (alert opened_at
# minus the step record's updated_at) and its P2 escalation lag (the escalation's time minus
# occurred_at + p2) stay within poll + 1 s. A custom watcher whose resolve query sleeps
# past its timeout must not delay the healthy workflow's resolutions either (resolved_at
# minus the SUCCESS record's updated_at). Prints the figures (docs/reliability.md).
# Single node, then distributed mode (serve and a worker on the test Redis).
. "$(dirname "$0")/lib.bash"

scenario() {  # scenario single|distributed
local mode=$1 broker=""
if [ "$mode" = distributed ]; then
  [ -n "${STEPWATCH_TEST_REDIS:-}" ] || { log "no STEPWATCH_TEST_REDIS: distributed part skipped"; return 0; }
  # db 15 (distributed.sh takes one of 1-14), flushed first
  broker="broker: ${STEPWATCH_TEST_REDIS%/*}/15"
  hp=${STEPWATCH_TEST_REDIS#redis://}; hp=${hp#*@}; hp=${hp%%/*}
  redis-cli -h "${hp%:*}" -p "${hp#*:}" -n 15 FLUSHDB >/dev/null
fi

DB=$(pg_newdb swslow)
READER=$(pg_reader "$DB") # the source reads as a SELECT-only role
q "$DB" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step));
  CREATE TABLE slow_data (LIKE loan_steps);
  INSERT INTO slow_data VALUES (0, 'u0', 'kyc', 'FAILED', 'E', now(), now(), now());
  CREATE VIEW slow_steps AS SELECT * FROM slow_data WHERE pg_sleep(30)::text = ''"
wf() {  # wf NAME TABLE
  cat <<YAML
  $1:
    source: app
    poll: 200ms
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at FROM $2
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc]
    defaults:
      sla: { p2: 2s, p1: 1h, p0: 2h }
YAML
}
{
  cat <<YAML
store: $DB
$broker
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$READER", statement_timeout: 3s }
workflows:
YAML
  wf slow_a slow_steps
  wf slow_b slow_steps
  wf slow_c slow_steps
  wf healthy loan_steps
  cat <<YAML
watchers:
  - name: slow_resolve
    workflow: healthy
    step: kyc
    every: 1s
    detect: SELECT 'x1' AS instance_id, 'u' AS user_id, now() - interval '1 h' AS occurred_at
    resolve: SELECT 1 FROM slow_steps WHERE :instance_id::text IS NOT NULL
YAML
} >"$T/cfg.yaml"

sw_start "serve-$mode" serve -c "$T/cfg.yaml"; pid=$SW_PID
wpid=""
if [ "$mode" = distributed ]; then sw_start "worker-$mode" worker -c "$T/cfg.yaml"; wpid=$SW_PID; fi
# the slow watchers are stuck in their queries before the measure starts
wait_eq 20 "slow queries running" t q "$DB" \
  "SELECT count(*) >= 2 FROM pg_stat_activity WHERE query LIKE '%FROM slow_steps%' AND pid <> pg_backend_pid()"
n=0
for round in $(seq 1 12); do
  q "$DB" "INSERT INTO loan_steps SELECT i, 'u' || i, 'kyc', 'FAILED', 'E', now(), now(), clock_timestamp()
           FROM generate_series($((n + 1)), $((n + 10))) i"
  n=$((n + 10))
  sleep 0.$((3 + RANDOM % 5))
done
wait_eq 30 "healthy alerts opened" "$n" q "$DB" "SELECT count(*) FROM alerts WHERE workflow = 'healthy' AND rule <> 'slow_resolve'"
wait_eq 30 "healthy alerts at P2" "$n" q "$DB" "SELECT count(*) FROM alerts WHERE workflow = 'healthy' AND rule <> 'slow_resolve' AND state >= 1"
det=$(q "$DB" "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY d) || ' ' || max(d) FROM (
  SELECT a.opened_at - (extract(epoch FROM s.updated_at) * 1000)::bigint AS d
    FROM alerts a JOIN loan_steps s ON s.application_id::text = a.instance_id
   WHERE a.workflow = 'healthy' AND a.rule <> 'slow_resolve') x")
esc=$(q "$DB" "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY d) || ' ' || max(d) FROM (
  SELECT h.at - (a.occurred_at + 2000) AS d FROM alert_history h JOIN alerts a ON a.id = h.alert_id
   WHERE a.workflow = 'healthy' AND a.rule <> 'slow_resolve' AND h.event = 'escalated' AND h.to_state = 1) x")
read -r det_p50 det_max <<<"$det"
read -r esc_p50 esc_max <<<"$esc"
# the healthy instances recover, in rounds, while the custom watcher's resolve query sleeps
for round in $(seq 0 5); do
  q "$DB" "UPDATE loan_steps SET status = 'SUCCESS', error_code = NULL, updated_at = clock_timestamp()
           WHERE application_id BETWEEN $((round * 20 + 1)) AND $((round * 20 + 20))"
  sleep 0.$((3 + RANDOM % 5))
done
wait_eq 30 "healthy alerts resolved" 120 q "$DB" "SELECT count(*) FROM alerts WHERE workflow = 'healthy'
  AND rule <> 'slow_resolve' AND state = 4"
res=$(q "$DB" "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY d) || ' ' || max(d) FROM (
  SELECT a.resolved_at - (extract(epoch FROM s.updated_at) * 1000)::bigint AS d
    FROM alerts a JOIN loan_steps s ON s.application_id::text = a.instance_id
   WHERE a.workflow = 'healthy' AND a.rule <> 'slow_resolve') x")
read -r res_p50 res_max <<<"$res"
log "FIGURES slow_sources mode=$mode detect_ms p50=$det_p50 max=$det_max p2_lag_ms p50=$esc_p50 max=$esc_max resolve_ms p50=$res_p50 max=$res_max"
[ "$det_max" -le 1200 ] && ok "[$mode] detection within poll + 1 s (max ${det_max} ms)" \
  || fail "[$mode] detection of the healthy workflow delayed: max ${det_max} ms"
[ "$esc_max" -le 1200 ] && ok "[$mode] P2 escalation within 1.2 s of due (max ${esc_max} ms)" \
  || fail "[$mode] P2 escalation of the healthy workflow delayed: max ${esc_max} ms"
[ "$res_max" -le 1200 ] && ok "[$mode] resolution within poll + 1 s (max ${res_max} ms)" \
  || fail "[$mode] resolution of the healthy workflow delayed: max ${res_max} ms"
if grep -q 'task failed.*task=watch:slow_a' "$T"/*-"$mode".log; then ok "[$mode] slow workflow reported"
else fail "[$mode] no failure logged for the slow workflow"; fi
expect_eq "$(q "$DB" "SELECT count(*) FROM alerts WHERE rule = 'slow_resolve' AND state < 4")" 1 \
  "[$mode] the slow custom watcher's alert stays open"
if grep -q 'resolve query failed.*watcher=slow_resolve.*statement timeout\|task failed.*task=resolve:slow_resolve.*statement timeout' "$T"/*-"$mode".log; then
  ok "[$mode] the slow resolve query ran into its timeout"
else fail "[$mode] the slow resolve query never timed out"; fi
kill -TERM $pid $wpid
wait $pid $wpid 2>/dev/null || true
}
scenario single
scenario distributed
finish
