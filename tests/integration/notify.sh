#!/usr/bin/env bash
# notify.sh - notifications end to end: the real binary, a SQLite source and store, and a
# local HTTP receiver on loopback (hook_receiver.py) that counts messages and fails on
# demand.
#   a 500-user outage at one step: per receiver exactly the expected messages (the first
#     after group_wait, one per level raise, one on resolve), each with its own key;
#   a receiver answering 503 then 200 gets each message once more with the same key;
#   a hanging receiver does not delay another's messages;
#   a receiver answering 410 is unhealthy in /readyz and /metrics, its message failed;
#   GET /api/v1/notifications lists the deliveries; "notified" rows in the alert history;
#   a silence mutes a new incident and its end releases the first message;
#   kill -9 between a receiver's 2xx and the mark "sent": at most one duplicate, same key;
#   stepwatch notify test RECEIVER prints the receiver's answer.
. "$(dirname "$0")/lib.bash"

HOOKS=$T/hooks.jsonl
touch "$HOOKS"
python3 "$SW_SOURCE_DIR/tests/integration/hook_receiver.py" "$T/hook.port" "$HOOKS" "$T/sw.pid" \
  >"$T/hook.log" 2>&1 &
HOOK_PID=$!
trap 'kill $HOOK_PID 2>/dev/null || true; cleanup' EXIT
wait_eq 10 "receiver listening" 1 bash -c "test -s '$T/hook.port' && echo 1"
HP=$(cat "$T/hook.port")
H=http://127.0.0.1:$HP

# hooks PY_EXPR_OVER_RECORDS [PATH_PREFIX]: evaluate over the logged requests r (a list)
hooks() {
  python3 - "$HOOKS" "$1" "${2:-}" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if sys.argv[3]:
    rs = [r for r in rs if r["path"].startswith(sys.argv[3])]
ev = lambda r: r["body"]["data"]["event"] if isinstance(r["body"], dict) else "?"
inc = lambda r: r["body"]["data"]["incident_id"] if isinstance(r["body"], dict) else 0
print(eval(sys.argv[2]))
PY
}
now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

qs "$T/app.db" "CREATE TABLE steps (instance_id TEXT, user_id TEXT, step TEXT, status TEXT,
    error TEXT, started_at TEXT, finished_at TEXT, updated_at TEXT)"
write_cfg() {
  cat >"$T/sw.yaml" <<YAML
store: "sqlite://$T/store.db"
http: { listen: 127.0.0.1:0 }
sources:
  app: { url: "sqlite://$T/app.db" }
workflows:
  w:
    source: app
    poll: 200ms
    steps_query: SELECT * FROM steps WHERE updated_at > :since ORDER BY updated_at
    steps: [a, b, c, d]
    defaults:
      sla: { p2: 2s, p1: 10s, p0: 1h }
      stuck_after: 1h
      abandon_after: 7d
levels:
  P2: { notify: [support, slow$1] }
  P1: { notify: [tech, gone] }
  P0: { notify: [product] }
receivers:
  support: { webhook: { url: "$H/ok/support" } }
  slow: { webhook: { url: "$H/hang" } }
  tech: { webhook: { url: "$H/flaky/tech" }, roster: oncall }
  gone: { webhook: { url: "$H/gone" } }
  product: { webhook: { url: "$H/ok/product" } }
  killer: { webhook: { url: "$H/kill" } }
notify: { group_wait: 6s, group_interval: 1h, repeat_interval: 1h }
rosters:
  oncall: { members: [asha, ben], rotation: 1w, start: 2026-01-05T09:00:00Z }
YAML
}
start_sw() {
  sw_start serve serve -c "$T/sw.yaml"
  echo "$SW_PID" >"$T/sw.pid"
  wait_eq 20 "listening ($1)" "$1" grep -c "msg=listening" "$T/serve.log"
  PORT=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | tail -1)
  B=http://127.0.0.1:$PORT
}
write_cfg ""
start_sw 1

