//! Bulk import of experts or cases from JSON arrays, JSON Lines or CSV. Records are read one
//! at a time, written in chunks (each one atomic and flushed: those records are acknowledged),
//! and indexed with a single commit at the end. Each record stands or falls alone.

use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::app::{Actor, App, AppError};
use crate::domain::{FieldError, RecordId, Status, Versioned};
use crate::store::AuditAction;
use crate::wire::{ImportedMetadata, Visibility};

/// Records written per atomic, flushed store batch.
pub const CHUNK_RECORDS: usize = 1_000;
/// A JSON Lines line longer than this is rejected without being parsed.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    JsonArray,
    JsonLines,
    Csv,
}

impl ImportFormat {
    /// From a `Content-Type` (parameters such as charset ignored).
    pub fn from_content_type(content_type: &str) -> Option<ImportFormat> {
        match content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "application/json" => Some(ImportFormat::JsonArray),
            "application/x-ndjson" | "application/jsonl" | "application/jsonlines" | "application/x-jsonlines" => {
                Some(ImportFormat::JsonLines)
            }
            "text/csv" => Some(ImportFormat::Csv),
            _ => None,
        }
    }

    /// From a file name's extension.
    pub fn from_path(path: &std::path::Path) -> Option<ImportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(ImportFormat::JsonArray),
            "jsonl" | "ndjson" => Some(ImportFormat::JsonLines),
            "csv" => Some(ImportFormat::Csv),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RejectedRecord {
    pub line: u64,
    pub id: Option<String>,
    pub errors: Vec<FieldError>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<RejectedRecord>,
}

impl ImportReport {
    /// Records written to the store and flushed so far.
    pub fn acknowledged(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }

    pub fn processed(&self) -> u64 {
        self.acknowledged() + self.rejected.len() as u64
    }
}

/// One record read from the file, not yet validated.
struct Row {
    line: u64,
    value: Result<Value, Vec<FieldError>>,
}

fn raw_id(value: &Value) -> Option<String> {
    value
        .get("id")
        .and_then(Value::as_str)
        .map(crate::domain::id::truncate_for_message)
}

/// A stable id for a record imported without one: the same record gets the same id again.
fn content_id(prefix: &str, parts: &[Option<&Value>]) -> RecordId {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(
            part.map(ToString::to_string)
                .unwrap_or_default()
                .to_lowercase()
                .as_bytes(),
        );
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 10];
    bytes.copy_from_slice(&digest[..10]);
    RecordId::from_random_bytes(prefix, &bytes)
}

impl App {
    /// Imports records of type `R` from `reader`; `progress` sees the report after each
    /// acknowledged chunk.
    pub(crate) fn import_records<R: crate::app::EditableRecord>(
        &self,
        reader: impl Read,
        format: ImportFormat,
        actor: &Actor,
        progress: &mut dyn FnMut(&ImportReport),
    ) -> Result<ImportReport, AppError> {
        let mut report = ImportReport::default();
        let mut chunk: Vec<Row> = Vec::with_capacity(CHUNK_RECORDS);
        let mut flush = |chunk: &mut Vec<Row>, report: &mut ImportReport| -> Result<(), AppError> {
            if chunk.is_empty() {
                return Ok(());
            }
            let (changes, written) = self.import_chunk::<R>(std::mem::take(chunk), actor, report)?;
            progress(report);
            // Index this chunk while the next one is read; one commit comes at the end.
            self.engine().stage_committed(self.store(), &changes, &written)?;
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

    fn import_chunk<R: crate::app::EditableRecord>(
        &self,
        rows: Vec<Row>,
        actor: &Actor,
        report: &mut ImportReport,
    ) -> Result<(Vec<crate::store::Change>, Vec<crate::store::Written>), AppError> {
        let mut outcome = ImportReport::default();
        let committed = self.store().write(|tx| -> Result<(), AppError> {
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
                            updated_at: crate::app::now(),
                        };
                        (updated, Some(before))
                    }
                    None => {
                        outcome.created += 1;
                        (new_versioned(record, &metadata), None)
                    }
                };
                let after = R::to_json(self, &stored, Visibility::Admin);
                let changes = super::audit::field_changes(before.as_ref(), Some(&after), R::FIELDS);
                let entry = crate::app::audit_entry(actor, AuditAction::Import, Some(stored.version), changes);
                R::write(tx, stored)?;
                tx.append_audit(R::KIND, &id, &entry, false)?;
            }
            Ok(())
        })?;
        report.created += outcome.created;
        report.updated += outcome.updated;
        report.unchanged += outcome.unchanged;
        report.rejected.extend(outcome.rejected);
        Ok((committed.changes, committed.written))
    }
}

