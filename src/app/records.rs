//! Single records: public reads, staff create / replace / merge-patch / delete / erase,
//! the audit trail and contact requests.

use serde_json::Value;

use super::auth::Actor;
use super::{App, AppError, now};
use crate::curation::audit::{field_changes, restore_created_values};
use crate::domain::{Case, CaseDraft, Expert, ExpertDraft, FieldError, RecordId, RecordKind, Status, Versioned};
use crate::store::{AuditAction, AuditEntry, StoreError, WriteTx};
use crate::wire::{self, ImportedMetadata, Origin, Visibility};

/// What experts and cases have in common for editing, import and export.
pub trait EditableRecord: Clone + PartialEq + Sized {
    const KIND: RecordKind;
    const ID_PREFIX: &'static str;
    const FIELDS: &'static [&'static str];
    /// Fields whose values make up a stable id for a record imported without one.
    const IDENTITY_FIELDS: &'static [&'static str];
    type Draft: Clone;

    fn id(&self) -> &RecordId;
    fn status(&self) -> Status;
    fn draft_id(draft: &Self::Draft) -> Option<&String>;
    fn set_draft_id(draft: &mut Self::Draft, id: String);
    fn draft_status_is_set(draft: &Self::Draft) -> bool;
    fn set_draft_status(draft: &mut Self::Draft, status: Status);
    fn draft_from_json(value: &Value, origin: Origin) -> Result<(Self::Draft, ImportedMetadata), Vec<FieldError>>;
    /// Parses a draft and fills what the service derives (a case's language).
    fn parse(app: &App, draft: Self::Draft, default_status: Status) -> Result<Self, Vec<FieldError>>;
    fn to_json(app: &App, stored: &Versioned<Self>, visibility: Visibility) -> Value;
    fn read(tx: &mut WriteTx<'_>, id: &RecordId) -> Result<Option<Versioned<Self>>, StoreError>;
    /// The record as this node's answers show it (as fresh as its index).
    fn read_committed(app: &App, id: &RecordId) -> Result<Option<Versioned<Self>>, StoreError>;
    /// The record as the store holds it now (for staff, who edit it).
    fn read_latest(app: &App, id: &RecordId) -> Result<Option<Versioned<Self>>, StoreError>;
    /// The record as public answers show it.
    fn for_public(app: &App, stored: Versioned<Self>) -> Result<Versioned<Self>, AppError>;
    fn write(tx: &mut WriteTx<'_>, stored: Versioned<Self>) -> Result<(), StoreError>;
}

impl EditableRecord for Expert {
    const KIND: RecordKind = RecordKind::Expert;
    const ID_PREFIX: &'static str = "e-";
    const FIELDS: &'static [&'static str] = &wire::EXPERT_FIELDS;
    const IDENTITY_FIELDS: &'static [&'static str] = &["name", "city", "country"];
    type Draft = ExpertDraft;

    fn id(&self) -> &RecordId {
        &self.id
    }
    fn status(&self) -> Status {
        self.status
    }
    fn draft_id(draft: &ExpertDraft) -> Option<&String> {
        draft.id.as_ref()
    }
    fn set_draft_id(draft: &mut ExpertDraft, id: String) {
        draft.id = Some(id);
    }
    fn draft_status_is_set(draft: &ExpertDraft) -> bool {
        draft.status.is_some()
    }
    fn set_draft_status(draft: &mut ExpertDraft, status: Status) {
        draft.status = Some(status.to_string());
    }
    fn draft_from_json(value: &Value, origin: Origin) -> Result<(ExpertDraft, ImportedMetadata), Vec<FieldError>> {
        wire::expert_draft_from_json(value, origin)
    }
    fn parse(_app: &App, draft: ExpertDraft, default_status: Status) -> Result<Expert, Vec<FieldError>> {
        Expert::parse(draft, default_status)
    }
    fn to_json(app: &App, stored: &Versioned<Expert>, visibility: Visibility) -> Value {
        wire::expert_json(stored, &app.vocabulary().regions, visibility)
    }
    fn read(tx: &mut WriteTx<'_>, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        tx.expert(id)
    }
    fn read_committed(app: &App, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        app.shown_expert(id)
    }
    fn read_latest(app: &App, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        app.store().expert(id)
    }
    fn for_public(_app: &App, stored: Versioned<Expert>) -> Result<Versioned<Expert>, AppError> {
        Ok(stored)
    }
    fn write(tx: &mut WriteTx<'_>, stored: Versioned<Expert>) -> Result<(), StoreError> {
        tx.put_expert(stored)
    }
}

