//! Reads which topics a text mentions, in any analysed language, through the terms of
//! `index/topics.toml`: multi-word phrases on stemmed, accent-folded tokens, with bounded
//! typo correction against the vocabulary's own words.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Taxonomy;
use super::cues::Cue;
use crate::domain::Topic;
use crate::text::{Analyzers, TextLanguage};

/// A topic found in a text, with how strongly and through which terms.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicEvidence {
    pub topic: Topic,
    /// Sum of the weights of the distinct terms found: 1 per word of a matched phrase,
    /// halved for matches that needed a typo correction.
    pub strength: f32,
    /// The vocabulary terms found, as written in `topics.toml`.
    pub terms: Vec<String>,
    /// True when every match needed a typo correction.
    pub only_through_typo_correction: bool,
    /// The languages of the terms found.
    pub languages: Vec<TextLanguage>,
}

/// Bounds on typo correction so that it stays fast and does not invent words.
#[derive(Clone, Copy, Debug)]
pub struct TypoLimits {
    pub shortest_word: usize,
    pub longest_word: usize,
    /// Words of at least this many characters may be two edits away; shorter ones one.
    pub two_edits_from: usize,
    pub max_corrected_words: usize,
}

impl Default for TypoLimits {
    fn default() -> Self {
        TypoLimits {
            shortest_word: 4,
            longest_word: 30,
            two_edits_from: 12,
            max_corrected_words: 8,
        }
    }
}

struct Phrase {
    topic: Topic,
    language: TextLanguage,
    stems: Vec<String>,
    text: String,
    /// 1 for a term of `topics.toml`, `CUE_WEIGHT` for an everyday cue.
    weight: f32,
}

/// How much an everyday cue counts against a term of the taxonomy.
pub const CUE_WEIGHT: f32 = 0.5;

pub struct TopicMatcher {
    phrases: Vec<Phrase>,
    by_first_stem: HashMap<TextLanguage, HashMap<String, Vec<usize>>>,
    /// Folded vocabulary words, bucketed by first character, for typo correction (acronyms
    /// left out: "need" must not become "NEET").
    words_by_initial: HashMap<char, Vec<CorrectableWord>>,
    known_words: HashSet<String>,
    /// Folded one-word German terms that can start or end a compound ("Beteiligung" in
    /// "Beteiligungsabend", "Hochwasser" in "Hochwasserrisikomanagement").
    compound_parts: CompoundParts,
    limits: TypoLimits,
}

/// A vocabulary word a typo may be corrected to, with what rules it out cheaply.
struct CorrectableWord {
    word: String,
    length: usize,
    letters: LetterCounts,
}

/// How often each letter occurs in a word, letters sharing a bucket by their code point's
/// last five bits. One edit changes the counts by at most 2 in all (a substitution takes one
/// from a bucket and adds one to another, an insertion or deletion changes one, a
/// transposition none), so half the difference of two words' counts is a lower bound of
/// their Damerau–Levenshtein distance, found without building the distance's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LetterCounts([u8; 32]);

impl LetterCounts {
    fn of(word: &str) -> LetterCounts {
        let mut counts = [0u8; 32];
        for character in word.chars() {
            let bucket = &mut counts[(u32::from(character) & 31) as usize];
            *bucket = bucket.saturating_add(1);
        }
        LetterCounts(counts)
    }

    /// At most the Damerau–Levenshtein distance between the two words counted.
    fn fewest_edits_to(&self, other: &LetterCounts) -> usize {
        let difference: usize = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(left, right)| usize::from(left.abs_diff(*right)))
            .sum();
        difference.div_ceil(2)
    }
}

/// Shortest German term used as part of a compound, and shortest word split as a compound.
const SHORTEST_COMPOUND_PART: usize = 6;
const SHORTEST_COMPOUND: usize = 10;

fn is_acronym(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|character| character.is_alphabetic()).collect();
    letters.len() >= 2 && letters.iter().all(|character| character.is_uppercase())
}

