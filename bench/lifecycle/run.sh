#!/usr/bin/env bash
# bench/lifecycle/run.sh - stepwatch against the Django + Celery reference, side by side, on the
# workload of ../../../shared/anchors (lendx schema, B background rows, K failures at once).
#
# For each K: a fresh lendx + store database on a throwaway PostgreSQL (scripts/test-services),
# `stepwatch serve` with the PostgreSQL store (SLA p2/p1/p0 = 2/4/6 s, poll 100ms), the driver
# (driver.py: the anchor's workload.py measuring the same points on stepwatch's tables), and the
# processing time of each task from stepwatch's own "task run" log lines; then the floor: the
# anchor's lendx/lower_bound.sql (one set-based statement per phase) in the same PostgreSQL, on
# the same data. Then the reference, run by the anchor's own script in a copy of
# shared/anchors. Results: bench/results/lifecycle.txt
#
# Knobs: KS="1000 10000"  B=100000  SKIP_REFERENCE=1  STORE=pg|sqlite  LOGDIR=dir (keep logs)
#        REF_KS="1000 10000": the K the reference runs (default: those of KS up to 10,000)
#        PHASE_TIMEOUT=300: seconds a phase may take before it shows "timeout"
#        PG_PROFILE=1: the store database logs statements over 100 ms with their plans
#        (auto_explain, ANALYZE, BUFFERS) to the throwaway server's log (LOGDIR/pg.log);
#        PG_PROFILE=statements: each statement's duration (over PG_LOG_MS, default 0) in the
#        store and the source databases, without bind values, no plans
#        SW_BIN=path: run that stepwatch binary instead of building this tree (before/after)
#        PAGE_SIZE=n: the workflow's page_size (default: stepwatch's, 5000)
#        OVERLAP=10s: the workflow's overlap (default 2s here; stepwatch's own default is 10s)
#        SLA="2 4 6": the p2, p1 and p0 SLAs in seconds; DETECT_ONLY=1: stop each K after
#        detect. SLA="600 1200 1800" DETECT_ONLY=1 times the watcher's path alone, with no
#        escalation sharing the store during detect (the default SLA passes P2 and P1 while
#        K = 100,000 is being detected)
#        OUT=file: write the table there instead of bench/results/lifecycle[-sqlite].txt
#        LATENCY_S=30 [RATE=1000]: after the K runs, a fresh start on B rows and single failures
#        one at a time under RATE healthy records/s for LATENCY_S s: detection p50/p99/max
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors}
KS=${KS:-"1000 10000"}
# the reference takes minutes per phase beyond K = 10,000: by default it runs those K only
REF_KS=${REF_KS:-$(for k in $KS; do if [ "$k" -le 10000 ]; then printf '%s ' "$k"; fi; done)}
REF_KS=${REF_KS:-1000}
B=${B:-100000}
read -r p2 p1 p0 <<<"${SLA:-2 4 6}"
STORE=${STORE:-pg}
out=$root/bench/results/lifecycle.txt
[ "$STORE" = sqlite ] && out=$root/bench/results/lifecycle-sqlite.txt
out=${OUT:-$out}
mkdir -p "$root/bench/results"

"$root/scripts/install-deps"
dpkg-query -W python3-psycopg2 >/dev/null 2>&1 || apt-get install -y -qq python3-psycopg2 >/dev/null
if [ -n "${SW_BIN:-}" ]; then
  bin=$SW_BIN # another build, e.g. an older commit for a before/after run
else
  cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build-bench" --target stepwatch >/dev/null
  bin=$root/build-bench/stepwatch
fi

