//! The features a text is read by: its stems in one language, and pairs of stems a word or
//! two apart (word pairs carry meaning single words lack: "rent eats", "ticket journalier").
//! Function words ("what", "wenn", "في") are no features of their own.

use std::collections::{BTreeMap, BTreeSet};

use crate::text::{Analyzers, TextLanguage, is_function_word};

/// A stem, or two stems joined by a space, in the language it was read in.
pub type Feature = (TextLanguage, String);

/// At most this many features are taken from one text (the first ones: a profile's opening
/// sentences say what it is about).
const MAX_FEATURES: usize = 400;

/// Which words form pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pairs {
    /// Consecutive words only (a profile's long text).
    Adjacent,
    /// Also two words with one other between them: a curated phrase, and a short text that
    /// says it with a word more ("rues plongées dans le noir" for "rues dans le noir").
    AcrossOneWord,
}

impl Pairs {
    fn reach(self) -> usize {
        match self {
            Pairs::Adjacent => 1,
            Pairs::AcrossOneWord => 2,
        }
    }
}

/// The distinct features of `text` read in `language`.
pub fn features(analyzers: &Analyzers, text: &str, language: TextLanguage, pairs: Pairs) -> BTreeSet<Feature> {
    features_with_words(analyzers, text, language, pairs)
        .into_keys()
        .collect()
}

/// A stemmed word of a text: its stem, the word as written, and whether it is a function word.
struct Word<'a> {
    stem: String,
    written: &'a str,
    is_function_word: bool,
}

/// The distinct features of `text` read in `language`, each with the words of the text it
/// stands for (to show a reader why a text was read as it was). A pair of two function words
/// is no feature; a pair with one is ("from tap", "في المقاهي").
pub fn features_with_words(
    analyzers: &Analyzers,
    text: &str,
    language: TextLanguage,
    pairs: Pairs,
) -> BTreeMap<Feature, String> {
    let words = content_words(analyzers, text, language);
    let mut found = BTreeMap::new();
    for (position, word) in words.iter().enumerate() {
        if found.len() >= MAX_FEATURES {
            break;
        }
        if !word.is_function_word {
            found
                .entry((language, word.stem.clone()))
                .or_insert_with(|| word.written.to_string());
        }
        for next in words.iter().skip(position + 1).take(pairs.reach()) {
            if word.is_function_word && next.is_function_word {
                continue;
            }
            found
                .entry((language, format!("{} {}", word.stem, next.stem)))
                .or_insert_with(|| format!("{} {}", word.written, next.written));
        }
    }
    found
}

/// The stemmed words of `text` that are neither a stop word of the analyser, nor a single
/// letter, nor a number.
fn content_words<'a>(analyzers: &Analyzers, text: &'a str, language: TextLanguage) -> Vec<Word<'a>> {
    analyzers
        .stemmed(language, text)
        .into_iter()
        .filter(|token| {
            token.term.chars().count() >= 2 && !token.term.chars().all(|character| character.is_ascii_digit())
        })
        .map(|token| {
            let written = text.get(token.start..token.end).unwrap_or_default();
            Word {
                stem: token.term,
                written,
                is_function_word: is_function_word(language, written),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_word_pairs_in_their_language() {
        let analyzers = Analyzers::new();
        let found = features(
            &analyzers,
            "The rent eats the salary",
            TextLanguage::English,
            Pairs::Adjacent,
        );
        assert!(found.contains(&(TextLanguage::English, "rent".to_string())));
        assert!(found.contains(&(TextLanguage::English, "rent eat".to_string())));
        assert!(
            !found.iter().any(|(_, feature)| feature == "the"),
            "stop words are not features"
        );
        let german = features(
            &analyzers,
            "Die Keller laufen voll",
            TextLanguage::German,
            Pairs::Adjacent,
        );
        assert!(german.iter().all(|(language, _)| *language == TextLanguage::German));
        assert!(features(&analyzers, "", TextLanguage::French, Pairs::Adjacent).is_empty());
    }

    fn check(text: &str, language: TextLanguage, pairs: Pairs, present: &[&str], absent: &[&str]) {
        let found = features(&Analyzers::new(), text, language, pairs);
        let has = |feature: &str| found.contains(&(language, feature.to_string()));
        for feature in present {
            assert!(has(feature), "{text:?} lacks {feature:?}: {found:?}");
        }
        for feature in absent {
            assert!(!has(feature), "{text:?} has {feature:?}: {found:?}");
        }
    }

    #[test]
    fn function_words_are_no_features_of_their_own_but_join_a_pair() {
        use TextLanguage::*;
        check(
            "why do the tenants want",
            English,
            Pairs::Adjacent,
            &["tenant", "do tenant"],
            &["do", "why", "why do"],
        );
        check(
            "was tun wenn der Strom weg ist",
            German,
            Pairs::Adjacent,
            &["strom", "tun"],
            &["wenn"],
        );
        check("en el mercado", Spanish, Pairs::Adjacent, &["merc"], &["el"]);
        check("يجلسون في المقاهي", Arabic, Pairs::Adjacent, &["في مقاه"], &["في"]);
    }

    #[test]
    fn pairs_reach_across_one_word_only_when_asked() {
        use TextLanguage::*;
        check(
            "rues plongées dans le noir",
            French,
            Pairs::Adjacent,
            &["ru plong", "plong noir"],
            &["ru noir"],
        );
        check(
            "rues plongées dans le noir",
            French,
            Pairs::AcrossOneWord,
            &["ru plong", "ru noir"],
            &[],
        );
        check(
            "water comes down the hill",
            English,
            Pairs::AcrossOneWord,
            &["water come", "water down"],
            &["water hill"],
        );
    }
}
