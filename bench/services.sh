# bench/services.sh - sourced by the SQL benches: a throwaway PostgreSQL (and Redis) of
# scripts/test-services in a temp dir, stopped with the temp dirs when the script exits.
# Usage: bench_services TAG  -> sets svc, work (a scratch dir), P (the server's URL without
# a database) and the STEPWATCH_TEST_* variables of the services' env file.
bench_services() {
  svc=$(mktemp -d "/tmp/$1.XXXXXX")
  work=$(mktemp -d "/tmp/$1-sql.XXXXXX")
  trap '"$root/scripts/test-services" stop "$svc" || true; rm -rf "$svc" "$work"' EXIT
  "$root/scripts/test-services" start "$svc"
  . "$svc/env"
  P=${STEPWATCH_TEST_PG%/*}
}

# bench_store_at LEVEL: a database mLEVEL on that server holding the store's PostgreSQL
# schema of every migration up to number LEVEL (to compare two migration levels).
bench_store_at() {
  psql -XAtq "$STEPWATCH_TEST_PG" -c "CREATE DATABASE m$1"
  for f in "$root"/src/store/migrations/postgres/*.sql; do
    v=$(basename "$f" | cut -c1-4)
    if [ "$((10#$v))" -le "$1" ]; then psql -XAtq -v ON_ERROR_STOP=1 "$P/m$1" -f "$f"; fi
  done
}
