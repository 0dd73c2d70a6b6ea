#!/usr/bin/env bash
# layers.sh - the layers of src/ only call down (docs/internals/layers.md): scripts/check-layers
# passes on the tree, and fails, naming each one, on a copy with upward and sideways includes.
set -euo pipefail
root=${SW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
check=$root/scripts/check-layers

"$check" "$root/src"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$root/src" "$tmp/src"
printf '#include "runtime/runtime.h"\n' >>"$tmp/src/tasks/tasks.h"  # up
printf '#include "cli/server.h"\n' >>"$tmp/src/api/app.h"            # up
printf '#include "store/store.h"\n' >>"$tmp/src/core/alert.c"        # up, into an adapter
printf '#include "source/source.h"\n' >>"$tmp/src/store/store.c"     # sideways
printf '#include "helpers.h"\n' >>"$tmp/src/util/log.c"              # no module named
mkdir "$tmp/src/extra" && printf '#include "util/common.h"\n' >"$tmp/src/extra/x.c"

if "$check" "$tmp/src" 2>"$tmp/out"; then
  echo "layers.sh: check-layers passed a tree with upward includes" >&2
  exit 1
fi
cat "$tmp/out"
for want in 'tasks/tasks.h:.*runtime/runtime.h' 'api/app.h:.*cli/server.h' \
  'core/alert.c:.*store/store.h' 'store/store.c:.*source/source.h' 'util/log.c:.*helpers.h' \
  'extra/x.c: src/extra/ has no layer'; do
  grep -q "$want" "$tmp/out" || { echo "layers.sh: not reported: $want" >&2; exit 1; }
done
[ "$(wc -l <"$tmp/out")" -eq 6 ] || { echo "layers.sh: reports other than the six planted" >&2; exit 1; }
echo "layers.sh: ok"
