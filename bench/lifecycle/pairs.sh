#!/usr/bin/env bash
# bench/lifecycle/pairs.sh - two (or more) stepwatch builds through bench/lifecycle/run.sh,
# alternated, REPS rounds, one line per run, so a change is judged against the spread of the
# same machine in the same minutes rather than against a number from another hour. Single
# runs of K = 100,000 vary by 10-20 % here; the second of two back-to-back runs is often the
# slower, so the order is reversed every other round.
#
# Usage: bench/lifecycle/pairs.sh NAME=path/to/stepwatch NAME=path/to/stepwatch ...
# Knobs: REPS=3  KS=100000  STORE=pg|sqlite  SLA="2 4 6"  DETECT_ONLY=1  OUTDIR=dir
#        (KS, STORE, SLA and DETECT_ONLY as for run.sh; the reference is never run)
# Output: per run, the build's name, run.sh's row (K, the three phases, RSS, the tasks' own
# times, first read) and the ratios to the anchor's floor; then per build the median and
# range of each phase (the lower middle run for an even REPS). Each run's table and logs stay
# in OUTDIR/<name>-<round>/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { sed -n 2,15p "$0" >&2; exit 2; }
reps=${REPS:-3}
outdir=${OUTDIR:-$(mktemp -d /tmp/swpairs.XXXXXX)}
mkdir -p "$outdir"
names=()
bins=()
for a in "$@"; do
  case $a in
  *=*) names+=("${a%%=*}"); bins+=("${a#*=}") ;;
  *) echo "pairs.sh: '$a' is not NAME=path" >&2; exit 2 ;;
  esac
  [ -x "${a#*=}" ] || { echo "pairs.sh: ${a#*=} is not an executable" >&2; exit 2; }
done
results=$outdir/runs.tsv
: >"$results"
for r in $(seq 1 "$reps"); do
  order=$(seq 0 $((${#names[@]} - 1)))
  if [ $((r % 2)) -eq 0 ]; then order=$(echo "$order" | tac); fi
  for i in $order; do
    d=$outdir/${names[$i]}-$r
    mkdir -p "$d"
    STORE=${STORE:-pg} KS=${KS:-100000} SKIP_REFERENCE=1 SW_BIN=${bins[$i]} LOGDIR=$d \
      OUT=$d/out.txt bash "$here/run.sh" >"$d/run.log" 2>&1 || {
      echo "pairs.sh: ${names[$i]} round $r failed, see $d/run.log" >&2; exit 1; }
    row=$(grep -A1 '^K  *detect' "$d/out.txt" | tail -1)
    ratios=$(grep -A1 '^K  *us_det' "$d/out.txt" | tail -1 | awk '{print $8, $9, $10}')
    printf '%s\t%s\t%s\n' "${names[$i]}" "$row" "$ratios" | tee -a "$results"
  done
done
echo "# per build over $reps rounds: median [min-max] of detect / escalate / resolve (s)"
for n in "${names[@]}"; do
  awk -F'\t' -v n="$n" '
    $1 == n { split($2, f, " +"); d[++k] = f[2]; e[k] = f[3]; s[k] = f[4] }
    function med(a, k,   i, j, t) {
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
        if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return sprintf("%s [%s-%s]", a[int((k + 1) / 2)], a[1], a[k])
    }
    END { printf "%-12s %s / %s / %s\n", n, med(d, k), med(e, k), med(s, k) }' "$results"
done
echo "# runs: $results"
