//! The service: what the HTTP layer and the CLI call. It ties the store (truth), the search
//! engine (index) and matching (ranking) together and owns the use cases. Its methods block:
//! async callers run them on the blocking pool.

mod auth;
mod error;
mod listing;
mod match_request;
mod merge;
mod records;
mod suggest;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use auth::{Actor, TokenInfo};
pub use error::AppError;
pub use listing::{Facets, Hit, ListingPage, ListingParams, parse_bool_parameter};
pub use match_request::{MatchInput, MatchOutcome, MatchedExpert};
pub use records::EditableRecord;
pub use records::VersionCheck;
pub(crate) use records::audit_entry;
pub use suggest::{SuggestEntry, Suggestions};

use crate::curation;
use crate::domain::Timestamp;
use crate::matching::RankingSettings;
use crate::search::SearchEngine;
use crate::store::Store;
use crate::text::Analyzers;
use crate::vocab::{VocabError, Vocabulary};

/// Where the service keeps its data and reads its vocabulary.
#[derive(Clone, Debug)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    /// A folder with topics.toml, regions.toml and ranking.toml; the built-in copies when absent.
    pub vocabulary_dir: Option<PathBuf>,
    /// Load the built-in demo data when the store is empty.
    pub load_demo_data: bool,
    /// The admin token from `CITYPEERS_ADMIN_TOKEN`, if set.
    pub admin_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Vocabulary(#[from] VocabError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    #[error("loading the demo data: {0}")]
    Demo(String),
}

struct Inner {
    store: Store,
    engine: SearchEngine,
    vocabulary: Arc<Vocabulary>,
    settings: RankingSettings,
    analyzers: Analyzers,
    suggestions: suggest::StaticSuggestions,
    config: AppConfig,
    started: Instant,
}

/// The service; cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

pub(crate) fn now() -> Timestamp {
    let now = time::OffsetDateTime::now_utc();
    // Millisecond precision keeps timestamps readable and stable through JSON.
    now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now)
}

impl App {
    pub fn open(config: AppConfig) -> Result<App, OpenError> {
        let analyzers = Analyzers::new();
        let (vocabulary, settings) = match &config.vocabulary_dir {
            Some(dir) => {
                let ranking_path = dir.join("ranking.toml");
                let ranking_text = std::fs::read_to_string(&ranking_path).map_err(|error| {
                    VocabError::invalid(&ranking_path.display().to_string(), None, error.to_string())
                })?;
                (
                    Vocabulary::from_dir(dir, &analyzers)?,
                    RankingSettings::load(&ranking_path.display().to_string(), &ranking_text)?,
                )
            }
            None => (Vocabulary::built_in(&analyzers)?, RankingSettings::built_in()?),
        };
        let vocabulary = Arc::new(vocabulary);
        let store = Store::open(&config.data_dir)?;
        let engine = SearchEngine::open(
            &config.data_dir.join("index"),
            &store,
            vocabulary.clone(),
            analyzers.clone(),
        )?;
        let suggestions = suggest::StaticSuggestions::build(&vocabulary, &analyzers);
        let app = App {
            inner: Arc::new(Inner {
                store,
                engine,
                vocabulary,
                settings,
                analyzers,
                suggestions,
                config,
                started: Instant::now(),
            }),
        };
        let store_is_empty = app.inner.store.last_seq() == 0;
        if store_is_empty && app.inner.config.load_demo_data {
            let report = curation::demo::load(&app).map_err(|error| OpenError::Demo(error.to_string()))?;
            tracing::info!(experts = report.0, cases = report.1, "loaded the built-in demo data");
        }
        Ok(app)
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.config.data_dir
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn engine(&self) -> &SearchEngine {
        &self.inner.engine
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.inner.vocabulary
    }

    pub fn settings(&self) -> &RankingSettings {
        &self.inner.settings
    }

    pub fn analyzers(&self) -> &Analyzers {
        &self.inner.analyzers
    }

    /// Brings the index up to date with the store: called after every acknowledged write,
    /// so that the change is searchable when the answer arrives.
    pub(crate) fn index_changes(&self) -> Result<(), AppError> {
        self.inner.engine.catch_up(&self.inner.store)?;
        Ok(())
    }

    /// What every answer depends on, cheaply: the store's and the index's sequence numbers.
    pub fn freshness(&self) -> Freshness {
        Freshness {
            store_seq: self.inner.store.last_seq(),
            index_seq: self.inner.engine.covered_seq(),
        }
    }

    /// Ready when the store and the index are open and the index covers every change.
    pub fn readiness(&self) -> Readiness {
        let (experts, cases) = self.inner.engine.document_counts();
        let index_seq = self.inner.engine.covered_seq();
        Readiness {
            pending_changes: self.inner.store.has_changes_after(index_seq),
            store_seq: self.inner.store.last_seq(),
            index_seq,
            indexed_experts: experts,
            indexed_cases: cases,
            uptime_seconds: self.inner.started.elapsed().as_secs(),
        }
    }

    /// Rebuilds the index from the store.
    pub fn reindex(&self) -> Result<u64, AppError> {
        Ok(self.inner.engine.rebuild(&self.inner.store)?.applied_changes)
    }

    /// Flushes the store and lets index merges finish (clean shutdown).
    pub fn shutdown(&self) -> Result<(), AppError> {
        self.inner.store.flush()?;
        self.inner.engine.shutdown()?;
        Ok(())
    }
}

/// The data state an answer is computed from: equal values, equal answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    pub store_seq: u64,
    pub index_seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// The store holds changes the index has not committed yet.
    pub pending_changes: bool,
    pub store_seq: u64,
    pub index_seq: u64,
    pub indexed_experts: u64,
    pub indexed_cases: u64,
    pub uptime_seconds: u64,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        !self.pending_changes
    }
}
