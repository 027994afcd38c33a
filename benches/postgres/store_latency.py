"""Read latency of one node per store: the same public requests, one client, response cache
off, against a node on the embedded store and a node on PostgreSQL (ports as arguments).
Prints p50 and p99 per request kind for two rounds (the first fills each node's record cache).
Run through benches/postgres/stores.sh, which starts both nodes."""
import http.client
import json
import sys
import time

SEARCHES = [
    "/v1/experts?q=flood&limit=10",
    "/v1/experts?q=bus+rapid+transit&limit=10",
    "/v1/experts?q=haushalt&limit=10&region=africa",
    "/v1/experts/frank-kowalski",
    "/v1/cases?q=waste&limit=10",
]
MATCHES = [
    {"challenge": "shop owners wait six months for a licence", "limit": 10},
    {"challenge": "les motos-taxis bloquent le carrefour chaque matin", "limit": 10},
    {"challenge": "heavy rain floods the low districts every season", "limit": 10},
]
REQUESTS = 300


def measure(port, kind):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for number in range(REQUESTS):
        started = time.perf_counter()
        if kind == "search":
            connection.request("GET", SEARCHES[number % len(SEARCHES)])
        else:
            body = json.dumps(MATCHES[number % len(MATCHES)])
            connection.request("POST", "/v1/match", body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{kind} on port {port}: status {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def main():
    ports = {"sled": int(sys.argv[1]), "postgres": int(sys.argv[2])}
    for round_number in (1, 2):
        for store, port in ports.items():
            for kind in ("search", "match"):
                p50, p99 = measure(port, kind)
                print(f"round {round_number} {store:8} {kind:6} p50 {p50:.2f} ms  p99 {p99:.2f} ms")


main()
