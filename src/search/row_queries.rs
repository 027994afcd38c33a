//! Match retrieval answered from the per-segment tables instead of posting lists: hard
//! filters with place preferences (`RowFilter`) and topic clauses (`TopicClauses`),
//! combined with the text's scores by `best_by_rows` (match candidates, relevant cases).
//! Intersecting filter postings with a wide union made tantivy seek the union for every
//! published document, and each topic clause was one more posting list for the union to
//! merge; a row read per document answers both.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, Term};

use super::SearchError;
use super::query::TopicClauseWeights;
use super::segments::{MAX_REGION_CODES, MAX_TOPIC_CODES, SegmentTable, SegmentTables, TopicMasks};
use crate::domain::Topic;

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

    fn boost(&self, table: &SegmentTable, doc: DocId) -> Score {
        let row = table.row(doc);
        let mut boost = 0.0;
        if row.regions & self.prefer_regions != 0 {
            boost += self.preference_boost;
        }
        if self.prefer_countries.contains(&row.country) {
            boost += self.preference_boost;
        }
        boost
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

    /// The most a row can score: every clause's weight.
    fn most(&self) -> f32 {
        self.weights.iter().flatten().sum()
    }

    /// The score of each of a table's distinct topic masks, by position.
    fn scores_by_masks(&self, table: &SegmentTable) -> Vec<Score> {
        table
            .topic_masks()
            .iter()
            .map(|masks| self.score_masks(masks))
            .collect()
    }

    /// The score of a document with these masks (`TopicMasks`, in `TopicField`'s order).
    fn score_masks(&self, masks: &TopicMasks) -> f32 {
        let mut score = 0.0;
        for (field, mask) in masks.iter().enumerate() {
            let mut held = mask & self.any[field];
            while held != 0 {
                score += self.weights[field][held.trailing_zeros() as usize];
                held &= held - 1;
            }
        }
        score
    }
}

/// The best `keep` documents whose row passes `filter` and that the text or a topic clause
/// matches, scored as text score + topic clauses + place preferences: what `TopDocs` over
/// `filter` AND (text OR the topic clauses as constant-score term queries) answers, in two
/// passes per segment instead of one union — the text query's scores into an array, then
/// one walk over the rows, where the topic score is looked up by the row's distinct topic
/// masks and a document that cannot beat the `keep`th is passed over.
pub fn best_by_rows(
    searcher: &Searcher,
    tables: &SegmentTables,
    text: Option<&dyn Query>,
    topics: &TopicClauses,
    filter: &RowFilter,
    keep: usize,
) -> Result<Vec<(Score, DocAddress)>, SearchError> {
    let text_weight = match text {
        Some(text) => Some(text.weight(EnableScoring::enabled_from_searcher(searcher))?),
        None => None,
    };
    let tables = tables.for_searcher(searcher)?;
    let mut best: Vec<(Score, DocAddress)> = Vec::new();
    for ((ord, reader), table) in searcher.segment_readers().iter().enumerate().zip(&tables) {
        let text_scores = text_scores(text_weight.as_deref(), reader)?;
        let segment_ord = u32::try_from(ord).unwrap_or(u32::MAX);
        let mut heap: BinaryHeap<Reverse<Scored>> = BinaryHeap::with_capacity(keep + 1);
        // Once `keep` documents are held, one whose text score plus the most the rows could
        // add does not beat the worst of them is passed over without reading its row.
        let most_added = topics.most() + filter.most_boost();
        let mut worst_held = Score::NEG_INFINITY;
        let topic_scores = topics.scores_by_masks(table);
        let most_boost = filter.most_boost();
        for (doc, text_score) in (0..reader.max_doc()).zip(text_scores) {
            let full = heap.len() >= keep;
            if full && text_score + most_added <= worst_held {
                continue;
            }
            let topic_score = topic_scores.get(table.topic_masks_of(doc)).copied().unwrap_or(0.0);
            if (text_score <= 0.0 && topic_score <= 0.0)
                || (full && text_score + topic_score + most_boost <= worst_held)
                || reader.is_deleted(doc)
                || !filter.passes(table, doc)
            {
                continue;
            }
            let candidate = Scored(
                text_score + topic_score + filter.boost(table, doc),
                DocAddress::new(segment_ord, doc),
            );
            if heap.len() < keep {
                heap.push(Reverse(candidate));
            } else if heap.peek().is_some_and(|Reverse(worst)| candidate > *worst) {
                heap.pop();
                heap.push(Reverse(candidate));
            }
            if heap.len() >= keep {
                worst_held = heap.peek().map_or(Score::NEG_INFINITY, |Reverse(worst)| worst.0);
            }
        }
        best.extend(heap.into_iter().map(|Reverse(Scored(score, address))| (score, address)));
    }
    best.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
    best.truncate(keep);
    Ok(best)
}