# stepwatch notify test
out=$("$SW_BIN" notify test support -c "$T/sw.yaml" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 0 "notify test: exit code"
expect_eq "$(grep -c '^outcome: sent' <<<"$out")" 1 "notify test: outcome printed"
expect_eq "$(hooks "[ev(r) for r in rs]" /ok/support)" "['test']" "notify test: the receiver got it"
: >"$HOOKS"
out=$("$SW_BIN" notify test gone -c "$T/sw.yaml" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "notify test of a 410 receiver: exit code"
expect_eq "$(grep -c '^status: 410' <<<"$out")" 1 "notify test: status printed"
"$SW_BIN" notify test nosuch -c "$T/sw.yaml" >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" 2 "notify test of an unknown receiver: exit code"
: >"$HOOKS"

# a 500-user outage at step b, one commit
T0=$(date +%s.%N)
qs "$T/app.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
  INSERT INTO steps SELECT 'i' || i, 'u' || i, 'b', 'FAILED', 'BUREAU_TIMEOUT',
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM n"
wait_eq 15 "one incident of 500 users" "1|500" qs "$T/store.db" \
  "SELECT count(*), max(affected_users) FROM incidents WHERE state = 'OPEN'"
wait_eq 20 "support: opened" "['opened']" hooks "[ev(r) for r in rs]" /ok/support
first=$(hooks "min(r['t'] for r in rs)" /ok/support)
opened=$(qs "$T/store.db" "SELECT opened_at FROM incidents")
el=$(python3 -c "print(int($first * 1000 - $opened))")
if [ "$el" -ge 6000 ] && [ "$el" -le 9000 ]; then ok "first message after group_wait (${el} ms)"
else fail "first message ${el} ms after the incident opened (group_wait 6s)"; fi
expect_eq "$(hooks "rs[0]['body']['data']['level'], rs[0]['body']['data']['affected_users']" /ok/support)" \
  "('ESCALATION_P2', 500)" "support: the opened message's level and users"
expect_eq "$(hooks "rs[0]['body']['data']['conversion']" /ok/support)" \
  "{'last_hour': 0.0, 'usual': None}" "support: the step's conversion (none of 500 passed; no usual rate yet)"
# the hanging receiver got its copy at the same time, never answered, and held up no one
wait_eq 5 "slow: the hanging receiver was asked" True hooks "len(rs) >= 1" /hang
expect_eq "$(python3 -c "print(abs($(hooks "min(r['t'] for r in rs)" /hang) - $first) < 2)")" True \
  "support's first message went out beside the hanging one, not after it"

wait_eq 20 "support: escalated" "['opened', 'escalated']" hooks "[ev(r) for r in rs]" /ok/support
wait_eq 15 "tech: escalated, 503 then 200 with one key" "(2, 1)" \
  hooks "len(rs), len(set(r['id'] for r in rs))" /flaky/tech
expect_eq "$(hooks "rs[-1]['body']['data']['oncall'] in ('asha', 'ben')" /flaky/tech)" True \
  "tech: the message names who is on call"
wait_eq 10 "gone: failed with 410" "failed|410" qs "$T/store.db" \
  "SELECT status, last_status FROM outbox WHERE receiver = 'gone'"
wait_eq 5 "readyz: receiver gone unhealthy" "False" bash -c \
  "curl -s $B/readyz | python3 -c 'import json,sys; d=json.load(sys.stdin); print([c for c in d[\"components\"] if c[\"name\"]==\"receiver:gone\"][0][\"ok\"])'"
expect_eq "$(curl -s "$B/metrics" | grep -c '^stepwatch_receiver_healthy{receiver="gone"} 0')" 1 \
  "metrics: receiver gone unhealthy"
expect_eq "$(curl -s "$B/metrics" | grep -c '^stepwatch_notifications_sent_total{receiver="support"} 2')" 1 \
  "metrics: sent per receiver"

# recovery: every user succeeds at b -> resolved
qs "$T/app.db" "UPDATE steps SET status = 'SUCCESS', error = NULL,
  updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE step = 'b'"
wait_eq 20 "support: resolved" "['opened', 'escalated', 'resolved']" hooks "[ev(r) for r in rs]" /ok/support
wait_eq 20 "tech: escalated and resolved, each twice with one key" "(4, 2, [2, 2])" \
  hooks "len(rs), len(set(r['id'] for r in rs)), sorted([sum(1 for x in rs if x['id'] == i) for i in set(r['id'] for r in rs)])" /flaky/tech
sleep 3
expect_eq "$(hooks "len(rs), len(set(r['id'] for r in rs))" /ok/support)" "(3, 3)" \
  "support: exactly three messages, three keys"
expect_eq "$(hooks "len(rs)" /ok/product)" 0 "product (P0): nothing"
expect_eq "$(hooks "[r['body']['data']['summary'] for r in rs][2].startswith('resolved after')" /ok/support)" True \
  "resolved message says so"
out=$(curl -s "$B/api/v1/notifications?receiver=support")
expect_eq "$(python3 -c "import json,sys; d=json.load(sys.stdin); print([(i['event'], i['status'], i['attempts']) for i in d['items']])" <<<"$out")" \
  "[('resolved', 'sent', 1), ('escalated', 'sent', 1), ('opened', 'sent', 1)]" "API: support's deliveries"
expect_eq "$(python3 -c "import json,sys; d=json.load(sys.stdin); print(sorted(i['idempotency_key'] for i in d['items']))" <<<"$out")" \
  "$(hooks "sorted(r['id'] for r in rs)" /ok/support)" "API: keys are the webhook-ids"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v1/notifications?status=bogus")" 400 \
  "API: bad status is 400"
n=$(qs "$T/store.db" "SELECT count(*) FROM alert_history WHERE event = 'notified' AND reason LIKE '%to support%'")
if [ "$n" -ge 1000 ]; then ok "notified history rows ($n)"; else fail "notified history rows: $n"; fi

# a silence mutes a new incident; its end releases the first message
sil=$(curl -s -H 'Content-Type: application/json' \
  -d "{\"workflow\": \"w\", \"step\": \"c\", \"ends_at\": \"2099-01-01T00:00:00Z\"}" "$B/api/v1/silences" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
qs "$T/app.db" "INSERT INTO steps VALUES ('s1', 'v1', 'c', 'FAILED', 'PARTNER_DOWN',
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
wait_eq 15 "silenced incident muted" "1" qs "$T/store.db" \
  "SELECT muted FROM notify_state n JOIN incidents i ON i.id = n.incident_id WHERE i.step = 'c'"
sleep 8 # past group_wait and p2
expect_eq "$(hooks "len([r for r in rs if ev(r) != 'resolved' and r['body']['data']['step'] == 'c'])" /ok/support)" 0 \
  "silence: nothing sent"
curl -s -X DELETE "$B/api/v1/silences/$sil" >/dev/null
wait_eq 10 "silence ended: opened" "['opened']" hooks "[ev(r) for r in rs if r['body']['data']['step'] == 'c']" /ok/support
# acknowledged through the API: one message saying who
inc2=$(qs "$T/store.db" "SELECT id FROM incidents WHERE step = 'c'")
curl -s -H 'Content-Type: application/json' -d '{"by": "asha"}' "$B/api/v1/incidents/$inc2/ack" >/dev/null
# (it may have reached P1 meanwhile: an escalated message before it)
wait_eq 10 "acknowledged: one message" "1" \
  hooks "[ev(r) for r in rs if r['body']['data']['step'] == 'c'].count('acknowledged')" /ok/support
expect_eq "$(hooks "[r['body']['data']['summary'] for r in rs if ev(r) == 'acknowledged'][0].startswith('acknowledged by anonymous')" /ok/support)" \
  True "the acknowledgement says who (the caller; no tokens here)"

# kill -9 between the receiver's 2xx and the mark "sent"
kill -TERM "$SW_PID"; wait "$SW_PID" || true
write_cfg ", killer"
start_sw 2
qs "$T/app.db" "INSERT INTO steps VALUES ('k1', 'x1', 'd', 'FAILED', 'KILLED',
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
wait_eq 30 "killer got the message" "1" hooks "len(rs)" /kill
pid=$SW_PID
wait_eq 10 "the receiver killed stepwatch" "gone" bash -c "kill -0 $pid 2>/dev/null && echo alive || echo gone"
wait "$pid" 2>/dev/null || true
start_sw 3
# (the killer may have been told of the silenced incident's escalation first: any message)
wait_eq 40 "killer's messages all sent after the restart" "0" qs "$T/store.db" \
  "SELECT count(*) FROM outbox WHERE receiver = 'killer' AND status <> 'sent'"
wait_eq 20 "killer: the step d incident's message arrived" "True" \
  hooks "any(r['body']['data']['step'] == 'd' for r in rs)" /kill
# (usually twice: once before the kill, once after the lease; once if the mark won the race)
expect_eq "$(hooks "max(sum(1 for x in rs if x['id'] == r['id']) for r in rs) <= 2" /kill)" "True" \
  "killer: the message in flight at the kill came at most once more, with the same key"
log "killer: deliveries per key $(hooks "sorted(sum(1 for x in rs if x['id'] == i) for i in set(r['id'] for r in rs))" /kill)"
expect_eq "$(hooks "sorted(sum(1 for x in rs if x['id'] == i) for i in set(r['id'] for r in rs))[:-1] == [1] * (len(set(r['id'] for r in rs)) - 1)" /kill)" \
  "True" "killer: every other message exactly once"
expect_eq "$(hooks "len(set(r['id'] for r in rs))" /kill)" \
  "$(qs "$T/store.db" "SELECT count(*) FROM outbox WHERE receiver = 'killer'")" \
  "killer: one key per outbox row"

kill -TERM "$SW_PID"
rc=0; wait "$SW_PID" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
finish