impl TopicMatcher {
    pub fn build(taxonomy: &Taxonomy, cues: &[Cue], analyzers: &Analyzers) -> TopicMatcher {
        let mut phrases = Vec::new();
        let mut by_first_stem: HashMap<TextLanguage, HashMap<String, Vec<usize>>> = HashMap::new();
        let mut known_words = HashSet::new();
        let mut correctable_words = HashSet::new();
        let mut compound_parts = CompoundParts::default();
        for entry in taxonomy.entries() {
            let label_texts = entry.labels.iter().filter_map(|(code, label)| {
                TextLanguage::from_code(code)
                    .filter(|language| *language != TextLanguage::Other)
                    .map(|language| (language, label.clone()))
            });
            let cue_texts = cues
                .iter()
                .filter(|cue| cue.topic == entry.topic)
                .map(|cue| (cue.language, cue.text.clone(), CUE_WEIGHT));
            let phrases_of_entry = entry
                .terms
                .iter()
                .cloned()
                .chain(label_texts)
                .map(|(language, text)| (language, text, 1.0))
                .chain(cue_texts);
            for (language, text, weight) in phrases_of_entry {
                let stems: Vec<String> = analyzers
                    .stemmed(language, &text)
                    .into_iter()
                    .map(|token| token.term)
                    .collect();
                let Some(first) = stems.first().cloned() else { continue };
                let folded = analyzers.folded(&text);
                for token in &folded {
                    known_words.insert(token.term.clone());
                    // Typos are corrected towards the taxonomy's own words only: the everyday
                    // cues are many and loose, and would pull "flod" to "flog".
                    if weight >= 1.0 && !is_acronym(&text[token.start..token.end]) {
                        correctable_words.insert(token.term.clone());
                    }
                }
                // A phrase that stop words shrink to one word would fire on that word alone
                // ("municipal IT" on every "municipal"): leave it out.
                if folded.len() >= 2 && stems.len() == 1 {
                    continue;
                }
                let is_compound_part = weight >= 1.0
                    && language == TextLanguage::German
                    && folded.len() == 1
                    && folded[0].term.chars().count() >= SHORTEST_COMPOUND_PART;
                if is_compound_part {
                    compound_parts.add(folded[0].term.clone(), entry.topic, text.clone());
                }
                let duplicate = by_first_stem
                    .get(&language)
                    .and_then(|by_stem| by_stem.get(first.as_str()))
                    .is_some_and(|candidates| {
                        candidates
                            .iter()
                            .any(|&index| phrases_equal(&phrases[index], entry.topic, &stems))
                    });
                if duplicate {
                    continue;
                }
                by_first_stem
                    .entry(language)
                    .or_default()
                    .entry(first)
                    .or_default()
                    .push(phrases.len());
                phrases.push(Phrase {
                    topic: entry.topic,
                    language,
                    stems,
                    text,
                    weight,
                });
            }
        }
        let mut words_by_initial: HashMap<char, Vec<CorrectableWord>> = HashMap::new();
        for word in &correctable_words {
            if let Some(initial) = word.chars().next() {
                words_by_initial.entry(initial).or_default().push(CorrectableWord {
                    word: word.clone(),
                    length: word.chars().count(),
                    letters: LetterCounts::of(word),
                });
            }
        }
        for words in words_by_initial.values_mut() {
            words.sort_by(|left, right| left.word.cmp(&right.word));
        }
        TopicMatcher {
            phrases,
            by_first_stem,
            words_by_initial,
            known_words,
            compound_parts,
            limits: TypoLimits::default(),
        }
    }

    /// Number of distinct phrases, for diagnostics.
    pub fn phrase_count(&self) -> usize {
        self.phrases.len()
    }

    /// Whether a folded word appears in some vocabulary term.
    pub fn knows_word(&self, folded_word: &str) -> bool {
        self.known_words.contains(folded_word)
    }

    /// Topics mentioned by `text`, read in each of `languages`, strongest first.
    pub fn detect(&self, analyzers: &Analyzers, text: &str, languages: &[TextLanguage]) -> Vec<TopicEvidence> {
        let mut found: BTreeMap<Topic, Found> = BTreeMap::new();
        self.collect_matches(analyzers, text, languages, 1.0, &mut found);
        into_sorted_evidence(found, &HashSet::new())
    }

