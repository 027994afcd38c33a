//! Match retrieval answered from the per-segment tables instead of posting lists: hard
//! filters with place preferences (`RowFilter`) and topic clauses (`TopicClauses`),
//! combined with the text's scores by `best_by_rows` (match candidates, relevant cases, the
//! reading's feedback). Intersecting filter postings with a wide union made tantivy seek the
//! union for every published document, and each topic clause was one more posting list for
//! the union to merge; the tables' bits per topic and a verdict per facet profile answer
//! both.

use std::ops::Range;

use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, Term};

use super::SearchError;
use super::query::TopicClauseWeights;
use super::segments::{FacetProfile, MAX_REGION_CODES, MAX_TOPIC_CODES, SegmentTable, SegmentTables};
use super::text_matches::TextMatches;
use crate::domain::Topic;
use crate::in_two::{self, split_in_two};

/// What a document's row must hold, and what earns it a boost. Codes are the index's: status
/// codes, two-letter codes of languages and countries, region codes.
#[derive(Clone, Debug, Default)]
pub struct RowFilter {
    pub status: Option<u8>,
    pub available_only: bool,
    /// At least one of these languages, when not empty.
    pub languages: Vec<u16>,
    pub exclude_city_key: Option<u64>,
    /// Preferred region codes as a mask (`region_mask`).
    pub prefer_regions: u64,
    pub prefer_countries: Vec<u16>,
    /// Added once for a preferred region and once for a preferred country.
    pub preference_boost: Score,
}

impl RowFilter {
    fn passes(&self, table: &SegmentTable, doc: DocId) -> bool {
        let row = table.row(doc);
        self.status.is_none_or(|status| row.status == status)
            && (!self.available_only || row.available)
            && self.exclude_city_key.is_none_or(|city| row.city_key != city)
            && (self.languages.is_empty() || table.languages(doc).iter().any(|code| self.languages.contains(code)))
    }

    /// What the filter makes of the documents of a facet profile, their city apart: `None`
    /// when they fail, else what their places add.
    fn judge(&self, profile: &FacetProfile) -> Option<Score> {
        let passes = self.status.is_none_or(|status| profile.status == status)
            && (!self.available_only || profile.available)
            && (self.languages.is_empty() || profile.languages.iter().any(|code| self.languages.contains(code)));
        passes.then(|| {
            let mut boost = 0.0;
            if profile.regions & self.prefer_regions != 0 {
                boost += self.preference_boost;
            }
            if self.prefer_countries.contains(&profile.country) {
                boost += self.preference_boost;
            }
            boost
        })
    }

    /// The documents of a segment that speak one of the languages asked for, as one bit
    /// array per language (`SegmentTable::language_docs`); `None` when any language will do.
    fn language_docs<'t>(&self, table: &'t SegmentTable) -> Option<Vec<&'t [u64]>> {
        (!self.languages.is_empty()).then(|| self.languages.iter().map(|code| table.language_docs(*code)).collect())
    }

    /// The documents of a segment the filter leaves out by their city, in address order.
    fn excluded_docs<'t>(&self, table: &'t SegmentTable) -> &'t [DocId] {
        self.exclude_city_key.map_or(&[], |city| table.docs_in_city(city))
    }

    /// The most `boost` adds.
    fn most_boost(&self) -> Score {
        let region = if self.prefer_regions != 0 {
            self.preference_boost
        } else {
            0.0
        };
        let country = if self.prefer_countries.is_empty() {
            0.0
        } else {
            self.preference_boost
        };
        region + country
    }
}

/// Region codes as the mask the rows hold.
pub fn region_mask(codes: &[u64]) -> u64 {
    codes
        .iter()
        .filter(|code| **code < MAX_REGION_CODES)
        .fold(0u64, |mask, code| mask | (1 << code))
}

/// Which mask of a row a topic clause reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TopicField {
    Tagged,
    InferredStrong,
    InferredWeak,
    AreaTags,
}

/// Constant-score topic clauses — tagged with a topic, inferred from the text (strongly or
/// weakly), or tagged with its area — each adding its weight when the row holds its code.
#[derive(Clone, Debug, Default)]
pub struct TopicClauses {
    /// Per field and code, the sum of the weights of the clauses reading it.
    weights: [[f32; MAX_TOPIC_CODES as usize]; 4],
    /// Per field, every code a clause reads: a row holding none of them scores nothing.
    any: [u32; 4],
}

