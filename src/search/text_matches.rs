//! The documents a request's text matches, scored once per request: a match's reading
//! (feedback), its relevant cases and its candidates all read the same text query's
//! matches, on one searcher per index, instead of scoring the text's union three times for
//! experts and twice for cases.

use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader};

use super::SearchError;
use super::engine::SearchEngine;
use super::in_two::split_in_two;
use super::query::{self, AnalysedQuery, TextWeights};

/// The documents of one index that a text matches, with their BM25 scores, per segment of
/// the searcher they were scored on.
pub struct TextMatches {
    searcher: Searcher,
    /// Whether there was text to search for (a request without any matches nothing).
    has_text: bool,
    /// Per segment of `searcher`, the matched documents and their scores, in address order.
    hits: Vec<Vec<(DocId, Score)>>,
}

impl TextMatches {
    pub(super) fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    pub(super) fn has_text(&self) -> bool {
        self.has_text
    }

    /// The matched documents of the `ord`th segment, in address order.
    pub(super) fn in_segment(&self, ord: usize) -> &[(DocId, Score)] {
        self.hits.get(ord).map_or(&[], Vec::as_slice)
    }

    /// The text's score of a document (0 when the text does not match it).
    pub(super) fn score_of(&self, address: DocAddress) -> Score {
        let hits = self.in_segment(address.segment_ord as usize);
        hits.binary_search_by_key(&address.doc_id, |(doc, _)| *doc)
            .map_or(0.0, |position| hits[position].1)
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
        let mut hits = segments_hits(&indexes, &weights)?.into_iter();
        let [experts, cases] = indexes.map(|(searcher, text)| {
            let segments = searcher.segment_readers().len();
            let hits = match text {
                Some(_) => hits.by_ref().take(segments).collect(),
                None => vec![Vec::new(); segments],
            };
            TextMatches {
                searcher,
                has_text: text.is_some(),
                hits,
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

/// The hits of every segment of the indexes that have a weight, index by index.
fn segments_hits(
    indexes: &[(Searcher, Option<Box<dyn Query>>)],
    weights: &[Option<Box<dyn Weight>>],
) -> Result<Vec<Vec<(DocId, Score)>>, SearchError> {
    let segments: Vec<(&dyn Weight, &SegmentReader)> = indexes
        .iter()
        .zip(weights)
        .filter_map(|((searcher, _), weight)| Some((weight.as_deref()?, searcher)))
        .flat_map(|(weight, searcher)| searcher.segment_readers().iter().map(move |reader| (weight, reader)))
        .collect();
    let hits = split_in_two(
        &segments,
        |(_, reader)| u64::from(reader.max_doc()),
        |(weight, reader)| segment_hits(*weight, reader),
    );
    Ok(hits.into_iter().collect::<tantivy::Result<_>>()?)
}

/// The documents of a segment the text matches, with their scores, in address order.
fn segment_hits(weight: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<Vec<(DocId, Score)>> {
    // A long challenge's common words match up to half of a segment.
    let mut hits = Vec::with_capacity(reader.max_doc() as usize / 2);
    weight.for_each(reader, &mut |doc, score| hits.push((doc, score)))?;
    if !hits.is_sorted_by_key(|(doc, _)| *doc) {
        hits.sort_unstable_by_key(|(doc, _)| *doc);
    }
    Ok(hits)
}