impl EditableRecord for Case {
    const KIND: RecordKind = RecordKind::Case;
    const ID_PREFIX: &'static str = "c-";
    const FIELDS: &'static [&'static str] = &wire::CASE_FIELDS;
    const IDENTITY_FIELDS: &'static [&'static str] = &["title", "city", "country"];
    type Draft = CaseDraft;

    fn id(&self) -> &RecordId {
        &self.id
    }
    fn status(&self) -> Status {
        self.status
    }
    fn draft_id(draft: &CaseDraft) -> Option<&String> {
        draft.id.as_ref()
    }
    fn set_draft_id(draft: &mut CaseDraft, id: String) {
        draft.id = Some(id);
    }
    fn draft_status_is_set(draft: &CaseDraft) -> bool {
        draft.status.is_some()
    }
    fn set_draft_status(draft: &mut CaseDraft, status: Status) {
        draft.status = Some(status.to_string());
    }
    fn draft_from_json(value: &Value, origin: Origin) -> Result<(CaseDraft, ImportedMetadata), Vec<FieldError>> {
        wire::case_draft_from_json(value, origin)
    }
    fn parse(_app: &App, draft: CaseDraft, default_status: Status) -> Result<Case, Vec<FieldError>> {
        let mut case = Case::parse(draft, default_status)?;
        if case.language.is_none() {
            case.language = crate::search::case_text_language(&case).language_code();
        }
        Ok(case)
    }
    fn to_json(app: &App, stored: &Versioned<Case>, _visibility: Visibility) -> Value {
        wire::case_json(stored, &app.vocabulary().regions)
    }
    fn read(tx: &mut WriteTx<'_>, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        tx.case(id)
    }
    fn read_committed(app: &App, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        app.shown_case(id)
    }
    fn read_latest(app: &App, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        app.store().case(id)
    }
    fn for_public(app: &App, stored: Versioned<Case>) -> Result<Versioned<Case>, AppError> {
        app.publicly_linked(stored)
    }
    fn write(tx: &mut WriteTx<'_>, stored: Versioned<Case>) -> Result<(), StoreError> {
        tx.put_case(stored)
    }
}

pub(super) fn parse_path_id(raw: &str) -> Result<RecordId, AppError> {
    RecordId::parse(raw).map_err(|_| {
        AppError::NotFound(format!(
            "no record with id '{}'",
            crate::domain::id::truncate_for_message(raw)
        ))
    })
}

pub(super) fn not_found<R: EditableRecord>(id: &RecordId) -> AppError {
    let noun = match R::KIND {
        RecordKind::Expert => "expert",
        RecordKind::Case => "case",
    };
    AppError::NotFound(format!("no {noun} with id '{id}'"))
}

/// What a change's `If-Match` said about the version it expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionCheck {
    /// No If-Match: refused (428), so that no change overwrites another unseen.
    Missing,
    /// `If-Match: *`: whatever version is current.
    Any,
    /// One of these versions (none: no tag named a version, so nothing matches).
    OneOf(Vec<u64>),
}

fn check_version(expected: &VersionCheck, current: u64) -> Result<(), AppError> {
    match expected {
        VersionCheck::Missing => Err(AppError::PreconditionRequired),
        VersionCheck::OneOf(versions) if !versions.contains(&current) => Err(AppError::PreconditionFailed { current }),
        VersionCheck::OneOf(_) | VersionCheck::Any => Ok(()),
    }
}