impl TopicClauses {
    /// Adds the clauses of `topics` under `weights`: a zero weight adds no clause, an area
    /// is read as tagged only, and each area's "area tagged" clause is added once.
    pub fn add(&mut self, topics: &[Topic], weights: &TopicClauseWeights) {
        let mut areas_added = Vec::new();
        for topic in topics {
            self.clause(TopicField::Tagged, *topic, weights.tagged);
            if topic.is_area() {
                continue;
            }
            self.clause(TopicField::InferredStrong, *topic, weights.inferred_strong);
            self.clause(TopicField::InferredWeak, *topic, weights.inferred_weak);
            if !areas_added.contains(&topic.area()) {
                areas_added.push(topic.area());
                self.clause(TopicField::AreaTags, topic.area(), weights.area_only);
            }
        }
    }

    fn clause(&mut self, field: TopicField, topic: Topic, weight: f32) {
        let code = topic.code();
        if weight <= 0.0 || code >= MAX_TOPIC_CODES {
            return;
        }
        self.weights[field as usize][code as usize] += weight;
        self.any[field as usize] |= 1 << code;
    }

    pub fn is_empty(&self) -> bool {
        self.any.iter().all(|mask| *mask == 0)
    }

    /// Every clause as (mask index in `TopicMasks` order, code, weight), lightest first.
    fn clauses(&self) -> Vec<(usize, u32, f32)> {
        let mut clauses = Vec::new();
        for (mask, any) in self.any.iter().enumerate() {
            let mut held = *any;
            while held != 0 {
                let code = held.trailing_zeros();
                held &= held - 1;
                clauses.push((mask, code, self.weights[mask][code as usize]));
            }
        }
        clauses.sort_by(|left, right| left.2.total_cmp(&right.2));
        clauses
    }
}

/// The best `keep` documents whose row passes `filter` and that the text or a topic clause
/// matches, scored as text score + topic clauses + place preferences: what `TopDocs` over
/// `filter` AND (text OR the topic clauses as constant-score term queries) answers. Per
/// segment, the documents the text matches (scored once per request, `TextMatches`) or a
/// topic clause holds are visited in address order (`Walk`). A request answered alone walks
/// the segments' words in two halves, one on another thread (`split_in_two`), each into its
/// own best, which are then merged: the best of all is the best of the two bests.
pub fn best_by_rows(
    text: &TextMatches,
    tables: &SegmentTables,
    topics: &TopicClauses,
    filter: &RowFilter,
    keep: usize,
) -> Result<Vec<(Score, DocAddress)>, SearchError> {
    let searcher = text.searcher();
    let tables = tables.for_searcher(searcher)?;
    let clauses = topics.clauses();
    let weights: Vec<Score> = clauses.iter().map(|(_, _, weight)| *weight).collect();
    let segments: Vec<SegmentToWalk<'_>> = searcher
        .segment_readers()
        .iter()
        .zip(&tables)
        .enumerate()
        .map(|(ord, (reader, table))| SegmentToWalk {
            segment_ord: u32::try_from(ord).unwrap_or(u32::MAX),
            reader,
            table,
            text_scores: text.in_segment(ord),
            clause_bits: ClauseBits {
                weights: &weights,
                docs: clauses
                    .iter()
                    .map(|(mask, code, _)| table.topic_docs(*mask, *code))
                    .collect(),
            },
        })
        .collect();
    let max_docs: Vec<DocId> = segments.iter().map(|segment| segment.reader.max_doc()).collect();
    let mut parts = if in_two::answered_alone() {
        walk_in_halves(&max_docs)
    } else {
        vec![walk_whole(&max_docs)]
    };
    // A segment of one word has no second half: no thread is woken for nothing.
    parts.retain(|part| !part.is_empty());
    let bests = split_in_two(&parts, part_words, |part| {
        // One `Top` for a part's segments: a later segment's documents must beat the best
        // of the earlier ones, so its walk starts with a floor.
        let mut top = Top::new(keep);
        for (segment, words) in part {
            segments[*segment].walk(words.clone(), filter, &mut top);
        }
        top.into_best()
    });
    let mut best: Vec<(Score, DocAddress)> = best_of(bests, keep)
        .into_iter()
        .map(|Scored(score, address)| (score, address))
        .collect();
    best.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
    Ok(best)
}

/// What a walk reads of one segment.
struct SegmentToWalk<'a> {
    segment_ord: u32,
    reader: &'a SegmentReader,
    table: &'a SegmentTable,
    text_scores: &'a [Score],
    clause_bits: ClauseBits<'a>,
}

