//! Bulk import throughput, full reindex time and cold open of an existing index, at each
//! dataset size (`CITYPEERS_BENCH_SIZES`). Run: `cargo bench --bench ingest`.
//! Figures go to standard output and to `target/bench-data/results-ingest-<size>.json`.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

fn main() {
    // `cargo bench` passes `--bench`; other arguments are not ours.
    for size in support::sizes() {
        support::generated(size);
        let fresh = support::bench_root().join(format!("ingest-{size}"));
        let _ = std::fs::remove_dir_all(&fresh);
        let (experts, cases, import_seconds) = support::import_into(&fresh, size);
        let records = (experts + cases) as f64;

        let app = support::open(&fresh);
        let started = Instant::now();
        let reindexed = app.reindex().expect("reindex");
        let reindex_seconds = started.elapsed().as_secs_f64();
        app.shutdown().expect("shutdown");
        drop(app);

        // Cold open: a new process would do exactly this on an existing data directory.
        let started = Instant::now();
        let app = support::open(&fresh);
        let open_seconds = started.elapsed().as_secs_f64();
        let readiness = app.readiness();
        app.shutdown().expect("shutdown");
        drop(app);
        let _ = std::fs::remove_dir_all(&fresh);

        let result = serde_json::json!({
            "experts": experts,
            "cases": cases,
            "import_seconds": import_seconds,
            "import_records_per_second": records / import_seconds,
            "reindex_seconds": reindex_seconds,
            "reindexed_records": reindexed,
            "cold_open_seconds": open_seconds,
            "indexed_experts_after_open": readiness.indexed_experts,
        });
        println!(
            "{size:>8} experts: import {records:.0} records in {import_seconds:.1} s ({:.0} records/s), reindex {reindex_seconds:.1} s, cold open {:.0} ms",
            records / import_seconds,
            open_seconds * 1000.0
        );
        let path = support::bench_root().join(format!("results-ingest-{size}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap_or_default()).expect("results");
    }
}
