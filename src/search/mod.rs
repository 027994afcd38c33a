//! The search engine: the only code that knows tantivy indexes. Two indexes (experts, cases),
//! one long-lived single-threaded writer each and one reader each, reloaded after every
//! commit. Every commit records the store sequence it covers, so that the index can catch up
//! from the store's change log after a crash.

mod baseline;
mod collect;
mod engine;
mod query;
mod retrieve;
mod schema;
mod segments;
mod suggest;

pub use collect::{FacetCounts, FacetFilters, RankOrder};
pub use engine::{CatchUp, SearchEngine};
pub use query::{AnalysedQuery, QueryLimits, QueryWord, TextWeights, TopicClauseWeights};
pub use retrieve::{CandidateFeatures, CaseHit, Listing, ListingRequest, MatchRetrieval};
pub use schema::{
    case_text_language, city_key, country_from_code, expert_search_text, expert_text_language, language_from_code,
    two_letter_code,
};
pub use suggest::{Suggestion, SuggestionKind};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search engine: {0}")]
    Engine(#[from] tantivy::TantivyError),
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
