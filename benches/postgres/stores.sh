#!/usr/bin/env bash
# Read latency per node on each store: starts the release binary twice with the demo data,
# once on the embedded store and once on a fresh PostgreSQL database (Debian's server on
# loopback, started if needed, as tests/postgres/run.sh does), response cache off, and runs
# store_latency.py against both. Usage: benches/postgres/stores.sh [target/release/citypeers]
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=${1:-target/release/citypeers}
version=$(ls /etc/postgresql | sort -n | tail -1)
pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q . \
  || pg_ctlcluster "$version" main start
password=citypeers-test
runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD '$password'" \
  -c "DROP DATABASE IF EXISTS citypeers_latency" -c "CREATE DATABASE citypeers_latency" >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export CITYPEERS_LOG=warn
"$binary" serve --data "$work/sled" --addr 127.0.0.1:18391 --response-cache-mb 0 >"$work/sled.log" &
"$binary" serve --data "$work/pg" --addr 127.0.0.1:18392 --response-cache-mb 0 \
  --store "postgres://postgres:$password@127.0.0.1:5432/citypeers_latency" >"$work/pg.log" &
for port in 18391 18392; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
done
python3 benches/postgres/store_latency.py 18391 18392
