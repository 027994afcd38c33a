//! Reading drafts from JSON objects and CSV rows.

use serde_json::{Map, Value};

use super::{CASE_FIELDS, EXPERT_FIELDS, READ_ONLY_FIELDS};
use crate::domain::{CaseDraft, ExpertDraft, FieldError, Timestamp};

/// Where a record body comes from: API bodies may not set read-only fields; import files
/// (for example an export) may, and their version and timestamps are kept on create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    ApiBody,
    ImportFile,
}

/// Version and timestamps found in an import line (an export of another instance).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportedMetadata {
    pub version: Option<u64>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

struct FieldReader<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> FieldReader<'a> {
    fn string(&mut self, field: &str) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) if field == "phone" => Some(number.to_string()),
            Some(other) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("must be a string, not {}", kind_of(other)),
                ));
                None
            }
        }
    }

    fn strings(&mut self, field: &str) -> Option<Vec<String>> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut strings = Vec::with_capacity(items.len());
                for (position, item) in items.iter().enumerate() {
                    match item {
                        Value::String(text) => strings.push(text.clone()),
                        other => {
                            self.errors.push(FieldError::new(
                                field,
                                format!("entry {} must be a string, not {}", position + 1, kind_of(other)),
                            ));
                            return None;
                        }
                    }
                }
                Some(strings)
            }
            Some(Value::String(text)) => Some(split_list(text)),
            Some(other) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("must be a list of strings, not {}", kind_of(other)),
                ));
                None
            }
        }
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(flag)) => Some(*flag),
            Some(Value::String(text)) => match parse_bool(text) {
                Ok(flag) => flag,
                Err(message) => {
                    self.errors.push(FieldError::new(field, message));
                    None
                }
            },
            Some(other) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("must be true or false, not {}", kind_of(other)),
                ));
                None
            }
        }
    }

    fn integer(&mut self, field: &str) -> Option<i64> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(number)) => match number.as_i64() {
                Some(value) => Some(value),
                None => {
                    self.errors.push(FieldError::new(field, "must be a whole number"));
                    None
                }
            },
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => match text.trim().parse::<i64>() {
                Ok(value) => Some(value),
                Err(_) => {
                    self.errors.push(FieldError::new(
                        field,
                        format!("'{}' is not a whole number", truncate(text)),
                    ));
                    None
                }
            },
            Some(other) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("must be a whole number, not {}", kind_of(other)),
                ));
                None
            }
        }
    }
}

fn truncate(text: &str) -> String {
    crate::domain::id::truncate_for_message(text)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn parse_bool(text: &str) -> Result<Option<bool>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "1" | "y" => Ok(Some(true)),
        "false" | "no" | "0" | "n" => Ok(Some(false)),
        other => Err(format!("'{}' is not true or false", truncate(other))),
    }
}

/// A list written in one cell: entries separated by `;` (commas are accepted too).
fn split_list(text: &str) -> Vec<String> {
    let separator = if text.contains(';') { ';' } else { ',' };
    text.split(separator)
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks the set of fields: unknown fields and, for API bodies, read-only fields are errors.
fn check_fields(object: &Map<String, Value>, known: &[&str], origin: Origin) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for field in object.keys() {
        if known.contains(&field.as_str()) {
            continue;
        }
        if READ_ONLY_FIELDS.contains(&field.as_str()) {
            if origin == Origin::ApiBody {
                errors.push(FieldError::new(field.as_str(), "is read-only: the service sets it"));
            }
            continue;
        }
        errors.push(FieldError::new(truncate(field), "unknown field"));
    }
    errors
}

fn metadata(object: &Map<String, Value>) -> ImportedMetadata {
    let time = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .and_then(|text| Timestamp::parse(text, &time::format_description::well_known::Rfc3339).ok())
    };
    ImportedMetadata {
        version: object
            .get("version")
            .and_then(Value::as_u64)
            .filter(|version| *version > 0),
        created_at: time("created_at"),
        updated_at: time("updated_at"),
    }
}

fn as_object(value: &Value) -> Result<&Map<String, Value>, Vec<FieldError>> {
    value.as_object().ok_or_else(|| {
        vec![FieldError::new(
            "record",
            format!("must be a JSON object, not {}", kind_of(value)),
        )]
    })
}