    /// Like `detect`, and also tries typo corrections of words that neither the vocabulary nor
    /// `is_known_word` (e.g. the search index) knows. Matches that needed a correction weigh half.
    pub fn detect_with_typos(
        &self,
        analyzers: &Analyzers,
        text: &str,
        languages: &[TextLanguage],
        is_known_word: &dyn Fn(&str) -> bool,
    ) -> Vec<TopicEvidence> {
        let mut found: BTreeMap<Topic, Found> = BTreeMap::new();
        self.collect_matches(analyzers, text, languages, 1.0, &mut found);
        let exact_topics: HashSet<Topic> = found.keys().copied().collect();
        if let Some(corrected) = self.corrected_text(analyzers, text, is_known_word) {
            let mut through_corrections = BTreeMap::new();
            self.collect_matches(analyzers, &corrected, languages, 0.5, &mut through_corrections);
            for (topic, corrected) in through_corrections {
                let entry = found.entry(topic).or_default();
                for (term, weight) in corrected.terms.into_iter().zip(corrected.term_weights) {
                    if !entry.terms.contains(&term) {
                        entry.weight += weight;
                        entry.terms.push(term);
                        entry.term_weights.push(weight);
                    }
                }
                for language in corrected.languages {
                    if !entry.languages.contains(&language) {
                        entry.languages.push(language);
                    }
                }
            }
        }
        let only_through_corrections: HashSet<Topic> = found
            .keys()
            .filter(|topic| !exact_topics.contains(topic))
            .copied()
            .collect();
        into_sorted_evidence(found, &only_through_corrections)
    }

    /// The text with unknown words replaced by their closest vocabulary word, or `None` when
    /// nothing was corrected.
    pub fn corrected_text(
        &self,
        analyzers: &Analyzers,
        text: &str,
        is_known_word: &dyn Fn(&str) -> bool,
    ) -> Option<String> {
        let mut corrected = String::with_capacity(text.len());
        let mut last_end = 0;
        let mut corrections = 0;
        let mut attempts = 0;
        for token in analyzers.folded(text) {
            if corrections >= self.limits.max_corrected_words || attempts >= self.limits.max_corrected_words * 3 {
                break;
            }
            let length = token.term.chars().count();
            if length < self.limits.shortest_word || !token.term.chars().all(char::is_alphabetic) {
                continue;
            }
            if self.known_words.contains(&token.term)
                || is_known_word(&token.term)
                || analyzers.is_stop_word_anywhere(&token.term)
            {
                continue;
            }
            attempts += 1;
            let Some(replacement) = self.closest_word(&token.term) else {
                continue;
            };
            corrected.push_str(&text[last_end..token.start]);
            corrected.push_str(replacement);
            last_end = token.end;
            corrections += 1;
        }
        if corrections == 0 {
            return None;
        }
        corrected.push_str(&text[last_end..]);
        Some(corrected)
    }

    /// The vocabulary word closest to a folded word, within the typo limits.
    pub fn closest_word(&self, folded_word: &str) -> Option<&str> {
        let length = folded_word.chars().count();
        if length < self.limits.shortest_word || length > self.limits.longest_word {
            return None;
        }
        let max_edits = if length >= self.limits.two_edits_from { 2 } else { 1 };
        let initial = folded_word.chars().next()?;
        let candidates = self.words_by_initial.get(&initial)?;
        let letters = LetterCounts::of(folded_word);
        let mut best: Option<(usize, &str)> = None;
        for candidate in candidates {
            if candidate.length.abs_diff(length) > max_edits
                || candidate.length < self.limits.shortest_word
                || letters.fewest_edits_to(&candidate.letters) > max_edits
            {
                continue;
            }
            let distance = strsim::damerau_levenshtein(folded_word, &candidate.word);
            if distance == 0 || distance > max_edits {
                continue;
            }
            if best.is_none_or(|(best_distance, _)| distance < best_distance) {
                best = Some((distance, candidate.word.as_str()));
            }
        }
        best.map(|(_, word)| word)
    }

