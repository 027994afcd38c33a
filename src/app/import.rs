//! Bulk import of experts or cases: records are read one at a time (`curation::import`),
//! written in chunks (each one atomic and durable: those records are acknowledged), and indexed
//! with a single commit at the end. Each record stands or falls alone.

use std::io::Read;

use super::{Actor, App, AppError, EditableRecord, now};
use crate::curation::audit::field_changes;
use crate::curation::import::{
    CHUNK_RECORDS, FileError, ImportFormat, ImportReport, RejectedRecord, Row, content_id, new_versioned, raw_id,
    read_csv, read_json_array, read_json_lines,
};
use crate::domain::{FieldError, RecordKind, Status, Versioned};
use crate::store::{AuditAction, Committed};
use crate::wire::Visibility;

impl From<FileError> for AppError {
    fn from(error: FileError) -> Self {
        AppError::bad_request(error.0)
    }
}

impl App {
    /// Imports records of type `R` from `reader`; `progress` sees the report after each
    /// acknowledged chunk.
    pub(crate) fn import_records<R: EditableRecord>(
        &self,
        reader: impl Read,
        format: ImportFormat,
        actor: &Actor,
        progress: &mut dyn FnMut(&ImportReport),
    ) -> Result<ImportReport, AppError> {
        self.ensure_writable()?;
        let mut report = ImportReport::default();
        let mut chunk: Vec<Row> = Vec::with_capacity(CHUNK_RECORDS);
        let mut flush = |chunk: &mut Vec<Row>, report: &mut ImportReport| -> Result<(), AppError> {
            if chunk.is_empty() {
                return Ok(());
            }
            let committed = self.import_chunk::<R>(std::mem::take(chunk), actor, report)?;
            progress(report);
            // Index this chunk while the next one is read; one commit comes at the end.
            self.stage_written(
                committed.first_seq,
                committed.last_seq,
                &committed.changes,
                &committed.written,
            );
            Ok(())
        };
        let mut on_row = |row: Row, report: &mut ImportReport| -> Result<(), AppError> {
            chunk.push(row);
            if chunk.len() >= CHUNK_RECORDS {
                flush(&mut chunk, report)?;
            }
            Ok(())
        };
        match format {
            ImportFormat::JsonLines => read_json_lines(reader, &mut |row| on_row(row, &mut report))?,
            ImportFormat::JsonArray => read_json_array(reader, &mut |row| on_row(row, &mut report))?,
            ImportFormat::Csv => read_csv(reader, R::FIELDS, &mut |row| on_row(row, &mut report))?,
        }
        flush(&mut chunk, &mut report)?;
        let indexing = std::time::Instant::now();
        self.index_changes()?;
        tracing::debug!(
            records = report.acknowledged(),
            ms = indexing.elapsed().as_millis() as u64,
            "import indexed"
        );
        Ok(report)
    }

    fn import_chunk<R: EditableRecord>(
        &self,
        rows: Vec<Row>,
        actor: &Actor,
        report: &mut ImportReport,
    ) -> Result<Committed<()>, AppError> {
        let mut outcome = ImportReport::default();
        let committed = self.store().write(|tx| -> Result<(), AppError> {
            tx.prefetch(R::KIND, &named_ids(&rows))?;
            for row in rows {
                let value = match row.value {
                    Ok(value) => value,
                    Err(errors) => {
                        outcome.rejected.push(RejectedRecord {
                            line: row.line,
                            id: None,
                            errors,
                        });
                        continue;
                    }
                };
                let reject = |errors: Vec<FieldError>, outcome: &mut ImportReport| {
                    outcome.rejected.push(RejectedRecord {
                        line: row.line,
                        id: raw_id(&value),
                        errors,
                    });
                };
                let (mut draft, metadata) = match R::draft_from_json(&value, crate::wire::Origin::ImportFile) {
                    Ok(parsed) => parsed,
                    Err(errors) => {
                        reject(errors, &mut outcome);
                        continue;
                    }
                };
                if R::draft_id(&draft).is_none_or(|id| id.trim().is_empty()) {
                    let parts = R::IDENTITY_FIELDS
                        .iter()
                        .map(|field| value.get(*field))
                        .collect::<Vec<_>>();
                    R::set_draft_id(&mut draft, content_id(R::ID_PREFIX, &parts).to_string());
                }
                let record = match R::parse(self, draft, Status::Published) {
                    Ok(record) => record,
                    Err(errors) => {
                        reject(errors, &mut outcome);
                        continue;
                    }
                };
                let id = R::id(&record).clone();
                let existing = R::read(tx, &id)?;
                let (stored, before) = match existing {
                    Some(current) if current.record == record => {
                        outcome.unchanged += 1;
                        continue;
                    }
                    Some(current) => {
                        let before = R::to_json(self, &current, Visibility::Admin);
                        outcome.updated += 1;
                        let updated = Versioned {
                            record,
                            version: current.version + 1,
                            created_at: current.created_at,
                            updated_at: now(),
                        };
                        (updated, Some(before))
                    }
                    None => {
                        outcome.created += 1;
                        (new_versioned(record, &metadata, now()), None)
                    }
                };
                let entry = match before {
                    Some(before) => {
                        let after = R::to_json(self, &stored, Visibility::Admin);
                        let changes = field_changes(Some(&before), Some(&after), R::FIELDS);
                        super::audit_entry(actor, AuditAction::Import, Some(stored.version), changes)
                    }
                    None => super::creation_entry(actor, AuditAction::Import, stored.version),
                };
                R::write(tx, stored)?;
                tx.append_audit(R::KIND, &id, &entry, false)?;
            }
            Ok(())
        })?;
        report.created += outcome.created;
        report.updated += outcome.updated;
        report.unchanged += outcome.unchanged;
        report.rejected.extend(outcome.rejected);
        Ok(committed)
    }
}

/// The ids rows name (rows without one get a content id later), to fetch them at once.
fn named_ids(rows: &[Row]) -> Vec<crate::domain::RecordId> {
    rows.iter()
        .filter_map(|row| row.value.as_ref().ok()?.get("id")?.as_str())
        .filter_map(|raw| crate::domain::RecordId::parse(raw.trim()).ok())
        .collect()
}

impl App {
    /// Imports experts or cases; see `import_records`.
    pub fn import(
        &self,
        kind: RecordKind,
        reader: impl Read,
        format: ImportFormat,
        actor: &Actor,
        progress: &mut dyn FnMut(&ImportReport),
    ) -> Result<ImportReport, AppError> {
        let _learning_waits = self.import_in_progress();
        match kind {
            RecordKind::Expert => self.import_records::<crate::domain::Expert>(reader, format, actor, progress),
            RecordKind::Case => self.import_records::<crate::domain::Case>(reader, format, actor, progress),
        }
    }
}
