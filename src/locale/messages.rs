//! The API's messages in six languages: the service writes them in English, and
//! `translate` writes one in another language by matching it against the English patterns of
//! `messages.toml` (values such as ids and numbers are carried over; nested messages and JSON
//! kinds are translated too). A message without a pattern stays English.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use super::Locale;

const CATALOG: &str = include_str!("messages.toml");
/// Values that are themselves messages, translated in turn.
const NESTED: [&str; 2] = ["message", "kind"];

#[derive(Deserialize)]
struct Catalog {
    message: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    en: String,
    de: Option<String>,
    fr: Option<String>,
    es: Option<String>,
    pt: Option<String>,
    ar: Option<String>,
}

struct Pattern {
    matcher: Regex,
    /// Placeholder names in the order of the pattern's groups.
    slots: Vec<String>,
    /// The translations by `Locale::ALL` position (English first).
    texts: [Option<String>; 6],
}

fn placeholder() -> &'static Regex {
    static PLACEHOLDER: OnceLock<Regex> = OnceLock::new();
    PLACEHOLDER.get_or_init(|| Regex::new(r"\{([a-z_]+)\}").unwrap_or_else(|_| unreachable!("a valid pattern")))
}

fn compile(entry: Entry) -> Option<Pattern> {
    let mut expression = String::from("^");
    let mut slots = Vec::new();
    let mut last = 0;
    for captures in placeholder().captures_iter(&entry.en) {
        let whole = captures.get(0)?;
        expression.push_str(&regex::escape(&entry.en[last..whole.start()]));
        expression.push_str("(.+?)");
        slots.push(captures[1].to_string());
        last = whole.end();
    }
    expression.push_str(&regex::escape(&entry.en[last..]));
    expression.push('$');
    Some(Pattern {
        matcher: Regex::new(&expression).ok()?,
        slots,
        texts: [Some(entry.en), entry.de, entry.fr, entry.es, entry.pt, entry.ar],
    })
}

/// The patterns, most specific (longest fixed text) first.
fn patterns() -> &'static [Pattern] {
    static PATTERNS: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let catalog: Catalog = match toml::from_str(CATALOG) {
            Ok(catalog) => catalog,
            Err(error) => {
                tracing::error!(%error, "the message catalog does not parse; messages stay English");
                return Vec::new();
            }
        };
        let mut patterns: Vec<Pattern> = catalog.message.into_iter().filter_map(compile).collect();
        let fixed_length = |pattern: &Pattern| {
            let english = pattern.texts[0].as_deref().unwrap_or_default();
            english.len() - pattern.slots.iter().map(|slot| slot.len() + 2).sum::<usize>()
        };
        patterns.sort_by_key(|pattern| std::cmp::Reverse(fixed_length(pattern)));
        patterns
    })
}

/// `english` written in `locale`, or as it is when there is no pattern for it.
pub fn translate(english: &str, locale: Locale) -> Cow<'_, str> {
    if locale == Locale::English {
        return Cow::Borrowed(english);
    }
    translate_depth(english, locale, 0)
}

fn translate_depth(english: &str, locale: Locale, depth: usize) -> Cow<'_, str> {
    let position = Locale::ALL
        .iter()
        .position(|candidate| *candidate == locale)
        .unwrap_or(0);
    for pattern in patterns() {
        let Some(captures) = pattern.matcher.captures(english) else {
            continue;
        };
        let Some(template) = &pattern.texts[position] else {
            return Cow::Borrowed(english);
        };
        let mut text = template.clone();
        for (slot, value) in pattern.slots.iter().zip(captures.iter().skip(1)) {
            let value = value.map_or("", |value| value.as_str());
            let value = if NESTED.contains(&slot.as_str()) && depth < 3 {
                translate_depth(value, locale, depth + 1).into_owned()
            } else {
                value.to_string()
            };
            text = text.replacen(&format!("{{{slot}}}"), &value, 1);
        }
        return Cow::Owned(text);
    }
    Cow::Borrowed(english)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(english: &str, locale: Locale, expected: &str) {
        assert_eq!(translate(english, locale), expected, "{english}");
    }

    #[test]
    fn every_entry_has_six_languages_and_keeps_its_placeholders() {
        let catalog: Catalog = toml::from_str(CATALOG).expect("the catalog parses");
        for entry in catalog.message {
            let names = |text: &str| {
                let mut names: Vec<String> = placeholder()
                    .captures_iter(text)
                    .map(|captures| captures[1].to_string())
                    .collect();
                names.sort();
                names
            };
            let english = names(&entry.en);
            for (code, translation) in [
                ("de", &entry.de),
                ("fr", &entry.fr),
                ("es", &entry.es),
                ("pt", &entry.pt),
                ("ar", &entry.ar),
            ] {
                let translation = translation
                    .as_deref()
                    .unwrap_or_else(|| panic!("'{}' has no {code}", entry.en));
                assert_eq!(names(translation), english, "{code} of '{}'", entry.en);
            }
        }
    }

    #[test]
    fn messages_are_translated_with_their_values_and_nested_parts() {
        check("is required", Locale::English, "is required");
        check("no such thing here", Locale::German, "no such thing here");
        let nested = translate(
            "invalid field 'country': unknown ISO 3166-1 alpha-2 code 'XX'",
            Locale::French,
        );
        assert!(nested.contains("'country'") && nested.contains("'XX'"), "{nested}");
        assert_ne!(nested, "invalid field 'country': unknown ISO 3166-1 alpha-2 code 'XX'");
        let kind = translate("must be a string, not a number", Locale::Spanish);
        assert!(!kind.contains("a number"), "{kind}");
        let long = translate("must be at most 200 characters (got 250)", Locale::Arabic);
        assert!(long.contains("200") && long.contains("250"), "{long}");
    }
}