/// The live documents holding one of `ids` in `id_field` whose row passes `filter`, each
/// scored 0, in address order: what `TopDocs` over `filter` AND a constant-zero
/// `TermSetQuery` of the ids answers, by one term lookup per id instead of building the
/// filters' posting lists for an intersection with a handful of documents.
pub fn docs_with_ids(
    searcher: &Searcher,
    tables: &SegmentTables,
    id_field: Field,
    ids: &[String],
    filter: &RowFilter,
) -> Result<Vec<(Score, DocAddress)>, SearchError> {
    let tables = tables.for_searcher(searcher)?;
    let terms: Vec<Term> = ids.iter().map(|id| Term::from_field_text(id_field, id)).collect();
    let mut found = Vec::new();
    for ((ord, reader), table) in searcher.segment_readers().iter().enumerate().zip(&tables) {
        let segment_ord = u32::try_from(ord).unwrap_or(u32::MAX);
        for term in &terms {
            for doc in live_docs_with_term(reader, term)? {
                if filter.passes(table, doc) {
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

/// Every document's text score in a segment (0 for those the text does not match).
fn text_scores(text: Option<&dyn Weight>, reader: &SegmentReader) -> tantivy::Result<Vec<Score>> {
    let mut scores = vec![0.0; reader.max_doc() as usize];
    if let Some(weight) = text {
        weight.for_each(reader, &mut |doc, score| {
            if let Some(slot) = scores.get_mut(doc as usize) {
                *slot = score;
            }
        })?;
    }
    Ok(scores)
}

/// Orders by score, then the earlier address first (as tantivy's `TopDocs`).
#[derive(PartialEq)]
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

    const WEIGHTS: TopicClauseWeights = TopicClauseWeights {
        tagged: 4.0,
        inferred_strong: 3.0,
        inferred_weak: 1.5,
        area_only: 1.0,
    };

    fn mask(topics: &[Topic]) -> u32 {
        topics.iter().fold(0, |mask, topic| mask | 1 << topic.code())
    }

    #[test]
    fn topic_clauses_add_the_weight_of_each_mask_that_holds_a_wanted_topic() {
        let wanted = [Topic::FloodRisk, Topic::Mobility];
        let mut clauses = TopicClauses::default();
        clauses.add(&wanted, &WEIGHTS);
        let check = |masks: TopicMasks, expected: f32| {
            assert_eq!(clauses.score_masks(&masks), expected, "{masks:?}");
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
        assert_eq!(clauses.most(), 8.0 + 6.0 + 3.0 + 1.0);
    }

    #[test]
    fn an_area_reads_as_tagged_only_and_zero_weights_add_no_clause() {
        let area = Topic::FloodRisk.area();
        let mut clauses = TopicClauses::default();
        clauses.add(&[area], &WEIGHTS);
        assert_eq!(
            clauses.score_masks(&[mask(&[area]), mask(&[area]), mask(&[area]), mask(&[area])]),
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
}
