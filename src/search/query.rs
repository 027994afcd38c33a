//! Turns user text into bounded sets of index terms and builds tantivy queries from them:
//! per-language stems, folded words, typo corrections from the index's own term dictionary,
//! topic clauses and filters. User text never reaches tantivy's `QueryParser`.

use std::collections::{HashMap, HashSet};

use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::schema::CommonFields;
use crate::domain::Topic;
use crate::in_two::side_by_side;
use crate::text::{Analyzers, TextLanguage, detect_language};
use crate::vocab::{TopicEvidence, Vocabulary};

/// Bounds on how much work one piece of user text can cause.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    /// Distinct words kept from a text; the rarest in the index are kept first.
    pub max_words: usize,
    /// Unknown words for which typo corrections are looked up.
    pub max_corrected_words: usize,
    /// Corrections kept per unknown word (the most frequent in the index).
    pub max_corrections_per_word: usize,
    /// Shortest word (in characters) that is corrected; from `two_edits_from` on, two edits.
    pub shortest_corrected_word: usize,
    pub two_edits_from: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_words: 32,
            max_corrected_words: 6,
            max_corrections_per_word: 3,
            shortest_corrected_word: 5,
            two_edits_from: 12,
        }
    }
}

/// One distinct word of the user's text.
#[derive(Clone, Debug)]
pub struct QueryWord {
    pub folded: String,
    /// The word's stem in each language the text was read in.
    pub stems: Vec<(TextLanguage, String)>,
    /// For a word the index does not know: close words it does know (typo corrections).
    pub corrections: Vec<QueryCorrection>,
    /// The word is mostly used in experts' names ("Kwame", "Carstensen") and is not a
    /// vocabulary word: it says who, not what about.
    pub names_someone: bool,
}

#[derive(Clone, Debug)]
pub struct QueryCorrection {
    pub folded: String,
    pub stems: Vec<(TextLanguage, String)>,
}

/// User text, analysed once per request.
#[derive(Clone, Debug, Default)]
pub struct AnalysedQuery {
    pub detected_language: Option<TextLanguage>,
    pub languages_read: Vec<TextLanguage>,
    pub words: Vec<QueryWord>,
    /// Topics the text mentions (through the vocabulary, typos tolerated).
    pub topics: Vec<TopicEvidence>,
    /// Countries and regions the text names.
    pub places: Vec<crate::vocab::Place>,
    /// Every word of the text is in one expert's name ("yolanda castillo reyes"): a search
    /// for a person, not about a subject.
    pub names_a_person: bool,
}

impl AnalysedQuery {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every folded form that should be highlighted: the words and their corrections.
    pub fn highlight_words(&self) -> HashSet<String> {
        let mut words = HashSet::new();
        for word in &self.words {
            words.insert(word.folded.clone());
            for correction in &word.corrections {
                words.insert(correction.folded.clone());
            }
        }
        words
    }

    /// Every (language, stem) pair that should be highlighted.
    pub fn highlight_stems(&self) -> HashSet<(TextLanguage, String)> {
        let mut stems = HashSet::new();
        for word in &self.words {
            stems.extend(word.stems.iter().cloned());
            for correction in &word.corrections {
                stems.extend(correction.stems.iter().cloned());
            }
        }
        stems
    }
}

/// The fields `analyse` looks words up in: all folded text, experts' names, and the stemmed
/// text per language.
#[derive(Clone, Copy)]
pub struct AnalysedFields<'a> {
    pub folded: Field,
    pub name: Field,
    pub stemmed: &'a [(TextLanguage, Field)],
}

/// A word in someone's name that the rest of the writing rarely uses: at least a third of the
/// documents that hold it hold it in a name ("Kwame" yes; "Park", a surname too, no).
fn is_mostly_a_name(documents_with_it_in_a_name: u64, documents_with_it: u64) -> bool {
    documents_with_it_in_a_name > 0 && documents_with_it_in_a_name * 3 >= documents_with_it
}

