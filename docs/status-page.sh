#!/usr/bin/env bash
# Makes docs/status-page.png, the README's picture of `landfall serve`, with
# the project's own commands: `landfall demo` runs a day of the demo
# pipeline, a next day's file lands and its load fails for good (a dead
# task, its marts blocked) while another attempt runs, `landfall serve`
# serves the state file, and headless Chromium takes the picture.
#   bash docs/status-page.sh [path/to/landfall]
set -euo pipefail
cd "$(dirname "$0")/.."
landfall="${1:-build/release/examples/cli/landfall}"
dir="$(mktemp -d /tmp/landfall-status-page.XXXXXX)"
state="$dir/state.db"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$landfall" demo --dir "$dir" >/dev/null
"$landfall" ingest --state "$state" --table jalan.reservations \
  --partition 2018-11-04 --event-id next-day \
  --origin s3://landing/jalan.reservations/2018-11-04/part-0.csv >/dev/null
"$landfall" claim --state "$state" --worker loader-7 --class etl --max 2 \
  >/dev/null
"$landfall" complete --state "$state" --table dwh.jalan_reservations \
  --partition 2018-11-04 --attempt 1 --outcome FATAL \
  --message 'COPY failed: column "price" is numeric, got "N/A" (line 1042)' \
  >/dev/null

"$landfall" serve --state "$state" --listen 127.0.0.1:0 >"$dir/serve.log" &
server=$!
for _ in $(seq 50); do
  url="$(grep -o 'http://[^ ]*' "$dir/serve.log" || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "landfall serve did not start" >&2; exit 1; }
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$dir/profile" --virtual-time-budget=5000 \
  --window-size=1280,1350 --screenshot="$PWD/docs/status-page.png" \
  "${url}?table=dwh.jalan_reservations&depth=1" >/dev/null 2>&1
echo "wrote docs/status-page.png ($(stat -c %s docs/status-page.png) bytes)"
