#!/usr/bin/env bash
# source_faults.sh - the application database, as the watcher sees it, for PHASE seconds
# each (reduced 3, full 20): down (connections refused and cut), slow (its view sleeps past
# the statement_timeout) and returning errors (permission denied), while failures keep
# arriving and open alerts exist. During each: no alert opened, none resolved (a failed
# query is no recovery), the workflow reported unhealthy. After each: the phase's failures
# detected. At the end a real recovery resolves exactly the recovered instances.
# Figures: time from the end of each fault to its failures detected.
. "$(dirname "$0")/../lib.bash"

PHASE=3; full && PHASE=20
SRC=$(pg_newdb swfsrcf)
DB=${SRC##*/}
src_init "$SRC"
q "$SRC" "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'monitor') THEN
            CREATE ROLE monitor LOGIN; END IF; END \$\$;
          GRANT SELECT ON steps_v TO monitor"
STORE=$T/store.db
write_cfg "$T/cfg.yaml" "sqlite://$STORE" "${SRC/postgres@/monitor@}"
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add_failed "$SRC" 1 50
wait_eq 20 "alerts before the faults" 50 sq sqlite "$STORE" "SELECT count(*) FROM alerts"

# phase NAME INJECT RESTORE FROM: inject, add failures FROM..FROM+49 during the fault,
# check nothing changed, restore, time the detection
declare -A REC
phase() {
  local name=$1 inject=$2 restore=$3 from=$4 before t0
  before=$(sq sqlite "$STORE" "SELECT count(*) FROM alerts")
  q "$SRC" "$inject" >/dev/null
  add_failed "$SRC" "$from" $((from + 49))
  sleep "$PHASE"
  expect_eq "$(sq sqlite "$STORE" "SELECT count(*) FROM alerts")" "$before" "[$name] no alert opened during the fault"
  expect_eq "$(sq sqlite "$STORE" "SELECT count(*) FROM alerts WHERE state = 4")" 0 "[$name] none resolved"
  if [ "$name" != slow ]; then
    readyz_is 503 "$T/serve.log" && ok "[$name] /readyz 503" || fail "[$name] /readyz not 503 during the fault"
  fi
  q "$SRC" "$restore" >/dev/null
  t0=$(now_ms)
  wait_ms 60 alerts_are sqlite "$STORE" $((before + 50)) >/dev/null || fail "[$name] the fault's failures detected"
  REC[$name]=$(($(now_ms) - t0))
  log "[$name] detected $((before + 50)) alerts ${REC[$name]} ms after the fault ended"
}
phase down "REVOKE CONNECT ON DATABASE $DB FROM PUBLIC, monitor;
  SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'monitor' AND datname = '$DB'" \
  "GRANT CONNECT ON DATABASE $DB TO PUBLIC, monitor" 101
phase slow "CREATE OR REPLACE VIEW steps_v AS SELECT * FROM loan_steps WHERE pg_sleep(3)::text = ''" \
  "CREATE OR REPLACE VIEW steps_v AS SELECT * FROM loan_steps" 201
phase errors "REVOKE SELECT ON steps_v FROM monitor" "GRANT SELECT ON steps_v TO monitor" 301

# a real recovery resolves what recovered, and only that
add_success "$SRC" 1 20
wait_eq 30 "recovered instances resolved" 20 sq sqlite "$STORE" "SELECT count(*) FROM alerts WHERE state = 4"
wait_ms 30 all_at_p0 sqlite "$STORE" >/dev/null || fail "every open alert reached P0"
check_store sqlite "$STORE" "$SRC" 200 20
log "FIGURES source_faults phase_s=$PHASE down_ms=${REC[down]:--1} slow_ms=${REC[slow]:--1} errors_ms=${REC[errors]:--1}"
stop_ok "$pid"
result source_faults "application database down, slow (pg_sleep view past statement_timeout), permission errors: ${PHASE} s each" \
  "${REC[down]:--1}" "detected after: down ${REC[down]:--1} ms, slow ${REC[slow]:--1} ms, errors ${REC[errors]:--1} ms"
finish
