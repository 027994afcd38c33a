//! The six languages the platform speaks to people in (en, de, fr, es, pt, ar): choosing one
//! from `lang` or `Accept-Language`, its writing direction, and names of languages and
//! countries in it.

mod messages;
mod names;

pub use messages::translate;
pub use names::{country_name, language_name};

/// A language of the interface, the reasons and the messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Locale {
    #[default]
    English,
    German,
    French,
    Spanish,
    Portuguese,
    Arabic,
}

impl Locale {
    pub const ALL: [Locale; 6] = [
        Locale::English,
        Locale::German,
        Locale::French,
        Locale::Spanish,
        Locale::Portuguese,
        Locale::Arabic,
    ];
    pub const SUPPORTED: &'static str = "en, de, fr, es, pt, ar";

    /// From a language code (`de`, `DE`, `pt-BR`, `ar_EG`).
    pub fn from_code(raw: &str) -> Option<Locale> {
        let primary = raw
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Locale::ALL.into_iter().find(|locale| locale.code() == primary)
    }

    /// A `lang` parameter: one of the six codes, or an error that names them.
    pub fn parse(raw: &str) -> Result<Locale, String> {
        Locale::from_code(raw).ok_or_else(|| {
            format!(
                "'{}' is not a supported language; use one of {}",
                crate::domain::id::truncate_for_message(raw.trim()),
                Locale::SUPPORTED
            )
        })
    }

    pub fn code(&self) -> &'static str {
        match self {
            Locale::English => "en",
            Locale::German => "de",
            Locale::French => "fr",
            Locale::Spanish => "es",
            Locale::Portuguese => "pt",
            Locale::Arabic => "ar",
        }
    }

    /// The language's name in itself, for language pickers.
    pub fn native_name(&self) -> &'static str {
        match self {
            Locale::English => "English",
            Locale::German => "Deutsch",
            Locale::French => "Français",
            Locale::Spanish => "Español",
            Locale::Portuguese => "Português",
            Locale::Arabic => "العربية",
        }
    }

    pub fn is_right_to_left(&self) -> bool {
        matches!(self, Locale::Arabic)
    }

    /// `rtl` or `ltr`, for the HTML `dir` attribute.
    pub fn direction(&self) -> &'static str {
        if self.is_right_to_left() { "rtl" } else { "ltr" }
    }

    /// The best of the six for an `Accept-Language` header (RFC 9110 §12.5.4): the highest
    /// quality first, the header's order among equals; `None` when none of them is acceptable.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(u16, Locale)> = None;
        for (position, range) in header.split(',').take(32).enumerate() {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = match parts.find_map(|parameter| parameter.trim().strip_prefix("q=")) {
                None => 1.0,
                Some(value) => match value.trim().parse::<f32>() {
                    Ok(quality) => quality,
                    Err(_) => continue,
                },
            };
            if !(quality > 0.0 && quality <= 1.0) {
                continue;
            }
            let Some(locale) = Locale::from_code(tag) else {
                continue;
            };
            // Higher quality wins; among equals, the earlier range.
            let rank = (quality * 1000.0) as u16 * 64 + (63 - position.min(63) as u16);
            if best.is_none_or(|(best_rank, _)| rank > best_rank) {
                best = Some((rank, locale));
            }
        }
        best.map(|(_, locale)| locale)
    }

    /// The `lang` parameter when given and valid, else the best `Accept-Language` match, else
    /// English.
    pub fn negotiate(lang: Option<&str>, accept_language: Option<&str>) -> Locale {
        lang.and_then(Locale::from_code)
            .or_else(|| accept_language.and_then(Locale::from_accept_language))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str, expected: Option<Locale>) {
        assert_eq!(Locale::from_accept_language(header), expected, "{header}");
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        check("de-DE,de;q=0.9,en;q=0.8", Some(Locale::German));
        check("ar-EG", Some(Locale::Arabic));
        check("ja, fr;q=0.5, en;q=0.4", Some(Locale::French));
        check("en;q=0.2, pt-BR;q=0.9", Some(Locale::Portuguese));
        check("es, fr", Some(Locale::Spanish));
        check("zh-CN, ja", None);
        check("fr;q=0, de", Some(Locale::German));
        check("*", None);
        check("", None);
        check("de;q=abc", None);
    }

    #[test]
    fn a_lang_parameter_wins_over_the_header() {
        assert_eq!(Locale::negotiate(Some("ar"), Some("de")), Locale::Arabic);
        assert_eq!(Locale::negotiate(Some("xx"), Some("de")), Locale::German);
        assert_eq!(Locale::negotiate(None, None), Locale::English);
    }
}