/// Analyses `text` against the experts index (for word rarity and typo corrections).
pub fn analyse(
    text: &str,
    analyzers: &Analyzers,
    vocabulary: &Vocabulary,
    searcher: &Searcher,
    fields: AnalysedFields<'_>,
    limits: &QueryLimits,
) -> AnalysedQuery {
    let folded_tokens = analyzers.folded(text);
    if folded_tokens.is_empty() {
        return AnalysedQuery::default();
    }
    let detected = detect_language(text, None);
    let analysis = Analysis {
        text,
        folded_tokens: &folded_tokens,
        detected,
        languages_read: languages_to_read(detected, folded_tokens.len()),
        analyzers,
        vocabulary,
        searcher,
        fields,
        limits,
    };
    // The text's words and what it names are read independently of each other.
    let (words, mentions) = side_by_side(|| analysis.words(), || analysis.mentions());
    let detected_language = match detected {
        TextLanguage::Other => language_of_vocabulary_terms(&mentions.topics),
        language if folded_tokens.len() >= 4 => Some(language),
        language => language_of_vocabulary_terms(&mentions.topics).or(Some(language)),
    };
    AnalysedQuery {
        detected_language,
        languages_read: analysis.languages_read,
        words,
        topics: mentions.topics,
        places: mentions.places,
        names_a_person: mentions.names_a_person,
    }
}

/// The languages a text is read in: the detected one (and English beside it) for a text
/// long enough to tell, every stemmed language otherwise.
fn languages_to_read(detected: TextLanguage, token_count: usize) -> Vec<TextLanguage> {
    if token_count >= 4 && detected != TextLanguage::Other {
        let mut languages = vec![detected];
        if detected != TextLanguage::English {
            languages.push(TextLanguage::English);
        }
        languages
    } else {
        TextLanguage::STEMMED.to_vec()
    }
}

/// One text being analysed, with what its analysis reads from.
struct Analysis<'a> {
    text: &'a str,
    folded_tokens: &'a [crate::text::Token],
    detected: TextLanguage,
    languages_read: Vec<TextLanguage>,
    analyzers: &'a Analyzers,
    vocabulary: &'a Vocabulary,
    searcher: &'a Searcher,
    fields: AnalysedFields<'a>,
    limits: &'a QueryLimits,
}

/// What a text names: topics (typos tolerated), places, and whether it is someone's name.
struct Mentions {
    topics: Vec<TopicEvidence>,
    places: Vec<crate::vocab::Place>,
    names_a_person: bool,
}

