#!/usr/bin/env bash
# The PostgreSQL side of citypeers' performance comparison: installs PostgreSQL (Debian
# package) if missing, starts a throw-away cluster on 127.0.0.1, loads the data that
# `citypeers generate` writes, builds the schema a competent team would (full-text search
# with GIN, facet arrays, pg_trgm), replays the shared request set (benches/requests/) with
# pgbench in closed and open loop, and writes benches/postgres/results-<experts>.json.
#
#   benches/postgres/run.sh --experts 100000 --cases 30000 --seed 7 --duration 30 --clients 4
#
# See benches/postgres/README.md for what is measured and why it is set up this way.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
COMMAND_LINE="benches/postgres/run.sh $*"

EXPERTS=10000
CASES=3000
SEED=7
DURATION=30
CLIENTS=4
THREADS=2
RATE=auto
KINDS=all
PROTOCOL=extended
CITYPEERS="${CITYPEERS_BIN:-}"
DATA_DIR=""
OUT=""
REQUESTS="$ROOT/benches/requests"
REFRESH_REGIONS=0
KEEP=0
QUIET_WAIT=0

usage() {
  cat <<'EOF'
Usage: benches/postgres/run.sh [options]

  --experts N          experts to generate (default 10000)
  --cases N            cases to generate (default 3000)
  --seed N             generator seed (default 7)
  --duration S         seconds per pgbench run; each kind runs closed then open loop (default 30)
  --clients N          pgbench clients (-c), at most ~4 on a 2-core machine (default 4)
  --threads N          pgbench threads (-j) (default 2)
  --rate R|auto        open-loop rate in requests/s for every kind, or auto = half of the
                       kind's closed-loop throughput (default auto)
  --kinds a,b,...      only these request kinds (default all six)
  --protocol P         pgbench -M: simple, extended or prepared (default extended: parse,
                       plan and execute every request, like a driver sending parameters)
  --citypeers PATH     the citypeers binary (default $CITYPEERS_BIN, target/release/citypeers,
                       then citypeers on PATH); used for `generate` and --refresh-regions
  --data DIR           use experts.jsonl and cases.jsonl from DIR instead of generating
  --requests DIR       the shared request set (default benches/requests)
  --out FILE           results file (default benches/postgres/results-<experts>.json)
  --refresh-regions    rewrite regions.json from GET /v1/regions of the citypeers binary
  --quiet-wait S       on a shared machine: before each pgbench run wait until the other
                       processes use under 10% of the CPU, and repeat a run during which they
                       used more, spending at most S seconds waiting in all (default 0: never
                       wait; the results record the CPU other processes used either way)
  --keep               keep the temporary cluster and logs (prints where; stop it yourself)
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --experts) EXPERTS="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --kinds) KINDS="$2"; shift 2 ;;
    --protocol) PROTOCOL="$2"; shift 2 ;;
    --citypeers) CITYPEERS="$2"; shift 2 ;;
    --data) DATA_DIR="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --refresh-regions) REFRESH_REGIONS=1; shift ;;
    --keep) KEEP=1; shift ;;
    --quiet-wait) QUIET_WAIT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if (( THREADS > CLIENTS )); then THREADS="$CLIENTS"; fi

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
STARTED=$(date +%s)

# ---------------------------------------------------------------------------- prerequisites
pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/pg_ctl" && -x "$dir/pgbench" ]]; then echo "$dir"; fi
}
PGBIN="$(pg_bindir)"
if [[ -z "$PGBIN" ]] || ! command -v python3 >/dev/null; then
  say "installing PostgreSQL (the distribution's default version) and python3 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's package would create and start a "main" cluster on port 5432; this benchmark
  # starts its own, so ask postgresql-common not to (only when it is not installed yet).
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold \
    postgresql postgresql-contrib python3 >/dev/null
  PGBIN="$(pg_bindir)"
fi
[[ -n "$PGBIN" ]] || { echo "no PostgreSQL server found after installing" >&2; exit 1; }
PG_MAJOR="$(basename "$(dirname "$PGBIN")")"
[[ -f "/usr/share/postgresql/$PG_MAJOR/extension/unaccent.control" && \
   -f "/usr/share/postgresql/$PG_MAJOR/extension/pg_trgm.control" ]] || {
  echo "unaccent / pg_trgm missing: apt-get install postgresql-contrib" >&2; exit 1; }

