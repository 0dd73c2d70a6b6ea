#!/usr/bin/env bash
# metrics.sh - GET /metrics of the real binary: Prometheus text that `promtool check metrics`
# accepts, with the alert counts, component health and task figures of the running node.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swmetrics)
q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
cat >"$T/cfg.yaml" <<YAML
store: sqlite://$T/store.db
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$(pg_reader "$SRC")" }
workflows:
  loan:
    source: app
    poll: 100ms
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at FROM loan_steps
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull]
YAML
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
wait_eq 10 "listening" 1 grep -c "msg=listening" "$T/serve.log"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
q "$SRC" "INSERT INTO loan_steps SELECT i, 'u' || i, 'kyc', 'FAILED', 'KYC_DOWN', now(), now(),
            clock_timestamp() FROM generate_series(1, 12) i"
wait_eq 10 "alerts" 12 qs "$T/store.db" "SELECT count(*) FROM alerts"
sleep 0.5
curl -s -D "$T/headers" "http://127.0.0.1:$port/metrics" >"$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" && ok "content type" || fail "content type: $(cat "$T/headers")"
expect_eq "$(grep '^stepwatch_alerts{state="INITIATED"}' "$T/metrics.txt" | awk '{print $2}')" 12 "open alerts metric"
expect_eq "$(grep '^stepwatch_incidents_open ' "$T/metrics.txt" | awk '{print $2}')" 1 "open incidents metric"
expect_eq "$(grep '^stepwatch_component_healthy{component="workflow:loan"}' "$T/metrics.txt" | awk '{print $2}')" 1 \
  "workflow health metric"
runs=$(grep '^stepwatch_task_runs_total{task="watch:loan"}' "$T/metrics.txt" | awk '{print $2}')
[ "${runs:-0}" -ge 1 ] && ok "watcher runs counted ($runs)" || fail "watcher runs: '$runs'"
if command -v promtool >/dev/null; then
  if promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1; then ok "promtool check metrics"
  else fail "promtool: $(cat "$T/promtool.log")"; fi
else
  fail "promtool is not installed (scripts/install-deps installs prometheus)"
fi
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
finish