    fn collect_matches(
        &self,
        analyzers: &Analyzers,
        text: &str,
        languages: &[TextLanguage],
        weight_factor: f32,
        found: &mut BTreeMap<Topic, Found>,
    ) {
        if languages.contains(&TextLanguage::German) {
            self.collect_compound_matches(analyzers, text, weight_factor, found);
        }
        for &language in languages {
            let stems: Vec<String> = analyzers
                .stemmed(language, text)
                .into_iter()
                .map(|token| token.term)
                .collect();
            for start in 0..stems.len() {
                let Some(candidates) = self
                    .by_first_stem
                    .get(&language)
                    .and_then(|by_stem| by_stem.get(stems[start].as_str()))
                else {
                    continue;
                };
                for &phrase_index in candidates {
                    let phrase = &self.phrases[phrase_index];
                    let Some(closeness) = phrase_occurs_at(&phrase.stems, &stems[start..]) else {
                        continue;
                    };
                    let entry = found.entry(phrase.topic).or_default();
                    if !entry.terms.contains(&phrase.text) {
                        let weight = weight_of_term(&phrase.text) * phrase.weight * weight_factor * closeness;
                        entry.weight += weight;
                        entry.terms.push(phrase.text.clone());
                        entry.term_weights.push(weight);
                    }
                    if !entry.languages.contains(&phrase.language) {
                        entry.languages.push(phrase.language);
                    }
                }
            }
        }
    }
}

/// What was found for one topic: weight, terms, and the languages of those terms.
#[derive(Default)]
struct Found {
    weight: f32,
    terms: Vec<String>,
    /// The weight each term added.
    term_weights: Vec<f32>,
    languages: Vec<TextLanguage>,
}

impl TopicMatcher {
    /// German compounds whose first or last part is a one-word German term; such a match
    /// weighs three quarters of a term.
    fn collect_compound_matches(
        &self,
        analyzers: &Analyzers,
        text: &str,
        weight_factor: f32,
        found: &mut BTreeMap<Topic, Found>,
    ) {
        for token in analyzers.folded(text) {
            let word = &token.term;
            if word.chars().count() < SHORTEST_COMPOUND || self.known_words.contains(word) {
                continue;
            }
            for CompoundPart { topic, term, .. } in self.compound_parts.in_word(word) {
                let entry = found.entry(*topic).or_default();
                if !entry.terms.contains(term) {
                    entry.weight += 0.75 * weight_factor;
                    entry.terms.push(term.clone());
                    entry.term_weights.push(0.75 * weight_factor);
                }
                if !entry.languages.contains(&TextLanguage::German) {
                    entry.languages.push(TextLanguage::German);
                }
            }
        }
    }
}

/// A one-word German term that may start or end a compound, folded, with its topic and the
/// term as written.
struct CompoundPart {
    part: String,
    topic: Topic,
    term: String,
}

/// The compound parts, found by a word's first and last `SHORTEST_COMPOUND_PART` characters
/// rather than by comparing the word with every part.
#[derive(Default)]
struct CompoundParts {
    parts: Vec<CompoundPart>,
    by_head: HashMap<String, Vec<usize>>,
    by_tail: HashMap<String, Vec<usize>>,
}

impl CompoundParts {
    /// Adds a part of at least `SHORTEST_COMPOUND_PART` characters (shorter ones are ignored).
    fn add(&mut self, part: String, topic: Topic, term: String) {
        let (Some(head), Some(tail)) = (head_key(&part), tail_key(&part)) else {
            return;
        };
        let index = self.parts.len();
        self.by_head.entry(head.to_string()).or_default().push(index);
        self.by_tail.entry(tail.to_string()).or_default().push(index);
        self.parts.push(CompoundPart { part, topic, term });
    }

    /// The parts `word` starts or ends with, leaving at least three more bytes, in the order
    /// they were added.
    fn in_word(&self, word: &str) -> impl Iterator<Item = &CompoundPart> {
        let mut candidates: Vec<usize> = [(&self.by_head, head_key(word)), (&self.by_tail, tail_key(word))]
            .into_iter()
            .filter_map(|(map, key)| map.get(key?))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|index| &self.parts[index])
            .filter(|candidate| {
                let part = candidate.part.as_str();
                word.len() >= part.len() + 3 && (word.starts_with(part) || word.ends_with(part))
            })
    }
}

