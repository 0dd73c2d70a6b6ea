#!/usr/bin/env bash
# faults.sh - the fault suite (tests/faults/run) in its reduced form: every scenario short,
# a few minutes in all. `tests/faults/run --full` runs the long form (docs/reliability.md).
set -euo pipefail
: "${STEPWATCH_TEST_PG:?STEPWATCH_TEST_PG is not set: run through scripts/test}"
exec "$(dirname "$0")/../faults/run" --reduced
