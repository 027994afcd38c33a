//! Pure helpers for staff work, no I/O and no service: reading import files, comparing
//! profiles for duplicates, the audit trail's field-level diffs, and the built-in demo data.
//! The use cases themselves live in `app`.

pub mod audit;
pub mod demo;
pub mod duplicates;
pub mod import;
