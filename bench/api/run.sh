#!/usr/bin/env bash
# bench/api/run.sh - the API benchmark of issue 4: GET /api/v1/alerts?limit=100 and
# GET /api/v1/alerts/{id} (random ids) with N alerts (default 100,000, three history rows
# each) in the store, on loopback, for stepwatch on the SQLite store, on the PostgreSQL store,
# and for the Django reference (bench/api/reference, a copy of shared/anchors/monitor with the
# two views added) under gunicorn on the same PostgreSQL and the same rows.
#
# Per target and request: wrk -t2 -c50 -d${D}s --latency (maximum throughput and its
# latencies), then paced.py at RATE req/s for ${D}s (p99 from each request's due time).
# Results: bench/results/api.txt.
#
# Knobs: N=100000  D=15  RATE=1000  SW_BIN=path (default: a Release build in build-bench-api/)
#        GUNICORN_WORKERS (default 2*cores+1)  SKIP_REFERENCE=1
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
N=${N:-100000}
D=${D:-15}
RATE=${RATE:-1000}
PY=/usr/bin/python3
GUNICORN_WORKERS=${GUNICORN_WORKERS:-$(($(nproc) * 2 + 1))}
out=$root/bench/results/api.txt
mkdir -p "$root/bench/results"

for pkg in wrk python3-django python3-gunicorn python3-psycopg2 sqlite3 postgresql-client; do
  dpkg-query -W "$pkg" >/dev/null 2>&1 || apt-get install -y -qq "$pkg" >/dev/null
done
if [ -z "${SW_BIN:-}" ]; then
  cmake -S "$root" -B "$root/build-bench-api" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build-bench-api" --target stepwatch >/dev/null
  SW_BIN=$root/build-bench-api/stepwatch
fi