pub(crate) fn audit_entry(
    actor: &Actor,
    action: AuditAction,
    version: Option<u64>,
    changes: Vec<crate::store::FieldChange>,
) -> AuditEntry {
    AuditEntry {
        at: now(),
        actor: actor.name.clone(),
        action,
        version,
        changes,
        values_elided: false,
    }
}

/// The entry of a record's creation (through the API or an import). Its values are not
/// copied: they are the record's first values, rebuilt when the trail is read.
pub(crate) fn creation_entry(actor: &Actor, action: AuditAction, version: u64) -> AuditEntry {
    AuditEntry {
        values_elided: true,
        ..audit_entry(actor, action, Some(version), Vec::new())
    }
}

fn random_id(prefix: &str) -> Result<RecordId, AppError> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|error| AppError::Internal(format!("no randomness: {error}")))?;
    Ok(RecordId::from_random_bytes(prefix, &bytes))
}

impl App {
    /// A published expert; a merged one answers with where it moved.
    pub fn public_expert(&self, raw_id: &str) -> Result<Versioned<Expert>, AppError> {
        let id = parse_path_id(raw_id)?;
        self.public_record::<Expert>(&id)
    }

    /// A published case as the public may see it (see `publicly_linked`).
    pub fn public_case(&self, raw_id: &str) -> Result<Versioned<Case>, AppError> {
        let id = parse_path_id(raw_id)?;
        let case = self.public_record::<Case>(&id)?;
        self.publicly_linked(case)
    }

    /// A case with only the published experts among its contacts: drafts, archived and not yet
    /// imported experts are staff business.
    pub(crate) fn publicly_linked(&self, mut case: Versioned<Case>) -> Result<Versioned<Case>, AppError> {
        let mut published = Vec::with_capacity(case.record.experts.len());
        for expert in &case.record.experts {
            if self
                .shown_expert(expert)?
                .is_some_and(|stored| stored.record.status == Status::Published)
            {
                published.push(expert.clone());
            }
        }
        case.record.experts = published;
        Ok(case)
    }

    fn public_record<R: EditableRecord>(&self, id: &RecordId) -> Result<Versioned<R>, AppError> {
        if let Some(stored) = R::read_committed(self, id)?
            && stored.record.status() == Status::Published
        {
            return Ok(stored);
        }
        if let Some(target) = self.store().redirect(R::KIND, id)? {
            return Err(AppError::Moved {
                location: format!("/v1/{}/{target}", R::KIND.plural()),
            });
        }
        Err(not_found::<R>(id))
    }

    pub(crate) fn admin_record<R: EditableRecord>(&self, raw_id: &str) -> Result<Versioned<R>, AppError> {
        let id = parse_path_id(raw_id)?;
        R::read_latest(self, &id)?.ok_or_else(|| not_found::<R>(&id))
    }

    pub fn admin_expert(&self, raw_id: &str) -> Result<Versioned<Expert>, AppError> {
        self.admin_record::<Expert>(raw_id)
    }

    pub fn admin_case(&self, raw_id: &str) -> Result<Versioned<Case>, AppError> {
        self.admin_record::<Case>(raw_id)
    }

    /// Creates a record (status `draft` unless given); 409 when the id exists.
    pub fn create_record<R: EditableRecord>(&self, body: &Value, actor: &Actor) -> Result<Versioned<R>, AppError> {
        let (mut draft, _) = R::draft_from_json(body, Origin::ApiBody).map_err(AppError::Invalid)?;
        if R::draft_id(&draft).is_none() {
            R::set_draft_id(&mut draft, random_id(R::ID_PREFIX)?.to_string());
        }
        let record = R::parse(self, draft, Status::Draft).map_err(AppError::Invalid)?;
        self.ensure_writable()?;
        let committed = self.store().write(|tx| {
            if tx.contains(R::KIND, record.id())? {
                return Err(AppError::Conflict(format!(
                    "a record with id '{}' exists already",
                    record.id()
                )));
            }
            let timestamp = now();
            let stored = Versioned {
                record: record.clone(),
                version: 1,
                created_at: timestamp,
                updated_at: timestamp,
            };
            let entry = creation_entry(actor, AuditAction::Create, 1);
            R::write(tx, stored.clone())?;
            tx.append_audit(R::KIND, record.id(), &entry, false)?;
            Ok(stored)
        })?;
        self.index_changes()?;
        Ok(committed.value)
    }

