//! Shared by the benchmarks: datasets of generated experts and cases (cached under
//! `target/bench-data/`, built on first use) and the request set in `benches/requests/`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use citypeers::app::{Actor, App, AppConfig, ListingParams, MatchInput};
use citypeers::curation::import::ImportFormat;
use citypeers::domain::RecordKind;
use serde_json::Value;

pub const SEED: u64 = 7;

/// Expert counts to benchmark: `CITYPEERS_BENCH_SIZES=10000,100000,1000000` (default 10k and
/// 100k; 1M takes several minutes to build the first time).
pub fn sizes() -> Vec<u64> {
    std::env::var("CITYPEERS_BENCH_SIZES")
        .ok()
        .map(|raw| {
            raw.split(',')
                .filter_map(|size| size.trim().replace('_', "").parse().ok())
                .collect()
        })
        .filter(|sizes: &Vec<u64>| !sizes.is_empty())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

pub fn bench_root() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}

/// Generated JSON Lines for `experts` experts and 30 % as many cases.
pub fn generated(experts: u64) -> PathBuf {
    let dir = bench_root().join(format!("generated-{experts}"));
    let marker = dir.join("complete");
    if !marker.exists() {
        std::fs::create_dir_all(&dir).expect("bench directory");
        let mut expert_file = std::io::BufWriter::new(std::fs::File::create(dir.join("experts.jsonl")).expect("file"));
        let mut case_file = std::io::BufWriter::new(std::fs::File::create(dir.join("cases.jsonl")).expect("file"));
        citypeers::generate::generate(experts, experts * 3 / 10, SEED, &mut expert_file, &mut case_file)
            .expect("generate");
        drop(expert_file);
        drop(case_file);
        std::fs::write(&marker, b"").expect("marker");
    }
    dir
}

/// Opens the service and waits (up to two minutes) until it has learned from the data, so that
/// a benchmark times the steady state rather than the first background training.
pub fn open(data_dir: &Path) -> App {
    let app = open_with(data_dir, None);
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while !app.learning_settled() && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    app
}

/// Opens the service with its index in `data_dir` and its records in the PostgreSQL
/// database at `store` (or the embedded store in `data_dir`).
pub fn open_with(data_dir: &Path, store: Option<&str>) -> App {
    App::open(AppConfig {
        data_dir: data_dir.to_path_buf(),
        vocabulary_dir: None,
        load_demo_data: false,
        admin_token: None,
        min_free_bytes: citypeers::store::DEFAULT_MIN_FREE_BYTES,
        store: store.map(str::to_string),
    })
    .expect("the service opens")
}

/// Imports the generated files into `data_dir`; returns (experts, cases, seconds).
pub fn import_into(data_dir: &Path, experts: u64) -> (u64, u64, f64) {
    import_with(data_dir, None, experts)
}

/// Imports the generated files with the records in `store` (see `open_with`).
pub fn import_with(data_dir: &Path, store: Option<&str>, experts: u64) -> (u64, u64, f64) {
    let source = generated(experts);
    let app = open_with(data_dir, store);
    let started = Instant::now();
    let actor = Actor::named("bench");
    let read = |name: &str| std::fs::File::open(source.join(name)).expect("generated file");
    let expert_report = app
        .import(
            RecordKind::Expert,
            read("experts.jsonl"),
            ImportFormat::JsonLines,
            &actor,
            &mut |_| {},
        )
        .expect("import");
    let case_report = app
        .import(
            RecordKind::Case,
            read("cases.jsonl"),
            ImportFormat::JsonLines,
            &actor,
            &mut |_| {},
        )
        .expect("import");
    let seconds = started.elapsed().as_secs_f64();
    app.shutdown().expect("shutdown");
    (expert_report.acknowledged(), case_report.acknowledged(), seconds)
}

/// A data directory holding the generated dataset (built once, then reused).
pub fn dataset(experts: u64) -> PathBuf {
    let dir = bench_root().join(format!("data-{experts}"));
    let marker = dir.join("complete.json");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("building the {experts}-expert dataset in {} (once)…", dir.display());
        let (imported_experts, imported_cases, seconds) = import_into(&dir.join("data"), experts);
        let note = serde_json::json!({"experts": imported_experts, "cases": imported_cases, "import_seconds": seconds});
        std::fs::write(&marker, note.to_string()).expect("marker");
    }
    dir.join("data")
}

fn requests(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/requests")
        .join(file);
    std::fs::read_to_string(&path)
        .expect("request set")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("request line"))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Search requests of one kind (plain_text, text_filters, browse_facets, typo).
pub fn search_requests(kind: &str) -> Vec<ListingParams> {
    requests("search.jsonl")
        .into_iter()
        .filter(|request| request["kind"] == kind)
        .map(|request| {
            let params = &request["params"];
            ListingParams {
                q: params["q"].as_str().map(str::to_string),
                topic: strings(&params["topic"]),
                region: strings(&params["region"]),
                country: strings(&params["country"]),
                language: strings(&params["language"]),
                available: None,
                limit: params["limit"].as_u64().map(|limit| limit.to_string()),
                offset: None,
                status: None,
            }
        })
        .collect()
}

/// The search requests as URL query strings, for the HTTP load generator.
pub fn search_query_strings() -> Vec<(String, String)> {
    requests("search.jsonl")
        .into_iter()
        .map(|request| {
            let mut pairs = form_urlencoded::Serializer::new(String::new());
            if let Some(object) = request["params"].as_object() {
                for (key, value) in object {
                    match value {
                        Value::Array(items) => {
                            for item in items {
                                pairs.append_pair(key, item.as_str().unwrap_or_default());
                            }
                        }
                        Value::String(text) if !text.is_empty() => {
                            pairs.append_pair(key, text);
                        }
                        Value::Number(number) => {
                            pairs.append_pair(key, &number.to_string());
                        }
                        _ => {}
                    }
                }
            }
            (request["kind"].as_str().unwrap_or("search").to_string(), pairs.finish())
        })
        .collect()
}

/// Match requests of one kind (long_challenge, short_challenge).
pub fn match_requests(kind: &str) -> Vec<MatchInput> {
    requests("match.jsonl")
        .into_iter()
        .filter(|request| request["kind"] == kind)
        .map(|request| MatchInput::from_json(&request["body"]).expect("a valid match body"))
        .collect()
}

/// The match request bodies, for the HTTP load generator.
pub fn match_bodies() -> Vec<(String, String)> {
    requests("match.jsonl")
        .into_iter()
        .map(|request| {
            (
                request["kind"].as_str().unwrap_or("match").to_string(),
                request["body"].to_string(),
            )
        })
        .collect()
}

/// Anonymous and file-backed resident memory of a process, in MiB (Linux).
pub fn resident_memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("RssAnon:"), field("RssFile:"))
}
