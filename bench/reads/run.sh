#!/usr/bin/env bash
# bench/reads/run.sh - what the operator's reads cost on a store holding a year of history:
# `/metrics` (a Prometheus scrape), the dashboard's stats over its 24 h window (funnel, TAT,
# segments, alert figures) and its lists, each timed over HTTP against `stepwatch serve`
# with the PostgreSQL store, three requests each.
#
# The store (made by SQL, in the schema `stepwatch migrate` creates): ALERTS closed alerts
# (half RESOLVED, a third of those by the resolver, half ABANDONED) in one incident, OPEN
# open alerts opened in the last day (at P0, one `escalated` history row each: the
# validator has nothing to do), INSTANCES instances of workflow `loan` started over the
# last year (a day holds INSTANCES / 365), 7 step rows each. Closed alerts have no history
# rows (10^7 inserts through the history trigger take minutes); reads that join the history
# are cheaper here than on a real store of the same size.
#
# BEFORE=path/to/older/stepwatch: make the store with that build's migrations, time its
# reads, then upgrade the store with BIN (`stepwatch migrate`, timed) and time again: an
# upgrade as a user would run it, and the before/after in one run.
#
# Knobs: ALERTS=10000000 OPEN=100000 INSTANCES=1430000 BIN=build-bench/stepwatch BEFORE=
# Results: bench/results/reads.txt (or OUT=file)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
ALERTS=${ALERTS:-10000000}
OPEN=${OPEN:-100000}
INSTANCES=${INSTANCES:-1430000}
out=${OUT:-$root/bench/results/reads.txt}
if [ -z "${BIN:-}" ]; then
  cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build-bench" --target stepwatch >/dev/null
  BIN=$root/build-bench/stepwatch
fi
"$root/scripts/install-deps"

