#!/usr/bin/env bash
# Browser tests: tests/browser/run.sh SERVER_BINARY
# Starts citypeers on an empty data directory (demo data) and a test portal on another port
# (the widget cross-origin), then runs the specs in Chromium with axe-core checks.
# Screenshots of failures land in target/browser-artifacts/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
binary="${1:?usage: tests/browser/run.sh SERVER_BINARY}"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  echo "Chromium is missing: apt-get install -y chromium" >&2
  exit 2
fi
cd "$here"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  npm ci --no-audit --no-fund
fi

read -r server_port portal_port < <(node lib/free-ports.mjs 2)
data="$(mktemp -d)"
logs="$repo/target/browser-artifacts"
rm -rf "$logs" && mkdir -p "$logs"
token="browser-test-$(date +%s)-$RANDOM"
server_pid=""
portal_pid=""
cleanup() {
  [ -n "$portal_pid" ] && kill "$portal_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

CITYPEERS_ADMIN_TOKEN="$token" "$binary" serve --data "$data" --addr "127.0.0.1:$server_port" >"$logs/server.log" 2>&1 &
server_pid=$!
origin="http://127.0.0.1:$server_port"
node lib/static-server.mjs "$portal_port" "$origin" >"$logs/portal.log" 2>&1 &
portal_pid=$!

for _ in $(seq 1 120); do
  if node -e "fetch('$origin/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "the server stopped:" >&2; cat "$logs/server.log" >&2; exit 1; fi
  sleep 0.5
done

export CITYPEERS_URL="$origin" PORTAL_URL="http://127.0.0.1:$portal_port" CITYPEERS_ADMIN_TOKEN="$token" ARTIFACTS_DIR="$logs/"
node --test --test-concurrency=1 --test-reporter=spec specs/*.test.mjs
