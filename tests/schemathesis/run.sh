#!/usr/bin/env bash
# Runs schemathesis against a citypeers server it starts on the demo data, over every operation
# with the admin token. Fails on any 5xx, transport error or response that does not match the
# OpenAPI document. Usage: tests/schemathesis/run.sh BINARY [MAX_EXAMPLES]
set -euo pipefail
binary=${1:?usage: run.sh BINARY [MAX_EXAMPLES]}
examples=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
data=$(mktemp -d)
log=$(mktemp)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="schemathesis-$(date +%s)"
CITYPEERS_ADMIN_TOKEN=$token "$binary" serve --data "$data" --addr "127.0.0.1:$port" \
  --failed-logins-per-minute 100000 --contact-requests-per-minute 100000 >"$log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log"; exit 1; }
cd "$here"
SCHEMATHESIS_HOOKS=hooks schemathesis --config-file "$here/schemathesis.toml" run \
  "http://127.0.0.1:$port/openapi.json" --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" \
  --max-examples "$examples" --workers 2 --seed 1 \
  --continue-on-failure
