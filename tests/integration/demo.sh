#!/usr/bin/env bash
# demo.sh - `stepwatch demo` tells the whole story by itself: the credit-bureau outage
# becomes one incident that escalates to P1, the bureau recovers, and the alerts resolve
# by themselves. Compressed 300x so it takes about 25 seconds.
. "$(dirname "$0")/lib.bash"

rc=0
"$SW_BIN" demo --speed 300 --duration 25 --port 0 --dir "$T/demo" >"$T/demo.out" 2>"$T/demo.log" &
dpid=$!
db=$T/demo/stepwatch.db

# the dashboard's clock is the data's: /readyz gives the server's (compressed) now, which
# the dashboard uses for ages and "last 24 h"; on it nothing lies in the future and the
# 24 h window counts every alert opened so far
port=""
for _ in $(seq 200); do
  port=$(sed -n 's|^dashboard *http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/demo.out" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
for _ in $(seq 200); do
  [ "$(qs "$db" "SELECT count(*) FROM alerts" 2>/dev/null || echo 0)" -ge 20 ] && break
  sleep 0.1
done
jq_() { python3 -c "import json,sys,datetime; d=json.load(sys.stdin); print($1)"; }
now=$(curl -s "http://127.0.0.1:$port/readyz" | jq_ "d['now']")
# two simulated minutes (2 s at 60x) back: a watcher run stamps its alerts with its own
# start and commits them up to a run later, so alerts stamped just before the server's
# "now" may not be visible yet when the API is asked
srv_ms=$(python3 -c "import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp()*1000))" "$now")
now_ms=$((srv_ms - 120000))
now=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ'))" "$now_ms")
from=$(python3 -c "import datetime,sys; print((datetime.datetime.fromtimestamp(int(sys.argv[1])/1000 - 86400, datetime.timezone.utc)).strftime('%Y-%m-%dT%H:%M:%S.%fZ'))" "$now_ms")
opened=$(curl -s "http://127.0.0.1:$port/api/v1/stats/alerts?from=$from&to=$now" | jq_ "d['opened']")
expect_eq "$opened" "$(qs "$db" "SELECT count(*) FROM alerts WHERE opened_at <= $now_ms")" \
  "alerts opened in the last 24 h of the server's clock"
expect_eq "$(qs "$db" "SELECT count(*) FROM alerts WHERE occurred_at > opened_at")" 0 \
  "no alert occurred after the server's clock opened it"
[ "$(( srv_ms - $(date +%s%3N) ))" -gt 60000 ] && ok "the demo's clock runs ahead of the wall clock" \
  || fail "the demo's clock does not run ahead: now=$now"
grep -q "serverNow()" "$SW_SOURCE_DIR/src/web/app.js" && ok "the dashboard uses the server's clock" \
  || fail "app.js does not use the server's clock"

wait "$dpid" || rc=$?
expect_eq "$rc" 0 "demo exit code"
grep -q "^store: sqlite://$T/demo/stepwatch.db" "$T/demo.out" && ok "config printed" || fail "config not printed"
grep -q "auto-resolved" "$T/demo.out" && ok "live summary shown" || fail "no summary"
# one incident for the outage, escalated to P1, with many users
expect_eq "$(qs "$db" "SELECT count(*) FROM incidents WHERE group_key LIKE '%bureau_pull/failed{error=\"BUREAU_TIMEOUT\"}'")" 1 \
  "one BUREAU_TIMEOUT incident"
n=$(qs "$db" "SELECT affected_users FROM incidents WHERE group_key LIKE '%BUREAU_TIMEOUT%'")
[ "${n:-0}" -ge 50 ] && ok "outage incident affects $n users" || fail "outage incident affects only '${n}' users"
p1=$(qs "$db" "SELECT count(DISTINCT h.alert_id) FROM alert_history h JOIN alerts a ON a.id = h.alert_id
                WHERE a.error = 'BUREAU_TIMEOUT' AND h.to_state = 2")
[ "${p1:-0}" -ge 10 ] && ok "$p1 outage alerts reached P1" || fail "outage alerts at P1: '$p1'"
res=$(qs "$db" "SELECT count(*) FROM alerts WHERE error = 'BUREAU_TIMEOUT' AND resolved_by = 'resolver'")
[ "${res:-0}" -ge 50 ] && ok "$res outage alerts auto-resolved" || fail "auto-resolved outage alerts: '$res'"
# notifications went to the demo's own receiver, and the screen showed them
grep -qE '^notifications +[1-9][0-9]* received at http://127.0.0.1:[0-9]+/' "$T/demo.out" \
  && ok "notifications received" || fail "no notifications on the screen"
grep -qE '^  [0-9:]{8}  support +\[P2\] loan_application/[a-z_]+ opened: [0-9]+ users? affected' "$T/demo.out" \
  && ok "a first message shown" || fail "no first message shown"
expect_eq "$(qs "$db" "SELECT count(*) FROM outbox o JOIN incidents i ON i.id = o.incident_id
    WHERE i.group_key LIKE '%BUREAU_TIMEOUT%' AND o.receiver = 'support' AND o.event = 'opened'
      AND o.status = 'sent'")" 1 "the outage's first message sent to support, once"
n=$(qs "$db" "SELECT count(*) FROM outbox WHERE status = 'sent' AND event = 'escalated' AND receiver = 'tech'")
[ "${n:-0}" -ge 1 ] && ok "tech heard of $n escalations to P1" || fail "tech heard of no escalation"
# the config it wrote is a real one
"$SW_BIN" check -c "$T/demo/stepwatch.yaml" >"$T/check.log" 2>&1 && ok "demo config passes check" \
  || fail "demo config fails check: $(cat "$T/check.log")"
# bad options
rc=0; "$SW_BIN" demo --speed 0 >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "demo --speed 0"
rc=0; "$SW_BIN" demo --dir "$T/demo" --duration 1 --port 0 >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "demo into a used --dir"
finish