svc=$(mktemp -d /tmp/swbench-api.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$root/scripts/test-services" stop "$svc"
  rm -rf "$svc"
}
trap cleanup EXIT
"$root/scripts/test-services" start "$svc"
. "$svc/env"
pgbase=${STEPWATCH_TEST_PG%/*}
log() { echo "[$(date +%T)] $*" >&2; }

# The rows: N alerts (one in ten open, at P2, escalation due in a year so no task touches
# them; the rest resolved by the resolver), 20 incidents, 3 history rows per alert. One SQL
# text for both stores (a recursive CTE instead of generate_series). Times are epoch ms.
sw_load_sql() {
  cat <<SQL
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20)
INSERT INTO incidents (id, group_key, workflow, step, rule, labels, state, level, open_alerts,
                       total_alerts, affected_users, opened_at, updated_at)
SELECT i, 'lending|bureau_pull|failed|E' || i, 'lending', 'bureau_pull', 'failed',
       '{"error":"E' || i || '"}', 'OPEN', 1, $N / 200, $N / 20, $N / 20,
       1763000000000, 1763000000000 FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO alerts (id, rule, workflow, step, step_index, instance_id, user_id, state, error,
                    labels, group_key, occurred_at, opened_at, updated_at, next_escalation_at,
                    resolved_at, resolved_by, incident_id)
SELECT i, 'failed', 'lending', 'bureau_pull', 1, CAST(i AS TEXT), 'u' || i,
       CASE WHEN i % 10 = 0 THEN 1 ELSE 4 END, 'E' || (i % 20 + 1),
       '{"channel":"web","error":"E' || (i % 20 + 1) || '"}',
       'lending|bureau_pull|failed|E' || (i % 20 + 1),
       1763000000000 + i * 1000, 1763000000500 + i * 1000, 1763000060000 + i * 1000,
       CASE WHEN i % 10 = 0 THEN 1900000000000 END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 1763000060000 + i * 1000 END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'resolver' END,
       i % 20 + 1 FROM s;
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, opened_at, 'watcher', 'opened', 'step failed: ' || error, NULL, 0 FROM alerts;
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, opened_at + 2000, 'validator', 'escalated', 'sla p2 passed', 0, 1 FROM alerts;
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, updated_at, 'resolver', CASE WHEN state = 4 THEN 'resolved' ELSE 'notified' END,
       CASE WHEN state = 4 THEN 'step succeeded' ELSE 'webhook ops' END,
       CASE WHEN state = 4 THEN 1 END, CASE WHEN state = 4 THEN 4 END FROM alerts;
COMMIT;
ANALYZE;
SQL
}

# The same alerts in the reference's tables (status names, timestamptz).
ref_load_sql() {
  cat <<SQL
BEGIN;
INSERT INTO alerts_alert (id, workflow, step, instance_id, user_id, error, occurred_at, status,
                          created_at, updated_at, resolved_at, resolved_by)
SELECT i, 'lending', 'bureau_pull', i::text, 'u' || i, 'E' || (i % 20 + 1),
       to_timestamp(1763000000 + i), CASE WHEN i % 10 = 0 THEN 'ESCALATION_P2' ELSE 'RESOLVED' END,
       to_timestamp(1763000000.5 + i), to_timestamp(1763000060 + i),
       CASE WHEN i % 10 = 0 THEN NULL ELSE to_timestamp(1763000060 + i) END,
       CASE WHEN i % 10 = 0 THEN '' ELSE 'resolver' END
  FROM generate_series(1, $N) i;
SELECT setval(pg_get_serial_sequence('alerts_alert', 'id'), $N);
INSERT INTO alerts_alerthistory (alert_id, at, from_status, to_status, reason)
SELECT id, created_at, '', 'INITIATED', 'step failed: ' || error FROM alerts_alert;
INSERT INTO alerts_alerthistory (alert_id, at, from_status, to_status, reason)
SELECT id, created_at + interval '2 s', 'INITIATED', 'ESCALATION_P2', 'sla p2 passed' FROM alerts_alert;
INSERT INTO alerts_alerthistory (alert_id, at, from_status, to_status, reason)
SELECT id, updated_at, 'ESCALATION_P2', 'RESOLVED', 'step succeeded' FROM alerts_alert
 WHERE status = 'RESOLVED';
COMMIT;
ANALYZE;
SQL
}

cat >"$svc/detail.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/v1/alerts/" .. math.random(1, $N))
end
LUA

# wait_port LOGFILE -> the port from stepwatch's "msg=listening ... port=N" line
wait_port() {
  local p=""
  for _ in $(seq 200); do
    p=$(sed -n 's/.*msg=listening.* port=\([0-9]*\).*/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  echo "no port in $1" >&2
  return 1
}
wait_http() {  # URL: until it answers 200
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

# measure NAME BASE_URL: wrk and paced for both requests; appends rows to $rows
rows=()
measure() {
  local name=$1 base=$2 w rps p99 pr what url
  for what in list detail; do
    if [ $what = list ]; then url="$base/api/v1/alerts?limit=100"; else url="$base/api/v1/alerts/{id}"; fi
    # warm-up
    wrk -t2 -c50 -d3s ${url/\{id\}/1} >/dev/null 2>&1 || true
    if [ $what = list ]; then
      w=$(wrk -t2 -c50 -d"${D}s" --latency "$url")
    else
      w=$(wrk -t2 -c50 -d"${D}s" --latency -s "$svc/detail.lua" "$base")
    fi
    echo "$w" >"$svc/wrk-$name-$what.txt"
    grep -qE "Non-2xx|Socket errors" <<<"$w" && log "$name $what: $(grep -E 'Non-2xx|Socket errors' <<<"$w")"
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$w")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$w")
    pr=$(MAX_ID=$N "$PY" "$here/paced.py" "$url" "$RATE" "$D" 4)
    log "$name $what: wrk ${rps} req/s p99 ${p99}; paced: $pr"
    rows+=("$name|$what|$rps|$p99|$pr")
  done
}

sw_serve() {  # KIND STORE_URL
  local kind=$1 store=$2 cfg=$svc/sw-$1.yaml port
  cat >"$cfg" <<YAML
store: $store
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$pgbase/swsrc", statement_timeout: 5s, allow_unsafe_role: true }
workflows:
  idle:
    source: app
    poll: 1s
    steps_query: |
      SELECT instance_id, user_id, step, status, error, started_at, finished_at, updated_at
        FROM steps WHERE updated_at > :since ORDER BY updated_at
    steps: [a, b]
YAML
  "$SW_BIN" migrate -c "$cfg" >/dev/null
  log "loading $N alerts into the $kind store"
  if [ "$kind" = pg ]; then
    sw_load_sql | psql -XAtq -v ON_ERROR_STOP=1 "$store" >/dev/null
  else
    sw_load_sql | sqlite3 -batch -bail "${store#sqlite://}" >/dev/null
  fi
  "$SW_BIN" serve -c "$cfg" >"$svc/serve-$kind.log" 2>&1 &
  pids+=($!)
  SW_PID=$!
  port=$(wait_port "$svc/serve-$kind.log")
  wait_http "http://127.0.0.1:$port/api/v1/alerts?limit=1"
  SW_PORT=$port
}

