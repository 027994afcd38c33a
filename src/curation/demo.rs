//! The demo data built into the binary from `fixtures/` (loaded into an empty data directory
//! by `app`).

pub const DEMO_EXPERTS: [&str; 4] = [
    include_str!("../../fixtures/experts/germany.jsonl"),
    include_str!("../../fixtures/experts/africa.jsonl"),
    include_str!("../../fixtures/experts/asia-mideast.jsonl"),
    include_str!("../../fixtures/experts/latin-america.jsonl"),
];

pub const DEMO_CASES: [&str; 4] = [
    include_str!("../../fixtures/cases/germany.jsonl"),
    include_str!("../../fixtures/cases/africa.jsonl"),
    include_str!("../../fixtures/cases/asia-mideast.jsonl"),
    include_str!("../../fixtures/cases/latin-america.jsonl"),
];