svc=$(mktemp -d /tmp/swbench.XXXXXX)
swpid=""
cleanup() {
  if [ -n "$swpid" ]; then kill "$swpid" 2>/dev/null || true; fi
  if [ -n "${LOGDIR:-}" ]; then
    mkdir -p "$LOGDIR"
    cp "$svc"/serve-*.log "$svc"/lb-*.txt "$svc"/mf-*.txt "$svc"/pg.log "$LOGDIR"/ 2>/dev/null || true
  fi
  "$root/scripts/test-services" stop "$svc" || true
  rm -rf "$svc"
}
trap cleanup EXIT
"$root/scripts/test-services" start "$svc"
. "$svc/env"
pgbase=${STEPWATCH_TEST_PG%/*}

rows=()
lat=""
reread=""
# the K runs, then (LATENCY_S > 0) one more fresh start for the detection latency
for K in $KS ${LATENCY_S:+latency}; do
  psql -XAtq "$STEPWATCH_TEST_PG" -c "DROP DATABASE IF EXISTS lendx" -c "DROP DATABASE IF EXISTS swstore" \
    -c "CREATE DATABASE lendx" -c "CREATE DATABASE swstore"
  export LENDX_URL=$pgbase/lendx STORE_URL=$pgbase/swstore
  psql -XAtq -v ON_ERROR_STOP=1 "$LENDX_URL" -f "$anchors/lendx/schema.sql"
  /usr/bin/python3 "$here/driver.py" prepare --B "$B"
  if [ "$STORE" = sqlite ]; then store_url="sqlite://$svc/store-$K.db"; else store_url=$STORE_URL; fi
  export STORE_URL=$store_url
  if [ "${PG_PROFILE:-}" = statements ] && [ "$STORE" != sqlite ]; then
    # every statement of the store and of the source (its page reads), without the bind
    # values (a batch's arrays would make the log hundreds of MB and the run slower)
    for db in swstore lendx; do
      psql -XAtq "$pgbase/$db" -c "ALTER DATABASE $db SET log_min_duration_statement = '${PG_LOG_MS:-0}'" \
        -c "ALTER DATABASE $db SET log_parameter_max_length = 0"
    done
  elif [ -n "${PG_PROFILE:-}" ] && [ "$STORE" != sqlite ]; then
    psql -XAtq "$pgbase/swstore" -c "ALTER DATABASE swstore SET session_preload_libraries = 'auto_explain'" \
      -c "ALTER DATABASE swstore SET auto_explain.log_min_duration = '100ms'" \
      -c "ALTER DATABASE swstore SET auto_explain.log_analyze = on" \
      -c "ALTER DATABASE swstore SET auto_explain.log_buffers = on" \
      -c "ALTER DATABASE swstore SET auto_explain.log_nested_statements = on"
  fi
  cat >"$svc/stepwatch.yaml" <<YAML
store: $store_url
http: { listen: "127.0.0.1:0" }
sources:
  lendx: { url: "$LENDX_URL", statement_timeout: 30s, allow_unsafe_role: true }
workflows:
  loan:
    source: lendx
    poll: 100ms
    overlap: ${OVERLAP:-2s}
${PAGE_SIZE:+    page_size: $PAGE_SIZE}
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
      sla: { p2: ${p2}s, p1: ${p1}s, p0: ${p0}s }
      stuck_after: 1h
      abandon_after: 7d
      group_by: [error]
YAML
  log=$svc/serve-$K.log
  "$bin" serve -c "$svc/stepwatch.yaml" 2>"$log" &
  swpid=$!
  if [ "$K" = latency ]; then
    lat=$(/usr/bin/python3 "$here/driver.py" latency --seconds "$LATENCY_S" --rate "${RATE:-1000}" \
      --pid "$swpid")
    # what the watcher asked of the source: rows it read (/metrics), less the B history
    # rows of the first start, per record the driver wrote
    port=$(sed -n 's/.*msg="http listening".* port=\([0-9]*\).*/\1/p' "$log" | head -1)
    read_rows=$(curl -fsS "http://127.0.0.1:$port/metrics" |
      awk '/^stepwatch_watcher_rows_read_total/ { print $NF }')
    reread=$(awk -v r="${read_rows:-0}" -v b="$B" -v n="$(( ${RATE:-1000} * LATENCY_S ))" \
      'BEGIN { printf "%.1f", (r - b) / n }')
    kill -TERM "$swpid"; wait "$swpid" || true; swpid=""
    continue
  fi
  row=$(/usr/bin/python3 "$here/driver.py" run --K "$K" --p0 "$p0" --pid "$swpid" \
    --timeout "${PHASE_TIMEOUT:-300}" ${DETECT_ONLY:+--detect-only})
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
  # the floor: the anchor's set-based statements on the same lendx rows, same PostgreSQL
  psql -X -d "$LENDX_URL" -v p2=$p2 -v p1=$p1 -v p0=$p0 -f "$anchors/lendx/lower_bound.sql" >"$svc/lb-$K.txt"
  lb=$(awk '/^LB_(DETECT|ESCALATE|RESOLVE)$/ {m = $1}
            /^Time:/ && m {t[m] = $2 / 1000; m = ""}
            END {printf "%.4f\t%.4f\t%.4f", t["LB_DETECT"], t["LB_ESCALATE"], t["LB_RESOLVE"]}' "$svc/lb-$K.txt")
  # the floor of stepwatch's own model: what it stores, one set-based statement per table,
  # on the store's schema (every migration) in the schema mf of the same database
  psql -XAtq "$LENDX_URL" -c "DROP SCHEMA IF EXISTS mf CASCADE" -c "CREATE SCHEMA mf" 2>/dev/null
  for f in "$root"/src/store/migrations/postgres/*.sql; do
    PGOPTIONS="-c search_path=mf" psql -XAtq -v ON_ERROR_STOP=1 "$LENDX_URL" -f "$f" >/dev/null
  done
  psql -X -d "$LENDX_URL" -v p2=$p2 -v p1=$p1 -v p0=$p0 -f "$here/model_floor.sql" >"$svc/mf-$K.txt"
  mf=$(awk '/^MF_(DETECT|ESCALATE|RESOLVE)$/ {m = $1}
            /^MF_CHECK/ {m = ""}
            /^Time:/ && m {t[m] += $2 / 1000}
            END {printf "%.4f\t%.4f\t%.4f", t["MF_DETECT"], t["MF_ESCALATE"], t["MF_RESOLVE"]}' "$svc/mf-$K.txt")
  rows+=("$row	$proc	$lb	$mf")
  echo "K=$K: $row	$proc	$lb (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done

ref=""
if [ -z "${SKIP_REFERENCE:-}" ]; then
  refdir=$(mktemp -d /tmp/swanchor.XXXXXX)
  cp -r "$anchors"/. "$refdir"/
  (cd "$refdir" && KS="$REF_KS" B="$B" bash ./run-seed-bench.sh) >&2
  ref=$(cat "$refdir/results-seed.txt")
  rm -rf "$refdir"
fi

{
  echo "# lifecycle benchmark $(date -u +%FT%TZ): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg), $(psql --version | head -1), store=$STORE, ${SW_BIN:-$(git -C "$root" rev-parse --short HEAD)}"
  echo "# B=$B background rows; SLA p2/p1/p0 = $p2/$p1/$p0 s; stepwatch poll 100ms; driver polls every 20 ms (index probes, a count confirms)"
  echo "# *_s: end to end as the anchor measures; proc_*: the stepwatch task's own run time for those K"
  echo "# rss_mb: peak RSS of serve (VmHWM); first_read_s: serve start -> watermark at the newest history row (caught up)"
  printf '%-7s %9s %11s %10s %7s %12s %14s %13s %13s\n' K detect_s escalate_s resolve_s rss_mb proc_detect proc_escalate proc_resolve first_read_s
  for r in "${rows[@]}"; do
    IFS=$'\t' read -r k d e s m fr pd pe pr ld le lr md me mr <<<"$r"
    printf '%-7s %9s %11s %10s %7s %12s %14s %13s %13s\n' "$k" "$d" "$e" "$s" "$m" "$pd" "$pe" "$pr" "$fr"
  done
  echo
  echo "# per alert (us = end to end / K) and against the floor (lb_*: lendx/lower_bound.sql, same PostgreSQL, same rows)"
  printf '%-7s %8s %8s %8s %9s %9s %9s %8s %8s %8s %9s %9s %9s\n' K us_det us_esc us_res lb_det_s lb_esc_s lb_res_s x_det x_esc x_res xproc_det xproc_esc xproc_res
  for r in "${rows[@]}"; do
    IFS=$'\t' read -r k d e s m fr pd pe pr ld le lr md me mr <<<"$r"
    awk -v k="$k" -v d="$d" -v e="$e" -v s="$s" -v pd="$pd" -v pe="$pe" -v pr="$pr" \
        -v ld="$ld" -v le="$le" -v lr="$lr" 'function us(x) { return x ~ /^[0-9.]+$/ ? sprintf("%.1f", x * 1e6 / k) : "-" }
      function rt(x, y) { return x ~ /^[0-9.]+$/ && y > 0 ? sprintf("%.2f", x / y) : "-" }
      BEGIN { printf "%-7s %8s %8s %8s %9s %9s %9s %8s %8s %8s %9s %9s %9s\n", k, us(d), us(e), us(s),
                     ld, le, lr, rt(d, ld), rt(e, le), rt(s, lr), rt(pd, ld), rt(pe, le), rt(pr, lr) }'
  done
  echo
  echo "# the floor of stepwatch's own model (mf_*: bench/lifecycle/model_floor.sql: what stepwatch stores, one"
  echo "# set-based statement per table, on the store's schema, same PostgreSQL): model = mf / lb (the cost of"
  echo "# what is stored), code = stepwatch end to end / mf (the cost of the program around it)"
  printf '%-7s %9s %9s %9s %8s %8s %8s %8s %8s %8s\n' K mf_det_s mf_esc_s mf_res_s model_det model_esc model_res code_det code_esc code_res
  for r in "${rows[@]}"; do
    IFS=$'\t' read -r k d e s m fr pd pe pr ld le lr md me mr <<<"$r"
    awk -v k="$k" -v d="$d" -v e="$e" -v s="$s" -v ld="$ld" -v le="$le" -v lr="$lr" \
        -v md="$md" -v me="$me" -v mr="$mr" 'function rt(x, y) { return x ~ /^[0-9.]+$/ && y > 0 ? sprintf("%.2f", x / y) : "-" }
      BEGIN { printf "%-7s %9s %9s %9s %8s %8s %8s %8s %8s %8s\n", k, md, me, mr, rt(md, ld), rt(me, le),
                     rt(mr, lr), rt(d, md), rt(e, me), rt(s, mr) }'
  done
  if [ -n "$lat" ]; then
    echo
    echo "# detection latency of single failures (commit -> alert visible, driver polls every 5 ms)"
    echo "# under a steady background of ${RATE:-1000} healthy records/s, for ${LATENCY_S} s; poll 100ms"
    echo "# reads_per_record: rows the watcher read from the source per record written (overlap ${OVERLAP:-2s})"
    printf '%-9s %8s %8s %8s %11s %16s\n' failures p50_ms p99_ms max_ms undetected reads_per_record
    IFS=$'\t' read -r ln l50 l99 lmax lmiss <<<"$lat"
    printf '%-9s %8s %8s %8s %11s %16s\n' "$ln" "$l50" "$l99" "$lmax" "$lmiss" "$reread"
  fi
  if [ -n "$ref" ]; then
    echo
    echo "# reference (Django + Celery, shared/anchors), same run:"
    echo "$ref"
  fi
} | tee "$out"
