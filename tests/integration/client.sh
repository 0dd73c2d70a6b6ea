#!/usr/bin/env bash
# client.sh - `stepwatch alerts` and `stepwatch incidents` against a real `stepwatch serve`
# (PostgreSQL store, PostgreSQL source, a responder token): failures in the source become
# alerts, then the client lists them (table and --json, filters, --all paging), shows one
# with its history, acks (twice: the second is a conflict), resolves, and meets the errors:
# unknown id, wrong token, server down, bad options and bad ids.
. "$(dirname "$0")/lib.bash"

# run_sw ARGS... : the client's stdout in $OUT, stderr in $ERR, exit code in $RC
run_sw() {
  RC=0
  "$SW_BIN" "$@" >"$T/out" 2>"$T/err" || RC=$?
  OUT=$(cat "$T/out")
  ERR=$(cat "$T/err")
}
# expect_rc WANT WHAT [STDERR_SUBSTRING]
expect_rc() {
  if [ "$RC" != "$1" ]; then
    fail "$2: exit $RC, want $1 (stderr: $ERR)"
  elif [ -n "${3:-}" ] && [[ "$ERR" != *"$3"* ]]; then
    fail "$2: stderr '$ERR' lacks '$3'"
  else
    ok "$2: exit $1${3:+, '$3'}"
  fi
}

SRC=$(pg_newdb swsrc)
STORE=$(pg_newdb swstore)
q "$SRC" "
CREATE TABLE loan_steps (
  application_id bigint NOT NULL, user_id text NOT NULL, step text NOT NULL,
  status text NOT NULL, error_code text, started_at timestamptz NOT NULL,
  finished_at timestamptz, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (application_id, step));"
export STEPWATCH_TOKEN_OPS=ops-secret-$RANDOM
cat >"$T/stepwatch.yaml" <<YAML
store: $STORE
http:
  listen: 127.0.0.1:0
  tokens:
    - { name: ops-bot, token_env: STEPWATCH_TOKEN_OPS, role: responder }
sources:
  app: { url: "$(pg_reader "$SRC")", statement_timeout: 5s }
workflows:
  loan:
    source: app
    poll: 200ms
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at
        FROM loan_steps WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull]
    defaults:
      sla: { p2: 1h, p1: 2h, p0: 3h }
      abandon_after: 1d
      group_by: [error]