if [[ -z "$CITYPEERS" ]]; then
  if [[ -x "$ROOT/target/release/citypeers" ]]; then CITYPEERS="$ROOT/target/release/citypeers"
  elif command -v citypeers >/dev/null; then CITYPEERS="$(command -v citypeers)"
  fi
fi
if [[ -z "$DATA_DIR" || $REFRESH_REGIONS == 1 ]]; then
  [[ -n "$CITYPEERS" && -x "$CITYPEERS" ]] || {
    echo "no citypeers binary: build it (cargo build --release) or pass --citypeers PATH" >&2; exit 1; }
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ------------------------------------------------------------------ temporary work directory
WORK="$(mktemp -d /tmp/citypeers-pg.XXXXXX)"
chmod 755 "$WORK"
# initdb refuses to run as root: the cluster belongs to the postgres user the package
# created (or to the current user when not root).
if [[ $(id -u) == 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$WORK" --shell /usr/sbin/nologin postgres
  AS_PG=(runuser -u postgres --)
  mkdir -p "$WORK/pgdata"; chown postgres: "$WORK/pgdata"; chown postgres: "$WORK"
else
  AS_PG=()
fi
PGDATA="$WORK/pgdata"
SERVER_PID=""
CITYPEERS_PID=""

cleanup() {
  local status=$?
  if [[ -n "$CITYPEERS_PID" ]]; then kill "$CITYPEERS_PID" 2>/dev/null || true; fi
  if [[ -f "$PGDATA/postmaster.pid" ]]; then
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [[ $KEEP == 1 ]]; then
    echo "kept $WORK (cluster stopped; start it with: ${AS_PG[*]} $PGBIN/pg_ctl -D $PGDATA start)"
  else
    rm -rf "$WORK"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----------------------------------------------------------------- regions (GET /v1/regions)
if [[ $REFRESH_REGIONS == 1 || ! -s "$HERE/regions.json" ]]; then
  port=$(free_port)
  say "fetching GET /v1/regions from $CITYPEERS on 127.0.0.1:$port"
  "$CITYPEERS" serve --empty --data "$WORK/citypeers-data" --addr "127.0.0.1:$port" >"$WORK/citypeers.log" 2>&1 &
  CITYPEERS_PID=$!
  python3 - "$port" "$HERE/regions.json" <<'EOF'
import json, sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
for attempt in range(100):
    try:
        data = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/regions", timeout=2))
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("citypeers did not answer GET /v1/regions")
with open(out, "w", encoding="utf-8") as handle:
    handle.write('{"regions": [\n')
    handle.write(",\n".join(json.dumps(r, ensure_ascii=False) for r in data["regions"]))
    handle.write("\n]}\n")
EOF
  kill "$CITYPEERS_PID" 2>/dev/null || true; wait "$CITYPEERS_PID" 2>/dev/null || true; CITYPEERS_PID=""
fi

# ---------------------------------------------------------------------------------- the data
if [[ -z "$DATA_DIR" ]]; then
  DATA_DIR="$WORK/data"
  say "generating $EXPERTS experts and $CASES cases (seed $SEED)"
  "$CITYPEERS" generate --experts "$EXPERTS" --cases "$CASES" --seed "$SEED" --output "$DATA_DIR" >/dev/null
fi
for file in experts.jsonl cases.jsonl; do
  [[ -s "$DATA_DIR/$file" ]] || { echo "missing $DATA_DIR/$file" >&2; exit 1; }
done
EXPERTS=$(grep -c . "$DATA_DIR/experts.jsonl")
CASES=$(grep -c . "$DATA_DIR/cases.jsonl")
OUT="${OUT:-$HERE/results-$EXPERTS.json}"

# ------------------------------------------------------------------------------ the cluster
PORT=$(free_port)
say "initdb in $PGDATA, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log"

# Settings for a 2-core / 24 GB machine serving a read-mostly search workload (README.md):
cat >>"$PGDATA/postgresql.conf" <<EOF

# ---- citypeers comparison (benches/postgres/run.sh) ----
listen_addresses = '127.0.0.1'      # loopback only
port = $PORT
unix_socket_directories = '$WORK'
max_connections = 20                # 4 pgbench clients + psql; no pooler needed
shared_buffers = 6GB                # ~25% of RAM: the whole data set and its indexes stay cached
effective_cache_size = 18GB         # what the OS page cache holds on top: favours index plans
work_mem = 64MB                     # facet GROUP BYs, sorts and bitmaps stay in memory
maintenance_work_mem = 1GB          # fast GIN index builds at load time
max_parallel_workers_per_gather = 0 # 2 cores and 4 clients: parallel plans only add overhead
max_parallel_maintenance_workers = 2
random_page_cost = 1.1              # data in RAM / on SSD
effective_io_concurrency = 200
jit = off                           # JIT compiles cost more than these short queries run
huge_pages = try
wal_level = minimal                 # no replication: cheaper bulk load
max_wal_senders = 0
max_wal_size = 8GB
checkpoint_timeout = 30min
synchronous_commit = off            # load phase only: set back to on before measuring
log_min_messages = warning
log_min_duration_statement = -1
EOF

"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w -t 120 start >/dev/null
PSQL=("$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U bench -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE citypeers"
PSQL+=(-d citypeers)

# ---------------------------------------------------------------------------- schema and load
load_started=$(date +%s)
say "loading $(wc -l <"$DATA_DIR/experts.jsonl") experts and $(wc -l <"$DATA_DIR/cases.jsonl") cases"
"${PSQL[@]}" -f "$HERE/schema.sql"
"${PSQL[@]}" -c "CREATE UNLOGGED TABLE raw_experts (n bigserial, doc jsonb NOT NULL);
                 CREATE UNLOGGED TABLE raw_cases (n bigserial, doc jsonb NOT NULL);"
# One JSON document a line: CSV mode with quote and delimiter characters that never occur,
# so backslashes and quotes reach jsonb untouched.
"${PSQL[@]}" -c "\\copy raw_experts (doc) FROM '$DATA_DIR/experts.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
"${PSQL[@]}" -c "\\copy raw_cases (doc) FROM '$DATA_DIR/cases.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
"${PSQL[@]}" -v regions_json="$(cat "$HERE/regions.json")" -f "$HERE/load.sql"
"${PSQL[@]}" -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" -c "CHECKPOINT" >/dev/null
LOAD_SECONDS=$(( $(date +%s) - load_started ))
say "loaded and indexed in ${LOAD_SECONDS}s"

# ------------------------------------------------------------------------ statements, check
SCRIPTS="$WORK/scripts"
python3 "$HERE/bench.py" scripts --requests "$REQUESTS" --regions "$HERE/regions.json" --out "$SCRIPTS"
say "running every statement once (checks the SQL and warms the cache)"
python3 "$HERE/bench.py" check --manifest "$SCRIPTS/manifest.json" \
  --psql "$PGBIN/psql -h 127.0.0.1 -p $PORT -U bench -d citypeers" --out "$WORK/checks.json"

# ------------------------------------------------------------------------------ measurement
ALL_KINDS="plain_text text_filters browse_facets typo long_challenge short_challenge"
[[ "$KINDS" == all ]] && KINDS="$ALL_KINDS"
KINDS="${KINDS//,/ }"
mkdir -p "$WORK/logs"
RUNS="$WORK/runs.jsonl"
: >"$RUNS"

count_log() { cat "$1".* 2>/dev/null | wc -l; }
HZ=$(getconf CLK_TCK)
POSTMASTER_PID=$(head -n 1 "$PGDATA/postmaster.pid")
# Busy CPU of the whole machine (user nice system irq softirq steal), in clock ticks.
cpu_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# PostgreSQL's CPU: the postmaster plus its exited children (every backend of a run).
pg_cpu() { awk '{print $14 + $15 + $16 + $17}' "/proc/$POSTMASTER_PID/stat"; }
# Busy and total CPU ticks of the machine.
cpu_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
QUIET_SPENT=0
wait_quiet() { # with --quiet-wait: until 5 s pass with under 10% of the CPU busy (PostgreSQL idles)
  local b1 t1 b2 t2
  while (( QUIET_SPENT < QUIET_WAIT )); do
    read -r b1 t1 < <(cpu_ticks); sleep 5; read -r b2 t2 < <(cpu_ticks)
    QUIET_SPENT=$(( QUIET_SPENT + 5 ))
    if (( 100 * (b2 - b1) < 10 * (t2 - t1) )); then return 0; fi
  done
  return 0
}

pgbench_run() { # kind mode rate -> appends to $RUNS, sets RUN_PREFIX
  # With --quiet-wait, waits for a quiet machine first and repeats a run that other processes
  # disturbed (over 10% of the CPU), keeping the less disturbed of the two.
  local attempt best_run="" best_other="" best_prefix=""
  for attempt in 1 2; do
    wait_quiet
    pgbench_once "$@" "$attempt"
    if [[ -z "$best_run" ]] || awk -v a="$LAST_OTHER_S" -v b="$best_other" 'BEGIN {exit !(a < b)}'; then
      best_run="$LAST_RUN"; best_other="$LAST_OTHER_S"; best_prefix="$LAST_PREFIX"
    fi
    if (( QUIET_SPENT >= QUIET_WAIT )) || \
       awk -v o="$best_other" -v n="$(nproc)" -v d="$DURATION" 'BEGIN {exit !(o / (n * d) <= 0.10)}'; then
      break
    fi
    [[ $attempt == 1 ]] && say "$1 ($2): other processes used ${LAST_OTHER_S} CPU-seconds; repeating the run"
  done
  echo "$best_run" >>"$RUNS"
  RUN_PREFIX="$best_prefix"
}

pgbench_once() { # kind mode rate attempt -> sets LAST_RUN (JSON), LAST_OTHER_S, LAST_PREFIX
  local kind=$1 mode=$2 rate=$3 base="$WORK/logs/$1-$2-$4" prefix="$WORK/logs/$1-$2-$4-tx"
  LAST_PREFIX="$prefix"
  local files=() args=()
  mapfile -t files < <(python3 -c 'import json,sys; [print(e["file"]) for e in json.load(open(sys.argv[1])) if e["kind"] == sys.argv[2]]' \
    "$SCRIPTS/manifest.json" "$kind")
  [[ ${#files[@]} -gt 0 ]] || { echo "no requests of kind $kind" >&2; exit 1; }
  for f in "${files[@]}"; do args+=(-f "$f"); done
  local cmd=("$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PORT" -U bench -M "$PROTOCOL"
             -c "$CLIENTS" -j "$THREADS" -T "$DURATION" -l --log-prefix="$prefix")
  [[ "$mode" == open ]] && cmd+=(--rate="$rate")
  # The command as written in the results: script paths shortened to their pattern.
  local shown="${cmd[*]} -f $WORK/scripts/<each ${#files[@]} ${kind} request>.sql citypeers"
  shown="${shown//$PGBIN\//}"
  shown="${shown//$WORK/<tmp>}"
  # CPU bookkeeping: what the machine spent during the run beyond PostgreSQL (postmaster and
  # its reaped backends) and pgbench is other load that disturbs the measurement.
  local busy_before pg_before busy_after pg_after client_cpu status=0
  busy_before=$(cpu_busy); pg_before=$(pg_cpu)
  { TIMEFORMAT='%U %S'; time "${cmd[@]}" "${args[@]}" citypeers >"$base.out" 2>"$base.err" || status=$?; } 2>"$base.time"
  sleep 0.5  # let the postmaster reap the backends of the run
  busy_after=$(cpu_busy); pg_after=$(pg_cpu)
  if [[ $status != 0 ]]; then
    cat "$base.err" >&2; echo "pgbench failed for $kind ($mode)" >&2; exit 1
  fi
  client_cpu=$(awk '{print $1 + $2}' "$base.time")
  if grep -q "aborted" "$base.out" "$base.err"; then
    cat "$base.err" >&2; echo "pgbench clients aborted for $kind ($mode)" >&2; exit 1
  fi
  local busy_s pg_s
  busy_s=$(awk -v d=$(( busy_after - busy_before )) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}')
  pg_s=$(awk -v d=$(( pg_after - pg_before )) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}')
  LAST_OTHER_S=$(awk -v b="$busy_s" -v p="$pg_s" -v c="$client_cpu" 'BEGIN {printf "%.2f", b - p - c}')
  LAST_RUN=$(python3 - "$kind" "$mode" "$rate" "$DURATION" "$prefix" "$shown" "$busy_s" "$pg_s" "$client_cpu" "${files[@]}" <<'EOF'
import json, sys
a = sys.argv
busy, pg, client = float(a[7]), float(a[8]), float(a[9])
print(json.dumps({"kind": a[1], "mode": a[2], "rate": float(a[3]) if a[3] else None,
                  "duration_s": int(a[4]), "log_prefix": a[5], "command": a[6],
                  "cpu_s": {"machine_busy": round(busy, 1), "postgres": round(pg, 1),
                            "pgbench": round(client, 1), "other": round(busy - pg - client, 1)},
                  "files": a[10:]}))
EOF
)
}

for kind in $KINDS; do
  say "$kind: closed loop, $CLIENTS clients, ${DURATION}s"
  pgbench_run "$kind" closed ""
  n=$(count_log "$RUN_PREFIX")
  if [[ "$RATE" == auto ]]; then
    rate=$(python3 -c "import sys; r = int(sys.argv[1]) / float(sys.argv[2]) / 2; print(max(0.5, round(r, 1) if r < 10 else round(r)))" "$n" "$DURATION")
  else
    rate="$RATE"
  fi
  say "$kind: $n requests ($(python3 -c "print(round($n / $DURATION, 1))")/s); open loop at $rate/s, ${DURATION}s"
  pgbench_run "$kind" open "$rate"
done

# --------------------------------------------------------------------------------- results
"${PSQL[@]}" -At -c "SELECT json_build_object(
    'version', current_setting('server_version'),
    'version_string', version(),
    'settings', (SELECT json_object_agg(name, current_setting(name) ORDER BY name) FROM pg_settings
                 WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem',
                   'max_connections', 'max_parallel_workers_per_gather', 'random_page_cost', 'jit',
                   'synchronous_commit', 'effective_io_concurrency', 'huge_pages', 'wal_level')),
    'sizes', json_build_object(
      'experts_table_mb', round(pg_table_size('experts') / 1048576.0, 1),
      'experts_indexes_mb', round(pg_indexes_size('experts') / 1048576.0, 1),
      'cases_table_mb', round(pg_table_size('cases') / 1048576.0, 1),
      'cases_indexes_mb', round(pg_indexes_size('cases') / 1048576.0, 1),
      'database_mb', round(pg_database_size('citypeers') / 1048576.0, 1)),
    'rows', json_build_object(
      'experts', (SELECT count(*) FROM experts),
      'experts_published', (SELECT count(*) FROM experts WHERE status = 'published'),
      'cases', (SELECT count(*) FROM cases),
      'lexicon_words', (SELECT count(*) FROM lexicon)))" >"$WORK/postgres.json"

COMMAND_LINE="$COMMAND_LINE" EXPERTS="$EXPERTS" CASES="$CASES" SEED="$SEED" LOAD_SECONDS="$LOAD_SECONDS" \
CLIENTS="$CLIENTS" THREADS="$THREADS" DURATION="$DURATION" PROTOCOL="$PROTOCOL" RATE="$RATE" REQUESTS="$REQUESTS" QUIET_WAIT="$QUIET_WAIT" QUIET_SPENT="$QUIET_SPENT" \
python3 - "$WORK/meta.json" "$WORK/postgres.json" "$WORK/checks.json" <<'EOF'
import datetime, hashlib, json, os, platform, sys
out, pg, checks = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
env = os.environ
mem_kb = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
try:
    os_name = platform.freedesktop_os_release().get("PRETTY_NAME", "")
except (AttributeError, OSError):
    os_name = ""
def sha(name):
    return hashlib.sha256(open(os.path.join(env["REQUESTS"], name), "rb").read()).hexdigest()[:16]
meta = {
    "what": "PostgreSQL full-text search baseline for citypeers, measured with pgbench over loopback TCP",
    "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
    "command": env["COMMAND_LINE"],
    "machine": {"nproc": os.cpu_count(), "memory_gb": round(mem_kb / 1048576, 1), "cpu": cpu,
                "kernel": platform.release(), "os": os_name},
    "postgres": pg,
    "dataset": {"generator": "citypeers generate", "experts": int(env["EXPERTS"]), "cases": int(env["CASES"]),
                "seed": int(env["SEED"]), "rows": pg["rows"], "load_and_index_seconds": int(env["LOAD_SECONDS"])},
    "requests": {"search.jsonl sha256": sha("search.jsonl"), "match.jsonl sha256": sha("match.jsonl")},
    "pgbench": {"clients": int(env["CLIENTS"]), "threads": int(env["THREADS"]), "duration_s": int(env["DURATION"]),
                "protocol": env["PROTOCOL"], "rate": env["RATE"], "transport": "TCP 127.0.0.1",
                "quiet_wait_s": int(env["QUIET_WAIT"]), "quiet_waited_s": int(env["QUIET_SPENT"]),
                "latency": "per transaction from pgbench -l; in open loop measured from the scheduled start, so queueing counts"},
    "checks": checks,
}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(meta, handle, ensure_ascii=False)
EOF
python3 "$HERE/bench.py" summarize --runs "$RUNS" --meta "$WORK/meta.json" --manifest "$SCRIPTS/manifest.json" --out "$OUT"
say "done in $(( $(date +%s) - STARTED ))s"
