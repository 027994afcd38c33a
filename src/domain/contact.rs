//! A request from a practitioner to be put in touch with an expert; staff mediate it.

use super::RecordId;
use super::validation::{self, ErrorCollector, FieldError};

pub const MAX_MESSAGE_CHARS: usize = 5_000;

#[derive(Clone, Debug, PartialEq)]
pub struct ContactRequest {
    pub expert_id: RecordId,
    pub name: String,
    pub email: String,
    pub organisation: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactRequestDraft {
    pub expert_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub organisation: Option<String>,
    pub message: Option<String>,
}

impl ContactRequest {
    pub fn parse(draft: ContactRequestDraft) -> Result<ContactRequest, Vec<FieldError>> {
        let mut errors = ErrorCollector::default();
        let expert_id = match draft.expert_id {
            Some(raw) => errors.take("expert_id", RecordId::parse(&raw)),
            None => {
                errors.push("expert_id", "is required");
                None
            }
        };
        let name = errors.take(
            "name",
            validation::required_text(draft.name, super::expert::MAX_NAME_CHARS),
        );
        let email = match errors.take("email", validation::email(draft.email)) {
            Some(Some(address)) => Some(address),
            Some(None) => {
                errors.push("email", "is required");
                None
            }
            None => None,
        };
        let organisation = errors.take(
            "organisation",
            validation::optional_text(draft.organisation, super::expert::MAX_SHORT_TEXT_CHARS),
        );
        let message = errors.take("message", validation::required_text(draft.message, MAX_MESSAGE_CHARS));
        errors.finish(|| {
            Some(ContactRequest {
                expert_id: expert_id?,
                name: name?,
                email: email?,
                organisation: organisation?,
                message: message?,
            })
        })
    }
}
