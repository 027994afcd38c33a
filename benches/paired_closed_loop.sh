#!/usr/bin/env bash
# Compares two builds' throughput: two `citypeers serve` (response cache off) on copies of
# one data directory, and a closed loop of four client threads run against each in turn,
# eight seconds a run, alternating which goes first, for ROUNDS rounds. Prints the answers
# per second of every run. Searches rotate benches/requests/search.jsonl; with `match`,
# matches rotate match.jsonl. The machine's speed moves between runs: read the rounds side
# by side, not one build's best against the other's worst.
#
#   benches/paired_closed_loop.sh OLD_BINARY NEW_BINARY target/bench-data/data-100000/data [ROUNDS] [search|match]
set -euo pipefail
a="${1:?the first (old) citypeers binary}"
b="${2:?the second (new) citypeers binary}"
data="${3:?a data directory}"
rounds="${4:-4}"
kind="${5:-search}"
requests="$(cd "$(dirname "$0")" && pwd)/requests"
source "$(dirname "$0")/support/two_servers.sh"
start_two_servers "$a" "$b" "$data"
python3 - "$rounds" "$requests" "$kind" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
rounds, folder, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def lines(name):
    return [json.loads(line) for line in open(f"{folder}/{name}") if line.strip()]

def search_path(params):
    pairs = []
    for key, value in params.items():
        if isinstance(value, list):
            pairs += [(key, item) for item in value]
        elif isinstance(value, str) and value:
            pairs.append((key, value))
        elif isinstance(value, int):
            pairs.append((key, str(value)))
    return "/v1/experts?" + urllib.parse.urlencode(pairs)

if kind == "match":
    sends = [("POST", "/v1/match", json.dumps(request["body"]).encode()) for request in lines("match.jsonl")]
else:
    sends = [("GET", search_path(request["params"]), None) for request in lines("search.jsonl")]

def per_second(port, seconds=8, clients=4):
    answered = [0] * clients
    deadline = time.time() + seconds
    def client(number):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        position = number * 7
        while time.time() < deadline:
            method, path, body = sends[position % len(sends)]
            connection.request(method, path, body=body, headers={"content-type": "application/json"})
            connection.getresponse().read()
            position += 1
            answered[number] += 1
    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered) / seconds

runs = {18101: [], 18102: []}
for round_number in range(rounds):
    for port in (18101, 18102) if round_number % 2 == 0 else (18102, 18101):
        runs[port].append(per_second(port))
for label, port in (("A", 18101), ("B", 18102)):
    figures = ", ".join(f"{value:.0f}" for value in runs[port])
    print(f"{kind} {label}: {figures} per s (mean {sum(runs[port]) / len(runs[port]):.0f})")
PY
