#!/usr/bin/env bash
# receiver_down.sh - a webhook receiver down (its port refuses connections) for OUT seconds
# (reduced 3, full 30) while K incidents (reduced 2, full 5) open and escalate, beside a
# healthy receiver that hears of the same incidents; then it comes back on the same port.
# During the fault: the down receiver's messages stay pending with the connection error in
# GET /api/v1/notifications, the healthy one's are delivered. After: every message of the
# down receiver delivered, none lost, each key once (connection refused: the receiver never
# saw a request, so no duplicate either), both receivers sent the same messages, and each
# incident's messages reached the receiver in order (before the fix, a 30 s outage
# delivered 3 of 12 after a later message of their incident: the retries of the oldest
# messages were backing off longest).
# Figure: time from the receiver's return to its backlog (every row planned before it came
# back) delivered.
. "$(dirname "$0")/../lib.bash"

OUT=3 K=2
full && OUT=30 K=5
STORE=$(pg_newdb swfrdstore)
SRC=$(pg_newdb swfrdsrc)
src_init "$SRC"
recv_start up
recv_start down
write_cfg "$T/cfg.yaml" "$STORE" "$SRC" "$(notify_yaml up=/ok/up down=/ok/down)"
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID

# before the fault: one incident, delivered to both
add_failed_err "$SRC" 1 10 1
wait_eq 30 "first message delivered to down" 1 sq pg "$STORE" \
  "SELECT least(count(*), 1) FROM outbox WHERE receiver = 'down' AND status = 'sent'"
B=http://127.0.0.1:$(http_port "$T/serve.log")

recv_stop down
add_failed_err "$SRC" 101 $((100 + 10 * K)) "$K"
sleep "$OUT"
n=$(sq pg "$STORE" "SELECT count(*) FROM outbox WHERE receiver = 'down' AND status = 'pending' AND attempts >= 1")
[ "$n" -ge "$K" ] && ok "down: $n messages pending, tried" || fail "down: only $n messages pending and tried (want >= $K)"
err=$(curl -s "$B/api/v1/notifications?receiver=down&status=pending" |
  python3 -c 'import json,sys; print([i["last_error"] for i in json.load(sys.stdin)["items"] if i["last_error"]][:1])')
log "down: last_error in the API: $err"
grep -qi "connect" <<<"$err" && ok "down: the connection error in GET /api/v1/notifications" \
  || fail "down: last_error '$err'"
wait_ms 20 outbox_all_sent pg "$STORE" up >/dev/null && ok "up: delivered during the fault" \
  || fail "up: messages not delivered while down was down"

recv_start down "${RPORT[down]}"
ret=$(now_ms)
t0=$ret
backlog() {
  [ "$(sq pg "$STORE" "SELECT count(*) FROM outbox WHERE receiver = 'down'
        AND created_at <= $ret AND status <> 'sent'")" = 0 ]
}
wait_ms 150 backlog >/dev/null || fail "down: backlog delivered after its return"
rec_ms=$(($(now_ms) - t0))
backlog_n=$(sq pg "$STORE" "SELECT count(*) FROM outbox WHERE receiver = 'down' AND created_at <= $ret")
log "down: backlog of $backlog_n messages delivered ${rec_ms} ms after the receiver came back"
wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"
sleep 1.5 # the planner's last messages
wait_ms 60 outbox_all_sent pg "$STORE" down >/dev/null || fail "down: every message sent"
wait_ms 30 outbox_all_sent pg "$STORE" up >/dev/null || fail "up: every message sent"
lat=$(notify_latency pg "$STORE" up)
# the order in which each incident's messages reached the down receiver (2xx deliveries)
order=$(notify_py pg "$STORE" down "
seen, bad = {}, 0
for q in reqs:
    inc, seq = q['id'].split('-')[1:3]
    if int(seq) < seen.get(inc, 0):
        bad += 1
    seen[inc] = max(seen.get(inc, 0), int(seq))
print(bad)
")
expect_eq "$order" 0 "down: each incident's messages delivered in order (none after a later one)"
check_store pg "$STORE" "$SRC" $((10 + 10 * K)) 0
check_notify pg "$STORE" up 0
check_notify pg "$STORE" down 0 up
log "FIGURES receiver_down out_s=$OUT incidents=$((K + 1)) backlog=$backlog_n backlog_delivered_ms=$rec_ms up_latency_p50_max_ms=$lat lost=$LOST dup=$DUP"
stop_ok "$pid"
result receiver_down "webhook receiver refusing connections for ${OUT} s, $K incidents meanwhile" "$rec_ms" \
  "backlog of $backlog_n delivered ${rec_ms} ms after the receiver's return; healthy receiver latency p50/max ${lat/ //} ms"
finish
