#!/usr/bin/env bash
# One client replays the match requests of benches/requests/match.jsonl against a fresh
# `citypeers serve` on an existing data directory (response cache off), after the service has
# settled its learning; prints the median latency per request kind. Used to compare two
# builds on the same dataset, one after the other:
#
#   benches/replay_match.sh target/release/citypeers target/bench-data/data-1000000/data
set -euo pipefail
binary="${1:?the citypeers binary}"
data="${2:?a data directory}"
port="${3:-18095}"
requests="$(cd "$(dirname "$0")" && pwd)/requests/match.jsonl"
CITYPEERS_LOG=warn "$binary" serve --empty --addr "127.0.0.1:$port" --response-cache-mb 0 --data "$data" >/dev/null 2>&1 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 900); do
    curl -s "http://127.0.0.1:$port/readyz" 2>/dev/null | grep -q '"learning":"settled"' && break
    sleep 2
done
python3 - "$port" "$requests" <<'PY'
import json, statistics, sys, time, urllib.request
port, path = sys.argv[1], sys.argv[2]
requests = [json.loads(line) for line in open(path) if line.strip()]
times = {}
for round_number in range(3):  # the first round warms the caches and is not counted
    for request in requests:
        body = json.dumps(request["body"]).encode()
        url = f"http://127.0.0.1:{port}/v1/match?lang={request.get('lang', 'en')}"
        started = time.perf_counter()
        urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"content-type": "application/json"})).read()
        if round_number > 0:
            times.setdefault(request["kind"], []).append((time.perf_counter() - started) * 1000)
for kind, values in sorted(times.items()):
    print(f"{kind}: {len(values)} requests, median {statistics.median(values):.1f} ms")
PY