impl Analysis<'_> {
    /// The text's distinct words with their stems, the most informative kept, and typo
    /// corrections for those the index does not know.
    fn words(&self) -> Vec<QueryWord> {
        let mut words = self.distinct_words();
        let frequencies: HashMap<String, u64> = words
            .iter()
            .map(|word| (word.folded.clone(), self.document_frequency(&word.folded)))
            .collect();
        for word in &mut words {
            let in_names = self
                .searcher
                .doc_freq(&Term::from_field_text(self.fields.name, &word.folded))
                .unwrap_or(0);
            let anywhere = frequencies.get(&word.folded).copied().unwrap_or(0);
            word.names_someone =
                is_mostly_a_name(in_names, anywhere) && !self.vocabulary.matcher.knows_word(&word.folded);
        }
        if words.len() > self.limits.max_words {
            // Keep the most informative words: rare ones that exist in the index, then unknown ones.
            words.sort_by_key(|word| match frequencies.get(&word.folded).copied().unwrap_or(0) {
                0 => u64::MAX,
                frequency => frequency,
            });
            words.truncate(self.limits.max_words);
        }
        self.add_corrections(&mut words, &frequencies);
        words
    }

    /// Every distinct word of two letters or more that no analysed language takes for a stop
    /// word, with its stem in each language read, in the text's order.
    fn distinct_words(&self) -> Vec<QueryWord> {
        // A token missing from a language's output is a stop word there; stems by token start
        // offset for the languages read.
        let kept_by_language: Vec<HashSet<usize>> = TextLanguage::STEMMED
            .into_iter()
            .map(|language| {
                self.analyzers
                    .without_stop_words(language, self.text)
                    .into_iter()
                    .map(|token| token.start)
                    .collect()
            })
            .collect();
        let stems_by_offset: Vec<(TextLanguage, HashMap<usize, String>)> = TextLanguage::STEMMED
            .into_iter()
            .filter(|language| self.languages_read.contains(language))
            .map(|language| {
                let stems = self
                    .analyzers
                    .stemmed(language, self.text)
                    .into_iter()
                    .map(|token| (token.start, token.term))
                    .collect();
                (language, stems)
            })
            .collect();
        let mut seen = HashSet::new();
        let mut words = Vec::new();
        for token in self.folded_tokens {
            let is_stop_word = kept_by_language.iter().any(|kept| !kept.contains(&token.start));
            if is_stop_word || token.term.chars().count() < 2 || !seen.insert(token.term.clone()) {
                continue;
            }
            let stems = stems_by_offset
                .iter()
                .filter_map(|(language, stems)| stems.get(&token.start).map(|stem| (*language, stem.clone())))
                .collect();
            words.push(QueryWord {
                folded: token.term.clone(),
                stems,
                corrections: Vec::new(),
                names_someone: false,
            });
        }
        words
    }

    /// Typo corrections from the index for the first words it does not know (`frequencies`:
    /// each word's document frequency).
    fn add_corrections(&self, words: &mut [QueryWord], frequencies: &HashMap<String, u64>) {
        let limits = self.limits;
        let mut corrected_words = 0;
        for word in words {
            if corrected_words >= limits.max_corrected_words {
                break;
            }
            let length = word.folded.chars().count();
            let known = frequencies.get(&word.folded).copied().unwrap_or(0) > 0
                || self.vocabulary.matcher.knows_word(&word.folded)
                || stem_is_indexed(self.searcher, &self.fields, self.detected, word);
            if known || length < limits.shortest_corrected_word || !word.folded.chars().all(char::is_alphabetic) {
                continue;
            }
            corrected_words += 1;
            let distance = if length >= limits.two_edits_from { 2 } else { 1 };
            for correction in index_corrections(
                self.searcher,
                self.fields.folded,
                &word.folded,
                distance,
                limits.max_corrections_per_word,
            ) {
                let stems = self
                    .languages_read
                    .iter()
                    .filter_map(|language| {
                        self.analyzers
                            .stemmed(*language, &correction)
                            .into_iter()
                            .next()
                            .map(|token| (*language, token.term))
                    })
                    .collect();
                word.corrections.push(QueryCorrection {
                    folded: correction,
                    stems,
                });
            }
        }
    }

    /// The topics, places and person the text names.
    fn mentions(&self) -> Mentions {
        // Every word of the index's term dictionary occurs in some document.
        let known_in_index = |word: &str| self.document_frequency(word) > 0;
        Mentions {
            topics: self.vocabulary.matcher.detect_with_typos(
                self.analyzers,
                self.text,
                &self.languages_read,
                &known_in_index,
            ),
            places: self.vocabulary.places.find(self.analyzers, self.text),
            names_a_person: is_someone_s_name(self.searcher, self.fields.name, self.folded_tokens),
        }
    }

    /// How many documents hold the folded word.
    fn document_frequency(&self, word: &str) -> u64 {
        self.searcher
            .doc_freq(&Term::from_field_text(self.fields.folded, word))
            .unwrap_or(0)
    }
}

/// Whether the word's stem in the text's detected language occurs in that language's
/// indexed text: then it is a form of a known word ("warten" beside "wartet"), not a typo
/// to correct ("garten"). Only the detected language counts: across all six stemmers some
/// typo would find a stem.
fn stem_is_indexed(searcher: &Searcher, fields: &AnalysedFields<'_>, detected: TextLanguage, word: &QueryWord) -> bool {
    let Some((_, field)) = fields.stemmed.iter().find(|(language, _)| *language == detected) else {
        return false;
    };
    word.stems
        .iter()
        .filter(|(language, _)| *language == detected)
        .any(|(_, stem)| searcher.doc_freq(&Term::from_field_text(*field, stem)).unwrap_or(0) > 0)
}

/// Whether one expert's name holds every word of the text (stop words too: "De la Hoz").
fn is_someone_s_name(searcher: &Searcher, name_field: Field, folded_tokens: &[crate::text::Token]) -> bool {
    if folded_tokens.is_empty() || folded_tokens.len() > MOST_WORDS_IN_A_NAME {
        return false;
    }
    let every_word: Vec<(Occur, Box<dyn Query>)> = folded_tokens
        .iter()
        .map(|token| {
            let term = Term::from_field_text(name_field, &token.term);
            let query: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
            (Occur::Must, query)
        })
        .collect();
    searcher
        .search(&BooleanQuery::new(every_word), &tantivy::collector::Count)
        .is_ok_and(|count| count > 0)
}

/// Longer texts are not taken for a name.
const MOST_WORDS_IN_A_NAME: usize = 8;

