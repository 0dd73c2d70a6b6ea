#!/usr/bin/env bash
# bench/lifecycle/run.sh - stepwatch against the Django + Celery reference, side by side, on the
# workload of ../../../shared/anchors (lendx schema, B background rows, K failures at once).
#
# For each K: a fresh lendx + store database on a throwaway PostgreSQL (scripts/test-services),
# `stepwatch serve` with the PostgreSQL store (SLA p2/p1/p0 = 2/4/6 s, poll 100ms), the driver
# (driver.py: the anchor's workload.py measuring the same points on stepwatch's tables), and the
# processing time of each task from stepwatch's own "task run" log lines. Then the reference,
# run by the anchor's own script in a copy of shared/anchors. Results: bench/results/lifecycle.txt
#
# Knobs: KS="1000 10000"  B=100000  SKIP_REFERENCE=1  STORE=pg|sqlite
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors}
KS=${KS:-"1000 10000"}
B=${B:-100000}
STORE=${STORE:-pg}
out=$root/bench/results/lifecycle.txt
[ "$STORE" = sqlite ] && out=$root/bench/results/lifecycle-sqlite.txt
mkdir -p "$root/bench/results"

"$root/scripts/install-deps"
dpkg-query -W python3-psycopg2 >/dev/null 2>&1 || apt-get install -y -qq python3-psycopg2 >/dev/null
cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-bench" --target stepwatch >/dev/null
bin=$root/build-bench/stepwatch

svc=$(mktemp -d /tmp/swbench.XXXXXX)
swpid=""
cleanup() {
  [ -n "$swpid" ] && kill "$swpid" 2>/dev/null
  [ -n "${LOGDIR:-}" ] && mkdir -p "$LOGDIR" && cp "$svc"/serve-*.log "$LOGDIR"/ 2>/dev/null
  "$root/scripts/test-services" stop "$svc"
  rm -rf "$svc"
}
trap cleanup EXIT
"$root/scripts/test-services" start "$svc"
. "$svc/env"
pgbase=${STEPWATCH_TEST_PG%/*}

rows=()
for K in $KS; do
  psql -XAtq "$STEPWATCH_TEST_PG" -c "DROP DATABASE IF EXISTS lendx" -c "DROP DATABASE IF EXISTS swstore" \
    -c "CREATE DATABASE lendx" -c "CREATE DATABASE swstore"
  export LENDX_URL=$pgbase/lendx STORE_URL=$pgbase/swstore
  psql -XAtq -v ON_ERROR_STOP=1 "$LENDX_URL" -f "$anchors/lendx/schema.sql"
  /usr/bin/python3 "$here/driver.py" prepare --B "$B"
  if [ "$STORE" = sqlite ]; then store_url="sqlite://$svc/store-$K.db"; else store_url=$STORE_URL; fi
  export STORE_URL=$store_url
  cat >"$svc/stepwatch.yaml" <<YAML
store: $store_url
http: { listen: "127.0.0.1:0" }
sources:
  lendx: { url: "$LENDX_URL", statement_timeout: 30s, allow_unsafe_role: true }
workflows:
  loan:
    source: lendx
    poll: 100ms
    overlap: 2s
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
      sla: { p2: 2s, p1: 4s, p0: 6s }
      stuck_after: 1h
      abandon_after: 7d
      group_by: [error]
YAML
  log=$svc/serve-$K.log
  "$bin" serve -c "$svc/stepwatch.yaml" 2>"$log" &
  swpid=$!
  row=$(/usr/bin/python3 "$here/driver.py" run --K "$K" --p0 6 --pid "$swpid")
  kill -TERM "$swpid"; wait "$swpid" || true; swpid=""
  # each task's own processing time for the K alerts, from its "task run" lines
  proc=$(awk -v k="$K" '
    / msg="task run" / {
      t = ""; d = 0; o = 0; c = 0
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "task") t = kv[2]
        if (kv[1] == "duration_ms") d = kv[2]
        if (kv[1] == "opened") o = kv[2]
        if (kv[1] == "changed") c = kv[2]
      }
      if (t ~ /^watch:/ && o > 0) det += d
      if (t == "validate") esc += d
      if (t == "resolve") res += d
    }
    END { printf "%.4f\t%.4f\t%.4f", det / 1000, esc / 1000, res / 1000 }' "$log")
  rows+=("$row	$proc")
  echo "K=$K: $row	$proc" >&2
done

ref=""
if [ -z "${SKIP_REFERENCE:-}" ]; then
  refdir=$(mktemp -d /tmp/swanchor.XXXXXX)
  cp -r "$anchors"/. "$refdir"/
  (cd "$refdir" && KS="$KS" B="$B" bash ./run-seed-bench.sh) >&2
  ref=$(cat "$refdir/results-seed.txt")
  rm -rf "$refdir"
fi

{
  echo "# lifecycle benchmark $(date -u +%FT%TZ): $(nproc) cores, $(psql --version | head -1), store=$STORE"
  echo "# B=$B background rows; SLA p2/p1/p0 = 2/4/6 s; stepwatch poll 100ms; driver polls every 20 ms"
  echo "# *_s: end to end as the anchor measures; proc_*: the stepwatch task's own run time for those K"
  echo "# first_read_s: serve start -> first watermark stored (the watcher read and ingested the B rows)"
  printf '%-6s %9s %11s %10s %7s %12s %14s %13s %13s\n' K detect_s escalate_s resolve_s rss_mb proc_detect proc_escalate proc_resolve first_read_s
  for r in "${rows[@]}"; do
    IFS=$'\t' read -r k d e s m fr pd pe pr <<<"$r"
    printf '%-6s %9s %11s %10s %7s %12s %14s %13s %13s\n' "$k" "$d" "$e" "$s" "$m" "$pd" "$pe" "$pr" "$fr"
  done
  if [ -n "$ref" ]; then
    echo
    echo "# reference (Django + Celery, shared/anchors), same run:"
    echo "$ref"
  fi
} | tee "$out"
