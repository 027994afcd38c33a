#!/usr/bin/env bash
# Compares two builds on one dataset, paired: two `citypeers serve` (response cache off) on
# copies of one data directory, every match request of benches/requests/match.jsonl sent to
# both in alternating order, for ROUNDS rounds (the first warms the caches and is not
# counted). Prints, per request kind, each build's median `took_ms` (the server's own time)
# and total (as the client saw it), and the median of B's time over A's per request — steady
# where running one build after the other is not (the machine's speed moves 10–30% in an
# hour).
#
#   benches/paired_replay.sh OLD_BINARY NEW_BINARY target/bench-data/data-100000/data [ROUNDS]
#
# CITYPEERS_REPLAY_PACE_MS=33 waits that long before each request, so that each server sits
# idle between its requests as in the open loop (by default they are sent back to back).
set -euo pipefail
a="${1:?the first (old) citypeers binary}"
b="${2:?the second (new) citypeers binary}"
data="${3:?a data directory}"
rounds="${4:-6}"
requests="$(cd "$(dirname "$0")" && pwd)/requests/match.jsonl"
source "$(dirname "$0")/support/two_servers.sh"
start_two_servers "$a" "$b" "$data"
python3 - "$rounds" "$requests" "${CITYPEERS_REPLAY_PACE_MS:-0}" <<'PY'
import http.client, json, statistics, sys, time
rounds, path, pace = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) / 1000
requests = [json.loads(line) for line in open(path) if line.strip()]
connections = {port: http.client.HTTPConnection("127.0.0.1", port) for port in (18101, 18102)}
times = {}
def send(port, body):
    connection = connections[port]
    started = time.perf_counter()
    connection.request("POST", "/v1/match", body=body, headers={"content-type": "application/json"})
    answer = connection.getresponse().read()
    return (time.perf_counter() - started) * 1000, json.loads(answer)["took_ms"]
for round_number in range(rounds):
    for position, request in enumerate(requests):
        body = json.dumps(request["body"]).encode()
        order = (18101, 18102) if (round_number + position) % 2 == 0 else (18102, 18101)
        for port in order:
            time.sleep(pace)
            total, took = send(port, body)
            if round_number > 0:
                times.setdefault((request["kind"], port), []).append((total, took))
for kind in sorted({kind for kind, _ in times}):
    a, b = times[(kind, 18101)], times[(kind, 18102)]
    ratio = statistics.median(new[1] / old[1] for old, new in zip(a, b))
    total_ratio = statistics.median(new[0] / old[0] for old, new in zip(a, b))
    print(f"{kind}: A took {statistics.median(x[1] for x in a):.2f} ms (total {statistics.median(x[0] for x in a):.2f}), "
          f"B took {statistics.median(x[1] for x in b):.2f} ms (total {statistics.median(x[0] for x in b):.2f}), "
          f"B/A per request {ratio:.3f} (total {total_ratio:.3f})")
PY
