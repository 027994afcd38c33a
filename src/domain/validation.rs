//! Field-level validation errors and the small checks shared by experts and cases.

/// One problem with one field of a record, as reported to clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects errors while a record is parsed, so that a client learns about all of them at once.
#[derive(Default)]
pub(crate) struct ErrorCollector {
    errors: Vec<FieldError>,
}

impl ErrorCollector {
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records the error of a parse result and returns its value, if any.
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.push(field, message);
                None
            }
        }
    }

    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        build().ok_or_else(|| vec![FieldError::new("record", "could not be built")])
    }
}

/// A required text: trimmed, non-empty, at most `max_chars` characters.
pub(crate) fn required_text(value: Option<String>, max_chars: usize) -> Result<String, String> {
    match optional_text(value, max_chars)? {
        Some(text) => Ok(text),
        None => Err("is required".to_string()),
    }
}

/// An optional text: trimmed; empty becomes absent; at most `max_chars` characters.
pub(crate) fn optional_text(value: Option<String>, max_chars: usize) -> Result<Option<String>, String> {
    let Some(raw) = value else { return Ok(None) };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let length = trimmed.chars().count();
    if length > max_chars {
        return Err(format!("must be at most {max_chars} characters (got {length})"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("must not contain control characters".to_string());
    }
    Ok(Some(trimmed.to_string()))
}

/// Parses every item of a list, reporting the position of each bad item; duplicates are dropped.
pub(crate) fn parse_list<T: PartialEq>(
    items: Vec<String>,
    max_items: usize,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    if items.len() > max_items {
        return Err(format!("must have at most {max_items} entries (got {})", items.len()));
    }
    let mut parsed = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (position, item) in items.iter().enumerate() {
        match parse(item) {
            Ok(value) if !parsed.contains(&value) => parsed.push(value),
            Ok(_) => {}
            Err(message) => problems.push(format!("entry {}: {message}", position + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(parsed)
}

pub(crate) fn email(value: Option<String>) -> Result<Option<String>, String> {
    let Some(address) = optional_text(value, 254)? else {
        return Ok(None);
    };
    let mut parts = address.splitn(2, '@');
    let local = parts.next().unwrap_or_default();
    let domain = parts.next().unwrap_or_default();
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address.chars().any(char::is_whitespace);
    if !plausible {
        return Err(format!(
            "'{}' is not an e-mail address",
            super::id::truncate_for_message(&address)
        ));
    }
    Ok(Some(address))
}

pub(crate) fn phone(value: Option<String>) -> Result<Option<String>, String> {
    let Some(number) = optional_text(value, 40)? else {
        return Ok(None);
    };
    let allowed = number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '/' | '.'));
    let digit_count = number.chars().filter(char::is_ascii_digit).count();
    if !allowed || digit_count < 4 {
        return Err(format!(
            "'{}' is not a phone number (digits, spaces, + - ( ) / .)",
            super::id::truncate_for_message(&number)
        ));
    }
    Ok(Some(number))
}

pub(crate) fn http_url(value: Option<String>) -> Result<Option<String>, String> {
    let Some(url) = optional_text(value, 2000)? else {
        return Ok(None);
    };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    let valid = host.is_some_and(|host| !host.is_empty()) && !url.chars().any(char::is_whitespace);
    if !valid {
        return Err(format!(
            "'{}' is not an http(s) URL",
            super::id::truncate_for_message(&url)
        ));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_empty_optional_texts_become_absent() {
        assert_eq!(optional_text(Some("  a ".into()), 10), Ok(Some("a".into())));
        assert_eq!(optional_text(Some("   ".into()), 10), Ok(None));
        assert!(required_text(Some(" ".into()), 10).is_err());
        assert!(required_text(Some("abcdef".into()), 3).is_err());
    }

    #[test]
    fn emails_phones_and_urls_are_checked() {
        assert!(email(Some("a.b@example.org".into())).is_ok());
        assert!(email(Some("a.b@example".into())).is_err());
        assert!(email(Some("a b@example.org".into())).is_err());
        assert!(phone(Some("+221 33 555 01 23".into())).is_ok());
        assert!(phone(Some("call me".into())).is_err());
        assert!(http_url(Some("https://example.org/x".into())).is_ok());
        assert!(http_url(Some("ftp://example.org".into())).is_err());
        assert!(http_url(Some("https://".into())).is_err());
    }

    #[test]
    fn lists_report_each_bad_entry_and_drop_duplicates() {
        let parsed = parse_list(vec!["a".into(), "a".into(), "b".into()], 5, |s| {
            Ok::<_, String>(s.to_string())
        });
        assert_eq!(parsed, Ok(vec!["a".to_string(), "b".to_string()]));
        let failed = parse_list(vec!["ok".into(), "bad".into()], 5, |s| {
            if s == "bad" {
                Err("nope".to_string())
            } else {
                Ok(s.to_string())
            }
        });
        assert_eq!(failed, Err("entry 2: nope".to_string()));
    }
}
