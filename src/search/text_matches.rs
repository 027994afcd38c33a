//! The documents a request's text matches, scored once per request: a match's reading
//! (feedback), its relevant cases and its candidates all read the same text query's
//! matches, on one searcher per index, instead of scoring the text's union three times for
//! experts and twice for cases.

use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader};

use super::SearchError;
use super::engine::SearchEngine;
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
    pub(super) fn score(searcher: Searcher, text: Option<&dyn Query>) -> Result<TextMatches, SearchError> {
        let hits = match text {
            Some(text) => {
                let weight = text.weight(EnableScoring::enabled_from_searcher(&searcher))?;
                searcher
                    .segment_readers()
                    .iter()
                    .map(|reader| segment_hits(weight.as_ref(), reader))
                    .collect::<tantivy::Result<Vec<_>>>()?
            }
            None => vec![Vec::new(); searcher.segment_readers().len()],
        };
        Ok(TextMatches {
            searcher,
            has_text: text.is_some(),
            hits,
        })
    }

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
    /// Scores the request's text on the current experts and cases.
    pub fn query_matches(&self, query: &AnalysedQuery) -> Result<QueryMatches, SearchError> {
        let experts = &self.experts.fields;
        let expert_text = query::text_query(&experts.common, Some(experts.name), query, &TextWeights::default());
        let case_text = query::text_query(&self.cases.fields.common, None, query, &TextWeights::default());
        Ok(QueryMatches {
            experts: TextMatches::score(self.experts.searcher(), expert_text.as_deref())?,
            cases: TextMatches::score(self.cases.searcher(), case_text.as_deref())?,
        })
    }
}

/// The documents of a segment the text matches, with their scores, in address order.
fn segment_hits(weight: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<Vec<(DocId, Score)>> {
    let mut hits = Vec::new();
    weight.for_each(reader, &mut |doc, score| hits.push((doc, score)))?;
    if !hits.is_sorted_by_key(|(doc, _)| *doc) {
        hits.sort_unstable_by_key(|(doc, _)| *doc);
    }
    Ok(hits)
}
