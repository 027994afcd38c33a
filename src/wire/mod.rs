//! The contract's JSON: records (CONTRACT §1), separate from the domain and storage types —
//! reading drafts from JSON objects and CSV rows with per-field errors, writing public and
//! admin views — and, in `answers`, the shape of every answer the API and the CLI print.

pub mod answers;
mod read;
mod write;

pub use read::{
    ImportedMetadata, Origin, api_value_errors, case_draft_from_json, csv_row_object, expert_draft_from_json,
    merge_patch, optional_string, string_list,
};
pub use write::{
    CaseView, ExpertView, RecordView, Visibility, case_json, case_view, expert_json, expert_view, format_time,
};

/// Fields a client may write, in the contract's order.
pub const EXPERT_FIELDS: [&str; 14] = [
    "id",
    "name",
    "position",
    "organisation",
    "city",
    "country",
    "languages",
    "topics",
    "expertise",
    "bio",
    "available",
    "email",
    "phone",
    "status",
];
pub const CASE_FIELDS: [&str; 11] = [
    "id", "title", "summary", "city", "country", "topics", "language", "year", "experts", "url", "status",
];
/// Fields the service sets; a client body that sets them is rejected (import ignores them).
pub const READ_ONLY_FIELDS: [&str; 6] = [
    "version",
    "created_at",
    "updated_at",
    "region",
    "subregion",
    "intermediate_region",
];
/// Fields that public endpoints never show.
pub const PRIVATE_FIELDS: [&str; 2] = ["email", "phone"];
