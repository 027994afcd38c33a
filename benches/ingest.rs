//! Bulk import throughput, single writes, full reindex time and cold open of an existing
//! index, at each dataset size (`CITYPEERS_BENCH_SIZES`), on the embedded store and, when
//! `CITYPEERS_BENCH_POSTGRES` names a database the benchmark may wipe, on PostgreSQL too.
//! Run: `cargo bench --bench ingest`. Figures go to standard output and to
//! `target/bench-data/results-ingest-<size>.json` (`results-ingest-postgres-<size>.json`).

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use citypeers::app::Actor;
use citypeers::domain::Expert;

/// Single creates timed after the import (each one a transaction, an audit entry and an
/// index commit, as `POST /v1/admin/experts` does).
const SINGLE_WRITES: usize = 300;

/// Empties the benchmark's database (every citypeers table).
fn wipe_database(url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to CITYPEERS_BENCH_POSTGRES");
        tokio::spawn(connection);
        client
            .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            .await
            .expect("wipe the benchmark database");
    });
}

/// Writes per second for single creates.
fn single_writes_per_second(app: &citypeers::app::App) -> f64 {
    let actor = Actor::named("bench");
    let started = Instant::now();
    for number in 0..SINGLE_WRITES {
        let body = serde_json::json!({
            "id": format!("single-write-{number}"), "name": "Bench Writer", "city": "Accra", "country": "GH",
            "languages": ["en"], "topics": ["waste"], "status": "published",
            "expertise": "Composting of market waste and landfill gas capture.",
        });
        app.create_record::<Expert>(&body, &actor).expect("create");
    }
    SINGLE_WRITES as f64 / started.elapsed().as_secs_f64()
}

fn measure(size: u64, store_name: &str, store: Option<&str>) {
    let fresh = support::bench_root().join(format!("ingest-{store_name}-{size}"));
    let _ = std::fs::remove_dir_all(&fresh);
    if let Some(url) = store {
        wipe_database(url);
    }
    let (experts, cases, import_seconds) = support::import_with(&fresh, store, size);
    let records = (experts + cases) as f64;

    let app = support::open_with(&fresh, store);
    let writes_per_second = single_writes_per_second(&app);
    let started = Instant::now();
    let reindexed = app.reindex().expect("reindex");
    let reindex_seconds = started.elapsed().as_secs_f64();
    app.shutdown().expect("shutdown");
    drop(app);

    // Cold open: a new process would do exactly this on an existing data directory.
    let started = Instant::now();
    let app = support::open_with(&fresh, store);
    let open_seconds = started.elapsed().as_secs_f64();
    let readiness = app.readiness();
    app.shutdown().expect("shutdown");
    drop(app);
    let _ = std::fs::remove_dir_all(&fresh);

    let result = serde_json::json!({
        "store": store_name,
        "experts": experts,
        "cases": cases,
        "import_seconds": import_seconds,
        "import_records_per_second": records / import_seconds,
        "single_writes_per_second": writes_per_second,
        "reindex_seconds": reindex_seconds,
        "reindexed_records": reindexed,
        "cold_open_seconds": open_seconds,
        "indexed_experts_after_open": readiness.indexed_experts,
    });
    println!(
        "{size:>8} experts on {store_name}: import {records:.0} records in {import_seconds:.1} s ({:.0} records/s), {writes_per_second:.0} single writes/s, reindex {reindex_seconds:.1} s, cold open {:.0} ms",
        records / import_seconds,
        open_seconds * 1000.0
    );
    let name = match store {
        None => format!("results-ingest-{size}.json"),
        Some(_) => format!("results-ingest-{store_name}-{size}.json"),
    };
    let path = support::bench_root().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap_or_default()).expect("results");
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments are not ours.
    let postgres = std::env::var("CITYPEERS_BENCH_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty());
    for size in support::sizes() {
        support::generated(size);
        measure(size, "sled", None);
        if let Some(url) = &postgres {
            measure(size, "postgres", Some(url));
        }
    }
}
