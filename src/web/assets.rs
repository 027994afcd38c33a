//! The files built into the binary: templates, static files and interface strings. In debug
//! builds rust-embed reads them from `src/web/` at run time, so pages can be edited without
//! rebuilding; release builds carry them inside.

use std::borrow::Cow;
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use serde_json::Value;

use super::Page;
use crate::locale::Locale;

#[derive(RustEmbed)]
#[folder = "src/web/templates/"]
struct Templates;

#[derive(RustEmbed)]
#[folder = "src/web/static/"]
struct StaticFiles;

#[derive(RustEmbed)]
#[folder = "src/web/i18n/"]
struct Strings;

/// A template's source, by file name.
pub fn template(name: &str) -> Option<String> {
    let file = Templates::get(name)?;
    String::from_utf8(file.data.into_owned()).ok()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub fn static_file(path: &str) -> Option<Page> {
    if path.split('/').any(|part| part.is_empty() || part.starts_with('.')) {
        return None;
    }
    let file = StaticFiles::get(path)?;
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash.iter()
            .take(12)
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    );
    Some(Page {
        status: 200,
        content_type: content_type(path),
        body: file.data,
        // Revalidated cheaply by ETag; a new release serves new files at once.
        cache_control: "public, max-age=300, must-revalidate",
        content_security_policy: None,
        language: None,
        location: None,
        alternate_json: None,
        etag: Some(etag),
    })
}

fn read_strings(locale: Locale) -> Value {
    Strings::get(&format!("{}.json", locale.code()))
        .and_then(|file| serde_json::from_slice(&file.data).ok())
        .unwrap_or(Value::Object(Default::default()))
}

/// Fills what `translated` lacks from `english`, recursively.
fn with_fallback(english: &Value, translated: Value) -> Value {
    match (english, translated) {
        (Value::Object(english), Value::Object(mut translated)) => {
            for (key, value) in english {
                let merged = match translated.remove(key) {
                    Some(own) => with_fallback(value, own),
                    None => value.clone(),
                };
                translated.insert(key.clone(), merged);
            }
            Value::Object(translated)
        }
        (_, translated) => translated,
    }
}

fn load_strings(locale: Locale) -> Value {
    let english = read_strings(Locale::English);
    if locale == Locale::English {
        return english;
    }
    with_fallback(&english, read_strings(locale))
}

/// A language's interface strings, missing ones taken from English.
pub fn strings(locale: Locale) -> Cow<'static, Value> {
    if cfg!(debug_assertions) {
        return Cow::Owned(load_strings(locale));
    }
    static LOADED: OnceLock<Vec<Value>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| Locale::ALL.into_iter().map(load_strings).collect());
    let position = Locale::ALL
        .iter()
        .position(|candidate| *candidate == locale)
        .unwrap_or(0);
    Cow::Borrowed(&loaded[position])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_translations_fall_back_to_english() {
        let english = serde_json::json!({"a": "A", "nested": {"b": "B", "c": "C"}});
        let german = serde_json::json!({"nested": {"b": "Be"}});
        assert_eq!(
            with_fallback(&english, german),
            serde_json::json!({"a": "A", "nested": {"b": "Be", "c": "C"}})
        );
    }

    #[test]
    fn paths_outside_the_static_folder_are_not_served() {
        assert!(static_file("../mod.rs").is_none());
        assert!(static_file(".hidden").is_none());
        assert!(static_file("widget.js").is_some());
    }
}
