#!/usr/bin/env bash
# bench/firststart/run.sh - the first start of `stepwatch serve` on a PostgreSQL source that
# already holds B history rows (the anchor's lendx schema, rows made by generate_series), on
# each store: the time from start to caught up (the watcher's "caught up" log line), the peak
# RSS of the process (VmHWM from /proc/PID/status), and how soon after catching up a
# failure committed during the read is an alert.
#
# The history: B/7 journeys of 7 stages over the last 6 days (inside the default backfill
# of 7d); one journey in 1,000 failed at CIBIL (ERR, no later stages). abandon_after is 1d,
# so only the failures of the last day open alerts (late, with their real occurred_at).
#
# Knobs: BS="1000000" STORES="sqlite pg" PAGE=5000 (page_size) BIN=path/to/stepwatch
# Results: bench/results/firststart.txt
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BS=${BS:-1000000}
STORES=${STORES:-"sqlite pg"}
PAGE=${PAGE:-5000}
out=$root/bench/results/firststart.txt
mkdir -p "$root/bench/results"

if [ -z "${BIN:-}" ]; then
  cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build-bench" -j2 --target stepwatch >/dev/null
  BIN=$root/build-bench/stepwatch
fi

svc=$(mktemp -d /tmp/swfirst.XXXXXX)
swpid=""
cleanup() {
  [ -n "$swpid" ] && kill "$swpid" 2>/dev/null
  [ -n "${LOGDIR:-}" ] && mkdir -p "$LOGDIR" && cp "$svc"/*.log "$LOGDIR"/ 2>/dev/null
  "$root/scripts/test-services" stop "$svc"
  rm -rf "$svc" 2>/dev/null || true # the server may still be closing files
}
trap cleanup EXIT
"$root/scripts/test-services" start "$svc"
. "$svc/env"
pgbase=${STEPWATCH_TEST_PG%/*}
now_ms() { date +%s%3N; }

rows=()
for B in $BS; do
  psql -XAtq "$STEPWATCH_TEST_PG" -c "DROP DATABASE IF EXISTS lendx" -c "CREATE DATABASE lendx"
  src=$pgbase/lendx
  t0=$(now_ms)
  psql -XAtq -v ON_ERROR_STOP=1 "$src" <<SQL
CREATE TABLE loan_journey (
    journey_id bigint NOT NULL, customer_ref text NOT NULL, stage text NOT NULL,
    stage_status text NOT NULL, err_reason text, began timestamptz NOT NULL,
    ended timestamptz, touched timestamptz NOT NULL DEFAULT now(), channel text, lender text,
    PRIMARY KEY (journey_id, stage));
INSERT INTO loan_journey
  SELECT j, 'cust-' || j, (ARRAY['PAN_VERIFY','CIBIL','AA_FETCH','UW','MANDATE','ESIGN','PAYOUT'])[s + 1],
         CASE WHEN j % 1000 = 0 AND s = 1 THEN 'ERR' ELSE 'OK' END,
         CASE WHEN j % 1000 = 0 AND s = 1 THEN 'BUREAU_TIMEOUT' END,
         t, t + interval '1 second', t + interval '1 second',
         (ARRAY['web','app','partner'])[j % 3 + 1], (ARRAY['hdfc','icici','axis','sbi'])[j % 4 + 1]
    FROM generate_series(0, $B / 7 - 1) j, generate_series(0, 6) s,
         LATERAL (SELECT now() - interval '6 days' + (j::float8 / ($B / 7)) * interval '6 days'
                         + s * interval '2 seconds') x(t)
   WHERE NOT (j % 1000 = 0 AND s > 1);
CREATE INDEX ON loan_journey (touched);
ANALYZE loan_journey;
SQL
  nrows=$(psql -XAtq "$src" -c "SELECT count(*) FROM loan_journey")
  echo "B=$B: $nrows rows generated in $(( ($(now_ms) - t0) / 1000 )) s" >&2
  for STORE in $STORES; do
    if [ "$STORE" = sqlite ]; then
      store_url="sqlite://$svc/store-$B.db"
      rm -f "$svc/store-$B.db"*
    else
      psql -XAtq "$STEPWATCH_TEST_PG" -c "DROP DATABASE IF EXISTS swstore" -c "CREATE DATABASE swstore"
      store_url=$pgbase/swstore
    fi
    cat >"$svc/stepwatch.yaml" <<YAML
store: $store_url
http: { listen: "127.0.0.1:0" }
sources:
  lendx: { url: "$src", statement_timeout: 60s, allow_unsafe_role: true }
workflows:
  loan:
    source: lendx
    poll: 1s
    page_size: $PAGE
    steps_query: |
      SELECT journey_id AS instance_id, customer_ref AS user_id, stage AS step,
             CASE stage_status WHEN 'OK' THEN 'SUCCESS' WHEN 'ERR' THEN 'FAILED'
                  ELSE stage_status END AS status,
             err_reason AS error, began AS started_at, ended AS finished_at,
             touched AS updated_at, channel, lender
        FROM loan_journey WHERE touched > :since ORDER BY touched
    steps: [PAN_VERIFY, CIBIL, AA_FETCH, UW, MANDATE, ESIGN, PAYOUT]
    segments: [channel, lender]
    defaults:
      sla: { p2: 15m, p1: 1h, p0: 4h }
      stuck_after: 1h
      abandon_after: 1d
      group_by: [error]
YAML
    "$BIN" migrate -c "$svc/stepwatch.yaml" >"$svc/migrate.log" 2>&1
    log=$svc/serve-$STORE-$B.log
    : >"$log"
    start=$(now_ms)
    "$BIN" serve -c "$svc/stepwatch.yaml" 2>"$log" &
    swpid=$!
    sleep 0.5
    # a live failure, committed while the backlog is read
    psql -XAtq "$src" -c "DELETE FROM loan_journey WHERE journey_id = -1" -c "INSERT INTO loan_journey VALUES (-1, 'live', 'CIBIL', 'ERR', 'LIVE', now(),
                            now(), clock_timestamp(), 'web', 'hdfc')"
    caught="" live="" hwm=0
    while kill -0 "$swpid" 2>/dev/null; do
      [ -z "$caught" ] && grep -q 'msg="caught up"' "$log" && caught=$(now_ms)
      if [ -n "$caught" ] && [ -z "$live" ]; then
        if [ "$STORE" = sqlite ]; then
          n=$(sqlite3 "$svc/store-$B.db" "SELECT count(*) FROM alerts WHERE instance_id = '-1'" 2>/dev/null || echo 0)
        else
          n=$(psql -XAtq "$store_url" -c "SELECT count(*) FROM alerts WHERE instance_id = '-1'")
        fi
        [ "${n:-0}" -ge 1 ] && live=$(now_ms)
      fi
      [ -n "$live" ] && break
      [ $(( $(now_ms) - start )) -gt 1800000 ] && { echo "timeout" >&2; break; }
      sleep 0.1
    done
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$swpid/status")
    kill -TERM "$swpid"; wait "$swpid" || true; swpid=""
    alerts=$(if [ "$STORE" = sqlite ]; then sqlite3 "$svc/store-$B.db" "SELECT count(*) FROM alerts"; \
             else psql -XAtq "$store_url" -c "SELECT count(*) FROM alerts"; fi)
    line=$(grep -m1 'msg="caught up"' "$log" || true)
    row=$(printf '%-9s %-7s %9s %12s %9s %14s %8s' "$B" "$STORE" "$nrows" \
      "$(awk -v a="$start" -v b="${caught:-0}" 'BEGIN {printf "%.1f", (b - a) / 1000}')" \
      "$(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}')" \
      "$(awk -v a="${caught:-0}" -v b="${live:-0}" 'BEGIN {printf "%.2f", (b - a) / 1000}')" "$alerts")
    rows+=("$row")
    echo "$row   ($line)" >&2
  done
done

{
  echo "# first start $(date -u +%FT%TZ): $(nproc) cores, $(psql --version | head -1), page_size=$PAGE"
  echo "# caught_up_s: serve start -> the watcher's \"caught up\" log line (polled every 100 ms)"
  echo "# peak_rss_mb: VmHWM of serve; live_after_s: caught up -> alert of the failure committed during the read"
  printf '%-9s %-7s %9s %12s %9s %14s %8s\n' B store rows caught_up_s peak_rss_mb live_after_s alerts
  for r in "${rows[@]}"; do echo "$r"; done
} | tee "$out"