impl SegmentToWalk<'_> {
    /// Walks the segment's `words` (of 64 documents) into `top`.
    fn walk(&self, words: Range<usize>, filter: &RowFilter, top: &mut Top) {
        let mut verdicts = ProfileVerdicts::new(filter, self.table);
        let excluded = filter.excluded_docs(self.table);
        let reader = self.reader;
        let admit = Admission {
            boost: |doc: DocId| verdicts.boost(doc),
            confirms: |doc: DocId| !reader.is_deleted(doc) && excluded.binary_search(&doc).is_err(),
        };
        let speaking = filter.language_docs(self.table);
        let mut walk = Walk::new(
            self.segment_ord,
            self.text_scores,
            &self.clause_bits,
            top,
            filter.most_boost(),
        );
        walk.visit(words, speaking.as_deref(), admit);
    }
}

/// Part of a walk: per segment (by position), a range of its words of 64 documents.
type WalkPart = Vec<(usize, Range<usize>)>;

/// Every word of every segment, in order.
fn walk_whole(max_docs: &[DocId]) -> WalkPart {
    max_docs
        .iter()
        .enumerate()
        .map(|(segment, max_doc)| (segment, 0..(*max_doc as usize).div_ceil(64)))
        .collect()
}

/// Every word of every segment in two parts of about as many words, in order: the first
/// part ends, and the second begins, in the middle of the segment where half the words are
/// reached.
fn walk_in_halves(max_docs: &[DocId]) -> Vec<WalkPart> {
    let whole = walk_whole(max_docs);
    let mut left = whole.iter().map(|(_, words)| words.len()).sum::<usize>().div_ceil(2);
    let (mut first, mut second) = (WalkPart::new(), WalkPart::new());
    for (segment, words) in whole {
        let taken = words.len().min(left);
        left -= taken;
        if taken > 0 {
            first.push((segment, words.start..words.start + taken));
        }
        if taken < words.len() {
            second.push((segment, words.start + taken..words.end));
        }
    }
    vec![first, second]
}

/// How many words a part walks.
fn part_words(part: &WalkPart) -> u64 {
    part.iter().map(|(_, words)| words.len() as u64).sum()
}

/// The best `keep` of several bests.
fn best_of(bests: Vec<Vec<Scored>>, keep: usize) -> Vec<Scored> {
    let mut all: Vec<Scored> = bests.into_iter().flatten().collect();
    if all.len() > keep {
        all.select_nth_unstable_by(keep.saturating_sub(1), |left, right| right.cmp(left));
        all.truncate(keep);
    }
    all
}

/// What a filter makes of the documents of a segment by their facet profile (`judge`), each
/// profile judged the first time one of its documents is asked about: a segment holds
/// thousands of profiles, and a walk asks about a few of them.
struct ProfileVerdicts<'a> {
    filter: &'a RowFilter,
    table: &'a SegmentTable,
    /// Per profile: not judged yet (NaN), failing (negative), or what its places add.
    verdicts: Vec<Score>,
}

impl<'a> ProfileVerdicts<'a> {
    fn new(filter: &'a RowFilter, table: &'a SegmentTable) -> ProfileVerdicts<'a> {
        ProfileVerdicts {
            filter,
            table,
            verdicts: vec![Score::NAN; table.profiles().len()],
        }
    }

    /// What the places of `doc` add, or `None` when its profile fails the filter.
    fn boost(&mut self, doc: DocId) -> Option<Score> {
        let profile = self.table.profile_of(doc);
        let verdict = self.verdicts.get_mut(profile)?;
        if verdict.is_nan() {
            *verdict = self
                .table
                .profiles()
                .get(profile)
                .and_then(|profile| self.filter.judge(profile))
                .unwrap_or(-1.0);
        }
        (*verdict >= 0.0).then_some(*verdict)
    }
}

/// How the walk admits a document: what its places add (`None` when its facet profile fails
/// the filter), and, read only for a document that would enter the best, whether it is live
/// and passes what its profile does not tell (the excluded city).
struct Admission<B, C> {
    boost: B,
    confirms: C,
}

/// A segment's topic clauses: each one's weight, lightest first, and the documents it holds
/// as bits, 64 per word (`SegmentTable::topic_docs`).
struct ClauseBits<'a> {
    weights: &'a [Score],
    docs: Vec<&'a [u64]>,
}

