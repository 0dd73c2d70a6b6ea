#!/usr/bin/env bash
# check.sh - `stepwatch check`, `migrate`, `version` and the command line, against a real
# PostgreSQL application database: the shipped example passes; each kind of broken file
# or environment gets its specific message and exit code (2: the file, 1: the environment).
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swcheck)
q "$SRC" "$(cat "$SW_SOURCE_DIR/examples/lending/schema.sql")" >/dev/null
SRC_RO=$(pg_reader "$SRC") # the least-privilege source role of docs/security.md

# expect_run CODE PATTERN WHAT ARGS... : exit code and a line of stdout+stderr matching PATTERN
expect_run() {
  local code=$1 pat=$2 what=$3 out rc=0
  shift 3
  out=$("$SW_BIN" "$@" 2>&1) || rc=$?
  if [ "$rc" != "$code" ]; then fail "$what: exit $rc, want $code; output: $out"; return; fi
  if ! grep -qE -- "$pat" <<<"$out"; then fail "$what: no line matching '$pat' in: $out"; return; fi
  ok "$what (exit $code)"
}

# the shipped example, pointed at the test database, passes
sed -e "s|url: postgresql://[^ ]*|url: \"$SRC_RO\"|" \
    -e "s|^store: .*|store: sqlite://$T/example-store.db|" \
    "$SW_SOURCE_DIR/examples/lending/stepwatch.yaml" >"$T/example.yaml"
expect_run 0 "all checks passed" "example config" check -c "$T/example.yaml"
expect_run 0 "^store: ok \(sqlite file will be created by 'stepwatch migrate' or 'serve'\)$" \
  "store file not there yet" check -c "$T/example.yaml"
# a broken copy of the example names the exact problem, with its position
sed 's/finished_at, updated_at,/finished_at,/' "$T/example.yaml" >"$T/example-broken.yaml"
expect_run 2 "example-broken.yaml:[0-9]+:[0-9]+: workflow 'loan_application': steps_query has no column 'updated_at'" \
  "broken example" check -c "$T/example-broken.yaml"
expect_run 0 "schema at version" "migrate example" migrate -c "$T/example.yaml"
expect_run 0 "0 migrations applied" "migrate twice" migrate -c "$T/example.yaml"
expect_run 0 "^store: ok \(sqlite, schema version [0-9]+ of [0-9]+\)$" "check after migrate" \
  check -c "$T/example.yaml"

