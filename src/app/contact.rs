//! Contact requests: practitioners ask to be put in touch with an expert (public, stored
//! sealed with the expert's key), and staff work through them (new → forwarded → closed, with
//! a note; every change kept in the request's history, which is its audit trail).

use super::auth::Actor;
use super::{App, AppError, now};
use crate::domain::{ContactRequest, ContactRequestDraft, FieldError, Status};
use crate::store::{AuditAction, AuditEntry, ContactStatus, FieldChange, StatusChange, StoredContactRequest};

/// The longest note staff may keep on a request.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// A change staff make to a contact request; at least one part is given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactRequestChange {
    pub status: Option<String>,
    /// `Some(None)` clears the note.
    pub note: Option<Option<String>>,
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!(
        "no contact request with id '{}'",
        crate::domain::id::truncate_for_message(id)
    ))
}

fn parse_change(change: ContactRequestChange) -> Result<(Option<ContactStatus>, Option<Option<String>>), AppError> {
    let mut errors = Vec::new();
    let status = match change.status.as_deref().map(str::trim) {
        None => None,
        Some(raw) => match ContactStatus::parse(raw) {
            Some(status) => Some(status),
            None => {
                errors.push(FieldError::new("status", "must be one of new, forwarded, closed"));
                None
            }
        },
    };
    let note = change.note.map(|note| note.map(|text| text.trim().to_string()));
    match &note {
        Some(Some(text)) if text.is_empty() => {
            errors.push(FieldError::new("note", "must not be empty; send null to clear it"));
        }
        Some(Some(text)) if text.chars().count() > MAX_NOTE_CHARS => {
            errors.push(FieldError::new(
                "note",
                format!("must be at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        _ => {}
    }
    if status.is_none() && note.is_none() && errors.is_empty() {
        errors.push(FieldError::new("status", "give a status, a note, or both"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((status, note))
}

fn json_text(text: &Option<String>) -> serde_json::Value {
    text.as_ref()
        .map_or(serde_json::Value::Null, |text| serde_json::Value::String(text.clone()))
}

impl App {
    /// Stores a contact request for staff; the expert must be published.
    pub fn submit_contact_request(&self, draft: ContactRequestDraft) -> Result<StoredContactRequest, AppError> {
        let request = ContactRequest::parse(draft).map_err(AppError::Invalid)?;
        let expert_id = request.expert_id.clone();
        let published = self
            .store()
            .expert(&expert_id)?
            .is_some_and(|expert| expert.record.status == Status::Published);
        if !published {
            return Err(AppError::Invalid(vec![FieldError::new(
                "expert_id",
                format!("no published expert with id '{expert_id}'"),
            )]));
        }
        let committed = self
            .store()
            .write(|tx| -> Result<StoredContactRequest, AppError> { Ok(tx.add_contact_request(request, now())?) })?;
        Ok(committed.value)
    }

    /// Stored contact requests, oldest first; only those with `status` when given.
    pub fn contact_requests_with(&self, status: Option<&str>) -> Result<Vec<StoredContactRequest>, AppError> {
        let wanted = match status {
            None => None,
            Some(raw) => Some(
                ContactStatus::parse(raw.trim())
                    .ok_or_else(|| AppError::bad_parameter("status", "use new, forwarded or closed"))?,
            ),
        };
        let mut requests = self.store().contact_requests()?;
        requests.retain(|request| wanted.is_none_or(|status| request.status == status));
        Ok(requests)
    }

    /// Sets a contact request's status and/or note; the change joins its history.
    pub fn update_contact_request(
        &self,
        id: &str,
        change: ContactRequestChange,
        actor: &Actor,
    ) -> Result<StoredContactRequest, AppError> {
        let (status, note) = parse_change(change)?;
        let committed = self.store().write(|tx| -> Result<StoredContactRequest, AppError> {
            let mut request = tx.contact_request(id)?.ok_or_else(|| not_found(id))?;
            let new_status = status.unwrap_or(request.status);
            let new_note = note.clone().unwrap_or_else(|| request.note.clone());
            if new_status == request.status && new_note == request.note {
                return Ok(request);
            }
            request.history.push(StatusChange {
                at: now(),
                actor: actor.name.clone(),
                status: new_status,
                note: new_note.clone(),
            });
            request.status = new_status;
            request.note = new_note;
            tx.update_contact_request(&request)?;
            Ok(request)
        })?;
        Ok(committed.value)
    }

    /// A contact request's history as an audit trail: when it arrived, then each change.
    pub(crate) fn contact_request_audit(&self, id: &str) -> Result<Vec<AuditEntry>, AppError> {
        let request = self
            .store()
            .contact_requests()?
            .into_iter()
            .find(|request| request.id == id)
            .ok_or_else(|| not_found(id))?;
        let mut entries = vec![AuditEntry {
            at: request.received_at,
            actor: "public".to_string(),
            action: AuditAction::Create,
            version: Some(1),
            changes: vec![FieldChange {
                field: "status".into(),
                before: serde_json::Value::Null,
                after: ContactStatus::New.as_str().into(),
            }],
            values_elided: false,
        }];
        let mut status = ContactStatus::New;
        let mut note: Option<String> = None;
        for (position, change) in request.history.iter().enumerate() {
            let mut changes = Vec::new();
            if change.status != status {
                changes.push(FieldChange {
                    field: "status".into(),
                    before: status.as_str().into(),
                    after: change.status.as_str().into(),
                });
            }
            if change.note != note {
                changes.push(FieldChange {
                    field: "note".into(),
                    before: json_text(&note),
                    after: json_text(&change.note),
                });
            }
            entries.push(AuditEntry {
                at: change.at,
                actor: change.actor.clone(),
                action: AuditAction::Update,
                version: Some(position as u64 + 2),
                changes,
                values_elided: false,
            });
            status = change.status;
            note.clone_from(&change.note);
        }
        Ok(entries)
    }
}