psql -XAtq -v ON_ERROR_STOP=1 "$STEPWATCH_TEST_PG" -c "CREATE DATABASE swsrc" -c "CREATE DATABASE swstore" \
  -c "CREATE DATABASE wfmonitor"
psql -XAtq -v ON_ERROR_STOP=1 "$pgbase/swsrc" -c "CREATE TABLE steps (instance_id text, user_id text,
  step text, status text, error text, started_at timestamptz, finished_at timestamptz, updated_at timestamptz)"

for kind in sqlite pg; do
  if [ $kind = pg ]; then store=$pgbase/swstore; else store=sqlite://$svc/store.db; fi
  sw_serve $kind "$store"
  measure "stepwatch-$kind" "http://127.0.0.1:$SW_PORT"
  kill "$SW_PID"
  wait "$SW_PID" 2>/dev/null || true
done

if [ -z "${SKIP_REFERENCE:-}" ]; then
  port=${STEPWATCH_TEST_PG##*:}
  port=${port%%/*}
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD="" MONITOR_DB=wfmonitor \
    LENDX_DB=wfmonitor DJANGO_SETTINGS_MODULE=monitor.settings
  (cd "$here/reference" && "$PY" manage.py migrate -v 0)
  log "loading $N alerts into the reference's tables"
  ref_load_sql | psql -XAtq -v ON_ERROR_STOP=1 "$pgbase/wfmonitor" >/dev/null
  ref_port=$((20000 + RANDOM % 30000))
  (cd "$here/reference" && exec "$PY" -m gunicorn --workers "$GUNICORN_WORKERS" \
    --bind "127.0.0.1:$ref_port" --log-level warning --access-logfile - --disable-redirect-access-to-syslog \
    monitor.wsgi >/dev/null 2>"$svc/gunicorn.log") &
  pids+=($!)
  wait_http "http://127.0.0.1:$ref_port/api/v1/alerts?limit=1"
  measure "reference" "http://127.0.0.1:$ref_port"
fi

# the table
{
  echo "# API benchmark $(date -u +%FT%TZ): $N alerts (3 history rows each), loopback, wrk -t2 -c50 -d${D}s"
  echo "# $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GB;" \
    "client and server share the cores; $("$SW_BIN" version | head -1) at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?');" \
    "reference: Django $("$PY" -c 'import django; print(django.get_version())') under gunicorn" \
    "$("$PY" -c 'import gunicorn; print(gunicorn.__version__)') sync, $GUNICORN_WORKERS workers, CONN_MAX_AGE=600"
  echo "# paced: paced.py at $RATE req/s for ${D}s over 4 keep-alive connections, latency from each request's due time"
  printf "%-18s %-7s %12s %10s   %s\n" target request wrk_req_s wrk_p99 "paced ($RATE req/s)"
  for r in "${rows[@]}"; do
    IFS='|' read -r t w rps p99 pr <<<"$r"
    printf "%-18s %-7s %12s %10s   %s\n" "$t" "$w" "$rps" "$p99" "$pr"
  done
  ref_of() { for r in "${rows[@]}"; do IFS='|' read -r t w rps _ _ <<<"$r"; [ "$t|$w" = "reference|$1" ] && echo "$rps"; done; return 0; }
  for r in "${rows[@]}"; do
    IFS='|' read -r t w rps _ _ <<<"$r"
    [ "$t" = reference ] && continue
    ref=$(ref_of "$w")
    if [ -n "$ref" ]; then
      awk -v t="$t" -v w="$w" -v a="$rps" -v b="$ref" \
        'BEGIN { printf "# ratio %s %s vs reference: %.1fx (target 10x: %s)\n", t, w, a / b, (a / b >= 10 ? "met" : "NOT met") }'
    fi
  done
} | tee "$out"