# cfg NAME QUERY [STORE]: a minimal config whose steps_query is QUERY
cfg() {
  cat >"$T/$1.yaml" <<YAML
store: ${3:-sqlite://$T/store.db}
sources:
  lending: { url: "$SRC_RO", statement_timeout: 5s }
workflows:
  loan_application:
    source: lending
    steps_query: |
      $2
    steps: [kyc, bureau_pull]
YAML
  echo "$T/$1.yaml"
}
GOOD="SELECT application_id AS instance_id, user_id, step, status, error_code AS error, started_at, finished_at, updated_at FROM loan_steps WHERE updated_at > :since"

expect_run 0 "all checks passed" "minimal config" check -c "$(cfg good "$GOOD")"
expect_run 2 "workflow 'loan_application': steps_query has no column 'updated_at'" "missing column" \
  check -c "$(cfg nocol "SELECT application_id AS instance_id, user_id, step, status, started_at FROM loan_steps WHERE updated_at > :since")"
expect_run 2 "refused: .*DELETE" "DELETE" check -c "$(cfg del "DELETE FROM loan_steps")"
expect_run 2 "refused: .*UPDATE" "UPDATE RETURNING" \
  check -c "$(cfg upd "UPDATE loan_steps SET status = 'x' RETURNING application_id AS instance_id")"
expect_run 2 "refused: .*(INSERT|data-modifying)" "WITH INSERT" \
  check -c "$(cfg cte "WITH x AS (INSERT INTO loan_steps DEFAULT VALUES RETURNING *) SELECT * FROM x")"
expect_run 2 "refused: .*single statement" "two statements" check -c "$(cfg two "SELECT 1; DROP TABLE loan_steps")"
expect_run 2 "refused: .*(FOR UPDATE|lock)" "FOR UPDATE" check -c "$(cfg lock "$GOOD FOR UPDATE")"
expect_run 2 "steps_query cannot be read in pages .*ambiguous" "a query that pages cannot wrap" \
  check -c "$(cfg dup "SELECT application_id AS instance_id, user_id, step, status, error_code AS error, started_at, finished_at, updated_at, started_at AS updated_at FROM loan_steps WHERE updated_at > :since")"
expect_run 2 "does not exist" "unknown table" check -c "$(cfg notab "SELECT * FROM no_such_table WHERE x > :since")"
expect_eq "$(q "$SRC" "SELECT count(*) FROM information_schema.tables WHERE table_name = 'loan_steps'")" 1 \
  "loan_steps still exists"

# the environment: an unreachable source, an unusable store
port=$((20000 + RANDOM % 30000))
sed "s|url: \"$SRC_RO\"|url: \"postgresql://nobody@127.0.0.1:$port/x\"|" "$(cfg down0 "$GOOD")" >"$T/down.yaml"
expect_run 1 "source 'lending'" "unreachable source" check -c "$T/down.yaml"
expect_run 1 "store 'sqlite:///nonexistent/dir/x.db': directory '/nonexistent/dir' is not writable" \
  "store in a missing directory" \
  check -c "$(cfg badstore "$GOOD" sqlite:///nonexistent/dir/x.db)"
expect_run 1 "cannot open|unable to open" "migrate to a missing directory" \
  migrate -c "$(cfg badstore2 "$GOOD" sqlite:///nonexistent/dir/x.db)"

# the file itself
printf 'store: [unclosed\n' >"$T/malformed.yaml"
expect_run 2 "malformed.yaml:[0-9]+:[0-9]+" "malformed YAML" check -c "$T/malformed.yaml"
sed 's/    steps_query:/    pol: 1s\n    steps_query:/' "$(cfg typo0 "$GOOD")" >"$T/typo.yaml"
expect_run 2 "typo.yaml:[0-9]+:[0-9]+: .*unknown key 'pol'.*did you mean 'poll'" "unknown key" check -c "$T/typo.yaml"
sed 's/    steps_query:/    poll: 5x\n    steps_query:/' "$(cfg dur0 "$GOOD")" >"$T/dur.yaml"
expect_run 2 "dur.yaml:[0-9]+:[0-9]+: .*unit 'x'" "bad duration" check -c "$T/dur.yaml"
sed 's/    source: lending/    source: nowhere/' "$(cfg dangling0 "$GOOD")" >"$T/dangling.yaml"
expect_run 2 "dangling.yaml:[0-9]+:[0-9]+: .*'nowhere'" "dangling source" check -c "$T/dangling.yaml"
cat "$(cfg secret "$GOOD")" >"$T/secret.yaml"
printf 'receivers:\n  support: { slack: { url_env: SW_TEST_UNSET_SECRET } }\n' >>"$T/secret.yaml"
expect_run 2 "SW_TEST_UNSET_SECRET" "missing env secret" check -c "$T/secret.yaml"
expect_run 2 "cannot (open|read)|No such file" "missing file" check -c "$T/nope.yaml"

# the command line
expect_run 0 "usage: stepwatch check" "check --help" check --help
expect_run 2 "unknown option '--bogus'" "unknown option" check --bogus
expect_run 2 "unknown command 'nope'" "unknown command" nope
expect_run 0 "^stepwatch [0-9]+\.[0-9]+\.[0-9]+" "version" version
for c in serve demo migrate version; do
  expect_run 0 "usage: stepwatch $c" "$c --help" "$c" --help
done
finish
