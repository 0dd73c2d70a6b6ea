#!/usr/bin/env bash
# guard.sh - the SQL guard, the source role and secrets, against a real PostgreSQL:
#  - a hostile-SQL corpus in steps_query, detect and resolve: `check` refuses every query,
#    naming the function (those on the guard's list, and volatile ones by the source's
#    own catalog);
#  - `check` and `serve` refuse a superuser source role unless allow_unsafe_role is set,
#    which is then logged once;
#  - `serve` with a SELECT-only role and a function its owner mis-marked STABLE (it takes
#    an advisory lock and sets a session variable): nothing outlives a query;
#  - planted secrets (a URL password, ?password=, a malformed URL's password, an API token,
#    STEPWATCH_URL's password) never appear in the log, `check`, /readyz or the client.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swguard)
q "$SRC" "
CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
  error_code text, started_at timestamptz, finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step));
CREATE TABLE payouts (application_id bigint, user_id text, sent_at timestamptz, status text);
CREATE SEQUENCE s;
CREATE FUNCTION bump() RETURNS int AS \$\$ SELECT 1 \$\$ LANGUAGE sql;
CREATE FUNCTION sneaky() RETURNS int AS \$\$ BEGIN
  IF coalesce(current_setting('sw.leak', true), '') = 'yes' THEN
    RAISE EXCEPTION 'session state leaked';
  END IF;
  PERFORM pg_advisory_lock(4242);
  PERFORM set_config('sw.leak', 'yes', false);
  RETURN 1;
