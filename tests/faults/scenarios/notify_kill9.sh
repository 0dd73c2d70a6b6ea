#!/usr/bin/env bash
# notify_kill9.sh - kill -9 of serve after a receiver's 2xx and before the row is marked
# sent, on a PostgreSQL store. A trigger makes the update that marks a row of receiver
# 'held' sent wait for an advisory lock the test holds, so the messages of 'held' (K
# incidents: reduced 1, full 5) that the lane's 4 threads send (the first of each of up to
# 4 incidents: an incident's messages go in order) get their 200 and then wait there; serve is killed in that state (checked: those requests logged and answered 200,
# no row marked, the marks waiting), the lock released, serve restarted. After: the
# messages in flight delivered again after their lease with the same key (exactly one
# duplicate each), the others once; a second receiver, 'other', not held, sent the same
# messages. Figure: time from the restart to every message sent.
. "$(dirname "$0")/../lib.bash"

K=1; full && K=5
STORE=$(pg_newdb swfnk9store)
SRC=$(pg_newdb swfnk9src)
src_init "$SRC"
recv_start r
RPORT[held]=${RPORT[r]} RPORT[other]=${RPORT[r]}
write_cfg "$T/cfg.yaml" "$STORE" "$SRC" "$(notify_yaml held=/ok/held other=/ok/other)"
start() { sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID; }
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
# on any exit: no session left holding the lock (or waiting for it) in the test's database
trap 'q "$STORE" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null 2>&1; fault_cleanup' EXIT
marks_waiting() {
  q "$STORE" "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
        AND query LIKE 'UPDATE outbox SET status%' AND datname = current_database()
        AND pid <> pg_backend_pid()"
}
split_logs() {
  grep '"path": "/ok/held"' "$T/r.jsonl" >"$T/held.jsonl" || true
  grep '"path": "/ok/other"' "$T/r.jsonl" >"$T/other.jsonl" || true
}

start
wait_eq 20 "serve listening" 1 bash -c "grep -c 'msg=listening' '$T/serve.log'"
q "$STORE" "CREATE FUNCTION fault_wait_sent() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN PERFORM pg_advisory_xact_lock(4243); RETURN NEW; END \$\$;
  CREATE TRIGGER fault_wait_sent BEFORE UPDATE ON outbox FOR EACH ROW
    WHEN (OLD.status = 'pending' AND NEW.status = 'sent' AND NEW.receiver = 'held')
    EXECUTE FUNCTION fault_wait_sent()"
hold "SELECT pg_advisory_lock(4243)"
wait_eq 10 "the test holds the advisory lock" 1 q "$STORE" \
  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4243 AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"

add_failed_err "$SRC" 1 $((10 * K)) "$K"
# every message of the K incidents planned (opened, P1, P0), 'other' has them all, and the
# marks of 'held' wait
wait_ms 30 alerts_are pg "$STORE" $((10 * K)) >/dev/null || fail "the failures detected"
wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"
sleep 1.5 # the planner's last messages
wait_ms 30 outbox_all_sent pg "$STORE" other >/dev/null || fail "other: delivered before the kill"
planned=$(sq pg "$STORE" "SELECT count(*) FROM outbox WHERE receiver = 'held'")
[ "$planned" -ge "$K" ] && ok "held: $planned messages planned" || fail "held: $planned messages planned"
# a receiver's lane has 4 threads, and one incident's messages go in order: the first
# message of up to 4 incidents gets its 200 and waits to be marked; the rest wait unclaimed
incidents=$(sq pg "$STORE" "SELECT count(DISTINCT incident_id) FROM outbox WHERE receiver = 'held'")
inflight=$((incidents < 4 ? incidents : 4))
wait_eq 30 "the marks of $inflight of held's messages wait after their 200" "$inflight" marks_waiting
split_logs
expect_eq "$(python3 -c "import json; print(len({json.loads(l)['id'] for l in open('$T/held.jsonl')}))")" \
  "$inflight" "held: the messages in flight received (and answered 200) before the kill"
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
# release first: the killed serve's sessions wait in their UPDATE, in a transaction that
# can never commit now
unhold
wait_eq 20 "the killed sessions gone" 0 marks_waiting
expect_eq "$(outbox_left pg "$STORE" held)" "$planned" "held: nothing marked sent by the killed serve"
q "$STORE" "DROP TRIGGER fault_wait_sent ON outbox; DROP FUNCTION fault_wait_sent()"
start
t0=$(now_ms)
wait_ms 60 outbox_all_sent pg "$STORE" held >/dev/null || fail "held: every message sent after the restart"
rec_ms=$(($(now_ms) - t0))
sleep 1 # a late duplicate would show
split_logs
check_store pg "$STORE" "$SRC" $((10 * K)) 0
check_notify pg "$STORE" held 1 other
expect_eq "$DUP" "$inflight" "held: exactly one duplicate per message in flight at the kill"
check_notify pg "$STORE" other 0
log "FIGURES notify_kill9 incidents=$K in_flight=$inflight all_sent_after_restart_ms=$rec_ms lost=$LOST dup=$DUP"
stop_ok "$pid"
result notify_kill9 "kill -9 of serve after the receiver's 200, before marking $inflight message(s) sent" "$rec_ms" \
  "$planned messages; the $inflight in flight sent again with the same key, one duplicate each, all sent ${rec_ms} ms after restart (the 15 s claim lease)"
finish
