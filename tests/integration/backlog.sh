#!/usr/bin/env bash
# backlog.sh - a first start on a PostgreSQL source that already holds history, read in
# pages of 100 rows, on each store:
#   20,000 history rows in groups of 3 sharing one updated_at (a page of 100 always ends
#   inside one), a group of 250 sharing one (more than a page) and one of 10: every row
#   stored once, none lost;
#   a FAILED record 30 days old (abandon_after 7d): read, but no alert;
#   a FAILED record 2 hours old: an alert with its real occurred_at, escalated late to P0;
#   a record older than backfill: not read;
#   a failure committed while the backlog is read: detected once the reading reaches it;
#   a transaction that commits after a later row was read: found by a read of the window;
#   /readyz and /metrics show the rows read and the watermark lag; the log says "caught up".
. "$(dirname "$0")/lib.bash"

sq() { if [ "$1" = pg ]; then q "$2" "$3"; else qs "$2" "$3"; fi; }

run_scenario() {
  local kind=$1 store_url=$2 store=$3 cfg=$T/stepwatch-$1.yaml pid port rc=0 seen_catching=0
  SRC=$(pg_newdb swsrc)
  q "$SRC" "
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'monitor') THEN CREATE ROLE monitor LOGIN; END IF; END \$\$;
CREATE TABLE loan_steps (
  application_id text NOT NULL, user_id text NOT NULL, step text NOT NULL,
  status text NOT NULL, error_code text, started_at timestamptz NOT NULL,
  finished_at timestamptz, updated_at timestamptz NOT NULL, PRIMARY KEY (application_id, step));
CREATE INDEX ON loan_steps (updated_at);
INSERT INTO loan_steps
  SELECT 'h' || i, 'u' || i, 'kyc', 'SUCCESS', NULL, t - interval '1 minute', t, t
    FROM generate_series(1, 20000) i,
         LATERAL (SELECT date_trunc('second', now()) - interval '5 days' + (i / 3) * interval '60 s') x(t);
INSERT INTO loan_steps
  SELECT 'tie' || i, 'u' || i, 'kyc', 'SUCCESS', NULL, now() - interval '2 days', now() - interval '2 days',
         date_trunc('second', now()) - interval '2 days'
    FROM generate_series(1, 250) i;
INSERT INTO loan_steps
  SELECT 'edge' || i, 'u' || i, 'kyc', 'SUCCESS', NULL, now() - interval '3 days', now() - interval '3 days',
         (SELECT updated_at FROM loan_steps WHERE application_id = 'h5000')
    FROM generate_series(1, 7) i;
INSERT INTO loan_steps VALUES
  ('old30', 'u-old', 'kyc', 'FAILED', 'GONE', now() - interval '30 days', now() - interval '30 days',
   now() - interval '30 days'),
  ('recent2h', 'u-recent', 'kyc', 'FAILED', 'RECENT', now() - interval '121 minutes',
   now() - interval '2 hours', now() - interval '2 hours'),
  ('ancient', 'u-anc', 'kyc', 'FAILED', 'ANCIENT', now() - interval '90 days', now() - interval '90 days',
   now() - interval '90 days');
GRANT SELECT ON loan_steps TO monitor;"
  SRC_MON="${SRC/postgres@/monitor@}"
  cat >"$cfg" <<YAML
store: $store_url
http:
  listen: 127.0.0.1:0
sources:
  app: { url: "$SRC_MON", statement_timeout: 5s }
workflows:
  loan:
    source: app
    poll: 200ms
    overlap: 2s
    page_size: 100
    backfill: 60d
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at
        FROM loan_steps WHERE updated_at > :since ORDER BY updated_at;
    steps: [kyc, bureau_pull]
    defaults:
      sla: { p2: 10m, p1: 30m, p0: 1h }
      stuck_after: 1d
      abandon_after: 7d
