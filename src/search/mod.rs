//! The search engine: the only code that knows tantivy indexes. Two indexes (experts, cases),
//! one long-lived single-threaded writer each and one reader each, reloaded after every
//! commit. It never reads the store: an indexer (`app/indexer.rs`) hands it updates with the
//! store sequence they bring it to, and every commit records that sequence, so that the
//! indexer knows where to resume after a crash.

mod baseline;
mod collect;
mod engine;
mod feedback;
mod floor;
mod query;
mod retrieve;
mod row_queries;
mod schema;
mod segments;
mod suggest;
mod text_matches;

pub use collect::{FacetCounts, FacetFilters, RankOrder};
pub use engine::{IndexUpdate, OpenReport, SearchEngine, remove_set_aside};
pub use floor::FloorQuery;
pub use query::{AnalysedQuery, QueryLimits, QueryWord, TextWeights, TopicClauseWeights};
pub use retrieve::{CandidateFeatures, CaseHit, Listing, ListingRequest, MatchFilters, MatchRetrieval, RegionCodes};
pub use schema::{
    case_search_text, case_text_language, city_key, country_from_code, expert_search_text, expert_text_language,
    language_from_code, two_letter_code,
};
pub use suggest::{Suggestion, SuggestionKind};
pub use text_matches::QueryMatches;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search engine: {0}")]
    Engine(#[from] tantivy::TantivyError),
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
