//! Record identifiers: `[a-z0-9][a-z0-9-]{0,63}`, stable and URL-safe.

use std::fmt;

/// The id of an expert or a case. Only valid ids can be constructed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(String);

impl RecordId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<RecordId, String> {
        let candidate = raw.trim();
        if candidate.is_empty() {
            return Err("must not be empty".to_string());
        }
        if candidate.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let mut chars = candidate.chars();
        let first_is_valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_is_valid = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !first_is_valid || !rest_is_valid {
            return Err(format!(
                "'{}' is not a valid id: use lower-case letters, digits and '-', starting with a letter or digit",
                truncate_for_message(candidate)
            ));
        }
        Ok(RecordId(candidate.to_string()))
    }

    /// Builds an id from random bytes: `prefix` followed by lower-case base32 characters.
    /// The caller supplies the randomness so that this module stays free of I/O.
    pub fn from_random_bytes(prefix: &str, random_bytes: &[u8; 10]) -> RecordId {
        const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut id = String::with_capacity(prefix.len() + 16);
        id.push_str(prefix);
        let mut bits: u32 = 0;
        let mut bit_count = 0;
        for byte in random_bytes {
            bits = (bits << 8) | u32::from(*byte);
            bit_count += 8;
            while bit_count >= 5 {
                bit_count -= 5;
                let index = ((bits >> bit_count) & 31) as usize;
                id.push(char::from(ALPHABET[index]));
            }
        }
        RecordId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Keeps error messages short when a client sends a huge value.
pub(crate) fn truncate_for_message(value: &str) -> String {
    const LIMIT: usize = 80;
    if value.chars().count() <= LIMIT {
        return value.to_string();
    }
    let mut shortened: String = value.chars().take(LIMIT).collect();
    shortened.push('…');
    shortened
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids_are_accepted_and_invalid_ones_explained() {
        assert!(RecordId::parse("amadou-ndiaye").is_ok());
        assert!(RecordId::parse("0abc").is_ok());
        assert!(RecordId::parse("-abc").is_err());
        assert!(RecordId::parse("Abc").is_err());
        assert!(RecordId::parse("a b").is_err());
        assert!(RecordId::parse("").is_err());
        assert!(RecordId::parse(&"a".repeat(64)).is_ok());
        assert!(RecordId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn generated_ids_are_valid() {
        let id = RecordId::from_random_bytes("e-", &[255, 0, 17, 99, 128, 1, 2, 3, 4, 5]);
        assert_eq!(RecordId::parse(id.as_str()).as_ref(), Ok(&id));
        assert_eq!(id.as_str().len(), 2 + 16);
    }
}