/// The first `SHORTEST_COMPOUND_PART` characters of a word, if it has that many.
fn head_key(word: &str) -> Option<&str> {
    let end = word
        .char_indices()
        .nth(SHORTEST_COMPOUND_PART)
        .map_or(word.len(), |(end, _)| end);
    (word.chars().count() >= SHORTEST_COMPOUND_PART).then(|| &word[..end])
}

/// The last `SHORTEST_COMPOUND_PART` characters of a word, if it has that many.
fn tail_key(word: &str) -> Option<&str> {
    let start = word.char_indices().rev().nth(SHORTEST_COMPOUND_PART - 1)?.0;
    Some(&word[start..])
}

/// How many other words may stand between two words of a phrase that still counts, loosely
/// ("rues plongées dans le noir" says "rues dans le noir").
const MOST_WORDS_BETWEEN: usize = 1;
/// What a phrase found with words between its own counts, against 1 for an exact occurrence.
const LOOSE_OCCURRENCE: f32 = 0.6;

/// Whether `phrase` occurs at the start of `stems`: 1 when its words follow each other, the
/// loose factor when other words stand between them (at most `MOST_WORDS_BETWEEN` each time).
fn phrase_occurs_at(phrase: &[String], stems: &[String]) -> Option<f32> {
    if stems.get(..phrase.len()) == Some(phrase) {
        return Some(1.0);
    }
    let (first, rest) = phrase.split_first()?;
    if rest.is_empty() || stems.first() != Some(first) {
        return None;
    }
    let mut position = 0;
    for stem in rest {
        let mut window = stems.get(position + 1..)?.iter().take(MOST_WORDS_BETWEEN + 1);
        position += 1 + window.position(|candidate| candidate == stem)?;
    }
    Some(LOOSE_OCCURRENCE)
}

fn phrases_equal(phrase: &Phrase, topic: Topic, stems: &[String]) -> bool {
    phrase.topic == topic && phrase.stems == stems
}

/// A multi-word term is a more specific signal than a single word.
fn weight_of_term(term: &str) -> f32 {
    let words = term.split_whitespace().count().max(1);
    1.0 + 0.5 * (words as f32 - 1.0).min(2.0)
}

fn into_sorted_evidence(
    found: BTreeMap<Topic, Found>,
    only_through_corrections: &HashSet<Topic>,
) -> Vec<TopicEvidence> {
    let mut evidence: Vec<TopicEvidence> = found
        .into_iter()
        .map(|(topic, found)| TopicEvidence {
            topic,
            strength: found.weight,
            terms: found.terms,
            only_through_typo_correction: only_through_corrections.contains(&topic),
            languages: found.languages,
        })
        .collect();
    evidence.sort_by(|left, right| {
        right
            .strength
            .total_cmp(&left.strength)
            .then(left.topic.cmp(&right.topic))
    });
    evidence
}

impl TopicMatcher {
    /// Byte ranges in `text` (read as `language`) where terms of `topics` occur.
    pub fn spans_of_topics(
        &self,
        analyzers: &Analyzers,
        text: &str,
        language: TextLanguage,
        topics: &[Topic],
    ) -> Vec<(usize, usize)> {
        if topics.is_empty() {
            return Vec::new();
        }
        self.spans_of_topics_in(&analyzers.stemmed(language, text), language, topics)
    }

