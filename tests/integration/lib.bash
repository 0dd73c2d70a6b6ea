# lib.sh - shared by the integration tests (bash). Sourced, not run.
#
# Each test gets a temp dir ($T, removed at exit), helpers to make PostgreSQL databases on
# the throwaway server of scripts/test-services ($STEPWATCH_TEST_PG), to start and stop the
# real stepwatch binary ($SW_BIN), and to wait for and assert on what the store says.
set -euo pipefail

: "${SW_BIN:?SW_BIN must name the stepwatch binary}"
: "${SW_SOURCE_DIR:?SW_SOURCE_DIR must name the source tree}"
if [ -z "${STEPWATCH_TEST_PG:-}" ]; then
  echo "STEPWATCH_TEST_PG is not set: run through scripts/test" >&2
  exit 1
fi

T=$(mktemp -d /tmp/swit.XXXXXX)
SW_PIDS=()
FAILS=0
cleanup() {
  local p
  for p in "${SW_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$FAILS" -gt 0 ] || [ -n "${KEEP_T:-}" ]; then
    echo "--- logs in $T" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -40 "$f" >&2; }; done
  fi
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

log() { echo "[$(date +%T.%N | cut -c1-12)] $*" >&2; }
fail() { log "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { log "ok: $*"; }

# pg_newdb NAME -> prints a URL of a fresh database
pg_newdb() {
  local name="$1_$$_$RANDOM" base=${STEPWATCH_TEST_PG%/*}
  psql -XAtq -v ON_ERROR_STOP=1 "$STEPWATCH_TEST_PG" -c "CREATE DATABASE $name" >/dev/null
  echo "$base/$name"
}
# pg_reader URL -> prints a URL of a SELECT-only role for that database (the least-privilege
# source role of docs/security.md), reading the tables of public made before and after
pg_reader() {
  local url=$1 role="sw_ro_${1##*/}"
  psql -XAtq -v ON_ERROR_STOP=1 "$url" >/dev/null <<SQL
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
  CREATE ROLE $role LOGIN; END IF; END \$\$;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO $role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO $role;
SQL
  echo "${url/postgres@/$role@}"
}
# q URL SQL -> rows, unaligned, '|' separated
q() { psql -XAtq -v ON_ERROR_STOP=1 "$1" -c "$2"; }
# qs SQLITEFILE SQL
qs() { sqlite3 -batch -cmd ".timeout 10000" "$1" "$2"; } # wait out a writer, never SQLITE_BUSY

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  if [ "$1" == "$2" ]; then ok "$3 = $2"; else fail "$3: got '$1', want '$2'"; fi
}

# wait_eq TIMEOUT_S WHAT EXPECTED CMD... : re-run CMD until it prints EXPECTED
wait_eq() {
  local timeout=$1 what=$2 want=$3 got="" deadline
  shift 3
  deadline=$(( $(date +%s%N) / 1000000 + timeout * 1000 ))
  while :; do
    got=$("$@" 2>/dev/null || true)
    [ "$got" == "$want" ] && { ok "$what = $want"; return 0; }
    [ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && break
    sleep 0.1
  done
  fail "$what: got '$got', want '$want' after ${timeout}s"
  return 1
}

# sw_start NAME ARGS... : start the binary in the background, log to $T/NAME.log; its pid
# is in $SW_PID (not printed: a $(...) subshell would make it no child of ours to wait for)
sw_start() {
  local name=$1
  shift
  "$SW_BIN" "$@" >>"$T/$name.log" 2>&1 &
  SW_PID=$!
  SW_PIDS+=("$SW_PID")
}

# finish: exit with the test's status and a closing line
finish() {
  if [ "$FAILS" -gt 0 ]; then
    log "$FAILS check(s) failed"
    exit 1
  fi
  log "all checks passed"
  exit 0
}
