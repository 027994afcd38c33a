//! Storage formats: versioned JSON documents for records, audit entries and contact requests,
//! each sealed in an envelope `[format][key slot][nonce + ciphertext]`. These types are the
//! storage format only; the API has its own (see `wire`).

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use super::StoreError;
use super::crypto::{KEY_BYTES, KeySlot, open_sealed, seal};
use crate::domain::{
    Case, CaseDraft, ContactRequest, ContactRequestDraft, Expert, ExpertDraft, Status, Timestamp, Versioned,
};

const ENVELOPE_FORMAT_V1: u8 = 1;
const ENVELOPE_HEADER_BYTES: usize = 1 + 8;

/// Reads the key slot of an envelope without decrypting it.
pub(super) fn envelope_slot(envelope: &[u8]) -> Result<KeySlot, StoreError> {
    if envelope.len() < ENVELOPE_HEADER_BYTES || envelope[0] != ENVELOPE_FORMAT_V1 {
        return Err(StoreError::Corrupt("unknown envelope format".to_string()));
    }
    let mut slot_bytes = [0u8; 8];
    slot_bytes.copy_from_slice(&envelope[1..9]);
    Ok(u64::from_be_bytes(slot_bytes))
}

/// Seals `plaintext` under `key` (or stores it in the clear for slot 0) and adds the header.
pub(super) fn seal_envelope(
    slot: KeySlot,
    key: Option<&[u8; KEY_BYTES]>,
    associated: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let body = match key {
        Some(key) => seal(key, associated, plaintext)?,
        None => plaintext.to_vec(),
    };
    let mut envelope = Vec::with_capacity(ENVELOPE_HEADER_BYTES + body.len());
    envelope.push(ENVELOPE_FORMAT_V1);
    envelope.extend_from_slice(&slot.to_be_bytes());
    envelope.extend_from_slice(&body);
    Ok(envelope)
}

pub(super) fn open_envelope(
    key: Option<&[u8; KEY_BYTES]>,
    associated: &[u8],
    envelope: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let body = envelope
        .get(ENVELOPE_HEADER_BYTES..)
        .ok_or_else(|| StoreError::Corrupt("envelope too short".to_string()))?;
    match key {
        Some(key) => open_sealed(key, associated, body),
        None => Ok(body.to_vec()),
    }
}

fn format_time(timestamp: Timestamp) -> String {
    timestamp.format(&Rfc3339).unwrap_or_default()
}

fn parse_time(raw: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(raw, &Rfc3339).map_err(|error| StoreError::Corrupt(format!("bad timestamp '{raw}': {error}")))
}

fn corrupt(what: &str, errors: Vec<crate::domain::FieldError>) -> StoreError {
    let details: Vec<String> = errors
        .into_iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect();
    StoreError::Corrupt(format!("stored {what} no longer valid: {}", details.join("; ")))
}

#[derive(Serialize, Deserialize)]
struct StoredExpertV1 {
    id: String,
    name: String,
    position: Option<String>,
    organisation: Option<String>,
    city: String,
    country: String,
    languages: Vec<String>,
    topics: Vec<String>,
    expertise: String,
    bio: Option<String>,
    available: bool,
    email: Option<String>,
    phone: Option<String>,
    status: String,
    version: u64,
    created_at: String,
    updated_at: String,
}

pub(super) fn encode_expert(stored: &Versioned<Expert>) -> Result<Vec<u8>, StoreError> {
    let expert = &stored.record;
    let document = StoredExpertV1 {
        id: expert.id.to_string(),
        name: expert.name.clone(),
        position: expert.position.clone(),
        organisation: expert.organisation.clone(),
        city: expert.city.clone(),
        country: expert.country.to_string(),
        languages: expert.languages.iter().map(ToString::to_string).collect(),
        topics: expert.topics.iter().map(ToString::to_string).collect(),
        expertise: expert.expertise.clone(),
        bio: expert.bio.clone(),
        available: expert.available,
        email: expert.email.clone(),
        phone: expert.phone.clone(),
        status: expert.status.to_string(),
        version: stored.version,
        created_at: format_time(stored.created_at),
        updated_at: format_time(stored.updated_at),
    };
    Ok(serde_json::to_vec(&document)?)
}