    /// Replaces a record (PUT). Absent optional fields are cleared; an absent status keeps the
    /// current one.
    pub(crate) fn replace_record<R: EditableRecord>(
        &self,
        raw_id: &str,
        body: &Value,
        expected_version: VersionCheck,
        actor: &Actor,
    ) -> Result<Versioned<R>, AppError> {
        let id = parse_path_id(raw_id)?;
        let (draft, _) = R::draft_from_json(body, Origin::ApiBody).map_err(AppError::Invalid)?;
        self.update_with(&id, expected_version, actor, |_current| Ok(draft))
    }

    /// Applies a JSON merge patch (RFC 7396) to a record.
    pub(crate) fn patch_record<R: EditableRecord>(
        &self,
        raw_id: &str,
        patch: &Value,
        expected_version: VersionCheck,
        actor: &Actor,
    ) -> Result<Versioned<R>, AppError> {
        let id = parse_path_id(raw_id)?;
        let Some(patch_object) = patch.as_object() else {
            return Err(AppError::Invalid(vec![FieldError::new(
                "record",
                "a merge patch must be a JSON object",
            )]));
        };
        let mut errors = Vec::new();
        let mut known_values = serde_json::Map::new();
        for (field, value) in patch_object {
            if R::FIELDS.contains(&field.as_str()) {
                known_values.insert(field.clone(), value.clone());
            }
            if wire::READ_ONLY_FIELDS.contains(&field.as_str()) {
                errors.push(FieldError::new(field.as_str(), "is read-only: the service sets it"));
            } else if !R::FIELDS.contains(&field.as_str()) {
                errors.push(FieldError::new(
                    crate::domain::id::truncate_for_message(field),
                    "unknown field",
                ));
            }
        }
        errors.extend(wire::api_value_errors(&known_values));
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.update_with(&id, expected_version, actor, |current| {
            let mut document = R::to_json(self, current, Visibility::Admin);
            if let Some(object) = document.as_object_mut() {
                for read_only in wire::READ_ONLY_FIELDS {
                    object.remove(read_only);
                }
            }
            wire::merge_patch(&mut document, patch);
            R::draft_from_json(&document, Origin::PatchedRecord)
                .map(|(draft, _)| draft)
                .map_err(AppError::Invalid)
        })
    }

    fn update_with<R: EditableRecord>(
        &self,
        id: &RecordId,
        expected_version: VersionCheck,
        actor: &Actor,
        make_draft: impl FnOnce(&Versioned<R>) -> Result<R::Draft, AppError>,
    ) -> Result<Versioned<R>, AppError> {
        self.ensure_writable()?;
        let committed = self.store().write(|tx| {
            let current = R::read(tx, id)?.ok_or_else(|| not_found::<R>(id))?;
            // An invalid body is 422 whatever version it was meant for; a valid one, 412 when stale.
            let mut draft = make_draft(&current)?;
            match R::draft_id(&draft) {
                Some(body_id) if body_id.trim() != id.as_str() => {
                    return Err(AppError::Invalid(vec![FieldError::new(
                        "id",
                        format!("'{body_id}' does not match the id in the URL ('{id}')"),
                    )]));
                }
                _ => R::set_draft_id(&mut draft, id.to_string()),
            }
            if !R::draft_status_is_set(&draft) {
                R::set_draft_status(&mut draft, current.record.status());
            }
            let record = R::parse(self, draft, current.record.status()).map_err(AppError::Invalid)?;
            check_version(&expected_version, current.version)?;
            if record == current.record {
                return Ok(current);
            }
            let updated = Versioned {
                record,
                version: current.version + 1,
                created_at: current.created_at,
                updated_at: now(),
            };
            let before = R::to_json(self, &current, Visibility::Admin);
            let after = R::to_json(self, &updated, Visibility::Admin);
            let entry = audit_entry(
                actor,
                AuditAction::Update,
                Some(updated.version),
                field_changes(Some(&before), Some(&after), R::FIELDS),
            );
            R::write(tx, updated.clone())?;
            tx.append_audit(R::KIND, id, &entry, false)?;
            Ok(updated)
        })?;
        self.index_changes()?;
        Ok(committed.value)
    }

