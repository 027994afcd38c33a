//! The service: what the HTTP layer and the CLI call. It ties the store (truth), the search
//! engine (index) and matching (ranking) together and owns the use cases. Its methods block:
//! async callers run them on the blocking pool.

mod auth;
mod backup;
mod collection;
mod contact;
mod error;
mod export;
mod floor;
mod import;
mod indexer;
mod listing;
mod match_flow;
mod match_request;
mod merge;
pub(crate) mod reading;
mod records;
mod shown;
mod suggest;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use auth::{Actor, TokenInfo};
pub use backup::{Restored, read_erasures, restore, write_atomically};
pub use contact::{ContactRequestChange, MAX_NOTE_CHARS};
pub use error::AppError;
pub use indexer::IndexState;
pub use listing::{Facets, Hit, ListingPage, ListingParams, QueryReading, parse_bool_parameter};
pub use match_request::{MatchInput, MatchOutcome, MatchedExpert};
pub use reading::{LearnedTerms, LearnedTopic, MAX_LEARNED_TERMS};
pub use records::EditableRecord;
pub use records::VersionCheck;
pub(crate) use records::{audit_entry, creation_entry};
pub use suggest::{SuggestEntry, Suggestions};

use crate::domain::{Case, Expert, RecordId, Timestamp, Versioned};
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
    /// Writes are refused (507) while less than this much disk space would remain.
    pub min_free_bytes: u64,
    /// A PostgreSQL address (`postgres://USER@HOST:PORT/DB`) to keep the records in, shared by
    /// several nodes; `None` keeps them in the embedded store in `data_dir`.
    pub store: Option<String>,
}

impl AppConfig {
    /// The defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> AppConfig {
        AppConfig {
            data_dir: data_dir.into(),
            vocabulary_dir: None,
            load_demo_data: false,
            admin_token: None,
            min_free_bytes: crate::store::DEFAULT_MIN_FREE_BYTES,
            store: None,
        }
    }
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
    #[error("bringing the index up to date: {0}")]
    Index(String),
}