/// One segment's walk for `best_by_rows`, into the best of every segment walked so far
/// (`Top`). Documents are visited in address order, a word of 64 at a time: those a topic
/// clause holds, and those whose text score could still carry them in. Once `Top` has a
/// floor, a clause whose weight, with every lighter one's and the most the places add,
/// cannot beat it is no longer read: a document that only lighter clauses hold cannot enter
/// (MaxScore's split into essential clauses), and of the others only those whose text
/// scores with all of that beat the floor are visited. A document's topic score comes from
/// the clauses' bits; its facet profile is judged (`admit`) only when its score with the
/// most the places add beats the floor (a word's documents compared with it together,
/// `could_beat`), and its liveness and city only when it would enter.
struct Walk<'a, 't> {
    segment_ord: u32,
    /// The text's score of each document of the segment, by id (`TextMatches`).
    text_scores: &'a [Score],
    clauses: &'a ClauseBits<'a>,
    /// `up_to[k]`: the most the `k` lightest clauses add together.
    up_to: Vec<Score>,
    most_boost: Score,
    top: &'t mut Top,
    /// The clauses from this one on are essential.
    essential_from: usize,
}

impl<'a, 't> Walk<'a, 't> {
    fn new(
        segment_ord: u32,
        text_scores: &'a [Score],
        clauses: &'a ClauseBits<'a>,
        top: &'t mut Top,
        most_boost: Score,
    ) -> Walk<'a, 't> {
        let up_to = std::iter::once(0.0)
            .chain(clauses.weights.iter().scan(0.0, |sum: &mut Score, weight| {
                *sum += weight;
                Some(*sum)
            }))
            .collect();
        let mut walk = Walk {
            segment_ord,
            text_scores,
            clauses,
            up_to,
            most_boost,
            top,
            essential_from: 0,
        };
        walk.skip_clauses_below_the_floor();
        walk
    }

    /// Drops from the essential clauses those that, with every lighter one's and the most
    /// the places add, cannot beat the floor.
    fn skip_clauses_below_the_floor(&mut self) {
        while self.essential_from < self.clauses.weights.len()
            && self.up_to[self.essential_from + 1] + self.most_boost <= self.top.worst_held
        {
            self.essential_from += 1;
        }
    }

    /// The text score above which a document no essential clause holds may still enter: the
    /// floor less what the other clauses and the places could add, a little lower for
    /// rounding (`visit_doc` checks exactly). Never below 0: a document the text does not
    /// match enters through a clause or not at all.
    fn text_needed(&self) -> Score {
        if !self.top.is_full() {
            return 0.0;
        }
        let needed = self.top.worst_held - self.up_to[self.essential_from] - self.most_boost;
        (needed - ROUNDING_MARGIN * (needed.abs() + 1.0)).max(0.0)
    }

    /// Visits the documents of the segment's `words` (of 64 documents), admitting them by
    /// `admit`. With `speaking`, only the documents one of its bit arrays holds (those that
    /// speak a language asked for, which `admit` would refuse otherwise) are scored at all.
    fn visit<B, C>(&mut self, words: Range<usize>, speaking: Option<&[&[u64]]>, mut admit: Admission<B, C>)
    where
        B: FnMut(DocId) -> Option<Score>,
        C: FnMut(DocId) -> bool,
    {
        let text_scores = self.text_scores;
        let mut held_by_clause: Vec<u64> = vec![0; self.clauses.docs.len()];
        let mut topic_scores = [0.0; 64];
        for word in words {
            let scores = word_of_scores(text_scores, word);
            for (held, docs) in held_by_clause.iter_mut().zip(&self.clauses.docs) {
                *held = docs.get(word).copied().unwrap_or(0);
            }
            let mut bits = held_by_clause[self.essential_from..]
                .iter()
                .fold(above(&scores, self.text_needed()), |bits, held| bits | held);
            if let Some(speaking) = speaking {
                bits &= speaking
                    .iter()
                    .fold(0, |any, docs| any | docs.get(word).copied().unwrap_or(0));
            }
            if bits == 0 {
                continue;
            }
            word_topic_scores(&held_by_clause, self.clauses.weights, bits, &mut topic_scores);
            if self.top.is_full() {
                bits &= could_beat(&scores, &topic_scores, self.most_boost, self.top.worst_held);
            }
            while bits != 0 {
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let doc = (word * 64 + bit) as DocId;
                self.visit_doc(doc, scores[bit], topic_scores[bit], &mut admit);
            }
        }
    }

