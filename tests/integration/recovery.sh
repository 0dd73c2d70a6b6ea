#!/usr/bin/env bash
# recovery.sh - self-recovery with the real binary, a local retry endpoint
# (tests/tools/recv_http.py) and push ingest on an SQLite store:
#   an alert whose retry endpoint keeps failing (503) is called 3 times (max_attempts) with
#   the backoff doubling between calls, each with its own Idempotency-Key, and never again;
#   an alert whose retry is accepted stays open, and once the step succeeds (the resolver
#   closes it) is not called again; the instance timeline of the API lists the attempts.
. "$(dirname "$0")/lib.bash"

python3 "$SW_SOURCE_DIR/tests/tools/recv_http.py" "$T/recv.port" "$T/recv.jsonl" \
  >>"$T/recv.log" 2>&1 &
SW_PIDS+=("$!")
wait_eq 30 "retry endpoint up" 1 bash -c "test -s '$T/recv.port' && echo 1"
RP=$(cat "$T/recv.port")

cat >"$T/cfg.yaml" <<YAML
store: sqlite://$T/store.db
http:
  listen: 127.0.0.1:0
workflows:
  loan:
    steps: [kyc, bureau_pull, esign]
    step_overrides:
      bureau_pull:
        recover: { webhook: { url: "http://127.0.0.1:$RP/status/503" }, max_attempts: 3, backoff: 1s }
      kyc:
        recover: { webhook: { url: "http://127.0.0.1:$RP/ok" }, max_attempts: 5, backoff: 3s }
YAML
sw_start serve serve -c "$T/cfg.yaml"
wait_eq 20 "listening" 1 grep -c "msg=listening" "$T/serve.log"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
B=http://127.0.0.1:$port

now=$(date -u +%FT%TZ)
push() {
  curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$1" "$B/api/v1/step-records"
}

# requests PATH -> "count key1,key2,... gaps" of the calls to PATH (gaps in whole tenths of s)
requests() {
  python3 - "$T/recv.jsonl" "$1" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rs = [r for r in rs if r["path"] == sys.argv[2]]
keys = ",".join(r["headers"].get("idempotency-key", "-").rsplit("-", 1)[1] for r in rs)
gaps = ",".join(str(int((b["t"] - a["t"]) * 10)) for a, b in zip(rs, rs[1:]))
print(len(rs), keys, gaps)
PY
}
count() { requests "$1" | cut -d' ' -f1; }

# B-2: accepted (200) but the alert stays open until the step succeeds; then it resolves
expect_eq "$(push "[{\"workflow\":\"loan\",\"instance_id\":\"B-2\",\"user_id\":\"u2\",\"step\":\"kyc\",
  \"status\":\"FAILED\",\"error\":\"KYC_DOWN\",\"started_at\":\"$now\",\"finished_at\":\"$now\",\"updated_at\":\"$now\"}]")" \
  200 "push a failure at kyc"
wait_eq 20 "first call for the accepted retry" 1 count /ok
expect_eq "$(qs "$T/store.db" "SELECT state FROM alerts WHERE instance_id = 'B-2'")" 0 \
  "an accepted retry does not resolve the alert"
later=$(date -u +%FT%T.%3NZ)
expect_eq "$(push "[{\"workflow\":\"loan\",\"instance_id\":\"B-2\",\"user_id\":\"u2\",\"step\":\"kyc\",
  \"status\":\"SUCCESS\",\"started_at\":\"$now\",\"finished_at\":\"$later\",\"updated_at\":\"$later\"}]")" \
  200 "push the recovery of B-2"
wait_eq 20 "B-2 resolved by the resolver" "4|resolver" \
  qs "$T/store.db" "SELECT state, resolved_by FROM alerts WHERE instance_id = 'B-2'"
c=$(count /ok)
sleep 8 # longer than the next backoff (3 s, then 6 s)
expect_eq "$(count /ok)" "$c" "no call after the alert resolved"
if [ "$c" -le 2 ]; then ok "calls before resolution: $c"; else fail "calls before resolution: $c"; fi


expect_eq "$(push "[{\"workflow\":\"loan\",\"instance_id\":\"A-1\",\"user_id\":\"u1\",\"step\":\"bureau_pull\",
  \"status\":\"FAILED\",\"error\":\"BUREAU_TIMEOUT\",\"started_at\":\"$now\",\"finished_at\":\"$now\",\"updated_at\":\"$now\"}]")" \
  200 "push a failure at bureau_pull"

# A-1: 503 every time -> exactly 3 calls, keys 1,2,3, gaps of about 1 s then 2 s at least
wait_eq 30 "calls for the failing retry" 3 count /status/503
sleep 5
out=$(requests /status/503)
read -r n keys gaps <<<"$out"
expect_eq "$n" 3 "calls after max_attempts and 5 s more"
expect_eq "$keys" "1,2,3" "idempotency key attempt numbers"
g1=${gaps%,*} g2=${gaps#*,}
if [ "$g1" -ge 9 ] && [ "$g2" -ge 19 ]; then ok "backoff doubles (gaps ${g1}, ${g2} tenths of s)"
else fail "backoff: gaps $gaps (tenths of s), want >= 9 then >= 19 (1 s, then 2 s, less a query)"; fi
aid=$(qs "$T/store.db" "SELECT id FROM alerts WHERE instance_id = 'A-1'")
expect_eq "$(python3 - "$T/recv.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"/status/503"' in l][0]
b = json.loads(r["body"])
print(b["instance_id"], b["user_id"], b["workflow"], b["step"], b["alert_id"], b["attempt"])
PY
)" "A-1 u1 loan bureau_pull $aid 1" "retry request body"
expect_eq "$(qs "$T/store.db" "SELECT state, recovery_attempts FROM alerts WHERE id = $aid")" "0|3" \
  "failing alert still open after 3 attempts"

# the timeline of the API shows the attempts
tl=$(curl -s "$B/api/v1/instances/loan/A-1")
expect_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); a=d["recovery_attempts"]; print(len(a), a[-1]["event"], "attempt 3/3" in a[-1]["reason"], "no more attempts" in a[-1]["reason"])' "$tl")" \
  "3 recovery_attempt True True" "instance timeline lists the attempts"

finish
