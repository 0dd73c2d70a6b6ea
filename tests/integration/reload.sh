#!/usr/bin/env bash
# reload.sh - SIGHUP: a bad file keeps the old configuration running (and says why); a good
# one takes over, and alerts opened under the old SLAs escalate by the new ones. /readyz
# reports a broken workflow by name while the others keep going.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swreload)
q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
STORE=$T/store.db
config() {  # config P2_SLA EXTRA_LINE
  cat >"$T/cfg.yaml" <<YAML
store: sqlite://$STORE
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
    defaults:
      sla: { p2: $1, p1: 2h, p0: 4h }
$2
YAML
}
add() {
  q "$SRC" "INSERT INTO loan_steps SELECT i, 'u' || i, 'kyc', 'FAILED', 'E', now(), now(),
              clock_timestamp() FROM generate_series($1, $2) i"
}
config 1h ""
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add 1 10
wait_eq 10 "alerts under the first config" 10 qs "$STORE" "SELECT count(*) FROM alerts"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" 200 "ready"

# a bad file: refused, the old config keeps running
config 1h "    pol: 1s"
kill -HUP "$pid"
wait_eq 5 "reload refused" 1 grep -c "reload refused" "$T/serve.log"
grep -q "unknown key 'pol'" "$T/serve.log" && ok "refusal names the problem" || fail "refusal reason missing"
add 11 20
wait_eq 10 "alerts after a refused reload" 20 qs "$STORE" "SELECT count(*) FROM alerts"
expect_eq "$(qs "$STORE" "SELECT count(*) FROM alerts WHERE state = 1")" 0 "nothing escalated under p2 1h"

# a good file with a 1s p2: the 20 alerts opened under 1h escalate now
config 1s ""
kill -HUP "$pid"
wait_eq 5 "reloaded" 1 grep -c "configuration reloaded" "$T/serve.log"
wait_eq 10 "alerts escalated under the new SLA" 20 qs "$STORE" "SELECT count(*) FROM alerts WHERE state = 1"

# a broken workflow shows in /readyz by name; the process keeps serving
q "$SRC" "ALTER TABLE loan_steps RENAME TO loan_steps_gone"
wait_eq 10 "readyz while the source table is gone" 503 \
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz"
body=$(curl -s "http://127.0.0.1:$port/readyz")
grep -q '"name":"workflow:loan","ok":false' <<<"$body" && ok "readyz names workflow:loan" \
  || fail "readyz body: $body"
q "$SRC" "ALTER TABLE loan_steps_gone RENAME TO loan_steps"
wait_eq 10 "readyz after the table is back" 200 \
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
finish
