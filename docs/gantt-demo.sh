#!/usr/bin/env bash
# Makes docs/gantt-demo.svg, the README's Gantt chart of the demo, with the
# project's own commands: `landfall demo` runs a day of the demo pipeline
# (one warehouse load fails once and is retried) and `landfall gantt` draws
# its state file.
#   bash docs/gantt-demo.sh [path/to/landfall]
set -euo pipefail
cd "$(dirname "$0")/.."
landfall="${1:-build/release/examples/cli/landfall}"
dir="$(mktemp -d /tmp/landfall-gantt-demo.XXXXXX)"
trap 'rm -rf "$dir"' EXIT

"$landfall" demo --dir "$dir" >/dev/null
"$landfall" gantt --state "$dir/state.db" --title "landfall demo" \
  --gantt-width 1200 -o docs/gantt-demo.svg
echo "wrote docs/gantt-demo.svg ($(stat -c %s docs/gantt-demo.svg) bytes)"