    /// Deletes a record; with `erase`, removes every trace of it (see CONTRACT §4).
    pub(crate) fn delete_record<R: EditableRecord>(
        &self,
        raw_id: &str,
        expected_version: VersionCheck,
        erase: bool,
        actor: &Actor,
    ) -> Result<(), AppError> {
        let id = parse_path_id(raw_id)?;
        self.ensure_writable()?;
        self.store().write(|tx| -> Result<(), AppError> {
            let current = R::read(tx, &id)?.ok_or_else(|| not_found::<R>(&id))?;
            check_version(&expected_version, current.version)?;
            if !erase {
                let before = R::to_json(self, &current, Visibility::Admin);
                let entry = audit_entry(
                    actor,
                    AuditAction::Delete,
                    Some(current.version),
                    field_changes(Some(&before), None, R::FIELDS),
                );
                tx.append_audit(R::KIND, &id, &entry, false)?;
                tx.delete(R::KIND, &id)?;
                return Ok(());
            }
            // Records merged into this one are the same person: they are erased too.
            let mut to_erase = vec![id.clone()];
            to_erase.extend(tx.merged_into(R::KIND, &id)?);
            for erased in &to_erase {
                if erased != &id && !tx.contains(R::KIND, erased)? {
                    continue;
                }
                tx.erase(R::KIND, erased)?;
                let note = audit_entry(actor, AuditAction::Erase, None, Vec::new());
                tx.append_audit(R::KIND, erased, &note, true)?;
                if R::KIND == RecordKind::Expert {
                    self.unlink_expert_from_cases(tx, erased, None, actor)?;
                }
            }
            Ok(())
        })?;
        self.index_changes()?;
        Ok(())
    }

    /// The audit trail of `experts/{id}` or `cases/{id}`, oldest first.
    pub fn audit_trail(&self, entity: &str) -> Result<Vec<AuditEntry>, AppError> {
        let Some((kind, id)) = entity.split_once('/') else {
            return Err(AppError::bad_parameter(
                "entity",
                "use experts/{id}, cases/{id} or contact-requests/{id}",
            ));
        };
        if kind == "contact-requests" {
            return self.contact_request_audit(id);
        }
        let kind = RecordKind::parse_plural(kind).map_err(|message| AppError::bad_parameter("entity", message))?;
        let id = RecordId::parse(id).map_err(|message| AppError::bad_parameter("entity", message))?;
        match kind {
            RecordKind::Expert => self.record_audit_trail::<Expert>(&id),
            RecordKind::Case => self.record_audit_trail::<Case>(&id),
        }
    }

    /// A record's entries with the values of its creations restored. The record is read
    /// before its entries, so that a change landing in between is among the entries read.
    fn record_audit_trail<R: EditableRecord>(&self, id: &RecordId) -> Result<Vec<AuditEntry>, AppError> {
        let current = R::read_latest(self, id)?.map(|stored| R::to_json(self, &stored, Visibility::Admin));
        let mut entries = self.store().audit_entries(R::KIND, id)?;
        restore_created_values(&mut entries, current.as_ref(), R::FIELDS);
        Ok(entries)
    }

    /// Published cases that name an expert (for their profile).
    pub fn cases_of_expert(&self, expert_id: &str) -> Result<Vec<Versioned<Case>>, AppError> {
        let mut cases = Vec::new();
        for hit in self.engine().cases_of_expert(expert_id, 20)? {
            let Ok(id) = RecordId::parse(&hit.id) else { continue };
            if let Some(case) = self.shown_case(&id)?
                && case.record.status == Status::Published
            {
                cases.push(self.publicly_linked(case)?);
            }
        }
        Ok(cases)
    }
}
