#!/usr/bin/env bash
# lifecycle.sh - the ticket lifecycle end to end, against the real binary, a real PostgreSQL
# source, and each store (PostgreSQL, then SQLite):
#   200 users fail one step with one error -> 200 alerts, one incident, 200 affected users;
#   escalations at the SLA (within one poll); 150 recover -> resolved by the resolver;
#   20 reach a later step -> resolved; 30 go quiet -> ABANDONED (and the incident resolves);
#   a failure whose occurred_at is past p0 -> ESCALATION_P0 with three escalation rows;
#   a resolved instance failing again -> a new alert with reopen_of, flap count 1.
. "$(dirname "$0")/lib.bash"

# query_store STORE_KIND STORE SQL
sq() { if [ "$1" = pg ]; then q "$2" "$3"; else qs "$2" "$3"; fi; }

run_scenario() {
  local kind=$1 store_url=$2 store=$3 cfg=$T/stepwatch-$1.yaml pid base=$4 rc=0
  SRC=$(pg_newdb swsrc)
  q "$SRC" "
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'monitor') THEN CREATE ROLE monitor LOGIN; END IF; END \$\$;
CREATE TABLE loan_steps (
  application_id bigint NOT NULL, user_id text NOT NULL, step text NOT NULL,
  status text NOT NULL, error_code text, started_at timestamptz NOT NULL,
  finished_at timestamptz, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  channel text, PRIMARY KEY (application_id, step));
CREATE INDEX ON loan_steps (updated_at);
GRANT SELECT ON loan_steps TO monitor;"
  SRC_MON="${SRC/postgres@/monitor@}"
  cat >"$cfg" <<YAML
store: $store_url
http:
  listen: 127.0.0.1:0
sources:
  app: { url: "$SRC_MON", statement_timeout: 5s }
workflows:
  loan:
    source: app
    poll: 200ms
    overlap: 2s
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at, channel
        FROM loan_steps WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull, bank_statement, underwriting]
    segments: [channel]
    defaults:
      sla: { p2: 3s, p1: 6s, p0: 9s }
      stuck_after: 1h
      abandon_after: 14s
      group_by: [error]
