//! HTTP load on a real `citypeers serve` process: closed loop (N clients back to back) and
//! open loop (a fixed arrival rate; latency counted from the scheduled send time, so queueing
//! is not hidden), rotating the request set in `benches/requests/`, for search and match.
//! Reports p50 / p99 / max and throughput, beside them the server's own time (`took_ms` of
//! the answers: the rest is the HTTP exchange and the client), and the server's resident
//! memory. The main runs compute every answer (response cache off); a last closed-loop run
//! repeats the requests with the response cache on, as the portal's repeated page views
//! would.
//!
//! Run: `cargo bench --bench http_load` (sizes from `CITYPEERS_BENCH_SIZES`; options
//! `CITYPEERS_BENCH_SECONDS` (default 15), `CITYPEERS_BENCH_CLIENTS` (default 4),
//! `CITYPEERS_BENCH_SEARCH_RATE` and `CITYPEERS_BENCH_MATCH_RATE` (requests/s, default 400
//! and 100)). Results also go to `target/bench-data/results-http-<size>.json`.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Clone)]
enum Request {
    Search { query: String },
    Match { body: String },
}

/// One answered request: its latency as the client saw it, and the server's own time for it.
#[derive(Clone, Copy)]
struct Timing {
    total_ms: f64,
    server_ms: f64,
}

type Latencies = Arc<Mutex<BTreeMap<String, Vec<Timing>>>>;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Waits (up to fifteen minutes: the first training at one million takes about four) until
/// the server has learned from its data, so that the runs time the steady state and not the
/// first background training competing for the cores. Says so when it gave up waiting.
async fn wait_for_learning(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(15 * 60);
    while Instant::now() < deadline {
        let settled = match client.get(format!("{base}/readyz")).send().await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|body| body["learning"] == "settled"),
            Err(_) => false,
        };
        if settled {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("the server was still learning after 15 minutes: the runs compete with its training");
}

