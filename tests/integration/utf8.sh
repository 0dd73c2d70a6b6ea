#!/usr/bin/env bash
# utf8.sh - a SQLite source may hold any bytes in text columns: ids, errors and user ids
# that are not valid UTF-8 must come out of every view as JSON strings (invalid bytes as
# U+FFFD, as in the alert list), never as a missing field or a 500.
. "$(dirname "$0")/lib.bash"

qs "$T/app.db" "CREATE TABLE steps (instance_id TEXT, user_id TEXT, step TEXT, status TEXT,
    error TEXT, started_at TEXT, finished_at TEXT, updated_at TEXT);
  INSERT INTO steps VALUES (CAST(X'69FF' AS TEXT), CAST(X'75FE' AS TEXT), 'a', 'FAILED',
    CAST(X'45FF52' AS TEXT), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"
cat >"$T/cfg.yaml" <<YAML
store: sqlite://$T/store.db
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
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
wait_eq 10 "listening" 1 grep -c "msg=listening" "$T/serve.log"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
B=http://127.0.0.1:$port
wait_eq 10 "alert opened" 1 bash -c "curl -s '$B/api/v1/alerts' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"items\"]))'"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

out=$(curl -s "$B/api/v1/instances/w/i%FF")
expect_eq "$(py "ascii((d['instance_id'], d['user_id'], d['steps'][0]['error']))" <<<"$out")" \
  "('i\ufffd', 'u\ufffd', 'E\ufffdR')" "instance view keeps its ids and error"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v1/users/u%FE")" 200 "user view answers"
out=$(curl -s "$B/api/v1/users/u%FE")
expect_eq "$(py "ascii((d['user_id'], d['alerts'][0]['instance_id']))" <<<"$out")" \
  "('u\ufffd', 'i\ufffd')" "user view ids"
out=$(curl -s -H 'Content-Type: application/json' -d '{}' "$B/api/v1/alerts/1/ack")
expect_eq "$(py "ascii((d['instance_id'], d['user_id'], d['error']))" <<<"$out")" \
  "('i\ufffd', 'u\ufffd', 'E\ufffdR')" "ack answer keeps its fields"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
finish
