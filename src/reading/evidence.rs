//! The learned evidence about one text, and the examples the vocabulary gives to learn from.

use std::collections::{BTreeMap, BTreeSet};

use super::features::{Feature, Pairs, features, features_with_words};
use super::model::{Example, TopicModel, TopicScore, TopicTally};
use crate::text::{Analyzers, TextLanguage};
use crate::vocab::Vocabulary;

/// How much a curated term or cue counts as an example, against 1 for a tagged profile: the
/// hand-curated vocabulary is the stronger signal (measured on both judged sets: profiles
/// weighing as much as cues blur the associations).
pub const TERM_EXAMPLE_WEIGHT: f32 = 10.0;
pub const CUE_EXAMPLE_WEIGHT: f32 = 9.0;
/// What features read in a language other than the text's own count.
const OTHER_LANGUAGE_FACTOR: f32 = 0.4;

/// The taxonomy's terms and the everyday cues as labelled examples.
pub fn vocabulary_examples(vocabulary: &Vocabulary, analyzers: &Analyzers) -> Vec<Example> {
    let mut examples = Vec::new();
    for entry in vocabulary
        .taxonomy
        .entries()
        .iter()
        .filter(|entry| !entry.topic.is_area())
    {
        for (language, term) in &entry.terms {
            examples.push(Example {
                features: features(analyzers, term, *language, Pairs::AcrossOneWord),
                topics: vec![entry.topic],
                weight: TERM_EXAMPLE_WEIGHT,
                is_record: false,
            });
        }
    }
    for cue in vocabulary.cues.iter().filter(|cue| !cue.topic.is_area()) {
        examples.push(Example {
            features: features(analyzers, &cue.text, cue.language, Pairs::AcrossOneWord),
            topics: vec![cue.topic],
            weight: CUE_EXAMPLE_WEIGHT,
            is_record: false,
        });
    }
    examples
}

/// The languages a text is read in.
pub struct TextLanguages<'a> {
    pub read: &'a [TextLanguage],
    pub detected: Option<TextLanguage>,
    /// Long enough for the detected language to be trusted.
    pub long_enough: bool,
}

/// A text of at most this many words is read with pairs across one word too: a short text has
/// few features, and says a curated phrase with a word more as often as not ("rues plongées
/// dans le noir"); in a longer one such pairs mostly repeat what its words already say (on
/// the version they were tried on, 12 and 20 gave the same figures on both judged sets, and
/// reading every text so took plain-word match from 0.853 to 0.842).
const SHORT_TEXT_WORDS: usize = 12;

/// What the model reads in a text: a text whose language is known is read in it alone; a
/// short or unknown one in every language, its detected one fully and the others at a
/// discount, and typo corrections at a discount too. The features behind each score are given
/// as the text's own words.
pub fn learned_evidence(
    analyzers: &Analyzers,
    model: &TopicModel,
    text: &str,
    languages: &TextLanguages<'_>,
    corrections: &[(Feature, String)],
) -> Vec<TopicScore> {
    let pairs = if text.split_whitespace().count() <= SHORT_TEXT_WORDS {
        Pairs::AcrossOneWord
    } else {
        Pairs::Adjacent
    };
    let mut words: BTreeMap<Feature, String> = BTreeMap::new();
    let mut primary = BTreeSet::new();
    let mut discounted = BTreeSet::new();
    for language in languages.read {
        let full = languages.detected.is_none_or(|detected| detected == *language);
        if languages.long_enough && languages.detected.is_some() && !full {
            continue;
        }
        for (feature, word) in features_with_words(analyzers, text, *language, pairs) {
            if full {
                primary.insert(feature.clone());
            } else {
                discounted.insert(feature.clone());
            }
            words.entry(feature).or_insert(word);
        }
    }
    for (feature, word) in corrections {
        discounted.insert(feature.clone());
        words.entry(feature.clone()).or_insert_with(|| word.clone());
    }
    discounted.retain(|feature| !primary.contains(feature));
    let mut scores = model.read(&primary, 1.0);
    for extra in model.read(&discounted, OTHER_LANGUAGE_FACTOR) {
        match scores.iter_mut().find(|score| score.topic == extra.topic) {
            Some(score) => {
                score.score += extra.score;
                score.because.extend(extra.because);
            }
            None => scores.push(extra),
        }
    }
    for score in &mut scores {
        for (feature, _) in &mut score.because {
            if let Some(word) = languages
                .read
                .iter()
                .find_map(|language| words.get(&(*language, feature.clone())))
            {
                *feature = word.clone();
            }
        }
        score.because.sort_by(|left, right| right.1.total_cmp(&left.1));
    }
    scores.sort_by(|left, right| right.score.total_cmp(&left.score).then(left.topic.cmp(&right.topic)));
    scores
}

/// A record's text reads as a topic when the learned model scores it at least this (a long
/// text sums many features: a passing word stays below it; 1.2 to 3 gave the same figures on
/// both judged sets)…
const DOCUMENT_LEAST_SCORE: f32 = 2.0;
/// …and at least this share of the strongest topic's score; at most `DOCUMENT_MAX_TOPICS`.
const DOCUMENT_KEEP_RELATIVE: f32 = 0.5;
const DOCUMENT_MAX_TOPICS: usize = 2;
/// A topic is read in a record only when at least this many of its words (or word pairs) say
/// so: one word ("plays") is a passing mention.
const DOCUMENT_LEAST_FEATURES: usize = 2;

/// The topics the learned model reads in a profile's or case's text, in the text's own
/// language, strongest first: what a record staff have not tagged is about.
pub fn document_topics(
    analyzers: &Analyzers,
    model: &TopicModel,
    text: &str,
    language: TextLanguage,
) -> Vec<TopicTally> {
    if model.examples() == 0 {
        return Vec::new();
    }
    let mut tallies = model.tally(&features(analyzers, text, language, Pairs::Adjacent));
    tallies.retain(|tally| !tally.topic.is_area());
    let strongest = tallies.first().map_or(0.0, |tally| tally.score);
    tallies.retain(|tally| {
        tally.score >= DOCUMENT_LEAST_SCORE
            && tally.score >= DOCUMENT_KEEP_RELATIVE * strongest
            && tally.features >= DOCUMENT_LEAST_FEATURES
    });
    tallies.truncate(DOCUMENT_MAX_TOPICS);
    tallies
}

/// The evidence words that occur in the text as it was written (a vocabulary term matched
/// through stemming may read differently), without repeats or words inside longer ones.
pub fn words_of_the_text(text: &str, words: &[String]) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut kept: Vec<String> = Vec::new();
    for word in words {
        let lowered_word = word.to_lowercase();
        if !lowered.contains(&lowered_word) {
            continue;
        }
        if kept.iter().any(|other| other.contains(&lowered_word)) {
            continue;
        }
        kept.retain(|other| !lowered_word.contains(other.as_str()));
        kept.push(lowered_word);
    }
    kept.truncate(3);
    kept
}
