//! Staff use cases beyond single edits: bulk import, export, duplicate detection, the audit
//! trail's field-level diffs, and the built-in demo data.

pub mod audit;
pub mod demo;
pub mod duplicates;
pub mod export;
pub mod import;
