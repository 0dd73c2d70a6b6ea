#!/usr/bin/env bash
# redis.sh - distributed mode (one serve, one worker, a private Redis as the broker) through
#  1. a Redis restart: shutdown for OUTAGE seconds (reduced 3, full 20), failures arriving;
#  2. FLUSHALL: the lease, the stream and its consumer group gone at once;
#  3. kill -9 of the worker with failures arriving, and a new worker.
# After each: the failures detected, nothing lost or duplicated, escalations in order.
# Figures: time from Redis back (or the flush) to the failures detected.
. "$(dirname "$0")/../lib.bash"

OUTAGE=3; full && OUTAGE=20
rp_init
STORE=$(pg_newdb swfrstore)
SRC=$(pg_newdb swfrsrc)
src_init "$SRC"
write_cfg "$T/cfg.yaml" "$STORE" "$SRC" "broker: $RP_URL"
"$SW_BIN" migrate -c "$T/cfg.yaml" >>"$T/migrate.log" 2>&1 || fail "migrate"
sw_start serve serve -c "$T/cfg.yaml"; spid=$SW_PID
sw_start worker worker -c "$T/cfg.yaml"; wpid=$SW_PID
add_failed "$SRC" 1 100
wait_eq 30 "alerts before the faults" 100 sq pg "$STORE" "SELECT count(*) FROM alerts"

# 1. restart
rp_stop
add_failed "$SRC" 101 200
sleep "$OUTAGE"
expect_eq "$(sq pg "$STORE" "SELECT count(*) FROM alerts")" 100 "nothing runs while the broker is down"
rp_start
restart_ms=$(wait_ms 60 alerts_are pg "$STORE" 200) || fail "failures detected after the Redis restart"
log "Redis back: 200 alerts after ${restart_ms} ms"

# 2. FLUSHALL
add_failed "$SRC" 201 300
rp FLUSHALL >/dev/null
flush_ms=$(wait_ms 60 alerts_are pg "$STORE" 300) || fail "failures detected after FLUSHALL"
log "after FLUSHALL: 300 alerts after ${flush_ms} ms"
wait_eq 20 "a leader again" 1 rp EXISTS stepwatch:leader

# 3. kill -9 of the worker while it runs tasks (its entries pending), and a restart
add_failed "$SRC" 301 400
sleep 0.3
kill -9 "$wpid"; wait "$wpid" 2>/dev/null || true
sw_start worker worker -c "$T/cfg.yaml"; wpid=$SW_PID
wkill_ms=$(wait_ms 60 alerts_are pg "$STORE" 400) || fail "failures detected after the worker was killed"
wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"
check_store pg "$STORE" "$SRC" 400 0
log "FIGURES redis outage_s=$OUTAGE restart_ms=$restart_ms flushall_ms=$flush_ms worker_kill_ms=$wkill_ms"
stop_ok "$spid" "$wpid"
result redis "distributed mode: Redis shut down ${OUTAGE} s and restarted; FLUSHALL; kill -9 of the worker" \
  "$restart_ms" "detected ${restart_ms} ms after Redis restarted, ${flush_ms} ms after FLUSHALL, ${wkill_ms} ms after the worker kill"
finish