    fn visit_doc<B, C>(&mut self, doc: DocId, text_score: Score, topic_score: Score, admit: &mut Admission<B, C>)
    where
        B: FnMut(DocId) -> Option<Score>,
        C: FnMut(DocId) -> bool,
    {
        if (text_score <= 0.0 && topic_score <= 0.0)
            || (self.top.is_full() && text_score + topic_score + self.most_boost <= self.top.worst_held)
        {
            return;
        }
        let Some(boost) = (admit.boost)(doc) else { return };
        let scored = Scored(text_score + topic_score + boost, DocAddress::new(self.segment_ord, doc));
        if !self.top.would_keep(&scored) || !(admit.confirms)(doc) {
            return;
        }
        if self.top.offer(scored) {
            self.skip_clauses_below_the_floor();
        }
    }
}

/// How much lower than the exact difference `Walk::text_needed` sets its bar, relative to
/// the scores: float subtraction may round up by an ulp or two.
const ROUNDING_MARGIN: Score = 1e-5;

/// The text scores of the `word`th 64 documents of a segment, 0 past its end.
fn word_of_scores(text_scores: &[Score], word: usize) -> [Score; 64] {
    let mut scores = [0.0; 64];
    let from = text_scores.get(word * 64..).unwrap_or(&[]);
    let length = from.len().min(64);
    scores[..length].copy_from_slice(&from[..length]);
    scores
}

/// Which of 64 scores are above `needed`, as bits.
fn above(scores: &[Score; 64], needed: Score) -> u64 {
    as_bits(&scores.map(|score| score > needed))
}

/// Which of a word's documents, with what their text, their topics and the most the places
/// add, beat `floor` (as `Walk::visit_doc` asks, before it judges a profile), as bits.
fn could_beat(text_scores: &[Score; 64], topic_scores: &[Score; 64], most_boost: Score, floor: Score) -> u64 {
    let mut beats = [false; 64];
    for ((beat, text), topic) in beats.iter_mut().zip(text_scores).zip(topic_scores) {
        *beat = text + topic + most_boost > floor;
    }
    as_bits(&beats)
}

/// 64 truths as the bits of a word, the first in the lowest. Eight at a time: their bytes
/// read as one number, multiplied so that each byte's 0 or 1 lands in the top byte at its
/// place (the products of different bytes never meet), which compilers turn into a few
/// instructions where a shift per truth would not be.
fn as_bits(truths: &[bool; 64]) -> u64 {
    const GATHER: u64 = 0x0102_0408_1020_4080;
    truths.chunks_exact(8).enumerate().fold(0, |bits, (byte, eight)| {
        let spread = eight.iter().enumerate().fold(0u64, |spread, (place, truth)| {
            spread | (u64::from(*truth) << (8 * place))
        });
        bits | ((spread.wrapping_mul(GATHER) >> 56) << (8 * byte))
    })
}

/// The best documents so far. Candidates gather in a buffer of twice `keep`,
/// cut back to the best `keep` whenever it fills (tantivy's `TopNComputer`): most
/// candidates cost a push instead of a heap's reordering.
struct Top {
    held: Vec<Scored>,
    keep: usize,
    /// The `keep`-th best at the last cut: a candidate no better cannot be among the best.
    floor: Option<Scored>,
    /// The floor's score (negative infinity before the first cut).
    worst_held: Score,
}

impl Top {
    fn new(keep: usize) -> Top {
        Top {
            held: Vec::with_capacity(keep.saturating_mul(2).min(4096)),
            keep,
            floor: None,
            worst_held: Score::NEG_INFINITY,
        }
    }

    /// Whether a floor has been set: from then on a document must beat `worst_held`.
    fn is_full(&self) -> bool {
        self.floor.is_some()
    }

    /// Whether `offer` would keep `candidate`.
    fn would_keep(&self, candidate: &Scored) -> bool {
        self.keep > 0 && self.floor.is_none_or(|floor| *candidate > floor)
    }

    /// Keeps `candidate` if it beats the floor; whether the floor was set again (it only
    /// rises).
    fn offer(&mut self, candidate: Scored) -> bool {
        if !self.would_keep(&candidate) {
            return false;
        }
        self.held.push(candidate);
        if self.held.len() < self.keep.saturating_mul(2) {
            return false;
        }
        self.cut();
        true
    }

    /// Keeps only the best `keep`, the floor becoming the worst of them.
    fn cut(&mut self) {
        if self.keep == 0 || self.held.len() <= self.keep {
            return;
        }
        self.held
            .select_nth_unstable_by(self.keep - 1, |left, right| right.cmp(left));
        self.held.truncate(self.keep);
        self.floor = self.held.last().copied();
        self.worst_held = self.floor.map_or(Score::NEG_INFINITY, |floor| floor.0);
    }

    fn into_best(mut self) -> Vec<Scored> {
        self.cut();
        self.held
    }
}