pub fn expert_draft_from_json(
    value: &Value,
    origin: Origin,
) -> Result<(ExpertDraft, ImportedMetadata), Vec<FieldError>> {
    let object = as_object(value)?;
    let mut reader = FieldReader {
        object,
        errors: check_fields(object, &EXPERT_FIELDS, origin),
    };
    let draft = ExpertDraft {
        id: reader.string("id"),
        name: reader.string("name"),
        position: reader.string("position"),
        organisation: reader.string("organisation"),
        city: reader.string("city"),
        country: reader.string("country"),
        languages: reader.strings("languages"),
        topics: reader.strings("topics"),
        expertise: reader.string("expertise"),
        bio: reader.string("bio"),
        available: reader.boolean("available"),
        email: reader.string("email"),
        phone: reader.string("phone"),
        status: reader.string("status"),
    };
    if !reader.errors.is_empty() {
        let mut errors = reader.errors;
        add_record_errors(
            &mut errors,
            crate::domain::Expert::parse(draft, crate::domain::Status::Draft).err(),
        );
        return Err(errors);
    }
    Ok((draft, metadata(object)))
}

/// Adds the record's own validation errors for fields not reported already, so that a
/// client learns about every problem at once.
fn add_record_errors(errors: &mut Vec<FieldError>, record_errors: Option<Vec<FieldError>>) {
    for error in record_errors.unwrap_or_default() {
        // A missing id is not a problem yet: creates and imports make one.
        let missing_id = error.field == "id" && error.message == "is required";
        if !missing_id && !errors.iter().any(|reported| reported.field == error.field) {
            errors.push(error);
        }
    }
}

pub fn case_draft_from_json(value: &Value, origin: Origin) -> Result<(CaseDraft, ImportedMetadata), Vec<FieldError>> {
    let object = as_object(value)?;
    let mut reader = FieldReader {
        object,
        errors: check_fields(object, &CASE_FIELDS, origin),
    };
    let draft = CaseDraft {
        id: reader.string("id"),
        title: reader.string("title"),
        summary: reader.string("summary"),
        city: reader.string("city"),
        country: reader.string("country"),
        topics: reader.strings("topics"),
        language: reader.string("language"),
        year: reader.integer("year"),
        experts: reader.strings("experts"),
        url: reader.string("url"),
        status: reader.string("status"),
    };
    if !reader.errors.is_empty() {
        let mut errors = reader.errors;
        add_record_errors(
            &mut errors,
            crate::domain::Case::parse(draft, crate::domain::Status::Draft).err(),
        );
        return Err(errors);
    }
    Ok((draft, metadata(object)))
}

/// A CSV row as a JSON object of strings: empty cells are absent; list fields stay strings
/// and are split on `;` when read.
pub fn csv_row_object(headers: &[String], row: &[String]) -> Value {
    let mut object = Map::new();
    for (header, cell) in headers.iter().zip(row) {
        if cell.trim().is_empty() {
            continue;
        }
        object.insert(header.trim().to_string(), Value::String(cell.clone()));
    }
    Value::Object(object)
}

/// JSON merge patch (RFC 7396) applied to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// A list of strings (a single string counts as a list of one); a problem is added to `errors`.
pub fn string_list(object: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    match object.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let strings: Vec<String> = items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect();
            if strings.len() != items.len() {
                errors.push(FieldError::new(field, "must be a list of strings"));
            }
            strings
        }
        Some(Value::String(single)) => vec![single.clone()],
        Some(_) => {
            errors.push(FieldError::new(field, "must be a list of strings"));
            Vec::new()
        }
    }
}

/// An optional string; a value of another type is added to `errors`.
pub fn optional_string(object: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_and_read_only_fields_are_errors_in_api_bodies_only() {
        let body = json!({"name": "A", "version": 3, "colour": "red"});
        let errors = expert_draft_from_json(&body, Origin::ApiBody).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert!(fields.contains(&"version") && fields.contains(&"colour"), "{fields:?}");
        let errors = expert_draft_from_json(&body, Origin::ImportFile).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert!(fields.contains(&"colour") && !fields.contains(&"version"), "{fields:?}");
    }

    #[test]
    fn wrong_json_types_name_the_field() {
        let body = json!({"name": 5, "languages": "fr;en", "available": "maybe"});
        let errors = expert_draft_from_json(&body, Origin::ApiBody).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields[..2], ["name", "available"]);
        assert!(
            fields.contains(&"city") && fields.contains(&"country"),
            "the record's own problems come too: {fields:?}"
        );
    }

    #[test]
    fn csv_list_cells_become_lists() {
        let headers: Vec<String> = ["id", "languages", "topics", "available"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let row: Vec<String> = ["a", "fr; en", "flood-risk;water", "no"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (draft, _) = expert_draft_from_json(&csv_row_object(&headers, &row), Origin::ImportFile).expect("row");
        assert_eq!(draft.languages, Some(vec!["fr".to_string(), "en".to_string()]));
        assert_eq!(draft.topics, Some(vec!["flood-risk".to_string(), "water".to_string()]));
        assert_eq!(draft.available, Some(false));
    }
}
