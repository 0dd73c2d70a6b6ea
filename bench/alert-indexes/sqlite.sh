#!/usr/bin/env bash
# bench/alert-indexes/sqlite.sh - sqlite-writes.sql on the SQLite store schema of two
# migration levels (default 7 and 9), alternating, ROUNDS times, in a throwaway directory.
# Prints seconds per step: open (alerts), open (history), P2, P1, P0 (each UPDATE + history
# + commit), resolve (UPDATE + commit). Knobs: LEVELS="7 9"  ROUNDS=3
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
LEVELS=${LEVELS:-"7 9"}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d /tmp/swai-sq.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "# alert index cost, SQLite $(sqlite3 --version | cut -d' ' -f1), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  for l in $LEVELS; do
    db=$work/m$l.db
    rm -f "$db"*
    for f in "$root"/src/store/migrations/sqlite/*.sql; do
      v=$(basename "$f" | cut -c1-4)
      if [ "$((10#$v))" -le "$l" ]; then sqlite3 "$db" <"$f"; fi
    done
    sqlite3 "$db" 'PRAGMA journal_mode=WAL;' >/dev/null
    t=$(sqlite3 "$db" <"$here/sqlite-writes.sql" 2>&1 | awk '/^Run Time/ {print $4}' | tr '\n' ' ')
    set -- $t
    echo "round $r  migrations <= $l  open: alerts $3 history $4  P2 $6  P1 $7  P0 $8  resolve $9 s"
  done
done