YAML
  "$SW_BIN" migrate -c "$cfg" >>"$T/migrate-$kind.log" 2>&1 || fail "migrate ($kind)"
  sw_start "serve-$kind" serve -c "$cfg"; pid=$SW_PID
  for _ in $(seq 100); do
    port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve-$kind.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  # a live failure, committed while the backlog is read
  q "$SRC" "INSERT INTO loan_steps VALUES ('live', 'u-live', 'bureau_pull', 'FAILED', 'LIVE',
              now(), now(), clock_timestamp())"
  # the API answers while the backlog is read
  for _ in $(seq 300); do
    r=$(curl -s "http://127.0.0.1:$port/readyz" || true)
    if echo "$r" | grep -q '"catching_up": *true'; then seen_catching=1; fi
    echo "$r" | grep -q '"catching_up": *false' && break
    sleep 0.05
  done
  wait_eq 60 "[$kind] instances stored" 20260 sq "$kind" "$store" "SELECT count(*) FROM instances"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM instances WHERE instance_id = 'ancient'")" 0 \
    "[$kind] a record older than backfill is not read"
  wait_eq 10 "[$kind] alerts: the recent and the live failure" "2|2" sq "$kind" "$store" \
    "SELECT count(*), count(CASE WHEN instance_id IN ('live', 'recent2h') THEN 1 END) FROM alerts"
  wait_eq 10 "[$kind] the 2-hour-old failure escalated late to P0" 3 sq "$kind" "$store" \
    "SELECT state FROM alerts WHERE instance_id = 'recent2h'"
  expect_eq "$(q "$SRC" "SELECT floor(extract(epoch FROM finished_at) * 1000)::bigint FROM loan_steps
      WHERE application_id = 'recent2h'")" "$(sq "$kind" "$store" "SELECT occurred_at FROM alerts
      WHERE instance_id = 'recent2h'")" "[$kind] its occurred_at is the record's"
  expect_eq "$(sq "$kind" "$store" "SELECT count(*) FROM alert_history h JOIN alerts a ON a.id = h.alert_id
      WHERE a.instance_id = 'recent2h' AND h.event = 'escalated'")" 3 "[$kind] one row per level passed"
  r=$(curl -s "http://127.0.0.1:$port/readyz")
  n=$(echo "$r" | sed -n 's/.*"rows_read": *\([0-9]*\).*/\1/p')
  [ "${n:-0}" -ge 20260 ] && ok "[$kind] /readyz rows_read $n" || fail "[$kind] /readyz rows_read '$n': $r"
  echo "$r" | grep -q '"lag_seconds"' && ok "[$kind] /readyz lag" || fail "[$kind] /readyz has no lag: $r"
  curl -s "http://127.0.0.1:$port/metrics" >"$T/metrics-$kind.txt"
  grep -q '^stepwatch_watcher_rows_read_total{component="workflow:loan"} [0-9]' "$T/metrics-$kind.txt" &&
    grep -q '^stepwatch_watcher_lag_seconds{component="workflow:loan"} ' "$T/metrics-$kind.txt" &&
    grep -q '^stepwatch_watcher_catching_up{component="workflow:loan"} 0' "$T/metrics-$kind.txt" &&
    ok "[$kind] /metrics progress" || fail "[$kind] /metrics progress missing"
  grep -q 'msg="caught up" workflow=loan rows=' "$T/serve-$kind.log" && ok "[$kind] caught-up log" ||
    fail "[$kind] no caught-up log line"
  log "[$kind] /readyz showed catching_up=true during the read: $seen_catching"
  # a live tie larger than a page, then the overlap window read again (every overlap/4):
  # one read of new rows, not a backlog (nor a "caught up" line) per re-read
  local before after
  before=$(grep -c 'msg="caught up"' "$T/serve-$kind.log" || true)
  q "$SRC" "INSERT INTO loan_steps SELECT 'lt' || i, 'u' || i, 'kyc', 'SUCCESS', NULL, now(), now(), now()
              FROM generate_series(1, 250) i"
  wait_eq 20 "[$kind] a live tie of 250 rows stored" 20510 sq "$kind" "$store" "SELECT count(*) FROM instances"
  sleep 3 # the overlap (2s), read again every 0.5 s
  after=$(grep -c 'msg="caught up"' "$T/serve-$kind.log" || true)
  [ $((after - before)) -le 1 ] && ok "[$kind] re-reads of the overlap window are no backlog ($((after - before)) caught-up lines)" ||
    fail "[$kind] $((after - before)) caught-up lines for one live tie re-read in the overlap window"
  curl -s "http://127.0.0.1:$port/readyz" | grep -q '"catching_up": *false' &&
    ok "[$kind] not catching up after the tie" || fail "[$kind] /readyz catching_up after the tie"
  # the tie was read again by reads of the window (every overlap/4) and skipped; once the
  # source is quiet for overlap, nothing behind the watermark is left to read again
  metric() {
    curl -s "http://127.0.0.1:$port/metrics" |
      awk -v m="$1{component=\"workflow:loan\"}" '$1 == m { print $2 }'
  }
  wait_eq 10 "[$kind] /metrics window behind the watermark once quiet" 0 metric stepwatch_watcher_window_seconds
  local skipped
  skipped=$(metric stepwatch_watcher_rows_skipped_total)
  [ "${skipped:-0}" -ge 250 ] && ok "[$kind] /metrics rows skipped on re-read: $skipped" ||
    fail "[$kind] /metrics rows_skipped_total '$skipped', want the 250-row tie at least"
  # a transaction that commits 1.2 s after its updated_at (now() is when it began), after a
  # later row was read: behind the watermark, found by the next read of the window (every
  # overlap/4 = 0.5 s), not by the reads past the watermark
  local late_pid
  (
    echo "BEGIN; INSERT INTO loan_steps VALUES ('late1', 'u-late', 'kyc', 'FAILED', 'LATE',
          now(), now(), now());"
    sleep 1.2
    echo "COMMIT;"
  ) | psql -XAtq -v ON_ERROR_STOP=1 "$SRC" >/dev/null &
  late_pid=$!
  sleep 0.3
  q "$SRC" "INSERT INTO loan_steps VALUES ('after1', 'u-a', 'kyc', 'SUCCESS', NULL, now(), now(), now())"
  wait_eq 10 "[$kind] a row after the open transaction's is read" 1 \
    sq "$kind" "$store" "SELECT count(*) FROM instances WHERE instance_id = 'after1'"
  wait "$late_pid" || fail "[$kind] the late transaction did not commit"
  wait_eq 5 "[$kind] the late commit behind the watermark opens its alert" 1 \
    sq "$kind" "$store" "SELECT count(*) FROM alerts WHERE instance_id = 'late1'"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || rc=$?
  expect_eq "$rc" 0 "[$kind] serve exit code after SIGTERM"
}

STORE_PG=$(pg_newdb swstore)
run_scenario pg "$STORE_PG" "$STORE_PG"
run_scenario sqlite "sqlite://$T/store.db" "$T/store.db"
finish
