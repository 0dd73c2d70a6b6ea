#!/usr/bin/env bash
# source_down.sh - the application database goes away mid-run and comes back: the watcher
# backs off, reports the workflow unhealthy, moves no watermark, and afterwards has skipped
# nothing. A custom watcher with wrong columns is unhealthy on its own; the rest keeps going.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swdown)
DB=${SRC##*/}
q "$SRC" "
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'monitor') THEN CREATE ROLE monitor LOGIN; END IF; END \$\$;
CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
  error_code text, started_at timestamptz, finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step));
CREATE TABLE payouts (application_id bigint, user_id text, sent_at timestamptz);
GRANT SELECT ON loan_steps, payouts TO monitor;"
SRC_MON="${SRC/postgres@/monitor@}"
STORE=$T/store.db
cat >"$T/cfg.yaml" <<YAML
store: sqlite://$STORE
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$SRC_MON", statement_timeout: 2s }
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
watchers:
  - name: broken_detect
    workflow: loan
    step: bureau_pull
    every: 200ms
    detect: SELECT application_id AS instance_id, sent_at AS occurred_at FROM payouts
YAML
add() {  # add FROM TO: failures for instances FROM..TO
  q "$SRC" "INSERT INTO loan_steps SELECT i, 'u' || i, 'kyc', 'FAILED', 'KYC_DOWN', now(), now(),
              clock_timestamp() FROM generate_series($1, $2) i"
}
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add 1 100
wait_eq 10 "alerts before the outage" 100 qs "$STORE" "SELECT count(*) FROM alerts"

# outage: the monitor role can no longer connect; its sessions are cut
q "$SRC" "REVOKE CONNECT ON DATABASE $DB FROM PUBLIC, monitor;
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'monitor'" >/dev/null
wm_before=$(qs "$STORE" "SELECT value_ms FROM watermarks WHERE key = 'workflow:loan'")
add 101 250
sleep 2
add 251 300
expect_eq "$(qs "$STORE" "SELECT count(*) FROM alerts")" 100 "no alerts while the source is down"
expect_eq "$(qs "$STORE" "SELECT value_ms FROM watermarks WHERE key = 'workflow:loan'")" "$wm_before" \
  "watermark did not move"
if grep -q 'msg="task failed" task=watch:loan' "$T/serve.log"; then ok "watcher reported the outage"
else fail "no 'task failed' line for watch:loan"; fi

# back: everything written meanwhile is read, nothing twice
q "$SRC" "GRANT CONNECT ON DATABASE $DB TO monitor" >/dev/null
wait_eq 40 "alerts after the outage" 300 qs "$STORE" "SELECT count(*) FROM alerts"
expect_eq "$(qs "$STORE" "SELECT count(DISTINCT instance_id) FROM alerts")" 300 "no duplicates"

# the broken custom watcher is reported on its own, by name and column
if grep -q "watcher 'broken_detect': detect has no column 'user_id'" "$T/serve.log"; then
  ok "broken watcher named with its missing column"
else fail "no message for the broken watcher"; fi
expect_eq "$(qs "$STORE" "SELECT count(*) FROM alerts WHERE rule = 'broken_detect'")" 0 "broken watcher opened nothing"
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
finish
