//! ISO 3166-1 alpha-2 country codes, validated against keshvar's country list.

use std::fmt;

use keshvar::Alpha2;

/// An upper-case ISO 3166-1 alpha-2 code of an existing country.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Accepts any case on input ("de", "De", "DE").
    pub fn parse(raw: &str) -> Result<CountryCode, String> {
        let candidate = raw.trim();
        let bytes = candidate.as_bytes();
        let looks_like_code = bytes.len() == 2 && bytes.iter().all(u8::is_ascii_alphabetic);
        if !looks_like_code {
            return Err(format!(
                "'{}' is not an ISO 3166-1 alpha-2 code (two letters, e.g. 'DE')",
                super::id::truncate_for_message(candidate)
            ));
        }
        let upper = [bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase()];
        let code = CountryCode(upper);
        if !known_codes().contains(&upper) {
            return Err(format!("unknown ISO 3166-1 alpha-2 code '{}'", code.as_str()));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }

    /// The English short name, e.g. "Kenya".
    pub fn english_name(&self) -> &'static str {
        match Alpha2::try_from(self.as_str()) {
            Ok(alpha2) => alpha2.to_country().iso_short_name(),
            Err(_) => "",
        }
    }

    /// Every code keshvar knows, for building lookup tables.
    pub fn all() -> impl Iterator<Item = CountryCode> {
        let mut codes: Vec<[u8; 2]> = known_codes().iter().copied().collect();
        codes.sort_unstable();
        codes.into_iter().map(CountryCode)
    }
}

/// Every code keshvar knows, looked up once (records are validated on every read).
fn known_codes() -> &'static std::collections::HashSet<[u8; 2]> {
    static CODES: std::sync::OnceLock<std::collections::HashSet<[u8; 2]>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        keshvar::CountryIterator::new()
            .filter_map(|country| <[u8; 2]>::try_from(country.alpha2().to_string().as_bytes()).ok())
            .collect()
    })
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_case_insensitive_on_input_and_upper_case_on_output() {
        assert_eq!(CountryCode::parse("ke").map(|c| c.to_string()), Ok("KE".to_string()));
        assert_eq!(CountryCode::parse(" De ").map(|c| c.to_string()), Ok("DE".to_string()));
    }

    #[test]
    fn unknown_codes_are_rejected_with_the_code_in_the_message() {
        let error = CountryCode::parse("XX").unwrap_err();
        assert!(error.contains("'XX'"), "{error}");
        assert!(CountryCode::parse("DEU").is_err());
        assert!(CountryCode::parse("1A").is_err());
    }

    #[test]
    fn all_countries_are_listed() {
        assert!(CountryCode::all().count() >= 240);
    }
}
