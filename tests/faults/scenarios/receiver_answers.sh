#!/usr/bin/env bash
# receiver_answers.sh - webhook receivers that answer badly, beside a healthy one, while K
# incidents (reduced 1, full 3) open and escalate; every receiver hears of every message:
#   slow   answers the first request of each of the first M messages (reduced 1, full all)
#          after 12 s (the send timeout is 10 s)
#   drip   the same, with a body dripped a byte every 200 ms
# (One incident's messages go to a receiver in order, so each slow message holds up the
# later ones of its incident by a timeout and a backoff: M=1 keeps the reduced run short.)
#   ra     answers each message's first request 429 with Retry-After: N (reduced 3, full 10)
#   clamp  the same with Retry-After: 0 (no delay: the ordinary first backoff, 4-6 s)
#   huge   429 with Retry-After: 99999 (clamped to 1 h; never delivered during the test)
# Checked: slow and drip bounded by the timeout, retried, the timeout in last_error in
# GET /api/v1/notifications; the healthy receiver's messages not delayed (latency from the
# outbox row to its request); ra and clamp retried no sooner than the Retry-After, then
# delivered once (clamp after the ordinary backoff); huge's next attempt an hour away; the notification checker on each (at
# most one duplicate per key: the request the slow and drip receivers got too late).
. "$(dirname "$0")/../lib.bash"

K=1 N=3 M=1
full && K=3 N=10 M=100
STORE=$(pg_newdb swfrastore)
SRC=$(pg_newdb swfrasrc)
src_init "$SRC"
recv_start r
for x in healthy slow drip ra clamp huge; do RPORT[$x]=${RPORT[r]}; done
write_cfg "$T/cfg.yaml" "$STORE" "$SRC" "$(notify_yaml healthy=/ok/healthy slow=/slow/slow/12/$M \
  drip=/drip/drip/$M ra=/ra/ra/$N/1 clamp=/ra/clamp/0/1 huge=/ra/huge/99999/1)"
# every receiver's log is the one process's log, its requests told apart by path
split_logs() {
  local x
  for x in healthy slow drip ra clamp huge; do
    grep "\"path\": \"/[a-z]*/$x[/\"]" "$T/r.jsonl" >"$T/$x.jsonl" || true
  done
}
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add_failed_err "$SRC" 1 $((10 * K)) "$K"
t0=$(now_ms)
wait_eq 30 "healthy: first message" 1 sq pg "$STORE" \
  "SELECT least(count(*), 1) FROM outbox WHERE receiver = 'healthy' AND status = 'sent'"
B=http://127.0.0.1:$(http_port "$T/serve.log")

# slow and drip: the first attempt times out and says so
timed_out() {
  [ "$(sq pg "$STORE" "SELECT count(*) FROM outbox WHERE receiver = '$1' AND status = 'pending'
        AND last_error LIKE '%timed out%'")" -ge 1 ]
}
for x in slow drip; do
  wait_ms 40 timed_out $x >/dev/null || fail "$x: no attempt timed out"
  api=$(curl -s "$B/api/v1/notifications?receiver=$x&status=pending" |
    python3 -c 'import json,sys; i=[x for x in json.load(sys.stdin)["items"] if x["last_error"]]; print(i[0]["attempts"], i[0]["last_error"]) if i else print("none")')
  log "$x: GET /api/v1/notifications: attempts, last_error: $api"
  grep -q "timed out after 10000 ms" <<<"$api" && ok "$x: the timeout visible in GET /api/v1/notifications" \
    || fail "$x: last_error in the API: $api"
done
# huge: the next attempt an hour after its 429 (Retry-After 99999 clamped)
wait_eq 30 "huge: 429 recorded" 1 sq pg "$STORE" "SELECT least(count(*), 1) FROM outbox
  WHERE receiver = 'huge' AND status = 'pending' AND last_status = 429"
expect_eq "$(sq pg "$STORE" "SELECT count(*) FROM outbox WHERE receiver = 'huge' AND last_status = 429
  AND next_attempt_at - last_attempt_at NOT BETWEEN 3600000 AND 3610000")" 0 \
  "huge: next attempt 1 h (clamped) after the 429"

wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"
sleep 1.5 # the planner's last messages
for x in healthy slow drip ra clamp; do
  wait_ms 90 outbox_all_sent pg "$STORE" $x >/dev/null || fail "$x: every message sent"
done
all_ms=$(($(now_ms) - t0))
split_logs
# gaps KIND: "min max" ms between the first and second request of each key
gaps() {
  notify_py pg "$STORE" "$1" "
from collections import defaultdict
ts = defaultdict(list)
for q in reqs:
    ts[q['id']].append(q['t'])
g = sorted(int((v[1] - v[0]) * 1000) for v in ts.values() if len(v) > 1)
print(g[0] if g else -1, g[-1] if g else -1, sum(1 for v in ts.values() if len(v) == 2), len(ts))
"
}
declare -A GAP
for x in slow drip; do
  read -r lo hi two n <<<"$(gaps $x)"
  log "$x: $two of $n keys sent twice; first to second request ${lo}..${hi} ms"
  expect_eq "$two" "$((n < M ? n : M))" "$x: each slow message tried twice (the timed-out attempt, then its retry)"
  [ "$lo" -ge 10000 ] && [ "$hi" -le 30000 ] && ok "$x: retried after the 10 s timeout, within 30 s" \
    || fail "$x: first to second request ${lo}..${hi} ms"
  GAP[$x]="$lo..$hi"
done
# ra: no sooner than N s, and soon after. clamp: Retry-After: 0 (or a past date) is no
# delay at all to the client, so the ordinary first backoff applies (5 s, +-20 %).
for x in ra clamp; do
  min=$((N * 1000)) max=$((N * 1000 + 5000))
  [ $x = clamp ] && min=4000 max=10000
  read -r lo hi two n <<<"$(gaps $x)"
  log "$x: $two of $n keys sent twice; 429 to retry ${lo}..${hi} ms"
  expect_eq "$two" "$n" "$x: each message once after its 429"
  [ "$lo" -ge $min ] && [ "$hi" -le $max ] \
    && ok "$x: retried ${lo}..${hi} ms after the 429 (within ${min}..${max})" \
    || fail "$x: 429 to retry ${lo}..${hi} ms (want ${min}..${max})"
  GAP[$x]="$lo..$hi"
done
lat=$(notify_latency pg "$STORE" healthy)
[ "${lat#* }" -le 2000 ] && ok "healthy: latency p50/max ${lat/ //} ms beside the slow receivers" \
  || fail "healthy: latency p50/max ${lat/ //} ms"
check_store pg "$STORE" "$SRC" $((10 * K)) 0
LOST=0 DUP=0
check_notify pg "$STORE" healthy 0
check_notify pg "$STORE" slow 1 healthy
check_notify pg "$STORE" drip 1 healthy
log "FIGURES receiver_answers slow_drip incidents=$K healthy_latency_p50_max_ms=$lat slow_gap_ms=${GAP[slow]} drip_gap_ms=${GAP[drip]} all_sent_ms=$all_ms lost=$LOST dup=$DUP"
result receiver_answers "webhook receivers answering after 12 s (timeout 10 s) and dripping the answer, $K incident(s)" \
  "$all_ms" "healthy receiver latency p50/max ${lat/ //} ms; first to second attempt ${GAP[slow]} ms (slow), ${GAP[drip]} ms (drip); all delivered ${all_ms} ms after the failures"
LOST=0 DUP=0
check_notify pg "$STORE" ra 0 healthy
check_notify pg "$STORE" clamp 0 healthy
log "FIGURES receiver_answers 429 retry_after=$N ra_gap_ms=${GAP[ra]} clamp_gap_ms=${GAP[clamp]} lost=$LOST dup=$DUP"
result receiver_answers "429 with Retry-After: $N, 0 and 99999" "-" \
  "429 to retry ${GAP[ra]} ms (Retry-After: $N), ${GAP[clamp]} ms (0: the ordinary backoff); 99999 clamped to 1 h"
stop_ok "$pid"
finish
