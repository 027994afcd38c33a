#!/usr/bin/env bash
# Records a CPU profile of one benchmark and renders it as a flame graph (SVG) plus a text
# report of the functions by inclusive share of the samples.
#
#   benches/profiles/record.sh search_plain_text 100000
#   benches/profiles/record.sh match_long_multilingual_challenge 100000
#   benches/profiles/record.sh import 10000
#
# Needs `perf` (Debian: linux-perf); the flame graph also needs inferno (`cargo install inferno`). The benchmark
# datasets are built by the benches on first use (target/bench-data/).
set -euo pipefail

name="${1:?which benchmark: a function of benches/engine.rs, or import}"
size="${2:-100000}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/$name-$size"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

cd "$root"
export CITYPEERS_BENCH_SIZES="$size"
if [ "$name" = import ]; then
    # The whole `citypeers import` of the generated experts into an empty data directory.
    cargo build --release --quiet
    generated="target/bench-data/generated-$size"
    if [ ! -f "$generated/complete" ]; then
        mkdir -p "$generated"
        target/release/citypeers generate --experts "$size" --cases $((size * 3 / 10)) --seed 7 \
            --output "$generated" >/dev/null
        touch "$generated/complete"
    fi
    perf record -F 499 --call-graph dwarf,16384 -o "$work/perf.data" -- \
        target/release/citypeers import --data "$work/data" --kind experts "$generated/experts.jsonl" >/dev/null
else
    # Build the dataset outside the recording, then profile only the benchmark's own work:
    # the run starts, the first background training of the topic model ends (the benchmark
    # waits for it), and only then does perf attach, for 12 seconds of requests of the kind.
    if [ ! -f "target/bench-data/data-$size/complete.json" ]; then
        cargo bench --bench engine -- "$name" >/dev/null
    fi
    binary="$(cargo bench --bench engine --no-run --message-format=json 2>/dev/null \
        | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | grep '/deps/engine-' | tail -1)"
    "$binary" --bench --sample-count 100000 --skip floor "$name" >/dev/null 2>&1 &
    bench_pid=$!
    sleep 3
    # At most 20 minutes: the first training takes about 6 at a million records.
    for _ in $(seq 1 600); do
        ps -L -o comm= -p "$bench_pid" | grep -q topic-learning || break
        sleep 2
    done
    perf record -F 999 --call-graph dwarf,16384 -o "$work/perf.data" -p "$bench_pid" -- sleep 12
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
fi

if command -v inferno-flamegraph >/dev/null; then
    perf script -i "$work/perf.data" 2>/dev/null | inferno-collapse-perf > "$work/folded"
    inferno-flamegraph --minwidth 0.3 --title "citypeers: $name at $size experts" < "$work/folded" > "$out.svg"
else
    echo "inferno is not installed (cargo install inferno): writing the text profile only" >&2
fi
# The profile as text: functions by inclusive share of the samples (3% and up).
perf report -i "$work/perf.data" --children --stdio --no-call-graph --percent-limit 3 \
    --sort symbol 2>/dev/null | grep -v '^$' | sed -E 's/ {2,}/  /g' | cut -c1-180 > "$out.txt"
if [ -f "$out.svg" ]; then echo "wrote $out.txt and $out.svg"; else echo "wrote $out.txt"; fi
