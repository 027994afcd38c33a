//! Reading drafts from JSON objects and CSV rows.

use serde_json::{Map, Value};

use super::{CASE_FIELDS, EXPERT_FIELDS, READ_ONLY_FIELDS};
use crate::domain::{CaseDraft, ExpertDraft, FieldError, Timestamp};

/// Where a record body comes from. API bodies are read as strictly as the OpenAPI document
/// describes them (JSON types as given, no empty strings, no read-only fields); import files
/// (CSV cells are all text, an export carries read-only fields) are read leniently, and their
/// version and timestamps are kept on create. A stored record merged with a patch is read
/// like an import, after the patch itself was checked like an API body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    ApiBody,
    ImportFile,
    PatchedRecord,
}

/// The JSON type the contract gives a record field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldType {
    Text,
    TextList,
    Boolean,
    Integer,
}

fn field_type(field: &str) -> FieldType {
    match field {
        "languages" | "topics" | "experts" => FieldType::TextList,
        "available" => FieldType::Boolean,
        "year" => FieldType::Integer,
        _ => FieldType::Text,
    }
}

fn is_blank(value: &Value) -> bool {
    value.as_str().is_some_and(|text| text.trim().is_empty())
}

/// Values of an API body that the schema does not allow: a wrong JSON type, or an empty
/// string (leave the field out, or send `null` to clear it). Unknown fields are reported
/// elsewhere; `null` is always allowed.
pub fn api_value_errors(object: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, value) in object {
        let problem = match (field_type(field), value) {
            (_, Value::Null) => None,
            (FieldType::Text, Value::String(_)) if is_blank(value) => {
                Some("must not be empty; leave it out or send null instead".to_string())
            }
            (FieldType::Text, Value::String(_)) => None,
            (FieldType::Text, other) => Some(format!("must be a string, not {}", kind_of(other))),
            (FieldType::Boolean, Value::Bool(_)) => None,
            (FieldType::Boolean, other) => Some(format!("must be true or false, not {}", kind_of(other))),
            (FieldType::Integer, Value::Number(number)) if number.is_i64() => None,
            (FieldType::Integer, other) => Some(format!("must be a whole number, not {}", kind_of(other))),
            (FieldType::TextList, Value::Array(items)) => {
                items.iter().enumerate().find_map(|(position, item)| match item {
                    Value::String(_) if is_blank(item) => Some(format!("entry {} must not be empty", position + 1)),
                    Value::String(_) => None,
                    other => Some(format!(
                        "entry {} must be a string, not {}",
                        position + 1,
                        kind_of(other)
                    )),
                })
            }
            (FieldType::TextList, other) => Some(format!("must be a list of strings, not {}", kind_of(other))),
        };
        if let Some(message) = problem {
            errors.push(FieldError::new(truncate(field), message));
        }
    }
    errors
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
    /// Adds a problem unless the field has one already.
    fn report(&mut self, field: &str, message: impl Into<String>) {
        if !self.errors.iter().any(|error| error.field == field) {
            self.errors.push(FieldError::new(field, message));
        }
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) if field == "phone" => Some(number.to_string()),
            Some(other) => {
                self.report(field, format!("must be a string, not {}", kind_of(other)));
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
                            self.report(
                                field,
                                format!("entry {} must be a string, not {}", position + 1, kind_of(other)),
                            );
                            return None;
                        }
                    }
                }
                Some(strings)
            }
            Some(Value::String(text)) => Some(split_list(text)),
            Some(other) => {
                self.report(field, format!("must be a list of strings, not {}", kind_of(other)));
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
                    self.report(field, message);
                    None
                }
            },
            Some(other) => {
                self.report(field, format!("must be true or false, not {}", kind_of(other)));
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
                    self.report(field, "must be a whole number");
                    None
                }
            },
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => match text.trim().parse::<i64>() {
                Ok(value) => Some(value),
                Err(_) => {
                    self.report(field, format!("'{}' is not a whole number", truncate(text)));
                    None
                }
            },
            Some(other) => {
                self.report(field, format!("must be a whole number, not {}", kind_of(other)));
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
            if origin != Origin::ImportFile {
                errors.push(FieldError::new(field.as_str(), "is read-only: the service sets it"));
            }
            continue;
        }
        errors.push(FieldError::new(truncate(field), "unknown field"));
    }
    errors
}

/// Unknown and read-only fields, and for API bodies their values' types.
fn field_errors(object: &Map<String, Value>, known: &[&str], origin: Origin) -> Vec<FieldError> {
    let mut errors = check_fields(object, known, origin);
    if origin == Origin::ApiBody {
        let known_values: Map<String, Value> = object
            .iter()
            .filter(|(field, _)| known.contains(&field.as_str()))
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect();
        errors.extend(api_value_errors(&known_values));
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
        errors: field_errors(object, &EXPERT_FIELDS, origin),
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
        errors: field_errors(object, &CASE_FIELDS, origin),
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
/// A list of non-empty strings in a JSON body (absent or null: empty); anything else is added
/// to `errors`.
pub fn string_list(object: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    match object.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut strings = Vec::with_capacity(items.len());
            for (position, item) in items.iter().enumerate() {
                match item {
                    Value::String(text) if !text.trim().is_empty() => strings.push(text.clone()),
                    Value::String(_) => {
                        errors.push(FieldError::new(
                            field,
                            format!("entry {} must not be empty", position + 1),
                        ));
                        return Vec::new();
                    }
                    other => {
                        errors.push(FieldError::new(
                            field,
                            format!("entry {} must be a string, not {}", position + 1, kind_of(other)),
                        ));
                        return Vec::new();
                    }
                }
            }
            strings
        }
        Some(other) => {
            errors.push(FieldError::new(
                field,
                format!("must be a list of strings, not {}", kind_of(other)),
            ));
            Vec::new()
        }
    }
}

/// An optional non-empty string in a JSON body; anything else is added to `errors`.
pub fn optional_string(object: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => {
            errors.push(FieldError::new(field, "must not be empty; leave it out instead"));
            None
        }
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            errors.push(FieldError::new(
                field,
                format!("must be a string, not {}", kind_of(other)),
            ));
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
        assert_eq!(fields[..3], ["name", "languages", "available"]);
        assert!(
            fields.contains(&"city") && fields.contains(&"country"),
            "the record's own problems come too: {fields:?}"
        );
    }

    #[test]
    fn api_bodies_take_the_schema_types_and_import_files_are_lenient() {
        let body = json!({"id": "", "name": "Ana", "city": "Recife", "country": "BR", "languages": "pt;en", "available": "true", "email": ""});
        let errors = expert_draft_from_json(&body, Origin::ApiBody).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["id", "languages", "available", "email"]);
        let (draft, _) = expert_draft_from_json(&body, Origin::ImportFile).expect("lenient");
        assert_eq!(draft.languages, Some(vec!["pt".to_string(), "en".to_string()]));
        assert_eq!(draft.available, Some(true));
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