svc=$(mktemp -d /tmp/swreads.XXXXXX)
swpid=""
cleanup() {
  [ -n "$swpid" ] && kill "$swpid" 2>/dev/null
  "$root/scripts/test-services" stop "$svc"
  rm -rf "$svc" 2>/dev/null || true
}
trap cleanup EXIT
"$root/scripts/test-services" start "$svc"
. "$svc/env"
store=${STEPWATCH_TEST_PG%/*}/swstore
psql -XAtq "$STEPWATCH_TEST_PG" -c "CREATE DATABASE swstore"
cat >"$svc/stepwatch.yaml" <<YAML
store: $store
http: { listen: "127.0.0.1:0" }
workflows:
  loan:
    steps: [PAN_VERIFY, CIBIL, AA_FETCH, UW, MANDATE, ESIGN, PAYOUT]
    segments: [channel]
YAML
now_ms() { date +%s%3N; }

"${BEFORE:-$BIN}" migrate -c "$svc/stepwatch.yaml" >/dev/null
t0=$(now_ms)
now=$(now_ms)
psql -XAtq -v ON_ERROR_STOP=1 "$store" <<SQL
SET synchronous_commit = off;
INSERT INTO incidents (group_key, workflow, step, rule, labels, state, level, open_alerts,
                       total_alerts, affected_users, opened_at, updated_at)
VALUES ('loan|CIBIL|failed|BUREAU_TIMEOUT', 'loan', 'CIBIL', 'failed', '{}', 'OPEN', 3, $OPEN,
        $ALERTS + $OPEN, $ALERTS + $OPEN, $now - 365 * 86400000::bigint, $now);
INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state, error,
                    labels, group_key, occurred_at, opened_at, updated_at, abandon_after_ms,
                    incident_id, resolved_at, resolved_by)
SELECT 'failed', 'loan', 'CIBIL', 1, 'c' || g, 'u' || (g % 3000000), 4 + g % 2,
       'BUREAU_TIMEOUT', '{}', 'loan|CIBIL|failed|BUREAU_TIMEOUT', t, t, t + 60000, 0, 1,
       CASE WHEN g % 2 = 0 THEN t + 60000 END,
       CASE WHEN g % 2 = 0 THEN CASE WHEN g % 3 = 0 THEN 'resolver' ELSE 'user:ops' END END
  FROM generate_series(1, $ALERTS) g,
       LATERAL (SELECT $now - 86400000 - (365 * 86400000::bigint * ($ALERTS - g) / $ALERTS)) x(t);
WITH o AS (
  INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state, error,
                      labels, group_key, occurred_at, opened_at, updated_at, abandon_after_ms,
                      incident_id)
  SELECT 'failed', 'loan', 'CIBIL', 1, 'o' || g, 'v' || g, 3, 'BUREAU_TIMEOUT', '{}',
         'loan|CIBIL|failed|BUREAU_TIMEOUT', t, t, t, 0, 1
    FROM generate_series(1, $OPEN) g,
         LATERAL (SELECT $now - 86400000 + 86400000::bigint * g / ($OPEN + 1)) x(t)
  RETURNING id, opened_at)
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
SELECT id, opened_at, 'watcher', 'escalated', 'p0', 0, 3 FROM o;
INSERT INTO instances (workflow, instance_id, user_id, started_at, last_progress_at,
                       max_step_index, completed_at, labels, touched)
SELECT 'loan', 'j' || g, 'u' || (g % 1000000), t, t + 600000, 6,
       CASE WHEN g % 5 <> 0 THEN t + 600000 END,
       '{"channel":"' || (ARRAY['web','app','partner'])[1 + g % 3] || '"}', 1
  FROM generate_series(1, $INSTANCES) g,
       LATERAL (SELECT $now - (365 * 86400000::bigint * g / $INSTANCES)) x(t);
INSERT INTO instance_steps (workflow, instance_id, step, step_index, status, user_id,
                            started_at, finished_at, updated_at)
SELECT 'loan', i.instance_id, s.name, s.idx, CASE WHEN i.completed_at IS NULL AND s.idx = 6
       THEN 2 ELSE 1 END, i.user_id, i.started_at + s.idx * 60000,
       i.started_at + s.idx * 60000 + 30000, i.started_at + s.idx * 60000 + 30000
  FROM instances i,
       (VALUES ('PAN_VERIFY',0),('CIBIL',1),('AA_FETCH',2),('UW',3),('MANDATE',4),('ESIGN',5),
               ('PAYOUT',6)) s(name, idx);
VACUUM ANALYZE;
SQL
echo "store made in $(( ($(now_ms) - t0) / 1000 )) s: $ALERTS closed + $OPEN open alerts, $INSTANCES instances" >&2

# the reads of one build: "name s1 s2 s3" lines
reads() {
  local bin=$1 port log=$svc/serve.log
  "$bin" serve -c "$svc/stepwatch.yaml" >"$log" 2>&1 &
  swpid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  local base=http://127.0.0.1:$port to from
  to=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  from=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)
  local w="from=$from&to=$to"
  for r in "metrics|/metrics" \
    "stats_funnel_24h|/api/v1/stats/funnel?workflow=loan&$w" \
    "stats_funnel_all|/api/v1/stats/funnel?workflow=loan&from=2000-01-01T00:00:00Z&to=$to" \
    "stats_tat_24h|/api/v1/stats/tat?workflow=loan&$w" \
    "stats_segments_24h|/api/v1/stats/segments?workflow=loan&by=channel&$w" \
    "stats_alerts_24h|/api/v1/stats/alerts?$w" \
    "alerts_open_50|/api/v1/alerts?open=true&limit=50" \
    "alerts_50|/api/v1/alerts?limit=50" \
    "incidents_open|/api/v1/incidents?open=true&limit=100"; do
    printf '%s' "${r%%|*}"
    for _ in 1 2 3; do
      printf ' %s' "$(curl -s -o "$svc/body" -w '%{http_code}:%{time_total}' "$base${r#*|}")"
    done
    echo
  done
  kill "$swpid"
  wait "$swpid" 2>/dev/null || true
  swpid=""
}

{
  echo "# reads benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ): $(nproc) cores, $(psql --version | head -1)"
  echo "# store: $ALERTS closed + $OPEN open alerts (one incident), $INSTANCES instances x 7 steps over a year"
  echo "# per read: http status:seconds, three requests"
  if [ -n "${BEFORE:-}" ]; then
    echo "## before: $BEFORE"
    reads "$BEFORE"
    t0=$(now_ms)
    "$BIN" migrate -c "$svc/stepwatch.yaml" >&2
    echo "## upgrade to $BIN: $(( $(now_ms) - t0 )) ms"
  fi
  echo "## $BIN"
  reads "$BIN"
} | tee "$out"