/// The topic score of each of a word's 64 documents among `wanted` into `scores` (0 for
/// the others): the weights of the clauses that hold it, one addition per clause a wanted
/// document is held by.
fn word_topic_scores(held_by_clause: &[u64], weights: &[Score], wanted: u64, scores: &mut [Score; 64]) {
    *scores = [0.0; 64];
    for (held, weight) in held_by_clause.iter().zip(weights) {
        let mut docs = held & wanted;
        while docs != 0 {
            scores[docs.trailing_zeros() as usize] += weight;
            docs &= docs - 1;
        }
    }
}

/// The live documents whose record id is one of `ids` and whose row passes `filter`, each
/// scored 0, in address order: what `TopDocs` over `filter` AND a constant-zero
/// `TermSetQuery` of the ids answers, read from the segment tables (`docs_with_id`) instead
/// of a term lookup per id and segment in the dictionaries.
pub fn docs_with_ids(
    searcher: &Searcher,
    tables: &SegmentTables,
    ids: &[String],
    filter: &RowFilter,
) -> Result<Vec<(Score, DocAddress)>, SearchError> {
    let tables = tables.for_searcher(searcher)?;
    let mut found = Vec::new();
    for ((ord, reader), table) in searcher.segment_readers().iter().enumerate().zip(&tables) {
        let segment_ord = u32::try_from(ord).unwrap_or(u32::MAX);
        for id in ids {
            for doc in table.docs_with_id(id) {
                if !reader.is_deleted(doc) && filter.passes(table, doc) {
                    found.push((0.0, DocAddress::new(segment_ord, doc)));
                }
            }
        }
    }
    found.sort_by_key(|(_, address)| *address);
    found.dedup_by_key(|(_, address)| *address);
    Ok(found)
}

/// The documents of a segment that hold `term` and are not deleted, in address order.
pub(super) fn live_docs_with_term(reader: &SegmentReader, term: &Term) -> tantivy::Result<Vec<DocId>> {
    let Some(mut postings) = reader
        .inverted_index(term.field())?
        .read_postings(term, IndexRecordOption::Basic)?
    else {
        return Ok(Vec::new());
    };
    let mut docs = Vec::new();
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if !reader.is_deleted(doc) {
            docs.push(doc);
        }
        doc = postings.advance();
    }
    Ok(docs)
}

