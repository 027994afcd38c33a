//! A stored record with its version and timestamps, and the two kinds of records.

use std::fmt;

pub type Timestamp = time::OffsetDateTime;

/// The two kinds of records the service keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Expert,
    Case,
}

impl RecordKind {
    /// The plural used in URLs, audit entity names and `kind=` parameters.
    pub fn plural(&self) -> &'static str {
        match self {
            RecordKind::Expert => "experts",
            RecordKind::Case => "cases",
        }
    }

    pub fn parse_plural(raw: &str) -> Result<RecordKind, String> {
        match raw.trim() {
            "experts" => Ok(RecordKind::Expert),
            "cases" => Ok(RecordKind::Case),
            other => Err(format!(
                "'{}' is not a kind: use experts or cases",
                super::id::truncate_for_message(other)
            )),
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plural())
    }
}

/// A record as kept by the store: `version` starts at 1 and grows by one with every change.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned<T> {
    pub record: T,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
