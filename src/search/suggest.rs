//! Suggestions from the index: names and cities of published experts that start with, or
//! are close to, what has been typed.

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::SearchError;
use super::engine::{SearchEngine, and, published_only};
use super::query::filter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuggestionKind {
    Name,
    City,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    pub text: String,
    pub documents: u64,
}

impl SearchEngine {
    /// Names and cities of published experts that start with, or are close to, `prefix`.
    pub fn suggest_names_and_cities(
        &self,
        folded_words: &[String],
        keep: usize,
    ) -> Result<(Vec<Suggestion>, Vec<Suggestion>), SearchError> {
        let searcher = self.experts.searcher();
        let fields = &self.experts.fields;
        let Some(last) = folded_words.last() else {
            return Ok((Vec::new(), Vec::new()));
        };
        let mut completions = Vec::new();
        let mut corrections = Vec::new();
        for (kind, token_field, display_field) in [
            (SuggestionKind::Name, fields.name, "name_exact"),
            (SuggestionKind::City, fields.city_words, "city_exact"),
        ] {
            let prefix_tokens = prefix_terms(&searcher, token_field, last, 20)?;
            completions.extend(self.displays_for_tokens(
                &searcher,
                kind,
                token_field,
                display_field,
                &prefix_tokens,
                folded_words,
                keep,
            )?);
            let length = last.chars().count();
            if length >= 4 {
                let distance = if length >= 8 { 2 } else { 1 };
                let close = close_terms(&searcher, token_field, last, distance, 10)?;
                corrections.extend(self.displays_for_tokens(
                    &searcher,
                    kind,
                    token_field,
                    display_field,
                    &close,
                    &[],
                    keep,
                )?);
            }
        }
        Ok((completions, corrections))
    }

    #[allow(clippy::too_many_arguments)]
    fn displays_for_tokens(
        &self,
        searcher: &Searcher,
        kind: SuggestionKind,
        token_field: Field,
        display_field: &str,
        tokens: &[String],
        all_words: &[String],
        keep: usize,
    ) -> Result<Vec<Suggestion>, SearchError> {
        let mut counts: HashMap<String, u64> = HashMap::new();
        let status = self.experts.fields.common.status;
        for token in tokens {
            let mut clauses = vec![
                filter(published_only(status)),
                filter(Box::new(TermQuery::new(
                    Term::from_field_text(token_field, token),
                    IndexRecordOption::Basic,
                ))),
            ];
            // Earlier words of a multi-word input must match exactly ("amadou nd" → Amadou Ndiaye).
            for earlier in all_words.iter().take(all_words.len().saturating_sub(1)) {
                clauses.push(filter(Box::new(TermQuery::new(
                    Term::from_field_text(token_field, earlier),
                    IndexRecordOption::Basic,
                ))));
            }
            let hits = searcher.search(&and(clauses), &TopDocs::with_limit(keep).order_by_score())?;
            for (_, address) in hits {
                let Some(column) = searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .str(display_field)?
                else {
                    continue;
                };
                if let Some(ord) = column.term_ords(address.doc_id).next() {
                    let mut display = String::new();
                    column.ord_to_str(ord, &mut display)?;
                    *counts.entry(display).or_default() += 1;
                }
            }
        }
        let mut suggestions: Vec<Suggestion> = counts
            .into_iter()
            .map(|(text, documents)| Suggestion { kind, text, documents })
            .collect();
        suggestions.sort_by(|left, right| right.documents.cmp(&left.documents).then(left.text.cmp(&right.text)));
        suggestions.truncate(keep);
        Ok(suggestions)
    }
}

fn prefix_terms(searcher: &Searcher, field: Field, prefix: &str, keep: usize) -> Result<Vec<String>, SearchError> {
    let mut terms: HashSet<String> = HashSet::new();
    for segment in searcher.segment_readers() {
        let inverted_index = segment.inverted_index(field)?;
        let mut stream = inverted_index.terms().range().ge(prefix.as_bytes()).into_stream()?;
        while stream.advance() {
            let Ok(term) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            if !term.starts_with(prefix) || terms.len() >= keep * 4 {
                break;
            }
            terms.insert(term.to_string());
        }
    }
    let mut sorted: Vec<String> = terms.into_iter().collect();
    sorted.sort();
    sorted.truncate(keep);
    Ok(sorted)
}

fn close_terms(
    searcher: &Searcher,
    field: Field,
    word: &str,
    distance: u8,
    keep: usize,
) -> Result<Vec<String>, SearchError> {
    let mut terms: HashSet<String> = HashSet::new();
    let term = Term::from_field_text(field, word);
    for segment in searcher.segment_readers() {
        let inverted_index = segment.inverted_index(field)?;
        let automaton = tantivy::query::FuzzyTermQuery::new(term.clone(), distance, true).automaton()?;
        let mut stream = inverted_index.terms().search(automaton).into_stream()?;
        while stream.advance() && terms.len() < keep {
            if let Ok(candidate) = std::str::from_utf8(stream.key())
                && candidate != word
            {
                terms.insert(candidate.to_string());
            }
        }
    }
    Ok(terms.into_iter().collect())
}