/// Orders by score, then the earlier address first (as tantivy's `TopDocs`).
#[derive(Clone, Copy, PartialEq)]
struct Scored(Score, DocAddress);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    /// Greater is better: a higher score, or the same score at an earlier address.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::segments::TopicMasks;

    const WEIGHTS: TopicClauseWeights = TopicClauseWeights {
        tagged: 4.0,
        inferred_strong: 3.0,
        inferred_weak: 1.5,
        area_only: 1.0,
    };

    /// The weight of the clauses whose (mask, code) the masks hold.
    fn score_masks(clauses: &TopicClauses, masks: &TopicMasks) -> f32 {
        clauses
            .clauses()
            .iter()
            .filter(|(mask, code, _)| masks[*mask] & (1 << code) != 0)
            .map(|(_, _, weight)| weight)
            .sum()
    }

    fn mask(topics: &[Topic]) -> u32 {
        topics.iter().fold(0, |mask, topic| mask | 1 << topic.code())
    }

    #[test]
    fn topic_clauses_add_the_weight_of_each_mask_that_holds_a_wanted_topic() {
        let wanted = [Topic::FloodRisk, Topic::Mobility];
        let mut clauses = TopicClauses::default();
        clauses.add(&wanted, &WEIGHTS);
        let check = |masks: TopicMasks, expected: f32| {
            assert_eq!(score_masks(&clauses, &masks), expected, "{masks:?}");
        };
        check([0, 0, 0, 0], 0.0);
        check([mask(&[Topic::FloodRisk]), 0, 0, 0], 4.0);
        check([mask(&[Topic::FloodRisk, Topic::Mobility]), 0, 0, 0], 8.0);
        check([mask(&[Topic::Waste]), 0, 0, 0], 0.0);
        check([0, mask(&[Topic::Mobility]), mask(&[Topic::FloodRisk]), 0], 4.5);
        // Tagged and inferred both count; the area clause once per area.
        check([mask(&[Topic::FloodRisk]), mask(&[Topic::FloodRisk]), 0, 0], 7.0);
        // Both are urban development: its area clause is added once.
        check([0, 0, 0, mask(&[Topic::UrbanDevelopment])], 1.0);
        check(
            [
                mask(&[Topic::Mobility]),
                mask(&[Topic::Mobility]),
                mask(&[Topic::Mobility]),
                mask(&[Topic::UrbanDevelopment]),
            ],
            9.5,
        );
        let lightest_first: Vec<f32> = clauses.clauses().iter().map(|(_, _, weight)| *weight).collect();
        assert_eq!(lightest_first, [1.0, 1.5, 1.5, 3.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn an_area_reads_as_tagged_only_and_zero_weights_add_no_clause() {
        let area = Topic::FloodRisk.area();
        let mut clauses = TopicClauses::default();
        clauses.add(&[area], &WEIGHTS);
        assert_eq!(
            score_masks(&clauses, &[mask(&[area]), mask(&[area]), mask(&[area]), mask(&[area])]),
            4.0
        );
        let mut none = TopicClauses::default();
        none.add(
            &[Topic::Mobility],
            &TopicClauseWeights {
                tagged: 0.0,
                inferred_strong: 0.0,
                inferred_weak: 0.0,
                area_only: 0.0,
            },
        );
        assert!(none.is_empty());
    }

    fn check_halves(max_docs: &[DocId], expected: &[WalkPart]) {
        assert_eq!(walk_in_halves(max_docs), expected, "segments of {max_docs:?}");
    }

    #[test]
    fn a_walk_in_halves_splits_the_words_where_half_of_them_are_reached() {
        check_halves(&[], &[vec![], vec![]]);
        check_halves(&[64], &[vec![(0, 0..1)], vec![]]);
        check_halves(&[128], &[vec![(0, 0..1)], vec![(0, 1..2)]]);
        check_halves(&[129], &[vec![(0, 0..2)], vec![(0, 2..3)]]);
        // Three expert segments of 73k, 27k and 10k documents: 1142, 421 and 164 words.
        check_halves(
            &[73_069, 26_931, 10_442],
            &[vec![(0, 0..864)], vec![(0, 864..1142), (1, 0..421), (2, 0..164)]],
        );
        check_halves(&[64, 6400], &[vec![(0, 0..1), (1, 0..50)], vec![(1, 50..100)]]);
    }

    fn check_bits(set: &[usize], expected: u64) {
        let mut truths = [false; 64];
        for place in set {
            truths[*place] = true;
        }
        assert_eq!(as_bits(&truths), expected, "truths at {set:?}");
    }

    #[test]
    fn truths_become_the_bits_at_their_places() {
        check_bits(&[], 0);
        check_bits(&[0], 1);
        check_bits(&[7, 8], 0b1_1000_0000);
        check_bits(&[63], 1 << 63);
        check_bits(&(0..64).collect::<Vec<_>>(), u64::MAX);
        check_bits(
            &[1, 9, 17, 56, 62],
            (1 << 1) | (1 << 9) | (1 << 17) | (1 << 56) | (1 << 62),
        );
    }

    proptest::proptest! {
        #[test]
        fn above_sets_the_bit_of_every_higher_score(scores in proptest::collection::vec(0u8..8, 0..64), needed in 0u8..8) {
            let word = word_of_scores(&scores.iter().map(|score| Score::from(*score)).collect::<Vec<_>>(), 0);
            let expected = scores
                .iter()
                .enumerate()
                .filter(|(_, score)| **score > needed)
                .fold(0u64, |bits, (place, _)| bits | (1 << place));
            proptest::prop_assert_eq!(above(&word, Score::from(needed)), expected);
        }
    }

    /// Every document scored without pruning, the best `keep` (score, then address).
    fn best_by_scanning(
        text_hits: &[(DocId, Score)],
        clauses: &ClauseBits<'_>,
        max_doc: DocId,
        keep: usize,
        admit: impl Fn(DocId) -> Option<Score>,
    ) -> Vec<(Score, DocId)> {
        let mut scored = Vec::new();
        for doc in 0..max_doc {
            let text = text_hits
                .iter()
                .find(|(hit, _)| *hit == doc)
                .map_or(0.0, |(_, score)| *score);
            let held = |docs: &[u64]| {
                docs.get(doc as usize / 64)
                    .is_some_and(|word| word & (1 << (doc % 64)) != 0)
            };
            let topic = clauses
                .docs
                .iter()
                .zip(clauses.weights)
                .filter(|(docs, _)| held(docs))
                .fold(0.0, |sum, (_, weight)| sum + weight);
            if text <= 0.0 && topic <= 0.0 {
                continue;
            }
            if let Some(boost) = admit(doc) {
                scored.push((text + topic + boost, doc));
            }
        }
        scored.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
        scored.truncate(keep);
        scored
    }

    proptest::proptest! {
        #[test]
        fn walks_over_segments_keep_what_scoring_every_document_keeps(
            max_doc in 1u32..400,
            clause_specs in proptest::collection::vec((1u8..=20, proptest::collection::vec(0u32..400, 0..120)), 0..7),
            hit_specs in proptest::collection::vec((0u32..400, 1u8..=40), 0..80),
            refused in proptest::collection::vec(0u32..400, 0..40),
            unconfirmed in proptest::collection::vec(0u32..400, 0..40),
            boosted in proptest::collection::vec(0u32..400, 0..60),
            keep in 1usize..25,
            in_halves in proptest::bool::ANY,
            speaking_docs in proptest::option::of(proptest::collection::vec(0u32..400, 0..300)),
        ) {
            let words = (max_doc as usize).div_ceil(64);
            let mut specs: Vec<(Score, Vec<u64>)> = clause_specs
                .iter()
                .map(|(weight, docs)| {
                    let mut bits = vec![0u64; words];
                    for doc in docs.iter().filter(|doc| **doc < max_doc) {
                        bits[*doc as usize / 64] |= 1 << (doc % 64);
                    }
                    (Score::from(*weight) / 4.0, bits)
                })
                .collect();
            specs.sort_by(|left, right| left.0.total_cmp(&right.0));
            let weights: Vec<Score> = specs.iter().map(|(weight, _)| *weight).collect();
            let clauses = ClauseBits { weights: &weights, docs: specs.iter().map(|(_, bits)| bits.as_slice()).collect() };
            let mut text_hits: Vec<(DocId, Score)> = hit_specs
                .iter()
                .filter(|(doc, _)| *doc < max_doc)
                .map(|(doc, score)| (*doc, Score::from(*score) / 8.0))
                .collect();
            text_hits.sort_by_key(|(doc, _)| *doc);
            text_hits.dedup_by_key(|(doc, _)| *doc);
            // Documents that speak no language asked for are refused, as their profile's
            // verdict refuses them, and the walk leaves them out by their bits.
            let speaks = |doc: DocId| speaking_docs.as_ref().is_none_or(|docs| docs.contains(&doc));
            let speaking_bits: Option<Vec<u64>> = speaking_docs.as_ref().map(|docs| {
                let mut bits = vec![0u64; words];
                for doc in docs.iter().filter(|doc| **doc < max_doc) {
                    bits[*doc as usize / 64] |= 1 << (doc % 64);
                }
                bits
            });
            let speaking: Option<Vec<&[u64]>> = speaking_bits.as_ref().map(|bits| vec![bits.as_slice()]);
            let boost = |doc: DocId| {
                (!refused.contains(&doc) && speaks(doc)).then(|| if boosted.contains(&doc) { 2.0 } else { 0.0 })
            };
            let confirms = |doc: DocId| !unconfirmed.contains(&doc);
            let admit = |doc: DocId| boost(doc).filter(|_| confirms(doc));

            // Two segments of the same documents, walked whole into one `Top` (the second
            // starts with the first's floor, and its ties lose to the first's earlier
            // addresses) or in two halves into a `Top` each, merged.
            let mut text_scores = vec![0.0; max_doc as usize];
            for (doc, score) in &text_hits {
                text_scores[*doc as usize] = *score;
            }
            let max_docs = [max_doc, max_doc];
            let parts = if in_halves { walk_in_halves(&max_docs) } else { vec![walk_whole(&max_docs)] };
            let bests = parts
                .iter()
                .map(|part| {
                    let mut top = Top::new(keep);
                    for (segment, words) in part {
                        let segment_ord = u32::try_from(*segment).unwrap_or(u32::MAX);
                        let mut walk = Walk::new(segment_ord, &text_scores, &clauses, &mut top, 2.0);
                        walk.visit(words.clone(), speaking.as_deref(), Admission { boost, confirms });
                    }
                    top.into_best()
                })
                .collect();
            let mut walked: Vec<(Score, DocAddress)> =
                best_of(bests, keep).into_iter().map(|Scored(score, address)| (score, address)).collect();
            walked.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
            let segment = best_by_scanning(&text_hits, &clauses, max_doc, keep, admit);
            let mut scanned: Vec<(Score, DocAddress)> = (0..2)
                .flat_map(|segment_ord| segment.iter().map(move |(score, doc)| (*score, DocAddress::new(segment_ord, *doc))))
                .collect();
            scanned.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
            scanned.truncate(keep);
            proptest::prop_assert_eq!(walked, scanned);
        }
    }
}