YAML
"$SW_BIN" migrate -c "$T/stepwatch.yaml" >>"$T/migrate.log" 2>&1 || fail "migrate"
sw_start serve serve -c "$T/stepwatch.yaml"
SERVE_PID=$SW_PID
PORT=""
for _ in $(seq 100); do
  PORT=$(sed -n 's/.*msg=listening.* port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { fail "serve did not log its port"; finish; }
export STEPWATCH_URL=http://127.0.0.1:$PORT
export STEPWATCH_TOKEN=$STEPWATCH_TOKEN_OPS
export USER=tester

# five users fail bureau_pull with one error, one with another: 6 alerts, 2 incidents
q "$SRC" "INSERT INTO loan_steps
  SELECT i, 'u' || i, 'bureau_pull', 'FAILED', CASE WHEN i <= 5 THEN 'BUREAU_TIMEOUT' ELSE 'BAD_PAN' END,
         now() - interval '1 minute', now(), clock_timestamp() FROM generate_series(1, 6) i"
count_alerts() { "$SW_BIN" alerts list --json "$@" | jq '.items | length'; }
wait_eq 15 "alerts seen through the client" 6 count_alerts

# list: a table with a header and one line per alert; --json is the API's answer
run_sw alerts list
expect_rc 0 "alerts list"
expect_eq "$(wc -l <<<"$OUT")" 7 "table lines (header + 6)"
expect_eq "$(head -1 <<<"$OUT" | tr -s ' ')" "ID STATE ACKED WORKFLOW/STEP INSTANCE USER ERROR AGE" "table header"
grep -q "loan/bureau_pull" <<<"$OUT" && ok "table shows workflow/step" || fail "no workflow/step in: $OUT"
grep -qE "^[0-9]+ +INITIATED +- +loan/bureau_pull +6 +u6 +BAD_PAN +[0-9]+[smhd]$" <<<"$OUT" \
  && ok "table row of the BAD_PAN alert" || fail "no aligned BAD_PAN row in: $OUT"
run_sw alerts list --json
expect_rc 0 "alerts list --json"
expect_eq "$(jq -r '.next_cursor' <<<"$OUT")" null "--json next_cursor"
expect_eq "$(jq -r '[.items[].instance_id] | join(",")' <<<"$OUT")" "6,5,4,3,2,1" "--json newest first"

# filters
expect_eq "$(count_alerts --workflow loan --step bureau_pull)" 6 "--workflow --step"
expect_eq "$(count_alerts --user u3)" 1 "--user"
expect_eq "$(count_alerts --instance 4)" 1 "--instance"
expect_eq "$(count_alerts --state initiated)" 6 "--state (any case)"
expect_eq "$(count_alerts --state RESOLVED)" 0 "--state RESOLVED"
expect_eq "$(count_alerts --open)" 6 "--open"
expect_eq "$(count_alerts --rule failed)" 6 "--rule"
INC=$("$SW_BIN" alerts list --json --instance 1 | jq -r '.items[0].incident_id')
expect_eq "$(count_alerts --incident "$INC")" 5 "--incident"

# paging: one page of 2 has a cursor; --all follows it
run_sw alerts list --json --limit 2
expect_eq "$(jq '.items | length' <<<"$OUT")" 2 "--limit 2 page size"
[ "$(jq -r '.next_cursor' <<<"$OUT")" != null ] && ok "--limit 2 has a next_cursor" || fail "no next_cursor"
CUR=$(jq -r '.next_cursor' <<<"$OUT")
expect_eq "$(count_alerts --limit 2 --cursor "$CUR")" 2 "--cursor gives the next page"
run_sw alerts list --json --limit 2 --all
expect_rc 0 "--all --json"
expect_eq "$(jq -r '[.items[].instance_id] | join(",")' <<<"$OUT")" "6,5,4,3,2,1" "--all follows every page"
expect_eq "$(jq -r '.next_cursor' <<<"$OUT")" null "--all next_cursor"
run_sw alerts list --limit=2 --all
expect_eq "$(wc -l <<<"$OUT")" 7 "--all table lines"

# show: the alert and its history
ID=$("$SW_BIN" alerts list --json --instance 2 | jq -r '.items[0].id')
run_sw alerts show "$ID"
expect_rc 0 "alerts show"
grep -qE "^instance_id +2$" <<<"$OUT" && ok "show names the instance" || fail "show: $OUT"
grep -q "^history:" <<<"$OUT" && grep -qE "^AT +ACTOR +EVENT" <<<"$OUT" && grep -q " opened " <<<"$OUT" \
  && ok "show prints the history" || fail "show history: $OUT"
run_sw alerts show "$ID" --json
expect_eq "$(jq -r '.history[0].event' <<<"$OUT")" opened "show --json history"

# ack, ack again (conflict), resolve, resolve again (conflict)
run_sw alerts ack "$ID" --by alice --note "looking into it"
expect_rc 0 "alerts ack"
expect_eq "$OUT" "acked alert $ID, now INITIATED" "ack output"
expect_eq "$("$SW_BIN" alerts show "$ID" --json | jq -r '.acked_by')" ops-bot "acked_by is the token's name"
run_sw alerts ack "$ID"
expect_rc 1 "second ack" "HTTP 409 conflict: "
run_sw alerts resolve "$ID" --note fixed
expect_rc 0 "alerts resolve"
expect_eq "$OUT" "resolved alert $ID, now RESOLVED" "resolve output"
expect_eq "$("$SW_BIN" alerts show "$ID" --json | jq -r '.state + " " + .resolved_by')" \
  "RESOLVED user:ops-bot" "resolved by hand"
run_sw alerts resolve "$ID"
expect_rc 1 "second resolve" "409 conflict"
run_sw alerts resolve "$ID" --json
expect_eq "$OUT" "" "a failed --json call prints nothing on stdout"
expect_eq "$(count_alerts --open)" 5 "--open after the resolve"

# errors from the server
run_sw alerts show 987654
expect_rc 1 "unknown alert" "not found"
run_sw alerts ack 987654
expect_rc 1 "ack of an unknown alert" "404 not found"
STEPWATCH_TOKEN=wrong run_sw alerts list
expect_rc 1 "wrong token" "HTTP 401"
STEPWATCH_TOKEN= run_sw alerts list
expect_rc 1 "no token" "401"

# bad input to the client itself: exit 2 before any request
run_sw alerts show abc
expect_rc 2 "non-numeric id" "invalid alert id 'abc'"
run_sw alerts ack -- -5
expect_rc 2 "negative id" "invalid alert id '-5'"
run_sw alerts show 99999999999999999999
expect_rc 2 "id over int64" "invalid alert id"
run_sw alerts list --bogus
expect_rc 2 "unknown option" "unknown option '--bogus'"
run_sw alerts list --limit 0
expect_rc 2 "--limit 0" "invalid limit"
run_sw alerts list --level P9
expect_rc 2 "--level P9" "invalid level"
run_sw alerts list --state
expect_rc 2 "--state without a value" "needs a value"
run_sw alerts show
expect_rc 2 "show without an id" "missing alert id"
run_sw alerts show 1 2
expect_rc 2 "two ids" "unexpected argument '2'"
run_sw alerts frob
expect_rc 2 "unknown subcommand" "unknown subcommand 'frob'"
run_sw alerts list --url ftp://127.0.0.1/
expect_rc 2 "ftp URL" "invalid API URL"
run_sw alerts list --help
expect_rc 0 "--help"
grep -q "^usage: stepwatch alerts list" <<<"$OUT" && ok "help on stdout" || fail "help: $OUT"
run_sw incidents --help
expect_rc 0 "incidents --help"

# incidents: list, show (with its alerts), ack, resolve (closes its alerts)
run_sw incidents list
expect_rc 0 "incidents list"
expect_eq "$(wc -l <<<"$OUT")" 3 "incidents table lines (header + 2)"
expect_eq "$(head -1 <<<"$OUT" | tr -s ' ')" "ID STATE LEVEL WORKFLOW/STEP RULE OPEN TOTAL USERS LABELS ACKED AGE" \
  "incidents table header"
run_sw incidents list --json --open --workflow loan
expect_eq "$(jq '.items | length' <<<"$OUT")" 2 "incidents --open --workflow"
run_sw incidents list --json --limit 1 --all
expect_eq "$(jq '.items | length' <<<"$OUT")" 2 "incidents --all"
run_sw incidents show "$INC"
expect_rc 0 "incidents show"
grep -qE "^labels +error=BUREAU_TIMEOUT$" <<<"$OUT" && ok "incident labels" || fail "incident show: $OUT"
expect_eq "$(sed -n '/^alerts:/,$p' <<<"$OUT" | grep -cE '^[0-9]+ ')" 5 "incident show lists its alerts"
run_sw incidents ack "$INC" --by bob
expect_rc 0 "incidents ack"
run_sw incidents ack "$INC"
expect_rc 1 "second incident ack" "409 conflict"
run_sw incidents resolve "$INC" --note "partner back"
expect_rc 0 "incidents resolve"
expect_eq "$(count_alerts --incident "$INC" --open)" 0 "incident resolve closes its alerts"
expect_eq "$("$SW_BIN" incidents show "$INC" --json | jq -r '.state')" RESOLVED "incident state"
run_sw incidents show 987654
expect_rc 1 "unknown incident" "not found"
run_sw incidents show x1
expect_rc 2 "non-numeric incident id" "invalid incident id"
run_sw incidents list --level P1
expect_rc 2 "incidents take no --level" "unknown option '--level'"

# server down
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
run_sw alerts list
expect_rc 1 "server down" "cannot connect to 'http://127.0.0.1:$PORT'"
run_sw incidents resolve 1
expect_rc 1 "server down (incidents)" "cannot connect"
finish
