//! Field-level differences between two versions of a record, for the audit trail.

use serde_json::Value;

use crate::store::FieldChange;

/// The fields that differ between `before` and `after` (admin JSON views), in `fields` order.
/// A missing side counts as null (creation, deletion).
pub fn field_changes(before: Option<&Value>, after: Option<&Value>, fields: &[&str]) -> Vec<FieldChange> {
    let value_of =
        |view: Option<&Value>, field: &str| view.and_then(|view| view.get(field)).cloned().unwrap_or(Value::Null);
    fields
        .iter()
        .filter_map(|field| {
            let old = value_of(before, field);
            let new = value_of(after, field);
            (old != new).then(|| FieldChange {
                field: (*field).to_string(),
                before: old,
                after: new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_listed_in_field_order() {
        let before = json!({"name": "A", "city": "X", "topics": ["water"]});
        let after = json!({"name": "A", "city": "Y", "topics": ["water", "waste"]});
        let changes = field_changes(Some(&before), Some(&after), &["name", "city", "topics"]);
        let fields: Vec<&str> = changes.iter().map(|change| change.field.as_str()).collect();
        assert_eq!(fields, vec!["city", "topics"]);
        assert_eq!(changes[0].before, json!("X"));
        let created = field_changes(None, Some(&after), &["name", "bio"]);
        assert_eq!(created.len(), 1);
    }
}
