#!/usr/bin/env bash
# kill9.sh - kill -9 of serve at chosen points, on a PostgreSQL store:
#  1. before commit: a session holds the watermarks table (LOCK ... EXCLUSIVE MODE) so the
#     watcher's transaction - step records stored, alerts opened, only the watermark left -
#     waits; serve is killed there, the lock released, serve restarted;
#  2. mid-escalation: N alerts (reduced 2,000, full 15,000) come due for P2 at once; a
#     trigger makes the escalation of the middle one wait for an advisory lock the test
#     holds, so the validator's pass stops there; serve is killed there and restarted.
# Then: every failure detected once, every alert escalated INITIATED -> P2 -> P1 -> P0 once
# per level. Figures: time from the restart to the lost transaction's alerts, and to the
# whole escalation.
. "$(dirname "$0")/../lib.bash"

N=2000; full && N=15000
STORE=$(pg_newdb swfk9store)
SRC=$(pg_newdb swfk9src)
src_init "$SRC"
write_cfg "$T/cfg.yaml" "$STORE" "$SRC"
start() { sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID; }
kill9() { kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
# waiting SQL_LIKE: a stepwatch session waits on a lock with a query like SQL_LIKE
waiting() {
  [ "$(q "$STORE" "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
        AND query ILIKE '$1' AND datname = current_database() AND pid <> pg_backend_pid()")" -ge 1 ]
}
# hold SQL: run SQL in a session kept open (in the background) until unhold
hold() {
  { echo "BEGIN;"; echo "$1;"; echo "SELECT pg_sleep(120);"; } | psql -XAtq "$STORE" >/dev/null 2>&1 &
  HOLD=$!
}
unhold() {
  q "$STORE" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE query LIKE '%pg_sleep(120)%' AND datname = current_database()
        AND pid <> pg_backend_pid()" >/dev/null
  wait "$HOLD" 2>/dev/null || true
}

start
add_failed "$SRC" 1 100
wait_eq 20 "alerts before the fault" 100 sq pg "$STORE" "SELECT count(*) FROM alerts"

# 1. before commit
hold "LOCK TABLE watermarks IN EXCLUSIVE MODE"
add_failed "$SRC" 101 200
wait_ms 20 waiting '%watermarks%' >/dev/null && ok "watcher waits before its commit" \
  || fail "the watcher never waited on the watermark"
expect_eq "$(sq pg "$STORE" "SELECT count(*) FROM alerts")" 100 "uncommitted alerts not visible"
kill9
unhold
start
t0=$(now_ms)
wait_ms 30 alerts_are pg "$STORE" 200 >/dev/null || fail "the killed transaction's alerts"
commit_ms=$(($(now_ms) - t0))
wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"

# 2. mid-escalation: N failures at once. A trigger makes any transaction that escalates the
# middle instance wait for an advisory lock the test holds, so the validator's pass stops
# there, part done; it is killed in that state.
kill9
MID=$((1000 + N / 2))
q "$STORE" "CREATE FUNCTION fault_wait() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN
    IF NEW.instance_id = '$MID' AND NEW.state > OLD.state THEN PERFORM pg_advisory_xact_lock(4242); END IF;
    RETURN NEW;
  END \$\$;
  CREATE TRIGGER fault_wait BEFORE UPDATE ON alerts FOR EACH ROW EXECUTE FUNCTION fault_wait()"
hold "SELECT pg_advisory_lock(4242)"
wait_eq 10 "the test holds the advisory lock" 1 q "$STORE" \
  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
add_failed "$SRC" 1001 $((1000 + N))
start
wait_ms $((60 + N / 250)) alerts_are pg "$STORE" $((200 + N)) >/dev/null || fail "$N alerts opened"
wait_ms $((30 + N / 100)) waiting '%alerts%' >/dev/null && ok "validator waits mid-pass" \
  || fail "the validator never waited on the middle alert"
p2_at_kill=$(sq pg "$STORE" "SELECT count(*) FROM alerts WHERE state >= 1 AND instance_id::bigint > 1000")
kill9
# release first: the killed serve's session still waits inside its UPDATE, holding its lock
# on alerts, until it can go on and find its client gone
unhold
q "$STORE" "DROP TRIGGER fault_wait ON alerts; DROP FUNCTION fault_wait()"
start
t0=$(now_ms)
wait_ms $((60 + N / 50)) all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0 after the kill"
esc_ms=$(($(now_ms) - t0))
log "FIGURES kill9 before_commit_recovered_ms=$commit_ms mid_escalation n=$N p2_committed_at_kill=$p2_at_kill all_p0_ms=$esc_ms"
check_store pg "$STORE" "$SRC" $((200 + N)) 0
stop_ok "$pid"
result kill9 "kill -9 of serve before the watcher's commit, and mid-escalation of $N alerts" \
  "$commit_ms" "lost transaction's 100 alerts ${commit_ms} ms after restart; $N alerts to P0 ${esc_ms} ms after restart ($p2_at_kill at P2 at the kill)"
finish
