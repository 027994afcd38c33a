//! Completions and did-you-mean (`GET /v1/suggest`) over topic labels and terms, countries,
//! regions, cities and names, in any of the vocabulary's languages.

use std::collections::HashSet;

use super::{App, AppError};
use crate::domain::CountryCode;
use crate::search::SuggestionKind;
use crate::text::Analyzers;
use crate::vocab::Vocabulary;

pub const MAX_SUGGEST_CHARS: usize = 100;
const MAX_SUGGESTIONS: usize = 10;
/// Jaro-Winkler similarity from which a vocabulary entry is offered as "did you mean".
const DID_YOU_MEAN_SIMILARITY: f64 = 0.88;

#[derive(Clone, Debug, PartialEq)]
pub struct SuggestEntry {
    pub text: String,
    /// topic, area, country, region, city or name.
    pub kind: &'static str,
    /// The id to use in a filter (topic id, country code, region slug), when there is one.
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Suggestions {
    pub completions: Vec<SuggestEntry>,
    pub did_you_mean: Vec<SuggestEntry>,
}

struct StaticEntry {
    folded: String,
    entry: SuggestEntry,
}

/// Vocabulary entries known at start-up: topic labels and terms, countries and regions.
pub(crate) struct StaticSuggestions {
    entries: Vec<StaticEntry>,
}

fn folded(analyzers: &Analyzers, text: &str) -> String {
    analyzers
        .folded(text)
        .into_iter()
        .map(|token| token.term)
        .collect::<Vec<_>>()
        .join(" ")
}

impl StaticSuggestions {
    pub fn build(vocabulary: &Vocabulary, analyzers: &Analyzers) -> StaticSuggestions {
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        let mut add = |text: &str, kind: &'static str, value: Option<String>, entries: &mut Vec<StaticEntry>| {
            let key = folded(analyzers, text);
            if key.is_empty() || !seen.insert((key.clone(), kind)) {
                return;
            }
            entries.push(StaticEntry {
                folded: key,
                entry: SuggestEntry {
                    text: text.to_string(),
                    kind,
                    value,
                },
            });
        };
        for entry in vocabulary.taxonomy.entries() {
            let kind = if entry.topic.is_area() { "area" } else { "topic" };
            for label in entry.labels.values() {
                add(label, kind, Some(entry.topic.id().to_string()), &mut entries);
            }
            for (_, term) in &entry.terms {
                add(term, kind, Some(entry.topic.id().to_string()), &mut entries);
            }
        }
        for country in CountryCode::all() {
            add(
                country.english_name(),
                "country",
                Some(country.to_string()),
                &mut entries,
            );
        }
        for node in vocabulary.regions.nodes() {
            add(&node.name, "region", Some(node.slug.clone()), &mut entries);
        }
        StaticSuggestions { entries }
    }
}

impl App {
    pub fn suggest(&self, q: &str) -> Result<Suggestions, AppError> {
        let q = q.trim();
        if q.chars().count() > MAX_SUGGEST_CHARS {
            return Err(AppError::bad_parameter(
                "q",
                format!("must be at most {MAX_SUGGEST_CHARS} characters"),
            ));
        }
        let words: Vec<String> = self.analyzers().folded(q).into_iter().map(|token| token.term).collect();
        if words.is_empty() {
            return Ok(Suggestions::default());
        }
        let typed = words.join(" ");
        let mut suggestions = Suggestions::default();

        // Completions: entries that start with what was typed, or one of whose words does.
        let mut completions: Vec<(u8, usize, &StaticEntry)> = Vec::new();
        for entry in &self.inner.suggestions.entries {
            let rank = if entry.folded.starts_with(&typed) {
                0
            } else if entry.folded.split(' ').any(|word| word.starts_with(&typed)) {
                1
            } else {
                continue;
            };
            completions.push((rank, entry.folded.len(), entry));
        }
        completions.sort_by(|left, right| {
            left.0
                .cmp(&right.0)
                .then(left.1.cmp(&right.1))
                .then(left.2.folded.cmp(&right.2.folded))
        });
        let mut seen_texts = HashSet::new();
        for (_, _, entry) in completions {
            if suggestions.completions.len() >= MAX_SUGGESTIONS / 2 {
                break;
            }
            if seen_texts.insert(entry.entry.text.to_lowercase()) {
                suggestions.completions.push(entry.entry.clone());
            }
        }
        let (names_and_cities, close_names_and_cities) =
            self.engine().suggest_names_and_cities(&words, MAX_SUGGESTIONS)?;
        for suggestion in names_and_cities {
            if suggestions.completions.len() >= MAX_SUGGESTIONS {
                break;
            }
            if seen_texts.insert(suggestion.text.to_lowercase()) {
                suggestions.completions.push(SuggestEntry {
                    text: suggestion.text,
                    kind: kind_name(suggestion.kind),
                    value: None,
                });
            }
        }

        // Did you mean: close vocabulary entries (strsim), corrected words, close names/cities.
        if typed.chars().count() >= 3 {
            let mut close: Vec<(f64, &StaticEntry)> = self
                .inner
                .suggestions
                .entries
                .iter()
                .filter(|entry| !entry.folded.starts_with(&typed))
                .map(|entry| (strsim::jaro_winkler(&typed, &entry.folded), entry))
                .filter(|(similarity, _)| *similarity >= DID_YOU_MEAN_SIMILARITY)
                .collect();
            close.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.folded.cmp(&right.1.folded)));
            for (_, entry) in close {
                if suggestions.did_you_mean.len() >= MAX_SUGGESTIONS / 2 {
                    break;
                }
                if seen_texts.insert(entry.entry.text.to_lowercase()) {
                    suggestions.did_you_mean.push(entry.entry.clone());
                }
            }
            let known = |word: &str| self.vocabulary().matcher.knows_word(word);
            if let Some(corrected) = self.vocabulary().matcher.corrected_text(self.analyzers(), q, &known)
                && seen_texts.insert(corrected.to_lowercase())
            {
                suggestions.did_you_mean.insert(
                    0,
                    SuggestEntry {
                        text: corrected,
                        kind: "query",
                        value: None,
                    },
                );
            }
        }
        for suggestion in close_names_and_cities {
            if suggestions.did_you_mean.len() >= MAX_SUGGESTIONS {
                break;
            }
            if seen_texts.insert(suggestion.text.to_lowercase()) {
                suggestions.did_you_mean.push(SuggestEntry {
                    text: suggestion.text,
                    kind: kind_name(suggestion.kind),
                    value: None,
                });
            }
        }
        Ok(suggestions)
    }
}

fn kind_name(kind: SuggestionKind) -> &'static str {
    match kind {
        SuggestionKind::Name => "name",
        SuggestionKind::City => "city",
    }
}