/// For text too short to detect its language: the one language most of the vocabulary terms
/// found in it are written in, if there is one.
fn language_of_vocabulary_terms(topics: &[TopicEvidence]) -> Option<TextLanguage> {
    let mut votes: HashMap<TextLanguage, usize> = HashMap::new();
    for evidence in topics {
        for language in &evidence.languages {
            *votes.entry(*language).or_default() += 1;
        }
    }
    let best = votes.values().copied().max()?;
    let mut leaders = votes
        .into_iter()
        .filter(|(_, count)| *count == best)
        .map(|(language, _)| language);
    let leader = leaders.next();
    if leaders.next().is_some() { None } else { leader }
}

/// The most frequent words of the index within `distance` edits of `word` that begin with
/// its first letter (as Lucene's spell checker does by default: a typo in the first letter
/// is rare, and the rule keeps the search to that letter's part of the term dictionary).
fn index_corrections(searcher: &Searcher, field: Field, word: &str, distance: u8, keep: usize) -> Vec<String> {
    let mut frequencies: HashMap<String, u64> = HashMap::new();
    let term = Term::from_field_text(field, word);
    let Ok(automaton) = FuzzyTermQuery::new(term, distance, true).automaton() else {
        return Vec::new();
    };
    let first_letter = &word.as_bytes()[..word.chars().next().map_or(0, char::len_utf8)];
    let Some(past_first_letter) = next_prefix(first_letter) else {
        return Vec::new();
    };
    for segment in searcher.segment_readers() {
        let Ok(inverted_index) = segment.inverted_index(field) else {
            continue;
        };
        let terms = inverted_index.terms();
        let Ok(mut stream) = terms
            .search(&automaton)
            .ge(first_letter)
            .lt(&past_first_letter)
            .into_stream()
        else {
            continue;
        };
        let mut visited = 0;
        while stream.advance() && visited < 1_000 {
            visited += 1;
            if let Ok(candidate) = std::str::from_utf8(stream.key())
                && candidate != word
            {
                *frequencies.entry(candidate.to_string()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    let mut ranked: Vec<(String, u64)> = frequencies.into_iter().collect();
    ranked.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(&right.0)));
    ranked.into_iter().take(keep).map(|(candidate, _)| candidate).collect()
}

/// The smallest byte string greater than every string that begins with `prefix` (`None`
/// when every byte is 0xFF, which UTF-8 never is).
fn next_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

fn boosted_term(term: Term, boost: f32) -> Box<dyn Query> {
    let query: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
    if (boost - 1.0).abs() < f32::EPSILON {
        return query;
    }
    Box::new(BoostQuery::new(query, boost))
}

/// Field weights for text relevance.
#[derive(Clone, Copy, Debug)]
pub struct TextWeights {
    pub stemmed: f32,
    pub folded: f32,
    pub name: f32,
    pub place: f32,
    pub correction: f32,
}

impl Default for TextWeights {
    fn default() -> Self {
        TextWeights {
            stemmed: 1.0,
            folded: 0.5,
            name: 1.0,
            place: 0.8,
            correction: 0.35,
        }
    }
}

/// One term of a text's BM25 and its boost (1 where none applies).
#[derive(Clone, Debug, PartialEq)]
pub struct TextTerm {
    pub term: Term,
    pub boost: f32,
}

/// BM25 over the text fields: a union of (boosted) term queries, so that tantivy can prune
/// with block-max WAND. `None` when the text has no usable words.
pub fn text_query(
    fields: &CommonFields,
    name_field: Option<Field>,
    query: &AnalysedQuery,
    weights: &TextWeights,
) -> Option<Box<dyn Query>> {
    let terms = text_terms(fields, name_field, query, weights);
    if terms.is_empty() {
        return None;
    }
    let clauses = terms
        .into_iter()
        .map(|TextTerm { term, boost }| boosted_term(term, boost))
        .collect();
    Some(Box::new(BooleanQuery::union(clauses)))
}

/// The terms of `text_query`, each once, in the order its clauses take: per word its stems,
/// folded form, place and name, then its corrections'.
pub fn text_terms(
    fields: &CommonFields,
    name_field: Option<Field>,
    query: &AnalysedQuery,
    weights: &TextWeights,
) -> Vec<TextTerm> {
    let mut terms: Vec<TextTerm> = Vec::new();
    let mut added: HashSet<Term> = HashSet::new();
    let mut add = |field: Field, text: &str, boost: f32, terms: &mut Vec<TextTerm>| {
        let term = Term::from_field_text(field, text);
        if added.insert(term.clone()) {
            terms.push(TextTerm { term, boost });
        }
    };
    let stem_field = |language: TextLanguage| {
        fields
            .text
            .iter()
            .find(|(candidate, _)| *candidate == language)
            .map(|(_, field)| *field)
    };
    for word in &query.words {
        for (language, stem) in &word.stems {
            if let Some(field) = stem_field(*language) {
                add(field, stem, weights.stemmed, &mut terms);
            }
        }
        add(fields.folded, &word.folded, weights.folded, &mut terms);
        add(fields.place, &word.folded, weights.place, &mut terms);
        if let Some(name_field) = name_field {
            add(name_field, &word.folded, weights.name, &mut terms);
        }
        for correction in &word.corrections {
            for (language, stem) in &correction.stems {
                if let Some(field) = stem_field(*language) {
                    add(field, stem, weights.correction, &mut terms);
                }
            }
            add(
                fields.folded,
                &correction.folded,
                weights.correction * weights.folded,
                &mut terms,
            );
            if let Some(name_field) = name_field {
                add(
                    name_field,
                    &correction.folded,
                    weights.correction * weights.name,
                    &mut terms,
                );
            }
        }
    }
    terms
}

/// Constant scores for how a record relates to each wanted topic.
#[derive(Clone, Copy, Debug)]
pub struct TopicClauseWeights {
    pub tagged: f32,
    pub inferred_strong: f32,
    pub inferred_weak: f32,
    pub area_only: f32,
}

/// A union of constant-score clauses: tagged with, inferred from text, or the area tagged.
pub fn topic_query(fields: &CommonFields, topics: &[Topic], weights: &TopicClauseWeights) -> Option<Box<dyn Query>> {
    let mut clauses: Vec<Box<dyn Query>> = Vec::new();
    let mut areas_added = HashSet::new();
    for topic in topics {
        // A zero weight leaves the clause out: it neither scores nor widens the match set.
        let mut constant = |field: Field, code: u64, score: f32| {
            if score > 0.0 {
                clauses.push(Box::new(ConstScoreQuery::new(
                    Box::new(u64_term_query(field, code)),
                    score,
                )));
            }
        };
        constant(fields.topics, topic.code(), weights.tagged);
        if topic.is_area() {
            continue;
        }
        constant(fields.inferred_strong, topic.code(), weights.inferred_strong);
        constant(fields.inferred_weak, topic.code(), weights.inferred_weak);
        if areas_added.insert(topic.area()) {
            constant(fields.area_tags, topic.area().code(), weights.area_only);
        }
    }
    if clauses.is_empty() {
        return None;
    }
    Some(Box::new(BooleanQuery::union(clauses)))
}

pub fn u64_term_query(field: Field, value: u64) -> TermQuery {
    TermQuery::new(Term::from_field_u64(field, value), IndexRecordOption::Basic)
}

/// Matches documents having any of `values` in `field`.
pub fn any_of(field: Field, values: &[u64]) -> Box<dyn Query> {
    if values.len() == 1 {
        return Box::new(u64_term_query(field, values[0]));
    }
    let clauses: Vec<Box<dyn Query>> = values
        .iter()
        .map(|value| Box::new(u64_term_query(field, *value)) as Box<dyn Query>)
        .collect();
    Box::new(BooleanQuery::union(clauses))
}

/// Scores nothing itself: a filter to AND with a scored query.
pub fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_past_a_prefix_is_above_every_string_that_begins_with_it() {
        let check = |prefix: &[u8], expected: Option<&[u8]>| {
            assert_eq!(next_prefix(prefix).as_deref(), expected, "{prefix:?}");
        };
        check(b"a", Some(b"b"));
        check("é".as_bytes(), Some(&[0xC3, 0xAA]));
        check("ع".as_bytes(), Some(&[0xD8, 0xBA]));
        check(&[0x61, 0xFF], Some(b"b"));
        check(&[0xFF], None);
        check(b"", None);
    }

    #[test]
    fn a_word_is_a_name_when_names_hold_a_third_of_its_uses() {
        let check = |in_names: u64, anywhere: u64, expected: bool| {
            assert_eq!(
                is_mostly_a_name(in_names, anywhere),
                expected,
                "{in_names} of {anywhere}"
            );
        };
        check(0, 0, false);
        check(0, 40, false);
        check(1, 1, true);
        check(1, 3, true);
        check(1, 4, false);
        check(2, 50, false);
    }
}
