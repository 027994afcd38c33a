//! Domain types: experts, cases and the values inside them; each can only be built valid. No I/O.

pub mod case;
pub mod contact;
pub mod country;
pub mod expert;
pub mod id;
pub mod language;
pub mod status;
pub mod topic;
pub mod validation;
pub mod versioned;

pub use case::{Case, CaseDraft};
pub use contact::{ContactRequest, ContactRequestDraft};
pub use country::CountryCode;
pub use expert::{Expert, ExpertDraft};
pub use id::RecordId;
pub use language::LanguageCode;
pub use status::Status;
pub use topic::{Topic, TopicSet};
pub use validation::FieldError;
pub use versioned::{RecordKind, Timestamp, Versioned};
