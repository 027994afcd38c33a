//! The floor the benchmarks measure citypeers against: a bare tantivy top-10 query with the
//! same text terms and the same filters on the same index, without topics, facets, totals,
//! re-ranking or records. Nothing in the service calls it.

use tantivy::Searcher;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, Occur, Query};

use super::SearchError;
use super::collect::FacetFilters;
use super::engine::{SearchEngine, and};
use super::query::{self, AnalysedQuery, TextWeights, any_of, filter};
use super::retrieve::{MatchFilters, match_hard_filters};
use super::schema::CommonFields;

/// How many documents the floor asks for, as a portal page of results would.
const FLOOR_KEEP: usize = 10;

/// A prepared bare query: run it as often as needed.
pub struct FloorQuery {
    searcher: Searcher,
    query: Box<dyn Query>,
}

impl FloorQuery {
    /// Runs the query; returns how many documents came back (at most 10).
    pub fn run(&self) -> Result<usize, SearchError> {
        let top = self
            .searcher
            .search(&self.query, &TopDocs::with_limit(FLOOR_KEEP).order_by_score())?;
        Ok(top.len())
    }
}

/// The listing's filters as plain term filters.
fn listing_filters(fields: &CommonFields, filters: &FacetFilters) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses = Vec::new();
    for (field, codes) in [
        (fields.topics, &filters.topics),
        (fields.regions, &filters.regions),
        (fields.country, &filters.countries),
        (fields.languages, &filters.languages),
    ] {
        if !codes.is_empty() {
            clauses.push(filter(any_of(field, codes)));
        }
    }
    if let Some(status) = filters.status {
        clauses.push(filter(Box::new(query::u64_term_query(
            fields.status,
            u64::from(status),
        ))));
    }
    clauses
}

/// The text's union, or every document when the text has no words (a browse).
fn scored_part(fields: &CommonFields, name: tantivy::schema::Field, text: &AnalysedQuery) -> Box<dyn Query> {
    query::text_query(fields, Some(name), text, &TextWeights::default()).unwrap_or_else(|| Box::new(AllQuery))
}

impl SearchEngine {
    /// The floor of an expert search: the text's terms over the same fields, the same filters.
    pub fn floor_expert_search(
        &self,
        text: &AnalysedQuery,
        filters: &FacetFilters,
        available_only: bool,
    ) -> FloorQuery {
        let fields = &self.experts.fields;
        let mut clauses = listing_filters(&fields.common, filters);
        if available_only || filters.available == Some(true) {
            clauses.push(filter(Box::new(query::u64_term_query(fields.available, 1))));
        }
        clauses.push((Occur::Must, scored_part(&fields.common, fields.name, text)));
        FloorQuery {
            searcher: self.experts.searcher(),
            query: and(clauses),
        }
    }

    /// The floor of a match: the challenge's terms with the match's hard filters.
    pub fn floor_match(&self, text: &AnalysedQuery, filters: &MatchFilters) -> FloorQuery {
        let fields = &self.experts.fields;
        let mut clauses = match_hard_filters(fields, filters);
        clauses.push((Occur::Must, scored_part(&fields.common, fields.name, text)));
        FloorQuery {
            searcher: self.experts.searcher(),
            query: and(clauses),
        }
    }
}
