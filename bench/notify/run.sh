#!/usr/bin/env bash
# run.sh - the notification benchmark (bench.py) against a release build of stepwatch.
# usage: bench/notify/run.sh [bench.py options]; STEPWATCH_BIN overrides the binary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${STEPWATCH_BIN:-$root/build-rel/stepwatch}
if [ -z "${STEPWATCH_BIN:-}" ]; then
  cmake -S "$root" -B "$root/build-rel" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build-rel" -j2 --target stepwatch >/dev/null
fi
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$bin" version)"
python3 "$root/bench/notify/bench.py" "$bin" "$@"
