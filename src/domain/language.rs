//! ISO 639-1 language codes, validated against isolang.

use std::fmt;

/// A lower-case two-letter ISO 639-1 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LanguageCode([u8; 2]);

impl LanguageCode {
    pub fn parse(raw: &str) -> Result<LanguageCode, String> {
        let candidate = raw.trim();
        let bytes = candidate.as_bytes();
        let looks_like_code = bytes.len() == 2 && bytes.iter().all(u8::is_ascii_alphabetic);
        if !looks_like_code {
            return Err(format!(
                "'{}' is not an ISO 639-1 code (two letters, e.g. 'fr')",
                super::id::truncate_for_message(candidate)
            ));
        }
        let code = LanguageCode([bytes[0].to_ascii_lowercase(), bytes[1].to_ascii_lowercase()]);
        if isolang::Language::from_639_1(code.as_str()).is_none() {
            return Err(format!("unknown ISO 639-1 code '{}'", code.as_str()));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("xx")
    }

    /// The English name, e.g. "French".
    pub fn english_name(&self) -> &'static str {
        isolang::Language::from_639_1(self.as_str()).map_or("", |language| language.to_name())
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_are_lower_cased_and_validated() {
        assert_eq!(LanguageCode::parse("FR").map(|l| l.to_string()), Ok("fr".to_string()));
        assert_eq!(LanguageCode::parse("fr").map(|l| l.english_name()), Ok("French"));
        assert!(LanguageCode::parse("xx").is_err());
        assert!(LanguageCode::parse("fra").is_err());
    }
}
