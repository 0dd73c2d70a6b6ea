#!/usr/bin/env bash
# crash.sh - kill -9 the process again and again while it watches and escalates, restart it
# each time: no alert lost, none duplicated, no escalation repeated or skipped. Runs on the
# PostgreSQL store and on the SQLite store.
. "$(dirname "$0")/lib.bash"

sq() { if [ "$1" = pg ]; then q "$2" "$3"; else qs "$2" "$3"; fi; }

scenario() {
  local kind=$1 store_url=$2 store=$3 cfg=$T/crash-$1.yaml pid batches=20 per=100 total
  total=$((batches * per))
  SRC=$(pg_newdb swcrash)
  q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
      error_code text, started_at timestamptz, finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
  cat >"$cfg" <<YAML
store: $store_url
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$(pg_reader "$SRC")" }
workflows:
  loan:
    source: app
    poll: 100ms
    overlap: 5s
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at FROM loan_steps
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull]
    defaults:
      sla: { p2: 2s, p1: 4s, p0: 6s }
YAML
  sw_start "crash-$kind" serve -c "$cfg"; pid=$SW_PID
  for b in $(seq 0 $((batches - 1))); do
    q "$SRC" "INSERT INTO loan_steps SELECT i, 'u' || i, 'bureau_pull', 'FAILED', 'BUREAU_TIMEOUT',
                now(), now(), clock_timestamp() FROM generate_series($((b * per + 1)), $(((b + 1) * per))) i"
    sleep 0.$((2 + RANDOM % 4))
    if [ $((b % 2)) = 1 ]; then
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      sw_start "crash-$kind" serve -c "$cfg"; pid=$SW_PID
    fi
  done
  # keep killing while the escalations happen
  for _ in 1 2 3 4 5 6; do
    sleep 1.$((RANDOM % 5))
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sw_start "crash-$kind" serve -c "$cfg"; pid=$SW_PID
  done
  wait_eq 30 "[$kind] alerts at P0" "$total" sq "$kind" "$store" "SELECT count(*) FROM alerts WHERE state = 3"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM alerts")" "$total" "[$kind] alerts (none lost or duplicated)"
  expect_eq "$(sq "$kind" "$store" "SELECT count(DISTINCT instance_id) FROM alerts")" "$total" "[$kind] distinct instances"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM alert_history WHERE event = 'opened'")" "$total" \
    "[$kind] opened rows"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM (SELECT alert_id FROM alert_history WHERE event = 'escalated'
      GROUP BY alert_id HAVING count(*) = 3 AND count(DISTINCT to_state) = 3 AND min(to_state) = 1) x")" "$total" \
    "[$kind] exactly one escalation row per level per alert"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*), max(total_alerts), max(affected_users) FROM incidents")" \
    "1|$total|$total" "[$kind] one incident"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
}

STORE_PG=$(pg_newdb swcrashstore)
scenario pg "$STORE_PG" "$STORE_PG"
scenario sqlite "sqlite://$T/crash.db" "$T/crash.db"
finish
