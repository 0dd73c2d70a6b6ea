#!/usr/bin/env bash
# bench/alert-indexes/run.sh - what the indexes of `alerts` cost each write, on the store
# schema of two migration levels side by side (default 7 and 9: migration 0009 moved three
# indexes to closed alerts only), in a throwaway PostgreSQL, alternating, ROUNDS times:
#   (a) open 100,000 alerts with their history rows, 10 batches of 10,000 (one statement
#       each, as pg_alert_insert: the alerts and their history rows)
#   (b) escalate them three times (0 -> 1 -> 2 -> 3): per level 10 batches of 10,000 of the
#       compare-and-set UPDATE + 10,000 history rows, as store_alerts_change sends them
#   (c) resolve them (3 -> 4), the same way
# Prints the summed statement times (+ commits) in ms. Knobs: LEVELS="7 9"  ROUNDS=3
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
LEVELS=${LEVELS:-"7 9"}
ROUNDS=${ROUNDS:-3}
. "$here/../services.sh"
bench_services swai

ins() {
  echo "SET client_min_messages = warning;"
  echo '\timing on'
  for b in 0 1 2 3 4 5 6 7 8 9; do
    lo=$((b * 10000 + 1)) hi=$(((b + 1) * 10000))
    cat <<SQL
BEGIN;
\echo A
WITH ins AS (INSERT INTO alerts (rule, workflow, step, step_index, instance_id, user_id, state,
  error, group_key, occurred_at, opened_at, updated_at, next_escalation_at, incident_id)
 SELECT 'failed', 'loan', 'CIBIL', 1, (1000000000 + g)::text, 'cust' || g, 0, 'BUREAU_TIMEOUT',
  'g', 1000, 2000, 2000, 3000, 1 FROM generate_series($lo, $hi) g ORDER BY g
 ON CONFLICT DO NOTHING RETURNING id, opened_at, error)
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
 SELECT id, opened_at, 'watcher', 'opened', error, NULL, 0 FROM ins ORDER BY id;
COMMIT;
SQL
  done
}
# $1 = from state, $2 = to state, $3 = next_escalation_at, $4 = resolved_by, $5 = event
change() {
  for b in 0 1 2 3 4 5 6 7 8 9; do
    lo=$((b * 10000 + 1)) hi=$(((b + 1) * 10000))
    cat <<SQL
BEGIN;
\echo U
UPDATE alerts a SET state = u.to_state, updated_at = u.at, next_escalation_at = u.next_at,
 resolved_at = CASE WHEN u.to_state = 4 THEN u.at ELSE a.resolved_at END,
 resolved_by = CASE WHEN u.to_state = 4 THEN u.resolved_by ELSE a.resolved_by END
 FROM unnest((SELECT array_agg(g::bigint) FROM generate_series($lo, $hi) g),
   array_fill($2, ARRAY[10000]), array_fill(9000::bigint, ARRAY[10000]),
   array_fill($3::bigint, ARRAY[10000]), array_fill($4::text, ARRAY[10000]),
   array_fill($1, ARRAY[10000]))
 WITH ORDINALITY AS u(id, to_state, at, next_at, resolved_by, from_state, ord)
 WHERE a.id = u.id AND a.state = u.from_state RETURNING u.ord, a.incident_id \g /dev/null
\echo H
INSERT INTO alert_history (alert_id, at, actor, event, reason, from_state, to_state)
 SELECT alert_id, at, actor, event, reason, from_state, to_state
 FROM unnest((SELECT array_agg(g::bigint) FROM generate_series($lo, $hi) g),
   array_fill(9000::bigint, ARRAY[10000]), array_fill('validator'::text, ARRAY[10000]),
   array_fill('$5'::text, ARRAY[10000]), array_fill('x'::text, ARRAY[10000]),
   array_fill($1, ARRAY[10000]), array_fill($2, ARRAY[10000]))
 WITH ORDINALITY AS u(alert_id, at, actor, event, reason, from_state, to_state, ord) ORDER BY ord;
COMMIT;
SQL
  done
}
ins >"$work/ins.sql"
{
  echo "SET client_min_messages = warning; SET enable_hashjoin = off; SET enable_mergejoin = off;"
  echo '\timing on'
  change 0 1 4000 NULL escalated
  change 1 2 5000 NULL escalated
  change 2 3 NULL NULL escalated
} >"$work/esc.sql"
{
  echo "SET client_min_messages = warning; SET enable_hashjoin = off; SET enable_mergejoin = off;"
  echo '\timing on'
  change 3 4 NULL "'resolver'" resolved
} >"$work/res.sql"
sum() {
  psql -XAt "$P/$1" -f "$2" 2>&1 | awk '/^[AUH]$/ {m = $1} /^Time:/ {s[m] += $2}
    END {if (s["A"]) printf "%5.0f", s["A"]; else printf "update %5.0f  history %5.0f", s["U"], s["H"]}'
}
for l in $LEVELS; do bench_store_at "$l"; done
echo "# alert index cost $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(psql --version | head -1)"
for r in $(seq "$ROUNDS"); do
  for l in $LEVELS; do
    psql -XAtq "$P/m$l" -f "$here/setup.sql" >/dev/null
    a=$(sum "m$l" "$work/ins.sql")
    b=$(sum "m$l" "$work/esc.sql")
    c=$(sum "m$l" "$work/res.sql")
    echo "round $r  migrations <= $l  (a) open $a ms  (b) 3 escalations: $b ms  (c) resolve: $c ms  (load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
