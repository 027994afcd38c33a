//! The features a text is read by: its stems in one language, and pairs of consecutive stems
//! (word pairs carry meaning single words lack: "rent eats", "ticket journalier").

use std::collections::{BTreeMap, BTreeSet};

use crate::text::{Analyzers, TextLanguage};

/// A stem, or two consecutive stems joined by a space, in the language it was read in.
pub type Feature = (TextLanguage, String);

/// At most this many features are taken from one text (the first ones: a profile's opening
/// sentences say what it is about).
const MAX_FEATURES: usize = 400;

/// The distinct features of `text` read in `language`.
pub fn features(analyzers: &Analyzers, text: &str, language: TextLanguage) -> BTreeSet<Feature> {
    features_with_words(analyzers, text, language).into_keys().collect()
}

/// The distinct features of `text` read in `language`, each with the words of the text it
/// stands for (to show a reader why a text was read as it was).
pub fn features_with_words(analyzers: &Analyzers, text: &str, language: TextLanguage) -> BTreeMap<Feature, String> {
    let tokens: Vec<(String, &str)> = analyzers
        .stemmed(language, text)
        .into_iter()
        .filter(|token| {
            token.term.chars().count() >= 2 && !token.term.chars().all(|character| character.is_ascii_digit())
        })
        .map(|token| (token.term, text.get(token.start..token.end).unwrap_or_default()))
        .collect();
    let mut found = BTreeMap::new();
    for (position, (stem, word)) in tokens.iter().enumerate() {
        if found.len() >= MAX_FEATURES {
            break;
        }
        found
            .entry((language, stem.clone()))
            .or_insert_with(|| word.to_string());
        if let Some((next, next_word)) = tokens.get(position + 1) {
            found
                .entry((language, format!("{stem} {next}")))
                .or_insert_with(|| format!("{word} {next_word}"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_word_pairs_in_their_language() {
        let analyzers = Analyzers::new();
        let found = features(&analyzers, "The rent eats the salary", TextLanguage::English);
        assert!(found.contains(&(TextLanguage::English, "rent".to_string())));
        assert!(found.contains(&(TextLanguage::English, "rent eat".to_string())));
        assert!(
            !found.iter().any(|(_, feature)| feature == "the"),
            "stop words are not features"
        );
        let german = features(&analyzers, "Die Keller laufen voll", TextLanguage::German);
        assert!(german.iter().all(|(language, _)| *language == TextLanguage::German));
        assert!(features(&analyzers, "", TextLanguage::French).is_empty());
    }
}
