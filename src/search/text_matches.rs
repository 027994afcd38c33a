//! The documents a request's text matches, scored once per request: a match's reading
//! (feedback), its relevant cases and its candidates all read the same text query's
//! matches, on one searcher per index, instead of scoring the text's union three times for
//! experts and twice for cases.

use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocAddress, Score, Searcher, SegmentReader};

use super::SearchError;
use super::engine::SearchEngine;
use super::in_two::split_in_two;
use super::query::{self, AnalysedQuery, TextWeights};

/// The BM25 scores of one index's documents for a text (0 where it does not match), per
/// segment of the searcher they were scored on.
pub struct TextMatches {
    searcher: Searcher,
    /// Whether there was text to search for (a request without any matches nothing).
    has_text: bool,
    /// Per segment of `searcher`, every document's score by its id (0 where the text does
    /// not match): the walks read them a word of 64 documents at a time.
    scores: Vec<Vec<Score>>,
}

impl TextMatches {
    pub(super) fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    pub(super) fn has_text(&self) -> bool {
        self.has_text
    }

    /// The scores of the `ord`th segment's documents by id (0: no match; empty without
    /// text).
    pub(super) fn in_segment(&self, ord: usize) -> &[Score] {
        self.scores.get(ord).map_or(&[], Vec::as_slice)
    }

    /// The text's score of a document (0 when the text does not match it).
    pub(super) fn score_of(&self, address: DocAddress) -> Score {
        self.in_segment(address.segment_ord as usize)
            .get(address.doc_id as usize)
            .copied()
            .unwrap_or(0.0)
    }
}

/// A request's text matched against experts and against cases.
pub struct QueryMatches {
    pub(super) experts: TextMatches,
    pub(super) cases: TextMatches,
}

impl SearchEngine {
    /// Scores the request's text on the current experts and cases: each index's terms looked
    /// up, then every segment of both scored, the work shared by two threads (`split_in_two`).
    pub fn query_matches(&self, query: &AnalysedQuery) -> Result<QueryMatches, SearchError> {
        let experts = &self.experts.fields;
        let expert_text = query::text_query(&experts.common, Some(experts.name), query, &TextWeights::default());
        let case_text = query::text_query(&self.cases.fields.common, None, query, &TextWeights::default());
        let indexes = [
            (self.experts.searcher(), expert_text),
            (self.cases.searcher(), case_text),
        ];
        let weights = text_weights(&indexes)?;
        let mut scores = segments_scores(&indexes, &weights)?.into_iter();
        let [experts, cases] = indexes.map(|(searcher, text)| {
            let segments = searcher.segment_readers().len();
            let scores = match text {
                Some(_) => scores.by_ref().take(segments).collect(),
                None => vec![Vec::new(); segments],
            };
            TextMatches {
                searcher,
                has_text: text.is_some(),
                scores,
            }
        });
        Ok(QueryMatches { experts, cases })
    }
}

/// Each index's text as a weight (its terms looked up in every segment), `None` without text.
fn text_weights(indexes: &[(Searcher, Option<Box<dyn Query>>)]) -> Result<Vec<Option<Box<dyn Weight>>>, SearchError> {
    let weights = split_in_two(
        indexes,
        |(searcher, _)| searcher.num_docs(),
        |(searcher, text)| {
            text.as_ref()
                .map(|text| text.weight(EnableScoring::enabled_from_searcher(searcher)))
                .transpose()
        },
    );
    Ok(weights.into_iter().collect::<tantivy::Result<_>>()?)
}

/// The scores of every segment of the indexes that have a weight, index by index.
fn segments_scores(
    indexes: &[(Searcher, Option<Box<dyn Query>>)],
    weights: &[Option<Box<dyn Weight>>],
) -> Result<Vec<Vec<Score>>, SearchError> {
    let segments: Vec<(&dyn Weight, &SegmentReader)> = indexes
        .iter()
        .zip(weights)
        .filter_map(|((searcher, _), weight)| Some((weight.as_deref()?, searcher)))
        .flat_map(|(weight, searcher)| searcher.segment_readers().iter().map(move |reader| (weight, reader)))
        .collect();
    let scores = split_in_two(
        &segments,
        |(_, reader)| u64::from(reader.max_doc()),
        |(weight, reader)| segment_scores(*weight, reader),
    );
    Ok(scores.into_iter().collect::<tantivy::Result<_>>()?)
}

/// Every document's score in a segment, by id: BM25 is positive wherever the text matches,
/// 0 elsewhere.
fn segment_scores(weight: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<Vec<Score>> {
    let mut scores = vec![0.0; reader.max_doc() as usize];
    weight.for_each(reader, &mut |doc, score| {
        if let Some(slot) = scores.get_mut(doc as usize) {
            *slot = score;
        }
    })?;
    Ok(scores)
}