END \$\$ LANGUAGE plpgsql STABLE;" >/dev/null
RO=$(pg_reader "$SRC")
PORT=${SRC#*127.0.0.1:}
PORT=${PORT%%/*}

# expect_run CODE PATTERN WHAT ARGS... : exit code and a line of stdout+stderr matching PATTERN
expect_run() {
  local code=$1 pat=$2 what=$3 out rc=0
  shift 3
  out=$("$SW_BIN" "$@" 2>&1) || rc=$?
  echo "$out" >>"$T/all-output.txt"
  if [ "$rc" != "$code" ]; then fail "$what: exit $rc, want $code; output: $out"; return; fi
  if ! grep -qE -- "$pat" <<<"$out"; then fail "$what: no line matching '$pat' in: $out"; return; fi
  ok "$what (exit $code)"
}

STEPS="SELECT application_id AS instance_id, user_id, step, status, error_code AS error, started_at, finished_at, updated_at FROM loan_steps WHERE updated_at > :since"
DETECT="SELECT application_id AS instance_id, user_id, sent_at AS occurred_at FROM payouts WHERE status = 'SENT'"
RESOLVE="SELECT 1 FROM payouts WHERE application_id = :instance_id AND status = 'CREDITED'"

# cfg NAME URL STEPS DETECT RESOLVE [SOURCE_EXTRA]
cfg() {
  cat >"$T/$1.yaml" <<YAML
store: sqlite://$T/check-store.db
sources:
  app: { url: "$2", statement_timeout: 5s ${6:-} }
workflows:
  loan:
    source: app
    steps_query: |
      $3
    steps: [kyc, payout]
watchers:
  - name: not_credited
    workflow: loan
    step: payout
    detect: |
      $4
    resolve: |
      $5
YAML
  echo "$T/$1.yaml"
}
expect_run 0 "all checks passed" "clean config, SELECT-only role" check -c "$(cfg clean "$RO" "$STEPS" "$DETECT" "$RESOLVE")"

# the hostile corpus: NAME|EXPRESSION, each tried in all three queries
corpus=(
  "query_to_xml|query_to_xml('select pg_advisory_lock(2)', true, false, '')"
  "ts_stat|(SELECT word FROM ts_stat('select to_tsvector(''simple'', ''x'')') LIMIT 1)"
  "pg_terminate_backend|pg_terminate_backend(pg_backend_pid())"
  "set_config|set_config('statement_timeout', '0', false)"
  "lo_create|lo_create(0)"
  "lo_export|lo_export(0, '/tmp/sw-guard-lo')"
  "dblink_exec|dblink_exec('dbname=x', 'COPY (SELECT 1) TO PROGRAM ''id''')"
  "txid_current|txid_current()"
  "pg_stat_reset|pg_stat_reset()"
  "pg_read_file|pg_read_file('/etc/hostname')"
  "pg_backup_start|pg_backup_start('x')"
  "nextval|nextval('s')"
  "random|random()"
  "clock_timestamp|clock_timestamp()"
  "pg_sleep|pg_sleep(0)"
  "gen_random_uuid|gen_random_uuid()"
  "bump|bump()"
)
for entry in "${corpus[@]}"; do
  name=${entry%%|*} expr=${entry#*|}
  expect_run 2 "steps_query refused: .*query must not call $name\(\)" "steps_query: $name" \
    check -c "$(cfg h "$RO" "SELECT application_id AS instance_id, user_id, step, status, ($expr)::text AS error, started_at, finished_at, updated_at FROM loan_steps WHERE updated_at > :since" "$DETECT" "$RESOLVE")"
  expect_run 2 "detect refused: .*query must not call $name\(\)" "detect: $name" \
    check -c "$(cfg h "$RO" "$STEPS" "SELECT application_id AS instance_id, user_id, sent_at AS occurred_at, ($expr)::text AS error FROM payouts" "$RESOLVE")"
  expect_run 2 "resolve refused: .*query must not call $name\(\)" "resolve: $name" \
    check -c "$(cfg h "$RO" "$STEPS" "$DETECT" "SELECT 1 FROM payouts WHERE application_id = :instance_id AND ($expr) IS NOT NULL")"
done
# nothing of it happened
expect_eq "$(q "$SRC" "SELECT count(*) FROM pg_largeobject_metadata")" 0 "no large object created"
expect_eq "$(q "$SRC" "SELECT last_value || '|' || is_called FROM s")" "1|false" "sequence untouched"

# the source role
expect_run 2 "role 'postgres' is a superuser" "check refuses a superuser source" \
  check -c "$(cfg su "$SRC" "$STEPS" "$DETECT" "$RESOLVE")"
expect_run 0 "allowed by allow_unsafe_role" "check with allow_unsafe_role" \
  check -c "$(cfg suok "$SRC" "$STEPS" "$DETECT" "$RESOLVE" ", allow_unsafe_role: true")"
role=${RO#postgresql://}; role=${role%%@*}
q "$SRC" "GRANT INSERT ON payouts TO $role" >/dev/null
expect_run 2 "role '$role' can write to payouts" "check refuses a role that can write" \
  check -c "$(cfg w "$RO" "$STEPS" "$DETECT" "$RESOLVE")"
q "$SRC" "REVOKE INSERT ON payouts FROM $role" >/dev/null

# serve: a superuser refused, another allowed and warned about once
cat >"$T/roles.yaml" <<YAML
store: sqlite://$T/roles-store.db
http: { listen: "127.0.0.1:0" }
sources:
  su: { url: "$SRC" }
  su_ok: { url: "$SRC", allow_unsafe_role: true }
workflows:
  refused: { source: su, poll: 200ms, steps_query: "$STEPS", steps: [kyc, payout] }
  allowed: { source: su_ok, poll: 200ms, steps_query: "$STEPS", steps: [kyc, payout] }
watchers:
  - { name: w1, workflow: allowed, step: payout, every: 200ms, detect: "$DETECT", resolve: "$RESOLVE" }
YAML
sw_start roles serve -c "$T/roles.yaml"; pid=$SW_PID
wait_eq 15 "serve refuses the superuser source" 1 \
  bash -c "grep -q \"source 'su' refused: role 'postgres' is a superuser\" '$T/roles.log' && echo 1"
sleep 1.5 # several polls of every task on su_ok
expect_eq "$(grep -c 'allowed by allow_unsafe_role' "$T/roles.log")" 1 "the opt-out warned once"
expect_eq "$(grep 'allowed by allow_unsafe_role' "$T/roles.log" | grep -c 'source=su_ok')" 1 "naming the source"
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true

# serve with the SELECT-only role, a mis-marked function in steps_query, and planted secrets
export SW_GUARD_TOKEN=PlantedTok4
RO_PW=${RO/@/:PlantedPw1@}
BAD="postgresql://app:PlantedPw3%zz@127.0.0.1:$PORT/x"
cat >"$T/serve.yaml" <<YAML
store: sqlite://$T/store.db
http:
  listen: "127.0.0.1:0"
  tokens: [{ name: ops, token_env: SW_GUARD_TOKEN, role: admin }]
sources:
  app: { url: "$RO_PW" }
  qp: { url: "$RO?password=PlantedQp2" }
  bad: { url: "$BAD" }
workflows:
  loan:
    source: app
    poll: 100ms
    steps_query: |
      $STEPS AND sneaky() = 1
    steps: [kyc, payout]
  loan2: { source: qp, poll: 200ms, steps_query: "$STEPS", steps: [kyc, payout] }
  loan3: { source: bad, poll: 200ms, steps_query: "$STEPS", steps: [kyc, payout] }
YAML
expect_run 1 "source 'bad'" "check with a malformed source URL" check -c "$T/serve.yaml"
sed "s|^store: .*|store: postgresql://sw:PlantedPw9%zz@127.0.0.1:$PORT/x|" "$T/serve.yaml" >"$T/badstore.yaml"
expect_run 1 "cannot open store" "check with a malformed store URL" check -c "$T/badstore.yaml"
sw_start serve serve -c "$T/serve.yaml"; pid=$SW_PID
wait_eq 10 "listening" 1 grep -c "msg=listening" "$T/serve.log"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
q "$SRC" "INSERT INTO loan_steps (application_id, user_id, step, status, error_code, started_at)
          VALUES (1, 'u1', 'kyc', 'failed', 'KYC_DOWN', now())" >/dev/null
wait_eq 15 "the alerts opened (one through sneaky())" 2 qs "$T/store.db" "SELECT count(*) FROM alerts"
sleep 2 # twenty more polls of the same session
wait_eq 10 "no advisory lock held by stepwatch" 0 q "$SRC" \
  "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE l.locktype = 'advisory' AND a.application_name = 'stepwatch'"
expect_eq "$(grep -c 'session state leaked' "$T/serve.log")" 0 "no setting outlived its query"
wait_eq 10 "the malformed source is reported" 1 \
  bash -c "curl -s -H 'Authorization: Bearer $SW_GUARD_TOKEN' 'http://127.0.0.1:$port/readyz' | grep -c 'cannot connect'"
curl -s "http://127.0.0.1:$port/readyz" >>"$T/all-output.txt"
curl -s -H "Authorization: Bearer $SW_GUARD_TOKEN" "http://127.0.0.1:$port/readyz" >>"$T/all-output.txt"
STEPWATCH_URL="http://ops:PlantedPw5@127.0.0.1:$port" STEPWATCH_TOKEN=$SW_GUARD_TOKEN \
  "$SW_BIN" alerts list >>"$T/all-output.txt" 2>&1 || fail "alerts list through a URL with a password"
grep -q "KYC_DOWN" "$T/all-output.txt" || fail "the client listed the alert"
STEPWATCH_URL="http://ops:PlantedPw6@127.0.0.1:1" "$SW_BIN" alerts list >>"$T/all-output.txt" 2>&1 \
  && fail "alerts list to a closed port succeeded"
STEPWATCH_URL="http://ops:PlantedPw7@127.0.0.1:1/?x" "$SW_BIN" alerts list >>"$T/all-output.txt" 2>&1 \
  && fail "alerts list to an invalid URL succeeded"
"$SW_BIN" alerts list --url "http://ops:PlantedPw8@127.0.0.1:1" >>"$T/all-output.txt" 2>&1 \
  && fail "alerts list --url to a closed port succeeded"
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
cat "$T/serve.log" "$T/roles.log" >>"$T/all-output.txt"
grep -q "cannot connect to source 'bad'" "$T/all-output.txt" || fail "the bad source's error was shown"
expect_eq "$(grep -c 'Planted' "$T/all-output.txt")" 0 "no planted secret in any output"
grep 'Planted' "$T/all-output.txt" | head -5 >&2 || true
finish