pub(super) fn decode_expert(bytes: &[u8]) -> Result<Versioned<Expert>, StoreError> {
    let document: StoredExpertV1 = serde_json::from_slice(bytes)?;
    let draft = ExpertDraft {
        id: Some(document.id),
        name: Some(document.name),
        position: document.position,
        organisation: document.organisation,
        city: Some(document.city),
        country: Some(document.country),
        languages: Some(document.languages),
        topics: Some(document.topics),
        expertise: Some(document.expertise),
        bio: document.bio,
        available: Some(document.available),
        email: document.email,
        phone: document.phone,
        status: Some(document.status),
    };
    let record = Expert::parse(draft, Status::Draft).map_err(|errors| corrupt("expert", errors))?;
    Ok(Versioned {
        record,
        version: document.version,
        created_at: parse_time(&document.created_at)?,
        updated_at: parse_time(&document.updated_at)?,
    })
}

#[derive(Serialize, Deserialize)]
struct StoredCaseV1 {
    id: String,
    title: String,
    summary: String,
    city: String,
    country: String,
    topics: Vec<String>,
    language: Option<String>,
    year: Option<i64>,
    experts: Vec<String>,
    url: Option<String>,
    status: String,
    version: u64,
    created_at: String,
    updated_at: String,
}

pub(super) fn encode_case(stored: &Versioned<Case>) -> Result<Vec<u8>, StoreError> {
    let case = &stored.record;
    let document = StoredCaseV1 {
        id: case.id.to_string(),
        title: case.title.clone(),
        summary: case.summary.clone(),
        city: case.city.clone(),
        country: case.country.to_string(),
        topics: case.topics.iter().map(ToString::to_string).collect(),
        language: case.language.map(|language| language.to_string()),
        year: case.year.map(i64::from),
        experts: case.experts.iter().map(ToString::to_string).collect(),
        url: case.url.clone(),
        status: case.status.to_string(),
        version: stored.version,
        created_at: format_time(stored.created_at),
        updated_at: format_time(stored.updated_at),
    };
    Ok(serde_json::to_vec(&document)?)
}

pub(super) fn decode_case(bytes: &[u8]) -> Result<Versioned<Case>, StoreError> {
    let document: StoredCaseV1 = serde_json::from_slice(bytes)?;
    let draft = CaseDraft {
        id: Some(document.id),
        title: Some(document.title),
        summary: Some(document.summary),
        city: Some(document.city),
        country: Some(document.country),
        topics: Some(document.topics),
        language: document.language,
        year: document.year,
        experts: Some(document.experts),
        url: document.url,
        status: Some(document.status),
    };
    let record = Case::parse(draft, Status::Draft).map_err(|errors| corrupt("case", errors))?;
    Ok(Versioned {
        record,
        version: document.version,
        created_at: parse_time(&document.created_at)?,
        updated_at: parse_time(&document.updated_at)?,
    })
}

/// What happened to a record, for the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    Merge,
    Erase,
    Import,
}

impl AuditAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Merge => "merge",
            AuditAction::Erase => "erase",
            AuditAction::Import => "import",
        }
    }
}

/// One field's value before and after a change (JSON values as the API shows them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// One entry of a record's audit trail.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: AuditAction,
    pub version: Option<u64>,
    pub changes: Vec<FieldChange>,
    /// A creation stored without copying the record's values (`changes` is empty): they are
    /// rebuilt when the trail is read (`curation::audit::restore_created_values`).
    pub values_elided: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredAuditEntryV1 {
    at: String,
    actor: String,
    action: AuditAction,
    version: Option<u64>,
    changes: Vec<FieldChange>,
    /// Absent in entries written before creations were stored without their values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    values_elided: bool,
}

pub(super) fn encode_audit(entry: &AuditEntry) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(&StoredAuditEntryV1 {
        at: format_time(entry.at),
        actor: entry.actor.clone(),
        action: entry.action,
        version: entry.version,
        changes: entry.changes.clone(),
        values_elided: entry.values_elided,
    })?)
}

pub(super) fn decode_audit(bytes: &[u8]) -> Result<AuditEntry, StoreError> {
    let stored: StoredAuditEntryV1 = serde_json::from_slice(bytes)?;
    Ok(AuditEntry {
        at: parse_time(&stored.at)?,
        actor: stored.actor,
        action: stored.action,
        version: stored.version,
        changes: stored.changes,
        values_elided: stored.values_elided,
    })
}

/// Where staff are with a contact request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactStatus {
    #[default]
    New,
    Forwarded,
    Closed,
}

impl ContactStatus {
    pub const ALL: [ContactStatus; 3] = [ContactStatus::New, ContactStatus::Forwarded, ContactStatus::Closed];

