#!/usr/bin/env bash
# utf8.sh - a SQLite source may hold any bytes in text columns: ids, errors and user ids
# that are not valid UTF-8 are read with U+FFFD in place of each invalid byte, so they
# neither wedge the watcher on a PostgreSQL store (which refuses such text) nor come out of
# a view as a missing field or a 500; on either store. Invalid UTF-8 sent by a client in a
# filter or a path is a 400, on either store (PostgreSQL would refuse it as a parameter).
. "$(dirname "$0")/lib.bash"

qs "$T/app.db" "CREATE TABLE steps (instance_id TEXT, user_id TEXT, step TEXT, status TEXT,
    error TEXT, started_at TEXT, finished_at TEXT, updated_at TEXT);
  INSERT INTO steps VALUES (CAST(X'69FF' AS TEXT), CAST(X'75FE' AS TEXT), 'a', 'FAILED',
    CAST(X'45FF52' AS TEXT), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
  INSERT INTO steps VALUES ('ok1', 'u1', 'a', 'FAILED', 'E', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%S.100Z', 'now'))"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
FFFD=%EF%BF%BD

# run NAME STORE_URL
run() {
  local name=$1 store=$2 pid port B out
  cat >"$T/$name.yaml" <<YAML
store: "$store"
http: { listen: 127.0.0.1:0 }
sources:
  app: { url: "sqlite://$T/app.db" }
workflows:
  w:
    source: app
    poll: 100ms
    steps_query: SELECT * FROM steps WHERE updated_at > :since ORDER BY updated_at
    steps: [a, b]
YAML
  sw_start "$name" serve -c "$T/$name.yaml"; pid=$SW_PID
  wait_eq 10 "$name: listening" 1 grep -c "msg=listening" "$T/$name.log"
  port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/$name.log" | head -1)
  B=http://127.0.0.1:$port
  wait_eq 10 "$name: both alerts opened" 2 bash -c "curl -s '$B/api/v1/alerts' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"items\"]))'"

  out=$(curl -s "$B/api/v1/instances/w/i$FFFD")
  expect_eq "$(py "ascii((d['instance_id'], d['user_id'], d['steps'][0]['error']))" <<<"$out")" \
    "('i\ufffd', 'u\ufffd', 'E\ufffdR')" "$name: instance view keeps its ids and error"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v1/users/u$FFFD")" 200 "$name: user view answers"
  out=$(curl -s "$B/api/v1/users/u$FFFD")
  expect_eq "$(py "ascii((d['user_id'], d['alerts'][0]['instance_id']))" <<<"$out")" \
    "('u\ufffd', 'i\ufffd')" "$name: user view ids"
  out=$(curl -s "$B/api/v1/alerts?instance_id=i$FFFD")
  id=$(py "d['items'][0]['id']" <<<"$out")
  out=$(curl -s -H 'Content-Type: application/json' -d '{}' "$B/api/v1/alerts/$id/ack")
  expect_eq "$(py "ascii((d['instance_id'], d['user_id'], d['error']))" <<<"$out")" \
    "('i\ufffd', 'u\ufffd', 'E\ufffdR')" "$name: ack answer keeps its fields"

  for p in "/api/v1/alerts?user_id=%FF" "/api/v1/alerts?workflow=%C3%28" \
           "/api/v1/incidents?workflow=%FF" "/api/v1/users/%FF" "/api/v1/instances/w/i%FF"; do
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B$p")" 400 "$name: invalid UTF-8 in $p"
  done
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v1/alerts")" 200 "$name: still serving"

  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  expect_eq "$rc" 0 "$name: exit code after SIGTERM"
}

run sqlite "sqlite://$T/store.db"
run postgres "$(pg_newdb swutf8)"
finish
