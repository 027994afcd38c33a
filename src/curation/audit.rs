//! Field-level differences between two versions of a record, for the audit trail, and the
//! values of creations rebuilt from the entries after them.

use serde_json::Value;

use crate::store::{AuditEntry, FieldChange};

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

/// Fills in the changes of creations stored without their values (`values_elided`). A field's
/// first value is the `before` of the next entry that changes it; when no entry does before the
/// record's next creation, it is the value in `current` (the record as it is now, `None` once
/// deleted) — or null when a later creation follows, since the deletion in between listed every
/// value the record still had. As for a creation with its values, null fields are not listed.
pub fn restore_created_values(entries: &mut [AuditEntry], current: Option<&Value>, fields: &[&str]) {
    for position in (0..entries.len()).rev() {
        if !entries[position].values_elided {
            continue;
        }
        let later = &entries[position + 1..];
        let next_creation = later.iter().position(|entry| entry.values_elided);
        let until_next_creation = &later[..next_creation.unwrap_or(later.len())];
        let now = if next_creation.is_some() { None } else { current };
        let first_values: Vec<FieldChange> = fields
            .iter()
            .filter_map(|field| {
                let value = first_value(until_next_creation, now, field);
                (!value.is_null()).then(|| FieldChange {
                    field: (*field).to_string(),
                    before: Value::Null,
                    after: value,
                })
            })
            .collect();
        entries[position].changes = first_values;
    }
}

/// The value `field` had before `later` changed it, or its value `now` when none did.
fn first_value(later: &[AuditEntry], now: Option<&Value>, field: &str) -> Value {
    later
        .iter()
        .flat_map(|entry| &entry.changes)
        .find(|change| change.field == field)
        .map(|change| change.before.clone())
        .or_else(|| now.and_then(|now| now.get(field)).cloned())
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditAction;
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

    fn entry(action: AuditAction, values_elided: bool, changes: &[(&str, Value, Value)]) -> AuditEntry {
        AuditEntry {
            at: time::macros::datetime!(2026-12-05 0:00 UTC),
            actor: "staff".into(),
            action,
            version: Some(1),
            changes: changes
                .iter()
                .map(|(field, before, after)| FieldChange {
                    field: (*field).into(),
                    before: before.clone(),
                    after: after.clone(),
                })
                .collect(),
            values_elided,
        }
    }

    fn created() -> AuditEntry {
        entry(AuditAction::Create, true, &[])
    }

    fn updated(field: &str, before: Value, after: Value) -> AuditEntry {
        entry(AuditAction::Update, false, &[(field, before, after)])
    }

    #[test]
    fn a_creation_shows_the_values_the_record_first_had() {
        const FIELDS: [&str; 3] = ["name", "city", "bio"];
        let check = |mut entries: Vec<AuditEntry>, current: Option<Value>, expected: Vec<Vec<(&str, Value)>>| {
            restore_created_values(&mut entries, current.as_ref(), &FIELDS);
            let creations: Vec<Vec<(&str, Value)>> = entries
                .iter()
                .filter(|entry| entry.values_elided)
                .map(|entry| {
                    entry
                        .changes
                        .iter()
                        .inspect(|change| assert_eq!(change.before, Value::Null))
                        .map(|change| (change.field.as_str(), change.after.clone()))
                        .collect()
                })
                .collect();
            assert_eq!(creations, expected, "{entries:?}");
        };
        let now = json!({"name": "Ana", "city": "Recife", "bio": null});
        // Unchanged since: the values now, null fields left out.
        check(
            vec![created()],
            Some(now.clone()),
            vec![vec![("name", json!("Ana")), ("city", json!("Recife"))]],
        );
        // A later change holds the first value in its `before`; the first later change counts.
        check(
            vec![
                created(),
                updated("city", json!("Olinda"), json!("Natal")),
                updated("city", json!("Natal"), json!("Recife")),
            ],
            Some(now.clone()),
            vec![vec![("name", json!("Ana")), ("city", json!("Olinda"))]],
        );
        // A field set later was null at first; one cleared later had a value.
        check(
            vec![created(), updated("bio", json!("Planner"), Value::Null)],
            Some(now.clone()),
            vec![vec![
                ("name", json!("Ana")),
                ("city", json!("Recife")),
                ("bio", json!("Planner")),
            ]],
        );
        // Deleted: the deletion lists every value the record still had.
        let deleted = entry(
            AuditAction::Delete,
            false,
            &[
                ("name", json!("Ana"), Value::Null),
                ("city", json!("Recife"), Value::Null),
            ],
        );
        check(
            vec![created(), deleted.clone()],
            None,
            vec![vec![("name", json!("Ana")), ("city", json!("Recife"))]],
        );
        // Created again after the deletion: each creation reads up to the next one.
        check(
            vec![created(), deleted, created()],
            Some(json!({"name": "Bea", "city": null, "bio": "Engineer"})),
            vec![
                vec![("name", json!("Ana")), ("city", json!("Recife"))],
                vec![("name", json!("Bea")), ("bio", json!("Engineer"))],
            ],
        );
        // Entries written with their values are left as they are.
        let listed = entry(AuditAction::Import, false, &[("name", Value::Null, json!("Old"))]);
        let mut entries = vec![listed.clone()];
        restore_created_values(&mut entries, Some(&now), &FIELDS);
        assert_eq!(entries, vec![listed]);
    }
}