    pub fn as_str(&self) -> &'static str {
        match self {
            ContactStatus::New => "new",
            ContactStatus::Forwarded => "forwarded",
            ContactStatus::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<ContactStatus> {
        ContactStatus::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// One step in a contact request's handling: who set which status, when, with what note.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusChange {
    pub at: Timestamp,
    pub actor: String,
    pub status: ContactStatus,
    pub note: Option<String>,
}

/// A contact request as staff see it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredContactRequest {
    pub id: String,
    pub received_at: Timestamp,
    pub request: ContactRequest,
    pub status: ContactStatus,
    pub note: Option<String>,
    /// Status changes, oldest first (empty while the request is new and untouched).
    pub history: Vec<StatusChange>,
}

impl StoredContactRequest {
    /// A request just received; its id comes from the sequence number its write took.
    pub fn received(seq: u64, request: ContactRequest, received_at: Timestamp) -> StoredContactRequest {
        StoredContactRequest {
            id: format!("cr-{seq}"),
            received_at,
            request,
            status: ContactStatus::New,
            note: None,
            history: Vec::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredStatusChangeV1 {
    at: String,
    actor: String,
    status: ContactStatus,
    note: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredContactRequestV1 {
    id: String,
    received_at: String,
    expert_id: String,
    name: String,
    email: String,
    organisation: Option<String>,
    message: String,
    #[serde(default)]
    status: ContactStatus,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    history: Vec<StoredStatusChangeV1>,
}

pub(super) fn encode_contact_request(stored: &StoredContactRequest) -> Result<Vec<u8>, StoreError> {
    let request = &stored.request;
    Ok(serde_json::to_vec(&StoredContactRequestV1 {
        id: stored.id.clone(),
        received_at: format_time(stored.received_at),
        expert_id: request.expert_id.to_string(),
        name: request.name.clone(),
        email: request.email.clone(),
        organisation: request.organisation.clone(),
        message: request.message.clone(),
        status: stored.status,
        note: stored.note.clone(),
        history: stored
            .history
            .iter()
            .map(|change| StoredStatusChangeV1 {
                at: format_time(change.at),
                actor: change.actor.clone(),
                status: change.status,
                note: change.note.clone(),
            })
            .collect(),
    })?)
}

pub(super) fn decode_contact_request(bytes: &[u8]) -> Result<StoredContactRequest, StoreError> {
    let stored: StoredContactRequestV1 = serde_json::from_slice(bytes)?;
    let request = ContactRequest::parse(ContactRequestDraft {
        expert_id: Some(stored.expert_id),
        name: Some(stored.name),
        email: Some(stored.email),
        organisation: stored.organisation,
        message: Some(stored.message),
    })
    .map_err(|errors| corrupt("contact request", errors))?;
    let mut history = Vec::with_capacity(stored.history.len());
    for change in stored.history {
        history.push(StatusChange {
            at: parse_time(&change.at)?,
            actor: change.actor,
            status: change.status,
            note: change.note,
        });
    }
    Ok(StoredContactRequest {
        id: stored.id,
        received_at: parse_time(&stored.received_at)?,
        request,
        status: stored.status,
        note: stored.note,
        history,
    })
}

/// An admin token: only its SHA-256 hash is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredToken {
    pub name: String,
    pub sha256_hex: String,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_entries_round_trip_and_entries_from_before_elision_still_read() {
        let entry = AuditEntry {
            at: time::macros::datetime!(2026-12-05 4:30 UTC),
            actor: "import".into(),
            action: AuditAction::Import,
            version: Some(1),
            changes: Vec::new(),
            values_elided: true,
        };
        assert_eq!(decode_audit(&encode_audit(&entry).unwrap()).unwrap(), entry);
        let listed = AuditEntry {
            changes: vec![FieldChange {
                field: "city".into(),
                before: serde_json::Value::Null,
                after: "Beira".into(),
            }],
            values_elided: false,
            ..entry
        };
        let encoded = encode_audit(&listed).unwrap();
        assert!(!String::from_utf8_lossy(&encoded).contains("values_elided"));
        assert_eq!(decode_audit(&encoded).unwrap(), listed);
        let written_before = br#"{"at":"2026-12-01T10:00:00Z","actor":"admin","action":"create","version":1,"changes":[{"field":"name","before":null,"after":"Ana"}]}"#;
        let old = decode_audit(written_before).unwrap();
        assert!(!old.values_elided);
        assert_eq!(old.changes.len(), 1);
    }
}
