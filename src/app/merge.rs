//! Merging a duplicate expert into the one kept (fields filled, case links and redirects
//! moved), and unlinking an expert from the cases that name it (merge and erasure).

use serde_json::Value;

use super::auth::Actor;
use super::records::{EditableRecord, audit_entry, not_found, parse_path_id};
use super::{App, AppError, now};
use crate::curation::audit::field_changes;
use crate::domain::{Expert, FieldError, RecordId, RecordKind, Status, Versioned};
use crate::store::{AuditAction, WriteTx};
use crate::wire::Visibility;

impl App {
    /// Removes (or, with `replacement`, replaces) an expert's id in every case naming it.
    pub(crate) fn unlink_expert_from_cases(
        &self,
        tx: &mut WriteTx<'_>,
        expert: &RecordId,
        replacement: Option<&RecordId>,
        actor: &Actor,
    ) -> Result<usize, AppError> {
        let mut changed = 0;
        let linked = tx.cases_naming(expert)?;
        for case_id in linked {
            let Some(current) = tx.case(&case_id)? else { continue };
            let mut case = current.record.clone();
            case.experts.retain(|linked| linked != expert);
            if let Some(replacement) = replacement
                && !case.experts.contains(replacement)
            {
                case.experts.push(replacement.clone());
            }
            let updated = Versioned {
                record: case,
                version: current.version + 1,
                created_at: current.created_at,
                updated_at: now(),
            };
            // The audit entry never repeats an erased person's id.
            let shown = |ids: &[RecordId]| -> Value {
                Value::Array(
                    ids.iter()
                        .map(|id| {
                            if id == expert && replacement.is_none() {
                                Value::String("(erased)".into())
                            } else {
                                Value::String(id.to_string())
                            }
                        })
                        .collect(),
                )
            };
            let change = crate::store::FieldChange {
                field: "experts".to_string(),
                before: shown(&current.record.experts),
                after: shown(&updated.record.experts),
            };
            let action = if replacement.is_some() {
                AuditAction::Merge
            } else {
                AuditAction::Update
            };
            tx.append_audit(
                RecordKind::Case,
                &case_id,
                &audit_entry(actor, action, Some(updated.version), vec![change]),
                false,
            )?;
            tx.put_case(updated)?;
            changed += 1;
        }
        Ok(changed)
    }

    /// Merges expert `raw_id` into `into`: fills the kept record's empty fields, moves case
    /// links, archives the merged record and redirects its public URL.
    pub fn merge_experts(&self, raw_id: &str, into: &str, actor: &Actor) -> Result<Versioned<Expert>, AppError> {
        let merged_id = parse_path_id(raw_id)?;
        let kept_id =
            RecordId::parse(into).map_err(|message| AppError::Invalid(vec![FieldError::new("into", message)]))?;
        if merged_id == kept_id {
            return Err(AppError::Invalid(vec![FieldError::new(
                "into",
                "an expert cannot be merged into itself",
            )]));
        }
        self.ensure_writable()?;
        let committed = self.store().write(|tx| {
            let merged = tx.expert(&merged_id)?.ok_or_else(|| not_found::<Expert>(&merged_id))?;
            let kept = tx.expert(&kept_id)?.ok_or_else(|| {
                AppError::Invalid(vec![FieldError::new("into", format!("no expert with id '{kept_id}'"))])
            })?;
            if kept.record.status == Status::Archived {
                return Err(AppError::Conflict(format!(
                    "'{kept_id}' is archived; merge into an active record"
                )));
            }
            let mut filled = kept.record.clone();
            let source = &merged.record;
            fill_if_empty(&mut filled.position, &source.position);
            fill_if_empty(&mut filled.organisation, &source.organisation);
            fill_if_empty(&mut filled.bio, &source.bio);
            fill_if_empty(&mut filled.email, &source.email);
            fill_if_empty(&mut filled.phone, &source.phone);
            if filled.expertise.trim().is_empty() {
                filled.expertise = source.expertise.clone();
            }
            if filled.topics.is_empty() {
                filled.topics = source.topics.clone();
            }
            let kept_after = if filled == kept.record {
                kept.clone()
            } else {
                Versioned {
                    record: filled,
                    version: kept.version + 1,
                    created_at: kept.created_at,
                    updated_at: now(),
                }
            };
            let before = Expert::to_json(self, &kept, Visibility::Admin);
            let after = Expert::to_json(self, &kept_after, Visibility::Admin);
            let mut changes = field_changes(Some(&before), Some(&after), Expert::FIELDS);
            changes.push(crate::store::FieldChange {
                field: "merged_from".to_string(),
                before: Value::Null,
                after: Value::String(merged_id.to_string()),
            });
            tx.append_audit(
                RecordKind::Expert,
                &kept_id,
                &audit_entry(actor, AuditAction::Merge, Some(kept_after.version), changes),
                false,
            )?;
            tx.put_expert(kept_after.clone())?;

            let mut archived = merged.record.clone();
            archived.status = Status::Archived;
            let archived = Versioned {
                record: archived,
                version: merged.version + 1,
                created_at: merged.created_at,
                updated_at: now(),
            };
            let archive_changes = vec![
                crate::store::FieldChange {
                    field: "status".into(),
                    before: Value::String(merged.record.status.to_string()),
                    after: Value::String("archived".into()),
                },
                crate::store::FieldChange {
                    field: "merged_into".into(),
                    before: Value::Null,
                    after: Value::String(kept_id.to_string()),
                },
            ];
            tx.append_audit(
                RecordKind::Expert,
                &merged_id,
                &audit_entry(actor, AuditAction::Merge, Some(archived.version), archive_changes),
                false,
            )?;
            tx.put_expert(archived)?;
            tx.put_redirect(RecordKind::Expert, &merged_id, &kept_id)?;
            self.unlink_expert_from_cases(tx, &merged_id, Some(&kept_id), actor)?;
            Ok(kept_after)
        })?;
        self.index_changes()?;
        Ok(committed.value)
    }
}

fn fill_if_empty(target: &mut Option<String>, source: &Option<String>) {
    if target.as_deref().is_none_or(|text| text.trim().is_empty()) && source.is_some() {
        target.clone_from(source);
    }
}
