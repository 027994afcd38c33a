//! The demo data built into the binary from `fixtures/`, loaded into an empty data directory.

use crate::app::{Actor, App, AppError};
use crate::domain::{Case, Expert};

use super::import::ImportFormat;

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

/// Imports the demo experts and cases; returns how many of each were stored.
pub fn load(app: &App) -> Result<(u64, u64), AppError> {
    let actor = Actor::named("demo-data");
    let experts = DEMO_EXPERTS.concat();
    let cases = DEMO_CASES.concat();
    let expert_report =
        app.import_records::<Expert>(experts.as_bytes(), ImportFormat::JsonLines, &actor, &mut |_| {})?;
    let case_report = app.import_records::<Case>(cases.as_bytes(), ImportFormat::JsonLines, &actor, &mut |_| {})?;
    if !expert_report.rejected.is_empty() || !case_report.rejected.is_empty() {
        let first = expert_report.rejected.first().or(case_report.rejected.first());
        return Err(AppError::Internal(format!(
            "the built-in demo data has invalid records: {first:?}"
        )));
    }
    Ok((expert_report.acknowledged(), case_report.acknowledged()))
}
