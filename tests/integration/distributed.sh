#!/usr/bin/env bash
# distributed.sh - distributed mode (SPEC section 6) end to end: a PostgreSQL source and
# store, Redis as the broker; two `serve` and one `worker`:
#   exactly one leader; 100 failures -> exactly 100 alerts, one 'opened' row each,
#   escalations by SLA; kill -9 the leader -> the other serve takes over within ~15 s and
#   new failures are detected; kill -9 the worker mid-run -> nothing lost or duplicated.
#   `worker --help` exits 0; `worker` without broker exits 2.
. "$(dirname "$0")/lib.bash"

: "${STEPWATCH_TEST_REDIS:?STEPWATCH_TEST_REDIS must name the test Redis}"
# a db index of its own per run, flushed first
R_BASE=${STEPWATCH_TEST_REDIS%/*}
R_DB=$(( (RANDOM % 14) + 1 ))
REDIS="$R_BASE/$R_DB"
R_HOSTPORT=${R_BASE#redis://}
R_HOSTPORT=${R_HOSTPORT#*@}
rc() { redis-cli -h "${R_HOSTPORT%:*}" -p "${R_HOSTPORT#*:}" -n "$R_DB" "$@"; }
rc FLUSHDB >/dev/null

# usage checks
code=0; "$SW_BIN" worker --help >"$T/help.out" 2>&1 || code=$?
expect_eq "$code" 0 "worker --help exit code"
grep -q "usage: stepwatch worker" "$T/help.out" || fail "worker --help prints the usage"

SRC=$(pg_newdb swsrc)
STORE=$(pg_newdb swstore)
q "$SRC" "
CREATE TABLE loan_steps (
  application_id bigint NOT NULL, user_id text NOT NULL, step text NOT NULL,
  status text NOT NULL, error_code text, started_at timestamptz NOT NULL,
  finished_at timestamptz, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (application_id, step));
CREATE INDEX ON loan_steps (updated_at);"

write_cfg() { # FILE BROKERLINE
  cat >"$1" <<YAML
store: $STORE
$2
http:
  listen: 127.0.0.1:0
sources:
  app: { url: "$(pg_reader "$SRC")", statement_timeout: 5s }
workflows:
  loan:
    source: app
    poll: 300ms
    overlap: 2s
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at
        FROM loan_steps WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull]
    defaults:
      sla: { p2: 3s, p1: 6s, p0: 1h }
      stuck_after: 1h
      abandon_after: 1h
YAML
}
write_cfg "$T/nobroker.yaml" ""
code=0; "$SW_BIN" worker -c "$T/nobroker.yaml" >"$T/nobroker.out" 2>&1 || code=$?
expect_eq "$code" 2 "worker without broker exit code"
grep -q "no broker" "$T/nobroker.out" || fail "worker without broker says why"

cfg=$T/stepwatch.yaml
write_cfg "$cfg" "broker: $REDIS"
"$SW_BIN" migrate -c "$cfg" >>"$T/migrate.log" 2>&1 || fail "migrate"
sw_start serve1 serve -c "$cfg"; S1=$SW_PID
sw_start serve2 serve -c "$cfg"; S2=$SW_PID
sw_start worker1 worker -c "$cfg"; W1=$SW_PID

leader_pid() { # the pid of the serve holding the lease (node id host:pid:rand)
  local v; v=$(rc GET stepwatch:leader); v=${v#*:}; echo "${v%%:*}"
}
wait_eq 10 "one serve is leader" yes bash -c "p=\$(redis-cli -h '${R_HOSTPORT%:*}' -p '${R_HOSTPORT#*:}' -n $R_DB GET stepwatch:leader | cut -d: -f2); [ \"\$p\" = $S1 ] || [ \"\$p\" = $S2 ] && echo yes"
LEADER=$(leader_pid)
sleep 1
expect_eq "$(leader_pid)" "$LEADER" "the leader holds its lease"
expect_eq "$(grep -c 'leader: running the scheduler' "$T/serve1.log" "$T/serve2.log" | awk -F: '{s+=$2} END {print s}')" 1 \
  "exactly one serve became leader"

failures() { # FROM TO
  q "$SRC" "INSERT INTO loan_steps
    SELECT i, 'u' || i, s.step, s.status, s.err, now() - interval '1 s', now(), clock_timestamp()
      FROM generate_series($1, $2) i,
           (VALUES ('kyc', 'SUCCESS', NULL), ('bureau_pull', 'FAILED', 'BUREAU_TIMEOUT')) s(step, status, err)"
}
failures 1 100
wait_eq 15 "alerts for 100 failures" 100 q "$STORE" "SELECT count(*) FROM alerts"
wait_eq 20 "escalated to P1" 100 q "$STORE" "SELECT count(*) FROM alerts WHERE state = 2"

# kill -9 the worker mid-run, while new failures arrive: nothing lost or duplicated
failures 101 150
sleep 0.3
kill -9 "$W1"; wait "$W1" 2>/dev/null || true
wait_eq 15 "alerts after the worker was killed" 150 q "$STORE" "SELECT count(*) FROM alerts"
sw_start worker2 worker -c "$cfg"; W2=$SW_PID

# kill -9 the leader: the other serve takes the lease once it expires and schedules
if [ "$LEADER" = "$S1" ]; then OTHER=$S2; else OTHER=$S1; fi
kill -9 "$LEADER"; wait "$LEADER" 2>/dev/null || true
wait_eq 16 "the other serve took over the lease" "$OTHER" leader_pid
failures 151 200
wait_eq 15 "new failures detected after the failover" 200 q "$STORE" "SELECT count(*) FROM alerts"
wait_eq 20 "every alert escalated to P1" 200 q "$STORE" "SELECT count(*) FROM alerts WHERE state = 2"

expect_eq "$(q "$STORE" "SELECT count(*) FROM (SELECT workflow, instance_id, step FROM alerts
    GROUP BY 1, 2, 3 HAVING count(*) <> 1) x")" 0 "one alert per failed step"
expect_eq "$(q "$STORE" "SELECT count(*) FROM alerts a WHERE (SELECT count(*) FROM alert_history h
    WHERE h.alert_id = a.id AND h.event = 'opened') <> 1")" 0 "exactly one 'opened' row per alert"
expect_eq "$(q "$STORE" "SELECT count(*) FROM (SELECT alert_id, to_state FROM alert_history
    WHERE event = 'escalated' GROUP BY alert_id, to_state HAVING count(*) > 1) x")" 0 "no repeated escalation"
expect_eq "$(q "$STORE" "SELECT count(*) FROM alert_history WHERE event = 'escalated'")" 400 \
  "two escalations per alert"
expect_eq "$(rc XINFO GROUPS stepwatch:tasks | sed -n '2p')" stepwatch "consumer group exists"

# /readyz of the surviving serve lists the broker
port=$(grep -o 'msg=listening.*port=[0-9]*' "$T/serve$([ "$OTHER" = "$S1" ] && echo 1 || echo 2).log" | head -1 | sed 's/.*port=//')
curl -s "http://127.0.0.1:$port/readyz" | grep -q '"broker"' || fail "/readyz lists the broker"

# a clean stop releases the lease
kill -TERM "$OTHER"; code=0; wait "$OTHER" 2>/dev/null || code=$?
expect_eq "$code" 0 "serve exit code after SIGTERM"
expect_eq "$(rc EXISTS stepwatch:leader)" 0 "the lease is released on SIGTERM"
kill -TERM "$W2"; code=0; wait "$W2" 2>/dev/null || code=$?
expect_eq "$code" 0 "worker exit code after SIGTERM"
rc FLUSHDB >/dev/null
finish