    /// Like `spans_of_topics`, on a text's stemmed tokens.
    pub fn spans_of_topics_in(
        &self,
        tokens: &[crate::text::Token],
        language: TextLanguage,
        topics: &[Topic],
    ) -> Vec<(usize, usize)> {
        if topics.is_empty() {
            return Vec::new();
        }
        let mut spans = Vec::new();
        for start in 0..tokens.len() {
            let Some(candidates) = self
                .by_first_stem
                .get(&language)
                .and_then(|by_stem| by_stem.get(tokens[start].term.as_str()))
            else {
                continue;
            };
            for &phrase_index in candidates {
                let phrase = &self.phrases[phrase_index];
                let end = start + phrase.stems.len();
                if !topics.contains(&phrase.topic) || end > tokens.len() {
                    continue;
                }
                let matches = tokens[start..end]
                    .iter()
                    .zip(&phrase.stems)
                    .all(|(token, stem)| &token.term == stem);
                if matches {
                    spans.push((tokens[start].start, tokens[end - 1].end));
                }
            }
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn check(phrase: &str, text: &str, expected: Option<f32>) {
        assert_eq!(
            phrase_occurs_at(&stems(phrase), &stems(text)),
            expected,
            "{phrase:?} in {text:?}"
        );
    }

    #[test]
    fn a_compound_part_is_found_at_the_start_or_end_of_a_longer_word() {
        let mut parts = CompoundParts::default();
        parts.add("hochwasser".into(), Topic::FloodRisk, "Hochwasser".into());
        parts.add("beteiligung".into(), Topic::Participation, "Beteiligung".into());
        parts.add("wasser".into(), Topic::Water, "Wasser".into());
        parts.add("kurz".into(), Topic::Water, "kurz".into());
        let check = |word: &str, expected: &[&str]| {
            let found: Vec<&str> = parts.in_word(word).map(|part| part.term.as_str()).collect();
            assert_eq!(found, expected, "{word}");
        };
        check("hochwasserrisikomanagement", &["Hochwasser"]);
        check("burgerbeteiligung", &["Beteiligung"]);
        check("beteiligungsabend", &["Beteiligung"]);
        // Head and tail both, in the order the parts were added.
        check("hochwasserbeteiligung", &["Hochwasser", "Beteiligung"]);
        check("trinkwasser", &["Wasser"]);
        // At least three more letters than the part; parts shorter than six letters are left out.
        check("hochwasserx", &[]);
        check("kurzstrecken", &[]);
        check("abwasserbeteiligungen", &[]);
        check("grünwasser", &["Wasser"]);
        check("", &[]);
    }

    #[test]
    fn a_phrase_occurs_exactly_or_loosely_at_the_start() {
        check("rue noir", "rue noir nuit", Some(1.0));
        check("rue noir", "rue plong noir nuit", Some(LOOSE_OCCURRENCE));
        check("rue noir", "rue plong dan noir", None);
        check("rue noir", "noir rue", None);
        check("rue noir", "rue", None);
        check("a b c", "a x b x c", Some(LOOSE_OCCURRENCE));
        check("a b c", "a x x b c", None);
        check("sperrmull", "sperrmull", Some(1.0));
        check("sperrmull", "sperr mull", None);
    }

    #[test]
    fn words_between_a_cue_s_words_still_read_as_its_topic_but_weigh_less() {
        let analyzers = Analyzers::new();
        let vocabulary = crate::vocab::Vocabulary::built_in(&analyzers).expect("vocabulary");
        let strength = |text: &str| {
            vocabulary
                .matcher
                .detect(&analyzers, text, &[TextLanguage::French])
                .into_iter()
                .find(|found| found.topic == Topic::Energy)
                .map(|found| found.strength)
        };
        let exact = strength("les rues dans le noir").expect("the cue as written");
        let loose = strength("les rues plongées dans le noir").expect("with a word between");
        assert!(loose < exact, "{loose} < {exact}");
    }

    #[test]
    fn letter_counts_bound_the_edits_from_below() {
        let check = |left: &str, right: &str, expected: usize| {
            assert_eq!(
                LetterCounts::of(left).fewest_edits_to(&LetterCounts::of(right)),
                expected,
                "{left} → {right}"
            );
        };
        check("flood", "flood", 0);
        check("flood", "flodo", 0);
        check("flood", "floor", 1);
        check("flood", "floods", 1);
        check("drainage", "drianage", 0);
        check("budget", "budgte", 0);
        check("inundacion", "inundação", 2);
    }

    proptest::proptest! {
        #[test]
        fn letter_counts_never_rule_out_a_word_within_reach(left in "[a-zäöüçãé]{0,12}", right in "[a-zäöüçãé]{0,12}") {
            let bound = LetterCounts::of(&left).fewest_edits_to(&LetterCounts::of(&right));
            proptest::prop_assert!(bound <= strsim::damerau_levenshtein(&left, &right));
        }
    }
}
