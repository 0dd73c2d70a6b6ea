#!/usr/bin/env bash
# bench/alert-writes/run.sh - the validator's and the resolver's two big statements alone, on
# the store schema of two migration levels side by side (default 6 and 7), in a throwaway
# PostgreSQL: 100,000 alerts, then ten batches of 10,000 of
#   escalate: the compare-and-set UPDATE (state 0 -> 3) + 30,000 history rows (P2, P1, P0)
#   resolve:  the compare-and-set UPDATE (state 0 -> 4) + 10,000 history rows
# exactly as store_alerts_change sends them (unnest arrays, hash/merge joins off).
# Prints the summed UPDATE time and history insert (+ commit) time in ms per run.
# Knobs: LEVELS="6 7"  ROUNDS=2  INDEXES=1 (also drop alerts' indexes one by one at the last level)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
LEVELS=${LEVELS:-"6 7"}
ROUNDS=${ROUNDS:-2}
. "$here/../services.sh"
bench_services swaw

# batches: $1 = to_state, $2 = history rows per alert
gen() {
  echo "SET enable_hashjoin = off; SET enable_mergejoin = off; SET work_mem = '32MB';"
  echo '\timing on'
  for b in 0 1 2 3 4 5 6 7 8 9; do
    lo=$((b * 10000 + 1)) hi=$(((b + 1) * 10000)) h=$((10000 * $2))
    cat <<SQL
BEGIN;
\echo UPD
UPDATE alerts a SET state = u.to_state, updated_at = u.at, next_escalation_at = u.next_at,
 resolved_at = CASE WHEN u.to_state = 4 THEN u.at ELSE a.resolved_at END,
 resolved_by = CASE WHEN u.to_state = 4 THEN u.resolved_by ELSE a.resolved_by END
 FROM unnest((SELECT array_agg(g::bigint) FROM generate_series($lo, $hi) g),
   array_fill($1, ARRAY[10000]), array_fill(9000::bigint, ARRAY[10000]),
   array_fill(NULL::bigint, ARRAY[10000]), array_fill('resolver'::text, ARRAY[10000]),
   array_fill(0, ARRAY[10000]))
 WITH ORDINALITY AS u(id, to_state, at, next_at, resolved_by, from_state, ord)
 WHERE a.id = u.id AND a.state = u.from_state RETURNING u.ord, a.incident_id \g /dev/null
\echo HIST
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
 SELECT alert_id, at, actor, event, reason, from_state, to_state
 FROM unnest((SELECT array_agg(($lo + (g - 1) / $2)::bigint) FROM generate_series(1, $h) g),
   array_fill(9000::bigint, ARRAY[$h]), array_fill('validator'::text, ARRAY[$h]),
   array_fill('escalated'::text, ARRAY[$h]), array_fill('sla P2 2s passed'::text, ARRAY[$h]),
   array_fill(0, ARRAY[$h]), array_fill(1, ARRAY[$h]))
 WITH ORDINALITY AS u(alert_id, at, actor, event, reason, from_state, to_state, ord) ORDER BY ord;
COMMIT;
SQL
  done
}
gen 3 3 >"$work/esc.sql"
gen 4 1 >"$work/res.sql"
run() {
  psql -XAtq "$P/$1" -f "$here/setup.sql" >/dev/null 2>&1
  psql -XAt "$P/$1" -f "$2" 2>&1 | awk '/^UPD/ {m = "u"} /^HIST/ {m = "h"} /^Time:/ {s[m] += $2}
    END {printf "update %5.0f ms  history %5.0f ms", s["u"], s["h"]}'
}
for l in $LEVELS; do bench_store_at "$l"; done
echo "# alert writes $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(psql --version | head -1)"
for r in $(seq "$ROUNDS"); do
  for what in esc res; do
    for l in $LEVELS; do
      echo "migrations <= $l  $what  $(run "m$l" "$work/$what.sql")  (load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
done
if [ -n "${INDEXES:-}" ]; then
  last=${LEVELS##* }
  for i in alerts_state_idx alerts_user_idx alerts_incident_idx alerts_instance_idx alerts_open_step_idx; do
    psql -XAtq "$P/m$last" -c "DROP INDEX $i"
    n=$(psql -XAt "$P/m$last" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'alerts'")
    echo "without $i too ($n indexes on alerts)  esc  $(run "m$last" "$work/esc.sql")  (load $(cut -d' ' -f1 /proc/loadavg))"
  done
fi