/// Sends one request; on success, the server's own time for it (`took_ms` of the answer)
/// and when its last byte arrived (before the client parses it: a load generator's own
/// parsing is not the server's latency).
async fn send(client: &reqwest::Client, base: &str, request: &Request) -> Option<(f64, Instant)> {
    let response = match request {
        Request::Search { query } => client.get(format!("{base}/v1/experts?{query}")).send().await,
        Request::Match { body } => {
            client
                .post(format!("{base}/v1/match"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
        }
    };
    let response = response.ok()?;
    let ok = response.status().is_success();
    let body = response.bytes().await.ok()?;
    let received = Instant::now();
    let took = serde_json::from_slice::<Value>(&body).ok()?["took_ms"].as_f64();
    if ok { took.map(|took| (took, received)) } else { None }
}

fn summary(latencies: &[f64], seconds: f64) -> Value {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |quantile: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * quantile).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    json!({
        "requests": sorted.len(),
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "max_ms": sorted.last().copied().unwrap_or(0.0),
        "requests_per_second": sorted.len() as f64 / seconds,
    })
}

async fn closed_loop(
    base: &str,
    requests: &[(String, Request)],
    clients: usize,
    seconds: u64,
) -> (Value, BTreeMap<String, Value>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()
        .expect("client");
    let latencies: Latencies = Arc::new(Mutex::new(BTreeMap::new()));
    let failures = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for worker in 0..clients {
        let (client, base, requests, latencies, failures) = (
            client.clone(),
            base.to_string(),
            requests.to_vec(),
            latencies.clone(),
            failures.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut next = worker * 7;
            while Instant::now() < deadline {
                let (kind, request) = &requests[next % requests.len()];
                next += 1;
                let started = Instant::now();
                let Some((server_ms, received)) = send(&client, &base, request).await else {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                };
                let total_ms = (received - started).as_secs_f64() * 1000.0;
                latencies
                    .lock()
                    .expect("latencies")
                    .entry(kind.clone())
                    .or_default()
                    .push(Timing { total_ms, server_ms });
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    report(
        latencies,
        seconds as f64,
        failures.load(std::sync::atomic::Ordering::Relaxed),
    )
}

async fn open_loop(
    base: &str,
    requests: &[(String, Request)],
    rate: u64,
    seconds: u64,
) -> (Value, BTreeMap<String, Value>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let latencies: Latencies = Arc::new(Mutex::new(BTreeMap::new()));
    let failures = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let start = Instant::now();
    let total = rate * seconds;
    let mut tasks = Vec::with_capacity(total as usize);
    let lateness = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let mut schedule = precise_schedule(start, interval, total);
    while let Some((number, scheduled)) = schedule.recv().await {
        let (kind, request) = requests[number as usize % requests.len()].clone();
        let (client, base, latencies, failures, lateness) = (
            client.clone(),
            base.to_string(),
            latencies.clone(),
            failures.clone(),
            lateness.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let late = scheduled.elapsed().as_secs_f64() * 1000.0;
            lateness.lock().expect("lateness").push(late);
            let Some((server_ms, received)) = send(&client, &base, &request).await else {
                failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            };
            // From the scheduled time: a late send counts as waiting.
            let total_ms = (received - scheduled).as_secs_f64() * 1000.0;
            latencies
                .lock()
                .expect("latencies")
                .entry(kind)
                .or_default()
                .push(Timing { total_ms, server_ms });
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let (mut overall, by_kind) = report(
        latencies,
        start.elapsed().as_secs_f64(),
        failures.load(std::sync::atomic::Ordering::Relaxed),
    );
    // How late the client itself sent (part of every latency above): a check that the
    // figures are the server's.
    let late = summary(&lateness.lock().expect("lateness"), 1.0);
    overall["sent_late_p50_ms"] = late["p50_ms"].clone();
    overall["sent_late_p99_ms"] = late["p99_ms"].clone();
    (overall, by_kind)
}

/// The send times of an open loop, `total` of them `interval` apart from `start`, each
/// delivered when it falls due. A thread of its own sleeps to each: tokio's timer rounds a
/// deadline up to the next millisecond, which added up to a millisecond of the client's own
/// lateness to every latency counted from the scheduled time.
fn precise_schedule(
    start: Instant,
    interval: Duration,
    total: u64,
) -> tokio::sync::mpsc::UnboundedReceiver<(u64, Instant)> {
    let (due, schedule) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for number in 0..total {
            let scheduled = start + interval * number as u32;
            std::thread::sleep(scheduled.saturating_duration_since(Instant::now()));
            if due.send((number, scheduled)).is_err() {
                return;
            }
        }
    });
    schedule
}

fn report(latencies: Latencies, seconds: f64, failures: u64) -> (Value, BTreeMap<String, Value>) {
    let latencies = latencies.lock().expect("latencies");
    let all: Vec<Timing> = latencies.values().flatten().copied().collect();
    let mut overall = timing_summary(&all, seconds);
    overall["failures"] = json!(failures);
    let by_kind = latencies
        .iter()
        .map(|(kind, timings)| (kind.clone(), timing_summary(timings, seconds)))
        .collect();
    (overall, by_kind)
}

/// The client's latencies, and beside them the server's own time (`server_p50_ms`,
/// `server_p99_ms`): the difference is the HTTP exchange and the client.
fn timing_summary(timings: &[Timing], seconds: f64) -> Value {
    let totals: Vec<f64> = timings.iter().map(|timing| timing.total_ms).collect();
    let servers: Vec<f64> = timings.iter().map(|timing| timing.server_ms).collect();
    let mut value = summary(&totals, seconds);
    let server = summary(&servers, seconds);
    value["server_p50_ms"] = server["p50_ms"].clone();
    value["server_p99_ms"] = server["p99_ms"].clone();
    value
}

fn print_row(label: &str, value: &Value) {
    let server = match (value["server_p50_ms"].as_f64(), value["server_p99_ms"].as_f64()) {
        (Some(p50), Some(p99)) => format!("; server's own p50 {p50:.2} ms, p99 {p99:.2} ms"),
        _ => String::new(),
    };
    println!(
        "  {label:<34} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  {:>7.0} req/s  ({} requests{server})",
        value["p50_ms"].as_f64().unwrap_or(0.0),
        value["p99_ms"].as_f64().unwrap_or(0.0),
        value["max_ms"].as_f64().unwrap_or(0.0),
        value["requests_per_second"].as_f64().unwrap_or(0.0),
        value["requests"],
    );
}

/// A cached answer carries the `took_ms` of when it was computed: no server time to show.
fn without_server_time(mut result: (Value, BTreeMap<String, Value>)) -> (Value, BTreeMap<String, Value>) {
    for value in std::iter::once(&mut result.0).chain(result.1.values_mut()) {
        if let Some(fields) = value.as_object_mut() {
            fields.remove("server_p50_ms");
            fields.remove("server_p99_ms");
        }
    }
    result
}

fn print_lateness(value: &Value) {
    println!(
        "    the client sent late by p50 {:.3} ms, p99 {:.3} ms",
        value["sent_late_p50_ms"].as_f64().unwrap_or(0.0),
        value["sent_late_p99_ms"].as_f64().unwrap_or(0.0),
    );
}

/// A `citypeers serve` process on `data`, with the response cache at `cache_mib`
/// (0 = off), its base URL, and the time from spawning it to its listening.
struct Server {
    process: std::process::Child,
    base: String,
    cold_open_seconds: f64,
}

impl Server {
    fn start(data: &std::path::Path, cache_mib: u64) -> Server {
        let spawned = Instant::now();
        let mut process = Command::new(env!("CARGO_BIN_EXE_citypeers"))
            .args(["serve", "--empty", "--addr", "127.0.0.1:0", "--response-cache-mb"])
            .arg(cache_mib.to_string())
            .arg("--data")
            .arg(data)
            .env("CITYPEERS_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start citypeers serve");
        let mut first_line = String::new();
        BufReader::new(process.stdout.take().expect("stdout"))
            .read_line(&mut first_line)
            .expect("address line");
        let base = first_line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .expect("address")
            .to_string();
        // From spawning the process to listening: opening the store and the existing index.
        let cold_open_seconds = spawned.elapsed().as_secs_f64();
        Server {
            process,
            base,
            cold_open_seconds,
        }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status();
        let _ = self.process.wait();
    }
}

fn main() {
    let seconds = setting("CITYPEERS_BENCH_SECONDS", 15);
    let clients = setting("CITYPEERS_BENCH_CLIENTS", 4) as usize;
    let search_rate = setting("CITYPEERS_BENCH_SEARCH_RATE", 400);
    let match_rate = setting("CITYPEERS_BENCH_MATCH_RATE", 100);
    let searches: Vec<(String, Request)> = support::search_query_strings()
        .into_iter()
        .map(|(kind, query)| (kind, Request::Search { query }))
        .collect();
    let matches: Vec<(String, Request)> = support::match_bodies()
        .into_iter()
        .map(|(kind, body)| (kind, Request::Match { body }))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");

    for size in support::sizes() {
        let data = support::dataset(size);
        // Every request computed: the response cache is off for the main figures.
        let server = Server::start(&data, 0);
        let cold_open_seconds = server.cold_open_seconds;
        let base = server.base.clone();
        let results = runtime.block_on(async {
            // Warm-up: every request once (page cache, per-segment tables).
            let client = reqwest::Client::new();
            wait_for_learning(&client, &base).await;
            for (_, request) in searches.iter().chain(&matches) {
                send(&client, &base, request).await;
            }
            let search_closed = closed_loop(&base, &searches, clients, seconds).await;
            let match_closed = closed_loop(&base, &matches, clients, seconds).await;
            let search_open = open_loop(&base, &searches, search_rate, seconds).await;
            let match_open = open_loop(&base, &matches, match_rate, seconds).await;
            (search_closed, match_closed, search_open, match_open)
        });
        let (memory_anon, memory_file) = support::resident_memory_mib(server.process.id());
        server.stop();

        // The portal's repeated page views: the same requests again, answered from the
        // response cache (every request of the set was seen once during the warm-up).
        let server = Server::start(&data, 64);
        let base = server.base.clone();
        let (search_cached, match_cached) = runtime.block_on(async {
            let client = reqwest::Client::new();
            wait_for_learning(&client, &base).await;
            for (_, request) in searches.iter().chain(&matches) {
                send(&client, &base, request).await;
            }
            let search_cached = without_server_time(closed_loop(&base, &searches, clients, seconds).await);
            let match_cached = without_server_time(closed_loop(&base, &matches, clients, seconds).await);
            (search_cached, match_cached)
        });
        let (cached_memory_anon, _) = support::resident_memory_mib(server.process.id());
        server.stop();

        let (search_closed, match_closed, search_open, match_open) = results;
        println!(
            "{size} experts, {} cases — {seconds} s per run, {clients} clients closed loop",
            size * 3 / 10
        );
        print_row("search, closed loop", &search_closed.0);
        for (kind, value) in &search_closed.1 {
            print_row(&format!("  {kind}"), value);
        }
        print_row("match, closed loop", &match_closed.0);
        for (kind, value) in &match_closed.1 {
            print_row(&format!("  {kind}"), value);
        }
        print_row(&format!("search, open loop at {search_rate}/s"), &search_open.0);
        print_lateness(&search_open.0);
        print_row(&format!("match, open loop at {match_rate}/s"), &match_open.0);
        for (kind, value) in &match_open.1 {
            print_row(&format!("  {kind}"), value);
        }
        print_lateness(&match_open.0);
        print_row("search repeated, response cache, closed loop", &search_cached.0);
        print_row("match repeated, response cache, closed loop", &match_cached.0);
        println!(
            "  server resident memory: {memory_anon:.0} MiB anonymous + {memory_file:.0} MiB file-backed (page cache); \
             {cached_memory_anon:.0} MiB anonymous with the response cache filled"
        );
        println!("  cold start to listening: {:.0} ms", cold_open_seconds * 1000.0);
        let result = json!({
            "experts": size,
            "seconds": seconds,
            "clients": clients,
            "search_closed": {"overall": search_closed.0, "by_kind": search_closed.1},
            "match_closed": {"overall": match_closed.0, "by_kind": match_closed.1},
            "search_open": {"rate": search_rate, "overall": search_open.0, "by_kind": search_open.1},
            "match_open": {"rate": match_rate, "overall": match_open.0, "by_kind": match_open.1},
            "search_repeated_cached": {"overall": search_cached.0, "by_kind": search_cached.1},
            "match_repeated_cached": {"overall": match_cached.0, "by_kind": match_cached.1},
            "server_rss_anon_mib": memory_anon,
            "server_rss_file_mib": memory_file,
            "server_rss_anon_mib_with_cache": cached_memory_anon,
            "cold_open_seconds": cold_open_seconds,
        });
        let path = support::bench_root().join(format!("results-http-{size}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap_or_default()).expect("results");
    }
}
