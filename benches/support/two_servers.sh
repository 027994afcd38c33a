# Sourced by benches/paired_replay.sh and benches/paired_closed_loop.sh: starts the old and
# the new build (`citypeers serve`, response cache off) on copies of one data directory, at
# ports 18101 and 18102, stops them and removes the copies when the script exits, and waits
# until both have settled their learning.
#
#   start_two_servers OLD_BINARY NEW_BINARY DATA
start_two_servers() {
    local old="$1" new="$2" data="$3"
    work="$(mktemp -d)"
    cp -r "$data" "$work/a"
    cp -r "$data" "$work/b"
    CITYPEERS_LOG=warn "$old" serve --empty --addr 127.0.0.1:18101 --response-cache-mb 0 --data "$work/a" >/dev/null 2>&1 &
    server_a=$!
    CITYPEERS_LOG=warn "$new" serve --empty --addr 127.0.0.1:18102 --response-cache-mb 0 --data "$work/b" >/dev/null 2>&1 &
    server_b=$!
    trap 'kill -TERM "$server_a" "$server_b" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
    local port
    for port in 18101 18102; do
        for _ in $(seq 1 900); do
            curl -s "http://127.0.0.1:$port/readyz" 2>/dev/null | grep -q '"learning":"settled"' && break
            sleep 1
        done
    done
}