struct Inner {
    store: Store,
    engine: SearchEngine,
    indexer: indexer::Indexer,
    /// Records as public answers show them (as fresh as the index).
    shown: shown::ShownRecords,
    learning: reading::Learning,
    shutting_down: std::sync::atomic::AtomicBool,
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

/// A handle to the service that does not keep it open (for background threads).
#[derive(Clone)]
pub(crate) struct WeakApp(std::sync::Weak<Inner>);

impl WeakApp {
    pub(crate) fn upgrade(&self) -> Option<App> {
        self.0.upgrade().map(|inner| App { inner })
    }
}

/// How long each step of opening took, for the log line that says the service is open.
struct OpenClock {
    last: Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl OpenClock {
    fn start() -> OpenClock {
        OpenClock {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, step: &'static str) {
        let now = Instant::now();
        self.laps.push((step, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for OpenClock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: std::time::Duration = self.laps.iter().map(|(_, took)| *took).sum();
        let steps: Vec<String> = self
            .laps
            .iter()
            .map(|(step, took)| format!("{step} {} ms", took.as_millis()))
            .collect();
        write!(formatter, "{} ms ({})", total.as_millis(), steps.join(", "))
    }
}

/// The store the configuration names: PostgreSQL when an address is given, else the embedded
/// store in the data directory.
fn open_store(config: &AppConfig) -> Result<Store, OpenError> {
    let Some(url) = &config.store else {
        return Ok(Store::open_embedded(&config.data_dir, config.min_free_bytes)?);
    };
    let node = node_name(&config.data_dir)?;
    Ok(Store::open_postgres(url, &node)?)
}

/// This node's name: made once at random and kept in the data directory beside its index.
fn node_name(data_dir: &Path) -> Result<String, OpenError> {
    let not_usable = |error: std::io::Error| {
        crate::store::StoreError::NotWritable(
            data_dir.to_path_buf(),
            format!("it cannot hold the node's name ({error})"),
        )
    };
    std::fs::create_dir_all(data_dir).map_err(not_usable)?;
    let path = data_dir.join("node-name");
    if let Ok(name) = std::fs::read_to_string(&path)
        && !name.trim().is_empty()
    {
        return Ok(name.trim().to_string());
    }
    let mut bytes = [0u8; 8];
    crate::store::crypto::fill_random(&mut bytes)?;
    let name = format!(
        "node-{}",
        bytes.iter().map(|byte| format!("{byte:02x}")).collect::<String>()
    );
    std::fs::write(&path, &name).map_err(not_usable)?;
    Ok(name)
}

pub(crate) fn now() -> Timestamp {
    let now = time::OffsetDateTime::now_utc();
    // Millisecond precision keeps timestamps readable and stable through JSON.
    now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now)
}

impl App {
    pub fn open(config: AppConfig) -> Result<App, OpenError> {
        let mut clock = OpenClock::start();
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
        clock.lap("vocabulary");
        let store = open_store(&config)?;
        clock.lap("store");
        let (engine, opened) =
            SearchEngine::open(&config.data_dir.join("index"), vocabulary.clone(), analyzers.clone())?;
        clock.lap("index");
        let suggestions = suggest::StaticSuggestions::build(&vocabulary, &analyzers);
        clock.lap("suggestions");
        let app = App {
            inner: Arc::new(Inner {
                store,
                engine,
                indexer: indexer::Indexer::new(),
                shown: shown::ShownRecords::new(),
                learning: reading::Learning::new(),
                shutting_down: std::sync::atomic::AtomicBool::new(false),
                vocabulary,
                settings,
                analyzers,
                suggestions,
                config,
                started: Instant::now(),
            }),
        };
        app.bring_index_up_to_date(opened)?;
        clock.lap("catching up");
        let store_is_empty = app.inner.store.last_seq()? == 0;
        if store_is_empty && app.inner.config.load_demo_data {
            let report = app
                .load_demo_data()
                .map_err(|error| OpenError::Demo(error.to_string()))?;
            tracing::info!(experts = report.0, cases = report.1, "loaded the built-in demo data");
        }
        app.learn_at_start()
            .map_err(|error| OpenError::Index(format!("learning topic associations: {error}")))?;
        clock.lap("learning");
        app.follow_other_nodes();
        tracing::info!(phases = %clock, "opened");
        Ok(app)
    }

    /// At start: an index that must be rebuilt is rebuilt in the background (the service
    /// answers meanwhile, readiness says why it is not ready); otherwise it catches up with
    /// the store's change log now.
    fn bring_index_up_to_date(&self, opened: crate::search::OpenReport) -> Result<(), OpenError> {
        let store_seq = self.inner.store.last_seq()?;
        let index_ahead = self.inner.engine.covered_seq() > store_seq;
        // Changes this index has not read were pruned meanwhile (another node pruned them).
        let changes_missed = self.inner.engine.covered_seq() < self.inner.store.pruned_through()?;
        if opened.needs_rebuild || index_ahead || changes_missed {
            if store_seq == 0 && !index_ahead {
                return Ok(());
            }
            let reason = opened
                .reason
                .unwrap_or_else(|| "the index is new or does not match the store".to_string());
            tracing::warn!(%reason, "rebuilding the index from the store in the background");
            self.rebuild_in_background(reason);
            return Ok(());
        }
        self.finish_interrupted_purges()
            .map_err(|error| OpenError::Index(format!("purging erased records: {error}")))?;
        let before = self.inner.engine.covered_seq();
        self.index_changes()
            .map_err(|error| OpenError::Index(error.to_string()))?;
        if self.inner.engine.covered_seq() > before {
            tracing::info!(seq = self.inner.engine.covered_seq(), "index caught up with the store");
        }
        Ok(())
    }

    pub(crate) fn downgrade(&self) -> WeakApp {
        WeakApp(Arc::downgrade(&self.inner))
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.config.data_dir
    }

    /// Where the records live, for messages: the data directory or the database (no password).
    pub fn store_description(&self) -> String {
        match &self.inner.config.store {
            Some(_) => format!(
                "{}, index in {}",
                self.inner.store.description(),
                self.data_dir().display()
            ),
            None => self.data_dir().display().to_string(),
        }
    }

    /// An expert as this node's answers show it (see `shown.rs`); edits read the store.
    pub(crate) fn shown_expert(&self, id: &RecordId) -> Result<Option<Versioned<Expert>>, crate::store::StoreError> {
        self.inner.shown.expert(&self.inner.store, id)
    }

    pub(crate) fn shown_case(&self, id: &RecordId) -> Result<Option<Versioned<Case>>, crate::store::StoreError> {
        self.inner.shown.case(&self.inner.store, id)
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

    /// What every answer depends on, cheaply: the store's and the index's sequence numbers.
    pub fn freshness(&self) -> Freshness {
        Freshness {
            store_seq: self.inner.store.last_seq_hint(),
            index_seq: self.inner.engine.covered_seq(),
            reading: self.reading_generation(),
        }
    }

    /// Ready when the store and the index are open and the index covers every change.
    pub fn readiness(&self) -> Readiness {
        let (experts, cases) = self.inner.engine.document_counts();
        let index_seq = self.inner.engine.covered_seq();
        let store_seq = self.inner.store.last_seq();
        let problem = match (self.index_state(), &store_seq) {
            (_, Err(error)) => Some(format!("the store cannot be read: {error}")),
            (IndexState::Rebuilding { reason, indexed }, _) => Some(format!(
                "rebuilding the search index from the store ({indexed} records so far): {reason}"
            )),
            (IndexState::Failing { reason }, _) => Some(reason),
            (IndexState::Ready, Ok(_)) => match self.inner.store.changes_after(index_seq, 1) {
                Ok(pending) if pending.is_empty() => None,
                Ok(_) => Some("the index is catching up with the store".to_string()),
                Err(error) => Some(format!("the store cannot be read: {error}")),
            },
        };
        Readiness {
            problem,
            store_seq: store_seq.unwrap_or(0),
            index_seq,
            indexed_experts: experts,
            indexed_cases: cases,
            uptime_seconds: self.inner.started.elapsed().as_secs(),
        }
    }

    /// Flushes the store and lets index merges finish (clean shutdown).
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn shutdown(&self) -> Result<(), AppError> {
        self.inner
            .shutting_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.stop_learning();
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
    /// Changes with every newly learned topic model (and the documents it read again): the
    /// same data may then be read otherwise.
    pub reading: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// Why the service is not ready (the index is rebuilding or behind), if it is not.
    pub problem: Option<String>,
    pub store_seq: u64,
    pub index_seq: u64,
    pub indexed_experts: u64,
    pub indexed_cases: u64,
    pub uptime_seconds: u64,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.problem.is_none()
    }
}