YAML
  "$SW_BIN" migrate -c "$cfg" >>"$T/migrate-$kind.log" 2>&1 || fail "migrate ($kind)"
  sw_start "serve-$kind" serve -c "$cfg"; pid=$SW_PID

  # 200 users: kyc done, bureau_pull failed with one error, in one commit
  q "$SRC" "INSERT INTO loan_steps
    SELECT $base + i, 'u' || ($base + i), s.step, s.status, s.err, now() - interval '20 s',
           now(), now(), CASE WHEN i % 2 = 0 THEN 'web' ELSE 'app' END
      FROM generate_series(1, 200) i,
           (VALUES ('kyc', 'SUCCESS', NULL), ('bureau_pull', 'FAILED', 'BUREAU_TIMEOUT')) s(step, status, err)"
  wait_eq 10 "[$kind] failed alerts" 200 sq "$kind" "$store" "SELECT count(*) FROM alerts WHERE rule = 'failed'"
  wait_eq 5 "[$kind] incidents" "1|200|200" sq "$kind" "$store" \
    "SELECT count(*), max(affected_users), max(open_alerts) FROM incidents WHERE state = 'OPEN'"
  wait_eq 10 "[$kind] alerts at P1" 200 sq "$kind" "$store" "SELECT count(*) FROM alerts WHERE state = 2"
  # each escalation recorded no earlier than its SLA and within one poll (+ scheduling slack)
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM alert_history h JOIN alerts a ON a.id = h.alert_id
      WHERE h.event = 'escalated' AND h.to_state = 1 AND h.at - a.occurred_at BETWEEN 3000 AND 4200")" 200 \
    "[$kind] P2 escalations within one poll of the SLA"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM alert_history h JOIN alerts a ON a.id = h.alert_id
      WHERE h.event = 'escalated' AND h.to_state = 2 AND h.at - a.occurred_at BETWEEN 6000 AND 7200")" 200 \
    "[$kind] P1 escalations within one poll of the SLA"

  # 150 recover, 20 reach a later step with bureau_pull still FAILED, 30 go quiet
  q "$SRC" "UPDATE loan_steps SET status = 'SUCCESS', error_code = NULL, finished_at = now(),
              updated_at = clock_timestamp()
            WHERE step = 'bureau_pull' AND application_id BETWEEN $base + 1 AND $base + 150"
  q "$SRC" "INSERT INTO loan_steps SELECT $base + i, 'u' || ($base + i), 'bank_statement', 'IN_PROGRESS',
              NULL, now(), NULL, clock_timestamp(), 'web' FROM generate_series(151, 170) i"
  wait_eq 10 "[$kind] resolved by the resolver" 170 sq "$kind" "$store" \
    "SELECT count(*) FROM alerts WHERE state = 4 AND resolved_by = 'resolver'"
  wait_eq 5 "[$kind] incident open alerts after recovery" 30 sq "$kind" "$store" \
    "SELECT open_alerts FROM incidents WHERE state = 'OPEN'"

  # a failure detected late: occurred an hour ago, past p0 -> straight to P0, three rows
  q "$SRC" "INSERT INTO loan_steps VALUES ($base + 500, 'late', 'bureau_pull', 'FAILED', 'PARTNER_DOWN',
              now() - interval '61 minutes', now() - interval '1 hour', clock_timestamp(), 'app')"
  wait_eq 10 "[$kind] late failure at P0" 3 sq "$kind" "$store" \
    "SELECT a.state FROM alerts a WHERE a.instance_id = '$((base + 500))'"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM alert_history h JOIN alerts a ON a.id = h.alert_id
      WHERE a.instance_id = '$((base + 500))' AND h.event = 'escalated'")" 3 "[$kind] late failure escalation rows"

  # the quiet 30 are abandoned after abandon_after without progress; the incident closes
  wait_eq 20 "[$kind] abandoned" 30 sq "$kind" "$store" "SELECT count(*) FROM alerts WHERE state = 5"
  wait_eq 5 "[$kind] BUREAU_TIMEOUT incident resolved" "RESOLVED|0" sq "$kind" "$store" \
    "SELECT state, open_alerts FROM incidents WHERE labels LIKE '%BUREAU_TIMEOUT%'"

  # a recovered instance fails again -> a new alert linked to the old one
  q "$SRC" "UPDATE loan_steps SET status = 'FAILED', error_code = 'BUREAU_TIMEOUT', finished_at = now(),
              updated_at = clock_timestamp() WHERE step = 'bureau_pull' AND application_id = $base + 1"
  wait_eq 10 "[$kind] reopened alert" 1 sq "$kind" "$store" \
    "SELECT count(*) FROM alerts a JOIN alerts o ON o.id = a.reopen_of
      WHERE a.instance_id = '$((base + 1))' AND a.state < 4 AND o.state = 4"
  expect_eq "$(sq "$kind" "$store" "SELECT event FROM alert_history h JOIN alerts a ON a.id = h.alert_id
      WHERE a.instance_id = '$((base + 1))' AND a.reopen_of IS NOT NULL ORDER BY h.id LIMIT 1")" reopened \
    "[$kind] first history row of the reopened alert"
  expect_eq "$(sq "$kind" "$store" "SELECT flaps FROM rule_flaps WHERE workflow = 'loan' AND rule = 'failed'")" 1 \
    "[$kind] flap count"

  # history: exactly one open row per alert, no duplicate escalations
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM (SELECT alert_id FROM alert_history
      WHERE event IN ('opened', 'reopened') GROUP BY alert_id HAVING count(*) <> 1) x")" 0 "[$kind] one open row per alert"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM (SELECT alert_id, to_state FROM alert_history
      WHERE event = 'escalated' GROUP BY alert_id, to_state HAVING count(*) > 1) x")" 0 "[$kind] no repeated escalation"

  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || rc=$?
  expect_eq "$rc" 0 "[$kind] serve exit code after SIGTERM"
}

STORE_PG=$(pg_newdb swstore)
run_scenario pg "$STORE_PG" "$STORE_PG" 1000
run_scenario sqlite "sqlite://$T/store.db" "$T/store.db" 2000
finish
