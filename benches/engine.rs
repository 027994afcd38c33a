//! In-process latency of search and match per request kind, at each dataset size
//! (`CITYPEERS_BENCH_SIZES`, default 10k and 100k experts with 30 % as many cases).
//! Each kind is also run as its floor: a bare tantivy top-10 query with the same words and
//! filters on the same index (`floor_*`), so that the report can give citypeers' latency as a
//! multiple of what the engine alone needs.
//! Run: `cargo bench --bench engine`.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use citypeers::app::App;

fn main() {
    divan::main();
}

fn app(size: u64) -> App {
    static APPS: OnceLock<Mutex<HashMap<u64, App>>> = OnceLock::new();
    let apps = APPS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut apps = apps.lock().expect("apps");
    apps.entry(size)
        .or_insert_with(|| support::open(&support::dataset(size)))
        .clone()
}

fn sizes() -> Vec<u64> {
    support::sizes()
}

/// Times `run` on the items in rotation, one per iteration.
fn rotate<T, R>(bencher: divan::Bencher, items: Vec<T>, run: impl Fn(&T) -> R) {
    let mut next = 0usize;
    bencher.bench_local(|| {
        next = (next + 1) % items.len();
        run(&items[next])
    });
}

fn bench_search(bencher: divan::Bencher, size: u64, kind: &str) {
    let app = app(size);
    rotate(bencher, support::search_requests(kind), |request| {
        app.search_experts(request, true).expect("search")
    });
}

fn bench_match(bencher: divan::Bencher, size: u64, kind: &str) {
    let app = app(size);
    rotate(bencher, support::match_requests(kind), |request| {
        app.match_experts(request.clone()).expect("match")
    });
}

/// The bare tantivy query of each request of the kind, prepared outside the timing.
fn bench_search_floor(bencher: divan::Bencher, size: u64, kind: &str) {
    let app = app(size);
    let floors: Vec<_> = support::search_requests(kind)
        .iter()
        .map(|request| app.floor_expert_search(request).expect("floor query"))
        .collect();
    rotate(bencher, floors, |floor| floor.run().expect("floor search"));
}

fn bench_match_floor(bencher: divan::Bencher, size: u64, kind: &str) {
    let app = app(size);
    let floors: Vec<_> = support::match_requests(kind)
        .into_iter()
        .map(|request| app.floor_match(request).expect("floor query"))
        .collect();
    rotate(bencher, floors, |floor| floor.run().expect("floor match"));
}

#[divan::bench(args = sizes(), sample_count = 60)]
fn search_plain_text(bencher: divan::Bencher, size: u64) {
    bench_search(bencher, size, "plain_text");
}

#[divan::bench(args = sizes(), sample_count = 60)]
fn search_text_and_filters(bencher: divan::Bencher, size: u64) {
    bench_search(bencher, size, "text_filters");
}

#[divan::bench(args = sizes(), sample_count = 60)]
fn search_browse_with_facets(bencher: divan::Bencher, size: u64) {
    bench_search(bencher, size, "browse_facets");
}

#[divan::bench(args = sizes(), sample_count = 60)]
fn search_with_typos(bencher: divan::Bencher, size: u64) {
    bench_search(bencher, size, "typo");
}

#[divan::bench(args = sizes(), sample_count = 60)]
fn match_long_multilingual_challenge(bencher: divan::Bencher, size: u64) {
    bench_match(bencher, size, "long_challenge");
}

#[divan::bench(args = sizes(), sample_count = 60)]
fn match_short_challenge(bencher: divan::Bencher, size: u64) {
    bench_match(bencher, size, "short_challenge");
}

#[divan::bench(args = sizes(), sample_count = 200)]
fn floor_search_plain_text(bencher: divan::Bencher, size: u64) {
    bench_search_floor(bencher, size, "plain_text");
}

#[divan::bench(args = sizes(), sample_count = 200)]
fn floor_search_text_and_filters(bencher: divan::Bencher, size: u64) {
    bench_search_floor(bencher, size, "text_filters");
}

#[divan::bench(args = sizes(), sample_count = 200)]
fn floor_search_browse_with_facets(bencher: divan::Bencher, size: u64) {
    bench_search_floor(bencher, size, "browse_facets");
}

#[divan::bench(args = sizes(), sample_count = 200)]
fn floor_search_with_typos(bencher: divan::Bencher, size: u64) {
    bench_search_floor(bencher, size, "typo");
}

#[divan::bench(args = sizes(), sample_count = 200)]
fn floor_match_long_multilingual_challenge(bencher: divan::Bencher, size: u64) {
    bench_match_floor(bencher, size, "long_challenge");
}

#[divan::bench(args = sizes(), sample_count = 200)]
fn floor_match_short_challenge(bencher: divan::Bencher, size: u64) {
    bench_match_floor(bencher, size, "short_challenge");
}
