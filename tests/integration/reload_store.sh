#!/usr/bin/env bash
# reload_store.sh - SIGHUP with a file naming another store (or broker) is refused: the old
# configuration keeps running on the old store, the log says why (without the URL), and the
# new store is never written. The same for `stepwatch worker`.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swrelst)
q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
READER=$(pg_reader "$SRC") # the source reads as a SELECT-only role
config() {  # config STORE_URL [BROKER_URL]
  cat >"$T/cfg.yaml" <<YAML
store: $1
${2:+broker: $2}
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$READER" }
workflows:
  loan:
    source: app
    poll: 100ms
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at FROM loan_steps
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc]
YAML
}
add() {
  q "$SRC" "INSERT INTO loan_steps SELECT i, 'u' || i, 'kyc', 'FAILED', 'E', now(), now(),
              clock_timestamp() FROM generate_series($1, $2) i"
}
OLD=$T/old.db
NEW_PG=$(pg_newdb swrelstnew)
NEW_PG_SECRET="${NEW_PG/postgres@/postgres:s3cretpw@}"
config "sqlite://$OLD"
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add 1 10
wait_eq 10 "alerts in the store in force" 10 qs "$OLD" "SELECT count(*) FROM alerts"

config "$NEW_PG_SECRET"
kill -HUP "$pid"
wait_eq 5 "reload refused" 1 grep -c "reload refused.*'store' changed" "$T/serve.log"
grep -q "s3cretpw" "$T/serve.log" && fail "the new store's password is in the log" || ok "no URL in the log"
add 11 20
wait_eq 10 "alerts still go to the store in force" 20 qs "$OLD" "SELECT count(*) FROM alerts"
expect_eq "$(q "$NEW_PG" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0 \
  "the new store untouched (no schema)"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
expect_eq "$(curl -s "http://127.0.0.1:$port/api/v1/alerts?limit=100" | grep -o '"instance_id"' | wc -l)" 20 \
  "the API reads the store in force"

# the same store and a broker added: refused too
config "sqlite://$OLD" "${STEPWATCH_TEST_REDIS:-redis://127.0.0.1:1/0}"
kill -HUP "$pid"
wait_eq 5 "broker change refused" 1 grep -c "reload refused.*'broker' changed" "$T/serve.log"
# the same store again: accepted
config "sqlite://$OLD"
kill -HUP "$pid"
wait_eq 5 "a reload with the same store accepted" 1 grep -c "configuration reloaded" "$T/serve.log"
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true

# worker: the same rule
if [ -n "${STEPWATCH_TEST_REDIS:-}" ]; then
  config "sqlite://$OLD" "$STEPWATCH_TEST_REDIS"
  sw_start worker worker -c "$T/cfg.yaml"; wpid=$SW_PID
  wait_eq 10 "worker started" 1 grep -c "worker started" "$T/worker.log"
  config "$NEW_PG_SECRET" "$STEPWATCH_TEST_REDIS"
  kill -HUP "$wpid"
  wait_eq 5 "worker reload refused" 1 grep -c "reload refused.*'store' changed" "$T/worker.log"
  grep -q "s3cretpw" "$T/worker.log" && fail "password in the worker log" || ok "no URL in the worker log"
  kill -TERM "$wpid"
  wait "$wpid" 2>/dev/null || true
fi
finish
