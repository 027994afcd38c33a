//! Reading bulk imports: JSON arrays, JSON Lines and CSV files, streamed one record at a time
//! with the line each came from, and the import report. Each record stands or falls alone; a
//! file that cannot be read at all is a `FileError`. Writing the records is `app::import`.

use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::{FieldError, RecordId, Versioned};
use crate::wire::ImportedMetadata;

/// Records written per atomic, flushed store batch.
pub const CHUNK_RECORDS: usize = 1_000;
/// A JSON Lines line longer than this is rejected without being parsed.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// A file that cannot be read as a whole (not the problems of single records).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

impl FileError {
    pub fn new(message: impl Into<String>) -> FileError {
        FileError(message.into())
    }
}

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
pub struct Row {
    pub line: u64,
    pub value: Result<Value, Vec<FieldError>>,
}

pub fn raw_id(value: &Value) -> Option<String> {
    value
        .get("id")
        .and_then(Value::as_str)
        .map(crate::domain::id::truncate_for_message)
}

/// A stable id for a record imported without one: the same record gets the same id again.
pub fn content_id(prefix: &str, parts: &[Option<&Value>]) -> RecordId {
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

pub fn new_versioned<T>(record: T, metadata: &ImportedMetadata, timestamp: crate::domain::Timestamp) -> Versioned<T> {
    let created_at = metadata.created_at.unwrap_or(timestamp);
    Versioned {
        record,
        version: metadata.version.unwrap_or(1),
        created_at,
        updated_at: metadata.updated_at.unwrap_or(created_at).max(created_at),
    }
}

pub fn read_json_lines<E: From<FileError>>(
    reader: impl Read,
    on_row: &mut dyn FnMut(Row) -> Result<(), E>,
) -> Result<(), E> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let mut line_number = 0u64;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader
            .by_ref()
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|error| FileError::new(format!("could not read the file: {error}")))?;
        if read == 0 {
            return Ok(());
        }
        line_number += 1;
        if buffer.len() > MAX_LINE_BYTES && !buffer.ends_with(b"\n") {
            // Skip the rest of an over-long line.
            let mut rest = Vec::new();
            reader
                .read_until(b'\n', &mut rest)
                .map_err(|error| FileError::new(error.to_string()))?;
            on_row(Row {
                line: line_number,
                value: Err(vec![FieldError::new(
                    "record",
                    format!("line longer than {MAX_LINE_BYTES} bytes"),
                )]),
            })?;
            continue;
        }
        let value = match std::str::from_utf8(&buffer) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => serde_json::from_str::<Value>(text.trim())
                .map_err(|error| vec![FieldError::new("record", format!("not valid JSON: {error}"))]),
            // Never stored with replacement characters: the line is refused as it is.
            Err(error) => Err(vec![FieldError::new(
                "record",
                format!("not valid UTF-8 (at byte {} of the line)", error.valid_up_to() + 1),
            )]),
        };
        on_row(Row {
            line: line_number,
            value,
        })?;
    }
}

/// Streams the elements of a top-level JSON array, one `Value` at a time.
pub fn read_json_array<E: From<FileError>>(
    reader: impl Read,
    on_row: &mut dyn FnMut(Row) -> Result<(), E>,
) -> Result<(), E> {
    struct Elements<'a, E> {
        on_row: &'a mut dyn FnMut(Row) -> Result<(), E>,
        failure: Option<E>,
    }
    impl<'de, E> Visitor<'de> for &mut Elements<'_, E> {
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
    impl<'de, E> DeserializeSeed<'de> for &mut Elements<'_, E> {
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
    result.map_err(|error| {
        E::from(FileError::new(format!(
            "the body is not a valid JSON array of records: {error}"
        )))
    })
}

pub fn read_csv<E: From<FileError>>(
    reader: impl Read,
    known_fields: &[&str],
    on_row: &mut dyn FnMut(Row) -> Result<(), E>,
) -> Result<(), E> {
    let mut csv_reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(reader);
    let headers: Vec<String> = csv_reader
        .headers()
        .map_err(|error| FileError::new(format!("could not read the CSV header: {error}")))?
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
        return Err(E::from(FileError::new(format!(
            "unknown CSV column(s) {}; the columns are: {}",
            names.join(", "),
            known_fields.join(", ")
        ))));
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