fn new_versioned<T>(record: T, metadata: &ImportedMetadata) -> Versioned<T> {
    let timestamp = crate::app::now();
    let created_at = metadata.created_at.unwrap_or(timestamp);
    Versioned {
        record,
        version: metadata.version.unwrap_or(1),
        created_at,
        updated_at: metadata.updated_at.unwrap_or(created_at).max(created_at),
    }
}

fn read_json_lines(reader: impl Read, on_row: &mut dyn FnMut(Row) -> Result<(), AppError>) -> Result<(), AppError> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let mut line_number = 0u64;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader
            .by_ref()
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|error| AppError::bad_request(format!("could not read the file: {error}")))?;
        if read == 0 {
            return Ok(());
        }
        line_number += 1;
        if buffer.len() > MAX_LINE_BYTES && !buffer.ends_with(b"\n") {
            // Skip the rest of an over-long line.
            let mut rest = Vec::new();
            reader
                .read_until(b'\n', &mut rest)
                .map_err(|error| AppError::bad_request(error.to_string()))?;
            on_row(Row {
                line: line_number,
                value: Err(vec![FieldError::new(
                    "record",
                    format!("line longer than {MAX_LINE_BYTES} bytes"),
                )]),
            })?;
            continue;
        }
        let text = String::from_utf8_lossy(&buffer);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let value = serde_json::from_str::<Value>(text)
            .map_err(|error| vec![FieldError::new("record", format!("not valid JSON: {error}"))]);
        on_row(Row {
            line: line_number,
            value,
        })?;
    }
}

/// Streams the elements of a top-level JSON array, one `Value` at a time.
fn read_json_array(reader: impl Read, on_row: &mut dyn FnMut(Row) -> Result<(), AppError>) -> Result<(), AppError> {
    struct Elements<'a> {
        on_row: &'a mut dyn FnMut(Row) -> Result<(), AppError>,
        failure: Option<AppError>,
    }
    impl<'de> Visitor<'de> for &mut Elements<'_> {
        type Value = ();
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a JSON array of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
            let mut position = 0u64;
            while let Some(value) = sequence.next_element::<Value>()? {
                position += 1;
                if let Err(error) = (self.on_row)(Row {
                    line: position,
                    value: Ok(value),
                }) {
                    self.failure = Some(error);
                    return Err(serde::de::Error::custom("import stopped"));
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for &mut Elements<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }
    let mut elements = Elements { on_row, failure: None };
    let mut deserializer = serde_json::Deserializer::from_reader(BufReader::with_capacity(256 * 1024, reader));
    let result = (&mut elements)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(failure) = elements.failure {
        return Err(failure);
    }
    result.map_err(|error| AppError::bad_request(format!("the body is not a valid JSON array of records: {error}")))
}

fn read_csv(
    reader: impl Read,
    known_fields: &[&str],
    on_row: &mut dyn FnMut(Row) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let mut csv_reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(reader);
    let headers: Vec<String> = csv_reader
        .headers()
        .map_err(|error| AppError::bad_request(format!("could not read the CSV header: {error}")))?
        .iter()
        .map(|header| header.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let unknown: Vec<&String> = headers
        .iter()
        .filter(|header| {
            !known_fields.contains(&header.as_str()) && !crate::wire::READ_ONLY_FIELDS.contains(&header.as_str())
        })
        .collect();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown.iter().map(|header| format!("'{header}'")).collect();
        return Err(AppError::bad_request(format!(
            "unknown CSV column(s) {}; the columns are: {}",
            names.join(", "),
            known_fields.join(", ")
        )));
    }
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv_reader.position().line() + 1;
        match csv_reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |position| position.line());
                let cells: Vec<String> = record.iter().map(str::to_string).collect();
                let value = if cells.len() != headers.len() {
                    Err(vec![FieldError::new(
                        "record",
                        format!("has {} cells, the header has {}", cells.len(), headers.len()),
                    )])
                } else {
                    Ok(crate::wire::csv_row_object(&headers, &cells))
                };
                on_row(Row { line, value })?;
            }
            Err(error) => {
                let line = error.position().map_or(line, |position| position.line());
                on_row(Row {
                    line,
                    value: Err(vec![FieldError::new("record", format!("unreadable CSV row: {error}"))]),
                })?;
                if !matches!(
                    error.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    return Ok(());
                }
            }
        }
    }
}

impl App {
    /// Imports experts or cases; see `import_records`.
    pub fn import(
        &self,
        kind: crate::domain::RecordKind,
        reader: impl Read,
        format: ImportFormat,
        actor: &Actor,
        progress: &mut dyn FnMut(&ImportReport),
    ) -> Result<ImportReport, AppError> {
        match kind {
            crate::domain::RecordKind::Expert => {
                self.import_records::<crate::domain::Expert>(reader, format, actor, progress)
            }
            crate::domain::RecordKind::Case => {
                self.import_records::<crate::domain::Case>(reader, format, actor, progress)
            }
        }
    }
}
