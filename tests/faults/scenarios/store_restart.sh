#!/usr/bin/env bash
# store_restart.sh - the PostgreSQL store refuses connections (pg_ctl stop) for OUTAGE
# seconds (reduced 12: the expirer, every 10 s, fails at least once; full 30) while failures keep arriving, then comes back: /readyz is 503
# during the outage and 200 within a few seconds after (the store probe ends the tasks'
# backoff); every failure of the outage is detected, nothing lost or duplicated, escalations
# in order. Figures: time to /readyz 200 and to the outage's alerts, after pg_ctl start.
. "$(dirname "$0")/../lib.bash"

OUTAGE=12; full && OUTAGE=30
pgp_init storepg
STORE=$PGP_URL
SRC=$(pg_newdb swfsrc)
src_init "$SRC"
write_cfg "$T/cfg.yaml" "$STORE" "$SRC"
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add_failed "$SRC" 1 100
wait_eq 20 "alerts before the outage" 100 sq pg "$STORE" "SELECT count(*) FROM alerts"
wait_ms 20 readyz_is 200 "$T/serve.log" >/dev/null || fail "ready before the outage"

pgp_stop fast
t_stop=$(now_ms)
add_failed "$SRC" 101 200
wait_ms 10 readyz_is 503 "$T/serve.log" >/dev/null && ok "/readyz 503 while the store is down" \
  || fail "/readyz not 503 while the store is down"
sleep $((OUTAGE - ($(now_ms) - t_stop) / 1000))
add_failed "$SRC" 201 250
pgp_start
t0=$(now_ms) ready_ms=-1 det_ms=-1
while [ $(($(now_ms) - t0)) -lt 60000 ]; do
  [ "$ready_ms" -lt 0 ] && readyz_is 200 "$T/serve.log" && ready_ms=$(($(now_ms) - t0))
  [ "$det_ms" -lt 0 ] && alerts_are pg "$STORE" 250 && det_ms=$(($(now_ms) - t0))
  [ "$ready_ms" -ge 0 ] && [ "$det_ms" -ge 0 ] && break
  sleep 0.05
done
[ "$det_ms" -ge 0 ] || fail "the outage's alerts within 60 s"
log "FIGURES store_restart outage_s=$OUTAGE ready_ms=$ready_ms detected_ms=$det_ms"
[ "$ready_ms" -ge 0 ] && [ "$ready_ms" -le 5000 ] && ok "ready within 5 s of the store (${ready_ms} ms)" \
  || fail "ready ${ready_ms} ms after the store came back (want <= 5000)"
wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"
check_store pg "$STORE" "$SRC" 250 0
stop_ok "$pid"
result store_restart "PostgreSQL store stopped ${OUTAGE} s (pg_ctl stop -m fast), 150 failures meanwhile" \
  "$ready_ms" "ready ${ready_ms} ms, all alerts ${det_ms} ms after pg_ctl start"
finish
