#!/usr/bin/env bash
# api.sh - the HTTP API of the real binary, fed by a real watcher on a PostgreSQL source:
# tokens and roles, lists, detail with history, ack/resolve with their conflicts, incident
# resolve, the instance timeline, the user view, and hostile input on the wire.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swapi)
q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
export SW_TOK_VIEW=view-secret-1 SW_TOK_RESP=resp-secret-2 SW_TOK_ADMIN=admin-secret-3
cat >"$T/cfg.yaml" <<YAML
store: sqlite://$T/store.db
http:
  listen: 127.0.0.1:0
  tokens:
    - { name: dash, token_env: SW_TOK_VIEW, role: viewer }
    - { name: ops-bot, token_env: SW_TOK_RESP, role: responder }
    - { name: root, token_env: SW_TOK_ADMIN, role: admin }
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
B=http://127.0.0.1:$port
# call METHOD PATH TOKEN [BODY] -> prints "STATUS BODY"
call() {
  local out code
  out=$(curl -s -w '\n%{http_code}' -X "$1" ${3:+-H "Authorization: Bearer $3"} \
        ${4:+-H 'Content-Type: application/json' --data-binary "$4"} "$B$2")
  code=${out##*$'\n'}
  echo "$code ${out%$'\n'*}"
}
status() { call "$@" | cut -d' ' -f1; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

q "$SRC" "INSERT INTO loan_steps SELECT i, 'u' || (i % 7), 'bureau_pull', 'FAILED', 'BUREAU_TIMEOUT',
            now(), now(), clock_timestamp() FROM generate_series(1, 25) i"
wait_eq 10 "alerts listed" 25 bash -c "curl -s -H 'Authorization: Bearer $SW_TOK_VIEW' '$B/api/v1/alerts?limit=1000' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"items\"]))'"

# tokens and roles
expect_eq "$(status GET /api/v1/alerts)" 401 "no token"
expect_eq "$(status GET /api/v1/alerts wrong-token)" 401 "wrong token"
expect_eq "$(status POST /api/v1/alerts/1/resolve "$SW_TOK_VIEW" '{}')" 403 "viewer resolving"
expect_eq "$(status GET /healthz)" 200 "healthz needs no token"

# pages of 10 walk all 25, newest first, no duplicates
page=$(call GET "/api/v1/alerts?limit=10" "$SW_TOK_VIEW" | cut -d' ' -f2-)
ids=$(jq_ "' '.join(str(a['id']) for a in d['items'])" <<<"$page")
cur=$(jq_ "d['next_cursor']" <<<"$page")
page=$(call GET "/api/v1/alerts?limit=10&cursor=$cur" "$SW_TOK_VIEW" | cut -d' ' -f2-)
ids="$ids $(jq_ "' '.join(str(a['id']) for a in d['items'])" <<<"$page")"
cur=$(jq_ "d['next_cursor']" <<<"$page")
page=$(call GET "/api/v1/alerts?limit=10&cursor=$cur" "$SW_TOK_VIEW" | cut -d' ' -f2-)
ids="$ids $(jq_ "' '.join(str(a['id']) for a in d['items'])" <<<"$page")"
expect_eq "$(jq_ "d['next_cursor']" <<<"$page")" None "last page has no cursor"
expect_eq "$(tr ' ' '\n' <<<"$ids" | sort -u | wc -l)" 25 "three pages, 25 distinct alerts"

# filters, including hostile ones
expect_eq "$(call GET "/api/v1/alerts?user_id=u3&limit=100" "$SW_TOK_VIEW" | cut -d' ' -f2- | jq_ "len(d['items'])")" 4 \
  "user filter"
expect_eq "$(call GET "/api/v1/alerts?workflow=x%27%3B%20DROP%20TABLE%20alerts%3B--" "$SW_TOK_VIEW" | cut -d' ' -f2- | jq_ "len(d['items'])")" 0 \
  "SQL in a filter is just a value"
expect_eq "$(qs "$T/store.db" "SELECT count(*) FROM alerts")" 25 "alerts table intact"
expect_eq "$(status GET "/api/v1/alerts?limit=0" "$SW_TOK_VIEW")" 400 "limit 0"
expect_eq "$(status GET "/api/v1/alerts?limit=1001" "$SW_TOK_VIEW")" 400 "limit 1001"
expect_eq "$(status GET "/api/v1/alerts?cursor=%%%" "$SW_TOK_VIEW")" 400 "bad cursor"
expect_eq "$(status GET "/api/v1/alerts?colour=red" "$SW_TOK_VIEW")" 400 "unknown parameter"
expect_eq "$(status GET /api/v1/alerts/999999 "$SW_TOK_VIEW")" 404 "unknown id"

# detail, ack, resolve
id=$(jq_ "d['items'][0]['id']" <<<"$page")
detail=$(call GET "/api/v1/alerts/$id" "$SW_TOK_VIEW" | cut -d' ' -f2-)
expect_eq "$(jq_ "d['history'][0]['event']" <<<"$detail")" opened "history starts with opened"
expect_eq "$(jq_ "d['state']" <<<"$detail")" INITIATED "state"
expect_eq "$(status POST "/api/v1/alerts/$id/ack" "$SW_TOK_RESP" '{"note":"looking"}')" 200 "ack"
expect_eq "$(status POST "/api/v1/alerts/$id/ack" "$SW_TOK_RESP" '{"note":"again"}')" 409 "second ack"
expect_eq "$(status POST "/api/v1/alerts/$id/resolve" "$SW_TOK_RESP" '{"note":"fixed by hand"}')" 200 "resolve"
expect_eq "$(status POST "/api/v1/alerts/$id/resolve" "$SW_TOK_RESP" '{}')" 409 "second resolve"
detail=$(call GET "/api/v1/alerts/$id" "$SW_TOK_VIEW" | cut -d' ' -f2-)
expect_eq "$(jq_ "d['resolved_by'] + ' ' + d['acked_by']" <<<"$detail")" "user:ops-bot ops-bot" "actors are token names"
expect_eq "$(jq_ "[h['event'] for h in d['history']]" <<<"$detail")" "['opened', 'acked', 'resolved']" "history rows"

# bad bodies
expect_eq "$(status POST "/api/v1/alerts/$id/ack" "$SW_TOK_RESP" '{"note":')" 400 "malformed JSON"
bad=$(call POST "/api/v1/alerts/$id/ack" "$SW_TOK_RESP" '{"note":')
expect_eq "$(grep -c offset <<<"$bad")" 1 "400 names the offset"
expect_eq "$(status POST "/api/v1/alerts/$id/ack" "$SW_TOK_RESP" '{"colour":"red"}')" 422 "unknown field"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SW_TOK_RESP" \
  -H 'Content-Type: application/json' --data-binary @"$T/big" "$B/api/v1/step-records")" 413 "2 MB body"

# the incident: resolve by hand closes its alerts
inc=$(jq_ "d['incident_id']" <<<"$detail")
expect_eq "$(call GET "/api/v1/incidents/$inc" "$SW_TOK_VIEW" | cut -d' ' -f2- | jq_ "d['open_alerts']")" 24 "incident open alerts"
expect_eq "$(status POST "/api/v1/incidents/$inc/resolve" "$SW_TOK_RESP" '{"note":"bureau is back"}')" 200 "incident resolve"
expect_eq "$(qs "$T/store.db" "SELECT count(*) FROM alerts WHERE resolved_by = 'incident'")" 24 "alerts resolved by incident"
expect_eq "$(call GET "/api/v1/incidents/$inc" "$SW_TOK_VIEW" | cut -d' ' -f2- | jq_ "d['state']")" RESOLVED "incident resolved"

# timeline and user view
expect_eq "$(call GET /api/v1/instances/loan/3 "$SW_TOK_VIEW" | cut -d' ' -f1)" 200 "instance timeline"
expect_eq "$(status GET /api/v1/instances/loan/nope "$SW_TOK_VIEW")" 404 "unknown instance"
expect_eq "$(call GET /api/v1/users/u3 "$SW_TOK_VIEW" | cut -d' ' -f2- | jq_ "len(d['alerts'])")" 4 "user view alerts"

# one record check on both ways in: a record with a null started_at is refused when pushed
# (422) and when polled (logged, counted, no alert); the same record with started_at is
# accepted both ways and opens an alert each
rec() { # instance started_at(JSON) -> a pushed body
  echo "[{\"workflow\":\"loan\",\"instance_id\":\"$1\",\"user_id\":\"u$1\",\"step\":\"kyc\",\"status\":\"FAILED\",\"error\":\"NO_START\",\"started_at\":$2,\"updated_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]"
}
pushed=$(call POST /api/v1/step-records "$SW_TOK_RESP" "$(rec 9001 null)")
expect_eq "${pushed%% *}" 422 "push refuses a null started_at"
q "$SRC" "INSERT INTO loan_steps VALUES (9002, 'u9002', 'kyc', 'FAILED', 'NO_START', NULL, NULL, clock_timestamp())"
wait_eq 10 "poll refuses a null started_at" 1 grep -c 'msg="rejected step records" workflow=loan rejected=1 first_reason="started_at is null or not a timestamp"' "$T/serve.log"
# the overlap window (10s) re-reads the row at every poll (100ms): refused, not logged again
sleep 1.5
expect_eq "$(grep -c 'msg="rejected step records"' "$T/serve.log")" 1 "a refused row is logged once, not at every re-read"
expect_eq "$(status POST /api/v1/step-records "$SW_TOK_RESP" "$(rec 9003 "\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"")")" 200 "push accepts it with started_at"
q "$SRC" "INSERT INTO loan_steps VALUES (9004, 'u9004', 'kyc', 'FAILED', 'NO_START', now(), NULL, clock_timestamp())"
wait_eq 10 "both accepted records opened alerts, the refused ones none" "9003 9004" \
  bash -c "curl -s -H 'Authorization: Bearer $SW_TOK_VIEW' '$B/api/v1/alerts?limit=1000' | python3 -c 'import json,sys; print(\" \".join(sorted(a[\"instance_id\"] for a in json.load(sys.stdin)[\"items\"] if a[\"error\"] == \"NO_START\")))'"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
finish
